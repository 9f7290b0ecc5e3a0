"""What the object page remembers of the objects that link to it (the relationships, notes,
sightings it lists and draws) is read again through the gate: a target stored after its
relationship, under markings the reader may not see, hides it at once (docs/policy.md,
Rule 4), as the TAXII API does."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import httpx
import pytest

from kizuna.node import ingest
from kizuna.taxii.app import create_app
from kizuna.web import mount
from tests.conftest import serve_app
from tests.web.conftest import sign_in
from tests.web.world import GREEN, RED, T0, World, build


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = build(tmp_path_factory.mktemp("links-late"))
    yield w
    w.node.close()


def _store(w: World, *objs: dict[str, object]) -> None:
    node = w.node
    snap = node.snapshot()
    admin = node.principal_for(next(u for u in snap.users.values() if u.name == "admin"))
    intel = snap.collection(w.intel)
    assert intel is not None
    results = ingest(node.store, snap, admin, intel, [json.dumps(o).encode() for o in objs],
                     "user:admin")
    assert all(r.ok for r in results), results


def test_a_target_stored_hidden_after_its_relationship_hides_it_from_the_page(world: World) -> None:
    w = world
    late = f"malware--{uuid.uuid4()}"  # not stored yet: not hidden, so the references stay
    rel = {"type": "relationship", "spec_version": "2.1", "id": f"relationship--{uuid.uuid4()}",
           "created": T0, "modified": T0, "relationship_type": "delivers-late",
           "source_ref": w.ids["attack_pattern"], "target_ref": late, "object_marking_refs": [GREEN]}
    note = {"type": "note", "spec_version": "2.1", "id": f"note--{uuid.uuid4()}", "created": T0,
            "modified": T0, "content": "late note", "object_refs": [w.ids["attack_pattern"], late],
            "object_marking_refs": [GREEN]}
    _store(w, rel, note)
    with serve_app(mount(create_app(w.node), w.node)) as url:
        partner = sign_in(url, "partner", w.tokens["partner"])
        pages = [f"/ui/objects/{w.ids['attack_pattern']}",
                 f"/ui/objects/{w.ids['attack_pattern']}?hops=2",
                 f"/ui/objects/{w.ids['malware']}?hops=2"]
        before = [partner.get(p).text for p in pages]
        assert "delivers-late" in before[0] and late in before[0]  # listed, and cached
        assert "late note" in before[0]
        _store(w, {"type": "malware", "spec_version": "2.1", "id": late, "created": T0,
                   "modified": T0, "name": "late red implant", "is_family": True,
                   "object_marking_refs": [RED]})
        api = httpx.get(f"{url}/api/collections/{w.intel}/objects/{rel['id']}/",
                        auth=("partner", w.tokens["partner"]),
                        headers={"accept": "application/taxii+json;version=2.1"})
        assert api.status_code == 404  # withheld now: its target is hidden
        for path in pages:
            page = partner.get(path)
            assert page.status_code == 200, path
            assert late not in page.text and late.split("--")[1] not in page.text, path
            assert "delivers-late" not in page.text, path
            assert rel["id"] not in page.text, path
        # the note keeps its other reference: still in the thread, without the hidden one
        assert "late note" in partner.get(pages[0]).text
        assert partner.get(f"/ui/objects/{rel['id']}").status_code == 404


def _relationship(w: World, kind: str, **extra: object) -> dict[str, object]:
    return {"type": "relationship", "spec_version": "2.1", "id": f"relationship--{uuid.uuid4()}",
            "created": T0, "modified": T0, "relationship_type": kind,
            "source_ref": w.ids["attack_pattern"], "target_ref": w.ids["malware"],
            "object_marking_refs": [GREEN], **extra}


def test_writes_after_the_links_were_gathered_show_only_what_the_gate_releases(
    world: World,
) -> None:
    """The links are gathered once, then only what was added since: a deletion, a newer
    version under TLP:RED and a newer version that no longer refers to the object change
    the page at once (it reads what it remembers again through the gate)."""
    w = world
    gone, reddened, moved = (_relationship(w, k, description=f"says {k}")
                             for k in ("soon-deleted", "soon-red", "soon-elsewhere"))
    _store(w, gone, reddened, moved)
    page = f"/ui/objects/{w.ids['attack_pattern']}"
    with serve_app(mount(create_app(w.node), w.node)) as url:
        partner = sign_in(url, "partner", w.tokens["partner"])
        before = partner.get(page).text
        assert all(r["id"] in before for r in (gone, reddened, moved))  # listed, and cached
        generation = w.node.store.policy_generation()
        answer = httpx.delete(f"{url}/api/collections/{w.intel}/objects/{gone['id']}/",
                              auth=("admin", w.tokens["admin"]),
                              headers={"accept": "application/taxii+json;version=2.1"})
        assert answer.status_code == 200, answer.text
        t1 = "2026-05-02T00:00:00.000Z"
        _store(w, dict(reddened, modified=t1, description="red words", object_marking_refs=[RED]),
               dict(moved, modified=t1, source_ref=w.ids["indicator"], description="moved"))
        after = partner.get(page).text
        assert w.node.store.policy_generation() == generation  # the cache was not let go
        assert gone["id"] not in after and "soon-deleted" not in after
        # the partner receives the GREEN version of the reddened one (docs/policy.md, Rule 5)
        assert reddened["id"] in after and "soon-red" in after
        assert partner.get(f"/ui/objects/{reddened['id']}").text.count("red words") == 0
        assert moved["id"] not in after and "soon-elsewhere" not in after
        admin = sign_in(url, "admin", w.tokens["admin"])
        assert "red words" in admin.get(f"/ui/objects/{reddened['id']}").text
        assert reddened["id"] in admin.get(page).text
