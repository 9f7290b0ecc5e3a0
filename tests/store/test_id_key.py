"""The id index of 64-bit keys (store/_keys.py, store/_recent.py): used by every read by id,
and given to databases made before it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    Column,
    Index,
    MetaData,
    Table,
    UniqueConstraint,
    create_engine,
    event,
    insert,
    inspect,
    text,
)

from kizuna.store import SqlStore, open_store
from kizuna.store import schema as t
from kizuna.store._keys import id_key
from kizuna.store._recent import UPTO
from kizuna.store.types import Collection, NewVersion, ObjectQuery, Outcome, VersionMatch

IDS = [f"indicator--00000000-0000-4000-8000-{n:012d}" for n in range(300)]


def version(stix_id: str, v: int = 1) -> NewVersion:
    return NewVersion(stix_id, "indicator", v, "2.1", (), False, b'{"id":"%s"}' % stix_id.encode())


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[tuple[SqlStore, Path]]:
    path = tmp_path / "store.db"
    store = open_store(f"sqlite:///{path}")
    store.merge_rows = 1  # every version in the index at once (store/_recent.py)
    store.create_schema()
    for cid in ("c1", "c2"):
        store.add_collection(Collection(cid, cid, "", None, (), "real"))
        store.add_versions(cid, [version(i) for i in IDS], "file:x")
    yield store, path
    store.close()


def _plans(path: Path, seen: list[tuple[str, Any]]) -> list[list[str]]:
    with sqlite3.connect(path) as conn:
        return [
            [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {statement}", params)]
            for statement, params in seen
        ]


def test_reads_by_id_search_the_id_index(
    sqlite_store: tuple[SqlStore, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each read by id finds its rows' added_us in the id index, then the rows by added_us.
    The collection's index would also answer them, by walking the whole collection: SQLite
    chose it for the duplicate check and match[id] until its collection term was kept out of
    the index."""
    store, path = sqlite_store
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if statement.startswith("SELECT added_us FROM id_index") or (
            "FROM versions" in statement and "added_us IN" in statement
        ):
            seen.append((statement, params))

    for engine in (store._read, store._write):
        event.listen(engine, "before_cursor_execute", record)
    driver_query = store._query  # the queries every POST runs skip SQLAlchemy's events

    def query(conn: Any, statement: str, params: Any = ()) -> list[Any]:
        record(None, None, statement, params)
        return driver_query(conn, statement, params)

    monkeypatch.setattr(store, "_query", query)
    wanted = IDS[:3]
    assert {r.stix_id for r in store.query(ObjectQuery("c1", ids=tuple(wanted)))} == set(wanted)
    store.add_versions("c1", [version(IDS[0]), version("indicator--new")], "user:x")
    assert {i for i, _, _ in store.id_placements(wanted)} == set(wanted)
    plans = _plans(path, seen)
    pairs = list(zip(seen, plans, strict=True))
    lookups = [p for (statement, _), p in pairs if statement.startswith("SELECT added_us")]
    fetches = [p for (statement, _), p in pairs if not statement.startswith("SELECT added_us")]
    assert len(lookups) == 3 and len(fetches) == 3, seen
    for plan in lookups:
        assert plan == ["SEARCH id_index USING PRIMARY KEY (id_key=?)"], plan
    for plan in fetches:
        assert plan[0] == "SEARCH versions USING INTEGER PRIMARY KEY (rowid=?)", plan


def test_the_newest_version_is_told_by_the_id_index(
    sqlite_store: tuple[SqlStore, Path],
) -> None:
    """match[version]=last (every page's default) and =first ask, per row, whether the id has
    a newer (older) version: the id index answers from its entries, never a walk of the
    collection."""
    store, path = sqlite_store
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if "LIMIT" in statement:
            seen.append((statement, params))

    event.listen(store._read, "before_cursor_execute", record)
    store.add_versions("c1", [version(IDS[5], 2)], "user:x")
    for match in (VersionMatch(last=True), VersionMatch(first=True, last=False)):
        for visible in (None, frozenset({1})):
            rows = store.query(ObjectQuery("c1", versions=match, marking_sets=visible, limit=10))
            assert rows
    newest = store.query(ObjectQuery("c1", ids=(IDS[5],), versions=VersionMatch(last=True)))
    assert [r.version_us for r in newest] == [2]
    assert len(seen) == 5
    for plan in _plans(path, seen):
        entries = [line for line in plan if line.startswith(("SEARCH newer", "SEARCH older"))]
        rows = [line for line in plan if line.startswith("SEARCH other")]
        assert entries and all("USING PRIMARY KEY (id_key=? AND version_us" in e for e in entries)
        assert rows and all("USING INTEGER PRIMARY KEY (rowid=?)" in r for r in rows), plan


