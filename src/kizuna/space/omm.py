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

import csv
import difflib
import io
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from typing import Any

from kizuna.errors import InvalidInput

__all__ = [
    "ElementSet",
    "OmmError",
    "OmmResult",
    "dumps_csv",
    "dumps_json",
    "dumps_kvn",
    "format_epoch",
    "parse",
    "parse_csv",
    "parse_epoch",
    "parse_json",
    "parse_kvn",
    "parse_xml",
    "sniff",
]


@dataclass(frozen=True, slots=True)
class ElementSet:
    """One set of SGP4 mean elements for one object, as an OMM record.

    Angles are degrees, ``mean_motion`` revolutions per day, ``bstar`` per Earth radius,
    ``mean_motion_dot`` rev/day² and ``mean_motion_ddot`` rev/day³ (the values a TLE prints).
    ``norad_cat_id`` is None when an OMM omits it (CCSDS makes it optional).
    ``object_type``, ``country_code`` and the dates come from catalog metadata when the source
    (Space-Track) carries them; they are None otherwise, never invented.
    """

    norad_cat_id: int | None
    epoch: datetime
    mean_motion: float
    eccentricity: float
    inclination: float
    ra_of_asc_node: float
    arg_of_pericenter: float
    mean_anomaly: float
    bstar: float = 0.0
    mean_motion_dot: float = 0.0
    mean_motion_ddot: float = 0.0
    object_name: str = ""
    object_id: str = ""
    ephemeris_type: int = 0
    classification_type: str = "U"
    element_set_no: int = 999
    rev_at_epoch: int = 0
    center_name: str = "EARTH"
    ref_frame: str = "TEME"
    time_system: str = "UTC"
    mean_element_theory: str = "SGP4"
    originator: str = ""
    creation_date: str = ""
    object_type: str | None = None
    country_code: str | None = None
    launch_date: str | None = None
    decay_date: str | None = None
    rcs_size: str | None = None
    user_defined: tuple[tuple[str, str], ...] = ()
    comments: tuple[str, ...] = field(default=(), compare=False)


class OmmError(InvalidInput, ValueError):
    """One OMM record that cannot be used: where it is, what is wrong, what was expected.

    >>> print(OmmError("not a number", source="a.kvn", where="line 12",
    ...                line="ECCENTRICITY = 0.1x", expected="ECCENTRICITY = .0125362"))
    a.kvn line 12: not a number
        got:      ECCENTRICITY = 0.1x
        expected: ECCENTRICITY = .0125362
    """

    def __init__(
        self,
        problem: str,
        *,
        source: str = "<omm>",
        where: str = "",
        line: str = "",
        expected: str = "",
    ) -> None:
        parts = [f"{source} {where}".strip() + f": {problem}"]
        if line:
            parts.append(f"    got:      {line}")
        if expected:
            parts.append(f"    expected: {expected}")
        super().__init__("\n".join(parts), details={"source": source, "where": where})
        self.problem = problem
        self.source = source
        self.where = where
        self.line = line
        self.expected = expected


@dataclass(frozen=True, slots=True)
class OmmResult:
    """What a parser read: the records that parsed, and one error per record that did not."""

    records: list[ElementSet]
    errors: list[OmmError]


# ---------------------------------------------------------------------------------------------
# Keywords: how to read each one, and an example shown beside a bad value.

_FLOAT, _INT, _TEXT, _EPOCH_KIND = "float", "int", "text", "epoch"

