"""The store: one interface over SQLAlchemy Core (the adapters are in ``store.adapters``).

Writes are serialized (a process lock plus the database's own: ``BEGIN IMMEDIATE`` on SQLite,
an advisory transaction lock on PostgreSQL), and every version gets its ``added_us`` inside
that critical section, so ``added_us`` order is commit order across processes. Reads never
take the write lock.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy import (
    Connection,
    and_,
    delete,
    exists,
    func,
    inspect,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.sql.elements import ColumnElement

from kizuna.store import schema as t
from kizuna.store._directory import Directory
from kizuna.store._ids import IdIndex
from kizuna.store._keys import id_key, id_keys
from kizuna.store._markings import Markings
from kizuna.store._search import SearchIndex
from kizuna.store._set_rows import SetRows
from kizuna.store._sync_log import SyncLog
from kizuna.store._transaction import Transaction
from kizuna.store._values import ValueIndex
from kizuna.store.types import (
    NewVersion,
    ObjectQuery,
    Outcome,
    StoredVersion,
    SyncCursor,
    VersionBatch,
    VersionMatch,
)

log = logging.getLogger(__name__)

#: Indexes of older databases that the current ones replace.
_OBSOLETE_INDEXES = ("ix_versions_collection_added", "ix_versions_id", "ix_versions_id_placement")

_VERSION_COLUMNS = (
    t.versions.c.added_us,
    t.versions.c.collection_id,
    t.versions.c.stix_id,
    t.versions.c.type,
    t.versions.c.version_us,
    t.versions.c.spec_version,
    t.versions.c.marking_set,
    t.versions.c.needs_redaction,
    t.versions.c.origin,
    t.versions.c.body,
)


class SqlStore(Directory, SyncLog, Markings, IdIndex, ValueIndex, SearchIndex, SetRows):
    """A node's database. Use :func:`open_store` to get the adapter for a URL."""

    dialect = "generic"

    # -- lifecycle ---------------------------------------------------------------------------

    def create_schema(self) -> None:
        # SQLite's id index is the table id_index, which replaces PostgreSQL's index of the
        # versions (store/_ids.py); each adapter makes only its own.
        id_table = self._recent_ids is not None
        tables = [
            table for table in t.metadata.sorted_tables if id_table or table is not t.id_index
        ]
        obsolete = _OBSOLETE_INDEXES + (("ix_versions_key",) if id_table else ())
        with self._writing() as conn:
            had_id_index = inspect(conn).has_table("id_index")
            t.metadata.create_all(conn, tables=tables)
            self._add_collection_columns(conn)
            if "id_key" not in {c["name"] for c in inspect(conn).get_columns("versions")}:
                log.info("giving the stored versions their id keys (once: made before them)")
                self._add_id_keys(conn)
            if id_table and not had_id_index:
                self._fill_id_index(conn)
            # Databases made before an index was added get it here (create_all skips tables
            # that exist); the indexes they replaced go.
            for table in tables:
                for index in table.indexes:
                    index.create(conn, checkfirst=True)
            for name in obsolete:
                conn.exec_driver_sql(f"DROP INDEX IF EXISTS {name}")
            self._prepare_value_index(conn)
            self._prepare_search_index(conn)

    def holds_node(self) -> bool:
        """Does this database hold a node already (its tables, with the node's identity)?"""
        with self._read.connect() as conn:
            if not inspect(conn).has_table("settings"):
                return False
            found = conn.execute(
                select(t.settings.c.key).where(t.settings.c.key == "identity")
            ).first()
            return found is not None

    def drop_schema(self) -> None:
        """Drop every table :meth:`create_schema` makes, with what they hold (a failed
        ``init`` leaves an empty database as it found it). Other tables stay."""
        with self._writing() as conn:
            self._drop_search_tables(conn)
            t.metadata.drop_all(conn)

    def _add_id_keys(self, conn: Connection) -> None:
        """Give the versions of a database made before the id key (``store/_keys.py``) their
        keys, and drop the unique index of (stix_id, collection_id, ...) it replaces.
        The SQLite adapter rebuilds the table instead (SQLite cannot drop a constraint)."""
        conn.exec_driver_sql("ALTER TABLE versions ADD COLUMN id_key BIGINT NOT NULL DEFAULT 0")
        ids = [r[0] for r in conn.execute(select(t.versions.c.stix_id).distinct())]
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        for start in range(0, len(ids), 10_000):
            chunk = ids[start : start + 10_000]
            conn.exec_driver_sql(
                f"UPDATE versions SET id_key = {mark} WHERE stix_id = {mark}",
                [(id_key(i), i) for i in chunk],
            )
        conn.exec_driver_sql("ALTER TABLE versions ALTER COLUMN id_key DROP DEFAULT")
        conn.exec_driver_sql("ALTER TABLE versions DROP CONSTRAINT IF EXISTS uq_versions_object")

    def close(self) -> None:
        self._close_writer()
        self._read.dispose()
        self._write.dispose()

    # -- object versions ---------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """Write through the :class:`Transaction` given; all of it commits when the block
        ends, or none of it (an exception rolls it back)."""
        with self._writing() as conn:
            tx = Transaction(self, conn)
            yield tx
        tx._committed()

    def version_batch(
        self,
        collection_id: str,
        items: Sequence[NewVersion],
        origin: str,
        *,
        marking_definitions: Iterable[tuple[str, bytes]] = (),
        visible: frozenset[int] | None = None,
    ) -> VersionBatch:
        """*items*, to store in *collection_id* by ``Transaction.add_versions``, with their id
        keys and indexed values (computed here, before the write lock: once each)."""
        keys = {i.stix_id: id_key(i.stix_id) for i in items}
        hook = self.value_keys
        values = None if hook is None else [hook(i.type, i.body, i.parsed) for i in items]
        text = self.search_text
        texts = None if text is None else [text(i.type, i.body, i.parsed) for i in items]
        return VersionBatch(
            collection_id, items, origin, marking_definitions, visible, keys, values, texts
        )

    def add_versions(
        self,
        collection_id: str,
        items: Sequence[NewVersion],
        origin: str,
        *,
        marking_definitions: Iterable[tuple[str, bytes]] = (),
        cursor: SyncCursor | None = None,
        visible: frozenset[int] | None = None,
    ) -> list[tuple[Outcome, int]]:
        """Store *items* in one transaction (``Transaction.add_versions``), with a sync
        *cursor* when one is given: a crash at any moment leaves both or neither."""
        if not items and cursor is None:
            return []
        batch = self.version_batch(
            collection_id, items, origin, marking_definitions=marking_definitions, visible=visible
        )
        with self.transaction() as tx:
            if cursor is not None:
                tx.set_cursor(cursor)
            return tx.add_versions(batch)

    def query(self, q: ObjectQuery) -> list[StoredVersion]:
        """Versions matching *q*, in ``added_us`` order, at most ``q.limit`` of them."""
        if q.marking_sets is not None and not q.marking_sets:
            return []
        with self._read.connect() as conn:
            of_ids = None
            if q.ids:
                # The id index (and the recent versions) give the rows; they are sorted, and
                # ordering by the bare column would make SQLite walk the whole collection in
                # added_us order instead (its planner favours the index that avoids the sort).
                of_ids = self._of_keys(conn, id_keys(q.ids), q.marking_sets)
                if of_ids is None:
                    # No version of these ids: the same statement runs all the same, so that
                    # an id never stored costs what an id hidden from the reader costs (its
                    # rows are filtered out by the marking sets in SQL), and the time of an
                    # answer does not tell the two apart (docs/policy.md, Rule 5).
                    of_ids = t.versions.c.added_us.in_([-1])
            in_table = self._recent_ids is not None
            if (
                of_ids is None
                and not q.types  # a page of some types: ix_versions_collection_type_added
                and q.marking_sets
                and self.sparse(q.collection_id, q.marking_sets)
            ):
                return _set_by_set(conn, q, in_table)
            order = t.versions.c.added_us + 0 if q.ids else t.versions.c.added_us
            stmt = (
                select(*_VERSION_COLUMNS)
                .where(*_conditions(q, of_ids, in_table))
                .order_by(order)
                .limit(q.limit)
            )
            rows = conn.execute(stmt).all()
        return [StoredVersion(*r[:9], bytes(r[9])) for r in rows]

    def id_placements(self, ids: Sequence[str]) -> set[tuple[str, str, int]]:
        """(id, collection, marking set) of every stored version of *ids*, without repeats.

        One query answers, for the gate, which of *ids* are stored here and which are
        visible to a principal somewhere (``node/_read.py``).
        """
        v = t.versions.c
        found: set[tuple[str, str, int]] = set()
        with self._read.connect() as conn:
            for start in range(0, len(ids), 500):
                chunk = list(ids[start : start + 500])
                # Ids never stored run the same statement as stored ones (see query).
                of_ids = self._of_keys(conn, id_keys(chunk))
                if of_ids is None:
                    of_ids = t.versions.c.added_us.in_([-1])
                rows = conn.execute(
                    select(v.stix_id, v.collection_id, v.marking_set)
                    .where(of_ids, v.stix_id.in_(chunk))
                    .distinct()
                )
                found.update((r[0], r[1], r[2]) for r in rows)
        return found

    def several_versions(self, ids: Sequence[str], marking_sets: frozenset[int] | None) -> set[str]:
        """Those of *ids* that may have two or more versions (``version_us``) under
        *marking_sets* (None: any) in some collection: a superset, read from the id index
        alone (an id with two or more versions in a collection has all of them there, on
        SQLite too; ids sharing a key, or versions in other collections, only add to it)."""
        keys = {i: id_key(i) for i in ids}
        table = "id_index" if self._recent_ids is not None else "versions"
        mark = "?" if self.dialect == "sqlite" else "%s"
        sets = "" if marking_sets is None else ",".join(str(int(m)) for m in sorted(marking_sets))
        found: set[int] = set()
        unique = sorted(set(keys.values()))
        with self._read.connect() as conn:
            for start in range(0, len(unique), 500):
                chunk = unique[start : start + 500]
                sql = f"SELECT id_key FROM {table} WHERE id_key IN ({','.join([mark] * len(chunk))})"
                if marking_sets is not None:
                    sql += f" AND marking_set IN ({sets or '-1'})"
                sql += " GROUP BY id_key HAVING count(DISTINCT version_us) > 1"
                found.update(r[0] for r in conn.exec_driver_sql(sql, tuple(chunk)))
        return {i for i, k in keys.items() if k in found}

    def unredacted(self, after_us: int, limit: int) -> list[tuple[int, bytes]]:
        """(added_us, body) of the next *limit* versions after *after_us* marked as needing
        no field-level pass (``needs_redaction`` false), in ``added_us`` order."""
        v = t.versions.c
        with self._read.connect() as conn:
            rows = conn.execute(
                select(v.added_us, v.body)
                .where(v.added_us > after_us, v.needs_redaction.is_(False))
                .order_by(v.added_us)
                .limit(limit)
            ).all()
        return [(r[0], bytes(r[1])) for r in rows]

    def mark_needs_redaction(self, added: Sequence[int]) -> None:
        """Mark these versions as needing the gate's field-level pass."""
        v = t.versions
        with self._writing() as conn:
            touched: set[str] = set()
            for start in range(0, len(added), 500):
                chunk = list(added[start : start + 500])
                touched.update(
                    r[0]
                    for r in conn.execute(
                        select(v.c.collection_id).where(v.c.added_us.in_(chunk)).distinct()
                    )
                )
                conn.execute(
                    update(v).where(v.c.added_us.in_(chunk)).values(needs_redaction=True)
                )
            for collection_id in sorted(touched):
                self._changed(conn, collection_id)

    def written_by(self, ids: Sequence[str], origin: str) -> set[str]:
        """Those of *ids* of which a version recorded with *origin* is stored (in any
        collection): what a writer sent itself (``node/_marking_rules.py``)."""
        v = t.versions.c
        found: set[str] = set()
        with self._read.connect() as conn:
            for start in range(0, len(ids), 500):
                chunk = list(ids[start : start + 500])
                of_ids = self._of_keys(conn, id_keys(chunk))
                if of_ids is None:
                    continue
                rows = conn.execute(
                    select(v.stix_id)
                    .where(of_ids, v.stix_id.in_(chunk), v.origin == origin)
                    .distinct()
                )
                found.update(r[0] for r in rows)
        return found

    def latest_added(self, collection_id: str) -> int:
        with self._read.connect() as conn:
            value = conn.execute(
                select(func.max(t.versions.c.added_us)).where(
                    t.versions.c.collection_id == collection_id
                )
            ).scalar()
        return int(value or 0)

    def holds_types(self, collection_id: str, types: Sequence[str]) -> bool:
        """Does the collection hold a version of one of *types* (one probe of the index of
        (collection, type) per type)?"""
        v = t.versions.c
        with self._read.connect() as conn:
            return any(
                conn.execute(
                    select(v.added_us).where(v.collection_id == collection_id, v.type == kind)
                    .limit(1)
                ).first()
                is not None
                for kind in types
            )

    def count(self, collection_id: str | None = None) -> int:
        stmt = select(func.count()).select_from(t.versions)
        if collection_id is not None:
            stmt = stmt.where(t.versions.c.collection_id == collection_id)
        with self._read.connect() as conn:
            return int(conn.execute(stmt).scalar_one())

    def delete_versions(self, collection_id: str, added: Sequence[int]) -> int:
        """Delete the versions with these ``added_us`` from a collection, and their entries
        in the id index (a process's recent versions may keep theirs: a lookup then finds no
        row for them)."""
        if not added:
            return 0
        v = t.versions.c
        which = and_(v.collection_id == collection_id, v.added_us.in_(list(added)))
        with self._writing() as conn:
            entries: list[tuple[int, int, int, int]] = []
            if self._recent_ids is not None:  # SQLite's id index is a table of its own
                found = select(v.id_key, v.version_us, v.marking_set, v.added_us).where(which)
                entries = [(r[0], r[1], r[2], r[3]) for r in conn.execute(found)]
            self._remove_values(conn, which)
            self._remove_text(conn, which)
            result = conn.execute(delete(t.versions).where(which))
            if result.rowcount:
                self._changed(conn, collection_id)
            self._uncounted(collection_id)
            if entries:
                conn.exec_driver_sql(
                    "DELETE FROM id_index WHERE id_key = ? AND version_us = ? "
                    "AND marking_set = ? AND added_us = ?",
                    entries,
                )
        return int(result.rowcount)