def _old_database(url: str, layout: str) -> None:
    """A database as nodes made them before the id index table. "no-keys": before the id key
    too, versions unique on (stix_id, collection_id, version_us, marking_set); "keyed": with
    the id key, and an index of (id_key, version_us, marking_set) on versions."""
    md = MetaData()
    for table in t.metadata.sorted_tables:
        if table.name not in ("versions", "id_index"):
            table.to_metadata(md)
    keyed = layout == "keyed"
    columns = [
        Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable, autoincrement=False)
        for c in t.versions.columns
        if keyed or c.name != "id_key"
    ]
    if keyed:
        rule: Any = Index("ix_versions_key", "id_key", "version_us", "marking_set")
    else:
        rule = UniqueConstraint(
            "stix_id", "collection_id", "version_us", "marking_set", name="uq_versions_object"
        )
    old = Table("versions", md, *columns, rule)
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        md.create_all(conn)
        conn.execute(insert(md.tables["collections"]).values(id="c1", title="One", created_us=1))
        conn.execute(insert(md.tables["marking_sets"]).values(id=1, key=""))
        conn.execute(
            insert(old),
            [
                dict(
                    added_us=n + 1,
                    collection_id="c1",
                    stix_id=stix_id,
                    type="indicator",
                    version_us=1,
                    spec_version="2.1",
                    marking_set=1,
                    needs_redaction=False,
                    origin="file:x",
                    body=b"{}",
                    **({"id_key": id_key(stix_id)} if keyed else {}),
                )
                for n, stix_id in enumerate(IDS)
            ],
        )
    engine.dispose()


@pytest.mark.parametrize("layout", ["no-keys", "keyed"])
def test_a_database_made_before_gets_the_id_index(
    database: str, tmp_path: Path, layout: str
) -> None:
    url = database or f"sqlite:///{tmp_path / 'old.db'}"
    _old_database(url, layout)
    store = open_store(url)
    try:
        store.create_schema()
        store.create_schema()  # once only
        with store._read.connect() as conn:
            rows = conn.execute(text("SELECT stix_id, id_key FROM versions")).all()
            has_table = inspect(conn).has_table("id_index")
            entries = (
                conn.execute(text("SELECT id_key, added_us FROM id_index")).all()
                if has_table
                else []
            )
            if database:
                unique = conn.execute(
                    text("SELECT count(*) FROM pg_constraint WHERE conname = 'uq_versions_object'")
                ).scalar()
                old_index = conn.execute(
                    text("SELECT count(*) FROM pg_indexes WHERE indexname = 'ix_versions_key'")
                ).scalar()
            else:
                unique = conn.execute(
                    text(
                        "SELECT count(*) FROM sqlite_master WHERE tbl_name = 'versions' "
                        "AND name LIKE 'sqlite_autoindex%'"
                    )
                ).scalar()
                old_index = conn.execute(
                    text("SELECT count(*) FROM sqlite_master WHERE name = 'ix_versions_key'")
                ).scalar()
        assert sorted(rows) == sorted((i, id_key(i)) for i in IDS)
        assert unique == 0
        if database:  # PostgreSQL's id index is an index of the versions' keys
            assert not has_table and old_index == 1
        else:  # SQLite's is the table id_index, which holds every version
            assert sorted(entries) == sorted((id_key(i), n + 1) for n, i in enumerate(IDS))
            assert store.setting(UPTO) == str(len(IDS))
            assert old_index == 0
        assert [r.stix_id for r in store.query(ObjectQuery("c1", ids=(IDS[7],)))] == [IDS[7]]
        again = store.add_versions("c1", [version(IDS[7]), version(IDS[7], 2)], "user:x")
        assert [o for o, _ in again] == [Outcome.DUPLICATE, Outcome.STORED]
        latest = store.query(ObjectQuery("c1", ids=(IDS[7],), versions=VersionMatch(last=True)))
        assert [r.version_us for r in latest] == [2]
        assert store.count("c1") == len(IDS) + 1
    finally:
        store.close()
