"""All-vs-all conjunction screening over a catalog: a pure function of arrays.

:func:`screen` takes a :class:`~kizuna.space.catalog.Catalog`, a start, a window and a
threshold and returns every close approach below the threshold, with its time of closest
approach (TCA) refined on exact SGP4. It works in four stages:

1. **Knots.** Every object is propagated with SGP4 (``SatrecArray``) at knots ``knot_s`` apart,
   giving positions and velocities; time is cut into blocks of knots to bound memory.
2. **Interpolation.** Between two knots each trajectory is the cubic Hermite polynomial through
   the two positions and velocities, sampled every ``step_s`` seconds.
3. **Spatial search.** At each sample, the pairs closer than the threshold plus how far each
   object can move in half a step (its speed times ``step_s``/2) plus an interpolation-error
   pad, whose distances from the Earth's centre are close enough, and whose straight-line
   relative motion over the half-step on either side comes within the threshold: these seed
   stage 4. Stages 2 and 3 are compiled (:mod:`kizuna.space.screening._kernel`, a grid search).
4. **Refinement.** TCA is where the range rate ``Δr·Δv`` crosses zero from below; Newton's
   method finds it on exact SGP4 states (two-body accelerations give the derivative).

An object that SGP4 cannot propagate (decayed, bad elements) never stops the batch: it gets a
status code (:data:`STATUS_TEXT`) and takes no part where it fails.

>>> from datetime import datetime, UTC
>>> from kizuna.space import catalog
>>> text = '''A
... 1 90001U 26001A   26140.00000000  .00000000  00000+0  00000+0 0  9990
... 2 90001  53.0000 100.0000 0001000  90.0000   0.0000 15.00000000    07
... B
... 1 90002U 26001B   26140.00000000  .00000000  00000+0  00000+0 0  9991
... 2 90002  97.0000 100.0000 0001000  90.0000   0.0100 15.00000000    07
... '''
>>> cat = catalog.build(catalog.read(text).records).catalog
>>> result = screen(cat, datetime(2026, 5, 20, tzinfo=UTC), hours=0.5, threshold_km=10.0)
>>> [(int(a), int(b)) for a, b in zip(result.object1, result.object2)]
[(90001, 90002)]
>>> round(float(result.miss_km[0]), 3), round(float(result.tca_s[0]), 3), result.status.tolist()
(5.826, 1439.863, [0, 0])
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
from sgp4.api import Satrec

from kizuna.space.catalog import STATUS_BAD_ELEMENTS, Catalog, julian, satrecs
from kizuna.space.screening._kernel import MU as _MU
from kizuna.space.screening._kernel import PAD_FLOOR_KM as _PAD_FLOOR_KM
from kizuna.space.screening._kernel import search_block
from kizuna.space.screening._proximity import (
    Proximity,
    candidates,
    check_together,
    empty_proximity,
)
from kizuna.space.screening._refine import refine
from kizuna.space.screening._trajectory import Ephemeris, sgp4_states
from kizuna.space.screening._windows import (
    PRIMARY_BLOCK,
    PRIMARY_CELLS,
    NeededStates,
    near_times,
)

__all__ = [
    "EVENT_ARRAYS",
    "STATUS_TEXT",
    "ScreenResult",
    "drop_together",
    "propagate",
    "rtn",
    "screen",
    "screen_span",
    "tca_datetime",
]

F64 = npt.NDArray[np.float64]

#: What each per-object status code means (1-6 are the sgp4 library's own error codes).
STATUS_TEXT: dict[int, str] = {
    0: "ok",
    1: "mean elements out of range (eccentricity >= 1 or < -0.001, or semi-major axis < 0.95 ER)",
    2: "mean motion below zero",
    3: "perturbed eccentricity out of range",
    4: "semi-latus rectum below zero",
    6: "decayed (orbit below the Earth's surface)",
    STATUS_BAD_ELEMENTS: "elements cannot be initialised (not finite, or out of range)",
    8: "position not finite",
}

#: The per-event arrays of a :class:`ScreenResult` (one row per event).
EVENT_ARRAYS = (
    "object1",
    "object2",
    "row1",
    "row2",
    "tca_s",
    "miss_km",
    "relative_speed_kms",
    "miss_rtn_km",
    "r1",
    "v1",
    "r2",
    "v2",
)


@dataclass(frozen=True)
class ScreenResult:
    """Close approaches, one row per event, sorted by TCA; and a status per catalog row.

    ``object1``/``object2`` are catalog numbers (object1 the lower), ``row1``/``row2`` their rows
    in the catalog, ``tca_s`` seconds after ``start``; distances in km, speeds in km/s; the miss
    components are object2's position relative to object1 in object1's RTN frame. ``r1, v1,
    r2, v2`` are the TEME states at TCA (for CDMs and Pc).

    ``proximity`` holds the pairs that stay within the threshold over the whole window (docked
    modules, formation flyers), once each with their least and greatest distance; they have no
    rows among the events. ``cpu_s`` is the CPU time the screening took in every process.
    """

    start: datetime
    hours: float
    threshold_km: float
    knot_s: float
    step_s: float
    object1: npt.NDArray[np.int64]
    object2: npt.NDArray[np.int64]
    row1: npt.NDArray[np.int64]
    row2: npt.NDArray[np.int64]
    tca_s: F64
    miss_km: F64
    relative_speed_kms: F64
    miss_rtn_km: F64
    r1: F64
    v1: F64
    r2: F64
    v2: F64
    status: npt.NDArray[np.int8]
    proximity: Proximity = field(default_factory=empty_proximity)
    cpu_s: float = 0.0
    #: (process, the CPU seconds it had used when its last chunk ended), per process.
    process_cpu: tuple[tuple[str, float], ...] = ()

    def __len__(self) -> int:
        return len(self.tca_s)


def propagate(
    sats: list[Satrec], jd0: float, fr0: float, times_s: F64
) -> tuple[npt.NDArray[np.int8], F64, F64]:
    """Positions and velocities (N, T, 3) at *times_s* after (jd0, fr0), with NaN rows where an
    object fails, and the per-object status (the first error met, 0 when none)."""
    t = np.asarray(times_s, dtype=float)
    err, r, v = sgp4_states(sats, np.full(t.shape, jd0), fr0 + t / 86400.0)
    bad = (err != 0) | ~np.isfinite(r).all(axis=2)
    r[bad] = np.nan
    v[bad] = np.nan
    first = np.argmax(bad, axis=1)
    code = err[np.arange(len(sats)), first].astype(np.int8)
    code[code == 0] = 8
    status = np.where(bad.any(axis=1), code, 0).astype(np.int8)
    return status, r, v


def _hermite(tau: F64, h: float) -> tuple[F64, F64]:
    """Rows of coefficients on (r0, v0, r1, v1) for position and velocity at fractions tau."""
    t2, t3 = tau * tau, tau * tau * tau
    pos = np.stack(
        [2 * t3 - 3 * t2 + 1, (t3 - 2 * t2 + tau) * h, -2 * t3 + 3 * t2, (t3 - t2) * h], 1
    )
    vel = np.stack(
        [(6 * t2 - 6 * tau) / h, 3 * t2 - 4 * tau + 1, (-6 * t2 + 6 * tau) / h, 3 * t2 - 2 * tau], 1
    )
    return pos, vel


@dataclass
class _Seeds:
    i: list[npt.NDArray[np.int64]]
    j: list[npt.NDArray[np.int64]]
    t: list[F64]


def screen(
    catalog: Catalog,
    start: datetime,
    hours: float,
    threshold_km: float,
    *,
    knot_s: float = 300.0,
    step_s: float = 60.0,
    block_knots: int = 60,
    progress: Callable[[float], None] | None = None,
) -> ScreenResult:
    """Every close approach below *threshold_km* with TCA in [start, start + hours].

    ``knot_s`` is the SGP4 knot spacing, ``step_s`` the search step (``knot_s`` must be a
    multiple of it); ``block_knots`` knots are held in memory at once. *progress*, if given,
    is called with the fraction done after each block. Pairs that stay within the threshold
    over the whole window are in ``proximity``, not among the events.
    """
    return drop_together(
        screen_span(
            catalog,
            start,
            hours,
            threshold_km,
            knot_s=knot_s,
            step_s=step_s,
            block_knots=block_knots,
            progress=progress,
        )
    )


def drop_together(result: ScreenResult) -> ScreenResult:
    """*result* without the events of its proximity pairs (they are reported once, apart)."""
    if not len(result.proximity):
        return result
    together = result.proximity.pairs()
    keep = np.array(
        [
            (int(a), int(b)) not in together
            for a, b in zip(result.row1.tolist(), result.row2.tolist(), strict=True)
        ],
        dtype=bool,
    )
    values = {name: getattr(result, name)[keep] for name in EVENT_ARRAYS}
    return replace(result, **values)


def screen_span(
    catalog: Catalog,
    start: datetime,
    hours: float,
    threshold_km: float,
    *,
    knot_s: float = 300.0,
    step_s: float = 60.0,
    block_knots: int = 60,
    progress: Callable[[float], None] | None = None,
    primary: npt.NDArray[np.bool_] | None = None,
    trajectories: Mapping[int, Ephemeris] | None = None,
) -> ScreenResult:
    """What :func:`screen` does, keeping the events of the proximity pairs (a chunk of a longer
    window: a pair together in this chunk may not be in the next). With *primary* (a flag per
    catalog row) only the pairs with at least one primary are refined and reported.
    *trajectories* gives catalog rows their states from an ephemeris instead of their
    elements (which are then not used: NaN will do)."""
    if knot_s <= 0 or step_s <= 0 or hours <= 0 or threshold_km <= 0:
        raise ValueError("knot_s, step_s, hours and threshold_km must be positive")
    per = round(knot_s / step_s)
    if per < 1 or abs(per * step_s - knot_s) > 1e-9 * knot_s:
        raise ValueError(f"knot_s ({knot_s}) must be a whole multiple of step_s ({step_s})")
    jd0, fr0 = julian(start)
    window = hours * 3600.0
    sats: list[Any]
    sats, status = satrecs(catalog)
    n = len(sats)
    status = status.copy()
    for row, trajectory in (trajectories or {}).items():
        sats[row] = trajectory
        status[row] = 0
    base_pad = _static_pad(catalog, knot_s, step_s)
    pad = base_pad.copy()
    seeds = _Seeds([], [], [])
    knots = np.arange(-knot_s, window + 2.0 * knot_s, knot_s)
    taus = (np.arange(per) + 0.5) / per
    cpos, cvel = _hermite(taus, knot_s)
    check_pos, check_vel = _hermite(np.array([0.5]), knot_s)
    n_int = len(knots) - 1
    mids = (knots[:-1, None] + taus[None, :] * knot_s).ravel()
    inner = int(((mids >= -step_s / 2.0) & (mids <= window + step_s / 2.0)).sum())
    flags = np.zeros(0, dtype=bool)
    sparse = None
    if primary is not None:
        # Against primaries: each object only where it can be near one (_windows), in longer
        # blocks (few objects are propagated at each knot).
        need = near_times(sats, jd0, fr0, knots, primary, threshold_km, catalog.elements[:, 1])
        sparse = NeededStates(sats, jd0, fr0, knots, need, check_pos, check_vel, step_s)
        _merge_status(status, sparse.status)
        np.maximum(pad, sparse.pad, out=pad)
        flags = primary
        block_knots = max(block_knots, min(PRIMARY_BLOCK, PRIMARY_CELLS // max(n, 1)))
    for b0 in range(0, n_int, block_knots):
        b1 = min(b0 + block_knots, n_int)
        kt = knots[b0 : b1 + 1]
        if sparse is not None:
            r, v = sparse.block(b0, b1 + 1)
        else:
            st, r, v = propagate(sats, jd0, fr0, kt)
            _merge_status(status, st)
            # Measure the interpolation error at a few interval midpoints; widen pads to it.
            picks = np.unique(np.linspace(0, b1 - b0 - 1, min(4, b1 - b0)).round().astype(int))
            _, rm, vm = propagate(sats, jd0, fr0, kt[picks] + knot_s / 2.0)
            for c, p in enumerate(picks):
                quad = np.stack([r[:, p], v[:, p], r[:, p + 1], v[:, p + 1]], 0).reshape(4, -1)
                ep = np.linalg.norm((check_pos @ quad).reshape(n, 3) - rm[:, c], axis=1)
                ev = np.linalg.norm((check_vel @ quad).reshape(n, 3) - vm[:, c], axis=1)
                seen = np.nan_to_num(3.0 * (ep + ev * step_s / 2.0), nan=0.0)
                np.maximum(pad, seen, out=pad)
        valid = status != STATUS_BAD_ELEMENTS
        i, j, t = search_block(
            r, v, valid, pad, kt, taus, cpos, cvel, knot_s, step_s, window, threshold_km, flags
        )
        if primary is not None:
            mine = primary[i] | primary[j]
            i, j, t = i[mine], j[mine], t[mine]
        seeds.i.append(i)
        seeds.j.append(j)
        seeds.t.append(t)
        if progress is not None:
            progress(b1 / n_int)
    result = _finish(catalog, sats, status, seeds, start, hours, threshold_km, knot_s, step_s)
    if seeds.t:
        ci, cj = candidates(np.concatenate(seeds.i), np.concatenate(seeds.j), inner)
        together = check_together(
            sats, jd0, fr0, catalog.norad, ci, cj, window, step_s, threshold_km
        )
        result = replace(result, proximity=together)
    return result


#: How many times the two-body bound of the Hermite error the static pad is (see _static_pad).
PAD_SAFETY = 3.0


def _static_pad(catalog: Catalog, knot_s: float, step_s: float) -> F64:
    """A first interpolation-error pad per object (km): what the cubic Hermite interpolant
    between knots ``knot_s`` apart can miss, its position error plus its velocity error times
    half a search step, from the two-body bound; see docs/space.md.

    The error of a cubic Hermite interpolant on an interval h is at most ``M h**4 / 384`` in
    value and ``sqrt(3) M h**3 / 216`` in rate, ``M`` the largest fourth derivative of each
    coordinate; on a two-body orbit the fourth derivative of the position is at most
    ``(1 + 3e) mu**2 / r_p**5`` long (at perigee; computed for e from 0 to 0.9), and the vector
    error is at most sqrt(3) times a coordinate's. The pad is :data:`PAD_SAFETY` times that
    bound plus the floor (the terms of SGP4 and SDP4 that are not smooth); the checks at
    interval midpoints widen it where more is seen.

    >>> from kizuna.space import catalog
    >>> text = '''A
    ... 1 90001U 26001A   26140.00000000  .00000000  00000+0  00000+0 0  9990
    ... 2 90001  53.0000 100.0000 0001000  90.0000   0.0000 15.00000000    07
    ... '''
    >>> cat = catalog.build(catalog.read(text).records).catalog
    >>> [round(float(_static_pad(cat, k, 60.0)[0]), 3) for k in (120.0, 180.0)]  # km
    [0.099, 0.262]
    """
    n_rad_s = catalog.elements[:, 0] / 60.0
    e = catalog.elements[:, 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        a = (_MU / n_rad_s**2) ** (1.0 / 3.0)
        rp = np.maximum(a * (1.0 - e), 6000.0)
        fourth = (1.0 + 3.0 * e) * _MU**2 / rp**5
        bound = fourth * (knot_s**4 / 384.0 + np.sqrt(3.0) * knot_s**3 / 216.0 * step_s / 2.0)
        pad: F64 = PAD_SAFETY * np.sqrt(3.0) * bound
    out: F64 = np.nan_to_num(pad, nan=_PAD_FLOOR_KM) + _PAD_FLOOR_KM
    return out


def _merge_status(status: npt.NDArray[np.int8], new: npt.NDArray[np.int8]) -> None:
    fresh = (status == 0) & (new != 0)
    status[fresh] = new[fresh]


def _finish(
    catalog: Catalog,
    sats: list[Satrec],
    status: npt.NDArray[np.int8],
    seeds: _Seeds,
    start: datetime,
    hours: float,
    threshold: float,
    knot_s: float,
    step_s: float,
) -> ScreenResult:
    jd0, fr0 = julian(start)
    window = hours * 3600.0
    if seeds.t:
        i = np.concatenate(seeds.i)
        j = np.concatenate(seeds.j)
        t = np.concatenate(seeds.t)
    else:
        i = j = np.zeros(0, dtype=np.int64)
        t = np.zeros(0)
    # One seed per pair per step is plenty: drop seeds of the same pair within 1 ms.
    order = np.lexsort((t, j, i))
    i, j, t = i[order], j[order], t[order]
    if len(t):
        dup = np.zeros(len(t), dtype=bool)
        dup[1:] = (i[1:] == i[:-1]) & (j[1:] == j[:-1]) & (np.diff(t) < 1e-3)
        i, j, t = i[~dup], j[~dup], t[~dup]
    # Rows with identical elements (modules docked to a station share one element set) are
    # the same trajectory: no minimum to refine (they are proximity pairs).
    twins = _twins(catalog, sats, i, j)
    i, j, t = i[~twins], j[~twins], t[~twins]
    ok, tca, states = refine(sats, jd0, fr0, i, j, t, bracket=step_s)
    r1, v1, r2, v2 = states[:, 0:3], states[:, 3:6], states[:, 6:9], states[:, 9:12]
    miss = np.linalg.norm(r2 - r1, axis=1)
    inside = ok & (tca >= 0.0) & (tca <= window) & (miss < threshold)
    i, j, tca, miss = i[inside], j[inside], tca[inside], miss[inside]
    r1, v1, r2, v2 = r1[inside], v1[inside], r2[inside], v2[inside]
    # Seeds that converged on the same minimum: keep one per pair and TCA (within 10 ms).
    order = np.lexsort((tca, j, i))
    i, j, tca, miss = i[order], j[order], tca[order], miss[order]
    r1, v1, r2, v2 = r1[order], v1[order], r2[order], v2[order]
    if len(tca):
        dup = np.zeros(len(tca), dtype=bool)
        dup[1:] = (i[1:] == i[:-1]) & (j[1:] == j[:-1]) & (np.diff(tca) < 1e-2)
        keep = ~dup
        i, j, tca, miss = i[keep], j[keep], tca[keep], miss[keep]
        r1, v1, r2, v2 = r1[keep], v1[keep], r2[keep], v2[keep]
    # object1 is the lower catalog number.
    swap = catalog.norad[i] > catalog.norad[j]
    i, j = np.where(swap, j, i), np.where(swap, i, j)
    r1, r2 = np.where(swap[:, None], r2, r1), np.where(swap[:, None], r1, r2)
    v1, v2 = np.where(swap[:, None], v2, v1), np.where(swap[:, None], v1, v2)
    miss_rtn = rtn(r1, v1, r2 - r1)
    order = np.argsort(tca, kind="stable")
    return ScreenResult(
        start=start,
        hours=hours,
        threshold_km=threshold,
        knot_s=knot_s,
        step_s=step_s,
        object1=catalog.norad[i][order],
        object2=catalog.norad[j][order],
        row1=i[order],
        row2=j[order],
        tca_s=tca[order],
        miss_km=miss[order],
        relative_speed_kms=np.linalg.norm(v2 - v1, axis=1)[order],
        miss_rtn_km=miss_rtn[order],
        r1=r1[order],
        v1=v1[order],
        r2=r2[order],
        v2=v2[order],
        status=status,
    )


def _twins(
    catalog: Catalog, sats: list[Any], i: npt.NDArray[np.int64], j: npt.NDArray[np.int64]
) -> npt.NDArray[np.bool_]:
    """Which pairs (*i*, *j*) propagate from the same elements and epoch with SGP4 (not an
    ephemeris): their distance is zero throughout."""
    sgp4 = np.array([not isinstance(x, Ephemeris) for x in sats], dtype=bool)
    el = catalog.elements
    same: npt.NDArray[np.bool_] = (
        sgp4[i]
        & sgp4[j]
        & (catalog.epoch_jd[i] == catalog.epoch_jd[j])
        & (catalog.epoch_fr[i] == catalog.epoch_fr[j])
        & (el[i] == el[j]).all(axis=1)
    )
    return same


def rtn(r: F64, v: F64, d: F64) -> F64:
    """Vectors *d* in the RTN frames of states (r, v), row by row."""
    rhat = r / np.linalg.norm(r, axis=1, keepdims=True)
    h = np.cross(r, v)
    nhat = h / np.linalg.norm(h, axis=1, keepdims=True)
    that = np.cross(nhat, rhat)
    return np.column_stack(
        [
            np.einsum("ij,ij->i", d, rhat),
            np.einsum("ij,ij->i", d, that),
            np.einsum("ij,ij->i", d, nhat),
        ]
    )


def tca_datetime(result: ScreenResult, k: int) -> datetime:
    """The TCA of event *k* as an aware datetime (microsecond resolution)."""
    return result.start + timedelta(seconds=float(result.tca_s[k]))
