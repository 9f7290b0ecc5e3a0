"""Correlation through the gate, on SQLite and PostgreSQL: the value index kept by ingest,
``related`` against a brute-force scan of what the principal may read, and nothing hidden
found, counted or shown."""

from __future__ import annotations

import ipaddress
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kizuna.cyber.correlate import HOLDS, INSIDE, OTHER_HASH, SAME, related
from kizuna.cyber.observables import observables
from kizuna.cyber.values import value_key
from kizuna.errors import NotFound
from kizuna.node import Node, ingest, read_page
from kizuna.policy.principal import Principal
from kizuna.stix.markings import TLP2_IDS
from kizuna.store.types import ObjectQuery
from tests.conftest import postgres_database

ADDRESSES = ["198.51.100.7", "198.51.100.9", "10.1.2.3", "198.51.100.0/24", "10.0.0.0/8"]
DOMAINS = ["c2.example", "C2.Example.", "other.example"]
TLPS = ["clear", "green", "amber", "red"]


def _sco(kind: str, value: str) -> dict[str, Any]:
    otype = "ipv4-addr" if kind == "ip" else "domain-name"
    return {"type": otype, "spec_version": "2.1", "id": f"{otype}--{uuid.uuid4()}", "value": value}


def _indicator(pattern: str, tlp: str) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid4()}",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00.000Z",
        "object_marking_refs": [TLP2_IDS[tlp]],
    }


class World:
    """A node with two collections: one the partner organization may read (up to amber), one
    it may not; objects under every TLP in both."""

    def __init__(self, directory: Path, database: str) -> None:
        self.node, _ = Node.init(
            directory, name="n", org="HOME", country="FRA", communities=["NATO"], database=database
        )
        # Levels of the value index that move on after a few entries, so that finds and
        # deletes cover every level and entries on their way between them.
        self.node.store.value_level_0 = 2
        self.node.store.value_level_1 = 3
        self.node.add_org("PARTNER", "DEU", ["NATO"])
        self.node.add_user("analyst", "PARTNER")
        self.open = self.node.add_collection("open", alias="open").id
        self.closed = self.node.add_collection("closed", alias="closed").id
        self.node.grant(self.open, "PARTNER", read=True, write=False, max_tlp="amber")
        snap = self.node.snapshot()
        self.admin = snap.principal_for(self.node.store.user("admin"))  # type: ignore[arg-type]
        self.partner = snap.principal_for(self.node.store.user("analyst"))  # type: ignore[arg-type]

    def put(self, collection: str, objects: list[dict[str, Any]]) -> None:
        snap = self.node.snapshot()
        c = snap.collection(collection)
        assert c is not None
        raw = [msgspec.json.encode(o) for o in objects]
        results = ingest(self.node.store, snap, self.admin, c, raw, "file:test")
        assert all(r.ok for r in results), [r.message for r in results if not r.ok]

    def visible(self, principal: Principal) -> dict[str, list[dict[str, Any]]]:
        """Brute force: every latest version *principal* receives, by id."""
        snap = self.node.snapshot()
        out: dict[str, list[dict[str, Any]]] = {}
        for cid in snap.readable(principal):
            c = snap.collection(cid)
            assert c is not None
            page = read_page(self.node.store, snap, principal, c, ObjectQuery(cid), 10_000)
            for item in page.items:
                out.setdefault(item.row.stix_id, []).append(msgspec.json.decode(item.body))
        return out


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql":
        with postgres_database():
            pass  # skips when no server is configured
    return str(request.param)


@contextmanager
def database(backend: str) -> Iterator[str]:
    """A fresh database of *backend* (each generated world needs its own)."""
    if backend == "sqlite":
        yield ""
    else:
        with postgres_database() as url:
            yield url


def _expected(world: World, principal: Principal, target: str) -> set[tuple[str, str, str]]:
    """(object id, relation, this object's value) by brute force over what is visible."""
    seen = world.visible(principal)
    mine = {(o.kind, o.value): o for obj in seen.get(target, []) for o in observables(obj)}
    out = set()
    for oid, objs in seen.items():
        if oid == target:
            continue
        theirs = {(o.kind, o.value) for obj in objs for o in observables(obj)}
        for (kind, value), o in mine.items():
            if (kind, value) in theirs:
                out.add((oid, SAME, value))
            if kind.startswith("ipv4"):
                net = ipaddress.ip_network(value, strict=False)
                for tk, tv in theirs:
                    if (
                        tk == "ipv4-net"
                        and net != ipaddress.ip_network(tv)
                        and net.subnet_of(ipaddress.ip_network(tv))
                    ):
                        out.add((oid, INSIDE, o.value))
                    if kind == "ipv4-net" and tk == "ipv4-addr" and ipaddress.ip_address(tv) in net:
                        out.add((oid, HOLDS, o.value))
    return out


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["open", "closed"]),
            st.sampled_from(TLPS),
            st.sampled_from(["ip", "domain", "indicator", "revised"]),
            st.integers(0, 4),
        ),
        min_size=3,
        max_size=14,
    ),
    st.data(),
)
def test_related_equals_a_brute_force_scan_and_hides_what_is_hidden(
    backend: str, tmp_path_factory: pytest.TempPathFactory, plan: list[Any], data: Any
) -> None:
    with database(backend) as url:
        _check_world(World(tmp_path_factory.mktemp("w") / "node", url), plan, data)


