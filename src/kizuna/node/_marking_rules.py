"""The marking rules of ingest: the passes that judge an object by its markings.

A batch's marking-definitions are checked first (known codes, immutable once stored, and
answered without revealing a stored one the writer may not see); then each object's markings
(known, usable, visible to the writer, readable by the writer, no exercise data in a real
collection). Derived products are judged next, in :mod:`kizuna.node._derived`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from kizuna.node._batch import Candidate, Refusal, refusal
from kizuna.node._snapshot import PUBLIC_KINDS, Snapshot
from kizuna.policy.countries import is_country
from kizuna.policy.gate import Access, CollectionView, Gate
from kizuna.policy.principal import Principal
from kizuna.stix.markings import (
    Exercise,
    Marking,
    RelTo,
    Statement,
    Unknown,
    exercise_marking,
    meaning_is_public,
    parse_marking,
)
from kizuna.store import SqlStore
from kizuna.store.types import Collection


@dataclass(slots=True)
class Definitions:
    """The marking-definitions of a batch: those it may store, and those it may not."""

    markings: dict[str, Marking] = field(default_factory=dict)
    bodies: list[tuple[str, bytes]] = field(default_factory=list)
    refused: set[str] = field(default_factory=set)
    #: Stored marking-definitions whose meaning the writer may not learn (see
    #: :func:`unseen_definitions`): its objects may not use them.
    unseen: frozenset[str] = frozenset()
    #: Refused definitions whose stored namesake means the same to the gate (a statement
    #: re-issued with new text): what the batch marks with them is judged as it would be.
    harmless: set[str] = field(default_factory=set)


def definitions(
    store: SqlStore,
    snap: Snapshot,
    principal: Principal,
    collection: Collection,
    candidates: list[Candidate],
) -> tuple[list[Candidate], list[Refusal], Definitions]:
    """The batch's marking-definitions, checked (:func:`check_marking_definition`).

    Two different definitions of one id in a batch are both refused: the node could store
    only one of them, and the other's objects would be judged by a definition they did not
    name.
    """
    found = Definitions()
    wanted = {m for c in candidates for m in all_marking_refs(c.obj) if m in snap.markings}
    wanted |= {c.obj["id"] for c in candidates if c.obj["type"] == "marking-definition"}
    found.unseen = unseen_definitions(store, snap, principal, wanted)
    bodies: dict[str, list[dict[str, Any]]] = {}
    for c in candidates:
        if c.obj["type"] == "marking-definition":
            bodies.setdefault(c.obj["id"], []).append(c.obj)
    twice = {mid for mid, objs in bodies.items() if any(o != objs[0] for o in objs)}
    kept: list[Candidate] = []
    refused: list[Refusal] = []
    exercise = collection.kind.startswith("exercise:")
    for c in candidates:
        obj = c.obj
        if obj["type"] == "marking-definition":
            if obj["id"] in twice:
                failure: str | None = (
                    f"this envelope holds two different marking-definitions with the id "
                    f"{obj['id']}: send one"
                )
            else:
                failure = check_marking_definition(
                    store, snap, obj, unseen=found.unseen, exercise=exercise
                )
            if failure:
                refused.append(refusal(c, failure))
                found.refused.add(obj["id"])
                if obj["id"] not in twice and obj["id"] not in found.unseen:
                    stored = snap.markings.get(obj["id"])
                    if stored is not None and same_effect(stored, parse_marking(obj)):
                        found.harmless.add(obj["id"])
                continue
            found.markings[obj["id"]] = parse_marking(obj)
            found.bodies.append((obj["id"], c.body))
        kept.append(c)
    return kept, refused, found


def same_effect(a: Marking, b: Marking) -> bool:
    """Do two definitions admit the same principals? Statements all admit everyone."""
    return a == b or (isinstance(a, Statement) and isinstance(b, Statement))


def unseen_definitions(
    store: SqlStore, snap: Snapshot, principal: Principal, ids: Iterable[str]
) -> frozenset[str]:
    """Of stored marking-definitions *ids*, those whose meaning *principal* may not learn.

    A definition's meaning is public when its id says it (TLP, releasability and exercise
    markings with derived ids: ``stix.markings.meaning_is_public``); any other one (a
    statement's text) only an administrator may learn, a principal that may see a version of
    it in a collection it reads, or the one that stored it (a version of it is recorded with
    its origin: it sent that text itself, as a peer that may only write pulls it).
    """
    if principal.is_admin:
        return frozenset()
    private = sorted(
        i for i in ids if i in snap.markings and not meaning_is_public(i, snap.markings[i])
    )
    if not private:
        return frozenset()
    # The definitions collection serves no private definition (docs/policy.md, Rule 7).
    readable = {
        cid: sets
        for cid, sets in snap.readable(principal).items()
        if snap.collections[cid].kind not in PUBLIC_KINDS
    }
    seen = {
        i
        for i, cid, mset in store.id_placements(private)
        if cid in readable and (readable[cid] is None or mset in (readable[cid] or ()))
    }
    rest = [i for i in private if i not in seen]
    if rest:
        seen |= store.written_by(rest, principal.origin)
    return frozenset(i for i in private if i not in seen)


def check_marking_definition(
    store: SqlStore,
    snap: Snapshot,
    obj: dict[str, Any],
    *,
    unseen: frozenset[str] = frozenset(),
    exercise: bool = False,
) -> str | None:
    """Why a (valid STIX) marking-definition cannot be stored, or None when it can.

    The answer depends on a stored definition of the same id only where the writer may learn
    it: one in *unseen* refuses any definition of its id alike, a right guess as a wrong one
    (docs/policy.md, Rule 6); one whose meaning its id says is compared by meaning only (the
    writer's copy means the same, and is stored as a version of its own).
    In an exercise collection (*exercise*), only a definition whose meaning its id says may
    be added to the node: any other would mark real objects with what an exercise defined.
    """
    mid = obj["id"]
    if mid in unseen:
        return (
            f"the id {mid} is taken by a marking-definition stored on this node (they are "
            "immutable): give yours an id of its own"
        )
    m = parse_marking(obj)
    existing = store.marking_definition(mid)
    if existing is not None:
        stored = parse_marking(existing)
        if meaning_is_public(mid, stored) and m == stored:
            return None
        if msgspec.json.decode(existing) != obj:
            return (
                "marking-definitions are immutable: a different definition with this id is "
                "already stored"
            )
        return None
    if isinstance(m, RelTo):
        unknown = sorted(c for c in m.codes if not is_country(c) and c not in snap.communities)
        if unknown:
            return (
                f"releasability marking names unknown code(s) {', '.join(unknown)}: expected ISO "
                f"3166 alpha-3 countries or communities ({', '.join(sorted(snap.communities))})"
            )
    if isinstance(m, Unknown):
        return f"marking-definition not usable: {m.reason}"
    if exercise and not meaning_is_public(mid, m):
        return (
            "an exercise collection may not add this marking-definition to the node: its "
            "meaning is not given by its id, and a real collection's objects could then be "
            "marked with what an exercise defined; store it in a real collection first"
        )
    return None


@dataclass(frozen=True, slots=True)
class Rules:
    """What the marking passes judge a batch by: its writer, its collection, the markings."""

    principal: Principal
    collection: Collection
    access: Access
    view: CollectionView
    #: The gate, and the markings, with the batch's own marking-definitions.
    gate: Gate
    markings: dict[str, Marking]
    #: Marking-definitions of the batch that were refused.
    refused: set[str]
    communities: dict[str, frozenset[str]]
    #: Stored marking-definitions the writer may not learn (:func:`unseen_definitions`).
    unseen: frozenset[str] = frozenset()


def check_markings(
    rules: Rules, candidates: list[Candidate]
) -> tuple[list[Candidate], list[Refusal]]:
    """The objects whose markings may be stored here (:func:`marking_failure`). Objects of a
    batch share few sets of markings: each set is checked once."""
    kept: list[Candidate] = []
    refused: list[Refusal] = []
    checked: dict[tuple[str, ...], str | None] = {}
    for c in candidates:
        obj = c.obj
        # With object markings only (nearly every object) the refs to check are the same.
        refs = tuple(all_marking_refs(obj)) if "granular_markings" in obj else c.visibility
        if refs in checked:
            failure = checked[refs]
        else:
            failure = checked[refs] = marking_failure(rules, refs)
        if failure is not None:
            refused.append(refusal(c, failure))
            continue
        kept.append(c)
    return kept, refused


def marking_failure(rules: Rules, refs: tuple[str, ...]) -> str | None:
    """Why objects with these marking refs cannot be stored here, or None."""
    markings = rules.markings
    drill = [
        r for r in refs if isinstance(markings.get(r), Exercise) and rules.collection.kind == "real"
    ]
    if drill:
        return (
            f"{drill[0]} marks exercise data, which cannot enter a real-world collection; "
            "post it to a collection of that exercise (kizuna collection add --exercise)"
        )
    unknown = [r for r in refs if r not in markings]
    if unknown:
        if unknown[0] in rules.refused:
            return (
                f"marking {unknown[0]} was refused in this envelope (see its own failure); "
                "nothing marked with it can be stored"
            )
        return (
            f"marking {unknown[0]} is not stored on this node: send its "
            "marking-definition first or in the same envelope"
        )
    # The collection's own default markings are its writers' to use, stamped or named.
    defaults = rules.collection.default_markings
    unseen = [r for r in refs if r in rules.unseen and r not in defaults]
    if unseen:
        # Whatever it means (a statement, an exercise) would show in the answer.
        return (
            f"marking {unseen[0]} is not one you may use: its marking-definition is not "
            "visible to you (docs/policy.md, Rule 6)"
        )
    not_understood = [r for r in refs if isinstance(markings[r], Unknown)]
    if not_understood:
        m = markings[not_understood[0]]
        reason = m.reason if isinstance(m, Unknown) else ""
        return f"marking {not_understood[0]} is not usable: {reason}"
    principal = rules.principal
    if not principal.is_admin and not all(
        rules.gate.marking_visible(principal, r, rules.access, rules.view) for r in refs
    ):
        return (
            "you may only write objects whose markings you could read yourself; "
            f"{principal.org} may not read one of {', '.join(refs)} here"
        )
    return None


def exercise_marking_id(collection: Collection) -> str | None:
    """The marking every object of an exercise collection carries (None for real ones)."""
    if not collection.kind.startswith("exercise:"):
        return None
    return str(exercise_marking(collection.kind.split(":", 1)[1])["id"])


def all_marking_refs(obj: dict[str, Any]) -> list[str]:
    refs = list(obj.get("object_marking_refs") or ())
    for entry in obj.get("granular_markings") or ():
        if isinstance(entry, dict) and isinstance(entry.get("marking_ref"), str):
            refs.append(entry["marking_ref"])
    return sorted(set(refs))
