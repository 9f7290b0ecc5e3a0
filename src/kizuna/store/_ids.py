"""The id index: how the store finds every version of an id.

SQLite keeps it as the table ``id_index`` and enters a fresh version (the only one of its id in
its collection) later, with many others (``store/_recent.py``); PostgreSQL keeps it as an index
of the versions table (``ix_versions_key``). A part of :class:`~kizuna.store.sql.SqlStore`:
the duplicate check of ``add_versions`` and every read by id go through :meth:`IdIndex._existing`
and :meth:`IdIndex._of_keys`.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy import Connection
from sqlalchemy.sql.elements import ColumnElement

from kizuna.store import schema as t
from kizuna.store._base import StoreBase
from kizuna.store._recent import MERGE_FRACTION, MERGE_ROWS, UPTO, RecentIds

log = logging.getLogger(__name__)


class IdIndex(StoreBase):
    """The id index and its recent versions (a part of :class:`~kizuna.store.sql.SqlStore`)."""

    #: Fresh versions kept out of the id index before a writer merges them into it.
    merge_rows = MERGE_ROWS
    #: ... or, when that is more, the merged versions over this (store/_recent.py).
    merge_fraction = MERGE_FRACTION

    #: The keys of the versions not yet in the id index (store/_recent.py), when the adapter
    #: enters fresh versions later (SQLite); None: every version enters it as it is stored
    #: (PostgreSQL).
    _recent_ids: RecentIds | None = None

    def warm(self) -> None:
        """Read the id index's keys and the recent versions now (SQLite), rather than in the
        first request that looks an id up (its time grows with the versions stored)."""
        recent = self._recent_ids
        if recent is None:
            return
        with self._read.connect() as conn, recent.lock:
            self._read_recent(conn, recent)

    def _fill_id_index(self, conn: Connection) -> None:
        """Enter every stored version in a new id index table (SQLite: a database made before
        it had an index of the versions table instead, which ``create_schema`` then drops)."""
        conn.exec_driver_sql(
            "INSERT INTO id_index (id_key, version_us, marking_set, added_us) "
            "SELECT id_key, version_us, marking_set, added_us FROM versions "
            "ORDER BY id_key, version_us, marking_set, added_us"
        )
        last = self._query(conn, "SELECT max(added_us) FROM versions")[0][0] or 0
        self._put_setting(conn, UPTO, str(last))

    def _index_new(
        self,
        conn: Connection,
        groups: dict[str, list[tuple[int, int, int]]],
        keys: dict[str, int],
        first_us: int,
    ) -> None:
        """SQLite: enter the versions of each id that now has two or more in the collection
        (those from *first_us* were just stored) in the id index; a fresh version (the only
        one of its id in the collection) waits for the next merge (store/_recent.py).

        *groups* holds every version of each id of the batch in the collection, as
        (version_us, added_us, marking_set). An id with two or more of them has all of
        them in the index (entered again, they are ignored), so that ``match[version]``'s
        question is answered by the index alone.
        """
        if self._recent_ids is None:
            return  # PostgreSQL: its index of the versions has them
        entries: list[tuple[int, int, int, int]] = []
        for stix_id, group in groups.items():
            if len(group) > 1 and any(added >= first_us for _, added, _ in group):
                key = keys[stix_id]
                entries.extend((key, version_us, ms, added) for version_us, added, ms in group)
        if entries:
            conn.exec_driver_sql(
                "INSERT INTO id_index (id_key, version_us, marking_set, added_us) "
                "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                sorted(entries),
            )

    def _merge_recent(self, conn: Connection, upto: int, count: int) -> None:
        """Enter every version stored since the last merge in the id index, sorted (each of
        its pages then changes about once), and note that it holds them up to *upto*."""
        recent = self._recent_ids
        assert recent is not None
        started = time.perf_counter()
        self._query(
            conn,
            "INSERT INTO id_index (id_key, version_us, marking_set, added_us) "
            "SELECT id_key, version_us, marking_set, added_us FROM versions "
            "WHERE added_us > ? ORDER BY id_key, version_us, marking_set, added_us "
            "ON CONFLICT DO NOTHING",
            (recent.upto,),
        )
        self._put_setting(conn, UPTO, str(upto))
        log.info(
            "entered %d recent versions in the id index in %.2f s",
            count,
            time.perf_counter() - started,
        )

    def _existing(
        self, conn: Connection, collection_id: str, keys_of: dict[str, int]
    ) -> dict[str, list[tuple[int, int, int]]]:
        """Every stored (version_us, added_us, marking_set) in the collection of each id
        that *keys_of* maps to its key."""
        found: dict[str, list[tuple[int, int, int]]] = {}
        keys = sorted(set(keys_of.values()))
        if self._recent_ids is None:
            # PostgreSQL: by its index of the versions' keys (|| '': not by the collection's
            # index, which would walk the collection).
            by, values = "id_key", keys
            collection = "collection_id || ''"
        else:
            by, values = "added_us", self._added_of(conn, keys)
            collection = "collection_id"
        for start in range(0, len(values), 500):
            chunk = values[start : start + 500]
            rows = self._query(
                conn,
                "SELECT stix_id, version_us, added_us, marking_set FROM versions "
                f"WHERE {by} IN ({','.join('?' * len(chunk))}) AND {collection} = ?",
                (*chunk, collection_id),
            )
            for stix_id, version_us, added_us, marking_set in rows:
                if stix_id in keys_of:  # not an id that only shares a key
                    found.setdefault(stix_id, []).append((version_us, added_us, marking_set))
        return found

    def _of_keys(
        self, conn: Connection, keys: list[int], marking_sets: frozenset[int] | None = None
    ) -> ColumnElement[bool] | None:
        """The versions whose id key is one of *keys*, as a condition; None when there are
        none. PostgreSQL: by its index of the versions' keys; SQLite: the ``added_us`` that
        its recent versions and its id index give. With *marking_sets*, the id index's
        entries under other sets are left out (the caller's statement filters by them too):
        a version hidden from the reader is then not read, as an absent one is not."""
        if self._recent_ids is None:
            return t.versions.c.id_key.in_(keys)
        added = self._added_of(conn, keys, marking_sets)
        return t.versions.c.added_us.in_(added) if added else None

    def _added_of(
        self, conn: Connection, keys: list[int], marking_sets: frozenset[int] | None = None
    ) -> list[int]:
        """The ``added_us`` of every stored version whose id key is one of *keys*, sorted:
        from the recent versions, and from the id index for the keys it may hold (under
        *marking_sets* only, when given)."""
        found: set[int] = set()
        recent = self._recent_ids
        if recent is not None:
            with recent.lock:
                self._read_recent(conn, recent)
                added, keys = recent.lookup(keys)
            found.update(added)
        sets = "" if marking_sets is None else ",".join(str(int(m)) for m in sorted(marking_sets))
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            sql = f"SELECT added_us FROM id_index WHERE id_key IN ({','.join('?' * len(chunk))})"
            if marking_sets is not None:
                sql += f" AND marking_set IN ({sets or '-1'})"
            rows = self._query(conn, sql, chunk)
            found.update(r[0] for r in rows)
        return sorted(found)

    def _read_recent(self, conn: Connection, recent: RecentIds) -> None:
        """Bring *recent* up to the versions committed (called with ``recent.lock`` held)."""
        rows = self._query(conn, 'SELECT value FROM settings WHERE "key" = ?', (UPTO,))
        upto = int(rows[0][0]) if rows else 0
        since = "SELECT added_us, id_key FROM versions WHERE added_us > ?"
        if not recent.started:
            # The keys are read after upto: they hold at least those of every version up to it.
            recent.start(upto, (r[0] for r in self._query(conn, "SELECT id_key FROM id_index")))
        elif upto > recent.upto:
            unseen = (
                self._query(conn, f"{since} AND added_us <= ?", (recent.seen, upto))
                if upto > recent.seen
                else []
            )
            recent.merged(upto, unseen)
        recent.add(self._query(conn, f"{since} ORDER BY added_us", (recent.seen,)))
