"""CDM reading and writing: CARA's real CDMs, round trips in both syntaxes, teaching errors."""

from __future__ import annotations

import dataclasses
import doctest
import math
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kizuna.errors import InvalidInput
from kizuna.space.formats import cdm as cdm_module
from kizuna.space.formats.cdm import (
    COVARIANCE_KEYWORDS,
    Cdm,
    CdmError,
    CdmObject,
    build_cdm,
    dumps_kvn,
    dumps_xml,
    parse,
    parse_epoch,
    parse_kvn,
    parse_xml,
)
from kizuna.space.formats.cdm import _model as _cdm_model

DATA = Path(__file__).parent.parent / "data" / "space" / "cdm"
ALL_CDMS = sorted(DATA.glob("*/*.cdm"))
HST = DATA / "PcTestCaseCDMs" / "000020580_conj_000002017_20230613_001923_20230608_063715.cdm"


@pytest.mark.parametrize("module", [cdm_module, _cdm_model])
def test_doctests(module: ModuleType) -> None:
    result = doctest.testmod(module)
    assert result.attempted > 0
    assert result.failed == 0


def test_fixture_count() -> None:
    assert len(list((DATA / "PcTestCaseCDMs").glob("*.cdm"))) == 53
    assert len(list((DATA / "SampleCDMs").glob("*.cdm"))) == 34


def test_reads_a_cara_cdm_field_by_field() -> None:
    cdm = parse_kvn(HST.read_text(), source=HST.name)
    assert cdm.header.originator == "CARA"
    assert cdm.header.message_for == "HST"
    assert parse_epoch("2023-06-13T00:19:23.766") == cdm.relative.tca
    assert cdm.relative.miss_distance_m == 12303.0
    assert cdm.relative.relative_speed_m_s == 2224.0
    assert cdm.relative.relative_position_rtn_m == (-108.2, 12297.9, -350.5)
    assert cdm.relative.collision_probability == 1.862e-05
    assert cdm.relative.collision_probability_method == "FOSTER-1992"
    assert cdm.relative.hbr_m == 10.0
    assert cdm.relative.comments == ("SCREENING_OPTION = Covariance",)
    o1, o2 = cdm.object1, cdm.object2
    assert (o1.object_designator, o1.object_name) == ("000020580", "HST")
    assert (o2.object_name, o2.international_designator) == ("DIAMANT R/B", "1966-013B")
    assert o1.position_km[0] == -5.087477994865218534e03
    assert o2.velocity_km_s[2] == 2.281076266220715798e00
    assert o1.covariance is not None and len(o1.covariance) == 21
    assert o1.covariance[0] == 8.852074177874744692e02  # CR_R
    assert o1.covariance[-1] == 4.917208662840000070e-04  # CNDOT_NDOT
    matrix = o1.covariance_matrix()
    assert matrix is not None and matrix[1, 0] == matrix[0, 1] == o1.covariance[1]
    assert o1.data["CD_AREA_OVER_MASS"] == "0.013236"
    assert o1.metadata["GRAVITY_MODEL"] == "EGM-96: 70D 70O"
    assert "COVARIANCE_SCALE_FACTOR = 1.000" in o1.data_comments  # comments go with the next
    assert o1.metadata_comments == ()  # keyword, and OD parameters follow this one
    assert cdm.notes == ()


def test_relative_state_matches_the_object_states() -> None:
    """The relative position in the CDM is Object2 - Object1 in Object1's RTN frame."""
    cdm = parse_kvn(HST.read_text())
    rebuilt = build_cdm(tca=cdm.relative.tca, originator="X", message_id="Y",
                        object1=cdm.object1, object2=cdm.object2,
                        creation_date=cdm.header.creation_date)
    assert rebuilt.relative.relative_position_rtn_m is not None
    assert cdm.relative.relative_position_rtn_m is not None
    for ours, theirs in zip(rebuilt.relative.relative_position_rtn_m,
                            cdm.relative.relative_position_rtn_m, strict=True):
        assert abs(ours - theirs) < 0.1  # the CDM rounds to 0.1 m
    assert abs(rebuilt.relative.miss_distance_m - cdm.relative.miss_distance_m) < 1.0


