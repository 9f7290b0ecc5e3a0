"""``kizuna space screen``: the CSV contract users' scripts rely on, and bad records reported."""

from __future__ import annotations

import csv
import doctest
import io
import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner

from kizuna.node import Node, ingest, read_page
from kizuna.space import catalog, screening, stix
from kizuna.space.cli import screen as screen_cli
from kizuna.space.cli import space
from kizuna.space.formats import tle
from kizuna.space.probability import pc_max
from kizuna.space.screening import events as _screen_cdm
from kizuna.space.screening import report as _screen_csv
from kizuna.stix.markings import TLP2_IDS, releasability_id, releasability_marking
from kizuna.store.types import ObjectQuery

DATA = Path(__file__).parent.parent / "data" / "space"
SAMPLE = DATA / "tle" / "celestrak-active-2026-05-sample.tle"
HEADER = (
    "object1,object2,tca,miss_km,relative_speed_kms,miss_r_km,miss_t_km,miss_n_km,pc,"
    "pc_max,kind,object1_name,object2_name,max_km"
)
TCA = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(space, ["screen", *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_csv_contract_and_agreement_with_the_kernel(tmp_path: Path) -> None:
    out = tmp_path / "events.csv"
    code, _, stderr = _run(
        "--catalog", str(SAMPLE), "--start", "2026-05-20T00:00:00Z", "--hours", "0.25",
        "--threshold-km", "5", "--workers", "2", "--csv", str(out), "--quiet",
    )  # fmt: skip
    assert code == 0, stderr
    text = out.read_text()
    assert text.splitlines()[0] == HEADER
    rows = list(csv.DictReader(io.StringIO(text)))
    cat = catalog.build(catalog.read(SAMPLE.read_text()).records).catalog
    want = screening.screen(cat, datetime(2026, 5, 20, tzinfo=UTC), 0.25, 5.0)
    # Pairs that stay within 5 km for the whole 15 minutes come once each, after the events.
    near = rows[len(want) :]
    assert len(near) == len(want.proximity) > 0
    assert {r["kind"] for r in near} == {"proximity"}
    assert all(float(r["miss_km"]) <= float(r["max_km"]) < 5.0 for r in near)
    rows = rows[: len(want)]
    assert len(rows) == len(want) > 10
    for row, k in zip(rows, range(len(want)), strict=True):
        assert (int(row["object1"]), int(row["object2"])) == (want.object1[k], want.object2[k])
        assert TCA.match(row["tca"])
        assert float(row["miss_km"]) == pytest.approx(want.miss_km[k], abs=1e-6)
        rtn = [float(row[c]) for c in ("miss_r_km", "miss_t_km", "miss_n_km")]
        assert sum(x * x for x in rtn) ** 0.5 == pytest.approx(float(row["miss_km"]), abs=1e-5)
        assert 0.0 < float(row["relative_speed_kms"]) < 16.0
        assert row["pc"] == ""  # no covariance in TLEs: Pc unknown, never invented
        assert float(row["pc_max"]) == pytest.approx(
            float(pc_max(want.miss_km[k] * 1e3, 10.0)[0]), rel=1e-6
        )
        assert row["kind"] == "conjunction" and row["max_km"] == ""
        assert row["object1_name"] == cat.names[int(want.row1[k])] != ""
        assert row["object2_name"] == cat.names[int(want.row2[k])] != ""
    assert "event(s) below 5 km" in stderr


def test_json_lines_carry_the_events_at_full_precision(tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    code, stdout, stderr = _run(
        "--catalog", str(SAMPLE), "--start", "2026-05-20T00:00:00Z", "--hours", "0.25",
        "--threshold-km", "5", "--workers", "1", "--json", str(out), "--hbr-m", "20", "--quiet",
    )  # fmt: skip
    assert code == 0, stderr
    assert stdout == ""  # the events went to the file
    cat = catalog.build(catalog.read(SAMPLE.read_text()).records).catalog
    want = screening.screen(cat, datetime(2026, 5, 20, tzinfo=UTC), 0.25, 5.0)
    events = [json.loads(line) for line in out.read_text().splitlines()]
    assert [e["kind"] for e in events[len(want) :]] == ["proximity"] * len(want.proximity)
    events = events[: len(want)]
    assert len(events) == len(want) > 10
    for e, k in zip(events, range(len(want)), strict=True):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", e["tca"])
        tca = datetime.fromisoformat(e["tca"].replace("Z", "+00:00"))
        start = datetime(2026, 5, 20, tzinfo=UTC)
        assert (tca - start).total_seconds() == pytest.approx(want.tca_s[k], abs=1e-6)
        assert e["miss_km"] == pytest.approx(float(want.miss_km[k]), rel=1e-12)
        assert e["pc"] is None and e["hbr_m"] == 20.0 and e["kind"] == "conjunction"
        assert e["pc_max"] == pytest.approx(float(pc_max(e["miss_km"] * 1e3, 20.0)[0]))


def test_bad_records_are_reported_and_the_rest_screened(tmp_path: Path) -> None:
    lines = SAMPLE.read_text().splitlines()
    broken = list(lines)
    broken[2] = broken[2][:-1] + str((int(broken[2][-1]) + 1) % 10)  # bad checksum
    broken[4] = broken[4][:40]  # truncated line 1
    bad = tmp_path / "bad.tle"
    bad.write_text("\n".join(broken) + "\n")
    omm_json = tmp_path / "more.json"
    omm_json.write_text('[{"NORAD_CAT_ID": 1, "EPOCH": "2026-05-20T00:00:00", "BSTARR": 0}]')
    out = tmp_path / "e.csv"
    code, _, stderr = _run(
        "--catalog", str(bad), str(omm_json), "--start", "2026-05-20T00:00:00", "--hours",
        "0.1", "--workers", "1", "--csv", str(out), "--quiet",
    )  # fmt: skip
    assert code == 0
    assert f"{bad} line 3: checksum" in stderr
    assert f"{bad} line 5: line 1 has 40 columns" in stderr
    assert "unknown keyword 'BSTARR' (did you mean BSTAR?)" in stderr
    assert "screening 311 objects" in stderr
    assert out.read_text().startswith(HEADER)


def test_usage_errors() -> None:
    code, _, stderr = _run("--start", "2026-05-20T00:00:00Z")
    assert code == 2 and "give DIR COLLECTION_ID, or --catalog FILE..." in stderr
    code, _, stderr = _run("--catalog", str(SAMPLE), "--start", "20 May 2026")
    assert code == 2 and "expected e.g. 2026-05-20T00:00:00Z" in stderr


# ---------------------------------------------------------------------------------------------
# Node mode: the catalog is read through the gate as the requesting user; each conjunction is
# marked no more releasable than either of its objects.


def _crossing_objects() -> dict[str, tle.ElementSet]:
    """A, B, E meet at one node at the same time; C, D are A, B in another plane."""
    from kizuna.space.formats.omm import parse_epoch

    epoch = parse_epoch("2026-05-20T00:00:00")

    def es(n: int, inc: float, raan: float, m: float) -> tle.ElementSet:
        return tle.ElementSet(n, epoch, 15.0, 0.0001, inc, raan, 90.0, m, object_name=f"OBJ {n}")

    return {
        "A": es(90001, 53.0, 100.0, 0.0),
        "B": es(90002, 97.0, 100.0, 0.01),
        "E": es(90005, 70.0, 100.0, -0.01),
        "C": es(90003, 53.0, 190.0, 0.0),
        "D": es(90004, 97.0, 190.0, 0.01),
    }


def _node(tmp_path: Path) -> tuple[Node, str]:
    node, _ = Node.init(tmp_path / "node", name="jp", org="JAXA", country="JPN")
    c = node.add_collection("space")
    node.add_org("CNES", "FRA")
    node.add_user("tokyo", "JAXA")
    node.add_user("paris", "CNES")
    node.grant(c.id, "JAXA", read=True, write=True, max_tlp="amber")
    node.grant(c.id, "CNES", read=True, write=True, max_tlp="amber")
    rel = {
        "A": ["JPN", "USA"],
        "B": ["FRA", "USA"],
        "E": ["JPN"],
        "C": ["FRA"],
        "D": ["FRA"],
    }
    tlp = {"A": "amber", "B": "green", "E": "green", "C": "green", "D": "green"}
    objects: list[dict[str, object]] = [releasability_marking(codes) for codes in rel.values()]
    for key, es in _crossing_objects().items():
        marks = [TLP2_IDS[tlp[key]], releasability_id(rel[key])]
        objects.append(stix.space_object(es, object_marking_refs=marks))
    admin = node.store.user("admin")
    assert admin is not None
    results = ingest(
        node.store, node.snapshot(), node.principal_for(admin), c,
        [json.dumps(o).encode() for o in objects], "test",
    )  # fmt: skip
    assert all(r.ok for r in results)
    return node, c.id


def _conjunctions(node: Node, cid: str) -> dict[tuple[str, str], dict[str, object]]:
    admin = node.store.user("admin")
    assert admin is not None
    page = read_page(
        node.store, node.snapshot(), node.principal_for(admin), node.collection(cid),
        ObjectQuery(cid, types=(stix.CONJUNCTION_TYPE,)), 1000,
    )  # fmt: skip
    names = {stix.space_object_id(es.norad_cat_id or 0): k for k, es in _crossing_objects().items()}
    out = {}
    for item in page.items:
        obj = json.loads(item.body)
        a, b = obj["space_object_refs"]
        out[(names[a], names[b])] = obj
    return out


def test_node_mode_marks_each_conjunction_no_more_releasable_than_its_objects(
    tmp_path: Path,
) -> None:
    node, cid = _node(tmp_path)
    directory = str(tmp_path / "node")
    args = ["--start", "2026-05-20T00:00:00Z", "--hours", "0.5", "--threshold-km", "10"]
    code, _, stderr = _run(directory, cid, *args, "--workers", "1", "--quiet")
    assert code == 0, stderr
    assert "screening 5 objects" in stderr
    found = _conjunctions(node, cid)
    assert set(found) == {("A", "B"), ("A", "E"), ("B", "E"), ("C", "D")}
    marks = {k: sorted(v["object_marking_refs"]) for k, v in found.items()}  # type: ignore[arg-type]
    assert marks[("A", "B")] == sorted([TLP2_IDS["amber"], releasability_id(["USA"])])
    assert marks[("A", "E")] == sorted([TLP2_IDS["amber"], releasability_id(["JPN"])])
    assert marks[("C", "D")] == sorted([TLP2_IDS["green"], releasability_id(["FRA"])])
    # B (FRA, USA) and E (JPN) share no country: both REL TO markings, which the gate
    # reads together (only a principal both admit may see it).
    assert marks[("B", "E")] == sorted(
        [TLP2_IDS["green"], releasability_id(["FRA", "USA"]), releasability_id(["JPN"])]
    )
    for obj in found.values():
        assert "collision_probability" not in obj


def test_node_mode_screens_only_what_the_user_may_see(tmp_path: Path) -> None:
    node, cid = _node(tmp_path)
    directory = str(tmp_path / "node")
    args = ["--start", "2026-05-20T00:00:00Z", "--hours", "0.5", "--threshold-km", "10"]
    code, _, stderr = _run(directory, cid, *args, "--workers", "1", "--quiet", "--as", "tokyo")
    assert code == 0, stderr
    assert "screening 2 objects" in stderr  # A and E are REL TO JPN; B, C, D are not
    assert set(_conjunctions(node, cid)) == {("A", "E")}


def test_import_tle_omm_and_cdm_into_a_node(tmp_path: Path) -> None:
    node, cid = _node(tmp_path)
    cdm = next((DATA / "cdm" / "PcTestCaseCDMs").glob("*.cdm"))
    bad = tmp_path / "bad.tle"
    lines = SAMPLE.read_text().splitlines()
    bad.write_text("\n".join([*lines[:3], lines[3], lines[4][:50], lines[5]]) + "\n")
    result = CliRunner().invoke(
        space, ["import", str(tmp_path / "node"), cid, str(SAMPLE), str(bad), str(cdm)]
    )
    assert result.exit_code == 0, result.stderr
    assert f"{bad} line 5: line 1 has 50 columns" in result.stderr
    assert "stored 314, duplicates 1, rejected 0, records not read 1" in result.stderr
    conj = [o for o in _conjunctions_raw(node, cid)]
    assert len(conj) == 1 and "collision_probability" in conj[0]


def _conjunctions_raw(node: Node, cid: str) -> list[dict[str, object]]:
    admin = node.store.user("admin")
    assert admin is not None
    page = read_page(
        node.store, node.snapshot(), node.principal_for(admin), node.collection(cid),
        ObjectQuery(cid, types=(stix.CONJUNCTION_TYPE,)), 1000,
    )  # fmt: skip
    return [json.loads(item.body) for item in page.items]


def test_tca_is_rounded_to_the_millisecond() -> None:
    from kizuna.space.screening.report import format_tca

    start = datetime(2026, 5, 20, 23, 59, 59, tzinfo=UTC)
    assert format_tca(start, 0.9996) == "2026-05-21T00:00:00.000Z"
    assert format_tca(start, 0.0004) == "2026-05-20T23:59:59.000Z"
    assert format_tca(start, 0.1235) == "2026-05-20T23:59:59.124Z"


@pytest.mark.parametrize("module", [screen_cli, _screen_csv, _screen_cdm])
def test_doctests(module: ModuleType) -> None:
    result = doctest.testmod(module)
    assert result.attempted > 0
    assert result.failed == 0


def test_first_run_says_the_kernel_is_being_compiled(monkeypatch: pytest.MonkeyPatch) -> None:
    args = ("--catalog", str(SAMPLE), "--start", "2026-05-20T00:00:00Z", "--hours", "0.05",
            "--threshold-km", "5", "--workers", "1", "--quiet")  # fmt: skip
    monkeypatch.setattr(screen_cli, "is_cached", lambda: False)
    code, _, stderr = _run(*args)
    assert code == 0, stderr
    assert "compiling the screening kernel" in stderr
    monkeypatch.setattr(screen_cli, "is_cached", lambda: True)
    code, _, stderr = _run(*args)
    assert code == 0, stderr
    assert "compiling" not in stderr


@pytest.mark.skipif(
    bool(os.environ.get("NUMBA_CACHE_DIR") or os.environ.get("NUMBA_DISABLE_JIT")),
    reason="numba caches elsewhere (or compiles nothing) here",
)
def test_the_compiled_search_is_found_in_the_cache_after_a_run() -> None:
    from kizuna.space.screening import _kernel as _pairs

    cat = catalog.build(catalog.read(SAMPLE.read_text()).records).catalog
    screening.screen(cat, datetime(2026, 5, 20, tzinfo=UTC), 0.05, 5.0)  # compiles or loads
    assert _pairs.is_cached()
