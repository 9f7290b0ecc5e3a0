"""Ingest: every way data enters a node (TAXII POST, peer pull, file import, computations).

Each object is judged on its own: parsed, validated (STIX 2.1), its markings checked (known,
visible to the writer, releasability codes known, marking-definitions immutable, annotations
no more releasable than what they annotate), stamped with the collection's default markings,
then all accepted objects of a batch are stored in one transaction. An object is stored whole
or not at all; the rest of the batch is not affected by one bad object.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from kizuna.errors import Forbidden
from kizuna.node._snapshot import Snapshot
from kizuna.policy.combine import no_more_releasable, summarize
from kizuna.policy.countries import is_country
from kizuna.policy.principal import Principal
from kizuna.policy.refs import needs_redaction, visibility_refs
from kizuna.stix.markings import Exercise, Marking, RelTo, Unknown, exercise_marking, parse_marking
from kizuna.stix.timestamps import format_added, format_micros, to_micros
from kizuna.stix.validate import validate_object
from kizuna.store.sql import SqlStore
from kizuna.store.types import (
    Collection,
    NewVersion,
    ObjectQuery,
    Outcome,
    SyncCursor,
    VersionMatch,
)

#: Types that annotate other objects and must not be more releasable than them.
ANNOTATIONS = frozenset({"note", "opinion"})
_NO_DEFAULTS = frozenset({"marking-definition", "extension-definition"})


@dataclass(slots=True)
class ObjectResult:
    """The outcome for one object of a batch (not frozen, as :class:`NewVersion`)."""

    ok: bool
    id: str | None
    version: str | None
    message: str
    added_us: int | None = None
    stored: bool = False


def ingest(
    store: SqlStore,
    snap: Snapshot,
    principal: Principal,
    collection: Collection,
    raw_objects: Sequence[bytes],
    origin: str,
    *,
    cursor: SyncCursor | None = None,
    status: Callable[[list[ObjectResult]], tuple[str, str, str, bytes]] | None = None,
) -> list[ObjectResult]:
    """Validate and store *raw_objects* (each the JSON bytes of one object) as *principal*.

    *status*, given the results, returns a TAXII status row (id, collection, principal, body)
    that is stored in the same transaction as the objects (one commit per POST).
    """
    access = snap.gate.access(principal, collection.id)
    if not access.can_write:
        raise Forbidden(f"{principal.name} may not write to collection {collection.id}")
    view = snap.view(collection)
    results: list[ObjectResult | None] = []
    accepted: list[tuple[int, NewVersion]] = []
    accepted_versions: list[str | None] = []  # each accepted object's modified (or created)
    new_markings: dict[str, Marking] = {}
    new_marking_bodies: list[tuple[str, bytes]] = []
    parsed: list[tuple[int, dict[str, Any], bytes]] = []
    refused_markings: set[str] = set()

    # Pass 1: parse and validate each object; collect the marking-definitions of the batch.
    for index, raw in enumerate(raw_objects):
        try:
            obj = msgspec.json.decode(raw)
        except msgspec.DecodeError as exc:
            results.append(ObjectResult(False, None, None, f"not valid JSON: {exc}"))
            continue
        problems = validate_object(obj)
        if problems:
            oid = obj.get("id") if isinstance(obj, dict) else None
            version = _version_text(obj) if isinstance(obj, dict) else None
            text = "; ".join(f"{p.path}: {p.message}" if p.path else p.message for p in problems)
            results.append(ObjectResult(False, _str(oid), version, f"invalid STIX 2.1: {text}"))
            continue
        assert isinstance(obj, dict)
        if obj["type"] == "marking-definition":
            failure = check_marking_definition(store, snap, obj)
            if failure:
                results.append(ObjectResult(False, obj["id"], _version_text(obj), failure))
                refused_markings.add(obj["id"])
                continue
            new_markings[obj["id"]] = parse_marking(obj)
            new_marking_bodies.append((obj["id"], raw))
        results.append(None)
        parsed.append((index, obj, raw))

    markings = {**snap.markings, **new_markings}
    exercise = _exercise_marking(collection)
    gate = snap.gate.with_markings(new_markings)
    annotated = _annotated_markings(store, collection, [o for _, o, _ in parsed])

    def marking_failure(refs: tuple[str, ...]) -> str | None:
        """Why objects with these marking refs cannot be stored here, or None."""
        drill = [
            r for r in refs if isinstance(markings.get(r), Exercise) and collection.kind == "real"
        ]
        if drill:
            return (
                f"{drill[0]} marks exercise data, which cannot enter a real-world collection; "
                "post it to a collection of that exercise (kizuna collection add --exercise)"
            )
        unknown = [r for r in refs if r not in markings]
        if unknown:
            if unknown[0] in refused_markings:
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
        if not principal.is_admin and not all(
            gate.marking_visible(principal, r, access, view) for r in refs
        ):
            return (
                "you may only write objects whose markings you could read yourself; "
                f"{principal.org} may not read one of {', '.join(refs)} here"
            )
        return None

    # Pass 2: markings, defaults, writer's right, annotation releasability. Objects of a
    # batch share few sets of markings: each set is checked once.
    checked: dict[tuple[str, ...], str | None] = {}
    for index, obj, raw in parsed:
        oid = obj["id"]
        version = _version_text(obj)
        body = raw
        if (
            collection.default_markings
            and not obj.get("object_marking_refs")
            and obj["type"] not in _NO_DEFAULTS
        ):
            obj["object_marking_refs"] = list(collection.default_markings)
            body = msgspec.json.encode(obj)
        if exercise is not None and obj["type"] not in _NO_DEFAULTS:
            # Everything in an exercise collection carries the exercise's marking, so it can
            # never be read from (or synced into) a real-world collection.
            current = list(obj.get("object_marking_refs") or ())
            if exercise not in current:
                obj["object_marking_refs"] = [*current, exercise]
                body = msgspec.json.encode(obj)
        visibility = visibility_refs(obj)
        # With object markings only (nearly every object) the refs to check are the same.
        refs = tuple(_all_marking_refs(obj)) if "granular_markings" in obj else visibility
        if refs in checked:
            failure = checked[refs]
        else:
            failure = checked[refs] = marking_failure(refs)
        if failure is not None:
            results[index] = ObjectResult(False, oid, version, failure)
            continue
        if obj["type"] in ANNOTATIONS:
            # Only annotated objects the writer may see count: refusing a note because of an
            # object hidden from its writer would reveal that object (docs/policy.md, Rule 6).
            seen = {
                ref: marks
                for ref, marks in annotated.items()
                if principal.is_admin or gate.set_visible(principal, marks, access, view)
            }
            failure = _check_annotation(obj, seen, markings, snap)
            if failure:
                results[index] = ObjectResult(False, oid, version, failure)
                continue
        accepted.append(
            (
                index,
                NewVersion(
                    oid,
                    obj["type"],
                    to_micros(version) if version else 0,
                    obj.get("spec_version", "2.1"),
                    visibility,
                    needs_redaction(obj, body),
                    body,
                ),
            )
        )
        accepted_versions.append(version)

    done: list[ObjectResult] = []

    def finish(outcomes: list[tuple[Outcome, int]]) -> list[ObjectResult]:
        """The results, once: for the status inside the transaction, then for the caller."""
        if done or not results:
            return done
        for (index, item), text, (outcome, added_us) in zip(
            accepted, accepted_versions, outcomes, strict=True
        ):
            # TAXII 2.1 requires a version in every status detail: for an object without
            # modified or created (an SCO), its date_added, as the manifest gives it.
            obj_version = _version_text_of(item, text) or format_added(added_us)
            if outcome is Outcome.STORED:
                results[index] = ObjectResult(
                    True, item.stix_id, obj_version, "stored", added_us, True
                )
            else:
                results[index] = ObjectResult(
                    True,
                    item.stix_id,
                    obj_version,
                    "already stored (same id and version)",
                    added_us,
                )
        done.extend(r for r in results if r is not None)
        return done

    if not accepted:
        if cursor is not None:
            store.set_cursor(cursor)
        finish([])
        if status is not None:
            store.put_status(*status(done))
        return done
    outcomes = store.add_versions(
        collection.id,
        [item for _, item in accepted],
        origin,
        marking_definitions=new_marking_bodies,
        cursor=cursor,
        status=None if status is None else (lambda outcomes: status(finish(outcomes))),
        visible=snap.visible_sets(principal, collection),
    )
    return finish(outcomes)


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


def _annotated_markings(
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
    snap: Snapshot,
) -> str | None:
    mine = summarize(visibility_refs(obj), markings, snap.communities)
    for ref in obj.get("object_refs") or ():
        if ref not in annotated:
            continue
        theirs = summarize(annotated[ref], markings, snap.communities)
        if not no_more_releasable(mine, theirs):
            return (
                f"a {obj['type']} may not be more releasable than the object it annotates: "
                f"{ref} is marked {', '.join(annotated[ref]) or 'with nothing'}; mark this "
                "object at least as restrictively"
            )
    return None


def _exercise_marking(collection: Collection) -> str | None:
    """The marking every object of an exercise collection carries (None for real ones)."""
    if not collection.kind.startswith("exercise:"):
        return None
    return str(exercise_marking(collection.kind.split(":", 1)[1])["id"])


def _all_marking_refs(obj: dict[str, Any]) -> list[str]:
    refs = list(obj.get("object_marking_refs") or ())
    for entry in obj.get("granular_markings") or ():
        if isinstance(entry, dict) and isinstance(entry.get("marking_ref"), str):
            refs.append(entry["marking_ref"])
    return sorted(set(refs))


def _version_text(obj: dict[str, Any]) -> str | None:
    value = obj.get("modified") or obj.get("created")
    return value if isinstance(value, str) else None


def _version_text_of(item: NewVersion, text: str | None) -> str | None:
    """The version as the status resource shows it: the canonical form of ``version_us``.

    *text*, the object's own ``modified`` (or ``created``), is that form already when it has
    exactly milliseconds (and no leap second), which is how nearly every producer writes it.
    """
    if text is not None and len(text) == 24 and text[19] == "." and text[17:19] != "60":
        return text
    return format_micros(item.version_us) if item.version_us else None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None
