"""Reading through the gate: every way data leaves a node goes through :func:`read_page`.

The store filters by the marking sets the principal may see (the coarse gate, in SQL); this
module applies the fine gate (granular markings, references to hidden objects) and keeps
filling the page until it holds ``limit`` visible objects, so page sizes, ``more`` and the
cursor count only what the principal can see.
"""

from __future__ import annotations

from collections.abc import Collection as AbstractCollection
from dataclasses import dataclass, replace

import msgspec

from kizuna.node._snapshot import Snapshot
from kizuna.policy.principal import Principal
from kizuna.policy.refs import identifiers_in, releases_unchanged
from kizuna.store.sql import SqlStore
from kizuna.store.types import Collection, ObjectQuery, StoredVersion


@dataclass(frozen=True, slots=True)
class Released:
    """One object version as a principal may receive it."""

    row: StoredVersion
    body: bytes


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Released]
    more: bool

    @property
    def last_added(self) -> int | None:
        return self.items[-1].row.added_us if self.items else None


def read_page(
    store: SqlStore,
    snap: Snapshot,
    principal: Principal,
    collection: Collection,
    query: ObjectQuery,
    limit: int,
) -> Page:
    """Up to *limit* visible versions matching *query*, and whether more follow."""
    visible = snap.visible_sets(principal, collection)
    q = replace(query, collection_id=collection.id, marking_sets=visible)
    out: list[Released] = []
    cursor = q.after_us
    want = limit + 1  # one more than asked, to know whether more follow
    while len(out) < want:
        fetch = max(want - len(out), 16)
        rows = store.query(replace(q, after_us=cursor, limit=fetch))
        if not rows:
            break
        out.extend(release(store, snap, principal, collection, rows))
        cursor = rows[-1].added_us
        if len(rows) < fetch:
            break
    return Page(items=out[:limit], more=len(out) > limit)


def release(
    store: SqlStore,
    snap: Snapshot,
    principal: Principal,
    collection: Collection,
    rows: list[StoredVersion],
) -> list[Released]:
    """The fine gate over a batch of rows that passed the coarse one."""
    if principal.is_admin:
        return [Released(r, r.body) for r in rows]
    view = snap.view(collection)
    pending = [r for r in rows if r.needs_redaction]
    # Every object of the batch passed the coarse gate: visible, so not hidden.
    hidden_cache: dict[str, bool] = dict.fromkeys((r.stix_id for r in rows), False)
    readable = snap.readable(principal)

    def lookup(ids: list[str]) -> None:
        # One query answers "stored here?" and "visible to the principal somewhere?".
        placed = store.id_placements(ids)
        known = {i for i, _, _ in placed}
        visible = set()
        for i, cid, mset in placed:
            sets = readable.get(cid, frozenset())
            if sets is None or mset in sets:
                visible.add(i)
        for i in ids:
            hidden_cache[i] = i in known and i not in visible

    def hidden(ids: AbstractCollection[str]) -> set[str]:
        todo = [i for i in ids if i not in hidden_cache]
        if todo:
            lookup(todo)
        return {i for i in ids if hidden_cache[i]}

    decided: dict[int, bytes | None] = {}
    if pending:
        # The identifiers in each body, found in the bytes: a superset of its references
        # (an id the scan misses, behind a \u escape, is looked up when the gate asks).
        # One lookup for the whole batch, then per-object decisions from the cache.
        found: dict[int, set[str]] = {}
        every: set[str] = set()
        for r in pending:
            ids = identifiers_in(r.body)
            ids.discard(r.stix_id)
            found[r.added_us] = ids
            every |= ids
        lookup(sorted(i for i in every if i not in hidden_cache))
        for row in pending:
            if releases_unchanged(row.body, any(hidden_cache[i] for i in found[row.added_us])):
                decided[row.added_us] = row.body
                continue
            obj = msgspec.json.decode(row.body)
            result = snap.gate.release(principal, view, obj, hidden)
            if result is None:
                decided[row.added_us] = None
            elif result == msgspec.json.decode(row.body):
                decided[row.added_us] = row.body  # unchanged: the stored bytes go out
            else:
                decided[row.added_us] = msgspec.json.encode(result)
    out: list[Released] = []
    for r in rows:
        if r.added_us in decided:
            body = decided[r.added_us]
            if body is not None:
                out.append(Released(r, body))
        else:
            out.append(Released(r, r.body))
    return out
