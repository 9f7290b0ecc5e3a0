"""Stores made by older code, on SQLite and PostgreSQL: the value index a store already holds
answers as a fresh store's does, or is filled again, once, when its keys are of another form.

The older stores are forged here row by row, as the code of their time wrote them: the
index in one table (35b50df to 8826168) or in three levels (8826168 on), with keys made by
the rules as they stood before b27ff3e (an ``Observable`` per value, ``ipaddress`` for
IPv4, the hash through ``int.from_bytes``) and no record of the keys' form.
"""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Iterator
from hashlib import blake2b
from pathlib import Path
from typing import Any

import msgspec
import pytest
from sqlalchemy import Connection, create_engine, inspect, make_url

from kizuna.cyber.cli import node_benign
from kizuna.cyber.correlate import related
from kizuna.cyber.matcher import Matcher
from kizuna.cyber.matching import load_indicators, match_batch
from kizuna.cyber.observables import observables
from kizuna.cyber.observations import observations
from kizuna.cyber.values import KEY_VERSION, body_keys
from kizuna.errors import NotFound
from kizuna.node import Node
from kizuna.stix.markings import TLP2_IDS
from kizuna.stix.timestamps import to_micros
from tests.cyber.test_correlate import World, _indicator, database

LEVELS = ("value_index_recent", "value_index_1", "value_index")
MD5 = "0275585c3b871405dd299d458724db3d"
SHA = "ab" * 32


def _old_key(kind: str, value: str) -> int:
    """A value's key as the code before b27ff3e made it."""
    if kind == "ipv4-addr":
        return -(2**63) + int(ipaddress.IPv4Address(value))
    digest = blake2b(f"{kind}\x00{value}".encode(), digest_size=8).digest()
    key = int.from_bytes(digest, "big", signed=True)
    return key + 2**32 if key < -(2**63) + 2**32 else key


def _old_keys(body: bytes) -> list[int]:
    return sorted({_old_key(o.kind, o.value) for o in observables(msgspec.json.decode(body))})


def body_keys_of(body: bytes) -> list[int]:
    """The keys the code of today makes."""
    obj = msgspec.json.decode(body)
    return list(body_keys(obj["type"], body))


def _other_form(body: bytes) -> list[int]:
    """Keys of a form the code never made (the value hashed without its kind): what a store
    of another form holds, as far as the code of today can tell."""
    obj = msgspec.json.decode(body)
    return sorted(
        {
            int.from_bytes(blake2b(o.value.encode(), digest_size=8).digest(), "big", signed=True)
            for o in observables(obj)
        }
    )


def _sco(otype: str, value: str, tlp: str) -> dict[str, Any]:
    return {
        "type": otype,
        "spec_version": "2.1",
        "id": f"{otype}--{uuid.uuid4()}",
        "value": value,
        "object_marking_refs": [TLP2_IDS[tlp]],
    }


def _plan() -> list[tuple[str, dict[str, Any]]]:
    """(collection alias, object) to store, in order: values written in several forms that
    normalize alike, networks and addresses inside them, hashes tied by a file, markings
    the partner may and may not see, a revised indicator."""
    revised = _indicator("[ipv4-addr:value = '10.1.2.3']", "green")
    later = dict(revised, modified="2026-01-02T00:00:00.000Z")
    later["pattern"] = "[domain-name:value = 'other.example']"
    f = {
        "type": "file",
        "spec_version": "2.1",
        "id": f"file--{uuid.uuid4()}",
        "hashes": {"MD5": MD5.upper(), "SHA-256": SHA},
        "object_marking_refs": [TLP2_IDS["green"]],
    }
    return [
        ("open", _sco("ipv4-addr", "198.51.100.7", "green")),
        ("closed", _sco("ipv4-addr", "198.51.100.7", "clear")),
        ("open", _sco("ipv4-addr", "10.1.2.3", "red")),
        ("open", _sco("ipv4-addr", "10.0.0.0/8", "clear")),
        ("open", _sco("domain-name", "C2.Example.", "clear")),
        ("open", _sco("domain-name", "c2.example", "amber")),
        ("open", _sco("url", "HTTP://C2.example:80/a", "green")),
        ("open", _sco("url", "http://c2.example/a", "clear")),
        ("open", _sco("email-addr", "alice@C2.Example", "clear")),
        ("open", f),
        ("open", _indicator("[ipv4-addr:value = '198.51.100.7']", "clear")),
        ("open", _indicator("[ipv4-addr:value ISSUBSET '198.51.100.0/24']", "green")),
        ("closed", _indicator("[domain-name:value = 'C2.EXAMPLE']", "clear")),
        (
            "open",
            _indicator(
                "[domain-name:value = 'c2.example' OR url:value = 'http://c2.example/a']", "amber"
            ),
        ),
        ("open", _indicator(f"[file:hashes.'SHA-256' = '{SHA}']", "clear")),
        (
            "open",
            _indicator(
                f"[file:hashes.MD5 = '{MD5}'] FOLLOWEDBY [ipv4-addr:value = '10.1.2.3'] "
                "WITHIN 60 SECONDS",
                "green",
            ),
        ),
        ("open", revised),
        ("open", later),
        ("open", _indicator("[ipv4-addr:value = '203.0.113.5']", "red")),
    ]


