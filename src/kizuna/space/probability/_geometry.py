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
