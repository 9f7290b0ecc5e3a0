"""Hostile files imported from a collection page: each is refused with a message and a 400,
nothing stored, the server unharmed (a JSON array nested 200,000 deep, read as an OMM, had
answered 500 or reset the connection: RecursionError in the JSON decoder)."""

from __future__ import annotations

import gzip

import pytest

from kizuna.node import read_page
from kizuna.store.types import ObjectQuery
from tests.web.conftest import csrf_of, sign_in
from tests.web.world import World

DEEP = 200_000
HOSTILE = {
    "deep-list.json": b"[" * DEEP + b"]" * DEEP,
    "deep-list-cut.txt": b"[" * DEEP,
    "deep-after-a-record.json": b'[{"NORAD_CAT_ID": 5}, ' + b"[" * DEEP + b"]" * DEEP + b"]",
    "deep-object.json": b'{"a":' * DEEP + b"1" + b"}" * DEEP,
    "deep.json.gz": gzip.compress(b"[" * DEEP),
    "deep.xml": b"<ndm>" + b"<a>" * DEEP + b"</a>" * DEEP + b"</ndm>",
    "garbage.bin": bytes(range(256)) * 64,
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_file_is_refused_with_a_message(world: World, url: str, name: str) -> None:
    client = sign_in(url, "partner", world.tokens["partner"])
    page = client.get(f"/ui/collections/{world.intel}/")
    node = world.node
    snap = node.snapshot()
    admin = node.principal_for(next(u for u in snap.users.values() if u.name == "admin"))
    intel = snap.collection(world.intel)
    assert intel is not None

    def stored() -> int:
        return len(read_page(node.store, node.snapshot(), admin, intel,
                             ObjectQuery(world.intel), 10_000).items)

    before = stored()
    answer = client.post(f"/ui/collections/{world.intel}/import",
                         data={"csrf": csrf_of(page.text)}, files={"file": (name, HOSTILE[name])})
    assert answer.status_code == 400, (name, answer.status_code, answer.text[:300])
    assert "Refused" in answer.text
    assert stored() == before
    assert client.get(f"/ui/collections/{world.intel}/").status_code == 200


def test_a_gzip_bomb_is_refused_past_its_decompressed_limit(world: World, url: str) -> None:
    from kizuna.web._importing import MAX_DECOMPRESSED

    client = sign_in(url, "partner", world.tokens["partner"])
    page = client.get(f"/ui/collections/{world.intel}/")
    head = b'{"type": "bundle", "id": "bundle--6f3c8a55-9a55-4c55-8c55-1c55b55a5c55", "objects": ['
    bomb = gzip.compress(head + b" " * (MAX_DECOMPRESSED + 2**20) + b"]}", compresslevel=1)
    assert len(bomb) < 2 * 2**20  # a small upload
    answer = client.post(f"/ui/collections/{world.intel}/import",
                         data={"csrf": csrf_of(page.text)}, files={"file": ("bomb.json.gz", bomb)})
    assert answer.status_code == 400, answer.text[:300]
    assert f"more than {MAX_DECOMPRESSED} bytes once decompressed" in answer.text
