"""The administrators' pages under ``/ui/admin/``: organizations, users, grants, peers,
markings and communities, changed through the node's own operations (``Node.add_org``,
``Node.add_user``, ``Node.grant`` ...), the ones ``kizuna`` runs.

Only administrators reach them (``signed_in(..., admin=True)``: anyone else gets the page of
an absent path). A new or rotated token is shown once, on the answer to the form that made
it, and never again (only its hash is stored).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from kizuna.errors import KizunaError
from kizuna.node import Snapshot
from kizuna.stix.markings import TLP_LEVELS
from kizuna.store.types import Collection, Grant
from kizuna.sync.status import PeerStatus, peer_status
from kizuna.web import _views as views
from kizuna.web._sessions import Session
from kizuna.web._ui import PREFIX, Refused, Ui

#: The sections of the administrators' pages: path under /ui/admin/ and heading.
SECTIONS = (
    ("", "Organizations and users"),
    ("grants", "Grants"),
    ("peers", "Peers"),
    ("markings", "Markings and communities"),
)
#: Rejections shown per peer.
REJECTIONS_SHOWN = 20


def _form(request: Request) -> dict[str, Any]:
    return dict(getattr(request.state, "form", None) or {})


def _text(form: dict[str, Any], key: str) -> str:
    value = form.get(key, "")
    return value.strip() if isinstance(value, str) else ""


def _raw(form: dict[str, Any], key: str) -> str:
    value = form.get(key, "")
    return value if isinstance(value, str) else ""


def _words(text: str) -> list[str]:
    return [w for w in text.replace(",", " ").split() if w]


def _page(ui: Ui, request: Request, session: Session, section: str, status: int = 200,
          **context: Any) -> Response:
    title = dict(SECTIONS)[section]
    return ui.page(request, f"admin_{section or 'accounts'}.html", session, status,
                   title=title, sections=SECTIONS, section=section, **context)


def _done(section: str, message: str) -> Response:
    from urllib.parse import quote

    target = f"{PREFIX}/admin/{section}" + (f"?done={quote(message)}" if message else "")
    return RedirectResponse(target, 303)


def _attempt(
    ui: Ui, request: Request, snap: Snapshot, session: Session, section: str,
    action: Callable[[], str],
) -> Response:
    """Run *action* (a node operation); its refusal is shown above the section's forms,
    with the status it carries, the form's values kept."""
    try:
        message = action()
    except (KizunaError, Refused) as exc:
        view = VIEWS[section]
        return _page(ui, request, session, section, exc.status, error=exc.message,
                     form=_form(request), **view(ui, snap, session))
    return _done(section, message)


# The accounts section: organizations and users


def _accounts(ui: Ui, snap: Snapshot, session: Session) -> dict[str, Any]:
    return {"orgs": ui.node.orgs(), "users": ui.node.users()}


def accounts(ui: Ui, request: Request, snap: Snapshot, session: Session) -> Response:
    return _page(ui, request, session, "", done=request.query_params.get("done", "")[:300],
                 form={}, **_accounts(ui, snap, session))


def add_org(ui: Ui, request: Request, snap: Snapshot, session: Session) -> Response:
    form = _form(request)

    def act() -> str:
        # The name as typed: the node's rule refuses a space at either end, never trims it.
        org = ui.node.add_org(_raw(form, "name"), _text(form, "country"),
                              _words(_text(form, "communities")))
        return f"Organization {org.name} ({org.country}) added."

    return _attempt(ui, request, snap, session, "", act)


def _token_page(ui: Ui, request: Request, session: Session, username: str, token: str,
                made: str) -> Response:
    return ui.page(request, "admin_token.html", session, title=f"Token of {username}",
                   sections=SECTIONS, section="", username=username, token=token, made=made)


def add_user(ui: Ui, request: Request, snap: Snapshot, session: Session) -> Response:
    form = _form(request)
    # The name as typed: the node's rule (kizuna.node.check_name) refuses an empty name, a
    # space at either end or a control character with a 400, and stores nothing.
    username, org = _raw(form, "username"), _text(form, "org")
    try:
        token = ui.node.add_user(username, org, admin=bool(form.get("admin")),
                                 peer=bool(form.get("peer")))
    except KizunaError as exc:
        return _attempt(ui, request, snap, session, "", _refuse(exc.message, exc.status))
    return _token_page(ui, request, session, username, token, "created")


def rotate_token(ui: Ui, request: Request, snap: Snapshot, session: Session) -> Response:
    username = _text(_form(request), "username")
    try:
        token = ui.node.rotate_token(username)
    except KizunaError as exc:
        return _attempt(ui, request, snap, session, "", _refuse(exc.message, exc.status))
    return _token_page(ui, request, session, username, token, "rotated")


def disable_user(ui: Ui, request: Request, snap: Snapshot, session: Session) -> Response:
    username = _text(_form(request), "username")

    def act() -> str:
        if username == session.username:
            raise Refused(400, "You cannot disable the account you are signed in with.")
        changed = ui.node.disable_user(username)
        return f"User {username} disabled." if changed else f"User {username} was already disabled."

    return _attempt(ui, request, snap, session, "", act)


