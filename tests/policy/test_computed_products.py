"""Computed products take the markings of the fields they were computed from (docs/policy.md,
"Derived products"): a conjunction screened on a node carries the granular markings of both
space objects' elements, not only their object markings. On SQLite and PostgreSQL; the
conjunction is read back over HTTP by a reader the sources' elements admit and by one they
do not."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from click.testing import CliRunner

from kizuna.node import Node, ingest, read_page
from kizuna.space import stix
from kizuna.space.cli import space
from kizuna.space.formats import tle
from kizuna.space.formats.omm import parse_epoch
from kizuna.stix.markings import TLP2_IDS, releasability_id, releasability_marking
from kizuna.store.types import ObjectQuery, VersionMatch
from tests.conftest import serve
from tests.helpers import TAXII


def _objects() -> list[dict[str, object]]:
    epoch = parse_epoch("2026-05-20T00:00:00")

    def es(n: int, inc: float, m: float) -> tle.ElementSet:
        return tle.ElementSet(n, epoch, 15.0, 0.0001, inc, 100.0, 90.0, m, object_name=f"O{n}")

    a = stix.space_object(es(90001, 53.0, 0.0), object_marking_refs=[TLP2_IDS["green"]])
    # A's elements are REL TO JPN, NATO; its name is TLP:CLEAR (not screened: not counted).
    a["granular_markings"] = [
        {"marking_ref": releasability_id(["JPN", "NATO"]), "selectors": ["elements"]},
        {"marking_ref": TLP2_IDS["clear"], "selectors": ["name"]},
    ]
    e = stix.space_object(es(90005, 70.0, -0.01), object_marking_refs=[TLP2_IDS["green"]])
    e["granular_markings"] = [
        {"marking_ref": releasability_id(["JPN", "FRA"]), "selectors": ["elements.epoch"]}
    ]
    return [releasability_marking(["JPN", "NATO"]), releasability_marking(["JPN", "FRA"]), a, e]


def test_a_conjunction_carries_the_granular_markings_of_both_objects_elements(
    tmp_path: Path, database: str
) -> None:
    node, _ = Node.init(
        tmp_path / "node", name="jp", org="JAXA", country="JPN", database=database
    )
    c = node.add_collection("space")
    node.add_user("tokyo", "JAXA")
    node.grant(c.id, "JAXA", read=True, write=True, max_tlp="amber")
    # Two readers of the collection: a French and a German organization. Each space
    # object's elements are readable by the French one (REL TO JPN, NATO; REL TO JPN, FRA),
    # E's epoch not by the German one: the conjunction is for the French one only.
    node.add_org("CNES", "FRA")
    node.add_org("DLR", "DEU")
    tokens = {org: node.add_user(f"{org.lower()}-analyst", org) for org in ("CNES", "DLR")}
    for org in tokens:
        node.grant(c.id, org, read=True, write=False, max_tlp="amber")
    admin = node.store.user("admin")
    assert admin is not None
    raw = [json.dumps(o).encode() for o in _objects()]
    results = ingest(node.store, node.snapshot(), node.principal_for(admin), c, raw, "test")
    assert all(r.ok for r in results), results
    args = ["--start", "2026-05-20T00:00:00Z", "--hours", "0.5", "--threshold-km", "10"]
    args += ["--workers", "1", "--quiet", "--as", "tokyo"]
    result = CliRunner().invoke(space, ["screen", str(tmp_path / "node"), c.id, *args])
    assert result.exit_code == 0, result.output
    page = read_page(
        node.store, node.snapshot(), node.principal_for(admin), node.collection(c.id),
        ObjectQuery(c.id, types=(stix.CONJUNCTION_TYPE,)), 10,
    )  # fmt: skip
    [conjunction] = [json.loads(i.body) for i in page.items]
    # REL TO JPN, NATO (A's elements) and REL TO FRA, JPN (E's epoch) together admit
    # exactly whom REL TO FRA, JPN admits; the object markings alone said TLP:GREEN.
    assert sorted(conjunction["object_marking_refs"]) == sorted(
        [TLP2_IDS["green"], releasability_id(["FRA", "JPN"])]
    )
    # Over HTTP, as each reader: the French analyst reads it, the German one does not, by
    # id (the same 404 as an id never stored) or in the collection's pages.
    absent = f"{stix.CONJUNCTION_TYPE}--00000000-0000-4000-8000-000000000000"
    with serve(node) as url:
        answers = {}
        for org, token in tokens.items():
            headers = {"Authorization": f"Bearer {token}", "Accept": TAXII}
            base = f"{url}/api/collections/{c.id}/objects/"
            listed = httpx.get(base, params={"match[type]": stix.CONJUNCTION_TYPE}, headers=headers)
            assert listed.status_code == 200, listed.text
            by_id = httpx.get(f"{base}{conjunction['id']}/", headers=headers)
            never = httpx.get(f"{base}{absent}/", headers=headers)
            answers[org] = (listed.json().get("objects", []), by_id, never)
        objects, by_id, _ = answers["CNES"]
        assert [o["id"] for o in objects] == [conjunction["id"]] and by_id.status_code == 200
        objects, by_id, never = answers["DLR"]
        assert objects == []
        assert (by_id.status_code, by_id.text.replace(conjunction["id"], absent)) == (
            404,
            never.text,
        )
    node.close()


def test_a_proximity_pair_is_stored_once_with_the_markings_of_both_sources(
    tmp_path: Path, database: str
) -> None:
    """Two objects 0.24 km apart all along (a docked vehicle): one conjunction object of kind
    proximity, with its least and greatest distance, marked by both objects' markings, the
    granular markings of their elements included; a reader they do not admit does not see it."""
    epoch = parse_epoch("2026-05-20T00:00:00")

    def es(n: int, m: float) -> tle.ElementSet:
        return tle.ElementSet(n, epoch, 15.0, 0.0001, 51.6, 100.0, 90.0, m, object_name=f"O{n}")

    station = stix.space_object(es(90001, 0.0), object_marking_refs=[TLP2_IDS["green"]])
    station["granular_markings"] = [
        {"marking_ref": releasability_id(["JPN", "NATO"]), "selectors": ["elements"]}
    ]
    vehicle = stix.space_object(es(90002, 0.002), object_marking_refs=[TLP2_IDS["clear"]])
    vehicle["granular_markings"] = [
        {"marking_ref": releasability_id(["JPN", "FRA"]), "selectors": ["elements.epoch"]}
    ]
    objects = [releasability_marking(["JPN", "NATO"]), releasability_marking(["JPN", "FRA"])]
    node, _ = Node.init(
        tmp_path / "node", name="jp", org="JAXA", country="JPN", database=database
    )
    c = node.add_collection("space")
    node.add_user("tokyo", "JAXA")
    node.grant(c.id, "JAXA", read=True, write=True, max_tlp="amber")
    for org, country in (("CNES", "FRA"), ("DLR", "DEU")):
        node.add_org(org, country)
        node.add_user(f"{org.lower()}-analyst", org)
        node.grant(c.id, org, read=True, write=False, max_tlp="amber")
    admin = node.store.user("admin")
    assert admin is not None
    raw = [json.dumps(o).encode() for o in [*objects, station, vehicle]]
    results = ingest(node.store, node.snapshot(), node.principal_for(admin), c, raw, "test")
    assert all(r.ok for r in results), results
    args = ["--start", "2026-05-20T00:00:00Z", "--hours", "3", "--threshold-km", "5"]
    args += ["--workers", "1", "--quiet", "--as", "tokyo"]
    for _ in range(2):  # screening the same window again makes a new version, not a new pair
        result = CliRunner().invoke(space, ["screen", str(tmp_path / "node"), c.id, *args])
        assert result.exit_code == 0, result.output

    def read(user: str, every: bool = False) -> list[dict[str, object]]:
        who = node.store.user(user)
        assert who is not None
        versions = VersionMatch(last=not every, all=every)
        page = read_page(
            node.store, node.snapshot(), node.principal_for(who), node.collection(c.id),
            ObjectQuery(c.id, types=(stix.CONJUNCTION_TYPE,), versions=versions), 10,
        )  # fmt: skip
        return [json.loads(i.body) for i in page.items]

    [pair] = read("admin")  # the newest version of the one pair ...
    assert [o["id"] for o in read("admin", every=True)] == [pair["id"]] * 2  # ... of two
    assert pair["kind"] == "proximity"
    assert pair["space_object_refs"] == [station["id"], vehicle["id"]]
    assert 0.2 < float(pair["miss_distance_km"]) <= float(pair["max_distance_km"]) < 0.3  # type: ignore[arg-type]
    assert str(pair["max_distance_at"]).startswith("2026-05-20T")
    assert set(pair["miss_rtn_km"]) == {"radial", "transverse", "normal"}  # type: ignore[arg-type]
    # TLP:GREEN (the stricter) and REL TO FRA, JPN (JPN, NATO and JPN, FRA together).
    assert sorted(pair["object_marking_refs"]) == sorted(  # type: ignore[arg-type]
        [TLP2_IDS["green"], releasability_id(["FRA", "JPN"])]
    )
    assert [o["id"] for o in read("cnes-analyst")] == [pair["id"]]
    assert read("dlr-analyst") == []
    node.close()
