"""OMM in KVN, XML, JSON and CSV: the same record from every syntax; bad records reported alone."""

from __future__ import annotations

import doctest
import json
from dataclasses import replace
from pathlib import Path
from types import ModuleType

import pytest

from kizuna.space import catalog
from kizuna.space.formats import omm
from kizuna.space.formats.omm import _json_csv as _omm_json_csv
from kizuna.space.formats.omm import _kvn as _omm_kvn
from kizuna.space.formats.omm import _model as _omm_model

GPCONF = Path(__file__).parent.parent / "data" / "space" / "gpconf"
VARIANTS = sorted((GPCONF / "kvn-variants").iterdir())
CORRUPT = GPCONF / "corrupt-input"


def _iss() -> omm.ElementSet:
    (es,) = omm.parse(
        (GPCONF / "kvn-variants" / "v01-baseline-reserialised.kvn").read_text()
    ).records
    return es


def _orbit(es: omm.ElementSet) -> tuple[object, ...]:
    return (
        es.epoch,
        es.mean_motion,
        es.eccentricity,
        es.inclination,
        es.ra_of_asc_node,
        es.arg_of_pericenter,
        es.mean_anomaly,
        es.bstar,
        es.mean_motion_dot,
        es.mean_motion_ddot,
        es.object_name,
        es.object_id,
    )


@pytest.mark.parametrize("path", VARIANTS, ids=lambda p: p.name)
def test_every_kvn_and_xml_variant_gives_the_same_orbit(path: Path) -> None:
    result = omm.parse(path.read_text(), source=path.name)
    assert result.errors == []
    (es,) = result.records
    assert _orbit(es) == _orbit(_iss())
    assert es.norad_cat_id in (25544, None)  # OMM 3.0 may omit it (v05)


def test_iss_values() -> None:
    es = _iss()
    assert es.norad_cat_id == 25544
    assert es.epoch.isoformat() == "1998-11-20T06:49:59.999808+00:00"
    assert (es.mean_motion, es.eccentricity, es.mean_motion_dot) == (
        16.05064833,
        0.0125362,
        -3.657e-5,
    )
    assert es.mean_element_theory == "SGP4"  # SGP/SGP4 is the same theory


def test_json_csv_and_tle_agree_record_by_record() -> None:
    js = omm.parse((CORRUPT / "unedited-array.json").read_text())
    cs = omm.parse((CORRUPT / "unedited-rows.csv").read_text())
    tl = catalog.read((CORRUPT / "unedited-sets.tle").read_text())
    assert js.errors == cs.errors == tl.errors == []
    assert [_orbit(e) for e in js.records] == [_orbit(e) for e in cs.records]
    by_number = {e.norad_cat_id: e for e in tl.records}
    for a in js.records:
        b = by_number[a.norad_cat_id]
        assert abs((a.epoch - b.epoch).total_seconds()) < 1e-3  # TLE epoch: 1e-8 day
        assert a.mean_motion == b.mean_motion and a.inclination == b.inclination
        assert abs(a.eccentricity - b.eccentricity) < 1e-7  # TLE keeps 7 digits
        assert a.bstar == pytest.approx(b.bstar, rel=1e-4, abs=1e-12)  # 5-digit mantissa


def test_space_track_json_with_string_values_and_catalog_columns() -> None:
    row = {
        "CCSDS_OMM_VERS": "2.0",
        "COMMENT": "GENERATED VIA SPACE-TRACK.ORG API",
        "CREATION_DATE": "2026-05-20T01:02:03",
        "ORIGINATOR": "18 SPCS",
        "OBJECT_NAME": "ISS (ZARYA)",
        "OBJECT_ID": "1998-067A",
        "CENTER_NAME": "EARTH",
        "REF_FRAME": "TEME",
        "TIME_SYSTEM": "UTC",
        "MEAN_ELEMENT_THEORY": "SGP4",
        "EPOCH": "2026-05-20T00:00:00.000000",
        "MEAN_MOTION": "15.50103472",
        "ECCENTRICITY": "0.00067030",
        "INCLINATION": "51.6416",
        "RA_OF_ASC_NODE": "247.4627",
        "ARG_OF_PERICENTER": "130.5360",
        "MEAN_ANOMALY": "325.0288",
        "EPHEMERIS_TYPE": "0",
        "CLASSIFICATION_TYPE": "U",
        "NORAD_CAT_ID": "25544",
        "ELEMENT_SET_NO": "999",
        "REV_AT_EPOCH": "44713",
        "BSTAR": "0.00010270000000",
        "MEAN_MOTION_DOT": "0.00016717",
        "MEAN_MOTION_DDOT": "0.0000000000000",
        "SEMIMAJOR_AXIS": "6796.5",
        "PERIOD": "92.9",
        "APOAPSIS": "423.0",
        "PERIAPSIS": "413.9",
        "OBJECT_TYPE": "PAYLOAD",
        "RCS_SIZE": "LARGE",
        "COUNTRY_CODE": "ISS",
        "LAUNCH_DATE": "1998-11-20",
        "SITE": "TTMTR",
        "DECAY_DATE": None,
        "FILE": "4321",
        "GP_ID": "123456789",
        "TLE_LINE0": "0 ISS (ZARYA)",
        "TLE_LINE1": "1 25544U ...",
        "TLE_LINE2": "2 25544 ...",
    }
    (es,) = omm.parse_json(json.dumps([row])).records
    assert (es.norad_cat_id, es.object_type, es.country_code, es.rcs_size) == (
        25544,
        "PAYLOAD",
        "ISS",
        "LARGE",
    )
    assert es.decay_date is None and es.originator == "18 SPCS"


