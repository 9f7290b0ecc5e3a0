"""Ingest: every way data enters a node (TAXII POST, peer pull, file import, computations).

Each object is judged on its own, by a sequence of passes over the objects the pass before
kept, each returning the objects it keeps and those it refuses (with why):

1. :func:`parse`: JSON, nested no deeper than the limit (``stix/limits.py``), no key repeated;
2. :func:`validate`: STIX 2.1;
3. ``definitions``: the batch's marking-definitions (releasability codes known, immutable once
   stored, a stored one the writer may not see not revealed); the marking rules are in
   :mod:`kizuna.node._marking_rules`;
4. :func:`stamp`: the collection's default markings, an exercise's marking (on everything);
5. ``check_markings``: known, usable, visible and readable to the writer, no exercise data in
   a real collection; ``check_derived`` (:mod:`kizuna.node._derived`): sightings, notes and
   opinions no more releasable than their sources, wherever they are stored;
6. :func:`dependents`: nothing marked with a definition the batch refused;
7. :func:`versions`, then :func:`store_batch`: every accepted object of the batch stored in
   one transaction (the caller's, when it stores a status with them), with the accepted
   marking-definitions.

An object is stored whole or not at all; the rest of the batch is not affected by one bad
object.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import msgspec

from kizuna.errors import Forbidden
from kizuna.node._batch import (
    Candidate,
    ObjectResult,
    Refusal,
    refusal,
    str_or_none,
    version_text,
)
from kizuna.node._derived import check_derived, known_sources
from kizuna.node._marking_rules import (
    Rules,
    all_marking_refs,
    check_markings,
    definitions,
    exercise_marking_id,
    same_effect,
)
from kizuna.node._snapshot import Snapshot
from kizuna.policy.principal import Principal
from kizuna.policy.refs import needs_redaction, visibility_refs
from kizuna.stix.limits import MAX_OBJECT_DEPTH
from kizuna.stix.markings import meaning_is_public, parse_marking
from kizuna.stix.rawjson import object_id, repeated_key, too_deep
from kizuna.stix.timestamps import format_added, format_micros, now_micros, to_micros
from kizuna.stix.validate import validate_object
from kizuna.store import SqlStore, Transaction
from kizuna.store.types import (
    Collection,
    NewVersion,
    Outcome,
    SyncCursor,
    VersionBatch,
)

_NO_DEFAULTS = frozenset({"marking-definition", "extension-definition"})
#: What a writer that may not read the collection is told of every object it stored: the
#: same for a new object as for one already stored (docs/policy.md, Rule 6).
_STORED = "stored"


@dataclass(slots=True)
class _Accepted:
    index: int
    #: Its own ``modified`` (or ``created``), as written.
    version_text: str | None


@dataclass(slots=True)
class Batch:
    """A batch that went through every pass but the store: what to store, and the rest's
    results. :func:`store_batch` stores it; :func:`ingest` does both."""

    #: Per object, its result, or None for an accepted one until the store has it.
    results: list[ObjectResult | None]
    accepted: list[_Accepted]
    versions: VersionBatch
    #: May the writer read the collection? If not, it learns nothing of what is stored.
    writer_reads: bool = True
    #: When the batch was judged (what a writer that may not read is told of an SCO).
    judged_us: int = 0
    #: Its marking-definitions of ids the node did not hold when it was judged.
    new_definitions: set[str] = field(default_factory=set)
    #: Per accepted object, the marking-definitions it names (:func:`store_batch`).
    marks: list[frozenset[str]] = field(default_factory=list)

    def finished(self, outcomes: list[tuple[Outcome, int]]) -> list[ObjectResult]:
        """Every object's result, given the store's outcome for each accepted one."""
        results = self.results.copy()
        for accepted, item, (outcome, added_us) in zip(
            self.accepted, self.versions.items, outcomes, strict=True
        ):
            # TAXII 2.1 requires a version in every status detail: for an object without
            # modified or created (an SCO), its date_added, as the manifest gives it. A
            # writer that may not read is given neither "already stored" nor a stored
            # version's date_added: the answer for a new object, and the time of judging.
            seen = self.writer_reads
            version = _version_text_of(item, accepted.version_text) or format_added(
                added_us if seen else self.judged_us
            )
            if not seen:
                results[accepted.index] = ObjectResult(
                    True, item.stix_id, version, _STORED, None, outcome is Outcome.STORED
                )
            elif outcome is Outcome.STORED:
                results[accepted.index] = ObjectResult(
                    True, item.stix_id, version, "stored", added_us, True
                )
            else:
                results[accepted.index] = ObjectResult(
                    True, item.stix_id, version, "already stored (same id and version)", added_us
                )
        return [r for r in results if r is not None]


def ingest(
    store: SqlStore,
    snap: Snapshot,
    principal: Principal,
    collection: Collection,
    raw_objects: Sequence[bytes],
    origin: str,
    *,
    cursor: SyncCursor | None = None,
) -> list[ObjectResult]:
    """Validate and store *raw_objects* (each the JSON bytes of one object) as *principal*.

    A sync *cursor* is committed in the same transaction as the objects.
    """
    batch = check_batch(store, snap, principal, collection, raw_objects, origin)
    if not batch.accepted and cursor is None:
        return batch.finished([])
    with store.transaction() as tx:
        if cursor is not None:
            tx.set_cursor(cursor)
        return store_batch(tx, batch)


def store_batch(tx: Transaction, batch: Batch) -> list[ObjectResult]:
    """The last pass: store the accepted objects in *tx*; every object's result.

    The batch was judged before the write lock: a marking-definition new then may have been
    stored since by another writer (two POSTs of one id at once). Unless both mean the same
    and their id says it (as :func:`check_batch` would then accept it), this batch's is
    refused, with everything of the batch marked with it (:func:`raced`): one of the two is
    stored, the other refused, whatever their content, and nothing of it half-stored.
    """
    if batch.new_definitions:
        batch = raced(batch, tx.marking_definition_bodies(sorted(batch.new_definitions)))
    outcomes = tx.add_versions(batch.versions) if batch.accepted else []
    return batch.finished(outcomes)


def raced(batch: Batch, stored: dict[str, bytes]) -> Batch:
    """*batch* without its marking-definitions that *stored* (definitions stored since it
    was judged) now holds under another meaning, or under a meaning their id does not say,
    and without what is marked with them, to the end of the chain."""
    ours = dict(batch.versions.marking_definitions)
    bad = set()
    for mid, body in stored.items():
        mine = parse_marking(msgspec.json.decode(ours[mid]))
        theirs = parse_marking(msgspec.json.decode(body))
        if not (meaning_is_public(mid, mine) and same_effect(theirs, mine)):
            bad.add(mid)
    if not bad:
        return batch
    results = batch.results.copy()
    items = list(batch.versions.items)
    out: set[int] = set()  # positions among the accepted
    while True:
        grown = False
        for n, (accepted, item) in enumerate(zip(batch.accepted, items, strict=True)):
            if n in out:
                continue
            if item.type == "marking-definition" and item.stix_id in bad:
                message = (
                    f"another marking-definition with the id {item.stix_id} was stored while "
                    "this envelope was being judged (marking-definitions are immutable): "
                    "send it again to have it judged against the stored one"
                )
            elif named := sorted(batch.marks[n] & bad):
                message = (
                    f"marking {named[0]} was refused in this envelope (see its own failure); "
                    "nothing marked with it can be stored"
                )
                if item.type == "marking-definition" and item.stix_id not in bad:
                    bad.add(item.stix_id)
                    grown = True
            else:
                continue
            out.add(n)
            results[accepted.index] = ObjectResult(
                False, item.stix_id, accepted.version_text, message
            )
        if not grown:
            break
    keep = [n for n in range(len(items)) if n not in out]
    v = batch.versions
    versions = replace(
        v,
        items=[items[n] for n in keep],
        marking_definitions=[(mid, body) for mid, body in ours.items() if mid not in bad],
        values=None if v.values is None else [v.values[n] for n in keep],
        texts=None if v.texts is None else [v.texts[n] for n in keep],
    )
    return replace(
        batch,
        results=results,
        accepted=[batch.accepted[n] for n in keep],
        versions=versions,
        new_definitions=batch.new_definitions - bad,
        marks=[batch.marks[n] for n in keep],
    )


def check_batch(
    store: SqlStore,
    snap: Snapshot,
    principal: Principal,
    collection: Collection,
    raw_objects: Sequence[bytes],
    origin: str,
) -> Batch:
    """Every pass but the store's over *raw_objects*, written by *principal*.

    The passes, each over the objects the one before kept: :func:`parse`, :func:`validate`,
    :func:`definitions` (the batch's marking-definitions), :func:`stamp` (the collection's
    markings), :func:`check_markings`, :func:`check_derived` (derived products against their
    sources), then :func:`dependents` (nothing that names a marking-definition the batch
    refused, which is stored nowhere).
    """
    access = snap.gate.access(principal, collection.id)
    if not access.can_write:
        raise Forbidden(f"{principal.name} may not write to collection {collection.id}")
    results: list[ObjectResult | None] = [None] * len(raw_objects)

    def refuse(refused: list[Refusal]) -> None:
        for index, result in refused:
            results[index] = result

    judged_us = now_micros()
    candidates, refused = parse(raw_objects)
    refuse(refused)
    candidates, refused = validate(candidates)
    refuse(refused)
    candidates, refused, found = definitions(store, snap, principal, collection, candidates)
    refuse(refused)
    defined = {c.obj["id"] for c in candidates if c.obj["type"] == "marking-definition"}
    candidates = stamp(collection, candidates)
    rules = Rules(
        principal=principal,
        collection=collection,
        access=access,
        view=snap.view(collection),
        gate=snap.gate.with_markings(found.markings),
        markings={**snap.markings, **found.markings},
        refused=found.refused,
        communities=snap.communities,
        unseen=found.unseen,
    )
    candidates, refused = check_markings(rules, candidates)
    refuse(refused)
    known = known_sources(store, snap, principal, candidates)
    candidates, refused, restricting = check_derived(rules, known, candidates)
    refuse(refused)
    kept = {c.obj["id"] for c in candidates if c.obj["type"] == "marking-definition"}
    gone = (found.refused | (defined - kept)) - found.harmless
    candidates, refused = dependents(candidates, gone)
    refuse(refused)
    kept = {c.obj["id"] for c in candidates if c.obj["type"] == "marking-definition"}
    bodies = [(mid, body) for mid, body in found.bodies if mid in kept]
    bodies += [(str(d["id"]), msgspec.json.encode(d)) for d in restricting]
    items, accepted = versions(candidates)
    return Batch(
        results,
        accepted,
        store.version_batch(
            collection.id,
            items,
            origin,
            marking_definitions=bodies,
            visible=snap.visible_sets(principal, collection),
        ),
        writer_reads=access.can_read,
        judged_us=judged_us,
        new_definitions={mid for mid, _ in bodies if store.marking_definition(mid) is None},
        marks=[frozenset(all_marking_refs(c.obj)) for c in candidates],
    )


def parse(raw_objects: Sequence[bytes]) -> tuple[list[Candidate], list[Refusal]]:
    """Each object's JSON, decoded: not nested past the limit (read before any recursive
    code sees it), and with no key repeated (the node stores the bytes and decides on the
    decoded object: the two must not differ)."""
    kept: list[Candidate] = []
    refused: list[Refusal] = []
    for index, raw in enumerate(raw_objects):
        if too_deep(raw):
            refused.append((index, ObjectResult(False, object_id(raw), None, _TOO_DEEP)))
            continue
        try:
            obj = msgspec.json.decode(raw)
        except msgspec.DecodeError as exc:
            refused.append((index, ObjectResult(False, None, None, f"not valid JSON: {exc}")))
            continue
        key = repeated_key(raw, obj)
        if key is not None:
            oid = str_or_none(obj.get("id")) if isinstance(obj, dict) else None
            message = (
                f"the JSON of this object repeats the key {key!r} within one object: readers "
                "would disagree on its value, so it is refused; send each key once"
            )
            refused.append((index, ObjectResult(False, oid, None, message)))
            continue
        kept.append(Candidate(index, obj, raw))
    return kept, refused


_TOO_DEEP = (
    f"the object nests arrays and objects more than {MAX_OBJECT_DEPTH} levels deep, the limit "
    "for one STIX object (kizuna.stix.limits); flatten it"
)


def dependents(
    candidates: list[Candidate], refused_ids: set[str]
) -> tuple[list[Candidate], list[Refusal]]:
    """The objects that name no marking-definition refused in this batch, to the end of the
    chain (a definition marked with a refused one is refused, and so on)."""
    refused: list[Refusal] = []
    bad = set(refused_ids)
    while True:
        kept: list[Candidate] = []
        gone: set[str] = set()
        for c in candidates:
            named = [m for m in all_marking_refs(c.obj) if m in bad]
            if named:
                refused.append(
                    refusal(
                        c,
                        f"marking {named[0]} was refused in this envelope (see its own "
                        "failure); nothing marked with it can be stored",
                    )
                )
                if c.obj["type"] == "marking-definition":
                    gone.add(c.obj["id"])
                continue
            kept.append(c)
        if not gone - bad:
            return kept, refused
        bad |= gone
        candidates = kept


def validate(candidates: list[Candidate]) -> tuple[list[Candidate], list[Refusal]]:
    """The objects that are valid STIX 2.1."""
    kept: list[Candidate] = []
    refused: list[Refusal] = []
    for c in candidates:
        obj = c.obj
        problems = validate_object(obj)
        if problems:
            oid = obj.get("id") if isinstance(obj, dict) else None
            version = version_text(obj) if isinstance(obj, dict) else None
            text = "; ".join(f"{p.path}: {p.message}" if p.path else p.message for p in problems)
            refused.append(
                (
                    c.index,
                    ObjectResult(False, str_or_none(oid), version, f"invalid STIX 2.1: {text}"),
                )
            )
            continue
        kept.append(c)
    return kept, refused


def stamp(collection: Collection, candidates: list[Candidate]) -> list[Candidate]:
    """The collection's default markings on objects without markings, and an exercise
    collection's marking on everything; each object's visibility refs."""
    exercise = exercise_marking_id(collection)
    for c in candidates:
        obj = c.obj
        if (
            collection.default_markings
            and not obj.get("object_marking_refs")
            and obj["type"] not in _NO_DEFAULTS
        ):
            obj["object_marking_refs"] = list(collection.default_markings)
            c.body = msgspec.json.encode(obj)
        if exercise is not None:
            # Everything in an exercise collection carries the exercise's marking, so it can
            # never be read from (or synced into) a real-world collection: definitions too
            # (a marking-definition's meaning is stored as it was sent, unmarked).
            current = list(obj.get("object_marking_refs") or ())
            if exercise not in current:
                obj["object_marking_refs"] = [*current, exercise]
                c.body = msgspec.json.encode(obj)
        c.visibility = visibility_refs(obj)
    return candidates


def versions(candidates: list[Candidate]) -> tuple[list[NewVersion], list[_Accepted]]:
    """The versions to store, one per object that every pass kept."""
    items: list[NewVersion] = []
    accepted: list[_Accepted] = []
    for c in candidates:
        obj = c.obj
        version = version_text(obj)
        items.append(
            NewVersion(
                obj["id"],
                obj["type"],
                to_micros(version) if version else 0,
                obj.get("spec_version", "2.1"),
                c.visibility,
                needs_redaction(obj, c.body),
                c.body,
                obj,
            )
        )
        accepted.append(_Accepted(c.index, version))
    return items, accepted


def _version_text_of(item: NewVersion, text: str | None) -> str | None:
    """The version as the status resource shows it: the canonical form of ``version_us``.

    *text*, the object's own ``modified`` (or ``created``), is that form already when it has
    exactly milliseconds (and no leap second), which is how nearly every producer writes it.
    """
    if text is not None and len(text) == 24 and text[19] == "." and text[17:19] != "60":
        return text
    return format_micros(item.version_us) if item.version_us else None
