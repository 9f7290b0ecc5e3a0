"""Node mode: read the catalog through the gate as the requesting user, write conjunctions back."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kizuna.errors import InvalidInput
from kizuna.policy.combine import source_marking_refs
from kizuna.space.formats.omm import ElementSet
from kizuna.space.stix import SPACE_OBJECT_TYPE, element_set_of, from_screening

if TYPE_CHECKING:
    from kizuna.space.screening import ScreenResult

__all__ = [
    "SCREENED_FIELDS",
    "NodeCatalog",
    "derived_marking_definitions",
    "open_as",
    "read_catalog",
    "store_conjunctions",
]

#: The properties of a space object a screening reads (its conjunctions derive from them).
SCREENED_FIELDS = ("elements", "norad_cat_id")


@dataclass
class NodeCatalog:
    """The element sets a user may see, records that could not be used, and each object's id
    and markings by catalog number."""

    records: list[ElementSet]
    problems: list[str]
    refs: dict[int, tuple[str, tuple[str, ...]]]  # catalog number -> (STIX id, marking refs)


def open_as(directory: Path, collection_id: str, as_user: str) -> tuple[Any, Any, Any]:
    from kizuna.node import Node

    node = Node.open(directory)
    user = node.store.user(as_user)
    if user is None:
        raise InvalidInput(f"no user {as_user!r} on the node in {directory}")
    return node, node.principal_for(user), node.collection(collection_id)


def read_catalog(node: Any, principal: Any, collection: Any) -> NodeCatalog:
    """The newest version of every space object *principal* may see in *collection*."""
    from kizuna.node import read_page
    from kizuna.store.types import ObjectQuery

    snap = node.snapshot()
    if not snap.gate.access(principal, collection.id).can_read:
        raise InvalidInput(f"{principal.name} may not read collection {collection.id}")
    out = NodeCatalog([], [], {})
    after = None
    while True:
        query = ObjectQuery(collection.id, after_us=after, types=(SPACE_OBJECT_TYPE,))
        page = read_page(node.store, snap, principal, collection, query, 2000)
        for item in page.items:
            obj = json.loads(item.body)
            try:
                es = element_set_of(obj)
            except ValueError as exc:
                out.problems.append(f"{collection.id}: {exc}")
                continue
            out.records.append(es)
            # The conjunction is computed from the elements: their granular markings count.
            marks = tuple(source_marking_refs(obj, SCREENED_FIELDS))
            if es.norad_cat_id is not None:
                out.refs[es.norad_cat_id] = (str(obj["id"]), marks)
        if not page.more or page.last_added is None:
            return out
        after = page.last_added


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
) -> tuple[int, list[str]]:
    """Conjunction objects for every event, each marked no more releasable than either of its
    two space objects (kizuna.policy.combine.derived_refs), ingested as *principal*."""
    from kizuna.node import ingest
    from kizuna.policy.combine import derived_refs

    snap = node.snapshot()
    marks = dict(catalog_refs.values())
    row_refs = [catalog_refs[int(es.norad_cat_id or -1)][0] for es in records]
    definitions: dict[str, dict[str, Any]] = {}

    def markings(a: str, b: str) -> list[str]:
        sources = [list(marks[a]), list(marks[b])]
        refs = derived_refs(sources, snap.markings, snap.communities)
        for d in derived_marking_definitions(sources, refs, snap):
            definitions[d["id"]] = d
        return refs

    objects = from_screening(
        result, row_refs, markings, assessed=datetime.now(UTC), created_by_ref=None
    )
    raw = [json.dumps(o).encode() for o in [*definitions.values(), *objects]]
    results = ingest(node.store, snap, principal, collection, raw, "computed:screening")
    stored = sum(1 for r in results if r.ok and r.stored)
    problems = [f"{r.id}: {r.message}" for r in results if not r.ok]
    return stored, problems