def _world(directory: Path, url: str, plan: list[tuple[str, dict[str, Any]]]) -> World:
    world = World(directory, url)
    for alias, obj in plan:
        world.put(world.open if alias == "open" else world.closed, [obj])
    return world


def _answers(world: World, plan: list[Any], seen: list[dict[str, Any]]) -> dict[Any, Any]:
    """What ``related`` (every page, small ones) and ``match`` (of *seen*) give the admin
    and the partner."""
    out: dict[Any, Any] = {}
    for who, principal in (("admin", world.admin), ("partner", world.partner)):
        for oid in sorted({obj["id"] for _, obj in plan}):
            found: list[Any] = []
            after = -1
            try:
                while True:
                    page = related(world.node, principal, oid, limit=3, after=after)
                    found += [
                        (r.object_id, r.relation, r.value, r.theirs, r.via) for r in page.items
                    ]
                    if page.next is None:
                        break
                    after = page.next
            except NotFound:
                found = ["not found"]
            out[who, oid] = sorted(found, key=repr)
        hits = match_batch(
            Matcher(load_indicators(world.node, principal)),
            observations(seen, now_us=to_micros("2026-06-01T00:00:00Z")),
            node_benign(world.node),
            include_benign=True,  # every value here is of a reserved range or name
        )
        out[who, "match"] = sorted(
            (h.match.indicator.id, tuple(sorted(o.id for o in h.observations)), h.benign)
            for h in hits
        )
    return out


#: Observations to match (the same in every store).
SEEN = [
    _sco("ipv4-addr", "198.51.100.7", "clear"),
    _sco("domain-name", "c2.example", "clear"),
    _sco("ipv4-addr", "10.1.2.3", "clear"),
]


