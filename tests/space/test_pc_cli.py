"""``kizuna space pc``: the output contract users' scripts rely on, and per-file errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kizuna.space.cli import space

DATA = Path(__file__).parent.parent / "data" / "space" / "cdm"
TERRA = DATA / "PcTestCaseCDMs" / "000025994_conj_000037558_20210324_151047_20210323_154356.cdm"
NON_PD = DATA / "SampleCDMs" / "OmitronTestCase_Test07_NonPDCovariance.cdm"
NO_HBR = DATA / "SampleCDMs" / "OmitronTestCase_Test08_3DNc.cdm"


def _run(*args: str) -> tuple[int, list[str], str]:
    result = CliRunner().invoke(space, ["pc", *args])
    return result.exit_code, result.stdout.splitlines(), result.stderr


def _cara_pc2d(path: Path) -> float:
    with (DATA / "PcTestCaseCDMs" / "CARA_PcMethod_Test_Conjunctions.csv").open() as fh:
        row = next(r for r in csv.DictReader(fh) if r["Conjunction_ID"] == path.stem)
    return float(row["Pc2D"])


def test_json_lines_contract() -> None:
    code, lines, _ = _run(str(TERRA), str(NON_PD), str(NO_HBR), "--json")
    assert code == 0
    recs = [json.loads(line) for line in lines]
    assert [r["file"] for r in recs] == [str(TERRA), str(NON_PD), str(NO_HBR)]
    for r in recs:
        assert {"file", "pc", "method", "cdm_pc"} <= set(r)
    terra, non_pd, no_hbr = recs
    assert abs(terra["pc"] - _cara_pc2d(TERRA)) / _cara_pc2d(TERRA) < 1e-6
    assert terra["cdm_pc"] == 0.02117 and terra["method"].startswith("2D-Pc")
    assert non_pd["status"] == "remediated" and non_pd["pc"] == 0.0 and non_pd["caveats"]
    assert no_hbr["pc"] is None and no_hbr["cdm_pc"] is None and no_hbr["method"] is None
    assert no_hbr["status"] == "no_hbr" and no_hbr["miss_distance_m"] > 7000


def test_text_output_and_hbr_override() -> None:
    code, lines, _ = _run(str(TERRA), str(NO_HBR))
    assert code == 0
    text = "\n".join(lines)
    assert "Pc 2.1174e-02" in text and "CDM states 2.1170e-02 (FOSTER-1992)" in text
    assert "no Pc (no_hbr: no hard-body radius" in text and "miss 7306.1 m" in text
    code, lines, _ = _run(str(NO_HBR), "--hbr", "20", "--json")
    assert json.loads(lines[0])["hbr_m"] == 20.0 and json.loads(lines[0])["pc"] > 0


def test_broken_files_fail_alone(tmp_path: Path) -> None:
    truncated = tmp_path / "truncated.cdm"
    truncated.write_text("\n".join(TERRA.read_text().splitlines()[:60]))
    wrong_unit = tmp_path / "unit.cdm"
    wrong_unit.write_text(TERRA.read_text().replace("[m**2]", "[km**2]", 1))
    missing = tmp_path / "missing.cdm"
    code, lines, err = _run(str(truncated), str(TERRA), str(wrong_unit), str(missing),
                            "--json")
    assert code == 1
    recs = [json.loads(line) for line in lines]
    assert [r["status"] for r in recs] == ["error", "ok", "error", "error"]
    assert recs[1]["pc"] is not None
    assert "OBJECT2 section" in recs[0]["error"] or "missing" in recs[0]["error"]
    assert "wrong unit [km**2] for CR_R" in recs[2]["error"]
    assert "expected: CR_R = 4.142E+01 [m**2]" in err
    assert "cannot read" in recs[3]["error"]


def test_plot_and_monte_carlo(tmp_path: Path) -> None:
    code, lines, _ = _run(str(TERRA), "--json", "--plot", str(tmp_path / "png"),
                          "--monte-carlo", "50000", "--seed", "3")
    assert code == 0
    rec = json.loads(lines[0])
    png = Path(rec["plot"])
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    assert rec["mc_samples"] == 50000 and rec["mc_low"] < rec["mc_pc"] < rec["mc_high"]
    assert abs(rec["mc_pc"] - rec["pc"]) < 0.2 * rec["pc"]  # ~1000 hits: +-3 % sigma
    again = json.loads(_run(str(TERRA), "--json", "--monte-carlo", "50000", "--seed", "3")[1][0])
    assert again["mc_hits"] == rec["mc_hits"]


def _with(text: str, key: str, value: str, nth: int = 0) -> str:
    """*text* with the *nth* ``KEY = value [unit]`` line's value replaced (its unit kept)."""
    lines = text.splitlines()
    hits = [i for i, line in enumerate(lines) if line.split("=")[0].strip() == key]
    head, _, rest = lines[hits[nth]].partition("=")
    unit = rest[rest.index("[") :] if "[" in rest else ""
    lines[hits[nth]] = f"{head}= {value} {unit}".rstrip()
    return "\n".join(lines) + "\n"


