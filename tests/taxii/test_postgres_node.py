"""A node on PostgreSQL serves TAXII exactly like one on SQLite (taxii2-client round trip)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from taxii2client.v21 import Collection, as_pages

from kizuna.node import Node
from tests.conftest import postgres_database, serve
from tests.helpers import bundle_objects

pytestmark = [pytest.mark.postgres, pytest.mark.filterwarnings("ignore::DeprecationWarning")]


def test_node_on_postgres(tmp_path: Path) -> None:
    with postgres_database() as url:
        node, token = Node.init(tmp_path / "pg", name="pg", org="NATO-CERT", country="BEL", database=url)
        try:
            assert node.store.dialect == "postgresql"
            cid = node.add_collection("c").id
            objects = bundle_objects("oasis-example-poisonivy.json.gz")
            with serve(node) as base:
                coll = Collection(f"{base}/api/collections/{cid}/", user="admin", password=token)
                status = coll.add_objects(json.dumps({"objects": objects}))
                assert status.failure_count == 0
                seen = [o["id"] for env in as_pages(coll.get_objects, per_request=40) for o in env.get("objects", [])]
                assert sorted(seen) == sorted({o["id"] for o in objects})
        finally:
            node.close()
