"""A custom reference of any shape names what it holds (docs/policy.md, Rule 4): an
``x_..._ref`` holding a list or an object, an ``x_..._refs`` holding objects or lists; and an
identifier is a reference by its structure where STIX defines none: a dictionary's key or
value, a list's entry. Validation leaves custom properties to their producer, so the node
stores them; a reader who may not see an object named there receives the object without that
reference, by id and in pages (granular markings following what they marked), and a version
stored before the rule is read that way too. Over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from kizuna.node import Node
from kizuna.store.types import NewVersion
from tests.helpers import indicator
from tests.policy.ingress import REL, add_collection, rel, tlp, world

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


#: Where STIX defines no reference, an identifier is one by its structure: (the properties
#: to add, given the hidden and a visible id; what the reader receives of them).
STRUCTURAL: dict[str, Any] = {
    "dictionary keyed by ids": (
        lambda h, v: {"x_scores": {h: 5, v: 3}},
        lambda h, v: {"x_scores": {v: 3}},
    ),
    "dictionary value": (
        lambda h, v: {"x_about": {"first": h, "second": v}},
        lambda h, v: {"x_about": {"second": v}},
    ),
    "custom list": (
        lambda h, v: {"x_tags": ["apt", h, v]},
        lambda h, v: {"x_tags": ["apt", v]},
    ),
    "labels": (lambda h, v: {"labels": [h, "c2"]}, lambda h, v: {"labels": ["c2"]}),
    "external id": (
        lambda h, v: {"external_references": [{"source_name": "kizuna", "external_id": h}]},
        lambda h, v: {"external_references": [{"source_name": "kizuna"}]},
    ),
    "emptied list": (lambda h, v: {"x_tags": [h]}, lambda h, v: {}),
}


@pytest.mark.parametrize("shape", sorted(STRUCTURAL))
def test_an_identifier_by_structure_is_a_reference(
    tmp_path: Path, database: str, shape: str
) -> None:
    make, expected = STRUCTURAL[shape]
    with world(tmp_path, database) as w:
        add_collection(w, "intel")
        hidden = indicator(name="NATO only", markings=[rel("NATO")])
        seen = indicator(name="for all")
        obj = thing(shape, make(hidden["id"], seen["id"]))
        # Free text that spells an id is the writer's statement, not a reference: it stays.
        obj["description"] = f"see {hidden['id']}"
        status = w.post("admin", "intel", REL["NATO"], hidden, seen, obj)
        assert status["failure_count"] == 0, status
        full = [o for o in w.objects("camille", "intel") if o["id"] == obj["id"]]
        assert full == [obj]
        [got] = [o for o in w.objects("aiko", "intel") if o["id"] == obj["id"]]
        r = w.get("aiko", f"collections/{w.collections['intel']}/objects/{obj['id']}/")
        assert r.status_code == 200 and r.json()["objects"] == [got]
        want = {k: v for k, v in obj.items() if k not in make(hidden["id"], seen["id"])}
        assert got == {**want, **expected(hidden["id"], seen["id"])}
        assert f'"{hidden["id"]}"' not in r.text


def test_an_extension_whose_definition_is_hidden_goes(tmp_path: Path, database: str) -> None:
    """``extensions`` is keyed by the extension-definitions' ids: one the reader may not see
    goes, with the properties it defines."""
    with world(tmp_path, database) as w:
        add_collection(w, "intel")
        author = {
            "type": "identity", "spec_version": "2.1", "id": f"identity--{uuid.uuid4()}",
            "created": S, "modified": S, "name": "NATO-CERT", "identity_class": "organization",
        }  # fmt: skip
        ext = {
            "type": "extension-definition", "spec_version": "2.1",
            "id": f"extension-definition--{uuid.uuid4()}", "created": S, "modified": S,
            "created_by_ref": author["id"], "name": "scores", "schema": "https://x.example/s",
            "version": "1.0", "extension_types": ["property-extension"],
            "object_marking_refs": [rel("NATO")],
        }  # fmt: skip
        use = {"extension_type": "property-extension", "score": 7}
        obj = indicator(name="scored", extensions={ext["id"]: use})
        status = w.post("admin", "intel", REL["NATO"], author, ext, obj)
        assert status["failure_count"] == 0, status
        [full] = [o for o in w.objects("camille", "intel") if o["id"] == obj["id"]]
        assert full["extensions"] == {ext["id"]: use}
        r = w.get("aiko", f"collections/{w.collections['intel']}/objects/{obj['id']}/")
        assert r.status_code == 200
        assert r.json()["objects"][0]["extensions"] == {}
        assert ext["id"] not in r.text


def test_granular_markings_follow_what_an_identifier_removal_moves(
    tmp_path: Path, database: str
) -> None:
    """An entry removed for naming a hidden object takes its selector with it; a selector on
    a later entry moves down; one that named a removed key goes (docs/policy.md, Rule 3)."""
    with world(tmp_path, database) as w:
        add_collection(w, "intel")
        hidden = indicator(name="NATO only", markings=[rel("NATO")])
        seen = indicator(name="for all")
        green = tlp("green")
        obj = thing(
            "marked",
            {
                "x_tags": [hidden["id"], "apt"],
                "x_scores": {hidden["id"]: 1, seen["id"]: 2},
                "granular_markings": [
                    {"marking_ref": green, "selectors": ["x_tags.[1]"]},
                    {"marking_ref": green, "selectors": [f"x_scores.{hidden['id']}"]},
                    {"marking_ref": green, "selectors": [f"x_scores.{seen['id']}", "x_tags.[0]"]},
                ],
            },
        )
        status = w.post("admin", "intel", REL["NATO"], hidden, seen, obj)
        assert status["failure_count"] == 0, status
        [got] = [o for o in w.objects("aiko", "intel") if o["id"] == obj["id"]]
        assert got["x_tags"] == ["apt"]
        assert got["x_scores"] == {seen["id"]: 2}
        assert got["granular_markings"] == [
            {"marking_ref": green, "selectors": ["x_tags.[0]"]},
            {"marking_ref": green, "selectors": [f"x_scores.{seen['id']}"]},
        ]
        assert hidden["id"] not in json.dumps(got)


def test_a_version_stored_before_the_structural_rule_is_read_under_it(
    tmp_path: Path, database: str
) -> None:
    with world(tmp_path, database) as w:
        cid = add_collection(w, "intel")
        hidden = indicator(name="NATO only", markings=[rel("NATO")])
        assert w.post("admin", "intel", REL["NATO"], hidden)["failure_count"] == 0
        # Stored as before 2026-12-05: marked as needing no field-level pass.
        old = thing("old", {"x_scores": {hidden["id"]: 5}})
        body = json.dumps(old).encode()
        w.node.store.add_versions(
            cid, [NewVersion(old["id"], "x-thing", 1, "2.1", (), False, body)], "user:admin"
        )
        w.node.store.set_setting("needs_redaction_rule", "2026-12-04")
        directory, url = w.node.directory, database or None
        w.node.close()
        reopened = Node.open(directory, url)
        try:
            from tests.conftest import serve

            with serve(reopened) as base:
                w.node, w.url = reopened, base
                got = [o for o in w.objects("aiko", "intel") if o["id"] == old["id"]]
                assert got and got[0]["x_scores"] == {}
        finally:
            reopened.close()
