"""Reading through the gate: every way data leaves a node goes through :func:`read_page`.

The store filters by the marking sets the principal may see (the coarse gate, in SQL); this
module applies the fine gate (granular markings, references to hidden objects) and keeps
filling the page until it holds ``limit`` visible objects, so page sizes, ``more`` and the
cursor count only what the principal can see.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from typing import Any

import msgspec

from kizuna.node._hidden import Hidden, required_refs_of
from kizuna.node._snapshot import PUBLIC_KINDS, Snapshot
from kizuna.policy.principal import Principal
from kizuna.policy.refs import identifiers_in, releases_unchanged
from kizuna.policy.required import WITHHOLDABLE_TYPES
from kizuna.store.sql import SqlStore
from kizuna.store.types import Collection, ObjectQuery, StoredVersion, VersionMatch


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
    hidden = None if principal.is_admin else Hidden(store, snap, principal)
    m = q.versions
    picking = hidden is not None and not m.all and (m.first or m.last)
    if picking:
        # The first and last version a principal receives is decided after the fine pass,
        # which may withhold versions of these types: the store gives all their versions.
        q = replace(q, versions=replace(m, every_version_of=tuple(sorted(WITHHOLDABLE_TYPES))))
    out: list[Released] = []
    cursor = q.after_us
    want = limit + 1  # one more than asked, to know whether more follow
    while len(out) < want:
        fetch = max(want - len(out), 16)
        asked = replace(q, after_us=cursor, limit=fetch)
        rows = store.query(asked)
        if not rows:
            break
        cursor = rows[-1].added_us
        batch = _picked(store, asked, rows, hidden) if picking and hidden is not None else rows
        out.extend(release(store, snap, principal, collection, batch, hidden))
        if len(rows) < fetch:
            break
    if hidden is not None and q.ids and not out and not hidden.lookups:
        # Nothing to answer for these ids: absent, hidden by markings, or withheld. Deciding
        # that one was withheld asked where its references are stored; the same question
        # about the ids themselves makes the other two cost as much (docs/policy.md, Rule 5).
        hidden.placements(q.ids)
    return Page(items=out[:limit], more=len(out) > limit)


def _picked(
    store: SqlStore, q: ObjectQuery, rows: list[StoredVersion], hidden: Hidden
) -> list[StoredVersion]:
    """*rows* (the answer to *q*) without the versions of withholdable objects that are not
    the first or last (as *q* asks) of the versions the principal receives in the collection,
    nor one it names (``match[version]`` timestamps)."""
    ids = sorted({r.stix_id for r in rows if r.type in WITHHOLDABLE_TYPES})
    if not ids:
        return rows
    received: dict[str, list[int]] = {}
    if q.ids and q.after_us is None and not q.spec_versions and len(rows) < q.limit:
        # A read of these ids alone (GET object): the rows are every version of them.
        _receive(received, [r for r in rows if r.type in WITHHOLDABLE_TYPES], hidden)
        ids = []
    else:
        # An id with one version the principal may see by its markings has that one as its
        # first and last, unless withheld, which release() decides: only the others need
        # their every version read.
        several = store.several_versions(ids, q.marking_sets)
        for r in rows:
            if r.type in WITHHOLDABLE_TYPES and r.stix_id not in several:
                received[r.stix_id] = [r.version_us]
        ids = sorted(several)
    for start in range(0, len(ids), 500):
        chunk = tuple(ids[start : start + 500])
        after = None
        while True:
            every = store.query(
                ObjectQuery(
                    q.collection_id,
                    after_us=after,
                    ids=chunk,
                    versions=VersionMatch(all=True),
                    marking_sets=q.marking_sets,
                    limit=1000,
                )
            )
            _receive(received, every, hidden)
            if len(every) < 1000:
                break
            after = every[-1].added_us
    m = q.versions
    wanted: dict[str, set[int]] = {}
    for oid, versions in received.items():
        chosen = wanted[oid] = set()
        if m.last:
            chosen.add(max(versions))
        if m.first:
            chosen.add(min(versions))
    return [
        r
        for r in rows
        if r.type not in WITHHOLDABLE_TYPES
        or r.version_us in wanted.get(r.stix_id, ())
        or r.version_us in m.at
    ]


def _receive(received: dict[str, list[int]], rows: list[StoredVersion], hidden: Hidden) -> None:
    """Add to *received* the versions of *rows* the fine pass does not withhold (their
    references looked up together)."""
    withheld = hidden.withheld([required_refs_of(r.body) for r in rows])
    for r, gone in zip(rows, withheld, strict=True):
        if not gone:
            received.setdefault(r.stix_id, []).append(r.version_us)


def release(
    store: SqlStore,
    snap: Snapshot,
    principal: Principal,
    collection: Collection,
    rows: list[StoredVersion],
    hidden: Hidden | None = None,
) -> list[Released]:
    """The fine gate over a batch of rows that passed the coarse one."""
    if principal.is_admin:
        return [Released(r, r.body) for r in rows]
    view = snap.view(collection)
    if hidden is None:
        hidden = Hidden(store, snap, principal)
    if collection.kind in PUBLIC_KINDS:
        # The definitions collection: each marking-definition to whom it may mark for.
        readable = [
            snap.view(c)
            for c in snap.collections.values()
            if snap.gate.access(principal, c.id).can_read
        ]
        rows = [
            r
            for r in rows
            if r.type != "marking-definition"
            or snap.gate.definition_visible(principal, r.stix_id, readable)
        ]
    # Every object of the batch passed the coarse gate: the principal receives a version of
    # each (unless the fine pass may withhold objects of its type).
    hidden.received(r.stix_id for r in rows)
    pending = [r for r in rows if r.needs_redaction]
    decided: dict[int, bytes | None] = {}
    if pending:
        # The identifiers in each body, found in the bytes: a superset of its references
        # (an id the scan misses, behind a \u escape, is looked up when the gate asks).
        # One lookup for the whole batch, then per-object decisions from what it learnt.
        found: dict[int, set[str]] = {}
        every: set[str] = set()
        for r in pending:
            ids = identifiers_in(r.body)
            ids.discard(r.stix_id)  # its own id: this version is what is being decided
            found[r.added_us] = ids
            every |= ids
        hidden.learn(every)
        for row in pending:
            named = any(hidden.is_hidden(i) for i in found[row.added_us])
            if named and row.type in WITHHOLDABLE_TYPES and hidden.withholds(
                required_refs_of(row.body)
            ):
                # Withheld for a required reference (what the gate would decide, from the
                # references alone): the whole object need not be decoded.
                decided[row.added_us] = None
                continue
            if releases_unchanged(row.body, named):
                decided[row.added_us] = row.body
                continue
            obj = _decoded(row.body)
            result = snap.gate.release(principal, view, obj, hidden)
            if result is None:
                decided[row.added_us] = None
            elif not named and b"\\u" not in row.body and _same(result, row.body):
                decided[row.added_us] = row.body  # unchanged: the stored bytes go out
            else:
                # Re-encoded from what the gate released: stored bytes that name a hidden
                # id, or spell one behind an escape, never go out (a repeated key, which
                # the decoded object does not show, may hold it).
                decided[row.added_us] = _encoded(result)
    out: list[Released] = []
    for r in rows:
        if r.added_us in decided:
            body = decided[r.added_us]
            if body is not None:
                out.append(Released(r, body))
        else:
            out.append(Released(r, r.body))
    return out


#: Python's recursion limit while an object too deep for the default is decoded. Ingest
#: refuses objects nested past ``stix.limits.MAX_OBJECT_DEPTH``; versions stored before it
#: did were decoded at ingest under the default limit (1,000), so they are less deep.
_DEEP_LIMIT = 5000


def _decoded(body: bytes) -> Any:
    try:
        return msgspec.json.decode(body)
    except RecursionError:
        _deeper()
        return msgspec.json.decode(body)


def _same(obj: Any, body: bytes) -> bool:
    try:
        return bool(obj == _decoded(body))
    except RecursionError:
        _deeper()
        return bool(obj == _decoded(body))


def _encoded(obj: Any) -> bytes:
    try:
        return msgspec.json.encode(obj)
    except RecursionError:
        _deeper()
        return msgspec.json.encode(obj)


def _deeper() -> None:
    if sys.getrecursionlimit() < _DEEP_LIMIT:
        sys.setrecursionlimit(_DEEP_LIMIT)
