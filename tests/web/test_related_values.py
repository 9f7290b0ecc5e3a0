"""The object page's "Related by shared values": each related object the principal may see,
linked, with the shared value and how it relates; a hidden carrier never appears."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec

from kizuna.node import ingest
from tests.web.conftest import sign_in
from tests.web.world import GREEN, RED, World


def _put(world: World, objects: list[dict[str, Any]]) -> None:
    node = world.node
    snap = node.snapshot()
    admin = node.principal_for(next(u for u in snap.users.values() if u.name == "admin"))
    c = snap.collection(world.intel)
    assert c is not None
    results = ingest(node.store, snap, admin, c, [msgspec.json.encode(o) for o in objects], "file:test")
    assert all(r.ok for r in results), [r.message for r in results]


def _sco(kind: str, value: str, marking: str) -> dict[str, Any]:
    return {"type": kind, "spec_version": "2.1", "id": f"{kind}--{uuid.uuid4()}", "value": value,
            "object_marking_refs": [marking]}


def test_the_object_page_lists_what_shares_a_value_and_nothing_hidden(world: World, url: str) -> None:
    address = _sco("ipv4-addr", "203.0.113.77", GREEN)
    network = _sco("ipv4-addr", "203.0.113.0/24", GREEN)
    twin = _sco("ipv4-addr", "203.0.113.77", GREEN)
    hidden = _sco("ipv4-addr", "203.0.113.77", RED)
    hidden_net = _sco("ipv4-addr", "203.0.113.64/26", RED)
    _put(world, [address, network, twin, hidden, hidden_net])

    partner = sign_in(url, "partner", world.tokens["partner"])
    page = partner.get(f"/ui/objects/{address['id']}")
    assert page.status_code == 200
    html = page.text
    assert "Related by shared values" in html
    assert f'href="/ui/objects/{twin["id"]}"' in html
    assert f'href="/ui/objects/{network["id"]}"' in html
    assert "same value" in html and "inside network" in html and "203.0.113.77" in html
    for h in (hidden, hidden_net):
        assert h["id"] not in html and h["id"].split("--")[1] not in html
    assert "203.0.113.64/26" not in html

    # The node's administrator sees the TLP:RED ones too.
    admin = sign_in(url, "admin", world.tokens["admin"])
    html = admin.get(f"/ui/objects/{address['id']}").text
    assert hidden["id"] in html and hidden_net["id"] in html

    # An object that shares nothing has no such section.
    lone = _sco("ipv4-addr", "192.0.2.200", GREEN)
    _put(world, [lone])
    assert "Related by shared values" not in partner.get(f"/ui/objects/{lone['id']}").text
