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

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from kizuna.cyber import normalize
from kizuna.cyber.observables import observables
from kizuna.cyber.values import value_key
from kizuna.errors import BadRequest
from kizuna.node import Node, Released, Snapshot, matches, object_text, read_page, terms
from kizuna.policy.principal import Principal
from kizuna.store.types import Collection, ObjectQuery

__all__ = ["Found", "SearchResult", "lookup", "observable_of", "search", "terms"]

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
    #: True when more than the cap were found (the principal receives them all).
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
    keep: Callable[[Found], bool] | None = None,
) -> SearchResult:
    """The objects *principal* may see whose text holds every term of *query*, of *types*
    (empty: any) in *collections* (ids; empty: every collection it may read): the first
    *limit*, newest first, and how many (counted up to *cap*). *keep*, when given, says
    which of them count (a filter on what was released: its markings, origin, date)."""
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
    readable = _readable(snap, principal, collections)
    found: list[Found] = []
    decided: set[tuple[str, str]] = set()
    before: int | None = None
    # "More than cap" is said only of what the principal receives: past cap found, the search
    # goes on until one more is (never on a candidate of the index, which the gate or *keep*
    # may yet refuse: that would tell of objects it may not see).
    while len(found) <= cap:
        hits = node.store.search_hits(
            wanted, readable, types=types, before_us=before, limit=_BATCH
        )
        if not hits:
            break
        before = hits[-1][0]
        for cid, ids in _undecided(((cid, i) for _, cid, i, _ in hits), decided).items():
            found.extend(
                f for f in _latest_matching(node, snap, principal, snap.collections[cid], ids, wanted)
                if keep is None or keep(f)
            )
    found.sort(key=lambda f: f.released.row.added_us, reverse=True)
    return SearchResult(found[:limit], min(len(found), cap), len(found) > cap)


def _readable(
    snap: Snapshot, principal: Principal, collections: Sequence[str]
) -> dict[str, frozenset[int] | None]:
    """What *principal* may read, narrowed to *collections* (ids; empty: every one)."""
    readable = snap.readable(principal)
    if not collections:
        return readable
    wanted = set(collections)
    return {c: s for c, s in readable.items() if c in wanted}


def _undecided(
    found: Iterable[tuple[str, str]], decided: set[tuple[str, str]]
) -> dict[str, list[str]]:
    """The (collection, id) pairs of *found* not in *decided*, by collection, in order; each
    is added to *decided*."""
    todo: dict[str, list[str]] = {}
    for cid, stix_id in found:
        if (cid, stix_id) not in decided:
            decided.add((cid, stix_id))
            todo.setdefault(cid, []).append(stix_id)
    return todo


def _latest_matching(
    node: Node,
    snap: Snapshot,
    principal: Principal,
    collection: Collection,
    ids: list[str],
    wanted: list[str],
) -> list[Found]:
    """The latest released version of each of *ids* in *collection*, when it matches."""
    return [
        f for f in _latest(node, snap, principal, collection, ids)
        if matches(object_text(f.obj), wanted)
    ]


def _latest(
    node: Node, snap: Snapshot, principal: Principal, collection: Collection, ids: list[str]
) -> list[Found]:
    """The latest version of each of *ids* in *collection* that *principal* receives."""
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
            if isinstance(obj, dict):
                out.append(Found(collection, released, obj))
    return out

#: Hash lengths (hexadecimal digits) and the algorithm they are taken for.
_HASHES = {32: "MD5", 40: "SHA-1", 64: "SHA-256", 128: "SHA-512"}
_HEX = re.compile(r"[0-9a-fA-F]+")
_DOMAIN = re.compile(r"(?:[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?\.)+[a-z0-9-]{2,}")


def observable_of(text: str) -> tuple[str, str] | None:
    """(kind, value) when *text* is one observable (an IP address or network, a URL, an
    e-mail address, a domain name, an MD5/SHA-1/SHA-256/SHA-512 hash), normalized as the
    value index keeps it (defanged forms refanged); None otherwise.

    >>> observable_of("hxxp://Evil[.]Example/a")
    ('url', 'http://evil.example/a')
    >>> observable_of("203.0.113.9/24"), observable_of("EVIL.example.")
    (('ipv4-net', '203.0.113.0/24'), ('domain-name', 'evil.example'))
    >>> observable_of("powershell") is None
    True
    """
    raw = text.strip()
    if not raw or any(c.isspace() for c in raw):
        return None
    plain = normalize.refang(raw)
    ip = normalize.address(plain)
    if ip is not None:
        return ip
    if len(plain) in _HASHES and _HEX.fullmatch(plain):
        algorithm = _HASHES[len(plain)]
        return (f"hash:{algorithm}", normalize.digest(algorithm, plain))
    if "://" in plain:
        return ("url", normalize.url(plain))
    if "@" in plain:
        mail = normalize.email(plain)
        return ("email-addr", mail) if mail else None
    name = normalize.domain(plain)
    if name and _DOMAIN.fullmatch(name) and not name.replace(".", "").isdigit():
        return ("domain-name", name)
    return None


def lookup(
    node: Node,
    principal: Principal,
    kind: str,
    value: str,
    *,
    types: Sequence[str] = (),
    collections: Sequence[str] = (),
    limit: int = 50,
    cap: int = 1000,
    snap: Snapshot | None = None,
    keep: Callable[[Found], bool] | None = None,
) -> SearchResult:
    """The objects *principal* may see that carry the observable (*kind*, *value*: as
    :func:`observable_of` gives it) in their latest version it may receive, through the
    value index and then the gate; arguments as :func:`search`'s."""
    if node.store.value_keys is None:
        raise BadRequest(
            "this node does not keep the value index (value_index = false in kizuna.toml): "
            "set it to true; the index is filled when the node next opens"
        )
    snap = snap or node.snapshot()
    readable = _readable(snap, principal, collections)
    key = value_key(kind, value)
    found: list[Found] = []
    decided: set[tuple[str, str]] = set()
    position = -1
    more = False
    while True:
        entries = node.store.value_entries([key], readable, after_us=position, limit=_BATCH)
        if entries:
            position = entries[-1][1]
        for cid, ids in _undecided(((cid, i) for _, _, cid, i in entries), decided).items():
            for f in _latest_holding(node, snap, principal, snap.collections[cid], ids, kind, value):
                if (not types or f.released.row.type in types) and (keep is None or keep(f)):
                    found.append(f)
        if len(found) > cap:
            more = True
            break
        if len(entries) < _BATCH:
            break
    found.sort(key=lambda f: f.released.row.added_us, reverse=True)
    return SearchResult(found[:limit], min(len(found), cap), more)


def _latest_holding(
    node: Node,
    snap: Snapshot,
    principal: Principal,
    collection: Collection,
    ids: list[str],
    kind: str,
    value: str,
) -> list[Found]:
    """The latest released version of each of *ids* in *collection*, when it carries the
    value (a key may collide; a granular marking may have removed the field)."""
    out: list[Found] = []
    for f in _latest(node, snap, principal, collection, ids):
        if any(o.kind == kind and o.value == value for o in observables(f.obj)):
            out.append(f)
    return out