def _check_world(world: World, plan: list[Any], data: Any) -> None:
    try:
        ids = []
        for alias, tlp, kind, n in plan:
            if kind == "ip":
                obj = _sco("ip", ADDRESSES[n])
            elif kind == "domain":
                obj = _sco("domain", DOMAINS[n % 3])
            else:
                obj = _indicator(f"[ipv4-addr:value = '{ADDRESSES[n]}']", tlp)
            obj.setdefault("object_marking_refs", [TLP2_IDS[tlp]])
            where = world.open if alias == "open" else world.closed
            world.put(where, [obj])
            if kind == "revised":
                # A later version carries another value (and maybe other markings): the
                # index keeps the first version's entry, which relates nothing any more
                # to whoever receives the later one.
                later = dict(obj, modified="2026-01-02T00:00:00.000Z")
                later["pattern"] = f"[ipv4-addr:value = '{ADDRESSES[(n + 1) % 5]}']"
                later["object_marking_refs"] = [TLP2_IDS[TLPS[(TLPS.index(tlp) + n) % 4]]]
                world.put(where, [later])
            ids.append(obj["id"])
        target = data.draw(st.sampled_from(ids))
        for principal in (world.partner, world.admin):
            expected = _expected(world, principal, target)
            if target not in world.visible(principal):
                absent = f"{target.split('--')[0]}--{uuid.uuid4()}"
                with pytest.raises(NotFound) as hidden_error:
                    related(world.node, principal, target)
                with pytest.raises(NotFound) as absent_error:
                    related(world.node, principal, absent)
                # Hidden answers as absent does.
                assert str(hidden_error.value).replace(target, "X") == str(
                    absent_error.value
                ).replace(absent, "X")
                continue
            got: set[tuple[str, str, str]] = set()
            seen = world.visible(principal)
            after = -1
            while True:  # small pages: paging loses and repeats nothing
                page = related(world.node, principal, target, limit=2, after=after)
                # A page says there is more only when there is more that may be seen: no
                # page after the first is empty.
                assert page.items or after == -1
                got |= {(r.object_id, r.relation, r.value.value) for r in page.items}
                for r in page.items:
                    # Their value, as the principal receives the object; the object that
                    # tied two hashes is one they may see.
                    carried = {(o.kind, o.value) for obj in seen[r.object_id] for o in observables(obj)}
                    assert (r.theirs.kind, r.theirs.value) in carried
                    assert r.via is None or r.via in seen
                if page.next is None:
                    break
                after = page.next
            assert got == expected
            hidden = set(ids) - set(seen)
            assert not {g[0] for g in got} & hidden
    finally:
        world.node.close()


def test_the_index_follows_ingest_and_deletes_and_fills_when_turned_on(
    backend: str, tmp_path: Path
) -> None:
    with database(backend) as url:
        _index_lifecycle(World(tmp_path / "node", url), tmp_path)


def _index_lifecycle(world: World, tmp_path: Path) -> None:
    obj = _sco("domain", "C2.example")
    world.put(world.open, [obj])
    key = value_key("domain-name", "c2.example")
    store = world.node.store
    entries = store.value_entries([key])
    assert [(e[0], e[2], e[3]) for e in entries] == [(key, world.open, obj["id"])]
    assert store.value_entries([key], {world.closed: None}) == []
    assert store.value_entries([key], {world.open: frozenset()}) == []
    store.delete_versions(world.open, [entries[0][1]])
    assert store.value_entries([key]) == []
    assert store.value_index_entries() == 0  # gone from the index, not only unreachable
    # Entries that moved on to the larger levels are found and deleted there too.
    many = [_sco("domain", f"h{n}.example") for n in range(12)]
    world.put(world.open, many)
    assert store.value_index_entries() == 12
    found = store.value_entries([value_key("domain-name", f"h{n}.example") for n in range(12)])
    assert sorted(e[3] for e in found) == sorted(o["id"] for o in many)
    store.delete_versions(world.open, [e[1] for e in found])
    assert store.value_index_entries() == 0
    world.put(world.open, [_sco("domain", "c2.example.")])
    world.node.close()
    config = (tmp_path / "node" / "kizuna.toml").read_text()
    (tmp_path / "node" / "kizuna.toml").write_text(
        config.replace("value_index = true", "value_index = false")
    )
    node = Node.open(tmp_path / "node")
    assert node.store.value_entries([key]) == []  # off: nothing kept
    snap = node.snapshot()
    c = snap.collection(world.open)
    assert c is not None
    ingest(
        node.store, snap, world.admin, c, [json.dumps(_sco("domain", "c2.example")).encode()], "x"
    )
    node.close()
    (tmp_path / "node" / "kizuna.toml").write_text(config)
    node = Node.open(tmp_path / "node")
    assert len(node.store.value_entries([key])) == 2  # on again: filled from every version
    node.close()


def test_same_file_under_another_hash(tmp_path: Path) -> None:
    world = World(tmp_path / "node", "")
    md5, sha = "0275585c3b871405dd299d458724db3d", "ab" * 32
    by_md5 = _indicator(f"[file:hashes.MD5 = '{md5.upper()}']", "clear")
    link = {
        "type": "file",
        "spec_version": "2.1",
        "id": f"file--{uuid.uuid4()}",
        "hashes": {"MD5": md5, "SHA-256": sha},
    }
    by_sha = _indicator(f"[file:hashes.'SHA-256' = '{sha}']", "clear")
    world.put(world.open, [by_md5, link, by_sha])
    page = related(world.node, world.partner, by_md5["id"])
    assert {(r.object_id, r.relation, r.via) for r in page.items} == {
        (link["id"], SAME, None),
        (by_sha["id"], OTHER_HASH, link["id"]),
    }
    world.node.close()
