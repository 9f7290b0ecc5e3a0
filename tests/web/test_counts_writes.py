"""A collection's counts by type follow every write at once: the cache of the counts is keyed
by the store's change counters, which move in the transaction of each write to a collection's
versions, so no page shows a count made before a write it depends on (no waiting, no sleep).

Each case compares the page with the gate's own count made afresh (the oracle), after a
write that adds, deletes or withholds what the partner receives."""

from __future__ import annotations

import json
import re
import uuid
from collections import Counter

import httpx
import pytest

from kizuna.node import ingest
from kizuna.web import _browse
from kizuna.web import _reads as reads
from tests.helpers import TAXII
from tests.web.conftest import sign_in
from tests.web.world import GREEN, RED, T0, T1, World


@pytest.fixture(scope="module")
def partner(url: str, world: World) -> httpx.Client:
    return sign_in(url, "partner", world.tokens["partner"])


def _page_counts(client: httpx.Client, cid: str) -> tuple[int, Counter[str]]:
    html = client.get(f"/ui/collections/{cid}/").text
    total = re.search(r'>All</a> <span class="num">(\d+)</span>', html)
    assert total, html
    by_type = Counter({t: int(n) for t, n in re.findall(
        r'<a href="\?type=([^"]+)">[^<]*</a> <span class="num">(\d+)</span>', html)})
    return int(total.group(1)), by_type


def _gate_counts(world: World, cid: str) -> Counter[str]:
    """What the partner receives of the collection, counted now through the gate."""
    snap = world.node.snapshot()
    partner = world.node.principal_for(next(u for u in snap.users.values() if u.name == "partner"))
    c = snap.collection(cid)
    assert c is not None
    return Counter(r.row.type for r in reads.scan_released(world.node, snap, partner, c))


def _admin_ingest(world: World, cid: str, *objs: dict[str, object]) -> None:
    snap = world.node.snapshot()
    admin = world.node.principal_for(next(u for u in snap.users.values() if u.name == "admin"))
    c = snap.collection(cid)
    assert c is not None
    for r in ingest(world.node.store, snap, admin, c, [json.dumps(o).encode() for o in objs],
                    "user:admin"):
        assert r.ok and r.stored, r


def _agree(client: httpx.Client, world: World, cid: str) -> Counter[str]:
    total, by_type = _page_counts(client, cid)
    fresh = _gate_counts(world, cid)
    assert (total, by_type) == (sum(fresh.values()), fresh)
    return fresh


def _delete(url: str, world: World, cid: str, oid: str) -> None:
    answer = httpx.delete(f"{url}/api/collections/{cid}/objects/{oid}/",
                          headers={"Accept": TAXII, "Authorization": f"Bearer {world.tokens['admin']}"})
    assert answer.status_code == 200, answer.text


