"""CCSDS Orbit Mean-elements Messages (OMM, 502.0-B-3): the primary form of a catalog entry.

An :class:`ElementSet` holds one OMM record with SGP4 mean elements, named after the OMM
keywords. It reads from the four forms in use: KVN and XML (the CCSDS syntaxes) and the JSON and
CSV that CelesTrak and Space-Track serve. Parsers are pure (text in, records out) and never stop
at the first bad record: they return an :class:`OmmResult` with the records that parsed and one
:class:`OmmError` per record that did not, so the rest of a file still imports.

>>> text = '''CCSDS_OMM_VERS = 2.0
... CREATION_DATE =
... ORIGINATOR =
... OBJECT_NAME = ISS (ZARYA)
... OBJECT_ID = 1998-067A
... CENTER_NAME = EARTH
... REF_FRAME = TEME
... TIME_SYSTEM = UTC
... MEAN_ELEMENT_THEORY = SGP4
... EPOCH = 1998-324T06:49:59.999808
... MEAN_MOTION = 16.05064833 [rev/day]
... ECCENTRICITY = .0125362
... INCLINATION = 51.5908
... RA_OF_ASC_NODE = 168.3788
... ARG_OF_PERICENTER = 86.4185
... MEAN_ANOMALY = 359.7454
... NORAD_CAT_ID = +25544
... BSTAR = 0
... MEAN_MOTION_DOT = -.3657E-4
... MEAN_MOTION_DDOT = .11563E-4
... '''
>>> result = parse(text)
>>> es = result.records[0]
>>> es.norad_cat_id, es.object_id, es.epoch.isoformat()
(25544, '1998-067A', '1998-11-20T06:49:59.999808+00:00')
>>> parse(text.replace("BSTAR", "BSTARR")).errors[0].problem
"unknown keyword 'BSTARR' (did you mean BSTAR?)"
"""

from __future__ import annotations

import re
from collections.abc import Callable

from kizuna.space.formats._epoch import format_epoch, parse_epoch
from kizuna.space.formats.omm._json_csv import dumps_csv, dumps_json, parse_csv, parse_json
from kizuna.space.formats.omm._kvn import dumps_kvn, parse_kvn
from kizuna.space.formats.omm._model import ElementSet, OmmError, OmmResult
from kizuna.space.formats.omm._xml import dumps_xml, parse_xml

__all__ = [
    "ElementSet",
    "OmmError",
    "OmmResult",
    "dumps_csv",
    "dumps_json",
    "dumps_kvn",
    "dumps_xml",
    "format_epoch",
    "parse",
    "parse_csv",
    "parse_epoch",
    "parse_json",
    "parse_kvn",
    "parse_xml",
    "sniff",
]


def sniff(text: str) -> str | None:
    """The OMM syntax *text* is in (``kvn``, ``xml``, ``json``, ``csv``), or None.

    >>> sniff("CCSDS_OMM_VERS = 3.0"), sniff("[{}]"), sniff("OBJECT_NAME,NORAD_CAT_ID\\n")
    ('kvn', 'json', 'csv')
    """
    head = text.lstrip("\ufeff \t\r\n")[:4096]
    if head.startswith("<"):
        return "xml"
    if head[:1] in "[{" and head:
        return "json"
    first = head.split("\n", 1)[0]
    if "," in first and ("NORAD_CAT_ID" in first.upper() or "EPOCH" in first.upper()):
        return "csv"
    if re.search(r"^\s*CCSDS_OMM_VERS\s*=", head, re.M):
        return "kvn"
    return None


_PARSERS: dict[str, Callable[..., OmmResult]] = {
    "kvn": parse_kvn,
    "xml": parse_xml,
    "json": parse_json,
    "csv": parse_csv,
}


def parse(text: str, *, source: str = "<omm>") -> OmmResult:
    """Read OMM text in whichever syntax it is written."""
    kind = sniff(text)
    if kind is None:
        return OmmResult(
            [],
            [
                OmmError(
                    "not an OMM in KVN, XML, JSON or CSV",
                    source=source,
                    line=text.lstrip()[:60],
                    expected="CCSDS_OMM_VERS = 3.0 (KVN), <ndm> (XML), [{...}] (JSON), a CSV header",
                )
            ],
        )
    return _PARSERS[kind](text, source=source)