def _connect(world: World) -> Connection:
    url = make_url(world.node.config.database_url(world.node.directory))
    if url.get_backend_name().startswith("postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return create_engine(url).connect()


def _levels(conn: Connection) -> dict[str, set[tuple[int, int]]]:
    return {
        level: {(int(k), int(a)) for k, a in conn.exec_driver_sql(f"SELECT * FROM {level}")}
        for level in LEVELS
    }


def _setting(conn: Connection, key: str) -> str | None:
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    row = conn.exec_driver_sql(f"SELECT value FROM settings WHERE key = {mark}", (key,)).first()
    return None if row is None else str(row[0])


def _forge(world: World, keys: Any, layout: str, form: str | None) -> dict[str, Any]:
    """Replace the world's index (its node closed) by entries of *keys* (body -> keys) in
    the tables of *layout*, with *form* recorded (None: nothing, as before the form was
    recorded). The entries each table holds, by table."""
    world.node.close()
    with _connect(world) as conn:
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        entries = sorted(
            (key, int(added))
            for added, body in conn.exec_driver_sql("SELECT added_us, body FROM versions")
            for key in keys(bytes(body))
        )
        for level in LEVELS:
            conn.exec_driver_sql(f"DELETE FROM {level}")
        conn.exec_driver_sql(
            "DELETE FROM settings WHERE key IN ('value_index_keys', 'value_index_last_entries')"
        )
        held: dict[str, list[tuple[int, int]]] = {}
        ordered = sorted(entries, key=lambda e: e[1])
        third = len(ordered) // 3
        if layout == "one table":  # 35b50df to 8826168: no levels, nothing but the state
            held["value_index"] = entries
            conn.exec_driver_sql("DROP TABLE value_index_recent")
            conn.exec_driver_sql("DROP TABLE value_index_1")
        elif layout == "levels":  # 8826168 to 2026-12-07: level 0 ordered by key
            held["value_index"] = ordered[:third]
            held["value_index_1"] = ordered[third : 2 * third]
            held["value_index_0"] = ordered[2 * third :]
            conn.exec_driver_sql("DROP TABLE value_index_recent")
            conn.exec_driver_sql(
                "CREATE TABLE value_index_0 (value_key BIGINT NOT NULL, added_us BIGINT NOT "
                "NULL, PRIMARY KEY (value_key, added_us))"
                + (" WITHOUT ROWID" if conn.dialect.name == "sqlite" else "")
            )
        else:  # as the code of today lays it out
            held["value_index"] = ordered[:third]
            held["value_index_1"] = ordered[third : 2 * third]
            held["value_index_recent"] = ordered[2 * third :]
        if layout != "one table":
            conn.exec_driver_sql(
                f"INSERT INTO settings (key, value) VALUES ('value_index_last_entries', {mark})",
                (str(third),),
            )
        for level, rows in held.items():
            if rows:
                conn.exec_driver_sql(
                    f"INSERT INTO {level} (value_key, added_us) VALUES ({mark}, {mark})", rows
                )
        if form is not None:
            conn.exec_driver_sql(
                f"INSERT INTO settings (key, value) VALUES ('value_index_keys', {mark})", (form,)
            )
        assert _setting(conn, "value_index") == "on"
        conn.commit()
    return {level: set(rows) for level, rows in held.items()}


def _as_opened(forged: dict[str, set[tuple[int, int]]]) -> dict[str, set[tuple[int, int]]]:
    """Where the entries of a forged index are once its store has opened: those of a level
    0 ordered by key (value_index_0) in level 1, the others where they were."""
    return {
        "value_index_recent": forged.get("value_index_recent", set()),
        "value_index_1": forged.get("value_index_1", set()) | forged.get("value_index_0", set()),
        "value_index": forged.get("value_index", set()),
    }


def _index_of(world: World) -> dict[str, set[tuple[int, int]]]:
    with _connect(world) as conn:
        return _levels(conn)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql":
        with database("postgresql"):
            pass  # skips when no server is configured
    return str(request.param)


@pytest.fixture
def pair(backend: str, tmp_path: Path) -> Iterator[tuple[World, World, list[Any]]]:
    """A fresh world and another that stored the same objects (to be made old)."""
    plan = _plan()
    with database(backend) as fresh_url, database(backend) as old_url:
        fresh = _world(tmp_path / "fresh", fresh_url, plan)
        old = _world(tmp_path / "old", old_url, plan)
        try:
            yield fresh, old, plan
        finally:
            fresh.node.close()
            old.node.close()


def _reopen(world: World) -> None:
    world.node.close()
    world.node = Node.open(world.node.directory)


@pytest.mark.parametrize("layout", ["one table", "levels"])
def test_an_index_made_before_b27ff3e_answers_as_a_fresh_one(
    pair: tuple[World, World, list[Any]], layout: str
) -> None:
    fresh, old, plan = pair
    expected = _answers(fresh, plan, SEEN)
    assert sum(len(v) for k, v in expected.items() if k[1] != "match") > 40
    assert expected["admin", "match"] and expected["partner", "match"]
    kept = set().union(*_index_of(old).values())
    forged = _forge(old, _old_keys, layout, None)
    # The keys were of the same form before b27ff3e: the entries such a store holds are the
    # ones the code of today made, and the store is kept as it is.
    assert set().union(*forged.values()) == kept
    # A read-only node (kizuna serve --read-only) reads its tables as they are.
    old.node = Node.open(old.node.directory, read_only=True)
    assert _answers(old, plan, SEEN) == expected
    _reopen(old)
    assert _answers(old, plan, SEEN) == expected
    assert old.node.store.value_index_entries() == fresh.node.store.value_index_entries()
    with _connect(old) as conn:
        # Not filled again: each entry where it was (or, from a level 0 ordered by key, in
        # level 1, where its next move would have taken it).
        assert _levels(conn) == _as_opened(forged)
        assert _setting(conn, "value_index_keys") == str(KEY_VERSION) == "1"
        assert not inspect(conn).has_table("value_index_0")
    _reopen(old)
    assert _index_of(old) == _as_opened(forged)
    assert _answers(old, plan, SEEN) == expected


@pytest.mark.parametrize("layout", ["one table", "levels", "current"])
def test_an_index_of_another_form_is_filled_again_once(
    pair: tuple[World, World, list[Any]], layout: str
) -> None:
    fresh, old, plan = pair
    expected = _answers(fresh, plan, SEEN)
    forged = _forge(old, _other_form, layout, "0")
    # Read as it is (a read-only node prepares nothing), it answers wrongly: what the
    # filling on open repairs.
    old.node = Node.open(old.node.directory, read_only=True)
    assert _answers(old, plan, SEEN) != expected
    _reopen(old)
    assert _answers(old, plan, SEEN) == expected
    with _connect(old) as conn:
        filled = _levels(conn)
        assert _setting(conn, "value_index_keys") == str(KEY_VERSION)
        assert _setting(conn, "value_index_last_entries") == str(len(filled["value_index"]))
        versions = conn.exec_driver_sql("SELECT added_us, body FROM versions").all()
    # Nothing lost, nothing of the old form left: every stored version's keys, in the last
    # level, as a fresh store of the same versions holds them.
    assert filled == {
        "value_index_recent": set(),
        "value_index_1": set(),
        "value_index": {(k, int(a)) for a, b in versions for k in body_keys_of(bytes(b))},
    }
    assert not filled["value_index"] & set().union(*forged.values())
    assert len(filled["value_index"]) == fresh.node.store.value_index_entries()
    # Filled once: a version stored since stays in level 0 through the next open.
    old.put(old.open, [_sco("domain-name", "new.example", "clear")])
    entered = _index_of(old)["value_index_recent"]
    assert len(entered) == 1
    _reopen(old)
    again = _index_of(old)
    assert again["value_index_recent"] == entered
    assert again["value_index"] == filled["value_index"]
