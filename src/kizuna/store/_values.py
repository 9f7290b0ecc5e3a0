"""The value index: observable value key -> the stored versions that carry it.

A part of :class:`~kizuna.store.sql.SqlStore`. The keys come from the hook
:attr:`ValueIndex.value_keys` (``kizuna.cyber.values.body_keys``, set by the node that opens
the store): ``add_versions`` computes them before the write lock and enters them in the same
transaction as the versions; ``delete_versions`` removes them with the versions. With no hook
the index is not kept (the node setting ``value_index = false``).

Reads answer the coarse gate in SQL, like every query of the store: only entries whose
version lies in a collection the caller may read, under a marking set it may see there. The
caller then reads the versions themselves through the fine gate.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, and_, false, or_, select
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


class ValueIndex(StoreBase):
    """The value index (a part of :class:`~kizuna.store.sql.SqlStore`)."""

    #: (STIX type, body, the body decoded or None) -> the value keys of the object, without
    #: repeats; None: no index.
    value_keys: Callable[[str, bytes, Any], Sequence[int]] | None = None

    def _value_entries(
        self, keys: Sequence[Sequence[int]] | None, stored: Sequence[tuple[int, int]]
    ) -> list[tuple[int, int]]:
        """(key, added_us) of the *stored* items: (index into *keys*, added_us)."""
        if keys is None:
            return []
        return [(key, added) for index, added in stored for key in keys[index]]

    def _enter_values(self, conn: Connection, entries: Sequence[tuple[int, int]]) -> None:
        if entries:
            entries = sorted(entries)  # in key order: each insert lands next to the last
            mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
            conn.exec_driver_sql(
                f"INSERT INTO value_index (value_key, added_us) VALUES ({mark}, {mark})",
                list(entries),
            )

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
            conn.exec_driver_sql(
                f"DELETE FROM value_index WHERE value_key = {mark} AND added_us = {mark}", entries
            )

    def _prepare_value_index(self, conn: Connection) -> None:
        """When a store opens: a store that keeps the index fills it if it was not kept
        before (a database made before it, or one that ran with ``value_index = false``); one that
        does not keep it empties it."""
        s = t.settings.c
        state = conn.execute(select(s.value).where(s.key == _STATE)).scalar()
        wanted = "off" if self.value_keys is None else "on"
        if state == wanted:
            return
        conn.exec_driver_sql("DELETE FROM value_index")
        if wanted == "on":
            self._fill_value_index(conn)
        self._put_setting(conn, _STATE, wanted)

    def _fill_value_index(self, conn: Connection) -> None:
        """Enter every stored version."""
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
            self._enter_values(conn, entries)
            total += len(entries)
            after = rows[-1][0]
        if total:
            log.info("value index filled: %d entries", total)

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
        x, v = t.value_index.c, t.versions.c
        conds: list[ColumnElement[bool]] = [x.added_us > after_us]
        if key_range is not None:
            conds.append(x.value_key.between(*key_range))
        else:
            conds.append(x.value_key.in_(sorted(set(keys))))
        if readable is not None:
            conds.append(_gate(readable))
        stmt = (
            select(x.value_key, x.added_us, v.collection_id, v.stix_id)
            .select_from(t.value_index.join(t.versions, v.added_us == x.added_us))
            .where(*conds)
            .order_by(x.added_us)
            .limit(limit)
        )
        with self._read.connect() as conn:
            return [(r[0], r[1], r[2], r[3]) for r in conn.execute(stmt)]

    def value_index_entries(self) -> int:
        """How many entries the index holds (for measurements)."""
        with self._read.connect() as conn:
            return int(conn.exec_driver_sql("SELECT count(*) FROM value_index").scalar_one())


def _gate(readable: Readable) -> ColumnElement[bool]:
    v = t.versions.c
    options: list[Any] = []
    for collection_id, sets in sorted(readable.items()):
        if sets is None:
            options.append(v.collection_id == collection_id)
        elif sets:
            options.append(and_(v.collection_id == collection_id, v.marking_set.in_(sorted(sets))))
    return or_(*options) if options else false()
