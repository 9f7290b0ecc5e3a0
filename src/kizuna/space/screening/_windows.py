"""When an object can be near a primary at all: the time filter of screening against primaries.

An object can come within the threshold ``d`` of a primary only while its distance from the
primary's orbital plane is below ``d``: the primary's osculating plane at time t (normal
``h(t) = r x v / |r x v|``) contains the primary's own position, so ``|r_s - r_p| >=
|r_s . h(t)|``. An object crosses that plane twice an orbit, and is within a few km of it for
seconds at a time (a minute for planes a few degrees apart): the rest of the window it cannot
be near, so it need not be propagated there.

:func:`near_times` finds, for every object and every knot interval of a screening, whether
the object may be within ``d`` of a primary's plane in that interval:

1. Each object is propagated at *coarse* knots (:func:`coarse_knots` knot intervals apart,
   the whole number nearest :data:`COARSE_S`, at least one: 900 s at the default 300 s knots
   as at 180 s), a third to a fifth of the work of the screening knots; each
   primary every :data:`DENSE_S` seconds or less (one object).
2. Over each coarse interval the plane is held at the primary's normal at the interval's middle,
   and the object's distance from it, ``z(t) = r_s(t) . h_mid``, is the cubic Hermite
   polynomial through its values and rates at both coarse knots.
3. An interval of the screening knots inside it is kept when the least ``|z|`` of the cubic
   over it is within ``d`` plus: the interpolation error (three times the largest error of the
   object's cubic position at the middle of :data:`CHECKS` coarse intervals, as the screening
   knots measure theirs, plus the pad floor), and the plane's turning within the interval (the
   object's radius, a tenth more, times the largest ``|h(t) - h_mid|`` of the primary's samples,
   a quarter more, plus :data:`PLANE_FLOOR`).

Objects of eccentricity above :data:`ECCENTRIC` (their error varies too much along the orbit
for a few checks to bound it) and objects or primaries that fail to propagate keep every
interval. Primaries keep every interval.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from kizuna.space.screening._kernel import PAD_FLOOR_KM, cubic_near
from kizuna.space.screening._trajectory import sgp4_states

__all__ = [
    "CHECKS",
    "COARSE_S",
    "DENSE_S",
    "ECCENTRIC",
    "PLANE_FLOOR",
    "PRIMARY_BLOCK",
    "PRIMARY_CELLS",
    "NeededStates",
    "coarse_knots",
    "near_times",
]

F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]

#: Seconds between the coarse knots of the time filter, about (a whole number of knots).
COARSE_S = 900.0
DENSE_S = 30.0
CHECKS = 8
ECCENTRIC = 0.05
PLANE_FLOOR = 1e-6  # rad, beyond the sampled turning of the plane
_BLOCK = 256  # coarse intervals propagated at once
#: Against primaries the search takes blocks of up to this many knots, this many object-knots.
PRIMARY_BLOCK = 2000
PRIMARY_CELLS = 1_000_000
_PICKS_PER = 60  # one more interpolation check per this many intervals an object needs


def coarse_knots(knot_s: float) -> int:
    """Screening knot intervals per coarse interval: the whole number nearest
    :data:`COARSE_S` / *knot_s*, at least one.

    >>> coarse_knots(180.0), coarse_knots(300.0), coarse_knots(120.0), coarse_knots(3600.0)
    (5, 3, 8, 1)
    """
    return max(1, round(COARSE_S / knot_s))


def _unit_normals(r: F64, v: F64) -> F64:
    h = np.cross(r, v)
    with np.errstate(invalid="ignore", divide="ignore"):
        return h / np.linalg.norm(h, axis=-1, keepdims=True)  # type: ignore[no-any-return]


def _planes(
    sat: Any, jd0: float, fr0: float, t0: float, coarse_s: float, m: int
) -> tuple[F64, F64]:
    """The primary's unit normal at the middle of each of *m* coarse intervals from *t0*, and
    how far (rad) the normal strays from it within the interval (inf where it fails)."""
    k = 2 * max(1, int(np.ceil(coarse_s / DENSE_S / 2.0)))  # samples per interval, even
    t = t0 + np.arange(m * k + 1) * (coarse_s / k)
    err, r, v = sat.sgp4_array(np.full(t.shape, jd0), fr0 + t / 86400.0)
    h = _unit_normals(np.asarray(r), np.asarray(v))
    h[np.asarray(err) != 0] = np.nan
    mid = h[k // 2 :: k][:m]
    windows = np.lib.stride_tricks.sliding_window_view(h, (k + 1, 3))[::k, 0][:m]  # (m, k+1, 3)
    stray = np.linalg.norm(windows - mid[:, None, :], axis=2).max(axis=1)
    stray = np.where(np.isfinite(stray), stray * 1.25 + PLANE_FLOOR, np.inf)
    return mid, stray


def near_times(
    sats: Sequence[Any],
    jd0: float,
    fr0: float,
    knots: F64,
    primary: B,
    threshold_km: float,
    eccentricity: F64,
) -> B:
    """(N, K-1): whether each object may be within *threshold_km* of a primary during each
    interval between the *knots* (seconds after (jd0, fr0), evenly spaced)."""
    n, n_int = len(sats), len(knots) - 1
    need = np.ones((n, n_int), dtype=bool)
    rows = np.flatnonzero(~primary & (eccentricity <= ECCENTRIC))
    if n_int < 1 or not len(rows) or not primary.any():
        return need
    knot_s = float(knots[1] - knots[0])
    per = coarse_knots(knot_s)
    coarse_s = per * knot_s
    m = -(-n_int // per)
    planes = [
        _planes(sats[p], jd0, fr0, float(knots[0]), coarse_s, m) for p in np.flatnonzero(primary).tolist()
    ]
    others = [sats[k] for k in rows.tolist()]
    pad = _interpolation_pad(others, jd0, fr0, float(knots[0]), coarse_s, m)
    keep = np.zeros((len(rows), m * per), dtype=bool)
    for c0 in range(0, m, _BLOCK):
        c1 = min(c0 + _BLOCK, m)
        t = float(knots[0]) + np.arange(c0, c1 + 1, dtype=np.float64) * coarse_s
        err, r, v = sgp4_states(others, np.full(t.shape, jd0), fr0 + t / 86400.0)
        bad = (err != 0) | ~np.isfinite(r).all(axis=2)
        bad = bad[:, :-1] | bad[:, 1:]  # (S, c1 - c0)
        radius = np.linalg.norm(r, axis=2)
        rmax = np.maximum(radius[:, :-1], radius[:, 1:]) * 1.1
        for mid, stray in planes:
            h = mid[c0:c1]  # (c, 3)
            z = np.einsum("sck,ck->sc", r[:, :-1], h), np.einsum("sck,ck->sc", r[:, 1:], h)
            dz = (
                np.einsum("sck,ck->sc", v[:, :-1], h) * coarse_s,
                np.einsum("sck,ck->sc", v[:, 1:], h) * coarse_s,
            )
            bound = threshold_km + pad[:, None] + rmax * stray[c0:c1][None, :]
            bound[bad] = np.nan  # keeps the interval
            near = cubic_near(z[0], dz[0], z[1], dz[1], bound, per)
            keep[:, c0 * per : c1 * per] |= near
    need[rows] = keep[:, :n_int]
    return need


def _interpolation_pad(
    sats: Sequence[Any], jd0: float, fr0: float, t0: float, coarse_s: float, m: int
) -> F64:
    """Three times the largest error (km) of each object's cubic Hermite position at the middle
    of :data:`CHECKS` coarse intervals spread over the span, plus the pad floor."""
    picks = np.unique(np.linspace(0, m - 1, min(CHECKS, m)).round()).astype(float)
    t = np.concatenate(
        [t0 + picks * coarse_s, t0 + (picks + 1) * coarse_s, t0 + (picks + 0.5) * coarse_s]
    )
    _, r, v = sgp4_states(sats, np.full(t.shape, jd0), fr0 + t / 86400.0)
    k = len(picks)
    r0, r1, rm = r[:, :k], r[:, k : 2 * k], r[:, 2 * k :]
    v0, v1 = v[:, :k], v[:, k : 2 * k]
    guess = (r0 + r1) / 2.0 + coarse_s * (v0 - v1) / 8.0
    error = np.linalg.norm(guess - rm, axis=2).max(axis=1)
    out: F64 = np.where(np.isfinite(error), 3.0 * error, np.inf) + PAD_FLOOR_KM
    return out


class NeededStates:
    """The states of each object at the knots of the intervals it needs (*need*, from
    :func:`near_times`), one SGP4 call per object over the whole span, kept sparse; ``status``
    per object (the first error met), and ``pad``: three times the interpolation error the
    search's samples have (position, and velocity over half a step) at the middle of some of
    the object's intervals (four, and one more per :data:`_PICKS_PER`), as the full search
    measures its own."""

    def __init__(
        self,
        sats: Sequence[Any],
        jd0: float,
        fr0: float,
        knots: F64,
        need: B,
        check_pos: F64,
        check_vel: F64,
        step_s: float,
    ) -> None:
        n, k = need.shape[0], need.shape[1] + 1
        knot_s = float(knots[1] - knots[0])
        at = np.zeros((n, k), dtype=bool)
        at[:, :-1] |= need
        at[:, 1:] |= need
        self.n = n
        self._buffers: tuple[F64, F64] | None = None
        self.status = np.zeros(n, dtype=np.int8)
        self.pad = np.zeros(n)
        rows: list[npt.NDArray[np.int64]] = []
        cols: list[npt.NDArray[np.int64]] = []
        rs: list[F64] = []
        vs: list[F64] = []
        cp, cv = check_pos[0], check_vel[0]
        for a in np.flatnonzero(at.any(axis=1)).tolist():
            idx = np.flatnonzero(at[a])
            own = np.flatnonzero(need[a])
            count = min(len(own), 4 + len(own) // _PICKS_PER)
            picks = own[np.unique(np.linspace(0, len(own) - 1, count).round().astype(np.int64))]
            t = np.concatenate([knots[idx], knots[picks] + knot_s / 2.0])
            err, r, v = sats[a].sgp4_array(np.full(t.shape, jd0), fr0 + t / 86400.0)
            err, r, v = np.asarray(err), np.asarray(r), np.asarray(v)
            bad = (err != 0) | ~np.isfinite(r).all(axis=1)
            if bad.any():
                r[bad] = np.nan
                v[bad] = np.nan
                code = int(err[bad][0])
                self.status[a] = code if code else 8
            m = len(idx)
            rows.append(np.full(m, a, dtype=np.int64))
            cols.append(idx)
            rs.append(r[:m])
            vs.append(v[:m])
            if len(picks):
                where = np.searchsorted(idx, picks)
                quad = np.stack([r[where], v[where], r[where + 1], v[where + 1]], 1)
                ep = np.linalg.norm(np.einsum("f,cfx->cx", cp, quad) - r[m:], axis=1)
                ev = np.linalg.norm(np.einsum("f,cfx->cx", cv, quad) - v[m:], axis=1)
                seen = np.nan_to_num(3.0 * (ep + ev * step_s / 2.0), nan=0.0)
                self.pad[a] = float(seen.max())
        empty = np.zeros(0, dtype=np.int64)
        self.rows = np.concatenate(rows) if rows else empty
        self.cols = np.concatenate(cols) if cols else empty
        self.r = np.concatenate(rs) if rs else np.zeros((0, 3))
        self.v = np.concatenate(vs) if vs else np.zeros((0, 3))
        order = np.argsort(self.cols, kind="stable")  # by knot: a block is a slice
        self.rows, self.cols = self.rows[order], self.cols[order]
        self.r, self.v = self.r[order], self.v[order]

    def block(self, k0: int, k1: int) -> tuple[F64, F64]:
        """Positions and velocities (N, k1 - k0, 3) at knots k0 .. k1 - 1: the position's first
        component NaN where not needed (what the search checks), the rest undefined there.
        The arrays are reused by the next call."""
        shape = (self.n, k1 - k0, 3)
        if self._buffers is None or self._buffers[0].shape != shape:
            self._buffers = (np.empty(shape), np.empty(shape))
        r, v = self._buffers  # reused: the search reads v only where r is finite
        r[:, :, 0] = np.nan
        inside = slice(*np.searchsorted(self.cols, [k0, k1]).tolist())
        rows, cols = self.rows[inside], self.cols[inside] - k0
        r[rows, cols] = self.r[inside]
        v[rows, cols] = self.v[inside]
        return r, v
