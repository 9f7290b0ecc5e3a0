"""The OASIS ``stix2-validator``, in its default mode, finds no error in what Kizuna produces.

What a node makes itself and hands out: the definitions every node serves (TLP markings,
Kizuna's extension-definitions), its identity, REL TO and exercise markings, space objects
imported from a TLE catalog, the conjunctions its screening computes, conjunctions read from
CDMs, the objects the demo marks, objects the access gate has redacted for a reader, and the
bundles ``kizuna export`` writes. Warnings (best practices, such as UUIDv5 ids chosen so that
every node derives the same one) are not errors.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from rich.console import Console
from stix2validator import ValidationOptions, validate_instance

from kizuna.cli import main
from kizuna.demo import build
from kizuna.node import Node
from kizuna.stix.markings import TLP2_IDS, exercise_marking, releasability_marking
from tests.conftest import serve
from tests.helpers import DATA, TAXII, auth, envelope, indicator

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

OPTIONS = ValidationOptions()
TLE = DATA / "space" / "tle" / "celestrak-active-2026-05-sample.tle"
CDM = DATA / "space" / "cdm" / "SampleCDMs" / "AlfanoTestCase01.cdm"


def errors(objects: list[dict[str, Any]]) -> dict[str, list[str]]:
    """stix2-validator's errors, by object id (empty when every object is valid)."""
    out = {}
    for obj in objects:
        report = validate_instance(obj, OPTIONS)
        if not report.is_valid:
            out[obj.get("id", "?")] = [str(e) for e in report.errors]
    return out


def kizuna(*args: str | Path) -> str:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.stdout


def export(d: Path, cid: str, *extra: str) -> dict[str, Any]:
    bundle: dict[str, Any] = json.loads(kizuna("export", d, cid, *extra))
    assert not errors([bundle]), errors([bundle])  # the bundle as a whole
    return bundle


def test_definitions_identity_and_markings(tmp_path: Path) -> None:
    d = tmp_path / "n"
    node, _ = Node.init(d, name="n", org="NATO-CERT", country="BEL", communities=["NATO"])
    definitions = export(d, "kizuna-definitions")["objects"]
    assert {o["type"] for o in definitions} == {"marking-definition", "extension-definition", "identity"}
    rel_to = [json.loads(kizuna("marking", "rel-to", d, *codes)) for codes in
              (("NATO",), ("JPN", "NATO"), ("AUS", "FVEY", "IP4"))]
    made = [node.identity(), exercise_marking("BLUE-FLAG"), releasability_marking(["EU"])]
    assert errors(definitions + rel_to + made) == {}
    node.close()


@pytest.mark.slow
def test_space_objects_and_conjunctions(tmp_path: Path) -> None:
    d = tmp_path / "n"
    Node.init(d, name="n", org="JAXA", country="JPN")[0].close()
    cid = kizuna("collection", "add", d, "Space").strip()
    kizuna("space", "import", d, cid, TLE, CDM)
    kizuna("space", "screen", d, cid, "--start", "2026-05-20T00:00Z", "--hours", "6",
           "--workers", "1", "--quiet")
    objects = export(d, cid, "--all-versions")["objects"]
    types = {o["type"] for o in objects}
    assert {"x-kizuna-space-object", "x-kizuna-conjunction"} <= types, types
    assert errors(objects) == {}


@pytest.mark.slow
def test_redacted_objects_and_what_the_demo_marks(tmp_path: Path) -> None:
    d = tmp_path / "n"
    node, token = Node.init(d, name="n", org="NATO-CERT", country="BEL", communities=["NATO"])
    cid = node.add_collection("Shared").id
    node.add_org("JPN-CERT", "JPN", ["IP4"])
    node.grant(cid, "JPN-CERT", read=True, write=False, max_tlp="amber")
    node.add_user("aiko", "JPN-CERT")
    nato = releasability_marking(["NATO"])
    hidden = indicator(markings=[nato["id"]])
    redacted = indicator(
        description="the NATO-only part",
        external_references=[{"source_name": "a", "url": "https://a.example"},
                             {"source_name": "b", "url": "https://b.example"}],
        granular_markings=[{"marking_ref": nato["id"], "selectors": ["description", "external_references.[0]"]},
                           {"marking_ref": TLP2_IDS["green"], "selectors": ["external_references.[1].url"]}],
    )
    report = {"type": "report", "spec_version": "2.1", "id": "report--9c9f53c5-8bd2-4f4b-9d4e-3c2b4a1e8f11",
              "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
              "name": "weekly", "published": "2026-01-01T00:00:00Z",
              "object_refs": [hidden["id"], redacted["id"]]}
    with serve(node) as url:
        r = httpx.post(f"{url}/api/collections/{cid}/objects/",
                       content=envelope([nato, hidden, redacted, report]),
                       headers={**auth(token), "Content-Type": TAXII})
        assert r.json()["failure_count"] == 0, r.json()
    seen = {o["id"]: o for o in export(d, cid, "--as", "aiko")["objects"]}
    assert hidden["id"] not in seen and "description" not in seen[redacted["id"]]
    assert seen[report["id"]]["object_refs"] == [redacted["id"]]
    assert errors(list(seen.values())) == {}
    node.close()

    demo = build(tmp_path / "demo", Console(file=open("/dev/null", "w")))  # noqa: SIM115
    marked = [json.loads(b) for b in _stored_bodies(demo.nodes["nato"], demo.collections["nato"])]
    assert len(marked) > 5000
    sample = marked[::7]  # every marking of the mix, every type, in a few seconds
    assert errors(sample) == {}
    for n in demo.nodes.values():
        n.close()


def _stored_bodies(node: Node, cid: str) -> list[bytes]:
    from kizuna.node import read_page
    from kizuna.store.types import ObjectQuery, VersionMatch

    admin = node.store.user("admin")
    assert admin is not None
    principal, collection = node.principal_for(admin), node.collection(cid)
    bodies: list[bytes] = []
    after = None
    while True:
        page = read_page(node.store, node.snapshot(), principal, collection,
                         ObjectQuery(cid, after_us=after, versions=VersionMatch(all=True)), 5000)
        bodies += [i.body for i in page.items]
        if not page.more:
            return bodies
        after = page.last_added