def _absurd(text: str) -> dict[str, tuple[str, str]]:
    """Absurd CDMs made from a real one: name -> (text, the status it must get)."""
    both_far = _with(_with(text, "X", "1e308"), "X", "1e308", 1)
    negative = text
    for key in ("CR_R", "CT_T", "CN_N"):
        for nth in (0, 1):
            negative = _with(negative, key, "-100", nth)
    return {
        "position_1e308": (_with(text, "X", "1e308"), "invalid_input"),
        "both_positions_1e308": (both_far, "invalid_input"),
        "velocity_1e308": (_with(text, "X_DOT", "1e308"), "invalid_input"),
        "negative_variance": (_with(text, "CR_R", "-1e6"), "invalid_covariance"),
        "negative_variances": (negative, "invalid_covariance"),
        "variance_1e308": (_with(text, "CR_R", "1e308"), "invalid_covariance"),
        "variance_1e-308": (_with(text, "CT_T", "1e-308"), "invalid_covariance"),
        "correlation_1e7": (_with(text, "CT_R", "1e9"), "invalid_covariance"),
        "hbr_1e308": (text.replace("HBR = 15 [m]", "HBR = 1e308 [m]"), "invalid_input"),
        "hbr_negative": (text.replace("HBR = 15 [m]", "HBR = -15 [m]"), "no_hbr"),
        "miss_1e308": (_with(text, "MISS_DISTANCE", "1e308"), "ok"),
    }


def test_absurd_values_get_a_status_per_cdm_never_a_traceback(tmp_path: Path) -> None:
    cases = _absurd(TERRA.read_text())
    paths = []
    for name, (text, _) in cases.items():
        paths.append(tmp_path / f"{name}.cdm")
        paths[-1].write_text(text)
    args = [*map(str, paths), "--plot", str(tmp_path / "png"), "--monte-carlo", "2000"]
    code, lines, err = _run(*args, "--json")
    assert code == 0 and "Traceback" not in err
    recs = {Path(r["file"]).stem: r for r in map(json.loads, lines)}
    assert {k: r["status"] for k, r in recs.items()} == {k: v[1] for k, v in cases.items()}
    for name, rec in recs.items():
        if rec["status"] != "ok":
            assert rec["pc"] is None and rec["method"] is None, name
            assert rec["mc_pc"] is None or rec["mc_status"] == "no_hbr", name
    assert recs["miss_1e308"]["pc"] == pytest.approx(_cara_pc2d(TERRA), rel=1e-6)
    assert "MISS_DISTANCE (1e+308 m) is not the distance" in recs["miss_1e308"]["caveats"][-1]
    assert "kept as a comment" in recs["hbr_negative"]["notes"][0]
    code, lines, err = _run(*map(str, paths))
    assert code == 0 and "Traceback" not in err
    text = "\n".join(lines)
    assert text.count("no Pc (invalid_covariance: a covariance that cannot be one") == 5
    assert text.count("no Pc (invalid_input:") == 4 and "Pc 1.0000e+00" not in text


def test_a_non_finite_hbr_option_is_refused() -> None:
    code, _, err = _run(str(TERRA), "--hbr", "inf")
    assert code == 2 and "is not a radius" in err
