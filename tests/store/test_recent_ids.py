"""The recent ids (store/_recent.py): SQLite enters a fresh version in the id index later, with
many others. Every answer must be the same as if it had entered it at once, in the process that
wrote it and in every other process of the node (here: another store on the same file)."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kizuna.store import SqlStore, open_store
from kizuna.store._recent import UPTO, RecentIds
from kizuna.store.types import Collection, NewVersion, ObjectQuery, Outcome, VersionMatch

IDS = [f"indicator--00000000-0000-4000-8000-{n:012d}" for n in range(8)]


def version(stix_id: str, v: int = 1) -> NewVersion:
    body = b'{"id":"%s","v":%d}' % (stix_id.encode(), v)
    return NewVersion(stix_id, "indicator", v, "2.1", (), False, body)


def two_stores(path: Path, merge_rows: int) -> tuple[SqlStore, SqlStore]:
    """Two stores on one database: a writer and another process of the same node."""
    url = f"sqlite:///{path}"
    a = open_store(url)
    a.create_schema()
    for cid in ("c1", "c2"):
        a.add_collection(Collection(cid, cid, "", None, (), "real"))
    b = open_store(url)
    a.merge_rows = b.merge_rows = merge_rows
    return a, b


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[tuple[SqlStore, SqlStore]]:
    a, b = two_stores(tmp_path / "store.db", merge_rows=4)
    yield a, b
    a.close()
    b.close()


def index_entries(store: SqlStore) -> int:
    with store._read.connect() as conn:
        return int(store._query(conn, "SELECT count(*) FROM id_index")[0][0])


def versions_of(store: SqlStore, stix_id: str, m: VersionMatch) -> list[int]:
    rows = store.query(ObjectQuery("c1", ids=(stix_id,), versions=m))
    return [r.version_us for r in rows]


def test_a_fresh_version_is_found_by_every_process_before_it_is_in_the_index(
    stores: tuple[SqlStore, SqlStore],
) -> None:
    a, b = stores
    a.add_versions("c1", [version(IDS[0])], "user:x")
    assert index_entries(a) == 0  # fresh: not in the index yet
    assert versions_of(b, IDS[0], VersionMatch(all=True)) == [1]
    assert b.id_placements([IDS[0]]) == {(IDS[0], "c1", 1)}
    # b's duplicate check sees a's fresh version
    assert [o for o, _ in b.add_versions("c1", [version(IDS[0])], "user:y")] == [Outcome.DUPLICATE]


def test_a_second_version_enters_both_in_the_index(stores: tuple[SqlStore, SqlStore]) -> None:
    """match[version] reads only the index: both versions of an id must be in it."""
    a, b = stores
    a.add_versions("c1", [version(IDS[0])], "user:x")
    b.add_versions("c1", [version(IDS[0], 2)], "user:y")
    assert index_entries(a) == 2
    for store in (a, b):
        assert versions_of(store, IDS[0], VersionMatch(last=True)) == [2]
        assert versions_of(store, IDS[0], VersionMatch(first=True, last=False)) == [1]
        page = store.query(ObjectQuery("c1"))  # match[version]=last, without ids
        assert [(r.stix_id, r.version_us) for r in page] == [(IDS[0], 2)]
    # The same id in another collection is another object: fresh there.
    a.add_versions("c2", [version(IDS[0], 3)], "user:x")
    assert index_entries(a) == 2


def test_a_merge_enters_the_recent_versions_and_every_process_follows(
    stores: tuple[SqlStore, SqlStore], tmp_path: Path
) -> None:
    a, b = stores
    assert versions_of(b, IDS[7], VersionMatch(all=True)) == []  # b has read the recent ids
    a.add_versions("c1", [version(i) for i in IDS[:3]], "user:x")
    assert index_entries(a) == 0 and len(a._recent_ids or ()) == 3
    a.add_versions("c1", [version(IDS[3])], "user:x")  # the fourth: a merge
    assert index_entries(a) == 4 and len(a._recent_ids or ()) == 0
    last = a.query(ObjectQuery("c1", versions=VersionMatch(all=True)))[-1].added_us
    assert a.setting(UPTO) == str(last)
    for i in IDS[:4]:
        assert versions_of(b, i, VersionMatch(all=True)) == [1]
    assert len(b._recent_ids or ()) == 0  # b forgot what the index now holds
    a.add_versions("c1", [version(IDS[4])], "user:x")
    # A process that starts now reads the versions past the merge.
    c = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        assert versions_of(c, IDS[4], VersionMatch(all=True)) == [1]
        assert len(c._recent_ids or ()) == 1
    finally:
        c.close()


def test_a_deleted_fresh_version_is_not_found(stores: tuple[SqlStore, SqlStore]) -> None:
    a, b = stores
    stored = a.add_versions("c1", [version(IDS[0]), version(IDS[1])], "user:x")
    assert versions_of(b, IDS[0], VersionMatch(all=True)) == [1]
    assert a.delete_versions("c1", [stored[0][1]]) == 1
    assert versions_of(b, IDS[0], VersionMatch(all=True)) == []
    assert b.id_placements([IDS[0], IDS[1]]) == {(IDS[1], "c1", 1)}
    # Stored again, it is a new version (not a duplicate of the deleted one).
    assert [o for o, _ in b.add_versions("c1", [version(IDS[0])], "user:y")] == [Outcome.STORED]


def test_deleting_a_version_removes_its_index_entry(stores: tuple[SqlStore, SqlStore]) -> None:
    a, b = stores
    stored = a.add_versions("c1", [version(IDS[0]), version(IDS[0], 2)], "user:x")
    assert index_entries(a) == 2
    assert a.delete_versions("c1", [stored[1][1]]) == 1
    assert index_entries(a) == 1
    assert versions_of(b, IDS[0], VersionMatch(last=True)) == [1]


def test_a_larger_index_waits_for_more_recent_versions(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A merge rewrites about every page of the index: once the index is larger, it waits
    until the recent versions number the merged ones over merge_fraction."""
    caplog.set_level(logging.INFO, logger="kizuna.store")
    a, b = two_stores(tmp_path / "store.db", merge_rows=2)
    a.merge_fraction = 2
    ids = [f"indicator--00000000-0000-4000-8000-{n:012d}" for n in range(19)]
    entries = []
    for stix_id in ids:
        a.add_versions("c1", [version(stix_id)], "user:x")
        entries.append(index_entries(a))
    # Merges at 2 and 4 recent versions (at least merge_rows), then at 6 (4 merged / 2 = 2,
    # so merge_rows still), 9 (6 / 2 = 3 recent), 13 (9 // 2 = 4) and 19 (13 // 2 = 6).
    assert entries == [0, 2, 2, 4, 4, 6, 6, 6, 9, 9, 9, 9, 13, 13, 13, 13, 13, 13, 19]
    merges = [r.getMessage() for r in caplog.records if "recent versions" in r.getMessage()]
    assert [m.split(" in the id index")[0] for m in merges] == [
        f"entered {n} recent versions" for n in (2, 2, 2, 3, 4, 6)
    ]
    for stix_id in ids:
        assert versions_of(b, stix_id, VersionMatch(all=True)) == [1]
    a.close()
    b.close()


