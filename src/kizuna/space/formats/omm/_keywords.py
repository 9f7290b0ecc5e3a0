"""The OMM keywords (how to read each one, an example shown beside a bad value), and the one
path every syntax ends in: keyword/value pairs to an :class:`~kizuna.space.formats.omm.ElementSet`."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from typing import Any

from kizuna.space.formats._epoch import parse_epoch
from kizuna.space.formats.omm._model import ElementSet, OmmError

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
# From keyword/value pairs (every syntax ends here) to an ElementSet

_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_INTEGER = re.compile(r"^[+-]?\d+$")


def _split_unit(value: str) -> tuple[str, str | None]:
    m = re.match(r"^(.*?)\s*\[([^\]]*)\]\s*$", value)
    if m:
        return m.group(1).strip(), m.group(2).strip()
    return value.strip(), None


def record_label(items: Iterable[tuple[str, str, str]]) -> str:
    """How a person knows a record: its name and catalog number, as far as it gives them.

    >>> record_label([("OBJECT_NAME", "ISS (ZARYA)", ""), ("NORAD_CAT_ID", "25544", "")])
    'ISS (ZARYA), NORAD_CAT_ID 25544'
    """
    found: dict[str, str] = {}
    for keyword, raw, _ in items:
        key = keyword.strip().upper()
        if key in ("OBJECT_NAME", "NORAD_CAT_ID", "OBJECT_ID") and key not in found:
            text = "".join(ch for ch in raw.strip() if ch.isprintable())[:40]
            if text:
                found[key] = text
    parts = [found["OBJECT_NAME"]] if "OBJECT_NAME" in found else []
    parts += [f"{k} {found[k]}" for k in ("NORAD_CAT_ID", "OBJECT_ID") if k in found]
    return ", ".join(parts[:2])


def named(error: OmmError, items: Iterable[tuple[str, str, str]], record: str) -> OmmError:
    """*error* with the record it is in named after its place (*record*: where it starts)."""
    label = record_label(items)
    whose = ", ".join(p for p in (record if record != error.where else "", label) if p)
    if not whose:
        return error
    return OmmError(
        error.problem,
        source=error.source,
        where=f"{error.where} ({whose})".strip(),
        line=error.line,
        expected=error.expected,
    )


def _build(
    items: Iterable[tuple[str, str, str]],
    *,
    source: str,
    where: str,
    comments: Iterable[str] = (),
) -> ElementSet:
    """One record from (keyword, value, where) triples; raises OmmError on the first problem,
    naming the record (its place, name and catalog number) beside the line."""
    pairs = list(items)
    try:
        return _record(pairs, source=source, where=where, comments=comments)
    except OmmError as exc:
        raise named(exc, pairs, where) from None


def _record(
    items: list[tuple[str, str, str]],
    *,
    source: str,
    where: str,
    comments: Iterable[str],
) -> ElementSet:
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
        text, unit = _split_unit(raw) if kind != _TEXT else (raw.strip(), None)
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
