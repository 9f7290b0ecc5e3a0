"""Joint exercises run in collections that never mix with real-world data."""

from __future__ import annotations

import json

import httpx
import pytest

from kizuna.errors import BadRequest
from kizuna.stix.markings import TLP2_IDS, exercise_marking
from tests.conftest import Live
from tests.helpers import TAXII, auth, envelope, indicator


def test_exercise_collections_stamp_their_marking_and_real_ones_refuse_it(live: Live) -> None:
    node = live.node
    drill = node.add_collection("Cyber Coalition 2026", kind="exercise:cyber-coalition")
    real = node.add_collection("real world")
    marking = exercise_marking("CYBER-COALITION")
    assert drill.kind == "exercise:CYBER-COALITION"
    with httpx.Client(base_url=live.url, headers=auth(live.token)) as client:
        objs = [indicator(name="inject 1"), indicator(name="inject 2", markings=[TLP2_IDS["green"]])]
        status = client.post(f"/api/collections/{drill.id}/objects/", headers={"Content-Type": TAXII},
                             content=envelope(objs)).json()
        assert status["success_count"] == 2, status
        stored = client.get(f"/api/collections/{drill.id}/objects/").json()["objects"]
        assert all(marking["id"] in o["object_marking_refs"] for o in stored)
        assert TLP2_IDS["green"] in next(o for o in stored if o["name"] == "inject 2")["object_marking_refs"]
        # Exercise data posted (or synced) into a real-world collection is refused.
        status = client.post(f"/api/collections/{real.id}/objects/", headers={"Content-Type": TAXII},
                             content=json.dumps({"objects": stored})).json()
        assert status["failure_count"] == 2
        assert "cannot enter a real-world collection" in status["failures"][0]["message"]
        assert "objects" not in client.get(f"/api/collections/{real.id}/objects/").json()


def test_bad_exercise_name_is_refused(live: Live) -> None:
    with pytest.raises(BadRequest, match="not an exercise name"):
        live.node.add_collection("x", kind="exercise:X")
    with pytest.raises(BadRequest, match="unknown collection kind"):
        live.node.add_collection("x", kind="fictional")
