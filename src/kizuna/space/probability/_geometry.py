"""Array shapes, RTN to inertial covariances, and the encounter frame, for the Pc methods."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]


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


#: The largest standard deviations a covariance of an Earth orbit can mean: a position beyond
#: the Earth's Hill sphere, a velocity beyond the escape velocity at its surface.
MAX_SIGMA_M = 1.5e9
MAX_SIGMA_M_S = 11.2e3
#: How far past +-1 a correlation may be (CARA's non-positive-definite samples reach 1 + 1e-4).
_RHO_SLACK = 1e-3


def covariance_status(cov: npt.ArrayLike) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """For (n, 3, 3) or (n, 6, 6) covariances (m, m/s): which rows are absent (every term NaN)
    and which are valid (finite, no negative variance, every correlation within +-1, standard
    deviations within :data:`MAX_SIGMA_M` and :data:`MAX_SIGMA_M_S`). A covariance that is
    neither cannot be one; slightly non-positive-definite ones are valid (the 2D method clips
    their eigenvalues, as CARA's does).

    >>> good = np.diag([100.0, 400.0, 25.0])
    >>> bad = good.copy(); bad[0, 1] = bad[1, 0] = 300.0   # correlation 1.5
    >>> absent, valid = covariance_status(np.stack([good, bad, np.full((3, 3), np.nan)]))
    >>> absent.tolist(), valid.tolist()
    ([False, False, True], [True, False, False])
    """
    c = np.asarray(cov, dtype=np.float64)
    if c.ndim == 2:
        c = c[None]
    absent = np.isnan(c).all(axis=(1, 2))
    finite = np.isfinite(c).all(axis=(1, 2))
    d = np.diagonal(c, axis1=1, axis2=2)
    with np.errstate(all="ignore"):
        limit = np.array([MAX_SIGMA_M] * 3 + [MAX_SIGMA_M_S] * 3)[: c.shape[1]] ** 2
        in_range = ((d >= 0.0) & (d <= limit)).all(axis=1)
        floor = (1e-9 * np.max(np.abs(d), axis=1)) ** 2  # rounding beside a zero variance
        bound = (1.0 + _RHO_SLACK) ** 2 * d[:, :, None] * d[:, None, :] + floor[:, None, None]
        correlated = (c * c <= bound).all(axis=(1, 2))
    valid: npt.NDArray[np.bool_] = np.asarray(finite & in_range & correlated)
    return np.asarray(absent), valid


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
