"""The CDM model (header, relative section, two object sections), its error, CCSDS epochs, and
:func:`build_cdm`, which assembles a CDM from two states. Re-exported by
:mod:`kizuna.space.formats.cdm`, which documents the whole format."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

from kizuna.space.formats import _epoch
from kizuna.space.formats._epoch import parse_epoch
from kizuna.space.formats._record import RecordError


class CdmError(RecordError):
    """A CDM that cannot be used, with where and what was expected.

    >>> print(CdmError("unknown keyword 'FOO'", source="a.cdm", where="line 3",
    ...                line="FOO = 1", expected="MISS_DISTANCE = 715 [m]"))
    a.cdm line 3: unknown keyword 'FOO'
        expected: MISS_DISTANCE = 715 [m]
        got:      FOO = 1
    """

    default_source = "<cdm>"


def format_epoch(when: datetime) -> str:
    """An aware datetime as a CDM epoch: milliseconds, or microseconds when they are needed.

    >>> format_epoch(datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=UTC))
    '2024-01-02T03:04:05.600'
    """
    return _epoch.format_epoch(when, digits=3)


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
    keyword of the section as text (OD parameters, areas, drag/SRP/thrust covariance rows).
    Without a covariance, ``covariance_method`` is ``DEFAULT``."""

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

    def __post_init__(self) -> None:
        # Without a covariance there is nothing calculated: the writers put the standard's
        # DEFAULT placeholder in its place (see kizuna.space.formats.cdm.NO_COVARIANCE_COMMENT).
        if self.covariance is None and self.covariance_method != "DEFAULT":
            object.__setattr__(self, "covariance_method", "DEFAULT")

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
    if collision_probability is not None and not 0.0 <= collision_probability <= 1.0:
        raise ValueError(f"collision probability {collision_probability!r} is not in [0, 1]")
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
