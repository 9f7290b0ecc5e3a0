"""The OMM record (:class:`ElementSet`), a parser's result and its error, and CCSDS epochs.
Re-exported by :mod:`kizuna.space.omm`, which documents the format."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from kizuna.space._record_error import RecordError


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


class OmmError(RecordError):
    """One OMM record that cannot be used: where it is, what is wrong, what was expected.

    >>> print(OmmError("not a number", source="a.kvn", where="line 12",
    ...                line="ECCENTRICITY = 0.1x", expected="ECCENTRICITY = .0125362"))
    a.kvn line 12: not a number
        got:      ECCENTRICITY = 0.1x
        expected: ECCENTRICITY = .0125362
    """

    default_source = "<omm>"


@dataclass(frozen=True, slots=True)
class OmmResult:
    """What a parser read: the records that parsed, and one error per record that did not."""

    records: list[ElementSet]
    errors: list[OmmError]


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
