"""OMMs in CCSDS NDM/XML (an ``<ndm>`` of ``<omm>`` elements, or one ``<omm>``): read and
write."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import replace  # noqa: F401 (the doctest of dumps_xml)
from datetime import UTC, datetime

from kizuna.space.formats import _xml
from kizuna.space.formats._epoch import format_epoch
from kizuna.space.formats._xml import leaf, local
from kizuna.space.formats.omm._keywords import _build
from kizuna.space.formats.omm._model import ElementSet, OmmError, OmmResult


def parse_xml(text: str, *, source: str = "<omm>") -> OmmResult:
    """Read OMMs in CCSDS NDM/XML: an ``<ndm>`` wrapping ``<omm>`` elements, or one ``<omm>``."""
    try:
        root = _xml.parse(text)
    except ValueError as exc:
        return OmmResult(
            [],
            [
                OmmError(
                    str(exc),
                    source=source,
                    expected='<ndm><omm id="CCSDS_OMM_VERS" version="3.0">...</omm></ndm>',
                )
            ],
        )
    omms = [root] if local(root.tag) == "omm" else [e for e in root if local(e.tag) == "omm"]
    records: list[ElementSet] = []
    errors: list[OmmError] = []
    if not omms:
        errors.append(
            OmmError(
                f"no <omm> element under <{local(root.tag)}>",
                source=source,
                expected="<ndm><omm>...</omm></ndm>",
            )
        )
    containers = {
        "header",
        "body",
        "segment",
        "metadata",
        "data",
        "meanelements",
        "tleparameters",
        "userdefinedparameters",
        "spacecraftparameters",
        "covariancematrix",
    }
    for index, omm in enumerate(omms, start=1):
        items: list[tuple[str, str, str]] = []
        comments: list[str] = []
        where = f"<omm> #{index}"

        def walk(
            el: ET.Element,
            where: str = where,
            items: list[tuple[str, str, str]] = items,
            comments: list[str] = comments,
        ) -> None:
            for child in el:
                name = local(child.tag)
                if name.lower() in containers:
                    walk(child, where, items, comments)
                elif name == "COMMENT":
                    comments.append(_xml.text(child))
                elif name == "USER_DEFINED":
                    items.append(
                        (
                            f"USER_DEFINED_{child.get('parameter', '')}",
                            _xml.text(child),
                            where,
                        )
                    )
                else:
                    value = _xml.text(child)
                    unit = child.get("units")
                    items.append((name, f"{value} [{unit}]" if unit else value, where))

        walk(omm)
        try:
            records.append(_build(items, source=source, where=where, comments=comments))
        except OmmError as exc:
            errors.append(exc)
    return OmmResult(records, errors)


_UNITS = {
    "MEAN_MOTION": "rev/day",
    "INCLINATION": "deg",
    "RA_OF_ASC_NODE": "deg",
    "ARG_OF_PERICENTER": "deg",
    "MEAN_ANOMALY": "deg",
    "BSTAR": "1/ER",
    "MEAN_MOTION_DOT": "rev/day**2",
    "MEAN_MOTION_DDOT": "rev/day**3",
}
_BLOCKS = (
    ("metadata", None, ("OBJECT_NAME", "OBJECT_ID", "CENTER_NAME", "REF_FRAME", "TIME_SYSTEM",
                        "MEAN_ELEMENT_THEORY")),
    ("data", "meanElements", ("EPOCH", "MEAN_MOTION", "ECCENTRICITY", "INCLINATION",
                              "RA_OF_ASC_NODE", "ARG_OF_PERICENTER", "MEAN_ANOMALY")),
    ("data", "tleParameters", ("EPHEMERIS_TYPE", "CLASSIFICATION_TYPE", "NORAD_CAT_ID",
                               "ELEMENT_SET_NO", "REV_AT_EPOCH", "BSTAR", "MEAN_MOTION_DOT",
                               "MEAN_MOTION_DDOT")),
)  # fmt: skip


def dumps_xml(records: Iterable[ElementSet], *, originator: str = "KIZUNA") -> str:
    """Write records as CCSDS NDM/XML: an ``<ndm>`` of OMM 3.0 ``<omm>`` elements.

    >>> from kizuna.space.formats.omm import parse_epoch
    >>> es = ElementSet(25544, parse_epoch("2026-05-20T00:00:00"), 15.5, .0004, 51.6, 10.0,
    ...                 20.0, 30.0, object_name="STARLINK-11735 [DTC]", creation_date="x")
    >>> back = parse_xml(dumps_xml([es])).records[0]
    >>> back.object_name, back == replace(es, originator="KIZUNA")
    ('STARLINK-11735 [DTC]', True)
    """
    root = ET.Element("ndm")
    for es in records:
        values = {k: v for k, v in _keyword_values(es)}
        omm = ET.SubElement(root, "omm", {"id": "CCSDS_OMM_VERS", "version": "3.0"})
        header = ET.SubElement(omm, "header")
        leaf(header, "CREATION_DATE", es.creation_date or format_epoch(datetime.now(UTC)))
        leaf(header, "ORIGINATOR", es.originator or originator)
        segment = ET.SubElement(ET.SubElement(omm, "body"), "segment")
        parts = {"metadata": ET.SubElement(segment, "metadata")}
        parts["data"] = ET.SubElement(segment, "data")
        for part, block, keywords in _BLOCKS:
            parent = parts[part] if block is None else ET.SubElement(parts[part], block)
            for keyword in keywords:
                leaf(parent, keyword, values[keyword], _UNITS.get(keyword))
        if es.user_defined:
            user = ET.SubElement(parts["data"], "userDefinedParameters")
            for name, value in es.user_defined:
                ET.SubElement(user, "USER_DEFINED", {"parameter": name}).text = value
    return _xml.document(root)


def _keyword_values(es: ElementSet) -> list[tuple[str, str]]:
    return [
        ("OBJECT_NAME", es.object_name),
        ("OBJECT_ID", es.object_id),
        ("CENTER_NAME", es.center_name),
        ("REF_FRAME", es.ref_frame),
        ("TIME_SYSTEM", es.time_system),
        ("MEAN_ELEMENT_THEORY", es.mean_element_theory),
        ("EPOCH", format_epoch(es.epoch)),
        ("MEAN_MOTION", repr(es.mean_motion)),
        ("ECCENTRICITY", repr(es.eccentricity)),
        ("INCLINATION", repr(es.inclination)),
        ("RA_OF_ASC_NODE", repr(es.ra_of_asc_node)),
        ("ARG_OF_PERICENTER", repr(es.arg_of_pericenter)),
        ("MEAN_ANOMALY", repr(es.mean_anomaly)),
        ("EPHEMERIS_TYPE", str(es.ephemeris_type)),
        ("CLASSIFICATION_TYPE", es.classification_type),
        ("NORAD_CAT_ID", "" if es.norad_cat_id is None else str(es.norad_cat_id)),
        ("ELEMENT_SET_NO", str(es.element_set_no)),
        ("REV_AT_EPOCH", str(es.rev_at_epoch)),
        ("BSTAR", repr(es.bstar)),
        ("MEAN_MOTION_DOT", repr(es.mean_motion_dot)),
        ("MEAN_MOTION_DDOT", repr(es.mean_motion_ddot)),
    ]