def _set_by_set(conn: Connection, q: ObjectQuery, in_table: bool) -> list[StoredVersion]:
    """*q*'s page read set by set (store/_set_rows.py): the next positions of each visible
    marking set, from ``ix_versions_collection_set_added`` alone (the sets' first ``q.limit``
    merged), and the rows at those positions that meet the rest of *q*, in one statement;
    again after the last position while the page is short and more positions follow."""
    assert q.marking_sets
    sets = sorted(q.marking_sets)
    arms = " UNION ALL ".join(
        f"SELECT added_us FROM (SELECT added_us FROM versions WHERE collection_id = :c "
        f"AND marking_set = :s{n} AND added_us > :after ORDER BY added_us LIMIT :n) AS s{n}"
        for n in range(len(sets))
    )
    sql = f"SELECT added_us FROM ({arms}) AS merged ORDER BY added_us LIMIT :n"
    v = t.versions.c
    conds = _conditions(q, None, in_table, by_position=True)
    out: list[StoredVersion] = []
    after = -1 if q.after_us is None else q.after_us
    while True:
        want = q.limit - len(out)
        binds = {"c": q.collection_id, "after": after, "n": want}
        binds |= {f"s{n}": s for n, s in enumerate(sets)}
        positions = text(sql).bindparams(**binds).columns(v.added_us)
        stmt = (
            select(*_VERSION_COLUMNS)
            .where(v.added_us.in_(positions), *conds)
            .order_by(v.added_us + 0)
        )
        found = [StoredVersion(*r[:9], bytes(r[9])) for r in conn.execute(stmt).all()]
        out += found
        if len(found) == want:
            return out
        # Short: the positions ran out, or the rest of q left some out (then go on after them).
        last = conn.execute(text(sql).bindparams(**binds)).all()
        if len(last) < want:
            return out
        after = last[-1][0]


