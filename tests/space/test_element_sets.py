"""Partners' own element sets of the same space objects, and screening that chooses between them.

One node, two partners tracking the same 313 real objects: JAXA (JPN), whose element sets are
the real ones, marked REL TO JPN, USA; and NSPOC (USA), whose element sets are its own (the
same orbits a little further along, so its events differ), marked REL TO USA. The space objects
themselves are TLP:GREEN. A screening with each ``--elements-from`` choice must give the events
of screening that partner's elements alone, and a requester who cannot see NSPOC's element
sets (a JAXA user) gets JAXA's events whatever it asks for.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from kizuna.cli import main
from kizuna.node import Node, ingest, read_page
from kizuna.space import catalog, screening, stix
from kizuna.space.cli._node import organization_identity
from kizuna.space.formats import tle
from kizuna.stix.markings import TLP2_IDS, releasability_id, releasability_marking
from kizuna.store.types import ObjectQuery
from tests.space.test_screen import SAMPLE

START = datetime(2026, 5, 20, tzinfo=UTC)
HOURS = 0.25


def _records() -> tuple[list, list]:  # type: ignore[type-arg]
    jaxa = tle.parse(SAMPLE.read_text()).records
    nspoc = [replace(es, mean_anomaly=(es.mean_anomaly + 0.02) % 360.0) for es in jaxa]
    return jaxa, nspoc


def _node(tmp_path: Path) -> tuple[Node, str]:
    node, _ = Node.init(tmp_path / "node", name="jp", org="JAXA", country="JPN")
    c = node.add_collection("space")
    node.add_org("NSPOC", "USA")
    node.add_user("tokyo", "JAXA")
    node.add_user("washington", "NSPOC")
    for org in ("JAXA", "NSPOC"):
        node.grant(c.id, org, read=True, write=True, max_tlp="amber")
    jaxa, nspoc = _records()
    green = TLP2_IDS["green"]
    both, usa = releasability_id(["JPN", "USA"]), releasability_id(["USA"])
    admin = node.store.user("admin")
    assert admin is not None
    first = [releasability_marking(["JPN", "USA"]), releasability_marking(["USA"])]
    first += [stix.space_object(es, object_marking_refs=[green]) for es in jaxa]
    batches = [
        ("admin", first),
        ("tokyo", [
            stix.element_set(es, created_by_ref=organization_identity("JAXA"),
                             object_marking_refs=[green, both])
            for es in jaxa
        ]),
        ("washington", [
            stix.element_set(es, created_by_ref=organization_identity("NSPOC"),
                             object_marking_refs=[green, usa])
            for es in nspoc
        ]),
    ]  # fmt: skip
    for user, objects in batches:
        who = node.store.user(user)
        assert who is not None
        results = ingest(
            node.store, node.snapshot(), node.principal_for(who), c,
            [json.dumps(o).encode() for o in objects], "test",
        )  # fmt: skip
        assert all(r.ok for r in results), [r.message for r in results if not r.ok][:3]
    return node, c.id


def _events(rows: list[dict[str, str]]) -> list[tuple[int, int, str]]:
    return sorted((int(r["object1"]), int(r["object2"]), r["tca"]) for r in rows)


def _alone(records: list) -> list[tuple[int, int, str]]:  # type: ignore[type-arg]
    from kizuna.space.screening.report import write_csv

    cat = catalog.build(records).catalog
    out = io.StringIO()
    write_csv(screening.screen(cat, START, HOURS, 5.0), out)
    return _events(
        [r for r in csv.DictReader(io.StringIO(out.getvalue())) if r["kind"] == "conjunction"]
    )


def _screen(tmp_path: Path, cid: str, user: str, *more: str) -> list[tuple[int, int, str]]:
    out = tmp_path / f"{user}-{'-'.join(more) or 'none'}.csv"
    result = CliRunner().invoke(
        main,
        ["space", "screen", str(tmp_path / "node"), cid, "--start", "2026-05-20T00:00Z",
         "--hours", str(HOURS), "--workers", "1", "--quiet", "--as", user, "--csv", str(out),
         *more],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    return _events([r for r in rows if r["kind"] == "conjunction"])


def test_each_choice_gives_that_partners_events_and_the_gate_decides_what_can_be_chosen(
    tmp_path: Path,
) -> None:
    node, cid = _node(tmp_path)
    jaxa, nspoc = _records()
    want_jaxa, want_nspoc = _alone(jaxa), _alone(nspoc)
    assert len(want_jaxa) > 10 and want_jaxa != want_nspoc
    assert _screen(tmp_path, cid, "washington", "--elements-from", "NSPOC") == want_nspoc
    assert _screen(tmp_path, cid, "washington", "--elements-from", "JAXA,NSPOC") == want_jaxa
    # A JAXA user cannot see NSPOC's element sets: JAXA's, whatever it trusts first.
    assert _screen(tmp_path, cid, "tokyo", "--elements-from", "NSPOC,JAXA") == want_jaxa
    assert (
        _screen(tmp_path, cid, "tokyo", "--elements-from", "NSPOC") == want_jaxa
    )  # newest visible
    # The last run stored by washington trusting NSPOC: each conjunction names NSPOC's element
    # sets and is no more releasable than they are (REL TO USA).
    _screen(tmp_path, cid, "washington", "--elements-from", "NSPOC")
    who = node.store.user("washington")
    assert who is not None
    page = read_page(
        node.store, node.snapshot(), node.principal_for(who), node.collection(cid),
        ObjectQuery(cid, types=(stix.CONJUNCTION_TYPE,)), 5000,
    )  # fmt: skip
    nspoc_id = organization_identity("NSPOC")
    newest = {}
    for item in page.items:
        obj = json.loads(item.body)
        newest[obj["id"]] = (
            obj
            if obj["id"] not in newest or obj["modified"] > newest[obj["id"]]["modified"]
            else newest[obj["id"]]
        )
    mine = [
        o
        for o in newest.values()
        if "element_set_refs" in o and o["element_set_refs"][0] != o["space_object_refs"][0]
    ]
    assert mine
    usa = releasability_id(["USA"])
    for obj in mine:
        a, b = obj["space_object_refs"]
        refs = obj["element_set_refs"]
        if refs == [stix.element_set_id(nspoc_id, a), stix.element_set_id(nspoc_id, b)]:
            assert usa in obj["object_marking_refs"]
    assert any(
        o["element_set_refs"][0] == stix.element_set_id(nspoc_id, o["space_object_refs"][0])
        for o in mine
    )
    # And tokyo sees none of those.
    tokyo = node.store.user("tokyo")
    assert tokyo is not None
    seen = read_page(
        node.store, node.snapshot(), node.principal_for(tokyo), node.collection(cid),
        ObjectQuery(cid, types=(stix.CONJUNCTION_TYPE,)), 5000,
    )  # fmt: skip
    # (conjunction ids come from the objects and the TCA, so tokyo may see an older version
    # of the same id, computed from JAXA's elements; never one computed from NSPOC's.)
    nspoc_sets = {
        stix.element_set_id(nspoc_id, stix.space_object_id(es.norad_cat_id or 0, es.object_id))
        for es in nspoc
    }
    assert seen.items
    for item in seen.items:
        obj = json.loads(item.body)
        assert not set(obj.get("element_set_refs", ())) & nspoc_sets
        assert usa not in obj.get("object_marking_refs", ())


def test_import_element_sets_as_the_users_organization(tmp_path: Path) -> None:
    node, _ = Node.init(tmp_path / "node", name="us", org="NSPOC", country="USA")
    c = node.add_collection("space")
    node.add_user("washington", "NSPOC")
    node.grant(c.id, "NSPOC", read=True, write=True, max_tlp="amber")
    small = tmp_path / "few.tle"
    small.write_text("\n".join(SAMPLE.read_text().splitlines()[:6]) + "\n")
    result = CliRunner().invoke(
        main, ["space", "import", str(tmp_path / "node"), c.id, str(small), "--as", "washington",
               "--element-sets"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    who = node.store.user("washington")
    assert who is not None
    page = read_page(
        node.store, node.snapshot(), node.principal_for(who), node.collection(c.id),
        ObjectQuery(c.id), 5000,
    )  # fmt: skip
    objects = [json.loads(i.body) for i in page.items]
    assert [o["type"] for o in objects] == [stix.ELEMENT_SET_TYPE] * 2
    records = tle.parse(small.read_text()).records
    for obj, es in zip(objects, sorted(records, key=lambda e: e.norad_cat_id or 0), strict=True):
        assert obj["created_by_ref"] == organization_identity("NSPOC")
        assert obj["space_object_ref"] == stix.space_object_id(es.norad_cat_id or 0, es.object_id)
        assert stix.element_set_of(obj) == es
