"""The CDM keyword tables (section, kind, unit, example shown in errors), and the model as
keyword/value items in CDM order, which both writers (KVN and XML) write."""

from __future__ import annotations

import re
from typing import NamedTuple

from kizuna.space.formats.cdm._model import CdmObject, CdmRelative, format_epoch

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
_SECTIONS = (
    ("header", _HEADER),
    ("relative metadata/data", _RELATIVE),
    ("object metadata", _METADATA),
    ("object data", _DATA),
)
_ALL: dict[str, _Kw] = {**_HEADER, **_RELATIVE, **_OBJECT}
#: The relative section's keywords in the order of the CDM XML schema (NDM/XML 2.0.0).
_XSD_RELATIVE = (
    "TCA", "MISS_DISTANCE", "RELATIVE_SPEED", *_REL_POS, *_REL_VEL, "START_SCREEN_PERIOD",
    "STOP_SCREEN_PERIOD", "SCREEN_VOLUME_FRAME", "SCREEN_VOLUME_SHAPE", "SCREEN_VOLUME_X",
    "SCREEN_VOLUME_Y", "SCREEN_VOLUME_Z", "SCREEN_ENTRY_TIME", "SCREEN_EXIT_TIME",
    "COLLISION_PROBABILITY", "COLLISION_PROBABILITY_METHOD",
)  # fmt: skip


# --------------------------------------------------------------------------------------------
# The model as keyword items (both writers)


def _unit(keyword: str) -> str | None:
    """The unit a writer puts beside a data keyword (none beside a comment)."""
    return None if keyword == "COMMENT" else _DATA[keyword].unit


def _fmt(x: float) -> str:
    return repr(float(x))


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
    items += sorted(r.extra.items(), key=lambda kv: _XSD_RELATIVE.index(kv[0]))
    if r.collision_probability is not None:
        items.append(("COLLISION_PROBABILITY", _fmt(r.collision_probability)))
    if r.collision_probability_method is not None:
        items.append(("COLLISION_PROBABILITY_METHOD", r.collision_probability_method))
    return items


def _metadata_items(o: CdmObject) -> list[tuple[str, str]]:
    """The metadata keywords in the order of the CDM XML schema (``_METADATA``'s)."""
    values = {**o.metadata, **{k: str(getattr(o, k.lower())) for k in _FIXED_META}}
    if o.covariance is None:
        values["COVARIANCE_METHOD"] = "DEFAULT"
    return [(k, values[k]) for k in _METADATA if k in values]


#: CDM 508.0-B-1 requires a covariance, and allows an arbitrary default one flagged
#: ``COVARIANCE_METHOD = DEFAULT``. An object with none (screening from mean elements) is
#: written with this placeholder (1 km and 1 m/s, uncorrelated, in RTN) after this comment;
#: the reader gives such an object no covariance again.
NO_COVARIANCE_COMMENT = (
    "No covariance is known for this object (state from mean elements): the covariance is a "
    "DEFAULT placeholder (1 km, 1 m/s, uncorrelated); compute no collision probability from it"
)
_PLACEHOLDER = tuple(
    1e6 if a == b and a < 3 else 1.0 if a == b else 0.0 for a in range(6) for b in range(a + 1)
)


def _data_blocks(o: CdmObject) -> list[tuple[str, list[tuple[str, str]]]]:
    state = [*o.position_km, *o.velocity_km_s]
    blocks: list[tuple[str, list[tuple[str, str]]]] = []
    for name, table in _DATA_BLOCKS.items():
        # The schema's order; an unknown value (CARA writes NaN) is left out, as the schema
        # has no NaN for counts and spans: absent means unknown.
        items = [(k, o.data[k]) for k in table if k in o.data and o.data[k].lower() != "nan"]
        if name == "stateVector":
            items = [(k, _fmt(x)) for k, x in zip(_STATE_KEYWORDS, state, strict=True)]
        elif name == "covarianceMatrix":
            given = o.covariance is not None
            values = o.covariance if o.covariance is not None else _PLACEHOLDER
            terms = [(k, _fmt(x)) for k, x in zip(COVARIANCE_KEYWORDS, values, strict=True)]
            items = ([] if given else [("COMMENT", NO_COVARIANCE_COMMENT)]) + terms + items
        if items:
            blocks.append((name, items))
    return blocks