def test_cut_json_keeps_complete_records() -> None:
    result = omm.parse((CORRUPT / "c5-cut-closing-bracket.json").read_text(), source="cut.json")
    assert [r.norad_cat_id for r in result.records] == [25544, 20453, 69999]
    assert str(result.errors[0]).startswith("cut.json: the file ends before the closing ']'")


def test_cut_csv_row_is_reported_alone() -> None:
    result = omm.parse((CORRUPT / "c5-cut-last-row.csv").read_text(), source="cut.csv")
    assert [r.norad_cat_id for r in result.records] == [25544, 20453]
    (error,) = result.errors
    assert error.problem == "row has 16 fields, the header has 17 (cut short?)"
    assert "expected: OBJECT_NAME,OBJECT_ID,EPOCH" in str(error)


KVN = (GPCONF / "kvn-variants" / "v01-baseline-reserialised.kvn").read_text()


def test_unknown_keyword_rejects_that_record_only() -> None:
    second = KVN.replace("25544", "25545").replace("BSTAR ", "BSTRA ")
    third = KVN.replace("25544", "25546")
    result = omm.parse_kvn(KVN + second + third, source="three.kvn")
    assert [r.norad_cat_id for r in result.records] == [25544, 25546]
    (error,) = result.errors
    assert error.problem == "unknown keyword 'BSTRA' (did you mean BSTAR?)"
    assert str(error).splitlines()[1].strip().startswith("got:      BSTRA = 0")


@pytest.mark.parametrize(
    ("old", "new", "problem", "expected"),
    [
        ("= .0125362", "= 0.01x", "ECCENTRICITY is not a number", "ECCENTRICITY = .0004531"),
        ("= 1998-11-20T06", "= 1998-11-20 06", "EPOCH is not an epoch", "EPOCH = 2026-05-20T"),
        ("= 25544", "= 1234567890", "NORAD_CAT_ID must have at most nine digits", "25544"),
        ("= 51.5908", "= 51.5908 [rad]", "unit [rad] is not the unit of INCLINATION", "[deg]"),
        ("MEAN_ANOMALY", "COMMENT", "missing mandatory keyword MEAN_ANOMALY", "MEAN_ANOMALY ="),
        ("= SGP/SGP4", "= DSST", "MEAN_ELEMENT_THEORY DSST is not SGP4 mean elements", "SGP4"),
    ],
)
def test_bad_values_teach_the_expected_form(
    old: str, new: str, problem: str, expected: str
) -> None:
    assert old in KVN
    result = omm.parse_kvn(KVN.replace(old, new, 1) + KVN, source="bad.kvn")
    assert len(result.records) == 1
    (error,) = result.errors
    assert error.problem == problem
    assert expected in error.expected


def test_bad_xml_and_unknown_syntax() -> None:
    xml = (GPCONF / "kvn-variants" / "v07-xml-ndm-reserialised.xml").read_text()
    result = omm.parse(xml.replace("<BSTAR>", "<BSTRA>").replace("</BSTAR>", "</BSTRA>"))
    assert result.records == [] and "unknown keyword 'BSTRA'" in result.errors[0].problem
    assert "not well-formed XML" in omm.parse(xml[:200]).errors[0].problem
    assert "not an OMM" in omm.parse("hello").errors[0].problem


