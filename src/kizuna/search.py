"""Full-text search over what a principal may see: the store's index, then the gate.

An object (an id in a collection) is found when the latest version of it that the principal
may receive holds every term of the query (white-space separated, case-insensitive, each a
substring: ``t1059.001``, ``CVE-2024-3400``, ``東京``, ``Фанси``). The store's search index
(``store/_search.py``) finds the candidate versions under the coarse gate, in SQL; each
candidate's latest version is then read through :func:`kizuna.node.read_page` and its text
checked again as released (a granular marking may have removed the field that matched), so
nothing hidden is found or counted.

This is the public surface the CLI (``kizuna search``) and the UI (``/ui/search``) use.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from kizuna.errors import BadRequest
from kizuna.node import Node, Released, Snapshot, matches, object_text, read_page, terms
from kizuna.policy.principal import Principal
from kizuna.store.types import Collection, ObjectQuery

__all__ = ["Found", "SearchResult", "search", "terms"]

#: How many candidate versions one round reads from the index.
_BATCH = 500
#: How many ids one read through the gate asks for.
_IDS = 500


@dataclass(frozen=True, slots=True)
class Found:
    """One object found: the latest version of it the principal may receive."""

    collection: Collection
    released: Released
    obj: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SearchResult:
    #: The first objects found, newest first.
    items: list[Found]
    #: How many objects were found (at most the cap the search was given).
    total: int
    #: True when the search stopped at its cap: more would have been found.
    capped: bool


def search(
    node: Node,
    principal: Principal,
    query: str,
    *,
    types: Sequence[str] = (),
    collections: Sequence[str] = (),
    limit: int = 50,
    cap: int = 1000,
    snap: Snapshot | None = None,
) -> SearchResult:
    """The objects *principal* may see whose text holds every term of *query*, of *types*
    (empty: any) in *collections* (ids; empty: every collection it may read): the first
    *limit*, newest first, and how many (counted up to *cap*)."""
    if node.store.search_text is None:
        raise BadRequest(
            "this node does not keep the search index (search_index = false in kizuna.toml): "
            "set it to true; the index is filled when the node next opens"
        )
    if limit < 1 or cap < limit:
        raise BadRequest(f"a search needs 1 <= limit <= cap; got limit {limit}, cap {cap}")
    wanted = terms(query)
    if not wanted:
        return SearchResult([], 0, False)
    snap = snap or node.snapshot()
    readable = snap.readable(principal)
    if collections:
        readable = {c: s for c, s in readable.items() if c in set(collections)}
    found: list[Found] = []
    decided: set[tuple[str, str]] = set()
    before: int | None = None
    while len(found) < cap:
        hits = node.store.search_hits(
            wanted, readable, types=types, before_us=before, limit=_BATCH
        )
        if not hits:
            return SearchResult(found[:limit], len(found), False)
        before = hits[-1][0]
        todo: dict[str, list[str]] = {}
        for _, cid, stix_id, _ in hits:
            if (cid, stix_id) not in decided:
                decided.add((cid, stix_id))
                todo.setdefault(cid, []).append(stix_id)
        for cid, ids in todo.items():
            found.extend(_latest_matching(node, snap, principal, snap.collections[cid], ids, wanted))
        found.sort(key=lambda f: f.released.row.added_us, reverse=True)
    more = bool(node.store.search_hits(wanted, readable, types=types, before_us=before, limit=1))
    return SearchResult(found[:limit], min(len(found), cap), more or len(found) > cap)


def _latest_matching(
    node: Node,
    snap: Snapshot,
    principal: Principal,
    collection: Collection,
    ids: list[str],
    wanted: list[str],
) -> list[Found]:
    """The latest released version of each of *ids* in *collection*, when it matches."""
    out: list[Found] = []
    for start in range(0, len(ids), _IDS):
        chunk = tuple(ids[start : start + _IDS])
        page = read_page(
            node.store, snap, principal, collection, ObjectQuery(collection.id, ids=chunk),
            2 * len(chunk),
        )
        latest: dict[str, Released] = {}
        for released in page.items:
            have = latest.get(released.row.stix_id)
            if have is None or (have.row.version_us, have.row.added_us) < (
                released.row.version_us,
                released.row.added_us,
            ):
                latest[released.row.stix_id] = released
        for released in latest.values():
            obj = msgspec.json.decode(released.body)
            if isinstance(obj, dict) and matches(object_text(obj), wanted):
                out.append(Found(collection, released, obj))
    return out