def _known(o: CdmObject) -> CdmObject:
    return dataclasses.replace(o, data={k: v for k, v in o.data.items() if v.lower() != "nan"})


@pytest.mark.parametrize("path", ALL_CDMS, ids=lambda p: p.name)
def test_every_cara_cdm_reads_and_round_trips(path: Path) -> None:
    read = parse(path.read_text(), source=path.name)
    # The writers leave out the NaN that CARA writes for unknown OD and additional parameters.
    cdm = dataclasses.replace(
        read,
        object1=_known(read.object1),
        object2=_known(read.object2),
    )
    assert parse_kvn(dumps_kvn(read)) == cdm
    assert parse_xml(dumps_xml(cdm)) == cdm
    assert parse(dumps_xml(cdm)) == cdm


def test_known_producer_quirks_are_noted() -> None:
    alfano = parse_kvn((DATA / "SampleCDMs" / "AlfanoTestCase01.cdm").read_text())
    assert any("RELATIVE_VELOCITY_R given in [m]" in n for n in alfano.notes)
    single = parse_kvn((DATA / "SampleCDMs" / "SingleCovTestCase1-1.cdm").read_text())
    assert any("unclosed unit bracket" in n for n in single.notes)
    assert single.header.creation_date == parse_epoch("2014-01-21T17:42:47")  # day-of-year


def _obj(name: str, covariance: tuple[float, ...] | None) -> CdmObject:
    return CdmObject(name, "1", "A", "2000-001A", position_km=(7000.0, 1.5, -2.25),
                     velocity_km_s=(0.001, 7.5, 0.25), covariance=covariance,
                     metadata={"OBJECT_TYPE": "PAYLOAD"}, data={"MASS": "1000"},
                     metadata_comments=("meta note",), data_comments=("data note",))


finite = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False)
text = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126,
                                      blacklist_characters="<>&="), min_size=1, max_size=12)


@settings(max_examples=40, deadline=None)
@given(cov=st.one_of(st.none(), st.tuples(*[finite] * 21)), pc=st.one_of(st.none(), st.floats(0, 1)),
       hbr=st.one_of(st.none(), st.floats(0, 100)), name=text,
       micro=st.integers(0, 999_999))
def test_write_read_round_trip(cov: tuple[float, ...] | None, pc: float | None,
                               hbr: float | None, name: str, micro: int) -> None:
    tca = parse_epoch("2024-02-29T23:59:59").replace(microsecond=micro)
    cdm = build_cdm(tca=tca, originator=name, message_id=name + "-1",
                    object1=_obj("OBJECT1", cov), object2=_obj("OBJECT2", None),
                    creation_date="2024-02-28T00:00:00.000", hbr_m=hbr,
                    collision_probability=pc, collision_probability_method="FOSTER-1992",
                    comments=["relative note"])
    assert parse_kvn(dumps_kvn(cdm)) == cdm
    assert parse_xml(dumps_xml(cdm)) == cdm


def test_no_covariance_is_read_as_none() -> None:
    text = HST.read_text()
    kept = [ln for ln in text.splitlines()
            if ln.split("=")[0].strip() not in COVARIANCE_KEYWORDS]
    cdm = parse_kvn("\n".join(kept))
    assert cdm.object1.covariance is None and cdm.object2.covariance is None
    assert cdm.object1.covariance_matrix() is None


def _error(text: str) -> CdmError:
    with pytest.raises(CdmError) as info:
        parse(text, source="bad.cdm")
    assert isinstance(info.value, InvalidInput) and isinstance(info.value, ValueError)
    return info.value


def test_truncated_file() -> None:
    lines = HST.read_text().splitlines()
    err = _error("\n".join(lines[:100]))
    assert "OBJECT2 state vector section is missing" in str(err)
    assert "expected: X = 2570.097065 [km]" in str(err)
    first_object = next(i for i, ln in enumerate(lines) if ln.startswith("OBJECT "))
    err = _error("\n".join(lines[:first_object]))
    assert "no OBJECT1 section" in str(err)
    assert "expected: OBJECT = OBJECT1" in str(err)
    err = _error("\n".join(lines[: first_object + 3]))
    assert "OBJECT1 metadata section is missing OBJECT_NAME, INTERNATIONAL_DESIGNATOR" in str(err)
    assert "bad.cdm" in str(err)


