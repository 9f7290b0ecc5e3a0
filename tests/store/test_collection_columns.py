"""A database made before a column of the collections table was added gets it on open."""

from __future__ import annotations

from pathlib import Path

from kizuna.node import Node
from kizuna.store.types import NewVersion


def test_a_collections_table_without_derived_gets_it(tmp_path: Path, database: str) -> None:
    node, _ = Node.init(tmp_path / "n", name="n", org="O", country="BEL", database=database)
    c = node.add_collection("old")
    with node.store._writing() as conn:
        conn.exec_driver_sql("ALTER TABLE collections DROP COLUMN derived")
    node.close()
    again = Node.open(tmp_path / "n", database or None)
    assert [x.derived for x in again.store.collections() if x.id == c.id] == ["refuse"]
    made = again.add_collection("new", derived="restrict")
    assert {x.id: x.derived for x in again.store.collections()}[made.id] == "restrict"
    again.close()


def test_a_collections_table_without_changes_gets_it(tmp_path: Path, database: str) -> None:
    node, _ = Node.init(tmp_path / "n", name="n", org="O", country="BEL", database=database)
    c = node.add_collection("old")
    with node.store._writing() as conn:
        conn.exec_driver_sql("ALTER TABLE collections DROP COLUMN changes")
    node.close()
    again = Node.open(tmp_path / "n", database or None)
    before = again.store.changes(c.id)
    assert before[0] == 0
    again.store.add_versions(c.id, [NewVersion("indicator--00000000-0000-4000-8000-000000000001",
                                               "indicator", 1, "2.1", (), False, b"{}")], "user:u")
    assert again.store.changes(c.id) == (1, before[1] + 1)
    again.close()
