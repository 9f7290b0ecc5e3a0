"""Refinement of the time of closest approach (TCA) on exact SGP4, all seeds at once.

From each seed (a pair of catalog rows and a time), Newton's method on the range rate
``f = Δr·Δv``, whose derivative is ``|Δv|² + Δr·Δa`` with two-body accelerations, to 1 µs. Far
from a minimum of a slow pair the tidal term can make that derivative negative; the step then
uses ``|Δv|²``, and only a point where the distance is at a minimum (derivative above zero) is
accepted. A step is at most *bracket* seconds, and a seed that wanders more than two brackets
from where it started, meets an SGP4 error or a slope that is not positive gives up.

Seeds Newton gave up on whose range rate changes from negative to positive within a bracket
on either side are bisected instead (very slow pairs, whose range rate from SGP4's velocities
turns on time scales where the two-body derivative misleads Newton).

Every seed still iterating is advanced together: the states of all of them come from one call
per object (:func:`~kizuna.space.screening._trajectory.states_at`), so the cost per seed is a
few array operations, not a Python loop over scalar SGP4 calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from kizuna.space.screening._kernel import MU
from kizuna.space.screening._trajectory import states_at

__all__ = ["NEWTON_TOL_S", "refine"]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

NEWTON_TOL_S = 1e-6
_MAX_STEPS = 12


def refine(
    sats: Sequence[Any], jd0: float, fr0: float, i: I64, j: I64, t: F64, bracket: float
) -> tuple[npt.NDArray[np.bool_], F64, F64]:
    """Newton on the range rate of pairs (*i*, *j*) from times *t* (seconds after jd0 + fr0);
    returns whether each converged, its TCA and the states there (rows of 12: r1, v1, r2, v2)."""
    n = len(t)
    ok = np.zeros(n, dtype=bool)
    tca = np.full(n, np.nan)
    states = np.full((n, 12), np.nan)
    tk = np.asarray(t, dtype=float).copy()
    live = np.arange(n)
    converged = np.zeros(n, dtype=bool)
    for _ in range(_MAX_STEPS):
        if not len(live):
            break
        m = len(live)
        err, r, v = states_at(
            sats, jd0, fr0, np.concatenate([i[live], j[live]]), np.concatenate([tk[live]] * 2)
        )
        ra, rb, va, vb = r[:m], r[m:], v[:m], v[m:]
        fine = (err[:m] == 0) & (err[m:] == 0)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            d = rb - ra
            dv = vb - va
            ra3 = (ra[:, 0] ** 2 + ra[:, 1] ** 2 + ra[:, 2] ** 2) ** 1.5
            rb3 = (rb[:, 0] ** 2 + rb[:, 1] ** 2 + rb[:, 2] ** 2) ** 1.5
            acc = -MU * (rb / rb3[:, None] - ra / ra3[:, None])
            f = d[:, 0] * dv[:, 0] + d[:, 1] * dv[:, 1] + d[:, 2] * dv[:, 2]
            vv = dv[:, 0] * dv[:, 0] + dv[:, 1] * dv[:, 1] + dv[:, 2] * dv[:, 2]
            fp = vv + d[:, 0] * acc[:, 0] + d[:, 1] * acc[:, 1] + d[:, 2] * acc[:, 2]
            slope = np.where(fp > 0.0, fp, vv)
            fine &= slope > 0.0
            step = np.clip(-f / slope, -bracket, bracket)
        moved = tk[live] + step
        tk[live] = moved
        fine &= ~(np.abs(moved - t[live]) > 2.0 * bracket)
        done = fine & (np.abs(step) < NEWTON_TOL_S)
        converged[live[done]] = fp[done] > 0.0
        live = live[fine & ~done]
    rest = np.flatnonzero(~converged)
    found, when = _bisect(sats, jd0, fr0, i[rest], j[rest], t[rest], bracket)
    converged[rest[found]] = True
    tk[rest[found]] = when[found]
    rows = np.flatnonzero(converged)
    m = len(rows)
    err, r, v = states_at(sats, jd0, fr0, np.concatenate([i[rows], j[rows]]),
                          np.concatenate([tk[rows]] * 2))  # fmt: skip
    fine = (err[:m] == 0) & (err[m:] == 0)
    rows = rows[fine]
    ok[rows] = True
    tca[rows] = tk[rows]
    states[rows] = np.hstack([r[:m][fine], v[:m][fine], r[m:][fine], v[m:][fine]])
    return ok, tca, states


def _range_rate(sats: Sequence[Any], jd0: float, fr0: float, i: I64, j: I64, t: F64) -> F64:
    """``Δr·Δv`` of pairs (*i*, *j*) at times *t*; NaN where either object fails."""
    m = len(t)
    err, r, v = states_at(sats, jd0, fr0, np.concatenate([i, j]), np.concatenate([t, t]))
    d = r[m:] - r[:m]
    w = v[m:] - v[:m]
    f: F64 = d[:, 0] * w[:, 0] + d[:, 1] * w[:, 1] + d[:, 2] * w[:, 2]
    f[(err[:m] != 0) | (err[m:] != 0)] = np.nan
    return f


def _bisect(
    sats: Sequence[Any], jd0: float, fr0: float, i: I64, j: I64, t: F64, bracket: float
) -> tuple[npt.NDArray[np.bool_], F64]:
    """For seeds Newton gave up on: where the range rate goes from below zero at
    ``t - bracket`` to above zero at ``t + bracket``, the time it crosses zero (bisection, to
    :data:`NEWTON_TOL_S`, keeping a negative rate on the left and a positive one on the right,
    so the crossing is a minimum of the distance). Very slow pairs need it: their range rate
    from SGP4's velocities turns on time scales where Newton's two-body derivative misleads.
    """
    n = len(t)
    found = np.zeros(n, dtype=bool)
    when = np.full(n, np.nan)
    if not n:
        return found, when
    lo, hi = t - bracket, t + bracket
    with np.errstate(invalid="ignore"):
        crossing = (_range_rate(sats, jd0, fr0, i, j, lo) < 0.0) & (
            _range_rate(sats, jd0, fr0, i, j, hi) > 0.0
        )
    live = np.flatnonzero(crossing)
    a, b = lo[live], hi[live]
    alive = np.ones(len(live), dtype=bool)
    while len(live) and (b - a).max() > NEWTON_TOL_S:
        c = 0.5 * (a + b)
        with np.errstate(invalid="ignore"):
            fc = _range_rate(sats, jd0, fr0, i[live], j[live], c)
        alive &= np.isfinite(fc)
        left = fc < 0.0
        a = np.where(left, c, a)
        b = np.where(left, b, c)
    found[live[alive]] = True
    when[live[alive]] = 0.5 * (a + b)[alive]
    return found, when