# -- a model to compare with ------------------------------------------------------------------

_op = st.one_of(
    st.tuples(
        st.just("add"),
        st.sampled_from("ab"),
        st.sampled_from(["c1", "c2"]),
        st.lists(st.tuples(st.integers(0, 5), st.integers(1, 3)), min_size=1, max_size=4),
    ),
    st.tuples(
        st.just("delete"), st.sampled_from("ab"), st.sampled_from(["c1", "c2"]), st.integers(0, 5)
    ),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ops=st.lists(_op, min_size=1, max_size=12),
    merge_rows=st.integers(1, 6),
    merge_fraction=st.sampled_from([1, 2, 4]),
)
def test_answers_are_those_of_a_store_that_indexes_at_once(
    ops: list[tuple[object, ...]], merge_rows: int, merge_fraction: int
) -> None:
    """Random writes and deletes by two processes, merges at random moments: every read by
    id, every match[version] and every placement equals the model's."""
    with tempfile.TemporaryDirectory() as tmp:
        a, b = two_stores(Path(tmp) / "store.db", merge_rows)
        a.merge_fraction = b.merge_fraction = merge_fraction
        model: dict[tuple[str, str, int], int] = {}  # (collection, id, version) -> added_us
        try:
            for op in ops:
                kind, who, cid = op[0], op[1], str(op[2])
                store = a if who == "a" else b
                if kind == "add":
                    batch = [version(IDS[n], v) for n, v in op[3]]  # type: ignore[attr-defined]
                    results = store.add_versions(cid, batch, f"user:{who}")
                    for item, (outcome, added) in zip(batch, results, strict=True):
                        key = (cid, item.stix_id, item.version_us)
                        assert (outcome is Outcome.DUPLICATE) == (key in model)
                        if outcome is Outcome.DUPLICATE:
                            assert added == model[key]
                        else:
                            model[key] = added
                else:
                    stix_id = IDS[int(op[3])]  # type: ignore[call-overload]
                    gone = [a_ for (c, i, _), a_ in model.items() if c == cid and i == stix_id]
                    assert store.delete_versions(cid, gone) == len(gone)
                    model = {
                        k: x for k, x in model.items() if not (k[0] == cid and k[1] == stix_id)
                    }
                _check(a, b, model)
        finally:
            a.close()
            b.close()


