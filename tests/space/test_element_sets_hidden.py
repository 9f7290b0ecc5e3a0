"""A partner's element sets of space objects the requester may not see: screening uses them
as it uses those of objects not stored on the node at all, so that the run neither fails
(it had ended in KeyError 'space_object_ref', the reference the gate removes) nor tells a
hidden space object from an absent one."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from click.testing import CliRunner

from kizuna.cli import main
from kizuna.node import Node, ingest
from kizuna.space import stix
from kizuna.space.cli._node import organization_identity
from kizuna.space.formats import tle
from kizuna.stix.markings import TLP2_IDS, releasability_id, releasability_marking
from tests.space.test_screen import SAMPLE

GREEN = TLP2_IDS["green"]


def _node(root: Path, store_space_objects: bool) -> str:
    node, _ = Node.init(root, name="jp", org="JAXA", country="JPN")
    c = node.add_collection("space")
    node.add_org("NSPOC", "USA")
    node.add_user("tokyo", "JAXA")
    node.add_user("washington", "NSPOC")
    for org in ("JAXA", "NSPOC"):
        node.grant(c.id, org, read=True, write=True, max_tlp="amber")
    records = tle.parse(SAMPLE.read_text()).records[:60]
    jpn, both = releasability_id(["JPN"]), releasability_id(["JPN", "USA"])
    batches: list[tuple[str, list[dict[str, object]]]] = [
        ("admin", [releasability_marking(["JPN"]), releasability_marking(["JPN", "USA"])]),
        ("tokyo", [stix.element_set(es, created_by_ref=organization_identity("JAXA"),
                                    object_marking_refs=[GREEN, both]) for es in records]),
    ]
    if store_space_objects:  # the space objects themselves: REL TO JPN, hidden from NSPOC
        batches.insert(1, ("admin", [stix.space_object(es, object_marking_refs=[GREEN, jpn])
                                     for es in records]))
    for user, objects in batches:
        who = node.store.user(user)
        assert who is not None
        results = ingest(node.store, node.snapshot(), node.principal_for(who), c,
                         [json.dumps(o).encode() for o in objects], "test")
        assert all(r.ok for r in results), [r.message for r in results if not r.ok][:3]
    node.close()
    return c.id


def _screen(root: Path, cid: str, user: str) -> list[tuple[str, str, str, str]]:
    out = root.parent / f"{root.name}-{user}.csv"
    result = CliRunner().invoke(main, [
        "space", "screen", str(root), cid, "--start", "2026-05-20T00:00Z", "--hours", "0.5",
        "--threshold-km", "50", "--workers", "1", "--quiet", "--as", user, "--csv", str(out),
    ])
    assert result.exit_code == 0, (result.output, result.exception)
    rows = csv.DictReader(io.StringIO(out.read_text()))
    return sorted((r["object1"], r["object2"], r["tca"], r["kind"]) for r in rows)


def test_elements_of_a_hidden_space_object_screen_as_those_of_an_absent_one(tmp_path: Path) -> None:
    hidden = _node(tmp_path / "hidden", store_space_objects=True)
    absent = _node(tmp_path / "absent", store_space_objects=False)
    seen = _screen(tmp_path / "hidden", hidden, "washington")
    assert seen, "no event: the test would show nothing"
    assert seen == _screen(tmp_path / "absent", absent, "washington")
    # who may see the space objects screens the same orbits (JAXA's elements in both nodes)
    assert _screen(tmp_path / "hidden", hidden, "tokyo") == seen