def _conditions(
    q: ObjectQuery,
    of_ids: ColumnElement[bool] | None,
    in_table: bool,
    *,
    by_position: bool = False,
) -> list[ColumnElement[bool]]:
    """The WHERE terms of *q*; *of_ids* selects the versions of its ids (``_of_keys``);
    *in_table*: the id index is the table ``id_index`` (SQLite), else an index of versions;
    *by_position*: the caller gives the rows' positions (``_set_by_set``)."""
    v = t.versions
    # With ids, the id index found the rows (with positions, the caller): the collection is
    # then checked on each (|| '' keeps SQLite from walking the whole collection by its index
    # instead).
    collection = v.c.collection_id.concat("") if q.ids or by_position else v.c.collection_id
    conds: list[ColumnElement[bool]] = [collection == q.collection_id]
    if q.after_us is not None:
        conds.append(v.c.added_us > q.after_us)
    if q.types:
        conds.append(v.c.type.in_(list(q.types)))
    if q.ids:
        assert of_ids is not None
        conds.append(of_ids)
        conds.append(v.c.stix_id.in_(list(q.ids)))
    if q.spec_versions:
        conds.append(v.c.spec_version.in_(list(q.spec_versions)))
    visible = None if q.marking_sets is None else sorted(q.marking_sets)
    if visible is not None:
        conds.append(v.c.marking_set.in_(visible))
    version = _version_condition(q.versions, visible, in_table)
    if version is not None:
        conds.append(version)
    return conds


