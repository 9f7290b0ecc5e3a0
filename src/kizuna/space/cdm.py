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

import dataclasses
import difflib
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from kizuna.errors import InvalidInput

__all__ = [
    "COVARIANCE_KEYWORDS",
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

#: The 21 lower-triangle terms of the 6x6 RTN position/velocity covariance, in CDM order.
COVARIANCE_KEYWORDS: tuple[str, ...] = (
    "CR_R", "CT_R", "CT_T", "CN_R", "CN_T", "CN_N",
    "CRDOT_R", "CRDOT_T", "CRDOT_N", "CRDOT_RDOT",
    "CTDOT_R", "CTDOT_T", "CTDOT_N", "CTDOT_RDOT", "CTDOT_TDOT",
    "CNDOT_R", "CNDOT_T", "CNDOT_N", "CNDOT_RDOT", "CNDOT_TDOT", "CNDOT_NDOT",
)  # fmt: skip
_STATE_KEYWORDS = ("X", "Y", "Z", "X_DOT", "Y_DOT", "Z_DOT")
_REL_POS = ("RELATIVE_POSITION_R", "RELATIVE_POSITION_T", "RELATIVE_POSITION_N")
_REL_VEL = ("RELATIVE_VELOCITY_R", "RELATIVE_VELOCITY_T", "RELATIVE_VELOCITY_N")


class CdmError(InvalidInput, ValueError):
    """A CDM that cannot be used, with where and what was expected.

    >>> str(CdmError("unknown keyword 'FOO'", source="a.cdm", where="line 3",
    ...              line="FOO = 1", expected="MISS_DISTANCE = 715 [m]"))
    "a.cdm line 3: unknown keyword 'FOO'\\n    got:      FOO = 1\\n    expected: MISS_DISTANCE = 715 [m]"
    """

    def __init__(
        self,
        problem: str,
        *,
        source: str = "<cdm>",
        where: str = "",
        line: str = "",
        expected: str = "",
    ) -> None:
        head = f"{source} {where}".strip() + f": {problem}"
        parts = [head]
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


# --------------------------------------------------------------------------------------------
# The keyword table: section, kind, unit, example value (the example is shown in errors).


class _Kw(NamedTuple):
    kind: str  # "str" | "float" (finite) | "real" (NaN allowed) | "int" | "time"
    unit: str | None
    example: str


def _kws(kind: str, unit: str | None, example: str, *names: str) -> dict[str, _Kw]:
    return {n: _Kw(kind, unit, example) for n in names}


_T = "2010-03-13T22:37:52.618"
_HEADER: dict[str, _Kw] = {
    "CCSDS_CDM_VERS": _Kw("str", None, "1.0"),
    **_kws("time", None, _T, "CREATION_DATE"),
    **_kws("str", None, "JSPOC", "ORIGINATOR", "MESSAGE_FOR", "MESSAGE_ID"),
}
_RELATIVE: dict[str, _Kw] = {
    **_kws(
        "time",
        None,
        _T,
        "TCA",
        "START_SCREEN_PERIOD",
        "STOP_SCREEN_PERIOD",
        "SCREEN_ENTRY_TIME",
        "SCREEN_EXIT_TIME",
    ),
    "MISS_DISTANCE": _Kw("float", "m", "715"),
    "RELATIVE_SPEED": _Kw("float", "m/s", "14762"),
    **_kws("float", "m", "27.4", *_REL_POS),
    **_kws("float", "m/s", "-7.2", *_REL_VEL),
    "SCREEN_VOLUME_FRAME": _Kw("str", None, "RTN"),
    "SCREEN_VOLUME_SHAPE": _Kw("str", None, "ELLIPSOID"),
    **_kws("float", "m", "200", "SCREEN_VOLUME_X", "SCREEN_VOLUME_Y", "SCREEN_VOLUME_Z"),
    "COLLISION_PROBABILITY": _Kw("float", None, "4.835E-05"),
    "COLLISION_PROBABILITY_METHOD": _Kw("str", None, "FOSTER-1992"),
}
_METADATA: dict[str, _Kw] = {
    "OBJECT": _Kw("str", None, "OBJECT1"),
    "OBJECT_DESIGNATOR": _Kw("str", None, "12345"),
    "CATALOG_NAME": _Kw("str", None, "SATCAT"),
    "OBJECT_NAME": _Kw("str", None, "SATELLITE A"),
    "INTERNATIONAL_DESIGNATOR": _Kw("str", None, "1997-030E"),
    **_kws(
        "str",
        None,
        "text",
        "OBJECT_TYPE",
        "OPERATOR_CONTACT_POSITION",
        "OPERATOR_ORGANIZATION",
        "OPERATOR_PHONE",
        "OPERATOR_EMAIL",
        "EPHEMERIS_NAME",
        "COVARIANCE_METHOD",
        "MANEUVERABLE",
        "ORBIT_CENTER",
        "REF_FRAME",
        "GRAVITY_MODEL",
        "ATMOSPHERIC_MODEL",
        "N_BODY_PERTURBATIONS",
        "SOLAR_RAD_PRESSURE",
        "EARTH_TIDES",
        "INTRACK_THRUST",
    ),
}
_OD = {
    **_kws("time", None, _T, "TIME_LASTOB_START", "TIME_LASTOB_END"),
    **_kws("real", "d", "7.88", "RECOMMENDED_OD_SPAN", "ACTUAL_OD_SPAN"),
    **_kws("real", None, "592", "OBS_AVAILABLE", "OBS_USED", "TRACKS_AVAILABLE", "TRACKS_USED"),
    "RESIDUALS_ACCEPTED": _Kw("real", "%", "97.8"),
    "WEIGHTED_RMS": _Kw("real", None, "0.864"),
}
_ADDITIONAL = {
    **_kws("real", "m**2", "5.2", "AREA_PC", "AREA_DRG", "AREA_SRP"),
    "MASS": _Kw("real", "kg", "251.6"),
    **_kws("real", "m**2/kg", "0.045663", "CD_AREA_OVER_MASS", "CR_AREA_OVER_MASS"),
    "THRUST_ACCELERATION": _Kw("real", "m/s**2", "0"),
    "SEDR": _Kw("real", "W/kg", "4.54570E-05"),
}
_STATE = {
    **_kws("float", "km", "2570.097065", "X", "Y", "Z"),
    **_kws("float", "km/s", "2.654700069", "X_DOT", "Y_DOT", "Z_DOT"),
}


def _cov_unit(name: str) -> str:
    return {0: "m**2", 1: "m**2/s", 2: "m**2/s**2"}[name.count("DOT")]


_EXT = ("R", "T", "N", "RDOT", "TDOT", "NDOT")
_EXT_UNITS = {
    "CDRG": ("m**3/kg", "m**3/(kg*s)", {"DRG": "m**4/kg**2"}),
    "CSRP": ("m**3/kg", "m**3/(kg*s)", {"DRG": "m**4/kg**2", "SRP": "m**4/kg**2"}),
    "CTHR": (
        "m**2/s**2",
        "m**2/s**3",
        {"DRG": "m**3/(kg*s**2)", "SRP": "m**3/(kg*s**2)", "THR": "m**2/s**4"},
    ),
}
_COVARIANCE: dict[str, _Kw] = {
    k: _Kw("float", _cov_unit(k), "4.142E+01") for k in COVARIANCE_KEYWORDS
}
for _p, (_u_pos, _u_vel, _u_own) in _EXT_UNITS.items():
    for _s in _EXT:
        _COVARIANCE[f"{_p}_{_s}"] = _Kw("float", _u_vel if "DOT" in _s else _u_pos, "0")
    for _s, _u in _u_own.items():
        _COVARIANCE[f"{_p}_{_s}"] = _Kw("float", _u, "0")
_DATA_BLOCKS: dict[str, dict[str, _Kw]] = {
    "odParameters": _OD,
    "additionalParameters": _ADDITIONAL,
    "stateVector": _STATE,
    "covarianceMatrix": _COVARIANCE,
}
_DATA: dict[str, _Kw] = {k: v for block in _DATA_BLOCKS.values() for k, v in block.items()}
_OBJECT: dict[str, _Kw] = {**_METADATA, **_DATA}
_MANDATORY_META = ("OBJECT_DESIGNATOR", "OBJECT_NAME", "INTERNATIONAL_DESIGNATOR")
_FIXED_META = (
    "OBJECT",
    "OBJECT_DESIGNATOR",
    "CATALOG_NAME",
    "OBJECT_NAME",
    "INTERNATIONAL_DESIGNATOR",
    "EPHEMERIS_NAME",
    "COVARIANCE_METHOD",
    "MANEUVERABLE",
    "REF_FRAME",
)
_REF_FRAMES = ("EME2000", "GCRF", "ITRF")
# Producers in the field write RELATIVE_VELOCITY_* with a length unit (CARA's sample CDMs of
# the JSpOC era do); the value is m/s. Accepted with a note, every other mismatch is an error.
_TOLERATED_UNITS = {(k, "m"): "m/s" for k in _REL_VEL}
_HBR_COMMENT = re.compile(r"^HBR\s*=\s*([-+0-9.eE]+)\s*(?:\[\s*m\s*\])?\s*$")


# --------------------------------------------------------------------------------------------
# Epochs

_EPOCH = re.compile(r"^(\d{4})-(?:(\d{2})-(\d{2})|(\d{3}))T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?Z?$")


def parse_epoch(text: str) -> datetime:
    """Parse a CCSDS epoch (calendar or day-of-year form, UTC) into an aware datetime.

    >>> parse_epoch("2017-033T23:14:54.330")
    datetime.datetime(2017, 2, 2, 23, 14, 54, 330000, tzinfo=datetime.timezone.utc)
    >>> parse_epoch("2010-03-13T22:37:52.6185")
    datetime.datetime(2010, 3, 13, 22, 37, 52, 618500, tzinfo=datetime.timezone.utc)
    """
    m = _EPOCH.match(text.strip())
    if m is None:
        raise ValueError(f"not a CCSDS epoch: {text!r}")
    year, month, day, doy, hh, mi, ss, frac = m.groups()
    micro = int(((frac or "") + "000000")[:6])
    if doy is not None:
        base = datetime(int(year), 1, 1, tzinfo=UTC) + timedelta(days=int(doy) - 1)
        if base.year != int(year):
            raise ValueError(f"day of year out of range: {text!r}")
        return base.replace(hour=int(hh), minute=int(mi), second=int(ss), microsecond=micro)
    return datetime(int(year), int(month), int(day), int(hh), int(mi), int(ss), micro, tzinfo=UTC)


def format_epoch(when: datetime) -> str:
    """Format an aware datetime as a CCSDS calendar epoch, milliseconds unless finer is needed.

    >>> format_epoch(datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=UTC))
    '2024-01-02T03:04:05.600'
    """
    when = when.astimezone(UTC)
    frac = f"{when.microsecond:06d}"
    frac = frac[:3] if frac.endswith("000") else frac
    return when.strftime("%Y-%m-%dT%H:%M:%S") + "." + frac


# --------------------------------------------------------------------------------------------
# The model


@dataclass(frozen=True)
class CdmHeader:
    """Header: who made the message, when, and its identifier."""

    creation_date: datetime
    originator: str
    message_id: str
    message_for: str | None = None
    version: str = "1.0"
    comments: tuple[str, ...] = ()


@dataclass(frozen=True)
class CdmRelative:
    """Relative metadata/data: TCA, miss distance, relative state (Object2 - Object1 in
    Object1's RTN frame, m and m/s), the producer's Pc and the hard-body radius if stated.
    ``extra`` keeps the other relative keywords (screening volume and period) as text."""

    tca: datetime
    miss_distance_m: float
    relative_speed_m_s: float | None = None
    relative_position_rtn_m: tuple[float, float, float] | None = None
    relative_velocity_rtn_m_s: tuple[float, float, float] | None = None
    collision_probability: float | None = None
    collision_probability_method: str | None = None
    hbr_m: float | None = None
    extra: Mapping[str, str] = field(default_factory=dict)
    comments: tuple[str, ...] = ()


@dataclass(frozen=True)
class CdmObject:
    """One object's section: identity, state at TCA (km, km/s, in ``ref_frame``) and the 21
    lower-triangle terms of its 6x6 RTN covariance in CDM order (m**2, m**2/s, m**2/s**2), or
    ``None`` when the producer had no covariance. ``metadata`` and ``data`` keep every other
    keyword of the section as text (OD parameters, areas, drag/SRP/thrust covariance rows)."""

    object: str
    object_designator: str
    object_name: str
    international_designator: str
    position_km: tuple[float, float, float]
    velocity_km_s: tuple[float, float, float]
    covariance: tuple[float, ...] | None = None
    catalog_name: str = "SATCAT"
    ephemeris_name: str = "NONE"
    covariance_method: str = "CALCULATED"
    maneuverable: str = "N/A"
    ref_frame: str = "EME2000"
    metadata: Mapping[str, str] = field(default_factory=dict)
    data: Mapping[str, str] = field(default_factory=dict)
    metadata_comments: tuple[str, ...] = ()
    data_comments: tuple[str, ...] = ()

    def covariance_matrix(self) -> npt.NDArray[np.float64] | None:
        """The full symmetric 6x6 RTN covariance (m, m/s), or ``None``."""
        if self.covariance is None:
            return None
        out = np.zeros((6, 6))
        out[np.tril_indices(6)] = self.covariance
        return out + np.tril(out, -1).T


@dataclass(frozen=True)
class Cdm:
    """A whole Conjunction Data Message. ``notes`` lists producer quirks the parser tolerated
    (they take no part in equality)."""

    header: CdmHeader
    relative: CdmRelative
    object1: CdmObject
    object2: CdmObject
    notes: tuple[str, ...] = field(default=(), compare=False)


# --------------------------------------------------------------------------------------------
# Building a CDM from two states (what screening writes)


def rtn_basis(r: npt.ArrayLike, v: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Rows R, T, N of the radial/transverse/normal frame of a state (any length unit).

    >>> rtn_basis((7000.0, 0.0, 0.0), (0.0, 7.5, 0.0)).round(12).tolist()
    [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    """
    rr, vv = np.asarray(r, dtype=float), np.asarray(v, dtype=float)
    rhat = rr / np.linalg.norm(rr)
    h = np.cross(rr, vv)
    nhat = h / np.linalg.norm(h)
    return np.array([rhat, np.cross(nhat, rhat), nhat])


def build_cdm(
    *,
    tca: str | datetime,
    originator: str,
    message_id: str,
    object1: CdmObject,
    object2: CdmObject,
    creation_date: str | datetime | None = None,
    hbr_m: float | None = None,
    collision_probability: float | None = None,
    collision_probability_method: str | None = None,
    message_for: str | None = None,
    comments: Iterable[str] = (),
) -> Cdm:
    """Assemble a CDM from two object sections, deriving miss distance, relative speed and the
    relative state in Object1's RTN frame from their states (both at TCA, same frame)."""
    when = tca if isinstance(tca, datetime) else parse_epoch(tca)
    if creation_date is None:
        created = datetime.now(UTC)
    else:
        created = (
            creation_date if isinstance(creation_date, datetime) else parse_epoch(creation_date)
        )
    r1, v1 = np.array(object1.position_km), np.array(object1.velocity_km_s)
    dr = (np.array(object2.position_km) - r1) * 1e3
    dv = (np.array(object2.velocity_km_s) - v1) * 1e3
    basis = rtn_basis(r1, v1)
    pos, vel = basis @ dr, basis @ dv
    return Cdm(
        header=CdmHeader(created, originator, message_id, message_for),
        relative=CdmRelative(
            tca=when,
            miss_distance_m=float(np.linalg.norm(dr)),
            relative_speed_m_s=float(np.linalg.norm(dv)),
            relative_position_rtn_m=(float(pos[0]), float(pos[1]), float(pos[2])),
            relative_velocity_rtn_m_s=(float(vel[0]), float(vel[1]), float(vel[2])),
            collision_probability=collision_probability,
            collision_probability_method=collision_probability_method,
            hbr_m=hbr_m,
            comments=tuple(comments),
        ),
        object1=dataclasses.replace(object1, object="OBJECT1"),
        object2=dataclasses.replace(object2, object="OBJECT2"),
    )


# --------------------------------------------------------------------------------------------
# From keyword entries (both syntaxes) to the model


class _Entry(NamedTuple):
    keyword: str
    value: str
    unit: str | None
    where: str
    line: str
    part: str  # "header" | "relative" | "metadata" | "data"


def _norm_unit(unit: str) -> str:
    return re.sub(r"\s+", "", unit).lower()


def _example(keyword: str, table: Mapping[str, _Kw]) -> str:
    kw = table[keyword]
    return f"{keyword} = {kw.example}" + (f" [{kw.unit}]" if kw.unit else "")


class _Builder:
    def __init__(self, source: str) -> None:
        self.source = source
        self.notes: list[str] = []

    def error(self, problem: str, entry: _Entry | None = None, expected: str = "") -> CdmError:
        where, line = (entry.where, entry.line) if entry else ("", "")
        return CdmError(problem, source=self.source, where=where, line=line, expected=expected)

    def values(
        self, entries: list[_Entry], table: Mapping[str, _Kw], section: str
    ) -> tuple[dict[str, str], dict[str, _Entry], list[_Entry]]:
        out: dict[str, str] = {}
        seen: dict[str, _Entry] = {}
        comments: list[_Entry] = []
        for e in entries:
            if e.keyword == "COMMENT":
                comments.append(e)
                continue
            kw = table.get(e.keyword)
            if kw is None:
                close = difflib.get_close_matches(e.keyword, list(table), n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                owner = next((n for n, t in _SECTIONS if e.keyword in t), None)
                problem = (
                    f"keyword {e.keyword} belongs to the {owner} section, not the {section} section"
                    if owner
                    else f"unknown keyword {e.keyword!r} in the {section} section{hint}"
                )
                sample = close[0] if close else next(iter(table))
                raise self.error(problem, e, _example(sample, table))
            if e.keyword in seen:
                raise self.error(
                    f"{e.keyword} given twice in the {section} section "
                    f"(first at {seen[e.keyword].where})",
                    e,
                )
            self.check_unit(e, kw)
            self.check_value(e, kw)
            seen[e.keyword] = e
            out[e.keyword] = e.value
        return out, seen, comments

    def check_unit(self, e: _Entry, kw: _Kw) -> None:
        if e.unit is None:
            return
        if kw.unit is None:
            raise self.error(f"{e.keyword} takes no unit", e, _example(e.keyword, _ALL))
        if _norm_unit(e.unit) == _norm_unit(kw.unit):
            return
        if _TOLERATED_UNITS.get((e.keyword, _norm_unit(e.unit))) == kw.unit:
            self.notes.append(
                f"{e.where}: {e.keyword} given in [{e.unit}], read as "
                f"[{kw.unit}] (a known producer quirk)"
            )
            return
        raise self.error(f"wrong unit [{e.unit}] for {e.keyword}", e, _example(e.keyword, _ALL))

    def check_value(self, e: _Entry, kw: _Kw) -> None:
        try:
            if kw.kind == "float":
                if not math.isfinite(float(e.value)):
                    raise ValueError
            elif kw.kind == "real":
                float(e.value)
            elif kw.kind == "int":
                int(e.value)
            elif kw.kind == "time":
                parse_epoch(e.value)
            elif not e.value:
                raise ValueError
        except ValueError:
            what = {
                "float": "a finite number",
                "real": "a number",
                "int": "an integer",
                "time": "a UTC epoch YYYY-MM-DDThh:mm:ss[.fff] or YYYY-DDDThh:mm:ss[.fff]",
                "str": "a value",
            }[kw.kind]
            raise self.error(f"{e.keyword} needs {what}", e, _example(e.keyword, _ALL)) from None

    def require(
        self,
        values: Mapping[str, str],
        names: Sequence[str],
        section: str,
        table: Mapping[str, _Kw],
        last: _Entry | None,
    ) -> None:
        missing = [n for n in names if n not in values]
        if missing:
            raise self.error(
                f"{section} section is missing {', '.join(missing)} (truncated or incomplete "
                f"message?)",
                last,
                _example(missing[0], table),
            )

    def build(self, sections: dict[str, list[_Entry]]) -> Cdm:
        last_entry = next((s[-1] for s in reversed(list(sections.values())) if s), None)
        hv, _, hc = self.values(sections.get("header", []), _HEADER, "header")
        self.require(
            hv,
            ("CCSDS_CDM_VERS", "CREATION_DATE", "ORIGINATOR", "MESSAGE_ID"),
            "header",
            _HEADER,
            last_entry,
        )
        header = CdmHeader(
            parse_epoch(hv["CREATION_DATE"]),
            hv["ORIGINATOR"],
            hv["MESSAGE_ID"],
            hv.get("MESSAGE_FOR"),
            hv["CCSDS_CDM_VERS"],
            tuple(c.value for c in hc),
        )
        relative = self.relative(sections.get("relative", []), last_entry)
        objs = []
        for name in ("OBJECT1", "OBJECT2"):
            if name not in sections:
                raise self.error(
                    f"no {name} section (truncated message?)", last_entry, f"OBJECT = {name}"
                )
            objs.append(self.obj(name, sections[name], last_entry))
        return Cdm(header, relative, objs[0], objs[1], tuple(self.notes))

    def relative(self, entries: list[_Entry], last: _Entry | None) -> CdmRelative:
        rv, seen, rc = self.values(entries, _RELATIVE, "relative metadata/data")
        self.require(rv, ("TCA", "MISS_DISTANCE"), "relative metadata/data", _RELATIVE, last)
        hbr: float | None = None
        comments = []
        for c in rc:
            m = _HBR_COMMENT.match(c.value)
            if m and hbr is None:
                try:
                    hbr = float(m.group(1))
                except ValueError:
                    raise self.error(
                        "HBR comment needs a number", c, "COMMENT HBR = 10 [m]"
                    ) from None
                continue
            comments.append(c.value)
        vecs = []
        for names in (_REL_POS, _REL_VEL):
            given = [n for n in names if n in rv]
            if given and len(given) < 3:
                self.require(rv, names, "relative metadata/data", _RELATIVE, seen[given[-1]])
            vecs.append(
                (float(rv[names[0]]), float(rv[names[1]]), float(rv[names[2]])) if given else None
            )
        fixed = {
            "TCA",
            "MISS_DISTANCE",
            "RELATIVE_SPEED",
            "COLLISION_PROBABILITY",
            "COLLISION_PROBABILITY_METHOD",
            *_REL_POS,
            *_REL_VEL,
        }

        def opt(name: str) -> float | None:
            return float(rv[name]) if name in rv else None

        return CdmRelative(
            tca=parse_epoch(rv["TCA"]),
            miss_distance_m=float(rv["MISS_DISTANCE"]),
            relative_speed_m_s=opt("RELATIVE_SPEED"),
            relative_position_rtn_m=vecs[0],
            relative_velocity_rtn_m_s=vecs[1],
            collision_probability=opt("COLLISION_PROBABILITY"),
            collision_probability_method=rv.get("COLLISION_PROBABILITY_METHOD"),
            hbr_m=hbr,
            extra={k: v for k, v in rv.items() if k not in fixed},
            comments=tuple(comments),
        )

    def obj(self, name: str, entries: list[_Entry], last: _Entry | None) -> CdmObject:
        section = f"{name} "
        ov, seen, oc = self.values(entries, _OBJECT, f"{name} metadata/data")
        last = entries[-1] if entries else last
        self.require(ov, _MANDATORY_META, section + "metadata", _METADATA, last)
        self.require(ov, _STATE_KEYWORDS, section + "state vector", _STATE, last)
        frame = ov.get("REF_FRAME", "EME2000")
        if frame not in _REF_FRAMES:
            raise self.error(
                f"unsupported REF_FRAME {frame!r}",
                seen["REF_FRAME"],
                "REF_FRAME = " + " | ".join(_REF_FRAMES),
            )
        cov: tuple[float, ...] | None = None
        given = [k for k in COVARIANCE_KEYWORDS if k in ov]
        if given:
            self.require(ov, COVARIANCE_KEYWORDS, section + "covariance", _COVARIANCE, last)
            cov = tuple(float(ov[k]) for k in COVARIANCE_KEYWORDS)
        fixed = {*_FIXED_META, *_STATE_KEYWORDS, *COVARIANCE_KEYWORDS}
        s = [float(ov[k]) for k in _STATE_KEYWORDS]
        return CdmObject(
            object=name,
            object_designator=ov["OBJECT_DESIGNATOR"],
            object_name=ov["OBJECT_NAME"],
            international_designator=ov["INTERNATIONAL_DESIGNATOR"],
            position_km=(s[0], s[1], s[2]),
            velocity_km_s=(s[3], s[4], s[5]),
            covariance=cov,
            catalog_name=ov.get("CATALOG_NAME", "SATCAT"),
            ephemeris_name=ov.get("EPHEMERIS_NAME", "NONE"),
            covariance_method=ov.get("COVARIANCE_METHOD", "CALCULATED"),
            maneuverable=ov.get("MANEUVERABLE", "N/A"),
            ref_frame=frame,
            metadata={k: v for k, v in ov.items() if k in _METADATA and k not in fixed},
            data={k: v for k, v in ov.items() if k in _DATA and k not in fixed},
            metadata_comments=tuple(c.value for c in oc if c.part == "metadata"),
            data_comments=tuple(c.value for c in oc if c.part == "data"),
        )


_SECTIONS = (
    ("header", _HEADER),
    ("relative metadata/data", _RELATIVE),
    ("object metadata", _METADATA),
    ("object data", _DATA),
)
_ALL: dict[str, _Kw] = {**_HEADER, **_RELATIVE, **_OBJECT}


# --------------------------------------------------------------------------------------------
# KVN

_KVN_LINE = re.compile(r"^([A-Za-z0-9_]+)\s*=\s*(.*?)\s*(?:\[([^\]]*)\])?\s*$")


def parse_kvn(text: str, *, source: str = "<cdm>") -> Cdm:
    """Parse a CDM in KVN (``KEYWORD = value [unit]``) form; raise :class:`CdmError`."""
    sections: dict[str, list[_Entry]] = {}
    current = "header"
    pending: list[tuple[int, str]] = []

    def flush(part_section: str, part: str) -> None:
        for no, raw in pending:
            body = raw.strip()[7:].strip()
            sections.setdefault(part_section, []).append(
                _Entry("COMMENT", body, None, f"line {no}", raw.strip(), part)
            )
        pending.clear()

    part = "header"
    quirks: list[str] = []
    for no, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if line == "COMMENT" or line.startswith("COMMENT ") or line.startswith("COMMENT\t"):
            pending.append((no, raw))
            continue
        m = _KVN_LINE.match(line)
        if m is None:
            raise CdmError(
                "not a KVN line",
                source=source,
                where=f"line {no}",
                line=line,
                expected="KEYWORD = value [unit]   e.g.  MISS_DISTANCE = 715 [m]",
            )
        key, value, unit = m.group(1), m.group(2), m.group(3)
        if unit is None and value.endswith("["):
            value = value[:-1].rstrip()
            quirks.append(f"line {no}: {key} has an unclosed unit bracket, read without a unit")
        if key == "OBJECT":
            flush(current, part)
            if value not in ("OBJECT1", "OBJECT2"):
                raise CdmError(
                    f"OBJECT must be OBJECT1 or OBJECT2, not {value!r}",
                    source=source,
                    where=f"line {no}",
                    line=line,
                    expected="OBJECT = OBJECT1",
                )
            if value in sections or (value == "OBJECT2" and "OBJECT1" not in sections):
                raise CdmError(
                    f"{value} section out of order or repeated",
                    source=source,
                    where=f"line {no}",
                    line=line,
                    expected="one OBJECT = OBJECT1 section, then OBJECT = OBJECT2",
                )
            current, part = value, "metadata"
        elif current == "header" and key not in _HEADER:
            current = part = "relative"
        elif current.startswith("OBJECT"):
            part = "data" if key in _DATA else ("metadata" if part == "metadata" else "data")
        flush(current, part)
        sections.setdefault(current, []).append(
            _Entry(key.upper(), value, unit, f"line {no}", line, part)
        )
    flush(current, part)
    builder = _Builder(source)
    builder.notes.extend(quirks)
    return builder.build(sections)


def _fmt(x: float) -> str:
    return repr(float(x))


def _kvn_lines(cdm: Cdm) -> list[tuple[str, str, str | None]]:
    out: list[tuple[str, str, str | None]] = []
    h, r = cdm.header, cdm.relative
    out.append(("CCSDS_CDM_VERS", h.version, None))
    out += [("COMMENT", c, None) for c in h.comments]
    out.append(("CREATION_DATE", format_epoch(h.creation_date), None))
    out.append(("ORIGINATOR", h.originator, None))
    if h.message_for is not None:
        out.append(("MESSAGE_FOR", h.message_for, None))
    out.append(("MESSAGE_ID", h.message_id, None))
    out += [("COMMENT", c, None) for c in r.comments]
    for k, v in _relative_items(r):
        out.append((k, v, _RELATIVE[k].unit))
    if r.hbr_m is not None:
        out.append(("COMMENT", f"HBR = {_fmt(r.hbr_m)} [m]", None))
    for o in (cdm.object1, cdm.object2):
        out.append(("OBJECT", o.object, None))
        out += [("COMMENT", c, None) for c in o.metadata_comments]
        out += [(k, v, None) for k, v in _metadata_items(o)[1:]]
        out += [("COMMENT", c, None) for c in o.data_comments]
        out += [(k, v, _DATA[k].unit) for _, items in _data_blocks(o) for k, v in items]
    return out


def _relative_items(r: CdmRelative) -> list[tuple[str, str]]:
    items = [("TCA", format_epoch(r.tca)), ("MISS_DISTANCE", _fmt(r.miss_distance_m))]
    if r.relative_speed_m_s is not None:
        items.append(("RELATIVE_SPEED", _fmt(r.relative_speed_m_s)))
    for names, vec in (
        (_REL_POS, r.relative_position_rtn_m),
        (_REL_VEL, r.relative_velocity_rtn_m_s),
    ):
        if vec is not None:
            items += [(n, _fmt(x)) for n, x in zip(names, vec, strict=True)]
    items += list(r.extra.items())
    if r.collision_probability is not None:
        items.append(("COLLISION_PROBABILITY", _fmt(r.collision_probability)))
    if r.collision_probability_method is not None:
        items.append(("COLLISION_PROBABILITY_METHOD", r.collision_probability_method))
    return items


def _metadata_items(o: CdmObject) -> list[tuple[str, str]]:
    items = [(k, str(getattr(o, k.lower()))) for k in _FIXED_META]
    return items + list(o.metadata.items())


def _data_blocks(o: CdmObject) -> list[tuple[str, list[tuple[str, str]]]]:
    state = [*o.position_km, *o.velocity_km_s]
    blocks: list[tuple[str, list[tuple[str, str]]]] = []
    for name, table in _DATA_BLOCKS.items():
        items = [(k, v) for k, v in o.data.items() if k in table]
        if name == "stateVector":
            items = [(k, _fmt(x)) for k, x in zip(_STATE_KEYWORDS, state, strict=True)]
        elif name == "covarianceMatrix" and o.covariance is not None:
            items = [
                (k, _fmt(x)) for k, x in zip(COVARIANCE_KEYWORDS, o.covariance, strict=True)
            ] + items
        if items:
            blocks.append((name, items))
    return blocks


def dumps_kvn(cdm: Cdm) -> str:
    """Write a CDM in KVN form (units in brackets, comments at the start of each section)."""
    lines = []
    for key, value, unit in _kvn_lines(cdm):
        if key == "COMMENT":
            lines.append(f"COMMENT {value}".rstrip())
        else:
            lines.append(f"{key:<36}= {value}" + (f" [{unit}]" if unit else ""))
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# XML


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse_xml(text: str, *, source: str = "<cdm>") -> Cdm:
    """Parse a CDM in the CCSDS NDM/XML form (``<cdm>`` root, possibly inside ``<ndm>``)."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise CdmError(
            f"not well-formed XML ({exc})",
            source=source,
            expected='<cdm id="CCSDS_CDM_VERS" version="1.0"><header>...</header>'
            "<body>...</body></cdm>",
        ) from None
    cdm = (
        root
        if _local(root.tag) == "cdm"
        else next((el for el in root.iter() if _local(el.tag) == "cdm"), None)
    )
    if cdm is None:
        raise CdmError(
            f"no <cdm> element (root is <{_local(root.tag)}>)",
            source=source,
            expected='<cdm id="CCSDS_CDM_VERS" version="1.0">',
        )
    sections: dict[str, list[_Entry]] = {
        "header": [
            _Entry("CCSDS_CDM_VERS", cdm.get("version", ""), None, "<cdm version>", "", "header")
        ]
    }

    def leaves(el: ET.Element, path: str, section: str, part: str, nested: Iterable[str]) -> None:
        for child in el:
            name = _local(child.tag)
            where = f"<{path}/{name}>"
            if name in nested:
                leaves(child, f"{path}/{name}", section, part, ())
                continue
            if len(child):
                raise CdmError(
                    f"unexpected element <{name}> with children",
                    source=source,
                    where=where,
                    expected="a keyword element, e.g. <TCA>",
                )
            value = (child.text or "").strip()
            shown = (
                f"<{name}"
                + (f' units="{child.get("units")}"' if child.get("units") else "")
                + f">{value}</{name}>"
            )
            sections.setdefault(section, []).append(
                _Entry(name, value, child.get("units"), where, shown, part)
            )

    body = None
    for top in cdm:
        name = _local(top.tag)
        if name == "header":
            leaves(top, "cdm/header", "header", "header", ())
        elif name == "body":
            body = top
        else:
            raise CdmError(
                f"unexpected element <{name}>",
                source=source,
                where="<cdm>",
                expected="<header> then <body>",
            )
    if body is None:
        raise CdmError(
            "no <body> element (truncated message?)",
            source=source,
            where="<cdm>",
            expected="<body><relativeMetadataData>...</relativeMetadataData>"
            "<segment>...</segment><segment>...</segment></body>",
        )
    for n, seg_or_rel in enumerate(body):
        name = _local(seg_or_rel.tag)
        if name == "relativeMetadataData":
            leaves(
                seg_or_rel,
                "body/relativeMetadataData",
                "relative",
                "relative",
                ("relativeStateVector",),
            )
            continue
        if name != "segment":
            raise CdmError(
                f"unexpected element <{name}>",
                source=source,
                where="<body>",
                expected="<relativeMetadataData> then two <segment>",
            )
        obj = next((c for c in seg_or_rel.iter() if _local(c.tag) == "OBJECT"), None)
        label = (obj.text or "").strip() if obj is not None else f"segment {n}"
        if label not in ("OBJECT1", "OBJECT2"):
            raise CdmError(
                f"segment without OBJECT1/OBJECT2 ({label!r})",
                source=source,
                where=f"<body/segment[{n}]>",
                expected="<OBJECT>OBJECT1</OBJECT>",
            )
        for part in seg_or_rel:
            pname = _local(part.tag)
            if pname not in ("metadata", "data"):
                raise CdmError(
                    f"unexpected element <{pname}>",
                    source=source,
                    where=f"<body/segment[{n}]>",
                    expected="<metadata> then <data>",
                )
            leaves(part, f"body/segment[{n}]/{pname}", label, pname, _DATA_BLOCKS)
    return _Builder(source).build(sections)


def dumps_xml(cdm: Cdm) -> str:
    """Write a CDM in the CCSDS NDM/XML form."""
    root = ET.Element(
        "cdm",
        {
            "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
            "xsi:noNamespaceSchemaLocation": "http://sanaregistry.org/r/ndmxml/ndmxml-1.0-master.xsd",
            "id": "CCSDS_CDM_VERS",
            "version": cdm.header.version,
        },
    )

    def add(parent: ET.Element, key: str, value: str, unit: str | None = None) -> None:
        el = ET.SubElement(parent, key, {"units": unit} if unit else {})
        el.text = value

    h, r = cdm.header, cdm.relative
    header = ET.SubElement(root, "header")
    for c in h.comments:
        add(header, "COMMENT", c)
    add(header, "CREATION_DATE", format_epoch(h.creation_date))
    add(header, "ORIGINATOR", h.originator)
    if h.message_for is not None:
        add(header, "MESSAGE_FOR", h.message_for)
    add(header, "MESSAGE_ID", h.message_id)
    body = ET.SubElement(root, "body")
    rel = ET.SubElement(body, "relativeMetadataData")
    comments = [*r.comments] + ([f"HBR = {_fmt(r.hbr_m)} [m]"] if r.hbr_m is not None else [])
    for c in comments:
        add(rel, "COMMENT", c)
    state: ET.Element | None = None
    for k, v in _relative_items(r):
        if k in _REL_POS or k in _REL_VEL:
            state = state if state is not None else ET.SubElement(rel, "relativeStateVector")
            add(state, k, v, _RELATIVE[k].unit)
        else:
            add(rel, k, v, _RELATIVE[k].unit)
    for o in (cdm.object1, cdm.object2):
        seg = ET.SubElement(body, "segment")
        meta = ET.SubElement(seg, "metadata")
        for c in o.metadata_comments:
            add(meta, "COMMENT", c)
        for k, v in _metadata_items(o):
            add(meta, k, v)
        data = ET.SubElement(seg, "data")
        for c in o.data_comments:
            add(data, "COMMENT", c)
        for block, items in _data_blocks(o):
            sub = ET.SubElement(data, block)
            for k, v in items:
                add(sub, k, v, _DATA[k].unit)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def parse(text: str, *, source: str = "<cdm>") -> Cdm:
    """Parse either syntax: XML when the text starts with ``<``, KVN otherwise."""
    if text.lstrip().startswith("<"):
        return parse_xml(text, source=source)
    return parse_kvn(text, source=source)
