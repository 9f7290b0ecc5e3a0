"""CCSDS Conjunction Data Messages (CDM, CCSDS 508.0-B-1): read and write KVN and XML.

A CDM describes one close approach between two objects: a header, a relative metadata/data
section (TCA, miss distance, relative state in Object1's RTN frame, the producer's collision
probability) and one section per object (metadata, state vector at TCA and the 6x6 RTN
covariance, lower triangle ``CR_R`` ... ``CNDOT_NDOT``).

>>> cdm = build_cdm(
...     tca="2024-03-01T12:00:00.000", originator="KIZUNA", message_id="demo-1",
...     object1=CdmObject("OBJECT1", "25544", "ISS (ZARYA)", "1998-067A",
...                       position_km=(6778.0, 0.0, 0.0), velocity_km_s=(0.0, 7.67, 0.0)),
...     object2=CdmObject("OBJECT2", "99999", "DEBRIS", "2001-001B",
...                       position_km=(6778.1, 0.0, 0.0), velocity_km_s=(0.0, 0.0, 7.67)),
...     creation_date="2024-03-01T00:00:00.000", hbr_m=10.0)
>>> round(cdm.relative.miss_distance_m, 3)
100.0
>>> parse_kvn(dumps_kvn(cdm)) == cdm
True
>>> parse_xml(dumps_xml(cdm)) == cdm
True

Both parsers raise :class:`CdmError` for a message that cannot be used; its text names the
source, the line (KVN) or element path (XML), and shows the expected form beside the bad input.
A CDM with no covariance at all is accepted (``CdmObject.covariance`` is ``None``, which the
standard does not allow but screening against TLEs produces); a covariance with some of its 21
terms missing is an error.

HBR is not a CDM 1.0 keyword; CARA carries it as ``COMMENT HBR = 10 [m]`` in the relative
section. The parser lifts that comment into ``CdmRelative.hbr_m`` and the writer puts it back.
"""

from __future__ import annotations

from kizuna.space.formats._epoch import parse_epoch
from kizuna.space.formats.cdm._keywords import COVARIANCE_KEYWORDS, NO_COVARIANCE_COMMENT
from kizuna.space.formats.cdm._kvn import dumps_kvn, parse_kvn
from kizuna.space.formats.cdm._model import (
    Cdm,
    CdmError,
    CdmHeader,
    CdmObject,
    CdmRelative,
    build_cdm,
    format_epoch,
    rtn_basis,
)
from kizuna.space.formats.cdm._xml import dumps_xml, parse_xml

__all__ = [
    "COVARIANCE_KEYWORDS",
    "NO_COVARIANCE_COMMENT",
    "Cdm",
    "CdmError",
    "CdmHeader",
    "CdmObject",
    "CdmRelative",
    "build_cdm",
    "dumps_kvn",
    "dumps_xml",
    "format_epoch",
    "parse",
    "parse_epoch",
    "parse_kvn",
    "parse_xml",
    "rtn_basis",
]


def parse(text: str, *, source: str = "<cdm>") -> Cdm:
    """Parse either syntax: XML when the text starts with ``<``, KVN otherwise."""
    if text.lstrip().startswith("<"):
        return parse_xml(text, source=source)
    return parse_kvn(text, source=source)
