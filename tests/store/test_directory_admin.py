"""The directory's undo operations, on both adapters: revoke, rotate, disable, forget a peer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from kizuna.store import SqlStore, open_store
from kizuna.store.types import Collection, Grant, Org, Peer, SyncCursor


@pytest.fixture
def store(database: str, tmp_path: Path) -> Iterator[SqlStore]:
    s = open_store(database or f"sqlite:///{tmp_path / 'store.db'}")
    s.create_schema()
    s.add_org(Org("JPN-CERT", "JPN", ("IP4",), "identity--x"))
    yield s
    s.close()


def test_a_collection_and_its_first_grants_are_stored_together(store: SqlStore) -> None:
    g0 = store.policy_generation()
    store.add_collection(
        Collection("c1", "One", "", None, (), "real"), [Grant("c1", "JPN-CERT", True, True, "red")]
    )
    assert store.grants() == [Grant("c1", "JPN-CERT", True, True, "red")]
    assert store.policy_generation() > g0
    with pytest.raises(IntegrityError):  # no such organization: neither is stored
        store.add_collection(
            Collection("c2", "Two", "", None, (), "real"), [Grant("c2", "NOBODY", True, False, "clear")]
        )
    assert [c.id for c in store.collections()] == ["c1"]


def test_delete_grant(store: SqlStore) -> None:
    store.add_collection(Collection("c1", "One", "", None, (), "real"))
    store.set_grant(Grant("c1", "JPN-CERT", True, False, "amber"))
    g0 = store.policy_generation()
    assert store.delete_grant("c1", "JPN-CERT") is True
    assert store.grants() == [] and store.policy_generation() > g0
    assert store.delete_grant("c1", "JPN-CERT") is False


def test_rotate_and_disable_users(store: SqlStore) -> None:
    store.add_user("aiko", "JPN-CERT", "a" * 64)
    g0 = store.policy_generation()
    assert store.set_token_hash("aiko", "b" * 64) is True
    assert store.policy_generation() > g0
    assert set(store.users_by_token_hash()) == {"b" * 64}
    assert store.disable_user("aiko") is True
    assert store.users_by_token_hash() == {}
    assert store.user("aiko").disabled  # type: ignore[union-attr]
    assert store.disable_user("aiko") is False
    assert store.set_token_hash("aiko", "c" * 64) is True  # enabled again, with a new token
    assert set(store.users_by_token_hash()) == {"c" * 64}
    assert [u.disabled for u in store.users()] == [False]
    assert store.set_token_hash("nobody", "d" * 64) is False
    assert store.disable_user("nobody") is False


def test_remove_peer_forgets_its_cursors_only(store: SqlStore) -> None:
    for name in ("jpn", "aus"):
        store.add_peer(Peer(name, "http://x", "JPN-CERT", "t", (("r", "c1"),), ()))
        store.set_cursor(SyncCursor(name, "pull", "c1", "r", "2026-01-01T00:00:00.000Z"))
    assert store.remove_peer("jpn") is True
    assert [p.name for p in store.peers()] == ["aus"]
    assert store.cursor("jpn", "pull", "c1", "r") is None
    assert store.cursor("aus", "pull", "c1", "r") == "2026-01-01T00:00:00.000Z"
    assert store.remove_peer("jpn") is False