_KEYWORDS: dict[str, tuple[str, str, str]] = {
    # keyword: (kind, ElementSet field or "" when only checked, example value)
    "CCSDS_OMM_VERS": (_TEXT, "", "2.0"),
    "CLASSIFICATION": (_TEXT, "", "UNCLASSIFIED"),
    "MESSAGE_ID": (_TEXT, "", "OMM-2026-0001"),
    "CREATION_DATE": (_TEXT, "creation_date", "2026-05-20T00:00:00"),
    "ORIGINATOR": (_TEXT, "originator", "18 SPCS"),
    "OBJECT_NAME": (_TEXT, "object_name", "ISS (ZARYA)"),
    "OBJECT_ID": (_TEXT, "object_id", "1998-067A"),
    "CENTER_NAME": (_TEXT, "center_name", "EARTH"),
    "REF_FRAME": (_TEXT, "ref_frame", "TEME"),
    "REF_FRAME_EPOCH": (_TEXT, "", "2000-01-01T00:00:00"),
    "TIME_SYSTEM": (_TEXT, "time_system", "UTC"),
    "MEAN_ELEMENT_THEORY": (_TEXT, "mean_element_theory", "SGP4"),
    "EPOCH": (_EPOCH_KIND, "epoch", "2026-05-20T06:49:59.999808"),
    "MEAN_MOTION": (_FLOAT, "mean_motion", "15.50103472 [rev/day]"),
    "SEMI_MAJOR_AXIS": (_FLOAT, "", "6796.5 [km]"),
    "ECCENTRICITY": (_FLOAT, "eccentricity", ".0004531"),
    "INCLINATION": (_FLOAT, "inclination", "51.6416 [deg]"),
    "RA_OF_ASC_NODE": (_FLOAT, "ra_of_asc_node", "247.4627 [deg]"),
    "ARG_OF_PERICENTER": (_FLOAT, "arg_of_pericenter", "130.5360 [deg]"),
    "MEAN_ANOMALY": (_FLOAT, "mean_anomaly", "325.0288 [deg]"),
    "GM": (_FLOAT, "", "398600.8 [km**3/s**2]"),
    "EPHEMERIS_TYPE": (_INT, "ephemeris_type", "0"),
    "CLASSIFICATION_TYPE": (_TEXT, "classification_type", "U"),
    "NORAD_CAT_ID": (_INT, "norad_cat_id", "25544"),
    "ELEMENT_SET_NO": (_INT, "element_set_no", "999"),
    "REV_AT_EPOCH": (_INT, "rev_at_epoch", "12345"),
    "BSTAR": (_FLOAT, "bstar", ".34123E-4 [1/ER]"),
    "BTERM": (_FLOAT, "", "0.02 [m**2/kg]"),
    "MEAN_MOTION_DOT": (_FLOAT, "mean_motion_dot", "-.00002182 [rev/day**2]"),
    "MEAN_MOTION_DDOT": (_FLOAT, "mean_motion_ddot", "0 [rev/day**3]"),
    "AGOM": (_FLOAT, "", "0.01 [m**2/kg]"),
}
# Space-Track GP (and SATCAT join) columns that are not OMM keywords but come with the records.
_CATALOG_EXTRAS: dict[str, str] = {
    "OBJECT_TYPE": "object_type",
    "COUNTRY_CODE": "country_code",
    "LAUNCH_DATE": "launch_date",
    "DECAY_DATE": "decay_date",
    "RCS_SIZE": "rcs_size",
}
_IGNORED_EXTRAS = frozenset(
    [
        "SEMIMAJOR_AXIS",
        "PERIOD",
        "APOAPSIS",
        "PERIAPSIS",
        "SITE",
        "FILE",
        "GP_ID",
        "TLE_LINE0",
        "TLE_LINE1",
        "TLE_LINE2",
        "COMMENT",
        "DATA_SOURCE",
    ]
)
_REQUIRED = [
    "EPOCH",
    "MEAN_MOTION",
    "ECCENTRICITY",
    "INCLINATION",
    "RA_OF_ASC_NODE",
    "ARG_OF_PERICENTER",
    "MEAN_ANOMALY",
]
_UNITS: dict[str, tuple[str, ...]] = {
    "MEAN_MOTION": ("rev/day",),
    "INCLINATION": ("deg",),
    "RA_OF_ASC_NODE": ("deg",),
    "ARG_OF_PERICENTER": ("deg",),
    "MEAN_ANOMALY": ("deg",),
    "BSTAR": ("1/er",),
    "MEAN_MOTION_DOT": ("rev/day**2",),
    "MEAN_MOTION_DDOT": ("rev/day**3",),
    "SEMI_MAJOR_AXIS": ("km",),
    "GM": ("km**3/s**2",),
    "BTERM": ("m**2/kg",),
    "AGOM": ("m**2/kg",),
}
_KNOWN = sorted([*_KEYWORDS, *_CATALOG_EXTRAS, *_IGNORED_EXTRAS])


def _example(keyword: str) -> str:
    spec = _KEYWORDS.get(keyword)
    return f"{keyword} = {spec[2]}" if spec else ""


