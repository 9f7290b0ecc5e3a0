"""What is stored is what the gate decided on (docs/policy.md, Rule 6): over real HTTP, on
SQLite and on PostgreSQL.

- An object whose JSON repeats a key is refused at the door.
- A marking-definition refused for any reason is stored nowhere, and what depends on it in
  the same envelope is refused.
- An exercise collection marks every object that enters, definitions included, and adds no
  marking-definition to the node whose meaning its id does not say.
- An object nested past the limit is refused at ingest, whatever way it came in.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from kizuna.node import ingest
from kizuna.stix.limits import MAX_OBJECT_DEPTH
from kizuna.stix.markings import exercise_marking
from tests.helpers import indicator
from tests.policy.ingress import add_collection, failures, rel, successes, tlp, world


def _statement(text: str, **extra: Any) -> dict[str, Any]:
    obj = {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": f"marking-definition--{uuid.uuid4()}",
        "created": "2026-01-01T00:00:00.000Z",
        "definition_type": "statement",
        "definition": {"statement": text},
    }
    obj.update(extra)
    return obj


def test_an_object_that_repeats_a_key_is_refused(tmp_path: Path, database: str) -> None:
    with world(tmp_path, database) as w:
        cid = add_collection(w, "intel")
        good = indicator(markings=[rel("NATO")])
        bad = indicator()
        # The gate would read the last object_marking_refs; a reader keeping the first
        # would see an object marked TLP:CLEAR.
        text = json.dumps(bad)[:-1] + (
            f', "object_marking_refs": ["{tlp("clear")}"], '
            f'"object_marking_refs": ["{rel("NATO")}"]}}'
        )
        nested = indicator()
        nested_text = json.dumps(nested)[:-1] + ', "x_a": {"b": 1, "b": 2}}'
        body = '{"objects": [' + ", ".join([json.dumps(good), text, nested_text]) + "]}"
        r = w.post_raw("camille", "intel", body.encode())
        assert r.status_code == 202, r.text
        status = r.json()
        assert successes(status) == {good["id"]}
        assert "repeats the key 'object_marking_refs'" in failures(status)[bad["id"]]
        assert "repeats the key 'b'" in failures(status)[nested["id"]]
        assert [o["id"] for o in w.objects("admin", "intel")] == [good["id"]]
        assert w.node.store.count(cid) == 1


def test_a_refused_marking_definition_is_stored_nowhere(tmp_path: Path, database: str) -> None:
    with world(tmp_path, database) as w:
        add_collection(w, "intel")
        # Valid on its own, refused later: marked with a marking the node does not have.
        unknown = f"marking-definition--{uuid.uuid4()}"
        definition = _statement("(c) ACME", object_marking_refs=[unknown])
        chained = _statement("(c) ACME, part two", object_marking_refs=[definition["id"]])
        marked = indicator(markings=[definition["id"]])
        marked_by_chain = indicator(markings=[chained["id"]])
        fine = indicator(markings=[tlp("green")])
        status = w.post("camille", "intel", marked, definition, chained, marked_by_chain, fine)
        assert successes(status) == {fine["id"]}
        assert "not stored on this node" in failures(status)[definition["id"]]
        for oid in (marked["id"], chained["id"], marked_by_chain["id"]):
            assert "was refused in this envelope" in failures(status)[oid], oid
        for mid in (definition["id"], chained["id"]):
            assert w.node.store.marking_definition(mid) is None
            assert mid not in w.node.snapshot().markings
        # Two different definitions of one id in one envelope: neither.
        one = _statement("one")
        two = dict(one, definition={"statement": "two"})
        status = w.post("camille", "intel", one, two)
        assert status["failure_count"] == 2
        assert w.node.store.marking_definition(one["id"]) is None


def test_an_exercise_collection_marks_definitions_too(tmp_path: Path, database: str) -> None:
    with world(tmp_path, database) as w:
        add_collection(w, "drill", kind="exercise:LOCKED-SHIELDS")
        add_collection(w, "real")
        drill = str(exercise_marking("LOCKED-SHIELDS")["id"])
        extension = {
            "type": "extension-definition",
            "spec_version": "2.1",
            "id": f"extension-definition--{uuid.uuid4()}",
            "created": "2026-01-01T00:00:00.000Z",
            "modified": "2026-01-01T00:00:00.000Z",
            "created_by_ref": "identity--6b697a75-6e61-4000-8000-6b697a756e61",
            "name": "x-drill",
            "schema": "https://example.invalid/schema",
            "version": "1.0",
            "extension_types": ["property-extension"],
        }
        known = w.node.releasability_marking(["JPN", "FRA"])
        statement = _statement("exercise text")
        status = w.post("camille", "drill", extension, known, statement)
        assert successes(status) == {extension["id"], known["id"]}
        assert "exercise collection may not add" in failures(status)[statement["id"]]
        assert w.node.store.marking_definition(statement["id"]) is None
        stored = {o["id"]: o for o in w.objects("admin", "drill")}
        for oid in (extension["id"], known["id"]):
            assert drill in stored[oid]["object_marking_refs"], oid
        # What the exercise holds cannot enter a real collection, definitions included.
        status = w.post("admin", "real", *stored.values())
        assert status["success_count"] == 0
        assert all("exercise" in f["message"] for f in status["failures"])
        # The node-wide definition of the marking is the one sent, unmarked.
        body = w.node.store.marking_definition(known["id"])
        assert body is not None and "object_marking_refs" not in json.loads(body)


def test_an_object_nested_past_the_limit_is_refused_at_ingest(
    tmp_path: Path, database: str
) -> None:
    with world(tmp_path, database) as w:
        cid = add_collection(w, "intel")
        deep: Any = "x"
        for _ in range(400):
            deep = [deep]
        too_deep = indicator(x_deep=deep)
        at_limit: Any = "x"
        for _ in range(MAX_OBJECT_DEPTH - 1):  # the object itself is one level
            at_limit = [at_limit]
        just = indicator(x_deep=at_limit)
        snap = w.node.snapshot()
        admin = w.node.authenticate(w.tokens["admin"])
        assert admin is not None
        raw = [json.dumps(o).encode() for o in (too_deep, just)]
        results = ingest(w.node.store, snap, admin, snap.collections[cid], raw, "test")
        assert [r.ok for r in results] == [False, True]
        assert f"more than {MAX_OBJECT_DEPTH} levels deep" in results[0].message
        assert [o["id"] for o in w.objects("camille", "intel")] == [just["id"]]
