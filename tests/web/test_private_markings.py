"""A marking-definition whose meaning its id does not say (a statement's text, an exercise
marking's name under an id of its own) is learnt only by who may see the definition
(docs/policy.md, Rule 6): no page shows it to anyone else, whatever object carries it or
whatever a filter asks for."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest

from kizuna.node import ingest
from kizuna.stix.markings import EXERCISE_EXTENSION
from kizuna.taxii.app import create_app
from kizuna.web import mount
from tests.conftest import serve_app
from tests.web.conftest import sign_in
from tests.web.world import GREEN, RED, T0, World, build

SECRET_TEXT = "Handle per agreement OPAL-7734"
OPEN_TEXT = "Copyright Kizuna test authors"
SECRET_EXERCISE = "NIGHTFALL7"


def _id(kind: str) -> str:
    return f"{kind}--{uuid.uuid4()}"


@pytest.fixture(scope="module")
def marked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, str, dict[str, str]]]:
    w = build(tmp_path_factory.mktemp("private-markings"))
    node = w.node
    snap = node.snapshot()
    admin = node.principal_for(next(u for u in snap.users.values() if u.name == "admin"))
    intel = snap.collection(w.intel)
    assert intel is not None
    ids = {"secret": _id("marking-definition"), "open": _id("marking-definition"),
           "exercise": _id("marking-definition")}
    objs = [
        # a statement whose own markings the partner may not see (TLP:RED) ...
        {"type": "marking-definition", "spec_version": "2.1", "id": ids["secret"], "created": T0,
         "definition_type": "statement", "definition": {"statement": SECRET_TEXT},
         "object_marking_refs": [RED]},
        # ... one it may see (a control: its text is shown)
        {"type": "marking-definition", "spec_version": "2.1", "id": ids["open"], "created": T0,
         "definition_type": "statement", "definition": {"statement": OPEN_TEXT}},
        # an exercise marking under an id of its own: its name is not public
        {"type": "marking-definition", "spec_version": "2.1", "id": ids["exercise"], "created": T0,
         "name": "x", "object_marking_refs": [RED],
         "extensions": {EXERCISE_EXTENSION: {
             "extension_type": "property-extension", "exercise": SECRET_EXERCISE}}},
    ]
    for name, refs in (("carrier", [GREEN, ids["secret"]]), ("open_carrier", [GREEN, ids["open"]])):
        ids[name] = _id("malware")
        objs.append({"type": "malware", "spec_version": "2.1", "id": ids[name], "created": T0,
                     "modified": T0, "name": f"{name} malware", "is_family": True,
                     "object_marking_refs": refs})
    ids["note"] = _id("note")
    objs.append({"type": "note", "spec_version": "2.1", "id": ids["note"], "created": T0,
                 "modified": T0, "content": "seen", "object_refs": [w.ids["malware"]],
                 "object_marking_refs": [GREEN, ids["secret"]]})
    results = ingest(node.store, snap, admin, intel, [json.dumps(o).encode() for o in objs],
                     "user:admin")
    assert all(r.ok for r in results), results
    yield w, w.intel, ids
    node.close()


def test_pages_never_show_a_meaning_the_reader_may_not_learn(
    marked: tuple[World, str, dict[str, str]],
) -> None:
    w, intel, ids = marked
    with serve_app(mount(create_app(w.node), w.node)) as url:
        partner = sign_in(url, "partner", w.tokens["partner"])
        admin = sign_in(url, "admin", w.tokens["admin"])
        paths = [
            f"/ui/objects/{ids['carrier']}",
            f"/ui/objects/{w.ids['malware']}",  # the note's thread
            f"/ui/collections/{intel}/",
            f"/ui/collections/{intel}/?type=malware",
            f"/ui/collections/{intel}/?marking={ids['secret']}",
            f"/ui/collections/{intel}/?marking={ids['exercise']}",
            f"/ui/search?q=malware&marking={ids['secret']}",
            f"/ui/search?q=malware&marking={ids['exercise']}",
            "/ui/search?q=carrier",
        ]
        for path in paths:
            page = partner.get(path)
            assert page.status_code == 200, path
            assert SECRET_TEXT not in page.text, path
            assert SECRET_EXERCISE not in page.text, path
        # the administrator learns it, and the partner the text of the statement it may see
        assert SECRET_TEXT in admin.get(f"/ui/objects/{ids['carrier']}").text
        assert SECRET_TEXT in admin.get(f"/ui/objects/{w.ids['malware']}").text
        assert OPEN_TEXT in partner.get(f"/ui/objects/{ids['open_carrier']}").text
        assert OPEN_TEXT in partner.get(f"/ui/collections/{intel}/?type=malware").text
        asked = f"/ui/search?q=malware&marking={ids['exercise']}"
        assert SECRET_EXERCISE in admin.get(asked).text