def _unknown(keyword: str) -> str:
    close = difflib.get_close_matches(keyword.upper(), _KNOWN, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"unknown keyword {keyword!r}{hint}"


# ---------------------------------------------------------------------------------------------
# Epochs

_EPOCH_RE = re.compile(r"^(\d{4})-(?:(\d{2})-(\d{2})|(\d{3}))T(\d{2}):(\d{2}):(\d{2})(\.\d+)?Z?$")


def parse_epoch(text: str) -> datetime:
    """Parse a CCSDS 502.0-B-3 epoch (calendar or day-of-year, optional fraction and ``Z``).

    A leap second (``:60``) reads as the last whole second of the day.

    >>> parse_epoch("2020-064T10:34:41.4264").isoformat()
    '2020-03-04T10:34:41.426400+00:00'
    >>> parse_epoch("2016-12-31T23:59:60").isoformat()
    '2016-12-31T23:59:59+00:00'
    >>> parse_epoch("26263.52959654")
    Traceback (most recent call last):
    ...
    ValueError: not a CCSDS epoch: '26263.52959654' (expected 2026-05-20T06:49:59.999808 or 2026-140T06:49:59.999808)
    """
    m = _EPOCH_RE.match(text.strip())
    if m is None:
        raise ValueError(
            f"not a CCSDS epoch: {text!r} "
            "(expected 2026-05-20T06:49:59.999808 or 2026-140T06:49:59.999808)"
        )
    year, month, day, doy, hh, mi, ss, frac = m.groups()
    second = min(int(ss), 59)
    micro = round(float(frac) * 1e6) if frac else 0
    if int(hh) > 23 or int(mi) > 59 or int(ss) > 60:
        raise ValueError(f"time of day out of range in epoch {text!r}")
    if doy is not None:
        base = datetime(int(year), 1, 1, tzinfo=UTC) + timedelta(days=int(doy) - 1)
        if base.year != int(year) or int(doy) == 0:
            raise ValueError(f"day of year out of range in epoch {text!r}")
        base = base.replace(hour=int(hh), minute=int(mi), second=second)
    else:
        base = datetime(int(year), int(month), int(day), int(hh), int(mi), second, tzinfo=UTC)
    return base + timedelta(microseconds=micro)


def format_epoch(when: datetime) -> str:
    """Format an aware datetime as an OMM epoch with microseconds.

    >>> format_epoch(parse_epoch("2026-140T06:49:59.5Z"))
    '2026-05-20T06:49:59.500000'
    """
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


# ---------------------------------------------------------------------------------------------
# From keyword/value pairs (every syntax ends here) to an ElementSet

_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_INTEGER = re.compile(r"^[+-]?\d+$")


def _split_unit(value: str) -> tuple[str, str | None]:
    m = re.match(r"^(.*?)\s*\[([^\]]*)\]\s*$", value)
    if m:
        return m.group(1).strip(), m.group(2).strip()
    return value.strip(), None


def _build(
    items: Iterable[tuple[str, str, str]],
    *,
    source: str,
    where: str,
    comments: Iterable[str] = (),
) -> ElementSet:
    """One record from (keyword, value, where) triples; raises OmmError on the first problem."""
    values: dict[str, Any] = {}
    seen: set[str] = set()
    user: list[tuple[str, str]] = []
    for keyword, raw, at in items:
        key = keyword.strip().upper()
        shown = f"{keyword} = {raw}"
        if key.startswith("USER_DEFINED_"):
            user.append((key[len("USER_DEFINED_") :], raw.strip()))
            continue
        if key in _CATALOG_EXTRAS:
            text = raw.strip()
            values[_CATALOG_EXTRAS[key]] = text or None
            continue
        if key in _IGNORED_EXTRAS:
            continue
        spec = _KEYWORDS.get(key)
        if spec is None:
            raise OmmError(_unknown(keyword), source=source, where=at, line=shown)
        if key in seen:
            raise OmmError(f"keyword {key} given twice", source=source, where=at, line=shown)
        seen.add(key)
        kind, attr, _ = spec
        text, unit = _split_unit(raw)
        if unit is not None and key in _UNITS and unit.lower() not in _UNITS[key]:
            raise OmmError(
                f"unit [{unit}] is not the unit of {key}",
                source=source,
                where=at,
                line=shown,
                expected=_example(key),
            )
        if not attr:
            continue
        if kind == _TEXT:
            values[attr] = text
            continue
        if text == "" and key not in _REQUIRED:
            continue
        try:
            if kind == _FLOAT:
                if not _NUMBER.match(text):
                    raise ValueError
                values[attr] = float(text)
            elif kind == _INT:
                if not _INTEGER.match(text):
                    raise ValueError
                number = int(text)
                if key == "NORAD_CAT_ID" and not 0 <= number <= 999_999_999:
                    raise OmmError(
                        "NORAD_CAT_ID must have at most nine digits",
                        source=source,
                        where=at,
                        line=shown,
                        expected=_example(key),
                    )
                values[attr] = number
            else:
                values[attr] = parse_epoch(text)
        except OmmError:
            raise
        except ValueError as exc:
            what = (
                "an epoch" if kind == _EPOCH_KIND else "an integer" if kind == _INT else "a number"
            )
            raise OmmError(
                f"{key} is not {what}", source=source, where=at, line=shown, expected=_example(key)
            ) from exc
    missing = [k for k in _REQUIRED if _KEYWORDS[k][1] not in values]
    if missing:
        raise OmmError(
            f"missing mandatory keyword{'s' if len(missing) > 1 else ''} {', '.join(missing)}",
            source=source,
            where=where,
            expected=_example(missing[0]),
        )
    theory = str(values.get("mean_element_theory", "SGP4")).upper().replace("SGP/SGP4", "SGP4")
    if theory not in ("SGP4", "SGP4-XP", "SDP4"):
        raise OmmError(
            f"MEAN_ELEMENT_THEORY {theory} is not SGP4 mean elements",
            source=source,
            where=where,
            expected="MEAN_ELEMENT_THEORY = SGP4",
        )
    values["mean_element_theory"] = theory
    values.setdefault("norad_cat_id", None)
    values["user_defined"] = tuple(user)
    values["comments"] = tuple(comments)
    return ElementSet(**values)


# ---------------------------------------------------------------------------------------------
# KVN


def parse_kvn(text: str, *, source: str = "<omm>") -> OmmResult:
    """Read one or more KVN OMMs (each starts with ``CCSDS_OMM_VERS``)."""
    records: list[ElementSet] = []
    errors: list[OmmError] = []
    block: list[tuple[str, str, str]] = []
    comments: list[str] = []
    bad: list[OmmError] = []
    start = 1

    def flush() -> None:
        if not block and not bad:
            return
        if bad:
            errors.append(bad[0])
        else:
            try:
                records.append(
                    _build(block, source=source, where=f"record at line {start}", comments=comments)
                )
            except OmmError as exc:
                errors.append(exc)
        block.clear()
        comments.clear()
        bad.clear()

    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("COMMENT"):
            comments.append(stripped[7:].removeprefix(" "))
            continue
        key, sep, value = stripped.partition("=")
        if not sep:
            bad.append(
                OmmError(
                    "not a KEYWORD = value line",
                    source=source,
                    where=f"line {number}",
                    line=stripped,
                    expected="MEAN_MOTION = 15.50103472 [rev/day]",
                )
            )
            continue
        if key.strip().upper() == "CCSDS_OMM_VERS":
            flush()
            start = number
        block.append((key.strip(), value.strip(), f"line {number}"))
    flush()
    return OmmResult(records, errors)


def dumps_kvn(records: Iterable[ElementSet], *, originator: str = "KIZUNA") -> str:
    """Write records as KVN OMMs, one message after another.

    >>> es = ElementSet(25544, parse_epoch("2026-05-20T00:00:00"), 15.5, .0004, 51.6, 10.0,
    ...                 20.0, 30.0, object_name="ISS (ZARYA)", object_id="1998-067A")
    >>> from dataclasses import replace
    >>> back = parse_kvn(dumps_kvn([es])).records[0]
    >>> back.originator, back == replace(es, originator="KIZUNA", creation_date=back.creation_date)
    ('KIZUNA', True)
    """
    out: list[str] = []
    for es in records:
        rows: list[tuple[str, str]] = [
            ("CCSDS_OMM_VERS", "3.0"),
            ("CREATION_DATE", es.creation_date or format_epoch(datetime.now(UTC))),
            ("ORIGINATOR", es.originator or originator),
            ("OBJECT_NAME", es.object_name),
            ("OBJECT_ID", es.object_id),
            ("CENTER_NAME", es.center_name),
            ("REF_FRAME", es.ref_frame),
            ("TIME_SYSTEM", es.time_system),
            ("MEAN_ELEMENT_THEORY", es.mean_element_theory),
            ("EPOCH", format_epoch(es.epoch)),
            ("MEAN_MOTION", f"{es.mean_motion!r} [rev/day]"),
            ("ECCENTRICITY", repr(es.eccentricity)),
            ("INCLINATION", f"{es.inclination!r} [deg]"),
            ("RA_OF_ASC_NODE", f"{es.ra_of_asc_node!r} [deg]"),
            ("ARG_OF_PERICENTER", f"{es.arg_of_pericenter!r} [deg]"),
            ("MEAN_ANOMALY", f"{es.mean_anomaly!r} [deg]"),
            ("EPHEMERIS_TYPE", str(es.ephemeris_type)),
            ("CLASSIFICATION_TYPE", es.classification_type),
            ("NORAD_CAT_ID", str(es.norad_cat_id)),
            ("ELEMENT_SET_NO", str(es.element_set_no)),
            ("REV_AT_EPOCH", str(es.rev_at_epoch)),
            ("BSTAR", f"{es.bstar!r} [1/ER]"),
            ("MEAN_MOTION_DOT", f"{es.mean_motion_dot!r} [rev/day**2]"),
            ("MEAN_MOTION_DDOT", f"{es.mean_motion_ddot!r} [rev/day**3]"),
        ]
        rows += [(f"USER_DEFINED_{k}", v) for k, v in es.user_defined]
        out += [f"{k:<20}= {v}".rstrip() for k, v in rows]
        out.append("")
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# XML (an <ndm> of <omm>s, or one <omm>)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse_xml(text: str, *, source: str = "<omm>") -> OmmResult:
    """Read OMMs in CCSDS NDM/XML: an ``<ndm>`` wrapping ``<omm>`` elements, or one ``<omm>``."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        return OmmResult(
            [],
            [
                OmmError(
                    f"not well-formed XML ({exc})",
                    source=source,
                    expected='<ndm><omm id="CCSDS_OMM_VERS" version="3.0">...</omm></ndm>',
                )
            ],
        )
    omms = [root] if _local(root.tag) == "omm" else [e for e in root if _local(e.tag) == "omm"]
    records: list[ElementSet] = []
    errors: list[OmmError] = []
    if not omms:
        errors.append(
            OmmError(
                f"no <omm> element under <{_local(root.tag)}>",
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
                name = _local(child.tag)
                if name.lower() in containers:
                    walk(child, where, items, comments)
                elif name == "COMMENT":
                    comments.append((child.text or "").strip())
                elif name == "USER_DEFINED":
                    items.append(
                        (
                            f"USER_DEFINED_{child.get('parameter', '')}",
                            (child.text or "").strip(),
                            where,
                        )
                    )
                else:
                    value = (child.text or "").strip()
                    unit = child.get("units")
                    items.append((name, f"{value} [{unit}]" if unit else value, where))

        walk(omm)
        try:
            records.append(_build(items, source=source, where=where, comments=comments))
        except OmmError as exc:
            errors.append(exc)
    return OmmResult(records, errors)


# ---------------------------------------------------------------------------------------------
# JSON and CSV (CelesTrak / Space-Track GP): flat rows of OMM keywords


def _from_rows(rows: Iterable[tuple[str, Mapping[str, Any]]], source: str) -> OmmResult:
    records: list[ElementSet] = []
    errors: list[OmmError] = []
    for where, row in rows:
        items = [
            (str(k), "" if v is None else _scalar(v), where)
            for k, v in row.items()
            if k is not None
        ]
        try:
            records.append(_build(items, source=source, where=where))
        except OmmError as exc:
            errors.append(exc)
    return OmmResult(records, errors)


def _scalar(value: object) -> str:
    if isinstance(value, float):
        return repr(value)
    return str(value)


def parse_json(text: str, *, source: str = "<omm>") -> OmmResult:
    """Read a JSON array of GP records (CelesTrak or Space-Track), or a single record.

    A file cut short keeps the records that are complete:

    >>> r = parse_json('[{"NORAD_CAT_ID": 5, "EPOCH": "2026-05-20T00:00:00", "MEAN_MOTION": 15,'
    ...   ' "ECCENTRICITY": 0, "INCLINATION": 1, "RA_OF_ASC_NODE": 2, "ARG_OF_PERICENTER": 3,'
    ...   ' "MEAN_ANOMALY": 4}, {"NORAD_CAT_ID": 6, "EPO')
    >>> [e.norad_cat_id for e in r.records], r.errors[0].problem
    ([5], 'the file ends inside record 2 (cut short?)')
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return _salvage_json(text, source)
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        return OmmResult(
            [],
            [
                OmmError(
                    "expected a JSON array of GP records",
                    source=source,
                    expected='[{"OBJECT_NAME": "ISS (ZARYA)", ...}]',
                )
            ],
        )
    rows: list[tuple[str, Mapping[str, Any]]] = []
    bad: list[OmmError] = []
    for i, item in enumerate(data, start=1):
        if isinstance(item, dict):
            rows.append((f"record {i}", item))
        else:
            bad.append(
                OmmError(
                    f"record {i} is not a JSON object",
                    source=source,
                    line=json.dumps(item)[:80],
                    expected='{"NORAD_CAT_ID": 25544, ...}',
                )
            )
    result = _from_rows(rows, source)
    return OmmResult(result.records, bad + result.errors)


def _salvage_json(text: str, source: str) -> OmmResult:
    decoder = json.JSONDecoder()
    pos = text.find("[")
    if pos < 0:
        return OmmResult(
            [],
            [OmmError("not JSON", source=source, expected='[{"OBJECT_NAME": "ISS (ZARYA)", ...}]')],
        )
    pos += 1
    rows: list[tuple[str, Mapping[str, Any]]] = []
    index = 0
    problem = ""
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(text):
            problem = "the file ends before the closing ']' (cut short?)"
            break
        if text[pos] == "]":
            problem = "text after the closing ']'"
            break
        index += 1
        try:
            item, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError:
            problem = f"the file ends inside record {index} (cut short?)"
            break
        if isinstance(item, dict):
            rows.append((f"record {index}", item))
    result = _from_rows(rows, source)
    err = OmmError(problem, source=source, expected="[{...}, {...}]")
    return OmmResult(result.records, [*result.errors, err])


def parse_csv(text: str, *, source: str = "<omm>") -> OmmResult:
    """Read CSV GP records with a header row of OMM keywords (CelesTrak / Space-Track)."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        return OmmResult(
            [], [OmmError("empty CSV", source=source, expected="OBJECT_NAME,OBJECT_ID,EPOCH,...")]
        )
    header = [h.strip() for h in header]
    rows: list[tuple[str, Mapping[str, Any]]] = []
    bad: list[OmmError] = []
    for number, row in enumerate(reader, start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(header):
            bad.append(
                OmmError(
                    f"row has {len(row)} fields, the header has {len(header)} (cut short?)",
                    source=source,
                    where=f"line {number}",
                    line=",".join(row)[:100],
                    expected=",".join(header)[:100],
                )
            )
            continue
        rows.append((f"line {number}", dict(zip(header, row, strict=True))))
    result = _from_rows(rows, source)
    return OmmResult(result.records, bad + result.errors)


_CSV_COLUMNS = [
    "OBJECT_NAME",
    "OBJECT_ID",
    "EPOCH",
    "MEAN_MOTION",
    "ECCENTRICITY",
    "INCLINATION",
    "RA_OF_ASC_NODE",
    "ARG_OF_PERICENTER",
    "MEAN_ANOMALY",
    "EPHEMERIS_TYPE",
    "CLASSIFICATION_TYPE",
    "NORAD_CAT_ID",
    "ELEMENT_SET_NO",
    "REV_AT_EPOCH",
    "BSTAR",
    "MEAN_MOTION_DOT",
    "MEAN_MOTION_DDOT",
]


def _row(es: ElementSet) -> dict[str, Any]:
    by_attr = {spec[1]: key for key, spec in _KEYWORDS.items() if spec[1]}
    values = {f.name: getattr(es, f.name) for f in fields(es)}
    row = {by_attr[name]: values[name] for name in by_attr if name in values}
    row["EPOCH"] = format_epoch(es.epoch)
    return {k: row[k] for k in _CSV_COLUMNS}


def dumps_json(records: Iterable[ElementSet]) -> str:
    """Write records as a CelesTrak-style JSON array.

    >>> es = ElementSet(25544, parse_epoch("2026-05-20T00:00:00"), 15.5, .0004, 51.6, 10.0,
    ...                 20.0, 30.0)
    >>> parse_json(dumps_json([es])).records == [es]
    True
    """
    return json.dumps([_row(es) for es in records])


def dumps_csv(records: Iterable[ElementSet]) -> str:
    """Write records as CelesTrak-style CSV."""
    out = io.StringIO()
    writer = csv.DictWriter(out, _CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for es in records:
        writer.writerow({k: repr(v) if isinstance(v, float) else v for k, v in _row(es).items()})
    return out.getvalue()


# ---------------------------------------------------------------------------------------------


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
