"""TLE / 3LE: the real catalog round-trips, Alpha-5 vectors, and bad input is reported per record."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sgp4.api import Satrec, SatrecArray

from kizuna.space import catalog
from kizuna.space.formats import tle

DATA = Path(__file__).parent.parent / "data" / "space"
SAMPLE = DATA / "tle" / "celestrak-active-2026-05-sample.tle"
GPCONF = DATA / "gpconf"


def test_sample_round_trips_byte_for_byte() -> None:
    lines = SAMPLE.read_text().splitlines()
    result = tle.parse(SAMPLE.read_text(), source=SAMPLE.name)
    assert result.errors == []
    assert len(result.records) == len(lines) // 3
    for k, es in enumerate(result.records):
        assert es.object_name == lines[3 * k].strip()
        assert tle.format_tle(es) == (lines[3 * k + 1].rstrip(), lines[3 * k + 2].rstrip())


def test_positions_match_sgp4_own_tle_reader() -> None:
    """Our path (TLE -> ElementSet -> sgp4init) agrees with sgp4's twoline2rv within a few mm."""
    lines = SAMPLE.read_text().splitlines()
    built = catalog.build(tle.parse(SAMPLE.read_text()).records)
    ours, status = catalog.satrecs(built.catalog)
    assert not status.any()
    theirs = {}
    for k in range(0, len(lines), 3):
        sat = Satrec.twoline2rv(lines[k + 1], lines[k + 2])
        theirs[tle.alpha5_decode(lines[k + 1][2:7])] = sat
    ref = [theirs[int(n)] for n in built.catalog.norad]
    jd = np.full(4, 2461180.5)
    fr = np.array([0.0, 0.25, 0.5, 1.0])
    _, r1, _ = SatrecArray(ours).sgp4(jd, fr)
    _, r2, _ = SatrecArray(ref).sgp4(jd, fr)
    assert np.nanmax(np.linalg.norm(r1 - r2, axis=2)) < 0.01  # km


def test_alpha5_vectors() -> None:
    vectors = json.loads((GPCONF / "vectors" / "alpha5.json").read_text())
    for case in vectors["official_examples"] + vectors["boundaries"]:
        assert tle.alpha5_decode(case["field"]) == case["norad_cat_id"]
        assert tle.alpha5_encode(case["norad_cat_id"]) == case["field"]
    for case in vectors["decode_invalid"]:
        with pytest.raises(ValueError, match="expected 5 digits"):
            tle.alpha5_decode(case["field"])
    for case in vectors["encode_unrepresentable"]:
        with pytest.raises(ValueError):
            tle.alpha5_encode(case["norad_cat_id"])


@pytest.mark.parametrize(
    "path", sorted((GPCONF / "alpha5-tle").glob("*.tle")), ids=lambda p: p.name
)
def test_alpha5_files_read_and_round_trip(path: Path) -> None:
    text = path.read_text()
    result = tle.parse(text, source=path.name)
    assert result.errors == []
    assert result.records
    assert all(es.norad_cat_id is not None and es.norad_cat_id >= 100_000 for es in result.records)
    line1s = [ln.rstrip() for ln in text.splitlines() if ln.startswith("1 ")]
    assert [tle.format_tle(es)[0][:7] for es in result.records] == [ln[:7] for ln in line1s]


CORRUPT = {
    "c1-checksum-digit.tle": ("line 5: checksum: the digits give 6, column 69 says 1", 2),
    "c2-line-2-short.tle": ("line 6: line 2 has 68 columns, a TLE line has 69", 2),
    "c3-letter-in-epoch.tle": (
        "line 5: cannot read the epoch (YYDDD.DDDDDDDD) in columns 19-32",
        2,
    ),
    "c4-line-2-missing.tle": ("line 6: line 1 is not followed by line 2", 2),
}


@pytest.mark.parametrize("name", sorted(CORRUPT))
def test_corrupt_record_is_reported_and_the_rest_imported(name: str) -> None:
    message, good = CORRUPT[name]
    result = tle.parse((GPCONF / "corrupt-input" / name).read_text(), source=name)
    assert len(result.records) == good
    assert [r.norad_cat_id for r in result.records] == [25544, 20453]
    (error,) = result.errors
    text = str(error)
    assert text.startswith(f"{name} {message}")
    assert "expected: " in text and "got: " in text  # the template above the user's line


def test_error_shows_template_above_the_line_with_carets() -> None:
    good = (GPCONF / "corrupt-input" / "unedited-sets.tle").read_text()
    bad = good.replace(" 34.2417 ", " 34.24x7 ")
    bad_line2 = next(ln for ln in bad.splitlines() if "34.24x7" in ln)
    fixed = bad_line2[:68] + str(tle.checksum(bad_line2))
    bad = bad.replace(bad_line2, fixed)
    (error,) = tle.parse(bad, source="x.tle").errors
    lines = str(error).splitlines()
    assert lines[0] == (
        "x.tle line 6: cannot read the inclination (deg) in columns 9-16"
        " (written NNN.NNNN, blanks before, digits after)"
    )
    assert lines[1] == "    expected: " + tle.LINE2_TEMPLATE
    assert lines[2] == "    got:      " + fixed
    assert lines[3] == " " * 22 + "^" * 8


def test_wrong_columns_and_mismatched_catalog_numbers() -> None:
    good = (GPCONF / "corrupt-input" / "unedited-sets.tle").read_text().splitlines()
    shifted = good[2][:2] + " " + good[2][2:68]  # everything one column to the right
    shifted = shifted + str(tle.checksum(shifted))
    other = good[2].replace("2 25544", "2 25545")
    other = other[:68] + str(tle.checksum(other))
    text = "\n".join([good[0], good[1], shifted, good[0], good[1], other, *good[3:]])
    result = tle.parse(text)
    assert [r.norad_cat_id for r in result.records] == [69999, 20453]
    assert "has 70 columns" in result.errors[0].problem
    assert result.errors[1].problem == "catalog number 25545 on line 2 differs from 25544 on line 1"


def test_stray_line_2_and_two_line_sets() -> None:
    good = (GPCONF / "corrupt-input" / "unedited-sets.tle").read_text().splitlines()
    text = "\n".join([good[2], good[1], good[2], "0 " + good[3], good[4], good[5]])
    result = tle.parse(text)
    assert [(r.norad_cat_id, r.object_name) for r in result.records] == [
        (25544, ""),
        (69999, "VANGUARD DEB"),
    ]
    assert result.errors[0].problem == "line 2 without a line 1 before it"


def test_writer_refuses_what_a_tle_cannot_hold() -> None:
    es = tle.parse(SAMPLE.read_text()).records[0]
    from dataclasses import replace

    with pytest.raises(ValueError, match="write an OMM"):
        tle.format_tle(replace(es, norad_cat_id=340_000))
    with pytest.raises(ValueError, match="does not fit a TLE"):
        tle.format_tle(replace(es, eccentricity=1.2))
