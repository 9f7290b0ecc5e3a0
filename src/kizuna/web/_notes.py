"""Notes and opinions posted from an object page, and the markings they may carry.

A note is a derived product of its target: it must be no more releasable than the target
(docs/policy.md). The picker offers the target's own markings with its TLP level or a
stricter one, and only those the user may itself read in a collection it may write; the
node's ingest checks the rule again when the note is stored.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import msgspec
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from kizuna.errors import KizunaError
from kizuna.node import Node, Snapshot, ingest
from kizuna.policy.principal import Principal
from kizuna.stix.markings import TLP_LEVELS, Tlp, tlp_marking
from kizuna.store.types import Collection
from kizuna.web import _reads as reads
from kizuna.web import _views as views
from kizuna.web._sessions import Session
from kizuna.web._ui import PREFIX, Refused, Ui

OPINIONS = ("strongly-disagree", "disagree", "neutral", "agree", "strongly-agree")
MAX_TEXT = 20_000


@dataclass(frozen=True, slots=True)
class Choice:
    key: str
    label: str
    refs: tuple[str, ...]


def marking_choices(
    node: Node, snap: Snapshot, principal: Principal, target: reads.Item
) -> tuple[list[Choice], list[Collection]]:
    """The markings a note on *target* may carry, and the collections it may go to."""
    refs = views.marking_refs(target.obj)
    rank = 0
    kept: list[str] = []
    for ref in refs:
        m = snap.gate.marking(ref)
        if isinstance(m, Tlp):
            rank = max(rank, m.rank)
        else:
            kept.append(ref)
    writable = reads.writable_collections(snap, principal)
    private = reads.private_markings(node, snap, principal, kept)
    writable.sort(key=lambda c: c.id != target.collection.id)  # the target's own first
    choices = []
    for level in TLP_LEVELS[rank:]:
        tlp_id = tlp_marking(level)["id"]
        if tlp_id not in snap.markings:
            continue
        choice_refs = tuple(sorted({*kept, tlp_id}))
        usable = any(
            snap.gate.set_visible(principal, choice_refs, snap.gate.access(principal, c.id), snap.view(c))
            for c in writable
        )
        if usable:
            labels = views.marking_labels(snap, choice_refs, private)
            choices.append(Choice(level, " + ".join(label.text for label in labels), choice_refs))
    return choices, writable


def post_note(ui: Ui, request: Request, snap: Snapshot, session: Session) -> Response:
    from kizuna.web._object import object_page

    sid = request.path_params["sid"]
    p = session.principal
    history = reads.versions_of(ui.node, snap, p, sid)
    if not history:
        return ui.not_found(request, session)
    form = request.state.form or {}
    choices, collections = marking_choices(ui.node, snap, p, history[0])
    kind = str(form.get("kind", "note"))
    text = str(form.get("content", "")).strip()
    choice = next((c for c in choices if c.key == form.get("marking")), None)
    target = next((c for c in collections if c.id == form.get("collection")), None)

    def again(message: str) -> Response:
        return object_page(ui, request, snap, session, status=422, note_error=message)

    if kind not in ("note", "opinion"):
        return again("Choose a note or an opinion.")
    if choice is None:
        return again("Choose one of the markings offered.")
    if target is None:
        return again("Choose a collection you may write to.")
    if len(text) > MAX_TEXT:
        return again(f"The text is longer than {MAX_TEXT} characters.")
    now = ui.node.now()
    obj: dict[str, object] = {
        "type": kind,
        "spec_version": "2.1",
        "id": f"{kind}--{uuid.uuid4()}",
        "created": now,
        "modified": now,
        "object_refs": [sid],
        "object_marking_refs": list(choice.refs),
        "authors": [session.username],
    }
    org = snap.orgs.get(p.org)
    if org is not None:
        obj["created_by_ref"] = org.identity_id
    if kind == "note":
        if not text:
            return again("Write the note's text.")
        obj["content"] = text
        abstract = str(form.get("abstract", "")).strip()
        if abstract:
            obj["abstract"] = abstract[:300]
    else:
        value = str(form.get("opinion", ""))
        if value not in OPINIONS:
            return again("Choose an opinion: " + ", ".join(OPINIONS) + ".")
        obj["opinion"] = value
        if text:
            obj["explanation"] = text
    try:
        results = ingest(ui.node.store, snap, p, target, [msgspec.json.encode(obj)], p.origin)
    except KizunaError as exc:  # the node's refusal (Forbidden, BadRequest), shown to the user
        raise Refused(exc.status, exc.message) from None
    if not results or not results[0].ok:
        return again("The node refused the note: " + (results[0].message if results else "no result"))
    return RedirectResponse(f"{PREFIX}/objects/{sid}#thread", 303)
