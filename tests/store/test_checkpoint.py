"""SQLite's WAL is checkpointed by the store's own thread, not inside a writer's commit."""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from kizuna.store.adapters import SqliteStore
from kizuna.store.types import Collection, NewVersion, ObjectQuery, VersionMatch

LIMIT = 64 * 1024  # bytes of log that ask for a checkpoint, small for the test


def _store(tmp_path: Path) -> SqliteStore:
    store = SqliteStore(f"sqlite:///{tmp_path / 'k.db'}", checkpoint_bytes=LIMIT)
    store.create_schema()
    store.add_collection(Collection("c", "C", "", None, (), "real"))
    return store


def _write(store: SqliteStore, batch: int, count: int = 20) -> None:
    """*count* objects of about 1 KB each (a few log pages)."""
    store.add_versions(
        "c",
        [
            NewVersion(
                stix_id=f"note--00000000-0000-4000-8000-{batch * 1000 + i:012d}",
                type="note",
                version_us=1,
                spec_version="2.1",
                marking_refs=(),
                needs_redaction=False,
                body=b'{"content":"' + b"x" * 1000 + b'"}',
            )
            for i in range(count)
        ],
        "user:test",
    )


def _wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def _checkpoint_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "kizuna-wal-checkpoint"]


def test_the_thread_keeps_the_log_short_and_loses_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="kizuna.store")
    store = _store(tmp_path)
    checkpointer = store._checkpointer
    assert checkpointer is not None
    wal = tmp_path / "k.db-wal"
    _write(store, 0)
    assert checkpointer.limit_now == LIMIT  # a small database: the threshold as set
    for batch in range(1, 60):
        _write(store, batch)
        time.sleep(0.002)  # as between two requests: the thread gets the lock
    _wait_for(lambda: checkpointer.runs >= 3 and checkpointer.idle())
    # The database outgrew 16 x LIMIT, so the threshold grew to 4 x LIMIT (Checkpointer.limit).
    assert (tmp_path / "k.db").stat().st_size > 16 * LIMIT
    assert checkpointer.limit_now == 4 * LIMIT
    # Far more than that was written (60 x 20 KB), yet the log stayed within twice the
    # threshold (SQLite's own backstop) and a commit: checkpoints kept restarting it.
    assert wal.stat().st_size <= 2 * checkpointer.limit_now + 80 * 1024
    # Once a checkpoint has run with no writer beside it, the next commit restarts the log,
    # truncated back to the threshold in use.
    runs = checkpointer.runs
    checkpointer._wake.set()
    _wait_for(lambda: checkpointer.runs > runs and checkpointer.idle())
    _write(store, 999, count=1)
    assert wal.stat().st_size <= checkpointer.limit_now
    rows = store.query(ObjectQuery("c", versions=VersionMatch(all=True), limit=10_000))
    assert len(rows) == 60 * 20 + 1
    store.close()
    assert not _checkpoint_threads()
    # Each checkpoint says what it copied and how long the writers waited for it.
    said = [r.getMessage() for r in caplog.records if r.getMessage().startswith("WAL checkpoint")]
    assert len(said) == checkpointer.runs
    line = (
        r"WAL checkpoint: (\d+) of \1 frames copied in [\d.]+ s, "
        r"[\d.]+ s of it with the writers waiting"
    )
    assert re.fullmatch(line, said[-1])  # the last one, with no writer beside it: all of it
    # Everything is in the database file or its log: a fresh connection sees it all.
    with sqlite3.connect(tmp_path / "k.db") as conn:
        assert conn.execute("SELECT count(*) FROM versions").fetchone()[0] == 60 * 20 + 1


def test_no_thread_until_one_is_needed(tmp_path: Path) -> None:
    store = SqliteStore(f"sqlite:///{tmp_path / 'k.db'}")  # the default limit, 4 MiB
    store.create_schema()
    store.add_collection(Collection("c", "C", "", None, (), "real"))
    _write(store, 0)
    assert not _checkpoint_threads()
    store.close()


def test_a_reader_that_pins_the_log_does_not_make_every_commit_checkpoint(
    tmp_path: Path,
) -> None:
    store = _store(tmp_path)
    checkpointer = store._checkpointer
    assert checkpointer is not None
    for batch in range(10):
        _write(store, batch)
    _wait_for(checkpointer.idle)
    # A reader in the middle of a long read keeps the log from being restarted: one that
    # started while the log held pages not yet copied (else it reads the database file only).
    _write(store, 99, count=2)
    reader = sqlite3.connect(tmp_path / "k.db", isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM versions").fetchone()
    wal = tmp_path / "k.db-wal"
    runs, size = checkpointer.runs, wal.stat().st_size
    for batch in range(10, 40):
        _write(store, batch, count=2)  # a few pages each, far less than LIMIT
        time.sleep(0.002)
    _wait_for(checkpointer.idle)
    grown = wal.stat().st_size - size
    assert grown > 4 * LIMIT  # the log could not restart: it grew
    # A checkpoint per LIMIT bytes of growth at most, not one per commit.
    assert 1 <= checkpointer.runs - runs <= grown // LIMIT + 1 < 30
    reader.execute("COMMIT")
    reader.close()
    store.close()


def test_close_stops_the_thread_and_a_new_store_starts_its_own(tmp_path: Path) -> None:
    store = _store(tmp_path)
    for batch in range(20):
        _write(store, batch)
    assert _checkpoint_threads()
    store.close()
    assert not _checkpoint_threads()
    again = SqliteStore(f"sqlite:///{tmp_path / 'k.db'}", checkpoint_bytes=LIMIT)
    for batch in range(20, 40):
        _write(again, batch)
    assert again._checkpointer is not None
    _wait_for(lambda: again._checkpointer is not None and again._checkpointer.runs >= 1)
    again.close()
    assert not _checkpoint_threads()
    assert os.path.exists(tmp_path / "k.db")


def test_the_node_setting_sets_the_log_size_that_asks_for_a_checkpoint(tmp_path: Path) -> None:
    from kizuna.config import load, save
    from kizuna.errors import ConfigError
    from kizuna.node import Node

    node, _ = Node.init(tmp_path / "n", name="n", org="O", country="FRA")
    assert node.store._checkpointer._threshold == 64 << 20  # type: ignore[attr-defined]
    node.close()
    cfg = load(tmp_path / "n")
    cfg.sqlite_checkpoint_mib = 1
    save(tmp_path / "n", cfg)
    node = Node.open(tmp_path / "n")
    assert node.store._checkpointer._threshold == 1 << 20  # type: ignore[attr-defined]
    node.close()
    cfg.sqlite_checkpoint_mib = 0
    save(tmp_path / "n", cfg)
    with pytest.raises(ConfigError, match="sqlite_checkpoint_mib is 0"):
        Node.open(tmp_path / "n")
