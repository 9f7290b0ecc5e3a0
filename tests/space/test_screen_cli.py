"""``kizuna space screen``: the CSV contract users' scripts rely on, and bad records reported."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from kizuna.space import catalog, screen
from kizuna.space.cli import space

DATA = Path(__file__).parent.parent / "data" / "space"
SAMPLE = DATA / "tle" / "celestrak-active-2026-05-sample.tle"
HEADER = "object1,object2,tca,miss_km,relative_speed_kms,miss_r_km,miss_t_km,miss_n_km,pc"
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
    want = screen.screen(cat, datetime(2026, 5, 20, tzinfo=UTC), 0.25, 5.0)
    assert len(rows) == len(want) > 10
    for row, k in zip(rows, range(len(want)), strict=True):
        assert (int(row["object1"]), int(row["object2"])) == (want.object1[k], want.object2[k])
        assert TCA.match(row["tca"])
        assert float(row["miss_km"]) == pytest.approx(want.miss_km[k], abs=1e-6)
        rtn = [float(row[c]) for c in ("miss_r_km", "miss_t_km", "miss_n_km")]
        assert sum(x * x for x in rtn) ** 0.5 == pytest.approx(float(row["miss_km"]), abs=1e-5)
        assert 0.0 < float(row["relative_speed_kms"]) < 16.0
        assert row["pc"] == ""  # no covariance in TLEs: Pc unknown, never invented
    assert "event(s) below 5 km" in stderr


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
