"""A write transaction its caller holds: versions, a sync cursor and a status, one commit.

``SqlStore.transaction()`` enters the write critical section (store/_base.py) and gives a
:class:`Transaction`; what the caller writes through it is committed together when the block
ends, or not at all. A TAXII POST stores its objects and then its status resource, made from
their outcomes, in one transaction; a peer pull its objects and its cursor.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select

from kizuna.stix.timestamps import now_micros
from kizuna.store import schema
from kizuna.store.types import Outcome, StatusRow, SyncCursor, VersionBatch

if TYPE_CHECKING:
    from kizuna.store.sql import SqlStore

#: The statement that inserts versions, for a driver's paramstyle ("?" or "%s").
INSERT_COLUMNS = (
    "added_us",
    "collection_id",
    "stix_id",
    "type",
    "version_us",
    "spec_version",
    "marking_set",
    "needs_redaction",
    "origin",
    "body",
    "id_key",
)


class Transaction:
    """Writes inside one open transaction of the store (use ``SqlStore.transaction()``)."""

    def __init__(self, store: SqlStore, conn: Connection) -> None:
        self._store = store
        self._conn = conn
        #: The recent ids to record once committed: (merged up to, or None; (added_us, key)).
        self._recent: tuple[int | None, list[tuple[int, int]]] | None = None
        #: The collection and the marking set of each version stored.
        self._sets: tuple[str, list[int]] | None = None

    def add_versions(self, batch: VersionBatch) -> list[tuple[Outcome, int]]:
        """Store *batch*; per item, STORED or DUPLICATE and its ``added_us``.

        A version (collection, id, version) that is already stored, or that repeats earlier
        in the batch, is a DUPLICATE and keeps the stored bytes: re-posting is idempotent.
        ``batch.visible`` are the marking sets the writer may see (None: all). A version
        stored only under marking sets hidden from the writer is not a duplicate for it: the
        writer's copy is stored beside it (same id and version, its own marking set), so the
        answer does not reveal that a hidden version exists. Once per transaction.
        """
        if self._recent is not None:
            raise RuntimeError("a transaction adds one batch of versions")
        store, conn = self._store, self._conn
        self._recent = (None, [])
        if not batch.items:
            return []
        keys, visible, collection_id = batch.keys, batch.visible, batch.collection_id
        store._put_marking_definitions(conn, batch.marking_definitions)
        groups = store._existing(conn, collection_id, keys)
        last = store._query(conn, "SELECT max(added_us) FROM versions")[0][0] or 0
        first_us = next_us = max(now_micros(), last + 1)
        rows: list[tuple[Any, ...]] = []
        results: list[tuple[Outcome, int]] = []
        set_ids: dict[tuple[str, ...], int] = {}  # objects of a batch share few sets
        stored: list[tuple[int, int]] = []  # (index in items, added_us)
        for index, item in enumerate(batch.items):
            marking_set = set_ids.get(item.marking_refs)
            if marking_set is None:
                marking_set = store._marking_set_id(conn, item.marking_refs)
                set_ids[item.marking_refs] = marking_set
            group = groups.setdefault(item.stix_id, [])
            same = [
                added
                for version_us, added, ms in group
                if version_us == item.version_us
                and (visible is None or ms in visible or ms == marking_set)
            ]
            if same:
                results.append((Outcome.DUPLICATE, same[0]))
                continue
            group.append((item.version_us, next_us, marking_set))
            rows.append(
                (
                    next_us,
                    collection_id,
                    item.stix_id,
                    item.type,
                    item.version_us,
                    item.spec_version,
                    marking_set,
                    item.needs_redaction,
                    batch.origin,
                    item.body,
                    keys[item.stix_id],
                )
            )
            results.append((Outcome.STORED, next_us))
            stored.append((index, next_us))
            next_us += 1
        if rows:
            # The driver's executemany with plain tuples: per-row work stays in C.
            mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
            conn.exec_driver_sql(
                f"INSERT INTO versions ({', '.join(INSERT_COLUMNS)}) "
                f"VALUES ({', '.join([mark] * len(INSERT_COLUMNS))})",
                rows,
            )
            store._index_new(conn, groups, keys, first_us)
            store._enter_values(conn, store._value_entries(batch.values, stored))
            store._enter_text(conn, batch.texts, stored)
            store._changed(conn, collection_id)
        new = [(r[0], r[10]) for r in rows]  # (added_us, key)
        self._sets = (collection_id, [r[6] for r in rows])
        recent = store._recent_ids
        upto = None
        if (
            recent is not None
            and new
            and recent.merge_due(len(new), store.merge_rows, store.merge_fraction)
        ):
            upto = next_us - 1
            store._merge_recent(conn, upto, len(recent) + len(new))
        self._recent = (upto, new)
        return results

    def marking_definition_bodies(self, ids: Sequence[str]) -> dict[str, bytes]:
        """The stored marking-definitions of *ids*, read under the write lock (what other
        writers stored since a batch was judged)."""
        t = schema.marking_definitions
        rows = self._conn.execute(select(t.c.id, t.c.body).where(t.c.id.in_(list(ids))))
        return {r[0]: bytes(r[1]) for r in rows}

    def set_cursor(self, cursor: SyncCursor) -> None:
        """Where a sync with a peer has got to, committed with what it brought."""
        self._store._set_cursor(self._conn, cursor)

    def put_status(self, status: StatusRow) -> None:
        """A TAXII status resource, committed with the objects it reports on."""
        self._store._insert_status(
            self._conn, status.id, status.collection_id, status.principal, status.body
        )

    def _committed(self) -> None:
        """After the commit: the new versions join the process's recent ids (SQLite) and the
        counts of versions per marking set (store/_set_rows.py)."""
        if self._sets is not None:
            self._store._counted(*self._sets)
        recent = self._store._recent_ids
        if recent is None or self._recent is None or not self._recent[1]:
            return
        upto, new = self._recent
        with recent.lock:
            if upto is None:
                recent.add(new)
            else:
                recent.merged(upto, new)