def test_writers_round_trip() -> None:
    es = replace(_iss(), object_type=None, creation_date="2026-05-20T00:00:00", originator="X")
    assert omm.parse_kvn(omm.dumps_kvn([es])).records == [es]
    base = replace(es, creation_date="", originator="")
    assert omm.parse_json(omm.dumps_json([base])).records == [base]
    assert omm.parse_csv(omm.dumps_csv([base])).records == [base]
    assert omm.parse(omm.dumps_csv([base])).records == [base]


def test_epoch_vectors() -> None:
    vectors = json.loads((GPCONF / "vectors" / "ccsds-epoch-strings.json").read_text())
    from datetime import datetime

    for case in vectors["valid"]:
        got = omm.parse_epoch(case["text"]).replace(tzinfo=None)
        want = [case["iso"], *case.get("iso_alternatives", [])]
        assert any(abs((got - datetime.fromisoformat(w)).total_seconds()) < 2e-6 for w in want)
    for case in vectors["invalid"]:
        with pytest.raises(ValueError, match="not a CCSDS epoch"):
            omm.parse_epoch(case["text"])


def test_catalog_without_catalog_number_is_left_out_with_an_error() -> None:
    no_id = omm.parse(
        (GPCONF / "kvn-variants" / "v05-omm-3.0-header-optional-keywords-omitted.kvn").read_text()
    )
    built = catalog.build([*no_id.records, _iss(), replace(_iss(), mean_anomaly=1.0)])
    assert built.catalog.norad.tolist() == [25544]
    assert "has no NORAD_CAT_ID" in built.errors[0].problem


def test_xml_ndm_with_several_records_and_user_defined_parameters() -> None:
    xml = (GPCONF / "kvn-variants" / "v07-xml-ndm-reserialised.xml").read_text()
    start, end = xml.index("<omm "), xml.index("</omm>") + len("</omm>")
    one = xml[start:end]
    two = one.replace("<NORAD_CAT_ID>25544<", "<NORAD_CAT_ID>25545<").replace(
        "</tleParameters>",
        '</tleParameters><userDefinedParameters><USER_DEFINED parameter="OWNER">JAXA'
        "</USER_DEFINED></userDefinedParameters>",
    )
    three = one.replace("<MEAN_ANOMALY>359.7454<", "<MEAN_ANOMALY>abc<")
    result = omm.parse(xml[:start] + one + two + three + xml[end:], source="three.xml")
    assert [r.norad_cat_id for r in result.records] == [25544, 25545]
    assert result.records[1].user_defined == (("OWNER", "JAXA"),)
    (error,) = result.errors
    assert str(error).startswith(
        "three.xml <omm> #3 (ISS (ZARYA), NORAD_CAT_ID 25544): MEAN_ANOMALY is not a number"
    )


def test_kvn_line_without_equals_rejects_its_message_only() -> None:
    second = KVN.replace("25544", "25545").replace("BSTAR ", "BSTAR\nGARBAGE LINE\nX ")
    result = omm.parse_kvn(KVN + second, source="x.kvn")
    assert [r.norad_cat_id for r in result.records] == [25544]
    assert result.errors[0].problem == "not a KEYWORD = value line"


@pytest.mark.parametrize("module", [omm, _omm_model, _omm_kvn, _omm_json_csv])
def test_doctests(module: ModuleType) -> None:
    """The examples of the OMM modules run (with the public module's names, as users see them)."""
    result = doctest.testmod(module, extraglobs=vars(omm))
    assert result.attempted > 0
    assert result.failed == 0


def test_errors_name_the_record() -> None:
    kvn = (GPCONF / "kvn-variants" / "v01-baseline-reserialised.kvn").read_text()
    second = kvn.replace("= 25544", "= 25545").replace("ISS (ZARYA)", "B")
    got = omm.parse_kvn(kvn + second.replace("= 51.5908", "= 51.x"), source="two.kvn")
    assert len(got.records) == 1
    (error,) = got.errors
    assert error.where.startswith("line ") and "(record at line " in error.where
    assert str(error).split(":")[0].endswith(", B, NORAD_CAT_ID 25545)")
    rows = [{"OBJECT_NAME": "STARLINK-11735 [DTC]", "NORAD_CAT_ID": 64000, "EPOCH": "soon"}]
    (error,) = omm.parse_json(json.dumps(rows), source="a.json").errors
    assert str(error).startswith(
        "a.json record 1 (STARLINK-11735 [DTC], NORAD_CAT_ID 64000): EPOCH is not an epoch"
    )
    (error,) = omm.parse_csv("OBJECT_NAME,NORAD_CAT_ID\nX 1,7\n", source="a.csv").errors
    assert str(error).startswith("a.csv line 2 (X 1, NORAD_CAT_ID 7): missing mandatory")
