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
from kizuna.policy.gate import referenced_ids
from kizuna.policy.principal import Principal
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
    pending = [(r, msgspec.json.decode(r.body)) for r in rows if r.needs_redaction]
    hidden_cache: dict[str, bool] = {}

    def hidden(ids: AbstractCollection[str]) -> set[str]:
        todo = [i for i in ids if i not in hidden_cache]
        if todo:
            known = store.known_ids(todo)
            visible = store.visible_ids(sorted(known), snap.readable(principal)) if known else set()
            for i in todo:
                hidden_cache[i] = i in known and i not in visible
        return {i for i in ids if hidden_cache[i]}

    if pending:
        # One lookup for every reference of the batch, then per-object decisions from cache.
        every: set[str] = set()
        for _, obj in pending:
            every |= referenced_ids(obj)
        hidden(sorted(every))
    decided: dict[int, bytes | None] = {}
    for row, obj in pending:
        before = msgspec.json.encode(obj)
        result = snap.gate.release(principal, view, obj, hidden)
        if result is None:
            decided[row.added_us] = None
        else:
            after = msgspec.json.encode(result)
            decided[row.added_us] = row.body if after == before else after
    out: list[Released] = []
    for r in rows:
        if r.added_us in decided:
            body = decided[r.added_us]
            if body is not None:
                out.append(Released(r, body))
        else:
            out.append(Released(r, r.body))
    return out
