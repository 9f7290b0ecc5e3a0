"""A custom reference of any shape names what it holds (docs/policy.md, Rule 4): an
``x_..._ref`` holding a list or an object, an ``x_..._refs`` holding objects or lists.
Validation leaves custom properties to their producer, so the node stores them; a reader who
may not see an object named there receives the custom object without that reference, by id
and in pages, and a version stored before the rule is read that way too. Over real HTTP, on
SQLite and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from kizuna.node import Node
from kizuna.store.types import NewVersion
from tests.helpers import indicator
from tests.policy.ingress import REL, add_collection, rel, world

S = "2026-01-01T00:00:00.000Z"

SHAPES: dict[str, Any] = {
    "list under _ref": lambda h, v: {"x_target_ref": [h]},
    "object under _ref": lambda h, v: {"x_target_ref": {"id": h, "why": "c2"}},
    "object under _refs": lambda h, v: {"x_targets_refs": {"a": h}},
    "lists in _refs": lambda h, v: {"x_targets_refs": [[h], v]},
    "objects in _refs": lambda h, v: {"x_targets_refs": [{"id": h}, v]},
}


def thing(name: str, extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "x-thing", "spec_version": "2.1", "id": f"x-thing--{uuid.uuid4()}",
        "created": S, "modified": S, "name": name, **extra,
    }  # fmt: skip


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_a_custom_reference_of_any_shape_loses_a_hidden_id(
    tmp_path: Path, database: str, shape: str
) -> None:
    with world(tmp_path, database) as w:
        add_collection(w, "intel")
        hidden = indicator(name="NATO only", markings=[rel("NATO")])
        seen = indicator(name="for all")
        obj = thing(shape, SHAPES[shape](hidden["id"], seen["id"]))
        status = w.post("admin", "intel", REL["NATO"], hidden, seen, obj)
        assert status["failure_count"] == 0, status
        # camille (FRA: in NATO) sees everything; aiko (JPN) not the hidden indicator.
        assert hidden["id"] in json.dumps(w.objects("camille", "intel"))
        listed = w.objects("aiko", "intel")
        assert hidden["id"] not in json.dumps(listed)
        [got] = [o for o in listed if o["id"] == obj["id"]]
        r = w.get("aiko", f"collections/{w.collections['intel']}/objects/{obj['id']}/")
        assert r.status_code == 200 and r.json()["objects"] == [got]
        assert got["name"] == shape
        if "lists" in shape or "objects in" in shape:
            assert got["x_targets_refs"] == [seen["id"]]  # the entry naming it went
        else:
            assert not {"x_target_ref", "x_targets_refs"} & set(got)


def test_a_version_stored_before_the_rule_is_read_under_it(tmp_path: Path, database: str) -> None:
    with world(tmp_path, database) as w:
        cid = add_collection(w, "intel")
        hidden = indicator(name="NATO only", markings=[rel("NATO")])
        assert w.post("admin", "intel", REL["NATO"], hidden)["failure_count"] == 0
        # Stored as before 2026-12-04: marked as needing no field-level pass.
        old = thing("old", {"x_target_ref": [hidden["id"]]})
        body = json.dumps(old).encode()
        w.node.store.add_versions(
            cid, [NewVersion(old["id"], "x-thing", 1, "2.1", (), False, body)], "user:admin"
        )
        w.node.store.set_setting("needs_redaction_rule", "")
        directory, url = w.node.directory, database or None
        w.node.close()
        # The node is opened again (as after an upgrade): the version is marked at once.
        reopened = Node.open(directory, url)
        try:
            from tests.conftest import serve

            with serve(reopened) as base:
                w.node, w.url = reopened, base
                got = [o for o in w.objects("aiko", "intel") if o["id"] == old["id"]]
                assert got and "x_target_ref" not in got[0]
                assert hidden["id"] not in json.dumps(w.objects("aiko", "intel"))
        finally:
            reopened.close()
