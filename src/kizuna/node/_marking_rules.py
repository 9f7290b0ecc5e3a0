"""The marking rules of ingest: the passes that judge an object by its markings.

A batch's marking-definitions are checked first (known codes, immutable once stored); then
each object's markings (known, usable, readable by the writer, no exercise data in a real
collection); then annotations (no more releasable than what they annotate).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec

from kizuna.node._batch import Candidate, Refusal, refusal
from kizuna.node._snapshot import Snapshot
from kizuna.policy.combine import no_more_releasable, summarize
from kizuna.policy.countries import is_country
from kizuna.policy.gate import Access, CollectionView, Gate
from kizuna.policy.principal import Principal
from kizuna.policy.refs import visibility_refs
from kizuna.stix.markings import Exercise, Marking, RelTo, Unknown, exercise_marking, parse_marking
from kizuna.store import SqlStore
from kizuna.store.types import Collection, ObjectQuery, VersionMatch

#: Types that annotate other objects and must not be more releasable than them.
ANNOTATIONS = frozenset({"note", "opinion"})


@dataclass(slots=True)
class Definitions:
    """The marking-definitions of a batch: those it may store, and those it may not."""

    markings: dict[str, Marking] = field(default_factory=dict)
    bodies: list[tuple[str, bytes]] = field(default_factory=list)
    refused: set[str] = field(default_factory=set)


def definitions(
    store: SqlStore, snap: Snapshot, candidates: list[Candidate]
) -> tuple[list[Candidate], list[Refusal], Definitions]:
    """The batch's marking-definitions, checked (:func:`check_marking_definition`)."""
    found = Definitions()
    kept: list[Candidate] = []
    refused: list[Refusal] = []
    for c in candidates:
        obj = c.obj
        if obj["type"] == "marking-definition":
            failure = check_marking_definition(store, snap, obj)
            if failure:
                refused.append(refusal(c, failure))
                found.refused.add(obj["id"])
                continue
            found.markings[obj["id"]] = parse_marking(obj)
            found.bodies.append((obj["id"], c.body))
        kept.append(c)
    return kept, refused, found


def check_marking_definition(store: SqlStore, snap: Snapshot, obj: dict[str, Any]) -> str | None:
    """Why a (valid STIX) marking-definition cannot be stored, or None when it can."""
    existing = store.marking_definition(obj["id"])
    if existing is not None:
        if msgspec.json.decode(existing) != obj:
            return (
                "marking-definitions are immutable: a different definition with this id is "
                "already stored"
            )
        return None
    m = parse_marking(obj)
    if isinstance(m, RelTo):
        unknown = sorted(c for c in m.codes if not is_country(c) and c not in snap.communities)
        if unknown:
            return (
                f"releasability marking names unknown code(s) {', '.join(unknown)}: expected ISO "
                f"3166 alpha-3 countries or communities ({', '.join(sorted(snap.communities))})"
            )
    if isinstance(m, Unknown):
        return f"marking-definition not usable: {m.reason}"
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


def check_annotations(
    rules: Rules, annotated: dict[str, tuple[str, ...]], candidates: list[Candidate]
) -> tuple[list[Candidate], list[Refusal]]:
    """The annotations (notes, opinions) no more releasable than what they annotate.

    Only annotated objects the writer may see count: refusing a note because of an object
    hidden from its writer would reveal that object (docs/policy.md, Rule 6).
    """
    kept: list[Candidate] = []
    refused: list[Refusal] = []
    seen: dict[str, tuple[str, ...]] | None = None
    principal = rules.principal
    for c in candidates:
        obj = c.obj
        if obj["type"] in ANNOTATIONS:
            if seen is None:
                seen = {
                    ref: marks
                    for ref, marks in annotated.items()
                    if principal.is_admin
                    or rules.gate.set_visible(principal, marks, rules.access, rules.view)
                }
            failure = _check_annotation(obj, seen, rules.markings, rules.communities)
            if failure:
                refused.append(refusal(c, failure))
                continue
        kept.append(c)
    return kept, refused


def annotated_markings(
    store: SqlStore, collection: Collection, objs: list[dict[str, Any]]
) -> dict[str, tuple[str, ...]]:
    """Visibility markings of the latest stored version of every object an annotation names."""
    wanted = sorted(
        {r for o in objs if o.get("type") in ANNOTATIONS for r in o.get("object_refs") or ()}
    )
    if not wanted:
        return {}
    sets = store.marking_sets()
    rows = store.query(
        ObjectQuery(
            collection_id=collection.id,
            ids=tuple(wanted),
            versions=VersionMatch(last=True),
            limit=len(wanted) + 1,
        )
    )
    found = {r.stix_id: sets.get(r.marking_set, ()) for r in rows}
    # Annotated objects in the same batch count too.
    for o in objs:
        if o.get("id") in wanted and o["id"] not in found:
            found[o["id"]] = visibility_refs(o)
    return found


def _check_annotation(
    obj: dict[str, Any],
    annotated: dict[str, tuple[str, ...]],
    markings: dict[str, Marking],
    communities: dict[str, frozenset[str]],
) -> str | None:
    mine = summarize(visibility_refs(obj), markings, communities)
    for ref in obj.get("object_refs") or ():
        if ref not in annotated:
            continue
        theirs = summarize(annotated[ref], markings, communities)
        if not no_more_releasable(mine, theirs):
            return (
                f"a {obj['type']} may not be more releasable than the object it annotates: "
                f"{ref} is marked {', '.join(annotated[ref]) or 'with nothing'}; mark this "
                "object at least as restrictively"
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
