"""The search index: the text of every stored version, found by substring.

A part of :class:`~kizuna.store.sql.SqlStore`. The text comes from the hook
:attr:`SearchIndex.search_text` (``kizuna.node._text.search_text``, set by the node that opens
the store), lower-cased by it: ``version_batch`` computes it before the write lock,
``add_versions`` enters it in the same transaction as the versions and ``delete_versions``
removes it with them. With no hook the index is not kept (the node setting
``search_index = false``).

SQLite keeps it in an FTS5 table with the ``trigram`` tokenizer (case-sensitive: the text and
the terms are lower-cased by Python, so both stores fold alike), whose rowid is the version's
``added_us``; a term is a ``GLOB '*term*'`` that the trigram index answers for three or more
characters (Japanese is not split into words, so substrings are what find it). PostgreSQL
keeps a table with a pg_trgm GIN index, queried with ``LIKE '%term%'``.

Reads answer the coarse gate in SQL, like every query of the store: only versions in a
collection the caller may read, under a marking set it may see there. The caller then reads
the versions themselves through the fine gate (``kizuna.search``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, column, select, table
from sqlalchemy.sql.elements import ColumnElement

from kizuna.store import schema as t
from kizuna.store._base import StoreBase
from kizuna.store._values import Readable, _gate

log = logging.getLogger(__name__)

#: A found version: (added_us, collection id, STIX id, STIX type).
Hit = tuple[int, str, str, str]
#: The setting that says whether the index holds every stored version ("on") or none.
_STATE = "search_index"


class SearchIndex(StoreBase):
    """The search index (a part of :class:`~kizuna.store.sql.SqlStore`)."""

    #: (STIX type, body, the decoded body or None) -> the lower-cased text to find the
    #: object by; None: no index.
    search_text: Callable[[str, bytes, Any], str] | None = None

    def _is_sqlite(self, conn: Connection) -> bool:
        return conn.dialect.name == "sqlite"

    def _search_key(self, conn: Connection) -> str:
        return "rowid" if self._is_sqlite(conn) else "added_us"

    def _create_search_table(self, conn: Connection) -> None:
        if self._is_sqlite(conn):
            conn.exec_driver_sql(
                "CREATE VIRTUAL TABLE IF NOT EXISTS search_index USING fts5("
                "text, tokenize = 'trigram case_sensitive 1', detail = 'none')"
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

    def _enter_text(
        self, conn: Connection, texts: Sequence[str] | None, stored: Sequence[tuple[int, int]]
    ) -> None:
        """Enter the text of the *stored* items: (index into *texts*, added_us)."""
        if texts is None or not stored:
            return
        rows = [(added, texts[index]) for index, added in stored if texts[index]]
        if not rows:
            return
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        key = self._search_key(conn)
        conn.exec_driver_sql(
            f"INSERT INTO search_index ({key}, text) VALUES ({mark}, {mark})", rows
        )

    def _remove_text(self, conn: Connection, which: ColumnElement[bool]) -> None:
        """Remove the entries of the versions *which* selects (before they are deleted)."""
        if self.search_text is None:
            return
        v = t.versions.c
        added = [(r[0],) for r in conn.execute(select(v.added_us).where(which))]
        if added:
            mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
            key = self._search_key(conn)
            conn.exec_driver_sql(f"DELETE FROM search_index WHERE {key} = {mark}", added)

    def _prepare_search_index(self, conn: Connection) -> None:
        """When a store opens: a store that keeps the index makes and fills it if it was
        not kept before; one that does not keep it empties it."""
        s = t.settings.c
        state = conn.execute(select(s.value).where(s.key == _STATE)).scalar()
        wanted = "off" if self.search_text is None else "on"
        if state == wanted:
            return
        if wanted == "on":
            self._create_search_table(conn)
            conn.exec_driver_sql("DELETE FROM search_index")
            self._fill_search_index(conn)
        else:
            conn.exec_driver_sql("DROP TABLE IF EXISTS search_index")
        self._put_setting(conn, _STATE, wanted)

    def _fill_search_index(self, conn: Connection) -> None:
        hook = self.search_text
        assert hook is not None
        v = t.versions.c
        total = 0
        after = -1
        while True:
            rows = conn.execute(
                select(v.added_us, v.type, v.body)
                .where(v.added_us > after)
                .order_by(v.added_us)
                .limit(10_000)
            ).all()
            if not rows:
                break
            texts = [hook(r[1], bytes(r[2]), None) for r in rows]
            self._enter_text(conn, texts, [(i, r[0]) for i, r in enumerate(rows)])
            total += len(rows)
            after = rows[-1][0]
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
        v = t.versions.c
        with self._read.connect() as conn:
            sqlite = self._is_sqlite(conn)
            key_name = self._search_key(conn)
            index = table("search_index", column(key_name), column("text"))
            key, text = index.c[key_name], index.c.text
            conds: list[ColumnElement[bool]] = [
                _sqlite_term(text, term) if sqlite else text.like(_like(term), escape="\\")
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

    def search_entries(self) -> int:
        """How many versions the index holds (for measurements)."""
        with self._read.connect() as conn:
            return int(conn.exec_driver_sql("SELECT count(*) FROM search_index").scalar_one())


def _sqlite_term(text: ColumnElement[str], term: str) -> ColumnElement[bool]:
    """The GLOB of *term*: the trigram index answers three characters or more; a shorter
    term is matched by SQLite itself row by row (``|| ''`` keeps it from FTS5, which in
    SQLite 3.40 finds nothing for a short pattern of multibyte characters)."""
    if len(term) >= 3:
        return text.op("GLOB")(_glob(term))
    return text.concat("").op("GLOB")(_glob(term))


def _glob(term: str) -> str:
    """``*term*`` with GLOB's special characters taken literally."""
    escaped = "".join(f"[{c}]" if c in "*?[" else c for c in term)
    return f"*{escaped}*"


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