def _refuse(message: str, status: int = 400) -> Callable[[], str]:
    def act() -> str:
        raise Refused(status, message)

    return act


# Grants: a collection x organization matrix


@dataclass(frozen=True, slots=True)
class Cell:
    grant: Grant | None

    @property
    def text(self) -> str:
        g = self.grant
        if g is None or not (g.can_read or g.can_write):
            return ""
        rights = "read, write" if g.can_read and g.can_write else "read" if g.can_read else "write"
        return f"{rights} up to TLP:{g.max_tlp.upper()}"


def _grants(ui: Ui, snap: Snapshot, session: Session) -> dict[str, Any]:
    orgs = ui.node.orgs()
    collections = sorted(
        (c for c in snap.collections.values() if c.kind != "definitions"),
        key=lambda c: c.title.casefold(),
    )
    held = {(g.collection_id, g.org): g for g in ui.node.grants()}
    matrix: list[tuple[Collection, list[tuple[str, Cell]]]] = [
        (c, [(o.name, Cell(held.get((c.id, o.name)))) for o in orgs]) for c in collections
    ]
    return {"orgs": orgs, "collections": collections, "matrix": matrix, "levels": TLP_LEVELS}


def grants(ui: Ui, request: Request, snap: Snapshot, session: Session) -> Response:
    return _page(ui, request, session, "grants", done=request.query_params.get("done", "")[:300],
                 form={}, **_grants(ui, snap, session))


def set_grant(ui: Ui, request: Request, snap: Snapshot, session: Session) -> Response:
    form = _form(request)

    def act() -> str:
        cid, org = _text(form, "collection"), _text(form, "org")
        read, write = bool(form.get("read")), bool(form.get("write"))
        if not read and not write:
            current = ui.node.grant_of(cid, org)
            if current is None:
                raise Refused(400, f"{org or 'That organization'} holds no grant on that "
                              "collection: tick read or write to grant one.")
            ui.node.revoke(cid, org)
            return f"Grant of {org} on {ui.node.collection(cid).title} revoked."
        g = ui.node.grant(cid, org, read=read, write=write, max_tlp=_text(form, "max_tlp") or "amber")
        return f"{org} may now {Cell(g).text} in {ui.node.collection(cid).title}."

    return _attempt(ui, request, snap, session, "grants", act)


# Peers and their sync status


def _peers(ui: Ui, snap: Snapshot, session: Session) -> dict[str, Any]:
    statuses: list[PeerStatus] = peer_status(ui.node, None, REJECTIONS_SHOWN)
    return {"statuses": statuses}


def peers(ui: Ui, request: Request, snap: Snapshot, session: Session) -> Response:
    return _page(ui, request, session, "peers", **_peers(ui, snap, session))


# Markings and communities


def _markings(ui: Ui, snap: Snapshot, session: Session) -> dict[str, Any]:
    rows = []
    for mid in snap.markings:
        label = views.marking_labels(snap, [mid], frozenset())[0]  # administrators learn all
        rows.append((label, mid))
    order = {"tlp": 0, "relto": 1, "exercise": 2, "statement": 3}
    rows.sort(key=lambda r: (order.get(r[0].kind, 4), r[0].text, r[1]))
    communities = sorted((k, sorted(v)) for k, v in snap.communities.items())
    return {"markings": rows, "communities": communities}


def markings(ui: Ui, request: Request, snap: Snapshot, session: Session) -> Response:
    return _page(ui, request, session, "markings",
                 done=request.query_params.get("done", "")[:300], form={},
                 **_markings(ui, snap, session))


def add_rel_to(ui: Ui, request: Request, snap: Snapshot, session: Session) -> Response:
    form = _form(request)

    def act() -> str:
        codes = [c.upper() for c in _words(_text(form, "codes"))]
        if not codes:
            raise Refused(400, "Name the countries (ISO 3166 alpha-3, e.g. JPN) or communities "
                          "(e.g. NATO) the marking releases to.")
        obj = ui.node.releasability_marking(codes)
        return f"REL TO {', '.join(sorted(set(codes)))} is {obj['id']}."

    return _attempt(ui, request, snap, session, "markings", act)


def set_community(ui: Ui, request: Request, snap: Snapshot, session: Session) -> Response:
    form = _form(request)

    def act() -> str:
        # The name as typed: the node's rule (kizuna.node.check_name) refuses a space at
        # either end, a character REL TO cannot name, a country's code.
        name, members = _raw(form, "name"), _words(_text(form, "members"))
        if not name or not members:
            raise Refused(400, "A community needs a name and at least one member country "
                          "(ISO 3166 alpha-3, e.g. FRA DEU).")
        ui.node.set_community(name, members)
        return f"Community {name.upper()}: {len(set(members))} member(s)."

    return _attempt(ui, request, snap, session, "markings", act)


VIEWS: dict[str, Callable[[Ui, Snapshot, Session], dict[str, Any]]] = {
    "": _accounts,
    "grants": _grants,
    "peers": _peers,
    "markings": _markings,
}
