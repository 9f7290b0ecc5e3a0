"""The OASIS taxii2-client, unchanged, against a real Kizuna server on 127.0.0.1."""

from __future__ import annotations

import json

import pytest
from taxii2client.v21 import ApiRoot, Collection, Server, as_pages

from tests.conftest import Live
from tests.helpers import bundle_objects

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def collection_id(live: Live) -> str:
    c = live.node.add_collection("Shared", description="test data")
    return c.id


def test_discovery_api_root_and_collections(live: Live, collection_id: str) -> None:
    server = Server(live.url + "/taxii2/", user="admin", password=live.token)
    assert server.title.startswith("Kizuna node")
    assert [r.url for r in server.api_roots] == [live.api]
    root: ApiRoot = server.default
    assert root.versions == ["application/taxii+json;version=2.1"]
    assert root.max_content_length == live.node.config.max_body_bytes
    ids = {c.id for c in root.collections}
    assert collection_id in ids
    shared = next(c for c in root.collections if c.id == collection_id)
    assert shared.title == "Shared" and shared.can_read and shared.can_write


def test_add_page_manifest_versions(live: Live, collection_id: str) -> None:
    url = f"{live.api}collections/{collection_id}/"
    coll = Collection(url, user="admin", password=live.token)
    objects = bundle_objects("oasis-example-apt1.json.gz") + bundle_objects(
        "oasis-example-poisonivy.json.gz"
    )
    status = coll.add_objects(json.dumps({"objects": objects}))
    assert status.status == "complete"
    assert status.failure_count == 0, status.failures
    assert status.success_count == len(objects)
    distinct = {o["id"] for o in objects}

    seen: list[str] = []
    pages = 0
    for envelope in as_pages(coll.get_objects, per_request=50):
        pages += 1
        seen.extend(o["id"] for o in envelope.get("objects", []))
    assert sorted(seen) == sorted(distinct)
    assert pages == -(-len(distinct) // 50)

    manifest_ids: list[str] = []
    for page in as_pages(coll.get_manifest, per_request=100):
        manifest_ids.extend(r["id"] for r in page.get("objects", []))
        for record in page.get("objects", []):
            assert record["media_type"] == "application/stix+json;version=2.1"
    assert sorted(manifest_ids) == sorted(distinct)

    some = objects[0]
    got = coll.get_object(some["id"])
    assert got["objects"][0] == some
    versions = coll.object_versions(some["id"])
    assert len(versions["versions"]) == 1


def test_version_history_from_two_releases(live: Live, collection_id: str) -> None:
    url = f"{live.api}collections/{collection_id}/"
    coll = Collection(url, user="admin", password=live.token)
    old = bundle_objects("mobile-attack-14.1-sample.json.gz")
    new = bundle_objects("mobile-attack-17.1-sample.json.gz")
    assert coll.add_objects(json.dumps({"objects": old})).failure_count == 0
    status = coll.add_objects(json.dumps({"objects": new}))
    # MITRE re-issued its copyright statement marking with a new year under the same id;
    # marking-definitions are immutable, so exactly that object is refused, with the reason.
    assert status.failure_count == 1
    assert status.failures[0]["id"] == "marking-definition--fa42a846-8d90-4e51-bc29-71d5b4802168"
    assert "immutable" in status.failures[0]["message"]
    assert status.success_count == len(new) - 1
    changed = next(
        o
        for o in new
        if o["type"] == "attack-pattern"
        and any(p["id"] == o["id"] and p["modified"] != o["modified"] for p in old)
    )
    versions = coll.object_versions(changed["id"])["versions"]
    assert len(versions) == 2
    latest = coll.get_object(changed["id"])["objects"]
    assert [o["modified"] for o in latest] == [changed["modified"]]
    first = coll.get_object(changed["id"], version="first")["objects"]
    assert first[0]["modified"] < changed["modified"]
    every = coll.get_object(changed["id"], version="all")["objects"]
    assert len(every) == 2


def test_an_object_without_a_version_has_its_date_added_as_version(
    live: Live, collection_id: str
) -> None:
    """TAXII 2.1 status details require a version; for an SCO (no modified, no created) it is
    the date_added, as in the manifest."""
    coll = Collection(f"{live.api}collections/{collection_id}/", user="admin", password=live.token)
    sco = {
        "type": "domain-name",
        "spec_version": "2.1",
        "id": "domain-name--3c10e93f-798e-5a26-a0c1-08156efab7f5",
        "value": "example.com",
    }
    for _ in range(2):  # stored, then already stored: the same version both times
        status = coll.add_objects(json.dumps({"objects": [sco]}))
        assert status.success_count == 1, status.failures
        manifest = coll.get_manifest()["objects"]
        assert [r["version"] for r in manifest] == [manifest[0]["date_added"]]
        assert status.successes[0]["version"] == manifest[0]["date_added"]


def test_custom_types_and_properties_survive_round_trip(live: Live, collection_id: str) -> None:
    url = f"{live.api}collections/{collection_id}/"
    coll = Collection(url, user="admin", password=live.token)
    objects = bundle_objects("mbc-sample.json.gz")
    status = coll.add_objects(json.dumps({"objects": objects}))
    assert status.failure_count == 0, status.failures
    custom = [
        o for o in objects if o["type"].startswith("malware-") or any(k.startswith("x_") for k in o)
    ]
    assert custom
    for obj in custom[:20]:
        assert coll.get_object(obj["id"])["objects"] == [obj]
