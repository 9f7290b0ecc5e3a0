"""The OMM record (:class:`ElementSet`), a parser's result and its error. Re-exported by
:mod:`kizuna.space.formats.omm`, which documents the format."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from kizuna.space.formats._record import RecordError


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
        expected: ECCENTRICITY = .0125362
        got:      ECCENTRICITY = 0.1x
    """

    default_source = "<omm>"


@dataclass(frozen=True, slots=True)
class OmmResult:
    """What a parser read: the records that parsed, and one error per record that did not."""

    records: list[ElementSet]
    errors: list[OmmError]
