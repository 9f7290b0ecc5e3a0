"""The store contract, run against both adapters (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from kizuna.store import SqlStore, open_store, sql
from kizuna.store.types import (
    Collection,
    Grant,
    NewVersion,
    ObjectQuery,
    Org,
    Outcome,
    VersionMatch,
)


@pytest.fixture(params=["keys", "one-key", "merge-often"])
def store(
    request: pytest.FixtureRequest, database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[SqlStore]:
    if request.param == "one-key":
        # Every id shares one key (store/_keys.py): the answers must not depend on keys
        # being unique, only find their rows more slowly.
        monkeypatch.setattr(sql, "id_key", lambda _id: 42)
        monkeypatch.setattr(sql, "id_keys", lambda ids: sorted({42 for _ in ids}))
    url = database or f"sqlite:///{tmp_path / 'store.db'}"
    s = open_store(url)
    if request.param == "merge-often":
        # SQLite enters fresh versions in the id index every 2 of them (store/_recent.py),
        # so that the contract holds on both sides of a merge.
        s.merge_rows = 2
    s.create_schema()
    s.add_collection(Collection("c1", "One", "", None, (), "real"))
    s.add_collection(Collection("c2", "Two", "", "two", (), "real"))
    yield s
    s.close()


def v(
    stix_id: str, version: int, refs: tuple[str, ...] = (), body: bytes | None = None
) -> NewVersion:
    return NewVersion(
        stix_id=stix_id,
        type=stix_id.split("--")[0],
        version_us=version,
        spec_version="2.1",
        marking_refs=refs,
        needs_redaction=False,
        body=body or f'{{"id":"{stix_id}","v":{version}}}'.encode(),
    )


A = "indicator--00000000-0000-4000-8000-000000000001"
B = "malware--00000000-0000-4000-8000-000000000002"
C = "indicator--00000000-0000-4000-8000-000000000003"


def test_add_is_idempotent_and_ordered(store: SqlStore) -> None:
    first = store.add_versions("c1", [v(A, 1), v(B, 1), v(A, 2)], "user:x")
    assert [o for o, _ in first] == [Outcome.STORED] * 3
    added = [a for _, a in first]
    assert added == sorted(added) and len(set(added)) == 3
    again = store.add_versions("c1", [v(A, 1, body=b'{"other":1}'), v(C, 5), v(C, 5)], "user:x")
    assert [o for o, _ in again] == [Outcome.DUPLICATE, Outcome.STORED, Outcome.DUPLICATE]
    assert again[0][1] == added[0]
    rows = store.query(ObjectQuery("c1", versions=VersionMatch(all=True)))
    assert [(r.stix_id, r.version_us) for r in rows] == [(A, 1), (B, 1), (A, 2), (C, 5)]
    assert rows[0].body == f'{{"id":"{A}","v":1}}'.encode()  # the first bytes are kept


def test_collections_are_separate(store: SqlStore) -> None:
    store.add_versions("c1", [v(A, 1)], "user:x")
    store.add_versions("c2", [v(A, 1)], "user:x")
    assert store.count("c1") == 1 and store.count("c2") == 1
    assert [(c.id, c.alias) for c in store.collections()] == [("c1", None), ("c2", "two")]


def test_version_filters(store: SqlStore) -> None:
    store.add_versions("c1", [v(A, 1), v(A, 2), v(A, 3), v(B, 7)], "user:x")

    def ids(m: VersionMatch, **kw: object) -> list[tuple[str, int]]:
        return [(r.stix_id, r.version_us) for r in store.query(ObjectQuery("c1", versions=m, **kw))]  # type: ignore[arg-type]

    assert ids(VersionMatch()) == [(A, 3), (B, 7)]
    assert ids(VersionMatch(first=True, last=False)) == [(A, 1), (B, 7)]
    assert ids(VersionMatch(first=True, last=True)) == [(A, 1), (A, 3), (B, 7)]
    assert ids(VersionMatch(last=False, at=(2,))) == [(A, 2)]
    assert ids(VersionMatch(all=True), types=("malware",)) == [(B, 7)]
    assert ids(VersionMatch(all=True), ids=(A,)) == [(A, 1), (A, 2), (A, 3)]
    assert ids(VersionMatch(all=True), spec_versions=("2.0",)) == []


def test_marking_sets_filter_and_latest_visible(store: SqlStore) -> None:
    red = ("marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",)
    store.add_versions("c1", [v(A, 1), v(A, 2, red), v(B, 1, red)], "user:x")
    sets = {refs: sid for sid, refs in store.marking_sets().items()}
    unmarked = sets[()]
    # Only the unmarked set is visible: A's latest visible version is 1; B is invisible.
    rows = store.query(ObjectQuery("c1", marking_sets=frozenset({unmarked})))
    assert [(r.stix_id, r.version_us) for r in rows] == [(A, 1)]
    assert store.query(ObjectQuery("c1", marking_sets=frozenset())) == []
    assert len(store.query(ObjectQuery("c1", marking_sets=None))) == 2


def test_paging_by_added(store: SqlStore) -> None:
    store.add_versions(
        "c1", [v(f"indicator--00000000-0000-4000-8000-{i:012d}", 1) for i in range(10)], "user:x"
    )
    seen = []
    after = None
    while True:
        rows = store.query(ObjectQuery("c1", after_us=after, limit=3))
        if not rows:
            break
        seen.extend(r.stix_id for r in rows)
        after = rows[-1].added_us
    assert len(seen) == 10 and len(set(seen)) == 10


def test_concurrent_writers_get_unique_increasing_added(store: SqlStore) -> None:
    errors: list[BaseException] = []

    def writer(k: int) -> None:
        try:
            for j in range(10):
                store.add_versions(
                    "c1", [v(f"indicator--00000000-0000-4000-8{k:03d}-{j:012d}", 1)], "user:x"
                )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    rows = store.query(ObjectQuery("c1", limit=1000))
    added = [r.added_us for r in rows]
    assert len(added) == 40 and len(set(added)) == 40 and added == sorted(added)


def test_the_policy_generation_of_another_writer_is_seen_at_once(
    database: str, tmp_path: Path, store: SqlStore
) -> None:
    """Two stores on one database, as two processes of a node: each read of the generation
    sees the other's latest commit (SQLite's kept read connection holds no transaction
    between reads), and the objects written meanwhile do not hide it."""
    other = open_store(database or f"sqlite:///{tmp_path / 'store.db'}")
    try:
        for i in range(3):
            before = store.policy_generation()
            other.set_setting("k", str(i))
            store.add_versions("c1", [v(f"indicator--{i}", 1)], "user:u")
            assert store.policy_generation() == other.policy_generation() > before
        kept = getattr(store, "_generation_conn", None)
        if kept is not None:  # SQLite
            assert not kept.driver_connection.in_transaction
    finally:
        other.close()


def test_orgs_users_grants_settings(store: SqlStore) -> None:
    g0 = store.policy_generation()
    store.add_org(Org("JPN-CERT", "JPN", ("IP4",), "identity--x"))
    store.add_user("aiko", "JPN-CERT", "h" * 64)
    store.set_grant(Grant("c1", "JPN-CERT", True, False, "amber"))
    store.set_grant(Grant("c1", "JPN-CERT", True, True, "green"))
    assert store.policy_generation() > g0
    assert store.users_by_token_hash()["h" * 64].org == "JPN-CERT"
    assert "x" * 64 not in store.users_by_token_hash()
    assert store.grants() == [Grant("c1", "JPN-CERT", True, True, "green")]
    assert store.org("JPN-CERT").communities == ("IP4",)  # type: ignore[union-attr]
    store.set_setting("k", "1")
    store.set_setting("k", "2")
    assert store.setting("k") == "2"


def test_marking_definitions_are_stored_once(store: SqlStore) -> None:
    store.put_marking_definitions([("marking-definition--1", b"a")])
    store.put_marking_definitions([("marking-definition--1", b"b")])
    assert store.marking_definition("marking-definition--1") == b"a"
    assert store.marking_definitions() == {"marking-definition--1": b"a"}


def test_id_placements(store: SqlStore) -> None:
    red = ("marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",)
    store.add_versions("c1", [v(A, 1), v(A, 2), v(B, 1, red)], "user:x")
    store.add_versions("c2", [v(A, 1)], "user:x")
    sets = {refs: sid for sid, refs in store.marking_sets().items()}
    assert store.id_placements([A, B, C]) == {
        (A, "c1", sets[()]),
        (A, "c2", sets[()]),
        (B, "c1", sets[red]),
    }
    assert store.id_placements([C]) == set()


def test_delete_and_status(store: SqlStore) -> None:
    res = store.add_versions("c1", [v(A, 1), v(A, 2)], "user:x")
    assert store.delete_versions("c1", [res[0][1]]) == 1
    assert [
        r.version_us for r in store.query(ObjectQuery("c1", versions=VersionMatch(all=True)))
    ] == [2]
    store.put_status("s1", "c1", "user:x", b"{}")
    assert store.status("s1") == ("c1", "user:x", b"{}")
    assert store.status("s2") is None


def test_statuses_are_pruned_by_age(store: SqlStore) -> None:
    from kizuna.stix.timestamps import now_micros

    for n in range(3):
        store.put_status(f"s{n}", "c1", "user:x", b"{}")
    cutoff = now_micros() + 1
    store.put_status("later", "c1", "user:x", b"{}")
    with store._writing() as conn:  # "later" made after the cutoff
        conn.exec_driver_sql(
            f"UPDATE statuses SET created_us = {cutoff + 10**6} WHERE id = 'later'"
        )
    assert store.prune_statuses(cutoff, batch=2) == 3
    assert store.status("s0") is None and store.status("later") is not None


def test_open_store_rejects_unknown_urls(tmp_path: Path) -> None:
    from kizuna.errors import ConfigError

    with pytest.raises(ConfigError, match="unsupported database"):
        open_store("mysql://x/y")
    with pytest.raises(ConfigError, match="not a database URL"):
        open_store("::::")


def test_a_version_hidden_from_the_writer_is_not_a_duplicate_for_it(store: SqlStore) -> None:
    red = ("marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",)
    green = ("marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",)
    store.add_versions("c1", [v(A, 1, red)], "user:admin")
    sets = {refs: sid for sid, refs in store.marking_sets().items()}
    # A writer who cannot see the red copy stores its own green one beside it ...
    out = store.add_versions("c1", [v(A, 1, green)], "user:aiko", visible=frozenset())
    assert out[0][0] is Outcome.STORED
    # ... and posting it again is idempotent for that writer.
    green_set = {refs: sid for sid, refs in store.marking_sets().items()}[green]
    again = store.add_versions("c1", [v(A, 1, green)], "user:aiko", visible=frozenset({green_set}))
    assert again[0] == (Outcome.DUPLICATE, out[0][1])
    # A writer who sees the red copy gets the usual duplicate.
    seen = store.add_versions("c1", [v(A, 1, green)], "user:x", visible=frozenset({sets[red]}))
    assert seen[0][0] is Outcome.DUPLICATE
    rows = store.query(ObjectQuery("c1", versions=VersionMatch(all=True)))
    assert sorted(r.marking_set for r in rows) == sorted([sets[red], green_set])


def test_analyze_after_a_bulk_load(database: str, store: SqlStore) -> None:
    """PostgreSQL gets fresh statistics at once (SQLite has nothing to do)."""
    store.add_versions("c1", [v(f"indicator--{i}", 1) for i in range(200)], "file:x")
    store.analyze()
    if database:
        import psycopg

        with psycopg.connect(database) as conn:
            row = conn.execute(
                "SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables "
                "WHERE relname = 'versions'"
            ).fetchone()
        assert row == (True,)
    assert len(store.query(ObjectQuery("c1", limit=1000))) == 200


def test_a_transaction_commits_versions_cursor_and_status_together(store: SqlStore) -> None:
    from kizuna.store.types import StatusRow, SyncCursor

    cursor = SyncCursor("peer", "pull", "c1", "remote", "2026-01-01T00:00:00.000Z")
    with store.transaction() as tx:
        tx.set_cursor(cursor)
        outcomes = tx.add_versions(store.version_batch("c1", [v(A, 1), v(A, 1)], "user:x"))
        # the outcomes are known inside the transaction, to make the status from
        tx.put_status(StatusRow("s1", "c1", "user:x", repr(outcomes).encode()))
    assert [o for o, _ in outcomes] == [Outcome.STORED, Outcome.DUPLICATE]
    assert store.status("s1") == ("c1", "user:x", repr(outcomes).encode())
    assert store.cursor("peer", "pull", "c1", "remote") == cursor.position
    assert [r.stix_id for r in store.query(ObjectQuery("c1", ids=(A,)))] == [A]


def test_a_failed_transaction_stores_nothing(store: SqlStore) -> None:
    from kizuna.store.types import StatusRow

    with pytest.raises(ZeroDivisionError), store.transaction() as tx:
        tx.add_versions(store.version_batch("c1", [v(A, 1)], "user:x"))
        tx.put_status(StatusRow("s1", "c1", "user:x", b"{}"))
        1 / 0  # noqa: B018
    assert store.status("s1") is None
    assert store.query(ObjectQuery("c1", ids=(A,))) == []
    # and the id index does not hold what was rolled back
    assert [o for o, _ in store.add_versions("c1", [v(A, 1)], "user:x")] == [Outcome.STORED]


def test_a_transaction_adds_one_batch_of_versions(store: SqlStore) -> None:
    with store.transaction() as tx:
        tx.add_versions(store.version_batch("c1", [v(A, 1)], "user:x"))
        with pytest.raises(RuntimeError, match="one batch"):
            tx.add_versions(store.version_batch("c1", [v(B, 1)], "user:x"))
    assert [r.stix_id for r in store.query(ObjectQuery("c1"))] == [A]


def test_every_write_to_a_collections_versions_moves_its_change_counter(
    database: str, tmp_path: Path, store: SqlStore
) -> None:
    """In the transaction of the write, seen by another store on the database (another
    process of the node); a duplicate, a failed transaction and a write to another
    collection leave a collection's counter alone, and move the sum only when they write."""
    other = open_store(database or f"sqlite:///{tmp_path / 'store.db'}")
    try:
        assert store.changes("c1") == (0, 0) and store.changes("nothing") == (0, 0)
        added = store.add_versions("c1", [v(A, 1), v(B, 1)], "user:u")
        assert store.changes("c1") == other.changes("c1") == (1, 1)
        store.add_versions("c1", [v(A, 1)], "user:u")  # a duplicate stores nothing
        assert other.changes("c1") == (1, 1)
        other.add_versions("c2", [v(C, 1)], "user:u")
        assert store.changes("c1") == (1, 2) and store.changes("c2") == (1, 2)
        with pytest.raises(RuntimeError), store.transaction() as tx:
            tx.add_versions(store.version_batch("c1", [v(C, 2)], "user:u"))
            raise RuntimeError("rolled back")
        assert other.changes("c1") == (1, 2)
        store.mark_needs_redaction([added[0][1]])
        assert other.changes("c1") == (2, 3)
        assert store.delete_versions("c1", [added[1][1]]) == 1
        assert other.changes("c1") == (3, 4)
        assert store.delete_versions("c1", [added[1][1]]) == 0  # nothing deleted
        assert other.changes("c1") == (3, 4) and other.changes("c2") == (1, 4)
        assert store.holds_types("c1", ["indicator"]) and not store.holds_types("c1", ["malware"])
        assert not store.holds_types("c2", ["relationship", "note"])
    finally:
        other.close()
