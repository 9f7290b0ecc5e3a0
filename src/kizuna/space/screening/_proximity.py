"""Pairs that stay within the threshold for the whole window: proximity, not conjunctions.

Docked modules (a station and its visiting vehicles, which share one element set) and
formation flyers never leave each other's neighbourhood: their distance has no minimum worth an
event (identical elements give none at all, a formation one every half orbit). Screening
reports each such pair once, with the least and the greatest distance over the window.

A pair can stay within the threshold only if the pair search seeds it at every sample (the
search's tests are necessary conditions for coming within the threshold near a sample), so
those pairs are the candidates. Each candidate is then checked on exact SGP4: distances and
range rates at every search step from the start to the end of the span, every extremum between
two steps (a change of sign of the range rate) refined with Brent's method; the pair is
*together* when the greatest of these distances is below the threshold.

Over a window screened in chunks, a pair is together when it is together in every chunk; its
least and greatest distances are the extremes of the chunks'.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.optimize import brentq
from sgp4.api import Satrec

from kizuna.space.screening._trajectory import sgp4_states

__all__ = ["Proximity", "candidates", "check_together", "combine", "empty_proximity"]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Proximity:
    """Pairs that stay within the threshold over the whole span, one row each: ``object1``,
    ``object2`` (catalog numbers, object 1 the lower) at catalog rows ``row1``, ``row2``, the least distance ``min_km`` at ``t_min_s`` and the
    greatest ``max_km`` at ``t_max_s`` (seconds after the span's start), and at ``t_min_s`` the
    relative speed and object 2's position relative to object 1 (TEME, km)."""

    object1: I64
    object2: I64
    row1: I64
    row2: I64
    min_km: F64
    t_min_s: F64
    max_km: F64
    t_max_s: F64
    relative_speed_kms: F64
    miss_km: F64  # (n, 3)
    v1: F64  # (n, 3) object 1's position and velocity at t_min, for the RTN frame
    r1: F64

    def __len__(self) -> int:
        return len(self.row1)

    def shifted(self, seconds: float) -> Proximity:
        """The same pairs with their times *seconds* later (a chunk's times from the window's
        start)."""
        return Proximity(
            self.object1,
            self.object2,
            self.row1,
            self.row2,
            self.min_km,
            self.t_min_s + seconds,
            self.max_km,
            self.t_max_s + seconds,
            self.relative_speed_kms,
            self.miss_km,
            self.v1,
            self.r1,
        )

    def pairs(self) -> set[tuple[int, int]]:
        """The pairs as (row1, row2) catalog rows."""
        return set(zip(self.row1.tolist(), self.row2.tolist(), strict=True))


def empty_proximity() -> Proximity:
    z = np.zeros(0)
    zi = np.zeros(0, dtype=np.int64)
    z3 = np.zeros((0, 3))
    return Proximity(zi, zi, zi, zi, z, z, z, z, z, z3, z3, z3)


def candidates(i: I64, j: I64, samples: int) -> tuple[I64, I64]:
    """The pairs (i < j) seeded at *samples* samples or more (one seed per pair and sample)."""
    if samples <= 0 or not len(i):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    pairs = np.stack([np.minimum(i, j), np.maximum(i, j)], axis=1)
    unique, counts = np.unique(pairs, axis=0, return_counts=True)
    keep = unique[counts >= samples]
    return keep[:, 0].astype(np.int64), keep[:, 1].astype(np.int64)


def _distance_rate(a: Satrec, b: Satrec, jd0: float, fr0: float, t: float) -> tuple[float, float]:
    fr = fr0 + t / 86400.0
    _, ra, va = a.sgp4(jd0, fr)
    _, rb, vb = b.sgp4(jd0, fr)
    d = np.subtract(rb, ra)
    dv = np.subtract(vb, va)
    dist = float(np.linalg.norm(d))
    return dist, float(np.dot(d, dv)) / dist if dist > 0.0 else 0.0


def _extremes(
    a: Satrec, b: Satrec, jd0: float, fr0: float, t: F64, dist: F64, rate: F64
) -> tuple[float, float, float, float]:
    """(least distance, its time, greatest distance, its time) over [t[0], t[-1]], from the
    samples and every extremum between two samples refined on the range rate."""
    k_min = int(np.argmin(dist))
    k_max = int(np.argmax(dist))
    best_min, t_min = float(dist[k_min]), float(t[k_min])
    best_max, t_max = float(dist[k_max]), float(t[k_max])
    sign = np.sign(rate)
    for k in np.flatnonzero(sign[:-1] * sign[1:] < 0).tolist():
        lo, hi = float(t[k]), float(t[k + 1])
        when = brentq(lambda x: _distance_rate(a, b, jd0, fr0, x)[1], lo, hi, xtol=1e-6)
        d = _distance_rate(a, b, jd0, fr0, when)[0]
        if rate[k] < 0.0 and d < best_min:
            best_min, t_min = d, when
        elif rate[k] > 0.0 and d > best_max:
            best_max, t_max = d, when
    return best_min, t_min, best_max, t_max


def check_together(
    sats: list[Satrec],
    jd0: float,
    fr0: float,
    norad: I64,
    rows1: I64,
    rows2: I64,
    window_s: float,
    step_s: float,
    threshold_km: float,
) -> Proximity:
    """Of the candidate pairs, those whose distance stays below *threshold_km* over
    [0, window_s] on exact SGP4, with their least and greatest distances; object 1 of each
    pair is the one of the lower catalog number (*norad* per row)."""
    if not len(rows1):
        return empty_proximity()
    swap = norad[rows1] > norad[rows2]
    rows1, rows2 = np.where(swap, rows2, rows1), np.where(swap, rows1, rows2)
    objects = np.unique(np.concatenate([rows1, rows2]))
    where = {int(o): k for k, o in enumerate(objects.tolist())}
    t = np.arange(0.0, window_s, step_s)
    t = np.append(t, window_s)
    err, r, v = sgp4_states(
        [sats[o] for o in objects.tolist()], np.full(t.shape, jd0), fr0 + t / 86400.0
    )
    out: list[tuple[int, int, float, float, float, float]] = []
    for a, b in zip(rows1.tolist(), rows2.tolist(), strict=True):
        p, q = where[a], where[b]
        if err[p].any() or err[q].any():
            continue
        d = r[q] - r[p]
        dist = np.linalg.norm(d, axis=1)
        if not np.isfinite(dist).all() or dist.max() >= threshold_km:
            continue
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = np.where(dist > 0.0, np.einsum("ij,ij->i", d, v[q] - v[p]) / dist, 0.0)
        lo, t_lo, hi, t_hi = _extremes(sats[a], sats[b], jd0, fr0, t, dist, rate)
        if hi < threshold_km:
            out.append((a, b, lo, t_lo, hi, t_hi))
    if not out:
        return empty_proximity()
    rows = np.array([(a, b) for a, b, *_ in out], dtype=np.int64)
    values = np.array([rest for _, _, *rest in out], dtype=float)
    r1 = np.empty((len(out), 3))
    v1 = np.empty((len(out), 3))
    rel = np.empty((len(out), 3))
    speed = np.empty(len(out))
    for k, (a, b, _, t_lo, _, _) in enumerate(out):
        fr = fr0 + t_lo / 86400.0
        _, ra, va = sats[a].sgp4(jd0, fr)
        _, rb, vb = sats[b].sgp4(jd0, fr)
        r1[k], v1[k] = ra, va
        rel[k] = np.subtract(rb, ra)
        speed[k] = float(np.linalg.norm(np.subtract(vb, va)))
    return Proximity(
        norad[rows[:, 0]],
        norad[rows[:, 1]],
        rows[:, 0],
        rows[:, 1],
        values[:, 0],
        values[:, 1],
        values[:, 2],
        values[:, 3],
        speed,
        rel,
        v1,
        r1,
    )


def combine(parts: list[Proximity]) -> Proximity:
    """The pairs together in every part (chunks covering the window), with the extremes."""
    if not parts:
        return empty_proximity()
    common = set.intersection(*(p.pairs() for p in parts))
    if not common:
        return empty_proximity()
    keys = sorted(common)
    # pair -> (part, row) of the least distance and of the greatest
    low: dict[tuple[int, int], tuple[Proximity, int]] = {}
    high: dict[tuple[int, int], tuple[Proximity, int]] = {}
    for part in parts:
        for k, key in enumerate(zip(part.row1.tolist(), part.row2.tolist(), strict=True)):
            if key not in common:
                continue
            if key not in low or part.min_km[k] < low[key][0].min_km[low[key][1]]:
                low[key] = (part, k)
            if key not in high or part.max_km[k] > high[key][0].max_km[high[key][1]]:
                high[key] = (part, k)
    picked_min = [low[key] for key in keys]
    picked_max = [high[key] for key in keys]
    return Proximity(
        np.array([p.object1[k] for p, k in picked_min], dtype=np.int64),
        np.array([p.object2[k] for p, k in picked_min], dtype=np.int64),
        np.array([a for a, _ in keys], dtype=np.int64),
        np.array([b for _, b in keys], dtype=np.int64),
        np.array([p.min_km[k] for p, k in picked_min]),
        np.array([p.t_min_s[k] for p, k in picked_min]),
        np.array([p.max_km[k] for p, k in picked_max]),
        np.array([p.t_max_s[k] for p, k in picked_max]),
        np.array([p.relative_speed_kms[k] for p, k in picked_min]),
        np.array([p.miss_km[k] for p, k in picked_min]).reshape(-1, 3),
        np.array([p.v1[k] for p, k in picked_min]).reshape(-1, 3),
        np.array([p.r1[k] for p, k in picked_min]).reshape(-1, 3),
    )
