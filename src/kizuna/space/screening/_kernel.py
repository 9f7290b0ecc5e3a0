"""The compiled pair search of screening (numba): which pairs may close within the threshold.

:func:`search_block` takes the SGP4 knots of one block (positions and velocities, ``(N, K, 3)``)
and, for every search sample of every knot interval, interpolates all trajectories (cubic
Hermite) and returns the *seeds*: pairs ``i < j`` that pass three tests, and the time of their
straight-line closest approach. The tests are those of ``docs/space.md``:

1. **Range**: the distance is within ``(threshold + 2 cap) * grow`` (``cap``: how far an object at
   8 km/s moves in half a step, plus twice the pad floor; ``grow`` the tidal allowance), or
   within a larger radius of its own for a *wide* object (one that moves or may be interpolated
   further than the cap in half a step).
2. **Radial**: distances from the Earth's centre differ by at most the threshold plus what each
   object's radial rate and acceleration can change in half a step (plus its pad).
3. **Straight line**: relative motion over the half step on either side comes within the
   threshold plus both pads plus the tidal bound.

How it finds them fast: every object is projected along its radius onto the sphere through the
lowest object, where no two objects are further apart than they are in space, and binned there
into cubes as wide as the range radius (a dense array of cells). A cell is thus a column of all
altitudes; within it objects are sorted by their distance from the Earth's centre, so for each
pair of neighbouring cells only the thin band of radii that can pass the radial test is scanned
(two pointers over both sorted lists). Wide objects and *steep* ones (radial reach above
``STEEP_KM``: eccentric orbits away from apsis) stay out of the grid: each scans the cells
around it with its own radius, and they are paired with each other directly.

The functions are compiled on first use and cached on disk (``cache=True``). coverage.py cannot
see compiled lines, so they are excluded from coverage (``pragma: no cover``); the tests check
them against a simple reference search and against the brute-force oracle, and can run them as
plain Python with ``NUMBA_DISABLE_JIT=1``.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import numba
import numpy as np
import numpy.typing as npt

__all__ = [
    "MU",
    "PAD_FLOOR_KM",
    "RADIAL_ACC",
    "STEEP_KM",
    "TIDE",
    "cubic_near",
    "is_cached",
    "search_block",
]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
_F = TypeVar("_F", bound=Callable[..., Any])

MU = 398600.8  # km^3/s^2, WGS-72 as SGP4 uses
TIDE = 2.0 * MU / 6378.135**3  # bound on |Δa| per km of separation (gravity gradient)
PAD_FLOOR_KM = 0.05  # interpolation pad floor (deep-space SDP4 terms, see docs/space.md)
RADIAL_ACC = 5e-5  # km/s^2 margin on radial acceleration beyond two-body (J2 is ~1.5e-5)
# Objects whose radius may change more than this (km) in half a step stay out of the grid.
STEEP_KM = 25.0

_GRID_MAX = 64  # cells per axis at most (small search steps get cells wider than the radius)


def is_cached() -> bool:
    """Whether numba's disk cache next to this module holds the compiled search for this
    Python (if not, the first call compiles it: about 7 s). Numba may cache elsewhere
    (``NUMBA_CACHE_DIR``, or a user directory when this one is read-only): then this says False
    although the next call is fast, which only costs a needless message."""
    tag = f"py{sys.version_info.major}{sys.version_info.minor}"
    return any(
        Path(__file__).parent.joinpath("__pycache__").glob(f"_kernel.search_block-*.{tag}.nbi")
    )


def _jit(f: _F) -> _F:
    return cast(_F, numba.njit(cache=True, nogil=True)(f))


@_jit
def _column(x: float, r0: float, size: float, g: int) -> int:  # pragma: no cover - compiled
    """The grid column of projected coordinate *x* (in [-r0, r0], clamped against rounding)."""
    return min(max(math.floor((x + r0) / size), 0), g - 1)


@_jit
def _tau(
    s: F64, p: int, q: int, limit: float, threshold: float, half: float
) -> float:  # pragma: no cover - compiled
    """The range and straight-line tests for rows *p*, *q* of *s*; the time of closest approach
    (from the sample, within +-half) if both pass, else NaN.

    Rows of *s*: position, velocity, pad.
    """
    dx = s[q, 0] - s[p, 0]
    dy = s[q, 1] - s[p, 1]
    dz = s[q, 2] - s[p, 2]
    d2 = dx * dx + dy * dy + dz * dz
    if d2 > limit * limit:
        return math.nan
    du = s[q, 3] - s[p, 3]
    dv = s[q, 4] - s[p, 4]
    dw = s[q, 5] - s[p, 5]
    vv = du * du + dv * dv + dw * dw
    rv = dx * du + dy * dv + dz * dw
    tau = -rv / vv if vv > 0.0 else 0.0
    tau = min(max(tau, -half), half)
    cx = dx + du * tau
    cy = dy + dv * tau
    cz = dz + dw * tau
    dmin = math.sqrt(cx * cx + cy * cy + cz * cz)
    sep = math.sqrt(d2) + math.sqrt(vv) * half
    if dmin <= threshold + s[p, 6] + s[q, 6] + 0.5 * TIDE * sep * half * half:
        return tau
    return math.nan


@_jit
def _pair_limit(
    a: int, b: int, wide: npt.NDArray[np.bool_], own: F64, radius: float
) -> float:  # pragma: no cover - compiled
    """The range radius of objects *a*, *b*: the lower-numbered wide object's own, else the
    common one. (A wide object's own radius, threshold + its reach + the largest reach, covers
    any partner.)"""
    lo, hi = (a, b) if a < b else (b, a)
    if wide[lo]:
        return float(own[lo])
    if wide[hi]:
        return float(own[hi])
    return radius


@_jit
def _search_sample(
    pos: F64,
    vel: F64,
    live: npt.NDArray[np.bool_],
    pad: F64,
    t_mid: float,
    threshold: float,
    step: float,
    first: I64,
    fill: I64,
    widest: F64,
    out_i: list[int],
    out_j: list[int],
    out_t: list[float],
) -> None:  # pragma: no cover - compiled
    """Seeds of the pairs that may come within *threshold* in [t_mid - step/2, t_mid + step/2]."""
    n = pos.shape[0]
    half = step / 2.0
    cap = 8.0 * half + PAD_FLOOR_KM * 2
    grow = 1.0 + TIDE * half * half
    radius = (threshold + 2.0 * cap) * grow
    rho = np.empty(n)
    radial = np.empty(n)
    wide = np.zeros(n, dtype=np.bool_)
    own = np.full(n, radius)
    top = cap
    for a in range(n):
        if live[a]:
            top = max(
                top, math.sqrt(vel[a, 0] ** 2 + vel[a, 1] ** 2 + vel[a, 2] ** 2) * half + pad[a]
            )
    # Objects in the grid (normal) first, then the others (special).
    order = np.empty(n, dtype=np.int64)
    r0 = math.inf
    nn = 0
    ns = 0
    for a in range(n):
        if not live[a]:
            continue
        px, py, pz = pos[a, 0], pos[a, 1], pos[a, 2]
        ux, uy, uz = vel[a, 0], vel[a, 1], vel[a, 2]
        s2 = ux * ux + uy * uy + uz * uz
        reach = math.sqrt(s2) * half + pad[a]
        r = math.sqrt(px * px + py * py + pz * pz)
        rdot = (px * ux + py * uy + pz * uz) / r
        rddot = (s2 - rdot * rdot) / r - MU / (r * r)
        rho[a] = r
        r0 = min(r0, r)
        radial[a] = abs(rdot) * half + (2.0 * abs(rddot) + RADIAL_ACC) * half * half / 2.0 + pad[a]
        if reach > cap:
            wide[a] = True
            own[a] = (threshold + reach + top) * grow
        if wide[a] or radial[a] > STEEP_KM:
            ns += 1
            order[n - ns] = a
        else:
            order[nn] = a
            nn += 1
    if nn + ns == 0:
        return
    # The grid: every object is projected along its radius onto the sphere of radius r0 (the
    # lowest object's), where two objects are no further apart than they are in space; cubes of
    # side *size* (at least the range radius) over that sphere, g per axis. A cell is then a
    # column of all altitudes, and sorting by radius inside it leaves only the radius band of
    # each pair of neighbouring cells to scan.
    size = max(radius, 2.0 * r0 / _GRID_MAX)
    g = math.floor(2.0 * r0 / size) + 1
    cell = np.empty(nn, dtype=np.int64)
    ncell = 0
    for k in range(nn):
        a = order[k]
        f = r0 / rho[a]
        ix = _column(pos[a, 0] * f, r0, size, g)
        iy = _column(pos[a, 1] * f, r0, size, g)
        iz = _column(pos[a, 2] * f, r0, size, g)
        c = (ix * g + iy) * g + iz
        cell[k] = c
        if first[c + 1] == 0:
            ncell += 1
        first[c + 1] += 1
    for c in range(g * g * g):
        first[c + 1] += first[c]
    fill[: g * g * g] = first[: g * g * g]
    ids = np.empty(nn + ns, dtype=np.int64)
    for k in range(nn):
        c = cell[k]
        ids[fill[c]] = order[k]
        fill[c] += 1
    ids[nn:] = order[n - ns :]
    for c in range(g * g * g):
        if first[c] == first[c + 1]:
            continue
        # Insertion sort by radius (cells hold a few objects) and the widest radial reach.
        widest[c] = 0.0
        for p in range(first[c], first[c + 1]):
            m = ids[p]
            widest[c] = max(widest[c], radial[m])
            q = p
            while q > first[c] and rho[ids[q - 1]] > rho[m]:
                ids[q] = ids[q - 1]
                q -= 1
            ids[q] = m
    # Everything the tests read, in that order (rows of s: position, velocity, pad).
    m_all = nn + ns
    s = np.empty((m_all, 7))
    srho = np.empty(m_all)
    srad = np.empty(m_all)
    for p in range(m_all):
        a = ids[p]
        s[p, 0], s[p, 1], s[p, 2] = pos[a, 0], pos[a, 1], pos[a, 2]
        s[p, 3], s[p, 4], s[p, 5] = vel[a, 0], vel[a, 1], vel[a, 2]
        s[p, 6] = pad[a]
        srho[p] = rho[a]
        srad[p] = radial[a]
    r2 = radius * radius
    hits = np.empty(m_all, dtype=np.int64)
    # Normal pairs: each cell with itself and its 13 neighbours of the upper half-shell. Two
    # pointers walk the radius band of each pair of cells; the radial test is exact per pair.
    for c in range(g * g * g):
        if first[c] == first[c + 1]:
            continue
        iz = c % g
        iy = (c // g) % g
        ix = c // (g * g)
        c0, c1 = first[c], first[c + 1]
        for nb in range(14):
            # The cell itself, then the offsets (dx, dy, dz) after (0, 0, 0) in lexicographic
            # order: (0, 0, 1), (0, 1, -1..1), (1, -1..1, -1..1).
            if nb == 0:
                dx, dy, dz = 0, 0, 0
            elif nb == 1:
                dx, dy, dz = 0, 0, 1
            elif nb < 5:
                dx, dy, dz = 0, 1, nb - 3
            else:
                dx, dy, dz = 1, (nb - 5) // 3 - 1, (nb - 5) % 3 - 1
            jx, jy, jz = ix + dx, iy + dy, iz + dz
            if jx >= g or jy < 0 or jy >= g or jz < 0 or jz >= g:
                continue
            d = (jx * g + jy) * g + jz
            d0, d1 = first[d], first[d + 1]
            if d0 == d1:
                continue
            band = threshold + widest[c] + widest[d]
            lo = d0
            for p in range(c0, c1):
                if nb == 0:
                    lo = p + 1
                else:
                    while lo < d1 and srho[lo] < srho[p] - band:
                        lo += 1
                # Radial and range tests without branches (a branch per candidate would be
                # mispredicted often); the passes are gathered in *hits*.
                rp = srho[p]
                tp = threshold + srad[p]
                px, py, pz = s[p, 0], s[p, 1], s[p, 2]
                nhit = 0
                q = lo
                while q < d1 and srho[q] <= rp + band:
                    ex, ey, ez = s[q, 0] - px, s[q, 1] - py, s[q, 2] - pz
                    hits[nhit] = q
                    nhit += (abs(srho[q] - rp) <= tp + srad[q]) & (
                        ex * ex + ey * ey + ez * ez <= r2
                    )
                    q += 1
                for h in range(nhit):
                    q = hits[h]
                    tau = _tau(s, p, q, radius, threshold, half)
                    # The same four lines record a seed in the two loops below. In a helper,
                    # even one numba inlines, they cost 2-4 % of a screening run's CPU
                    # (bench/screen.py --scenario 30k, alternating, 2026-11-29).
                    if tau == tau:
                        a, b = ids[p], ids[q]
                        out_i.append(min(a, b))
                        out_j.append(max(a, b))
                        out_t.append(t_mid + tau)
    # Special objects against the grid, each with its own radius ...
    for p in range(nn, m_all):
        limit = own[ids[p]]
        k = math.ceil(limit / size)
        f = r0 / srho[p]
        ix = _column(s[p, 0] * f, r0, size, g)
        iy = _column(s[p, 1] * f, r0, size, g)
        iz = _column(s[p, 2] * f, r0, size, g)
        box = (2 * k + 1) ** 3 <= ncell
        for jx in range(max(ix - k, 0), min(ix + k + 1, g)) if box else range(1):
            for jy in range(max(iy - k, 0), min(iy + k + 1, g)) if box else range(1):
                for jz in range(max(iz - k, 0), min(iz + k + 1, g)) if box else range(1):
                    if box:
                        d = (jx * g + jy) * g + jz
                        lo, hi = first[d], first[d + 1]
                    else:
                        lo, hi = 0, nn
                    for q in range(lo, hi):
                        if abs(srho[p] - srho[q]) <= threshold + srad[p] + srad[q]:
                            tau = _tau(s, p, q, limit, threshold, half)
                            if tau == tau:
                                a, b = ids[p], ids[q]
                                out_i.append(min(a, b))
                                out_j.append(max(a, b))
                                out_t.append(t_mid + tau)
    # ... and with each other.
    for p in range(nn, m_all):
        for q in range(p + 1, m_all):
            if abs(srho[p] - srho[q]) <= threshold + srad[p] + srad[q]:
                a, b = ids[p], ids[q]
                tau = _tau(s, p, q, _pair_limit(a, b, wide, own, radius), threshold, half)
                if tau == tau:
                    out_i.append(min(a, b))
                    out_j.append(max(a, b))
                    out_t.append(t_mid + tau)
    first[: g * g * g + 1] = 0


@_jit
def _search_primary_sample(
    pos: F64,
    vel: F64,
    live: npt.NDArray[np.bool_],
    pad: F64,
    primary: npt.NDArray[np.bool_],
    t_mid: float,
    threshold: float,
    step: float,
    out_i: list[int],
    out_j: list[int],
    out_t: list[float],
) -> None:  # pragma: no cover - compiled
    """The seeds of :func:`_search_sample` that involve a primary: each primary against every
    other live object, with the same radii and tests (no grid: a primary is one object)."""
    n = pos.shape[0]
    half = step / 2.0
    cap = 8.0 * half + PAD_FLOOR_KM * 2
    grow = 1.0 + TIDE * half * half
    radius = (threshold + 2.0 * cap) * grow
    top = cap
    m = 0
    for a in range(n):
        if live[a]:
            m += 1
            top = max(
                top, math.sqrt(vel[a, 0] ** 2 + vel[a, 1] ** 2 + vel[a, 2] ** 2) * half + pad[a]
            )
    ids = np.empty(m, dtype=np.int64)
    s = np.empty((m, 7))
    srho = np.empty(m)
    srad = np.empty(m)
    wide = np.zeros(n, dtype=np.bool_)
    own = np.full(n, radius)
    p = 0
    for a in range(n):
        if not live[a]:
            continue
        px, py, pz = pos[a, 0], pos[a, 1], pos[a, 2]
        ux, uy, uz = vel[a, 0], vel[a, 1], vel[a, 2]
        s2 = ux * ux + uy * uy + uz * uz
        reach = math.sqrt(s2) * half + pad[a]
        r = math.sqrt(px * px + py * py + pz * pz)
        rdot = (px * ux + py * uy + pz * uz) / r
        rddot = (s2 - rdot * rdot) / r - MU / (r * r)
        if reach > cap:
            wide[a] = True
            own[a] = (threshold + reach + top) * grow
        ids[p] = a
        s[p, 0], s[p, 1], s[p, 2] = px, py, pz
        s[p, 3], s[p, 4], s[p, 5] = ux, uy, uz
        s[p, 6] = pad[a]
        srho[p] = r
        srad[p] = abs(rdot) * half + (2.0 * abs(rddot) + RADIAL_ACC) * half * half / 2.0 + pad[a]
        p += 1
    for p in range(m):
        if not primary[ids[p]]:
            continue
        for q in range(m):
            if q == p or (primary[ids[q]] and q < p):
                continue
            if abs(srho[p] - srho[q]) <= threshold + srad[p] + srad[q]:
                a, b = ids[p], ids[q]
                tau = _tau(s, p, q, _pair_limit(a, b, wide, own, radius), threshold, half)
                if tau == tau:
                    out_i.append(min(a, b))
                    out_j.append(max(a, b))
                    out_t.append(t_mid + tau)


@_jit
def search_block(
    r: F64,
    v: F64,
    valid: npt.NDArray[np.bool_],
    pad: F64,
    knot_t: F64,
    taus: F64,
    cpos: F64,
    cvel: F64,
    knot_s: float,
    step: float,
    window: float,
    threshold: float,
    primary: npt.NDArray[np.bool_],
) -> tuple[I64, I64, F64]:  # pragma: no cover - compiled
    """Seeds ``(i, j, t)`` of every search sample of a block of knots (with *primary* flags,
    a bool per object, only the pairs with a primary; an empty array: all pairs).

    *r*, *v*: ``(N, K, 3)`` positions and velocities at the knot times *knot_t* (NaN where an
    object failed); *valid*: objects that may take part at all; *taus* the sample fractions of a
    knot interval with their Hermite coefficients *cpos*, *cvel* (rows of four, on r0, v0, r1,
    v1). Samples whose time is outside ``[-step, window + step]`` are skipped. An object takes
    part in an interval only when both its knots are finite.
    """
    n = r.shape[0]
    pos = np.zeros((n, 3))
    vel = np.zeros((n, 3))
    live = np.zeros(n, dtype=np.bool_)
    quad = np.zeros((n, 12))
    cells = (_GRID_MAX + 1) ** 3
    first = np.zeros(cells + 1, dtype=np.int64)
    fill = np.zeros(cells, dtype=np.int64)
    widest = np.zeros(cells)
    out_i = [0]
    out_j = [0]
    out_t = [0.0]
    out_i.clear()
    out_j.clear()
    out_t.clear()
    for q in range(r.shape[1] - 1):
        t_left = knot_t[q]
        if t_left + knot_s < -step or t_left > window + step:
            continue
        for a in range(n):
            live[a] = valid[a] and np.isfinite(r[a, q, 0]) and np.isfinite(r[a, q + 1, 0])
            if live[a]:
                for x in range(3):
                    quad[a, x] = r[a, q, x]
                    quad[a, 3 + x] = v[a, q, x]
                    quad[a, 6 + x] = r[a, q + 1, x]
                    quad[a, 9 + x] = v[a, q + 1, x]
        for m in range(taus.shape[0]):
            t_mid = t_left + taus[m] * knot_s
            if t_mid < -step or t_mid > window + step:
                continue
            h0, h1, h2, h3 = cpos[m, 0], cpos[m, 1], cpos[m, 2], cpos[m, 3]
            g0, g1, g2, g3 = cvel[m, 0], cvel[m, 1], cvel[m, 2], cvel[m, 3]
            for a in range(n):
                if not live[a]:
                    continue
                for x in range(3):
                    r0, v0, r1, v1 = quad[a, x], quad[a, 3 + x], quad[a, 6 + x], quad[a, 9 + x]
                    pos[a, x] = h0 * r0 + h1 * v0 + h2 * r1 + h3 * v1
                    vel[a, x] = g0 * r0 + g1 * v0 + g2 * r1 + g3 * v1
            if primary.shape[0]:
                _search_primary_sample(pos, vel, live, pad, primary, t_mid, threshold, step,
                                       out_i, out_j, out_t)  # fmt: skip
            else:
                _search_sample(pos, vel, live, pad, t_mid, threshold, step, first, fill, widest,
                               out_i, out_j, out_t)  # fmt: skip
    count = len(out_t)
    si = np.empty(count, dtype=np.int64)
    sj = np.empty(count, dtype=np.int64)
    st = np.empty(count)
    for k in range(count):
        si[k] = out_i[k]
        sj[k] = out_j[k]
        st[k] = out_t[k]
    return si, sj, st


@_jit
def _cubic(a: float, b: float, c: float, d: float, x: float) -> float:  # pragma: no cover
    return a + x * (b + x * (c + x * d))


@_jit
def cubic_near(
    z0: F64, dz0: F64, z1: F64, dz1: F64, bound: F64, parts: int
) -> npt.NDArray[np.bool_]:  # pragma: no cover - compiled
    """For each cubic Hermite polynomial on [0, 1] through values *z0*, *z1* and derivatives
    *dz0*, *dz1* (2-D arrays, one polynomial per element), whether its absolute value comes
    within *bound* on each of *parts* equal sub-intervals: ``(rows, cols * parts)``, sub-interval
    ``j`` of column ``c`` at ``c * parts + j``. A NaN anywhere keeps every sub-interval."""
    rows, cols = z0.shape
    out = np.zeros((rows, cols * parts), dtype=np.bool_)
    for i in range(rows):
        for k in range(cols):
            a, b = z0[i, k], dz0[i, k]
            c = -3.0 * z0[i, k] - 2.0 * dz0[i, k] + 3.0 * z1[i, k] - dz1[i, k]
            d = 2.0 * z0[i, k] + dz0[i, k] - 2.0 * z1[i, k] + dz1[i, k]
            lim = bound[i, k]
            if not (a == a and b == b and c == c and d == d and lim == lim):
                for j in range(parts):
                    out[i, k * parts + j] = True
                continue
            # Extrema: roots of b + 2c x + 3d x^2 (at most two).
            r1 = math.nan
            r2 = math.nan
            if abs(d) > 1e-300:
                disc = c * c - 3.0 * b * d
                if disc >= 0.0:
                    q = math.sqrt(disc)
                    r1 = (-c + q) / (3.0 * d)
                    r2 = (-c - q) / (3.0 * d)
            elif c != 0.0:
                r1 = -b / (2.0 * c)
            left = _cubic(a, b, c, d, 0.0)
            for j in range(parts):
                lo = j / parts
                hi = (j + 1) / parts
                right = _cubic(a, b, c, d, hi)
                least = min(abs(left), abs(right))
                crossed = (left > 0.0) != (right > 0.0)
                if r1 > lo and r1 < hi:
                    px = _cubic(a, b, c, d, r1)
                    least = min(least, abs(px))
                    crossed = crossed or ((px > 0.0) != (left > 0.0))
                if r2 > lo and r2 < hi:
                    px = _cubic(a, b, c, d, r2)
                    least = min(least, abs(px))
                    crossed = crossed or ((px > 0.0) != (left > 0.0))
                out[i, k * parts + j] = crossed or least <= lim
                left = right
    return out