def test_partial_covariance_is_an_error() -> None:
    text = "\n".join(ln for ln in HST.read_text().splitlines()
                     if not ln.startswith("CNDOT_NDOT"))
    err = _error(text)
    assert "OBJECT1 covariance section is missing CNDOT_NDOT" in str(err)


def test_unknown_keyword_shows_a_close_match() -> None:
    text = HST.read_text().replace("MISS_DISTANCE    ", "MISS_DISTANSE    ")
    err = _error(text)
    assert err.where == "line 8"
    assert "unknown keyword 'MISS_DISTANSE'" in str(err)
    assert "did you mean MISS_DISTANCE?" in str(err)
    assert "expected: MISS_DISTANCE = 715 [m]" in str(err)
    assert "got:      MISS_DISTANSE" in str(err)


def test_keyword_in_the_wrong_section() -> None:
    text = HST.read_text().replace("OBS_USED  ", "TCA       ", 1)
    err = _error(text)
    assert "TCA belongs to the relative metadata/data section" in str(err)


def test_wrong_units() -> None:
    err = _error(HST.read_text().replace("= 12303 [m]", "= 12.303 [km]"))
    assert "wrong unit [km] for MISS_DISTANCE" in str(err)
    assert "expected: MISS_DISTANCE = 715 [m]" in str(err)
    err = _error(HST.read_text().replace("[m**2]", "[km**2]", 1))
    assert "wrong unit [km**2] for CR_R" in str(err)


def test_bad_values() -> None:
    err = _error(HST.read_text().replace("= 2023-06-13T00:19:23.766", "= 13/06/2023"))
    assert "TCA needs a UTC epoch" in str(err)
    err = _error(HST.read_text().replace("-5.087477994865218534e+03", "five"))
    assert "X needs a finite number" in str(err)
    err = _error(HST.read_text().replace("= OBJECT2", "= OBJECT3"))
    assert "OBJECT must be OBJECT1 or OBJECT2" in str(err)
    err = _error(HST.read_text().replace("MISS_DISTANCE ", "MISS DISTANCE "))
    assert "not a KVN line" in str(err) and "KEYWORD = value [unit]" in str(err)
    err = _error(HST.read_text().replace("REF_FRAME                                   = EME2000",
                                         "REF_FRAME = TEME", 1))
    assert "unsupported REF_FRAME 'TEME'" in str(err)


def test_duplicate_keyword() -> None:
    text = HST.read_text().replace("RELATIVE_SPEED", "MISS_DISTANCE", 1)
    assert "MISS_DISTANCE given twice" in str(_error(text))


def test_xml_errors() -> None:
    cdm = parse_kvn(HST.read_text())
    xml = dumps_xml(cdm)
    assert "not well-formed XML" in str(_error(xml[: len(xml) // 2]))
    assert "no <cdm> element" in str(_error("<ndm><opm/></ndm>"))
    bad_unit = xml.replace('<MISS_DISTANCE units="m">', '<MISS_DISTANCE units="km">')
    err = _error(bad_unit)
    assert "wrong unit [km] for MISS_DISTANCE" in str(err)
    assert "<body/relativeMetadataData/MISS_DISTANCE>" in str(err)
    no_body = xml[: xml.index("<body>")] + "</cdm>"
    assert "no <body> element" in str(_error(no_body))


def test_xml_inside_ndm_and_with_namespace() -> None:
    cdm = parse_kvn(HST.read_text())
    xml = dumps_xml(cdm).split("\n", 1)[1]
    wrapped = f'<ndm xmlns="urn:ccsds:schema:ndmxml">{xml}</ndm>'
    assert parse_xml(wrapped) == cdm


def test_cdm_is_a_plain_frozen_dataclass() -> None:
    cdm = parse_kvn(HST.read_text())
    assert isinstance(cdm, Cdm)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cdm.header = cdm.header  # type: ignore[misc]
    changed = dataclasses.replace(cdm.relative, miss_distance_m=1.0)
    assert not math.isclose(changed.miss_distance_m, cdm.relative.miss_distance_m)
