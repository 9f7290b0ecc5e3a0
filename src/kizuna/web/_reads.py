"""What the UI reads, always through the node's gate (:func:`kizuna.node.read_page`).

Every function here takes the policy snapshot and the principal of the request and reads
only what :func:`read_page` releases to that principal; nothing reads the store otherwise.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec

from kizuna.node import Node, Released, Snapshot, read_page, unseen_definitions
from kizuna.policy.principal import Principal
from kizuna.store.types import Collection, ObjectQuery, VersionMatch

#: Types whose objects point at others and are listed on the pages of what they point at.
LINKING_TYPES = ("relationship", "sighting", "note", "opinion", "report", "grouping")
#: How many visible versions a page scans at most for links, counts and what is new.
SCAN_CAP = 20_000


@dataclass(slots=True)
class Item:
    """One released version, decoded, with the collection it was read from."""

    collection: Collection
    released: Released
    obj: dict[str, Any] = field(default_factory=dict)

    @property
    def added_us(self) -> int:
        return self.released.row.added_us

    @property
    def version_us(self) -> int:
        return self.released.row.version_us or self.released.row.added_us

    @property
    def origin(self) -> str:
        return self.released.row.origin


def decode(collection: Collection, released: Released) -> Item:
    obj = msgspec.json.decode(released.body)
    return Item(collection, released, obj if isinstance(obj, dict) else {})


def readable_collections(snap: Snapshot, principal: Principal) -> list[Collection]:
    return [
        c
        for c in snap.collections.values()
        if snap.gate.access(principal, c.id).can_read
    ]


def private_markings(
    node: Node, snap: Snapshot, principal: Principal, refs: Iterable[str]
) -> frozenset[str]:
    """Of markings *refs*, those whose meaning *principal* may not learn (a statement's
    text, an exercise marking's name under an id of its own: docs/policy.md, Rule 6); the
    pages show them by kind only (``_views.marking_labels``)."""
    return unseen_definitions(node.store, snap, principal, set(refs))


def writable_collections(snap: Snapshot, principal: Principal) -> list[Collection]:
    return [
        c
        for c in snap.collections.values()
        if snap.gate.access(principal, c.id).can_write and c.kind != "definitions"
    ]


def scan(
    node: Node,
    snap: Snapshot,
    principal: Principal,
    collection: Collection,
    *,
    types: Sequence[str] = (),
    after_us: int | None = None,
    versions: VersionMatch | None = None,
    cap: int = SCAN_CAP,
    batch: int = 500,
) -> Iterator[Item]:
    """The visible versions of *collection*, in the order they were added, at most *cap*."""
    for released in scan_released(node, snap, principal, collection, types=types,
                                  after_us=after_us, versions=versions, cap=cap, batch=batch):
        yield decode(collection, released)


def scan_released(
    node: Node,
    snap: Snapshot,
    principal: Principal,
    collection: Collection,
    *,
    types: Sequence[str] = (),
    after_us: int | None = None,
    versions: VersionMatch | None = None,
    cap: int = SCAN_CAP,
    batch: int = 500,
) -> Iterator[Released]:
    """:func:`scan`'s versions as released, not decoded (for what needs only their rows)."""
    seen = 0
    after = after_us
    while seen < cap:
        query = ObjectQuery(
            collection.id,
            after_us=after,
            types=tuple(types),
            versions=versions or VersionMatch(),
        )
        page = read_page(node.store, snap, principal, collection, query, min(batch, cap - seen))
        yield from page.items
        seen += len(page.items)
        if not page.more or page.last_added is None:
            return
        after = page.last_added


def versions_of(
    node: Node, snap: Snapshot, principal: Principal, stix_id: str
) -> list[Item]:
    """Every version of *stix_id* the principal may receive, in every collection it may
    read, newest first (one entry per version: the first collection that holds it)."""
    found: dict[int, Item] = {}
    for c in readable_collections(snap, principal):
        query = ObjectQuery(c.id, ids=(stix_id,), versions=VersionMatch(all=True))
        page = read_page(node.store, snap, principal, c, query, 1000)
        for released in page.items:
            item = decode(c, released)
            found.setdefault(item.version_us, item)
    return [found[v] for v in sorted(found, reverse=True)]


def objects_by_id(
    node: Node, snap: Snapshot, principal: Principal, ids: Sequence[str]
) -> dict[str, Item]:
    """The latest visible version of each of *ids* the principal may see (others absent)."""
    out: dict[str, Item] = {}
    wanted = list(dict.fromkeys(ids))[:500]
    if not wanted:
        return out
    for c in readable_collections(snap, principal):
        query = ObjectQuery(c.id, ids=tuple(wanted))
        page = read_page(node.store, snap, principal, c, query, len(wanted))
        for released in page.items:
            item = decode(c, released)
            have = out.get(released.row.stix_id)
            if have is None or have.version_us < item.version_us:
                out[released.row.stix_id] = item
    return out


def refs_of(obj: dict[str, Any]) -> list[tuple[str, str]]:
    """(property, id) of every reference *obj* makes at its top level."""
    out: list[tuple[str, str]] = []
    for key, value in obj.items():
        if key in ("id", "object_marking_refs", "created_by_ref"):
            continue
        if key.endswith("_ref") and isinstance(value, str):
            out.append((key, value))
        elif key.endswith("_refs") and isinstance(value, list):
            out.extend((key, v) for v in value if isinstance(v, str))
    return out


@dataclass(slots=True)
class _Links:
    expires: float
    cursor: int | None
    items: dict[str, Item] = field(default_factory=dict)  # stix id -> latest visible version
    targets: dict[str, set[str]] = field(default_factory=dict)  # referenced id -> stix ids
    scanned: int = 0


#: Linking objects released to a principal, per (node, principal, collection, policy
#: generation), keyed by the whole principal as every cache of what one may see:
#: built by one scan, then brought up to date by reading only what was added since.
#: It holds only which ids to ask for: :func:`linking` reads those again through the gate and
#: keeps what still refers to the object, so no write after the scan (a deletion, a newer
#: version under other markings or without the reference, a target made hidden, a revoked
#: grant or a new policy generation) shows what the gate no longer releases. What it may miss
#: until LINKS_SECONDS pass: a linking version withheld when scanned and released since, and
#: the older version a deletion makes the latest again when it refers elsewhere.
_LINKS: dict[tuple[str, Principal, str, int], _Links] = {}
_LINKS_LOCK = threading.Lock()
#: After this long the scan starts again (versions deleted meanwhile are then forgotten).
LINKS_SECONDS = 300.0
#: The most linking versions kept per principal and collection.
LINKS_CAP = 200_000


def _links(node: Node, snap: Snapshot, principal: Principal, c: Collection) -> _Links:
    key = (str(node.directory), principal, c.id, snap.generation)
    with _LINKS_LOCK:
        state = _LINKS.get(key)
        if state is None or state.expires < time.monotonic():
            if len(_LINKS) > 256:
                _LINKS.clear()
            state = _LINKS[key] = _Links(time.monotonic() + LINKS_SECONDS, None)
        last = state.cursor
        for item in scan(node, snap, principal, c, types=LINKING_TYPES, after_us=last, batch=2000,
                         cap=max(LINKS_CAP - state.scanned, 0)):
            sid = item.released.row.stix_id
            old = state.items.get(sid)
            if old is not None and old.version_us > item.version_us:
                continue
            if old is not None:
                for _, target in refs_of(old.obj):
                    state.targets.get(target, set()).discard(sid)
            state.items[sid] = item
            for _, target in refs_of(item.obj):
                state.targets.setdefault(target, set()).add(sid)
            state.cursor = max(state.cursor or 0, item.added_us)
            state.scanned += 1
        return state


def linking(
    node: Node, snap: Snapshot, principal: Principal, stix_id: str
) -> tuple[list[Item], bool]:
    """The latest visible relationships, sightings, notes, opinions, reports and groupings
    that refer to *stix_id*, and whether the scan stopped at its cap before the end."""
    out: list[Item] = []
    capped = False
    for c in readable_collections(snap, principal):
        state = _links(node, snap, principal, c)
        cached = sorted(state.targets.get(stix_id, ()))
        capped = capped or state.scanned >= LINKS_CAP
        if not cached:
            continue
        # What the cache remembers is read again through the gate: an object stored since
        # (in any collection) may have hidden what a cached version refers to, which then
        # withholds it or removes the reference (docs/policy.md, Rule 4).
        query = ObjectQuery(c.id, ids=tuple(cached))
        page = read_page(node.store, snap, principal, c, query, len(cached))
        fresh = [decode(c, released) for released in page.items]
        out.extend(sorted(
            (i for i in fresh if any(target == stix_id for _, target in refs_of(i.obj))),
            key=lambda i: i.released.row.stix_id,
        ))
    return out, capped
