"""The search index: the text of every stored version, found by substring.

A part of :class:`~kizuna.store.sql.SqlStore`. The text comes from the hook
:attr:`SearchIndex.search_text` (``kizuna.node._text.search_text``, set by the node that opens
the store), lower-cased by it: ``version_batch`` computes it before the write lock,
``add_versions`` enters it in the same transaction as the versions and ``delete_versions``
removes it with them. With no hook the index is not kept (the node setting
``search_index = false``).

SQLite keeps the text in the plain table ``search_text`` (added_us, text) and its trigrams in
the FTS5 table ``search_index`` (``trigram`` tokenizer, case-sensitive: the text and the terms
are lower-cased by Python, so both stores fold alike; ``search_text`` is its external
content). FTS5 writes a segment of its index at every commit, which costs a POST more than
the row of text: so a POST writes only the row, and the rows after the setting
``search_index_upto`` (the pending rows) enter the FTS5 index together, in the transaction
that takes them past :data:`PENDING_ROWS`. A search reads the pending rows with ``instr`` and
the FTS5 index with ``GLOB '*term*'`` (which the trigram index answers for three or more
characters; Japanese is not split into words, so substrings are what find it): a version is
found as soon as the transaction that stored it commits. Of several terms, the FTS5 index
answers the rarest alone when it is rare (``_rarest``) and the others are checked on its
rows: intersecting the index's lists would read every row's entry for a term in every row.
PostgreSQL keeps a table with a pg_trgm GIN index, queried with ``LIKE '%term%'`` (its GIN
index keeps a pending list of its own).

Reads answer the coarse gate in SQL, like every query of the store: only versions in a
collection the caller may read, under a marking set it may see there. The caller then reads
the versions themselves through the fine gate (``kizuna.search``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, Final

from sqlalchemy import BigInteger, Connection, cast, column, func, select, table
from sqlalchemy.sql.elements import ColumnElement

from kizuna.store import schema as t
from kizuna.store._base import StoreBase
from kizuna.store._values import Readable, _gate

log = logging.getLogger(__name__)

#: A found version: (added_us, collection id, STIX id, STIX type).
Hit = tuple[int, str, str, str]
#: The setting that says whether the index holds every stored version (its layout) or none.
_STATE = "search_index"
#: What it says when the index is kept: SQLite's layout with pending rows (2026-12-04; "on"
#: was one FTS5 table that held the text too, rebuilt once when a store opens).
_ON_SQLITE = "on, pending rows"
_ON = "on"
#: SQLite: the last added_us whose text is in the FTS5 index, and how many rows of text were
#: entered after it (deleted ones included: they only bring the next move forward).
_UPTO = "search_index_upto"
_PENDING = "search_index_pending"
#: SQLite moves the pending rows into the FTS5 index once they are this many.
PENDING_ROWS: Final = 20_000
#: FTS5's settings: the bytes of index it gathers in memory before it writes a segment (its
#: default, 1 MiB, would cut a move in several), and how many segments of a level it merges.
_FTS5_CONFIG: Final = (("hashsize", 16 * 1024 * 1024), ("automerge", 8))

#: SQLite: a term found in fewer rows of the FTS5 index than this is rare enough to lead a
#: search alone (its rows are few to check the other terms on, row by row).
RARE_ROWS: Final = 2_000


class SearchIndex(StoreBase):
    """The search index (a part of :class:`~kizuna.store.sql.SqlStore`)."""

    #: (STIX type, body, the decoded body or None) -> the lower-cased text to find the
    #: object by; None: no index.
    search_text: Callable[[str, bytes, Any], str] | None = None
    #: SQLite: the pending rows move into the FTS5 index once this many (tests make it small).
    search_pending_rows: int = PENDING_ROWS
    #: SQLite: a term in fewer rows of the FTS5 index than this leads a search alone.
    search_rare_rows: int = RARE_ROWS

    def _is_sqlite(self, conn: Connection) -> bool:
        return conn.dialect.name == "sqlite"

    def _create_search_table(self, conn: Connection) -> None:
        if self._is_sqlite(conn):
            conn.exec_driver_sql(
                "CREATE TABLE IF NOT EXISTS search_text "
                "(added_us INTEGER PRIMARY KEY, text TEXT NOT NULL)"
            )
            conn.exec_driver_sql(
                "CREATE VIRTUAL TABLE IF NOT EXISTS search_index USING fts5("
                "text, content = 'search_text', content_rowid = 'added_us', "
                "tokenize = 'trigram case_sensitive 1', detail = 'none', columnsize = 0)"
            )
            for name, value in _FTS5_CONFIG:
                conn.exec_driver_sql(
                    "INSERT INTO search_index (search_index, rank) VALUES (?, ?)", (name, value)
                )
        else:
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            conn.exec_driver_sql(
                "CREATE TABLE IF NOT EXISTS search_index "
                "(added_us BIGINT PRIMARY KEY, text TEXT NOT NULL)"
            )
            conn.exec_driver_sql(
                "CREATE INDEX IF NOT EXISTS ix_search_index_text "
                "ON search_index USING gin (text gin_trgm_ops)"
            )

    def _drop_search_tables(self, conn: Connection) -> None:
        conn.exec_driver_sql("DROP TABLE IF EXISTS search_index")
        conn.exec_driver_sql("DROP TABLE IF EXISTS search_text")

    def _enter_text(
        self, conn: Connection, texts: Sequence[str] | None, stored: Sequence[tuple[int, int]]
    ) -> None:
        """Enter the text of the *stored* items: (index into *texts*, added_us)."""
        if texts is None or not stored:
            return
        rows = [(added, texts[index]) for index, added in stored if texts[index]]
        if not rows:
            return
        if not self._is_sqlite(conn):
            conn.exec_driver_sql("INSERT INTO search_index (added_us, text) VALUES (%s, %s)", rows)
            return
        conn.exec_driver_sql("INSERT INTO search_text (added_us, text) VALUES (?, ?)", rows)
        pending = conn.exec_driver_sql(
            'UPDATE settings SET value = CAST(value AS INTEGER) + ? WHERE "key" = ? '
            "RETURNING value",
            (len(rows), _PENDING),
        ).scalar_one()
        if int(pending) >= self.search_pending_rows:
            self._move_pending(conn, int(pending))

    def _move_pending(self, conn: Connection, count: int) -> None:
        """SQLite: enter the pending rows in the FTS5 index, in one statement."""
        started = time.perf_counter()
        upto = self._search_upto(conn)
        conn.exec_driver_sql(
            "INSERT INTO search_index (rowid, text) "
            "SELECT added_us, text FROM search_text WHERE added_us > ? ORDER BY added_us",
            (upto,),
        )
        last = conn.exec_driver_sql("SELECT max(added_us) FROM search_text").scalar()
        self._put_setting(conn, _UPTO, str(max(upto, int(last or 0))))
        self._put_setting(conn, _PENDING, "0")
        log.info(
            "entered %d pending texts in the search index in %.2f s",
            count,
            time.perf_counter() - started,
        )

    def _search_upto(self, conn: Connection) -> int:
        s = t.settings.c
        return int(conn.execute(select(s.value).where(s.key == _UPTO)).scalar() or 0)

    def _remove_text(self, conn: Connection, which: ColumnElement[bool]) -> None:
        """Remove the entries of the versions *which* selects (before they are deleted)."""
        if self.search_text is None:
            return
        v = t.versions.c
        added = [(r[0],) for r in conn.execute(select(v.added_us).where(which))]
        if not added:
            return
        if not self._is_sqlite(conn):
            conn.exec_driver_sql("DELETE FROM search_index WHERE added_us = %s", added)
            return
        # FTS5 removes a row of an external content table's index given the text it indexed.
        upto = self._search_upto(conn)
        indexed = [
            (r[0], r[1])
            for start in range(0, len(added), 500)
            for r in conn.exec_driver_sql(
                "SELECT added_us, text FROM search_text WHERE added_us <= ? AND added_us IN "
                f"({','.join('?' * len(added[start : start + 500]))})",
                (upto, *(a[0] for a in added[start : start + 500])),
            )
        ]
        if indexed:
            conn.exec_driver_sql(
                "INSERT INTO search_index (search_index, rowid, text) VALUES ('delete', ?, ?)",
                indexed,
            )
        conn.exec_driver_sql("DELETE FROM search_text WHERE added_us = ?", added)

    def _prepare_search_index(self, conn: Connection) -> None:
        """When a store opens: a store that keeps the index makes and fills it if it was
        not kept before (or kept in another layout); one that does not keep it drops it."""
        s = t.settings.c
        state = conn.execute(select(s.value).where(s.key == _STATE)).scalar()
        sqlite = self._is_sqlite(conn)
        wanted = "off" if self.search_text is None else _ON_SQLITE if sqlite else _ON
        if state == wanted:
            return
        if wanted != "off":
            if sqlite:
                self._drop_search_tables(conn)
            self._create_search_table(conn)
            if not sqlite:
                conn.exec_driver_sql("DELETE FROM search_index")
            self._fill_search_index(conn)
        else:
            self._drop_search_tables(conn)
        self._put_setting(conn, _STATE, wanted)

    def _fill_search_index(self, conn: Connection) -> None:
        hook = self.search_text
        assert hook is not None
        sqlite = self._is_sqlite(conn)
        if sqlite:
            self._put_setting(conn, _UPTO, "0")
            self._put_setting(conn, _PENDING, "0")
        v = t.versions.c
        total = 0
        after = -1
        mark = "?" if sqlite else "%s"
        while True:
            rows = conn.execute(
                select(v.added_us, v.type, v.body)
                .where(v.added_us > after)
                .order_by(v.added_us)
                .limit(10_000)
            ).all()
            if not rows:
                break
            texts = [(r[0], hook(r[1], bytes(r[2]), None)) for r in rows]
            conn.exec_driver_sql(
                f"INSERT INTO {'search_text' if sqlite else 'search_index'} (added_us, text) "
                f"VALUES ({mark}, {mark})",
                [row for row in texts if row[1]],
            )
            total += len(rows)
            after = rows[-1][0]
        if sqlite:
            self._move_pending(conn, total)
        if total:
            log.info("search index filled: %d versions", total)

    def search_hits(
        self,
        terms: Sequence[str],
        readable: Readable | None = None,
        *,
        types: Sequence[str] = (),
        before_us: int | None = None,
        limit: int = 500,
    ) -> list[Hit]:
        """Versions whose text holds every one of *terms* (lower-cased, non-empty), that
        *readable* lets the caller see (None: every version), of *types* (empty: any),
        newest first, added before *before_us*, at most *limit*."""
        if self.search_text is None:
            raise RuntimeError("this store does not keep the search index")
        if not terms:
            return []
        with self._read.connect() as conn:
            if not self._is_sqlite(conn):
                return self._hits(conn, "added_us", terms, readable, types, before_us, limit)
            # The pending rows first, then the FTS5 index: a move that commits between the
            # two statements makes the second find again what the first found, never miss it.
            pending = self._pending_hits(conn, terms, readable, types, before_us, limit)
            indexed = self._hits(
                conn, "rowid", terms, readable, types, before_us, limit, _rarest(conn, terms, self.search_rare_rows)
            )
        found = {h[0]: h for h in (*pending, *indexed)}
        return [found[k] for k in sorted(found, reverse=True)[:limit]]

    def _hits(
        self,
        conn: Connection,
        key_name: str,
        terms: Sequence[str],
        readable: Readable | None,
        types: Sequence[str],
        before_us: int | None,
        limit: int,
        lead: str | None = None,
    ) -> list[Hit]:
        """The hits of the index table (SQLite's FTS5 index, or PostgreSQL's table). SQLite:
        when *lead* is one of *terms*, the index answers it alone and the other terms are
        checked on its rows (the same GLOB, row by row)."""
        v = t.versions.c
        sqlite = key_name == "rowid"
        index = table("search_index", column(key_name), column("text"))
        key, text = index.c[key_name], index.c.text
        conds: list[ColumnElement[bool]] = [
            (_sqlite_term(text, term, lead in (None, term)) if sqlite
             else text.like(_like(term), escape="\\"))
            for term in terms
        ]
        if readable is not None:
            # On SQLite the search index leads, newest first, and stops at *limit*:
            # SQLite's planner would otherwise walk the readable collections' versions
            # and run the trigram query once per version (seconds for a few terms).
            conds.append(_gate(readable, lead=not sqlite))
        if types:
            conds.append(v.type.in_(sorted(set(types))))
        if before_us is not None:
            conds.append(key < before_us)
        stmt = (
            select(v.added_us, v.collection_id, v.stix_id, v.type)
            .select_from(index.join(t.versions, v.added_us == key))
            .where(*conds)
            .order_by(key.desc())
            .limit(limit)
        )
        return [(r[0], r[1], r[2], r[3]) for r in conn.execute(stmt)]

    def _pending_hits(
        self,
        conn: Connection,
        terms: Sequence[str],
        readable: Readable | None,
        types: Sequence[str],
        before_us: int | None,
        limit: int,
    ) -> list[Hit]:
        """SQLite: the hits among the pending rows (the rows of text after the FTS5 index's
        last, read in one statement with it), each term found by ``instr``."""
        v = t.versions.c
        s = t.settings.c
        pending = table("search_text", column("added_us"), column("text"))
        key, text = pending.c.added_us, pending.c.text
        upto = (
            select(cast(s.value, BigInteger)).where(s.key == _UPTO).scalar_subquery()
        )
        conds: list[ColumnElement[bool]] = [key > upto]
        conds += [func.instr(text, term) > 0 for term in terms]
        if readable is not None:
            conds.append(_gate(readable, lead=False))
        if types:
            conds.append(v.type.in_(sorted(set(types))))
        if before_us is not None:
            conds.append(key < before_us)
        stmt = (
            select(v.added_us, v.collection_id, v.stix_id, v.type)
            .select_from(pending.join(t.versions, v.added_us == key))
            .where(*conds)
            .order_by(key.desc())
            .limit(limit)
        )
        return [(r[0], r[1], r[2], r[3]) for r in conn.execute(stmt)]

    def search_entries(self) -> int:
        """How many versions the index holds (for measurements)."""
        with self._read.connect() as conn:
            name = "search_text" if self._is_sqlite(conn) else "search_index"
            return int(conn.exec_driver_sql(f"SELECT count(*) FROM {name}").scalar_one())


def _rarest(conn: Connection, terms: Sequence[str], rare_rows: int = RARE_ROWS) -> str | None:
    """SQLite: the term the FTS5 index should answer alone, or None (all of them).

    The trigram index answers several terms by intersecting their lists of rows: for a term
    in every row (``indicator``) that reads every row's entry (40 ms at a million) however
    rare the other terms are. How many rows hold each term, counted by the index up to
    *rare_rows* (newest first, so a common term stops early), finds the rarest; when
    even that one is common, the intersection stays cheaper than checking its rows."""
    counted = [t for t in dict.fromkeys(terms) if len(t) >= 3]
    if len(counted) < 2:  # a shorter term is checked row by row already
        return None
    best: tuple[int, str] | None = None
    for term in counted:
        rows = int(
            conn.exec_driver_sql(
                "SELECT count(*) FROM (SELECT rowid FROM search_index WHERE text GLOB ? "
                "ORDER BY rowid DESC LIMIT ?)",
                (_glob(term), rare_rows),
            ).scalar_one()
        )
        if best is None or rows < best[0]:
            best = (rows, term)
    return best[1] if best is not None and best[0] < rare_rows else None


def _sqlite_term(text: ColumnElement[str], term: str, indexed: bool = True) -> ColumnElement[bool]:
    """The GLOB of *term*: the trigram index answers three characters or more; a shorter
    term (or one not *indexed*) is matched by SQLite itself row by row (``|| ''`` keeps it
    from FTS5, which in SQLite 3.40 finds nothing for a short pattern of multibyte
    characters)."""
    if indexed and len(term) >= 3:
        return text.op("GLOB")(_glob(term))
    return text.concat("").op("GLOB")(_glob(term))


def _glob(term: str) -> str:
    """``*term*`` with GLOB's special characters taken literally."""
    escaped = "".join(f"[{c}]" if c in "*?[" else c for c in term)
    return f"*{escaped}*"


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