def _check(a: SqlStore, b: SqlStore, model: dict[tuple[str, str, int], int]) -> None:
    for store in (a, b):
        for cid in ("c1", "c2"):
            held = {(i, v): added for (c, i, v), added in model.items() if c == cid}
            newest = {i: max(v for j, v in held if j == i) for i, _ in held}
            oldest = {i: min(v for j, v in held if j == i) for i, _ in held}
            every = store.query(ObjectQuery(cid, versions=VersionMatch(all=True)))
            assert {(r.stix_id, r.version_us): r.added_us for r in every} == held
            last = store.query(ObjectQuery(cid))
            assert {(r.stix_id, r.version_us) for r in last} == set(newest.items())
            first = store.query(ObjectQuery(cid, versions=VersionMatch(first=True, last=False)))
            assert {(r.stix_id, r.version_us) for r in first} == set(oldest.items())
            for stix_id in IDS[:6]:
                by_id = store.query(
                    ObjectQuery(cid, ids=(stix_id,), versions=VersionMatch(all=True))
                )
                assert sorted(r.version_us for r in by_id) == sorted(
                    v for i, v in held if i == stix_id
                )
                newest_by_id = store.query(ObjectQuery(cid, ids=(stix_id,)))
                assert [r.version_us for r in newest_by_id] == (
                    [newest[stix_id]] if stix_id in newest else []
                )
        placed = store.id_placements(IDS)
        assert placed == {(i, c, 1) for c, i, _ in model}


def test_new_ids_are_not_looked_up_in_the_index(
    stores: tuple[SqlStore, SqlStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The keys each process knows to be merged spare a POST of new objects the index's
    lookup; an id with a merged version is looked up."""
    a, b = stores
    a.add_versions("c1", [version(i) for i in IDS[:4]], "user:x")  # merged
    statements: list[str] = []
    driver_query = a._query

    def query(conn: Any, statement: str, params: Any = ()) -> list[Any]:
        statements.append(statement)
        return driver_query(conn, statement, params)

    monkeypatch.setattr(a, "_query", query)
    a.add_versions("c1", [version(IDS[5])], "user:x")
    assert not [s for s in statements if "FROM id_index" in s]
    a.add_versions("c1", [version(IDS[0], 2)], "user:x")
    assert [s for s in statements if s.startswith("SELECT added_us FROM id_index")]
    assert versions_of(b, IDS[0], VersionMatch(all=True)) == [1, 2]


def test_recent_ids_follow_a_merge_they_read_past() -> None:
    """A process that read versions past a merge's end (another writer's, committed just
    after it) keeps those, and hands the merged ones' keys to its merged keys; a merge it
    knows already, and versions it has read already, change nothing."""
    recent = RecentIds()
    recent.start(10, [5, 1])
    recent.add([(11, 7), (12, 8), (13, 9)])
    recent.merged(12, [])
    assert (recent.upto, recent.seen, len(recent)) == (12, 13, 1)
    assert recent.lookup([7, 8, 9, 5, 6]) == ([13], [7, 8, 5])
    recent.merged(11, [(14, 3)])  # older than the merge it knows: ignored
    recent.add([(13, 9), (14, 4)])  # 13 was read already
    assert len(recent) == 2 and recent.lookup([9, 4, 3]) == ([13, 14], [])
    recent.merged(20, [(15, 3), (16, 2)])  # versions 15 and 16 were merged before being read
    assert (recent.upto, recent.seen, len(recent)) == (20, 20, 0)
    assert recent.lookup([9, 4, 3, 2, 6]) == ([], [9, 4, 3, 2])


def test_recent_ids_keep_every_version_of_a_key_across_a_merge() -> None:
    """A key with several recent versions: a merge that enters some of them keeps the later
    ones, whether one or several remain."""
    recent = RecentIds()
    recent.start(10, [])
    recent.add([(11, 7), (12, 8), (13, 7), (14, 8), (15, 8), (16, 7)])
    assert len(recent) == 6
    assert recent.lookup([7, 8]) == ([11, 13, 16, 12, 14, 15], [])
    recent.merged(13, [])  # 11, 12 and 13 are in the index now
    assert (recent.upto, recent.seen, len(recent)) == (13, 16, 3)
    assert recent.lookup([7, 8]) == ([16, 14, 15], [7, 8])
    recent.merged(14, [])
    assert len(recent) == 2 and recent.lookup([7, 8]) == ([16, 15], [7, 8])
