"""One CCSDS CDM per screening event: TEME states at TCA rotated to EME2000, no covariance."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta  # noqa: F401 (UTC: the doctest of teme_to_eme2000)
from pathlib import Path

import numpy as np
import numpy.typing as npt

from kizuna.space import catalog as catalogs
from kizuna.space.formats.cdm import Cdm, CdmObject, build_cdm, dumps_kvn
from kizuna.space.formats.omm import ElementSet, format_epoch
from kizuna.space.screening._screen import ScreenResult

__all__ = ["event_cdm", "teme_to_eme2000", "write_cdms"]


def _rot(axis: int, angle: float) -> npt.NDArray[np.float64]:
    """The frame rotation R_axis(angle) (axis 1, 2 or 3), as in Vallado."""
    c, s = math.cos(angle), math.sin(angle)
    if axis == 1:
        return np.array([[1.0, 0.0, 0.0], [0.0, c, s], [0.0, -s, c]])
    if axis == 2:
        return np.array([[c, 0.0, -s], [0.0, 1.0, 0.0], [s, 0.0, c]])
    return np.array([[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0]])


# The largest IAU-1980 nutation terms: multipliers of (l, l', F, D, Omega), then
# dpsi = (A + B T) sin(arg), deps = (C + D T) cos(arg), in 0.0001 arcsec. The terms left out
# add up to a few 0.01 arcsec (about a metre at LEO radius).
_NUTATION = (
    (0, 0, 0, 0, 1, -171996.0, -174.2, 92025.0, 8.9),
    (0, 0, 2, -2, 2, -13187.0, -1.6, 5736.0, -3.1),
    (0, 0, 2, 0, 2, -2274.0, -0.2, 977.0, -0.5),
    (0, 0, 0, 0, 2, 2062.0, 0.2, -895.0, 0.5),
    (0, 1, 0, 0, 0, 1426.0, -3.4, 54.0, -0.1),
    (1, 0, 0, 0, 0, 712.0, 0.1, -7.0, 0.0),
    (0, 1, 2, -2, 2, -517.0, 1.2, 224.0, -0.6),
    (0, 0, 2, 0, 1, -386.0, -0.4, 200.0, 0.0),
    (1, 0, 2, 0, 2, -301.0, 0.0, 129.0, -0.1),
    (0, -1, 2, -2, 2, 217.0, -0.5, -95.0, 0.3),
    (1, 0, 0, -2, 0, -158.0, 0.0, -1.0, 0.0),
    (0, 0, 2, -2, 1, 129.0, 0.1, -70.0, 0.0),
    (-1, 0, 2, 0, 2, 123.0, 0.0, -53.0, 0.0),
    (1, 0, 0, 0, 1, 63.0, 0.1, -33.0, 0.0),
    (0, 0, 0, 2, 0, 63.0, 0.0, -2.0, 0.0),
    (-1, 0, 2, 2, 2, -59.0, 0.0, 26.0, 0.0),
    (-1, 0, 0, 0, 1, -58.0, -0.1, 32.0, 0.0),
    (1, 0, 2, 0, 1, -51.0, 0.0, 27.0, 0.0),
)
_ARCSEC = math.pi / (180.0 * 3600.0)


def teme_to_eme2000(when: datetime) -> npt.NDArray[np.float64]:
    """The rotation from SGP4's TEME to EME2000 at *when* (IAU-76 precession, IAU-80 nutation
    with its largest terms, UTC taken for UT1); apply it to positions and velocities alike.

    Vallado et al. (2006), "Revisiting Spacetrack Report #3", TEME example at
    2004-04-06T07:51:28.386009Z, gives J2000 (5102.508958, 6123.011401, 6378.136928) km:

    >>> r = teme_to_eme2000(datetime(2004, 4, 6, 7, 51, 28, 386009, tzinfo=UTC)) @ np.array(
    ...     [5094.18016210, 6127.64465950, 6380.34453270])
    >>> bool(np.abs(r - [5102.508958, 6123.011401, 6378.136928]).max() < 0.002)
    True
    """
    jd, fr = catalogs.julian(when)
    t = ((jd - 2451545.0) + fr + 69.184 / 86400.0) / 36525.0  # TT centuries since J2000
    deg = math.pi / 180.0
    l_ = (134.96298139 + (1717915922.6330 * t + 31.310 * t * t) / 3600.0) * deg
    lp = (357.52772333 + (129596581.2240 * t - 0.577 * t * t) / 3600.0) * deg
    f = (93.27191028 + (1739527263.1370 * t - 13.257 * t * t) / 3600.0) * deg
    d = (297.85036306 + (1602961601.3280 * t - 6.891 * t * t) / 3600.0) * deg
    om = (125.04452222 + (-6962890.5390 * t + 7.455 * t * t) / 3600.0) * deg
    dpsi = deps = 0.0
    for a, b, c, e, g, s0, s1, c0, c1 in _NUTATION:
        arg = a * l_ + b * lp + c * f + e * d + g * om
        dpsi += (s0 + s1 * t) * math.sin(arg)
        deps += (c0 + c1 * t) * math.cos(arg)
    dpsi *= 1e-4 * _ARCSEC
    deps *= 1e-4 * _ARCSEC
    eps = (84381.448 - 46.8150 * t - 0.00059 * t * t + 0.001813 * t**3) * _ARCSEC
    zeta = (2306.2181 * t + 0.30188 * t * t + 0.017998 * t**3) * _ARCSEC
    theta = (2004.3109 * t - 0.42665 * t * t - 0.041833 * t**3) * _ARCSEC
    z = (2306.2181 * t + 1.09468 * t * t + 0.018203 * t**3) * _ARCSEC
    precession = _rot(3, -z) @ _rot(2, theta) @ _rot(3, -zeta)  # J2000 -> mean of date
    nutation = _rot(1, -(eps + deps)) @ _rot(3, -dpsi) @ _rot(1, eps)  # mean -> true of date
    equinoxes = _rot(3, dpsi * math.cos(eps))  # true of date -> TEME
    teme_from_j2000 = equinoxes @ nutation @ precession
    return teme_from_j2000.T


def event_cdm(result: ScreenResult, k: int, records: Sequence[ElementSet]) -> Cdm:
    """A CCSDS CDM for event *k*: states at TCA in EME2000, no covariance (elements carry
    none), relative state in object 1's RTN frame (the same numbers as the CSV)."""
    tca = result.start + timedelta(seconds=float(result.tca_s[k]))
    rot = teme_to_eme2000(tca)
    sections = []
    for row, r, v in (
        (result.row1[k], result.r1[k], result.v1[k]),
        (result.row2[k], result.r2[k], result.v2[k]),
    ):
        es = records[int(row)]
        rr, vv = rot @ r, rot @ v
        sections.append(
            CdmObject(
                object="OBJECT1",
                object_designator=str(es.norad_cat_id),
                object_name=es.object_name or "UNKNOWN",
                international_designator=es.object_id or "UNKNOWN",
                position_km=(float(rr[0]), float(rr[1]), float(rr[2])),
                velocity_km_s=(float(vv[0]), float(vv[1]), float(vv[2])),
                covariance=None,
                covariance_method="DEFAULT",
                ref_frame="EME2000",
                data_comments=(f"SGP4 from mean elements of epoch {format_epoch(es.epoch)}Z",),
            )
        )
    stop = result.start + timedelta(hours=result.hours)
    a, b = int(result.object1[k]), int(result.object2[k])
    return build_cdm(
        tca=tca,
        originator="KIZUNA",
        message_id=f"KIZUNA-{a}-{b}-{tca.strftime('%Y%m%dT%H%M%S')}",
        object1=sections[0],
        object2=sections[1],
        comments=(
            f"Kizuna screening {format_epoch(result.start)}Z to {format_epoch(stop)}Z, "
            f"threshold {result.threshold_km:g} km; TEME states rotated to EME2000 "
            "(IAU-76/80, UT1 = UTC); no covariance, so no collision probability",
        ),
    )


def write_cdms(result: ScreenResult, records: Sequence[ElementSet], directory: Path) -> int:
    """One KVN CDM per event in *directory* (made if needed), named
    ``<object1>_<object2>_<TCA>.cdm``; returns how many."""
    directory.mkdir(parents=True, exist_ok=True)
    for k in range(len(result)):
        cdm = event_cdm(result, k, records)
        stamp = (
            cdm.relative.tca.strftime("%Y%m%dT%H%M%S")
            + f"{cdm.relative.tca.microsecond // 1000:03d}"
        )
        name = f"{int(result.object1[k])}_{int(result.object2[k])}_{stamp}.cdm"
        (directory / name).write_text(dumps_kvn(cdm), encoding="utf-8")
    return len(result)
