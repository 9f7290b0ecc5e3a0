"""Every CDM Kizuna writes is valid against the CCSDS CDM XML schema and readable by ccsds-ndm;
names with brackets survive every path; the HBR comment is found where ccsds-ndm puts it."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest
import xmlschema
from ccsds_ndm.ndm_io import NDMFileFormats, NdmIo

from kizuna.space import catalog, screening, stix
from kizuna.space.formats import cdm, omm, tle
from kizuna.space.formats.cdm import Cdm
from kizuna.space.screening.events import event_cdm

DATA = Path(__file__).parent.parent / "data" / "space"
CARA = sorted((DATA / "cdm").glob("*/*.cdm"))
NS = "{urn:ccsds:schema:ndmxml}"
NAMES = ("STARLINK-11735 [DTC]", "COSMOS 2557 [GLONASS-K]")


@cache
def _schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(DATA / "ndmxml" / "cdm-root.xsd"))


def _schema_errors(text: str) -> list[str]:
    root = ET.fromstring(text)
    for element in root.iter():
        element.tag = NS + element.tag
    return [str(e).splitlines()[0] for e in _schema().iter_errors(root)]


def _screened() -> list[Cdm]:
    """CDMs of real screening events, between objects named with brackets."""
    text = (DATA / "tle" / "celestrak-active-2026-05-sample.tle").read_text()
    records = catalog.build(tle.parse(text).records).records
    records = [replace(es, object_name=NAMES[k % 2]) for k, es in enumerate(records)]
    built = catalog.build(records)
    result = screening.screen(built.catalog, datetime(2026, 5, 20, tzinfo=UTC), 2.0, 50.0)
    assert len(result) >= 3
    return [event_cdm(result, k, built.records) for k in range(3)]


def _ndm_reads(text: str, suffix: str, tmp_path: Path) -> object:
    path = tmp_path / f"m.{suffix}"
    path.write_text(text)
    return NdmIo().from_path(path)


def test_every_cara_cdm_written_by_kizuna_is_valid_and_read_by_ccsds_ndm(tmp_path: Path) -> None:
    bad: dict[str, list[str]] = {}
    for path in CARA:
        message = cdm.parse(path.read_text(), source=str(path))
        xml = cdm.dumps_xml(message)
        if errors := _schema_errors(xml):
            bad[path.name] = errors
        for suffix, text in (("xml", xml), ("kvn", cdm.dumps_kvn(message))):
            read = _ndm_reads(text, suffix, tmp_path)
            assert read.body.segment[1].metadata.object_name == message.object2.object_name  # type: ignore[attr-defined]
    # The only errors are CARA's own values, which Kizuna keeps: a negative drag area-to-mass
    # ratio and energy dissipation rate (the schema's types are 0 or more).
    (name,) = bad
    assert name.startswith("000030580_conj_000019175")
    assert ["-0.048677" in bad[name][0], "-1e-06" in bad[name][1]] == [True, True]
    assert len(CARA) == 87


def test_screening_cdms_say_what_they_lack_in_a_form_the_schema_allows(tmp_path: Path) -> None:
    for message in _screened():
        xml, kvn = cdm.dumps_xml(message), cdm.dumps_kvn(message)
        assert _schema_errors(xml) == []
        assert "COVARIANCE_METHOD                   = DEFAULT" in kvn
        assert cdm.NO_COVARIANCE_COMMENT in kvn and cdm.NO_COVARIANCE_COMMENT in xml
        names = []
        for suffix, text in (("xml", xml), ("kvn", kvn)):
            read = _ndm_reads(text, suffix, tmp_path)
            names.append(read.body.segment[0].metadata.object_name)  # type: ignore[attr-defined]
        # ccsds-ndm reads both; its KVN reader takes "[GLONASS-K]" for a unit and drops it.
        assert names[0] in NAMES and names[1] == names[0].partition(" [")[0]
        for back in (cdm.parse_kvn(kvn), cdm.parse_xml(xml)):
            assert back == message
            assert back.object1.covariance is None and back.object2.covariance is None


def test_a_schema_error_is_seen() -> None:
    message = cdm.parse(CARA[0].read_text())
    xml = cdm.dumps_xml(message).replace("<MANEUVERABLE>", "<MANEUVERABLE>MAYBE", 1)
    assert any("MANEUVERABLE" in e or "MAYBE" in e for e in _schema_errors(xml))


def test_bracketed_names_survive_tle_omm_stix_and_cdm() -> None:
    text = (DATA / "tle" / "celestrak-active-2026-05-sample.tle").read_text()
    originals = [replace(es, object_name=NAMES[k % 2]) for k, es in enumerate(tle.parse(text).records[:6])]
    lines = "\n".join(f"{es.object_name}\n" + "\n".join(tle.format_tle(es)) for es in originals)
    from_tle = tle.parse(lines).records
    assert [es.object_name for es in from_tle] == [es.object_name for es in originals]
    for dumps, parse in (
        (omm.dumps_kvn, omm.parse_kvn),
        (omm.dumps_xml, omm.parse_xml),
        (omm.dumps_json, omm.parse_json),
        (omm.dumps_csv, omm.parse_csv),
    ):
        back = parse(dumps(from_tle))
        assert back.errors == [], dumps
        assert [es.object_name for es in back.records] == [es.object_name for es in originals]
    objects = [stix.space_object(es) for es in from_tle]
    assert [o["name"] for o in objects] == [es.object_name for es in originals]
    again = [stix.element_set_of(o) for o in objects]
    assert [es.object_name for es in again] == [es.object_name for es in originals]
    for message in _screened():
        for back in (cdm.parse_kvn(cdm.dumps_kvn(message)), cdm.parse_xml(cdm.dumps_xml(message))):
            assert {back.object1.object_name, back.object2.object_name} <= set(NAMES)
            conj = stix.from_cdm(back)
            assert conj["type"] == "x-kizuna-conjunction"


@pytest.mark.parametrize("path", [p for p in CARA if "HBR" in p.read_text()], ids=lambda p: p.name)
def test_the_hbr_comment_is_found_where_ccsds_ndm_writes_it(path: Path, tmp_path: Path) -> None:
    try:
        converted = NdmIo().from_path(path)
    except ValueError as exc:  # ccsds-ndm refuses CARA's RELATIVE_VELOCITY [m] quirk
        assert "DvUnits" in str(exc)
        return
    out = tmp_path / "converted.xml"
    NdmIo().to_file(converted, NDMFileFormats.XML, out)
    xml = out.read_text()
    before, _, after = xml.partition("<segment>")
    assert "HBR" not in before and "HBR" in after.split("</metadata>")[0]  # OBJECT1's metadata
    want = cdm.parse(path.read_text()).relative.hbr_m
    got = cdm.parse(xml)
    assert want is not None and got.relative.hbr_m == want
    assert any("HBR comment read from the OBJECT1 section" in n for n in got.notes)
