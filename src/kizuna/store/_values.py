"""The value index: observable value key -> the stored versions that carry it.

A part of :class:`~kizuna.store.sql.SqlStore`. The keys come from the hook
:attr:`ValueIndex.value_keys` (``kizuna.cyber.values.body_keys``, set by the node that opens
the store): ``add_versions`` computes them before the write lock and enters them in the same
transaction as the versions; ``delete_versions`` removes them with the versions. With no hook
the index is not kept (the node setting ``value_index = false``).

The index is three tables (``schema.value_index_recent``, ``value_index_1`` and
``value_index``), levels of one index: a key is a hash, so the entries of one batch fall on
as many pages of a B-tree ordered by key as there are entries, and each page written goes
through the log. Entries therefore enter level 0, ``value_index_recent``, ordered by the
time they were stored (a batch's entries fill its last few pages; it is read by scanning
it, as it is small), which moves into level 1 in one sorted pass once it holds
:data:`LEVEL_0` entries, which moves into the last level once it holds an eighth of it (at
least :data:`LEVEL_1`). A sorted pass writes each page of the level it enters once, for
many entries. Every read and delete covers the three.

The store records the form of the keys it holds (the hook's ``value_keys_version``): when
the code's keys change, a store opened by it fills its index again, once.

Reads answer the coarse gate in SQL, like every query of the store: only entries whose
version lies in a collection the caller may read, under a marking set it may see there. The
caller then reads the versions themselves through the fine gate.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    MetaData,
    Table,
    and_,
    false,
    inspect,
    or_,
    select,
)
from sqlalchemy.sql.elements import ColumnElement

from kizuna.store import schema as t
from kizuna.store._base import StoreBase

log = logging.getLogger(__name__)

#: What the caller may read: collection id -> the marking sets it may see (None: all).
Readable = Mapping[str, frozenset[int] | None]
#: A found entry: (value key, added_us, collection id, STIX id).
Entry = tuple[int, int, str, str]
#: The setting that says whether the index holds every stored version ("on") or none.
_STATE = "value_index"
#: The setting that holds how many entries the last level holds (as of its last move).
_LAST = "value_index_last_entries"
#: The setting that holds the form of the keys the index holds (``value_keys_version``);
#: absent in a store made before it was recorded, whose keys are of form 1.
_FORM = "value_index_keys"
#: Level 0 moves into level 1 past this many entries (entering it costs the same at any
#: size; reading scans it; 20,000 until 2026-12-07).
LEVEL_0: Final = 50_000
#: Level 1 moves into the last level past an eighth of it, and at least this many entries.
LEVEL_1: Final = 100_000
_LEVELS: Final = ("value_index_recent", "value_index_1", "value_index")
#: Level 0 of the stores made before 2026-12-07, ordered by key (moved into level 1 when a
#: writer opens the store; read where a read-only one finds it).
_OLD_LEVEL_0: Final = "value_index_0"
_old_level_0: Final = Table(
    _OLD_LEVEL_0,
    MetaData(),  # not the schema's: never made
    Column("value_key", BigInteger, primary_key=True),
    Column("added_us", BigInteger, primary_key=True),
)


class ValueIndex(StoreBase):
    """The value index (a part of :class:`~kizuna.store.sql.SqlStore`)."""

    #: (STIX type, body, the body decoded or None) -> the value keys of the object, without
    #: repeats; None: no index.
    value_keys: Callable[[str, bytes, Any], Sequence[int]] | None = None
    #: The form of the keys the hook makes (``kizuna.cyber.values.KEY_VERSION``): an index
    #: that holds keys of another form is filled again when the store opens.
    value_keys_version: int = 1
    #: Level 0 moves on past this many entries, level 1 past an eighth of the last level
    #: and at least this many (tests make them small).
    value_level_0: int = LEVEL_0
    value_level_1: int = LEVEL_1
    #: The level tables the database has (read once: a read-only store of a database made
    #: before some of them has not made them).
    _value_tables: tuple[Table, ...] | None = None

    def _value_entries(
        self, keys: Sequence[Sequence[int]] | None, stored: Sequence[tuple[int, int]]
    ) -> list[tuple[int, int]]:
        """(key, added_us) of the *stored* items: (index into *keys*, added_us)."""
        if keys is None:
            return []
        return [(key, added) for index, added in stored for key in keys[index]]

    def _enter_values(self, conn: Connection, entries: Sequence[tuple[int, int]]) -> None:
        if not entries:
            return
        _insert(conn, "value_index_recent", sorted((a, k) for k, a in entries), recent=True)
        held = conn.exec_driver_sql("SELECT count(*) FROM value_index_recent").scalar_one()
        if held <= self.value_level_0:
            return
        self._move_level(conn, "value_index_recent", "value_index_1")
        held = conn.exec_driver_sql("SELECT count(*) FROM value_index_1").scalar_one()
        s = t.settings.c
        last = int(conn.execute(select(s.value).where(s.key == _LAST)).scalar() or 0)
        if held > max(self.value_level_1, last // 8):
            self._move_level(conn, "value_index_1", "value_index")
            self._put_setting(conn, _LAST, str(last + held))

    def _move_level(self, conn: Connection, source: str, target: str) -> None:
        """Move every entry of *source* into *target*, in key order (each page once)."""
        conn.exec_driver_sql(
            f"INSERT INTO {target} (value_key, added_us) "
            f"SELECT value_key, added_us FROM {source} ORDER BY value_key, added_us"
        )
        conn.exec_driver_sql(f"DELETE FROM {source}")

    def _remove_values(self, conn: Connection, which: ColumnElement[bool]) -> None:
        """Remove the entries of the versions *which* selects (before they are deleted)."""
        hook = self.value_keys
        if hook is None:
            return
        v = t.versions.c
        entries = [
            (key, added)
            for added, stix_type, body in conn.execute(
                select(v.added_us, v.type, v.body).where(which)
            )
            for key in hook(stix_type, bytes(body), None)
        ]
        if entries:
            mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
            for level in _LEVELS:
                conn.exec_driver_sql(
                    f"DELETE FROM {level} WHERE value_key = {mark} AND added_us = {mark}",
                    entries,
                )

    def _prepare_value_index(self, conn: Connection) -> None:
        """When a store opens: a store that keeps the index fills it if it was not kept
        before (a database made before it, or one that ran with ``value_index = false``) or
        holds keys of another form than the hook's; one that does not keep it empties it."""
        self._value_tables = None  # read again at the next read
        s = t.settings.c
        state = conn.execute(select(s.value).where(s.key == _STATE)).scalar()
        wanted = "off" if self.value_keys is None else "on"
        form = str(self.value_keys_version)
        if inspect(conn).has_table(_OLD_LEVEL_0):
            # Level 0 ordered by key, as stores made before 2026-12-07 have it: its entries
            # go on to level 1, as they would have at its next move.
            if state == "on":
                self._move_level(conn, _OLD_LEVEL_0, "value_index_1")
            conn.exec_driver_sql(f"DROP TABLE {_OLD_LEVEL_0}")
        if state == wanted:
            if wanted == "off":
                return
            held = conn.execute(select(s.value).where(s.key == _FORM)).scalar()
            if held == form:
                return
            if held is None and form == "1":  # made before the form was recorded
                self._put_setting(conn, _FORM, form)
                return
            log.info("value index: keys of form %s, the code makes form %s: filling it", held, form)
        for level in _LEVELS:
            conn.exec_driver_sql(f"DELETE FROM {level}")
        total = self._fill_value_index(conn) if wanted == "on" else 0
        self._put_setting(conn, _STATE, wanted)
        self._put_setting(conn, _LAST, str(total))
        self._put_setting(conn, _FORM, form)

    def _fill_value_index(self, conn: Connection) -> int:
        """Enter every stored version (into the last level); how many entries that made."""
        hook = self.value_keys
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
            entries = [(key, r[0]) for r in rows for key in hook(r[1], bytes(r[2]), None)]
            _insert(conn, "value_index", sorted(entries))
            total += len(entries)
            after = rows[-1][0]
        if total:
            log.info("value index filled: %d entries", total)
        return total

    def value_entries(
        self,
        keys: Sequence[int] = (),
        readable: Readable | None = None,
        *,
        key_range: tuple[int, int] | None = None,
        after_us: int = -1,
        limit: int = 1000,
    ) -> list[Entry]:
        """Entries of *keys* (or of the keys in *key_range*, both ends included) whose
        versions *readable* lets the caller see (None: every version), in ``added_us``
        order after *after_us*, at most *limit*."""
        if not keys and key_range is None:
            return []
        v = t.versions.c
        found: list[Entry] = []
        with self._read.connect() as conn:
            if self._value_tables is None:
                held = set(inspect(conn).get_table_names())
                levels = (t.value_index_recent, _old_level_0, t.value_index_1, t.value_index)
                self._value_tables = tuple(x for x in levels if x.name in held)
            # Each level's first `limit` entries; the first `limit` of all are among them.
            for level in self._value_tables:
                x = level.c
                conds: list[ColumnElement[bool]] = [x.added_us > after_us]
                if key_range is not None:
                    conds.append(x.value_key.between(*key_range))
                else:
                    conds.append(x.value_key.in_(sorted(set(keys))))
                if readable is not None:
                    conds.append(_gate(readable))
                # Level 0 leads: it is scanned (ordered by time, it has no index by key),
                # each entry of its keys finding its version. Joined on the bare column,
                # SQLite would walk the caller's collections' versions instead and look each
                # up in level 0 (150 ms for a page at a million stored).
                joined = x.added_us + 0 if level is t.value_index_recent else x.added_us
                stmt = (
                    select(x.value_key, x.added_us, v.collection_id, v.stix_id)
                    .select_from(level.join(t.versions, v.added_us == joined))
                    .where(*conds)
                    .order_by(x.added_us)
                    .limit(limit)
                )
                found.extend((r[0], r[1], r[2], r[3]) for r in conn.execute(stmt))
        found.sort(key=lambda e: (e[1], e[0]))
        return found[:limit]

    def value_index_entries(self) -> int:
        """How many entries the index holds (for measurements)."""
        with self._read.connect() as conn:
            return sum(
                int(conn.exec_driver_sql(f"SELECT count(*) FROM {level}").scalar_one())
                for level in _LEVELS
            )


def _insert(
    conn: Connection, level: str, entries: Sequence[tuple[int, int]], *, recent: bool = False
) -> None:
    """Enter *entries*: (value_key, added_us), or with *recent* (added_us, value_key)."""
    if entries:
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        columns = "added_us, value_key" if recent else "value_key, added_us"
        conn.exec_driver_sql(
            f"INSERT INTO {level} ({columns}) VALUES ({mark}, {mark})", list(entries)
        )


def _gate(readable: Readable, *, lead: bool = True) -> ColumnElement[bool]:
    """The coarse gate over the versions table. With *lead* false its collection ids cannot
    be looked up in an index, so that another table (the search index) leads the join."""
    v = t.versions.c
    cid: ColumnElement[str] = v.collection_id if lead else v.collection_id.concat("")
    options: list[Any] = []
    for collection_id, sets in sorted(readable.items()):
        if sets is None:
            options.append(cid == collection_id)
        elif sets:
            options.append(and_(cid == collection_id, v.marking_set.in_(sorted(sets))))
    return or_(*options) if options else false()
