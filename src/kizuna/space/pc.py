"""Collision probability (Pc) of conjunctions: the 2D encounter-plane method and Monte Carlo.

The 2D method (Foster 1992, Alfano 2005, as NASA CARA's ``PcCircle`` computes it) assumes a
short encounter: straight-line relative motion and no velocity uncertainty near TCA. Both
objects' 3x3 position covariances are rotated from their own RTN frames to the inertial frame
and added; the sum is projected onto the encounter plane (perpendicular to the relative
velocity); Pc is the mass of that 2D Gaussian, centred on the miss vector, over the disk of the
combined hard-body radius (HBR). The disk integral is done in the covariance's principal axes:
analytically (error functions) along one axis and by 64-point Gauss-Legendre quadrature along
the other, after the substitution ``x = xm + HBR sin(phi)`` that removes the square-root edge of
the disk.

Everything works on arrays of events and never raises for a row: each row gets a
:class:`PcStatus` and ``NaN`` where Pc cannot be computed.

>>> r1, v1 = [[7000e3, 0, 0]], [[0, 7.5e3, 0]]
>>> r2, v2 = [[7000e3 + 50, 0, 0]], [[0, 0, 7.5e3]]
>>> cov = np.diag([100.0**2, 300.0**2, 100.0**2])[None]   # RTN, m**2
>>> res = pc_2d(r1, v1, cov, r2, v2, cov, hbr=20.0)
>>> round(float(res.pc[0]), 8), PcStatus(res.status[0]).name
(0.00418992, 'OK')
>>> res = pc_2d(r1, v1, np.full((1, 3, 3), np.nan), r2, v2, cov, hbr=20.0)
>>> float(res.pc[0]), PcStatus(res.status[0]).name, float(res.miss_distance_m[0])
(nan, 'NO_COVARIANCE', 50.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from scipy import special, stats

if TYPE_CHECKING:
    from collections.abc import Sequence

    from kizuna.space.cdm import Cdm

__all__ = [
    "MESSAGES",
    "CdmArrays",
    "MonteCarloPc",
    "Pc2D",
    "PcStatus",
    "cdm_arrays",
    "encounter_frame",
    "pc_2d",
    "pc_2d_from_cdms",
    "pc_monte_carlo",
    "rtn_to_eci",
]

F64 = npt.NDArray[np.float64]


class PcStatus(IntEnum):
    """Outcome of a Pc computation for one event. Values below 10 carry a Pc."""

    OK = 0
    REMEDIATED = 1
    LONG_ENCOUNTER = 2
    NO_COVARIANCE = 10
    NOT_POSITIVE_DEFINITE = 11
    ZERO_RELATIVE_VELOCITY = 12
    NO_HBR = 13
    INVALID_INPUT = 14
    UNSUPPORTED_FRAME = 15


#: One sentence per status, for people.
MESSAGES: dict[PcStatus, str] = {
    PcStatus.OK: "computed",
    PcStatus.REMEDIATED: "computed after clipping a non-positive or tiny eigenvalue of the "
    "encounter-plane covariance to (1e-4 HBR)^2 (CARA's eigenvalue clipping)",
    PcStatus.LONG_ENCOUNTER: "computed, but the encounter is long (slow relative motion or a "
    "huge uncertainty along the relative velocity), so the 2D method's straight-line "
    "assumption is doubtful; check with Monte Carlo or a 3D method",
    PcStatus.NO_COVARIANCE: "no covariance for at least one object: Pc not computed, only the "
    "miss distance is known",
    PcStatus.NOT_POSITIVE_DEFINITE: "the encounter-plane covariance has no positive eigenvalue: "
    "Pc not computed",
    PcStatus.ZERO_RELATIVE_VELOCITY: "relative velocity is zero, there is no encounter plane: "
    "Pc not computed",
    PcStatus.NO_HBR: "no hard-body radius (none in the CDM, none given): Pc not computed",
    PcStatus.INVALID_INPUT: "non-finite state or covariance, or negative HBR: Pc not computed",
    PcStatus.UNSUPPORTED_FRAME: "states not in an inertial frame (EME2000/GCRF): Pc not computed",
}

_ORDER = 64
_TAIL = 40.0  # integrate where the along-axis Gaussian is within exp(-40) of its disk maximum
_FCLIP = 1e-4  # eigenvalue clipping level, as a fraction of HBR (CARA's Fclip)
_CHUNK = 16384
#: Encounters that take longer than this (seconds) to cross +-5 sigma of the combined position
#: uncertainty along the relative velocity are flagged ``long_encounter``.
SHORT_ENCOUNTER_LIMIT_S = 300.0


@dataclass(frozen=True)
class Pc2D:
    """Per-event results of :func:`pc_2d`; every array has one row per event.

    ``status`` holds one :class:`PcStatus`; when both caveats apply it says REMEDIATED, and the
    boolean arrays ``remediated`` and ``long_encounter`` tell each one apart.
    ``xm, zm`` are the miss vector's components on the principal axes of the encounter-plane
    covariance (both >= 0), ``sigma_x >= sigma_z`` its principal standard deviations (m) after
    any clipping, ``cov_plane`` the 2x2 encounter-plane covariance in the (x, z) basis of
    :func:`encounter_frame`, ``tca_offset_s`` the shift to the linear-motion closest approach.
    """

    pc: F64
    status: npt.NDArray[np.int8]
    miss_distance_m: F64
    relative_speed_m_s: F64
    tca_offset_s: F64
    xm: F64
    zm: F64
    sigma_x: F64
    sigma_z: F64
    cov_plane: F64
    encounter_duration_s: F64
    remediated: npt.NDArray[np.bool_]
    long_encounter: npt.NDArray[np.bool_]


def _rows(a: npt.ArrayLike, width: int, name: str) -> F64:
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != width:
        raise ValueError(f"{name} must have shape (n, {width}), got {arr.shape}")
    return arr


def _covs(a: npt.ArrayLike, n: int, name: str) -> F64:
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or arr.shape[1:] not in ((3, 3), (6, 6)):
        raise ValueError(f"{name} must have shape (n, 3, 3) or (n, 6, 6), got {arr.shape}")
    if arr.shape[0] == 1 and n > 1:
        arr = np.broadcast_to(arr, (n, *arr.shape[1:]))
    if arr.shape[0] != n:
        raise ValueError(f"{name} has {arr.shape[0]} rows, the states have {n}")
    return arr


def _unit(a: F64) -> F64:
    with np.errstate(invalid="ignore", divide="ignore"):
        out: F64 = a / np.linalg.norm(a, axis=-1, keepdims=True)
    return out


def rtn_to_eci(cov: npt.ArrayLike, r: npt.ArrayLike, v: npt.ArrayLike) -> F64:
    """Rotate (n, 3, 3) or (n, 6, 6) covariances from each state's RTN frame to the frame of
    ``r, v`` (block-diagonal rotation, as CARA's ``RIC2ECI``).

    >>> c = rtn_to_eci(np.diag([1.0, 4.0, 9.0])[None], [[0, 7e6, 0]], [[-7.5e3, 0, 0]])
    >>> np.diag(c[0]).round(12).tolist()
    [4.0, 1.0, 9.0]
    """
    rr, vv = _rows(r, 3, "r"), _rows(v, 3, "v")
    c = _covs(cov, rr.shape[0], "cov")
    with np.errstate(all="ignore"):
        rhat = _unit(rr)
        nhat = _unit(np.cross(rr, vv))
    basis = np.stack([rhat, np.cross(nhat, rhat), nhat], axis=1)  # rows R, T, N
    if c.shape[1] == 6:
        big = np.zeros((basis.shape[0], 6, 6))
        big[:, :3, :3] = basis
        big[:, 3:, 3:] = basis
        basis = big
    out: F64 = np.einsum("nji,njk,nkl->nil", basis, c, basis)
    return out


def encounter_frame(dr: npt.ArrayLike, dv: npt.ArrayLike) -> tuple[F64, F64, F64]:
    """Unit vectors (x, y, z) of the encounter frame: y along the relative velocity, z along
    ``dr x dv``, x = y x z (the miss direction at TCA). When ``dr`` is parallel to ``dv`` or
    zero, z is any direction perpendicular to y."""
    r, v = _rows(dr, 3, "dr"), _rows(dv, 3, "dv")
    y = _unit(v)
    h = np.cross(r, v)
    hn = np.linalg.norm(h, axis=1)
    vn = np.linalg.norm(v, axis=1)
    rn = np.linalg.norm(r, axis=1)
    bad = ~(hn > 1e-12 * np.maximum(rn * vn, np.finfo(float).tiny))
    if np.any(bad):
        ax = np.eye(3)[np.argmin(np.abs(np.nan_to_num(y[bad])), axis=1)]
        h = h.copy()
        h[bad] = np.cross(np.nan_to_num(y[bad]), ax)
    z = _unit(h)
    return np.cross(y, z), y, z


def _erf_dif(a: F64, b: F64) -> F64:
    """erf(a) - erf(b) for a >= b without cancellation in the tails."""
    both_pos = b > 0
    out: F64 = np.where(
        both_pos,
        special.erfc(np.where(both_pos, b, 0.0)) - special.erfc(np.where(both_pos, a, 0.0)),
        special.erf(a) - special.erf(b),
    )
    return out


_GL_X, _GL_W = np.polynomial.legendre.leggauss(_ORDER)


def _disk_integral(xm: F64, zm: F64, sx: F64, sz: F64, hbr: F64) -> F64:
    """Mass of N(0, diag(sx^2, sz^2)) over the disk of radius hbr centred on (xm, zm)."""
    xlo, xhi = xm - hbr, xm + hbr
    xstar = np.clip(0.0, xlo, xhi)
    bound = np.sqrt(xstar**2 + 2.0 * _TAIL * sx**2)
    xa, xb = np.maximum(xlo, -bound), np.minimum(xhi, bound)
    pa = np.arcsin(np.clip((xa - xm) / hbr, -1.0, 1.0))
    pb = np.arcsin(np.clip((xb - xm) / hbr, -1.0, 1.0))
    half = 0.5 * (pb - pa)
    phi = (pa + half)[:, None] + half[:, None] * _GL_X[None, :]
    x = xm[:, None] + hbr[:, None] * np.sin(phi)
    rx = hbr[:, None] * np.cos(phi)
    dz = (math.sqrt(2.0) * sz)[:, None]
    f = (
        np.exp(-0.5 * (x / sx[:, None]) ** 2)
        * _erf_dif((zm[:, None] + rx) / dz, (zm[:, None] - rx) / dz)
        * rx
    )
    integral = half * (f @ _GL_W)
    out: F64 = integral / (math.sqrt(8.0 * math.pi) * sx)
    return out


def pc_2d(
    r1: npt.ArrayLike,
    v1: npt.ArrayLike,
    cov1: npt.ArrayLike,
    r2: npt.ArrayLike,
    v2: npt.ArrayLike,
    cov2: npt.ArrayLike,
    hbr: npt.ArrayLike,
    *,
    cov_frame: str = "rtn",
    adjust_tca: bool = True,
) -> Pc2D:
    """2D Pc for n events. States in m and m/s (any inertial frame, both objects the same),
    covariances (n, 3, 3) or (n, 6, 6) in m-based units, in each object's RTN frame
    (``cov_frame="rtn"``, as in a CDM) or already in the states' frame (``"eci"``); a row with
    a NaN covariance means "no covariance". ``hbr`` (m) is a scalar or one per event, NaN for
    unknown. With ``adjust_tca`` the relative position is first moved along the relative
    velocity to the linear-motion closest approach (CARA's ``FindNearbyCA``), which undoes a
    CDM's TCA rounding. Raises only for arrays of the wrong shape."""
    p1, u1, p2, u2 = (_rows(a, 3, nm) for a, nm in ((r1, "r1"), (v1, "v1"), (r2, "r2"), (v2, "v2")))
    n = p1.shape[0]
    for arr, nm in ((u1, "v1"), (p2, "r2"), (u2, "v2")):
        if arr.shape[0] != n:
            raise ValueError(f"{nm} has {arr.shape[0]} rows, r1 has {n}")
    c1, c2 = _covs(cov1, n, "cov1")[:, :3, :3], _covs(cov2, n, "cov2")[:, :3, :3]
    h = np.broadcast_to(np.asarray(hbr, dtype=np.float64), (n,)).copy()
    out = {
        k: np.full(n, np.nan) for k in ("pc", "miss", "speed", "dt", "xm", "zm", "sx", "sz", "dur")
    }
    plane = np.full((n, 2, 2), np.nan)
    status = np.zeros(n, dtype=np.int8)
    flags = np.zeros((n, 2), dtype=bool)
    for lo in range(0, n, _CHUNK):
        sl = slice(lo, min(n, lo + _CHUNK))
        with np.errstate(all="ignore"):  # bad rows get a status, not a warning
            res = _pc_chunk(
                p1[sl], u1[sl], c1[sl], p2[sl], u2[sl], c2[sl], h[sl], cov_frame, adjust_tca
            )
        for k in out:
            out[k][sl] = res[k]
        plane[sl] = res["plane"]
        status[sl] = res["status"]
        flags[sl] = res["flags"]
    return Pc2D(
        out["pc"],
        status,
        out["miss"],
        out["speed"],
        out["dt"],
        out["xm"],
        out["zm"],
        out["sx"],
        out["sz"],
        plane,
        out["dur"],
        flags[:, 0],
        flags[:, 1],
    )


def _pc_chunk(
    r1: F64, v1: F64, c1: F64, r2: F64, v2: F64, c2: F64, hbr: F64, cov_frame: str, adjust_tca: bool
) -> dict[str, F64]:
    n = r1.shape[0]
    status = np.full(n, PcStatus.OK, dtype=np.int8)
    finite_states = np.isfinite(np.hstack([r1, v1, r2, v2])).all(axis=1)
    if cov_frame == "rtn":
        c1 = rtn_to_eci(c1, r1, v1)
        c2 = rtn_to_eci(c2, r2, v2)
    elif cov_frame != "eci":
        raise ValueError(f"cov_frame must be 'rtn' or 'eci', got {cov_frame!r}")
    cov = c1 + c2
    has_cov: npt.NDArray[np.bool_] = np.asarray(np.isfinite(cov).all(axis=(1, 2)))
    dr, dv = r1 - r2, v1 - v2
    speed = np.linalg.norm(dv, axis=1)
    miss = np.linalg.norm(dr, axis=1)
    moving = speed > 0
    dt = np.zeros(n)
    if adjust_tca:
        with np.errstate(invalid="ignore", divide="ignore"):
            dt = np.where(moving, -np.einsum("ij,ij->i", dr, dv) / speed**2, 0.0)
        dr = dr + dv * dt[:, None]
    rm = np.linalg.norm(dr, axis=1)
    x, y, z = encounter_frame(dr, dv)
    safe = np.where(np.isfinite(cov), cov, 0.0)
    cx, cz = np.einsum("nij,nj->ni", safe, x), np.einsum("nij,nj->ni", safe, z)
    axx, axz, azz = (
        np.einsum("ni,ni->n", x, cx),
        np.einsum("ni,ni->n", x, cz),
        np.einsum("ni,ni->n", z, cz),
    )
    plane = np.stack([np.stack([axx, axz], -1), np.stack([axz, azz], -1)], -2)
    # Closed-form eigen-decomposition of the symmetric 2x2 [[axx, axz], [axz, azz]].
    mean, dif = 0.5 * (axx + azz), 0.5 * (axx - azz)
    rad = np.hypot(dif, axz)
    l1, l2 = mean + rad, mean - rad
    theta = 0.5 * np.arctan2(2.0 * axz, axx - azz)
    e1x, e1z = np.abs(np.cos(theta)), np.abs(np.sin(theta))
    sigma_v = np.sqrt(np.maximum(np.einsum("ni,nij,nj->n", y, safe, y), 0.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        duration = np.where(
            moving, 2.0 * (5.0 * sigma_v + np.where(np.isfinite(hbr), hbr, 0.0)) / speed, np.inf
        )
    lrem = np.where(np.isfinite(hbr), (_FCLIP * hbr) ** 2, 0.0)
    remediated = (l2 < lrem) | (l1 < lrem)
    l1c, l2c = np.maximum(l1, lrem), np.maximum(l2, lrem)
    sx, sz = np.sqrt(l1c), np.sqrt(l2c)
    xm, zm = rm * e1x, rm * e1z

    long_encounter = duration > SHORT_ENCOUNTER_LIMIT_S
    status[long_encounter] = PcStatus.LONG_ENCOUNTER
    status[remediated] = PcStatus.REMEDIATED
    status[~(l1 > 0)] = PcStatus.NOT_POSITIVE_DEFINITE
    status[~moving] = PcStatus.ZERO_RELATIVE_VELOCITY
    status[~has_cov] = PcStatus.NO_COVARIANCE
    status[np.isnan(hbr)] = PcStatus.NO_HBR
    status[~finite_states | (hbr < 0)] = PcStatus.INVALID_INPUT
    good = status < 10
    pc = np.full(n, np.nan)
    finite_hbr = good & np.isfinite(hbr) & (hbr > 0)
    if np.any(finite_hbr):
        idx = np.flatnonzero(finite_hbr)
        pc[idx] = _disk_integral(xm[idx], zm[idx], sx[idx], sz[idx], hbr[idx])
    pc[good & (hbr == 0)] = 0.0
    pc[good & np.isinf(hbr)] = 1.0
    pc = np.clip(pc, 0.0, 1.0)
    return {
        "pc": pc,
        "status": status.astype(np.float64),
        "miss": miss,
        "speed": speed,
        "dt": dt,
        "xm": xm,
        "zm": zm,
        "sx": np.where(good, sx, np.nan),
        "sz": np.where(good, sz, np.nan),
        "plane": np.where(has_cov[:, None, None], plane, np.nan),
        "dur": duration,
        "flags": np.stack([remediated & good, long_encounter & good], 1),
    }


# --------------------------------------------------------------------------------------------
# From CDMs


@dataclass(frozen=True)
class CdmArrays:
    """States (m, m/s), 6x6 RTN covariances (NaN when absent) and HBR (NaN when unknown) of a
    list of CDMs, one row each; ``inertial`` is False where a state is in ITRF."""

    r1: F64
    v1: F64
    cov1: F64
    r2: F64
    v2: F64
    cov2: F64
    hbr: F64
    inertial: npt.NDArray[np.bool_]


def cdm_arrays(cdms: Sequence[Cdm], hbr_m: float | None = None) -> CdmArrays:
    """Stack the states, covariances and HBR of CDMs; ``hbr_m`` overrides each CDM's HBR."""
    n = len(cdms)
    r1, v1, r2, v2 = (np.zeros((n, 3)) for _ in range(4))
    c1, c2 = np.full((n, 6, 6), np.nan), np.full((n, 6, 6), np.nan)
    hbr = np.full(n, np.nan)
    inertial = np.ones(n, dtype=bool)
    for i, cdm in enumerate(cdms):
        for obj, r, v, c in ((cdm.object1, r1, v1, c1), (cdm.object2, r2, v2, c2)):
            r[i] = np.array(obj.position_km) * 1e3
            v[i] = np.array(obj.velocity_km_s) * 1e3
            m = obj.covariance_matrix()
            if m is not None:
                c[i] = m
            inertial[i] &= obj.ref_frame in ("EME2000", "GCRF")
        given = hbr_m if hbr_m is not None else cdm.relative.hbr_m
        hbr[i] = np.nan if given is None else given
    return CdmArrays(r1, v1, c1, r2, v2, c2, hbr, inertial)


def pc_2d_from_cdms(
    cdms: Sequence[Cdm], *, hbr_m: float | None = None, adjust_tca: bool = True
) -> Pc2D:
    """:func:`pc_2d` for a list of parsed CDMs (``hbr_m`` overrides the CDMs' HBR)."""
    a = cdm_arrays(cdms, hbr_m)
    res = pc_2d(a.r1, a.v1, a.cov1, a.r2, a.v2, a.cov2, a.hbr, adjust_tca=adjust_tca)
    if not np.all(a.inertial):
        res.status[~a.inertial] = PcStatus.UNSUPPORTED_FRAME
        res.pc[~a.inertial] = np.nan
    return res


# --------------------------------------------------------------------------------------------
# Monte Carlo


@dataclass(frozen=True)
class MonteCarloPc:
    """A Monte Carlo Pc estimate: ``hits`` of ``samples`` and a Clopper-Pearson interval."""

    pc: float
    low: float
    high: float
    hits: int
    samples: int
    confidence: float
    status: PcStatus
    remediated: bool


def _sampler(cov: F64) -> tuple[F64, bool]:
    w, vecs = np.linalg.eigh(0.5 * (cov + cov.T))
    clipped = bool(np.any(w < 0))
    out: F64 = vecs * np.sqrt(np.maximum(w, 0.0))
    return out, clipped


def pc_monte_carlo(
    r1: npt.ArrayLike,
    v1: npt.ArrayLike,
    cov1: npt.ArrayLike,
    r2: npt.ArrayLike,
    v2: npt.ArrayLike,
    cov2: npt.ArrayLike,
    hbr: float,
    *,
    samples: int = 1_000_000,
    seed: int = 0,
    cov_frame: str = "rtn",
    confidence: float = 0.95,
) -> MonteCarloPc:
    """Monte Carlo Pc of one event: draw both objects' full 6D states from their covariances
    (negative eigenvalues clipped to zero), move each drawn pair along straight lines to its
    own closest approach, and count approaches closer than ``hbr``. Unlike the 2D method this
    includes velocity uncertainty; like it, it assumes straight-line motion near TCA.
    Seeded, so a given ``seed`` always gives the same estimate."""
    p1, u1, p2, u2 = (
        _rows(a, 3, nm)[0] for a, nm in ((r1, "r1"), (v1, "v1"), (r2, "r2"), (v2, "v2"))
    )
    cs = []
    for c, p, u, nm in ((cov1, p1, u1, "cov1"), (cov2, p2, u2, "cov2")):
        arr = _covs(c, 1, nm)[0]
        if arr.shape == (3, 3):
            full = np.zeros((6, 6))
            full[:3, :3] = arr
            arr = full
        cs.append(rtn_to_eci(arr[None], p[None], u[None])[0] if cov_frame == "rtn" else arr)
    nan = MonteCarloPc(math.nan, math.nan, math.nan, 0, 0, confidence, PcStatus.OK, False)
    if not all(np.isfinite(c).all() for c in cs):
        return _replace_status(nan, PcStatus.NO_COVARIANCE)
    if not (math.isfinite(hbr) and hbr >= 0 and np.isfinite([*p1, *u1, *p2, *u2]).all()):
        return _replace_status(nan, PcStatus.NO_HBR if math.isnan(hbr) else PcStatus.INVALID_INPUT)
    (a1, k1), (a2, k2) = _sampler(cs[0]), _sampler(cs[1])
    rng = np.random.default_rng(seed)
    mean = np.concatenate([p1 - p2, u1 - u2])
    hits = 0
    for lo in range(0, samples, 200_000):
        m = min(200_000, samples - lo)
        d = mean + rng.standard_normal((m, 6)) @ a1.T - rng.standard_normal((m, 6)) @ a2.T
        dr, dv = d[:, :3], d[:, 3:]
        vv = np.einsum("ij,ij->i", dv, dv)
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.where(vv > 0, -np.einsum("ij,ij->i", dr, dv) / vv, 0.0)
        closest = np.linalg.norm(dr + dv * t[:, None], axis=1)
        hits += int(np.count_nonzero(closest < hbr))
    alpha = 1.0 - confidence
    low = 0.0 if hits == 0 else float(stats.beta.ppf(alpha / 2, hits, samples - hits + 1))
    high = (
        1.0 if hits == samples else float(stats.beta.ppf(1 - alpha / 2, hits + 1, samples - hits))
    )
    remediated = k1 or k2
    return MonteCarloPc(
        hits / samples,
        low,
        high,
        hits,
        samples,
        confidence,
        PcStatus.REMEDIATED if remediated else PcStatus.OK,
        remediated,
    )


def _replace_status(res: MonteCarloPc, status: PcStatus) -> MonteCarloPc:
    return MonteCarloPc(
        res.pc, res.low, res.high, res.hits, res.samples, res.confidence, status, res.remediated
    )