def _version_condition(
    m: VersionMatch, visible: list[int] | None, in_table: bool
) -> ColumnElement[bool] | None:
    if m.all:
        return None
    v = t.versions
    options: list[ColumnElement[bool]] = []
    for wanted, newer in ((m.last, True), (m.first, False)):
        if not wanted:
            continue
        other = t.versions.alias("other")
        if in_table:
            # SQLite: an id with two or more versions in a collection has all of them in the
            # id index (store/_recent.py), so its entries answer; the row is read only to tell
            # two ids that share a key apart.
            entry = t.id_index.alias("newer" if newer else "older")
            inner = [
                entry.c.id_key == v.c.id_key,
                entry.c.version_us > v.c.version_us
                if newer
                else entry.c.version_us < v.c.version_us,
                other.c.added_us == entry.c.added_us,
            ]
            marking_set = entry.c.marking_set
        else:
            # PostgreSQL: its index of the versions' keys.
            inner = [
                other.c.id_key == v.c.id_key,
                other.c.version_us > v.c.version_us
                if newer
                else other.c.version_us < v.c.version_us,
            ]
            marking_set = other.c.marking_set
        inner += [other.c.collection_id == v.c.collection_id, other.c.stix_id == v.c.stix_id]
        if visible is not None:
            inner.append(marking_set.in_(visible))
        options.append(~exists().where(*inner))
    if m.at:
        options.append(v.c.version_us.in_(list(m.at)))
    if m.every_version_of and options:
        options.append(v.c.type.in_(list(m.every_version_of)))
    if not options:
        return None
    return or_(*options)


__all__ = ["SqlStore"]
