"""The 2D encounter-plane Pc (Foster 1992, Alfano 2005, as CARA's ``PcCircle``); the method is
described in :mod:`kizuna.space.probability`."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import special

from kizuna.space.probability._geometry import (
    F64,
    _covs,
    _rows,
    covariance_status,
    encounter_frame,
    rtn_to_eci,
)
from kizuna.space.probability._status import PcStatus

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
    full1, full2 = _covs(cov1, n, "cov1"), _covs(cov2, n, "cov2")
    (absent1, valid1), (absent2, valid2) = covariance_status(full1), covariance_status(full2)
    cov_ok = (absent1 | valid1) & (absent2 | valid2)
    c1, c2 = full1[:, :3, :3], full2[:, :3, :3]
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
                p1[sl], u1[sl], c1[sl], p2[sl], u2[sl], c2[sl], h[sl], cov_ok[sl], cov_frame,
                adjust_tca,
            )  # fmt: skip
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
    r1: F64,
    v1: F64,
    c1: F64,
    r2: F64,
    v2: F64,
    c2: F64,
    hbr: F64,
    cov_ok: npt.NDArray[np.bool_],
    cov_frame: str,
    adjust_tca: bool,
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
    status[~cov_ok] = PcStatus.INVALID_COVARIANCE
    # A finite HBR whose clipping floor overflows, or states whose differences do, are numbers
    # too large to compute with.
    huge = (np.isfinite(hbr) & ~np.isfinite(lrem)) | ~np.isfinite(miss) | ~np.isfinite(speed)
    status[~finite_states | (hbr < 0) | huge] = PcStatus.INVALID_INPUT
    good = status < 10
    pc = np.full(n, np.nan)
    finite_hbr = good & np.isfinite(hbr) & (hbr > 0)
    if np.any(finite_hbr):
        idx = np.flatnonzero(finite_hbr)
        pc[idx] = _disk_integral(xm[idx], zm[idx], sx[idx], sz[idx], hbr[idx])
    pc[good & (hbr == 0)] = 0.0
    pc[good & np.isinf(hbr)] = 1.0
    lost = good & ~np.isfinite(pc)  # the integral overflowed: no Pc rather than a wrong one
    status[lost] = PcStatus.INVALID_INPUT
    pc[lost] = np.nan
    good &= ~lost
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
        "plane": np.where((has_cov & cov_ok)[:, None, None], plane, np.nan),
        "dur": duration,
        "flags": np.stack([remediated & good, long_encounter & good], 1),
    }
