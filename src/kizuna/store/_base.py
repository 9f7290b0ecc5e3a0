"""The store's foundation: engines, the write critical section, the policy generation, settings.

Writes are serialized (a process lock plus the database's own: ``BEGIN IMMEDIATE`` on SQLite,
an advisory transaction lock on PostgreSQL, taken by the adapter's ``_begin_write``).
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    delete,
    insert,
    select,
    update,
)

from kizuna.store import schema as t

GENERATION = "policy_generation"
#: The policy generation's read (``?``: sqlite3's placeholder; see StoreBase._query).
GENERATION_SQL = 'SELECT value FROM settings WHERE "key" = ?'


class StoreBase:
    """Engines, locks and caches every part of the store shares."""

    def __init__(self, read_engine: Engine, write_engine: Engine) -> None:
        self._read = read_engine
        self._write = write_engine
        self._lock = threading.Lock()
        self._marking_set_cache: dict[str, int] = {}
        self._pending_cache: dict[str, int] = {}
        self._write_conn: Connection | None = None
        self._write_pid = 0
        #: Versions per marking set, by collection (store/_set_rows.py): (when counted, counts).
        self._set_rows: dict[str, tuple[float, Counter[int]]] = {}
        self._set_rows_lock = threading.Lock()

    #: Keep the write connection open between transactions (SQLite: a pool checkout and
    #: check-in cost about 100 us a transaction). PostgreSQL checks one out each time, so
    #: that its pre-ping notices a restarted server.
    _keep_write_connection = False

    def _writer(self) -> Connection:
        """A connection for one write transaction (called with the write lock held)."""
        if not self._keep_write_connection:
            return self._write.connect()
        conn = self._write_conn
        if conn is None or conn.closed or conn.invalidated or self._write_pid != os.getpid():
            conn = self._write_conn = self._write.connect()
            self._write_pid = os.getpid()
        return conn

    def _done_writing(self, conn: Connection, failed: bool) -> None:
        """After a write transaction: give *conn* back, or keep it for the next one."""
        if conn is self._write_conn and not failed:
            return
        if conn is self._write_conn:
            self._write_conn = None
        conn.close()

    def _close_writer(self) -> None:
        if self._write_conn is not None and self._write_pid == os.getpid():
            self._write_conn.close()
        self._write_conn = None

    def _begin_write(self, conn: Connection) -> None:
        """Take the database-level write lock inside an open transaction (adapter hook)."""

    def _lock_writers(self) -> None:
        """Wait for the writers of other processes before the transaction (adapter hook)."""

    def _unlock_writers(self) -> None:
        """Let the writers of other processes go on (adapter hook)."""

    def _committed(self, conn: Connection) -> None:
        """A write transaction has just committed on *conn*; the write lock is still held
        (adapter hook)."""

    def analyze(self) -> None:
        """Refresh the statistics the database plans its queries with, after a bulk load
        (adapter hook; SQLite plans these queries without statistics)."""

    #: The driver's parameter placeholder (``?`` for sqlite3, ``%s`` for psycopg).
    _mark = "?"

    def _query(self, conn: Connection, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Rows of *sql* (written with ``?`` placeholders) run on *conn*'s driver cursor.

        For the queries every request runs: SQLAlchemy's statement compilation and result
        wrapping cost about 100 us a query here, the driver's cursor a few.
        """
        if self._mark != "?":
            sql = sql.replace("?", self._mark)
        cur = conn.connection.cursor()
        try:
            cur.execute(sql, tuple(params))
            return list(cur.fetchall()) if cur.description is not None else []
        finally:
            cur.close()

    # -- policy generation -------------------------------------------------------------------

    def policy_generation(self) -> int:
        """A counter that changes whenever anything the gate depends on changes.

        Grants, organizations, communities, collections, marking-definitions and marking sets
        all bump it in the same transaction as the change, so every process of a node (and
        every API process in front of one PostgreSQL) can cache its gate per generation.
        """
        with self._read.connect() as conn:
            rows = self._query(conn, GENERATION_SQL, (GENERATION,))
        return int(rows[0][0]) if rows else 0

    def _bump(self, conn: Connection) -> None:
        current = conn.execute(
            select(t.settings.c.value).where(t.settings.c.key == GENERATION)
        ).scalar()
        if current is None:
            conn.execute(insert(t.settings).values(key=GENERATION, value="1"))
        else:
            conn.execute(
                update(t.settings)
                .where(t.settings.c.key == GENERATION)
                .values(value=str(int(current) + 1))
            )

    def _changed(self, conn: Connection, collection_id: str) -> None:
        """Versions of *collection_id* were written in *conn*'s transaction: move its change
        counter (see ``Directory.changes``), in that transaction."""
        self._query(
            conn, "UPDATE collections SET changes = changes + 1 WHERE id = ?", (collection_id,)
        )

    # -- settings ----------------------------------------------------------------------------

    def setting(self, key: str) -> str | None:
        with self._read.connect() as conn:
            return conn.execute(select(t.settings.c.value).where(t.settings.c.key == key)).scalar()

    def set_setting(self, key: str, value: str) -> None:
        with self._writing() as conn:
            self._put_setting(conn, key, value)
            self._bump(conn)

    def _put_setting(self, conn: Connection, key: str, value: str) -> None:
        conn.execute(delete(t.settings).where(t.settings.c.key == key))
        conn.execute(insert(t.settings).values(key=key, value=value))

    # -- the write critical section ------------------------------------------------------------

    def _writing(self) -> _Writing:
        return _Writing(self)


class _Writing:
    """Context manager: process lock, transaction, database write lock, cache commit."""

    def __init__(self, store: StoreBase) -> None:
        self._store = store
        self._conn: Connection | None = None

    def __enter__(self) -> Connection:
        self._store._lock.acquire()
        try:
            self._store._lock_writers()
        except BaseException:
            self._store._lock.release()
            raise
        try:
            self._store._pending_cache = {}
            self._conn = self._store._writer()
            self._conn.begin()
            self._store._begin_write(self._conn)
        except BaseException:
            if self._conn is not None:
                self._store._done_writing(self._conn, failed=True)
            self._store._unlock_writers()
            self._store._lock.release()
            raise
        return self._conn

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        assert self._conn is not None
        failed = True
        try:
            if exc_type is None:
                self._conn.commit()
                self._store._marking_set_cache.update(self._store._pending_cache)
                self._store._committed(self._conn)
            else:
                self._conn.rollback()
            failed = False
        finally:
            # A connection whose commit or rollback failed is not kept.
            self._store._done_writing(self._conn, failed)
            self._store._pending_cache = {}
            self._store._unlock_writers()
            self._store._lock.release()