def test_counts_are_cached_while_nothing_changes(
    partner: httpx.Client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    _agree(partner, world, world.intel)
    counted: list[str] = []
    real = _browse._count
    monkeypatch.setattr(_browse, "_count", lambda *a: counted.append("x") or real(*a))
    for _ in range(3):
        _agree(partner, world, world.intel)
    assert counted == []  # answered from the cache


def test_a_new_object_is_counted_at_once(partner: httpx.Client, world: World) -> None:
    before = _agree(partner, world, world.intel)
    new = {"type": "malware", "spec_version": "2.1", "id": f"malware--{uuid.uuid4()}",
           "created": T0, "modified": T0, "name": "counted", "is_family": False,
           "object_marking_refs": [GREEN]}
    _admin_ingest(world, world.intel, new)
    assert _agree(partner, world, world.intel)["malware"] == before["malware"] + 1
    # a newer version the partner may not see changes nothing it receives (it receives the
    # older one), and the page says the same
    _admin_ingest(world, world.intel, dict(new, modified=T1, object_marking_refs=[RED]))
    assert _agree(partner, world, world.intel) == _gate_counts(world, world.intel)


def test_a_deleted_object_leaves_the_counts_at_once(
    url: str, partner: httpx.Client, world: World
) -> None:
    before = _agree(partner, world, world.intel)
    _delete(url, world, world.intel, world.ids["attack_pattern"])
    after = _agree(partner, world, world.intel)
    assert after["attack-pattern"] == before["attack-pattern"] - 1


def _relationship_to(target: str, world: World) -> dict[str, object]:
    return {"type": "relationship", "spec_version": "2.1", "id": f"relationship--{uuid.uuid4()}",
            "created": T0, "modified": T0, "relationship_type": "indicates",
            "source_ref": target, "target_ref": world.ids["malware"],
            "object_marking_refs": [GREEN]}


def _indicator(oid: str, marking: str) -> dict[str, object]:
    return {"type": "indicator", "spec_version": "2.1", "id": oid, "created": T0,
            "modified": T0, "name": "the target", "pattern_type": "stix",
            "pattern": "[ipv4-addr:value = '198.51.100.7']", "valid_from": T0,
            "object_marking_refs": [marking]}


def test_a_new_object_that_hides_a_relationship_takes_it_out_at_once(
    partner: httpx.Client, world: World
) -> None:
    """A relationship whose source is not stored is received; once the source is stored
    TLP:RED, it names a hidden object and is withheld (docs/policy.md, Rule 4): the count
    of relationships the page shows drops with that write."""
    before = _agree(partner, world, world.intel)
    target = f"indicator--{uuid.uuid4()}"
    _admin_ingest(world, world.intel, _relationship_to(target, world))
    assert _agree(partner, world, world.intel)["relationship"] == before["relationship"] + 1
    _admin_ingest(world, world.intel, _indicator(target, RED))
    assert _agree(partner, world, world.intel) == before


def test_a_write_to_a_collection_the_reader_cannot_read_counts_here(
    partner: httpx.Client, world: World
) -> None:
    """Hidden is stored anywhere on the node and received nowhere: the target stored TLP:RED
    in a collection the partner may not read withholds the relationship of this one, and the
    counts here follow that write to the other collection."""
    private = world.node.add_collection("Private", alias="private-" + uuid.uuid4().hex[:6],
                                        home_grant=False)
    before = _agree(partner, world, world.intel)
    target = f"indicator--{uuid.uuid4()}"
    _admin_ingest(world, world.intel, _relationship_to(target, world))
    assert _agree(partner, world, world.intel)["relationship"] == before["relationship"] + 1
    _admin_ingest(world, private.id, _indicator(target, RED))
    assert _agree(partner, world, world.intel) == before


def test_a_collection_without_withholdable_types_keeps_its_counts_through_other_writes(
    url: str, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = world.node.add_collection("Plain", alias="plain-" + uuid.uuid4().hex[:6])
    world.node.grant(plain.id, "RS-CERT", read=True, write=False, max_tlp="amber")
    _admin_ingest(world, plain.id, _indicator(f"indicator--{uuid.uuid4()}", GREEN))
    client = sign_in(url, "partner", world.tokens["partner"])
    assert _page_counts(client, plain.id) == (1, Counter({"indicator": 1}))
    counted: list[str] = []
    real = _browse._count
    monkeypatch.setattr(_browse, "_count", lambda *a: counted.append("x") or real(*a))
    _admin_ingest(world, world.intel, _indicator(f"indicator--{uuid.uuid4()}", GREEN))
    assert _page_counts(client, plain.id) == (1, Counter({"indicator": 1}))
    assert counted == []  # a write elsewhere cannot change what it holds for anyone
    _admin_ingest(world, plain.id, _indicator(f"indicator--{uuid.uuid4()}", GREEN))
    assert _page_counts(client, plain.id) == (2, Counter({"indicator": 2}))
    assert counted == ["x"]


def test_a_revoked_grant_ends_the_counts(url: str, world: World) -> None:
    other = world.node.add_collection("Revoked", alias="revoked-" + uuid.uuid4().hex[:6])
    world.node.grant(other.id, "RS-CERT", read=True, write=False, max_tlp="amber")
    _admin_ingest(world, other.id, {"type": "malware", "spec_version": "2.1",
                                    "id": f"malware--{uuid.uuid4()}", "created": T0,
                                    "modified": T0, "name": "soon gone", "is_family": False,
                                    "object_marking_refs": [GREEN]})
    client = sign_in(url, "partner", world.tokens["partner"])
    assert _page_counts(client, other.id) == (1, Counter({"malware": 1}))
    world.node.revoke(other.id, "RS-CERT")
    assert client.get(f"/ui/collections/{other.id}/").status_code == 404
