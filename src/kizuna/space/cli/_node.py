"""Node mode: read the catalog through the gate as the requesting user, write conjunctions back."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kizuna.errors import InvalidInput
from kizuna.policy.combine import source_marking_refs
from kizuna.space.formats.omm import ElementSet
from kizuna.space.stix import (
    ELEMENT_SET_TYPE,
    SPACE_OBJECT_TYPE,
    element_set_of,
    from_proximity,
    from_screening,
    space_object_id,
)
from kizuna.stix.ids import derived_id

if TYPE_CHECKING:
    from kizuna.space.screening import ScreenResult

__all__ = [
    "SCREENED_FIELDS",
    "NodeCatalog",
    "derived_marking_definitions",
    "open_as",
    "organization_identity",
    "read_catalog",
    "store_conjunctions",
]

#: The properties of a space object a screening reads (its conjunctions derive from them).
SCREENED_FIELDS = ("elements", "norad_cat_id")


@dataclass
class NodeCatalog:
    """The element sets a user may see (one per object, as chosen), records that could not be
    used, each object's id and markings by catalog number, and which element-set object each
    object's elements came from (absent: the space object's own)."""

    records: list[ElementSet]
    problems: list[str]
    refs: dict[int, tuple[str, tuple[str, ...]]]  # catalog number -> (STIX id, marking refs)
    sources: dict[int, tuple[str, tuple[str, ...]]] = field(default_factory=dict)


def open_as(directory: Path, collection_id: str, as_user: str) -> tuple[Any, Any, Any]:
    from kizuna.node import Node

    node = Node.open(directory)
    user = node.store.user(as_user)
    if user is None:
        raise InvalidInput(f"no user {as_user!r} on the node in {directory}")
    return node, node.principal_for(user), node.collection(collection_id)


def organization_identity(name: str) -> str:
    """The STIX identity a node gives organization *name* (the same on every node)."""
    return derived_id("identity", f"org:{name}")


def read_catalog(
    node: Any, principal: Any, collection: Any, elements_from: Sequence[str] = ()
) -> NodeCatalog:
    """The newest version of every space object *principal* may see in *collection*, and of
    every partner's element set (``x-kizuna-element-set``) of them it may see: per object, the
    element set of the first organization of *elements_from* that has one, else the newest
    visible elements (the space object's own or any partner's)."""
    from kizuna.node import read_page
    from kizuna.store.types import ObjectQuery, VersionMatch

    snap = node.snapshot()
    if not snap.gate.access(principal, collection.id).can_read:
        raise InvalidInput(f"{principal.name} may not read collection {collection.id}")
    out = NodeCatalog([], [], {})
    trust = [organization_identity(org) for org in elements_from]
    writers = {u.name: u for u in snap.users.values()}
    # catalog number -> [(element set, source object id or "", creator, marks)]
    choices: dict[int, list[tuple[ElementSet, str, str, tuple[str, ...]]]] = {}
    objects: dict[int, tuple[str, tuple[str, ...]]] = {}
    own_epoch: dict[int, Any] = {}
    # element-set id -> its newest version that its writer could have made (see _vouched)
    partners: dict[str, tuple[int, ElementSet, str, str, tuple[str, ...]]] = {}
    after = None
    while True:
        query = ObjectQuery(
            collection.id, after_us=after, types=(SPACE_OBJECT_TYPE, ELEMENT_SET_TYPE),
            versions=VersionMatch(all=True),
        )
        page = read_page(node.store, snap, principal, collection, query, 2000)
        for item in page.items:
            obj = json.loads(item.body)
            try:
                es = element_set_of(obj)
            except ValueError as exc:
                out.problems.append(f"{collection.id}: {exc}")
                continue
            # The conjunction is computed from the elements: their granular markings count.
            marks = tuple(source_marking_refs(obj, SCREENED_FIELDS))
            if es.norad_cat_id is None:
                continue
            number = es.norad_cat_id
            if obj["type"] == SPACE_OBJECT_TYPE:
                if number in own_epoch and own_epoch[number] >= es.epoch:
                    continue  # the newest version of the space object, as a read of the last
                own_epoch[number] = es.epoch
                objects[number] = (str(obj["id"]), marks)
                choices[number] = [o for o in choices.get(number, []) if o[1]]
                choices[number].append((es, "", "", marks))
                continue
            creator = str(obj.get("created_by_ref", ""))
            if not _vouched(creator, item.row.origin, writers):
                out.problems.append(
                    f"{obj['id']} (epoch {es.epoch:%Y-%m-%dT%H:%M:%S}): says it is the element set "
                    f"of {creator} but was written by {item.row.origin}, of another "
                    "organization: not used"
                )
                continue
            # The gate removes the reference to a space object hidden from the reader:
            # the elements are then those of an object not stored here, under the id
            # every node gives it (as when it is absent, so that nothing tells them apart).
            ref = obj.get("space_object_ref")
            if not isinstance(ref, str):
                ref = space_object_id(number, es.object_id)
            objects.setdefault(number, (ref, ()))
            have = partners.get(str(obj["id"]))
            if have is None or have[1].epoch < es.epoch:
                partners[str(obj["id"])] = (number, es, str(obj["id"]), creator, marks)
        if not page.more or page.last_added is None:
            break
        after = page.last_added
    for number, es, source, creator, marks in partners.values():
        choices.setdefault(number, []).append((es, source, creator, marks))
    for number, options in sorted(choices.items()):
        ranked = [o for who in trust for o in options if o[1] and o[2] == who]
        es, source, _, marks = ranked[0] if ranked else max(options, key=lambda o: o[0].epoch)
        out.records.append(es)
        ref, own = objects[number]
        # A conjunction derives from the space object and from the elements it used.
        out.refs[number] = (ref, tuple(sorted({*own, *marks})) if source else own)
        if source:
            out.sources[number] = (source, marks)
    return out


def _vouched(creator: str, origin: str, writers: dict[str, Any]) -> bool:
    """Could the writer of a version (its *origin*) be the organization it says made it?

    An element set is one organization's own tracking (``created_by_ref``); another
    organization's user may not add a version of it (its id is derived from the creator and
    the object, so a forged version would be the newest of the real one's). A local user's
    version counts when the user is an administrator or of that organization; what came from
    a peer (which relays what others made) or a file says no organization of its own and
    counts as it says.
    """
    kind, _, name = origin.partition(":")
    if kind != "user":
        return True
    user = writers.get(name)
    return user is None or user.is_admin or user.is_peer or organization_identity(user.org) == creator


def derived_marking_definitions(
    sources: Sequence[Sequence[str]], refs: Sequence[str], snap: Any
) -> list[dict[str, Any]]:
    """Definitions of the REL TO / exercise markings in *refs* the node does not have yet."""
    from kizuna.policy.combine import combine, marking_definitions_for, summarize

    combined = combine(summarize(m, snap.markings, snap.communities) for m in sources)
    candidates = marking_definitions_for(combined, snap.communities)
    return [d for d in candidates if d["id"] in refs and d["id"] not in snap.markings]


def store_conjunctions(
    node: Any,
    principal: Any,
    collection: Any,
    result: ScreenResult,
    records: Sequence[ElementSet],
    catalog_refs: dict[int, tuple[str, tuple[str, ...]]],
    sources: dict[int, tuple[str, tuple[str, ...]]] | None = None,
) -> tuple[int, list[str]]:
    """Conjunction objects for every event and every proximity pair (``kind: proximity``,
    :func:`kizuna.space.stix.from_proximity`), each marked no more releasable than either of
    its two space objects and the element sets it was computed from, their granular markings
    on the screened fields included (kizuna.policy.combine.derived_refs), ingested as
    *principal*. ``element_set_refs`` names,
    per object, the partner's element set used (or the space object, for its own elements)."""
    from kizuna.node import ingest
    from kizuna.policy.combine import derived_refs

    snap = node.snapshot()
    marks = dict(catalog_refs.values())
    row_refs = [catalog_refs[int(es.norad_cat_id or -1)][0] for es in records]
    used = {catalog_refs[number][0]: source for number, (source, _) in (sources or {}).items()}
    definitions: dict[str, dict[str, Any]] = {}

    def markings(a: str, b: str) -> list[str]:
        sources = [list(marks[a]), list(marks[b])]
        refs = derived_refs(sources, snap.markings, snap.communities)
        for d in derived_marking_definitions(sources, refs, snap):
            definitions[d["id"]] = d
        return refs

    now = datetime.now(UTC)
    objects = from_screening(result, row_refs, markings, assessed=now, created_by_ref=None)
    # Pairs together over the whole window: one object each, marked as a conjunction is.
    objects += from_proximity(result, row_refs, markings, assessed=now, created_by_ref=None)
    for obj in objects:
        a, b = obj["space_object_refs"]
        obj["element_set_refs"] = [used.get(a, a), used.get(b, b)]
    raw = [json.dumps(o).encode() for o in [*definitions.values(), *objects]]
    results = ingest(node.store, snap, principal, collection, raw, "computed:screening")
    stored = sum(1 for r in results if r.ok and r.stored)
    problems = [f"{r.id}: {r.message}" for r in results if not r.ok]
    return stored, problems
