"""The compiled pair search against a brute-force reference: the same seeds, sample by sample.

The reference interpolates every trajectory with numpy and applies the search's three tests
(range, radial, straight line; see ``docs/space.md``) to *every* pair of live objects, with no
grid, bands or special cases. The catalog mixes the real sample (LEO shells, and MEO/GEO objects
beyond the grid's box), synthetic crossings, eccentric orbits (fast "wide" objects near perigee
and "steep" ones whose radius changes fast) and an object that decays, so every path of the
kernel runs: the grid, the radius bands, special objects by box and by brute force, clamped cells.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt
import pytest

from kizuna.space import catalog
from kizuna.space.formats.omm import ElementSet
from kizuna.space.screening import _kernel as _pairs
from kizuna.space.screening import _screen as screen

from .test_screen import _catalog

F64 = npt.NDArray[np.float64]
START = datetime(2026, 5, 20, tzinfo=UTC)


def _eccentric() -> list[ElementSet]:
    """GTO and Molniya orbits at several anomalies, a partner crossing each, one that decays."""
    base = ElementSet(
        norad_cat_id=970_000,
        epoch=START,
        mean_motion=2.25,
        eccentricity=0.73,
        inclination=27.0,
        ra_of_asc_node=40.0,
        arg_of_pericenter=180.0,
        mean_anomaly=0.0,
        bstar=1e-4,
    )
    out = []
    for k, anomaly in enumerate([0.0, 2.0, 5.0, 20.0, 60.0, 180.0, 330.0, 355.0]):
        for copy, (inc, ecc, n) in enumerate([(27.0, 0.73, 2.25), (63.4, 0.74, 2.006)]):
            es = replace(
                base,
                norad_cat_id=970_000 + 4 * k + 2 * copy,
                inclination=inc,
                eccentricity=ecc,
                mean_motion=n,
                mean_anomaly=anomaly,
            )
            partner = replace(
                es,
                norad_cat_id=es.norad_cat_id + 1,  # type: ignore[operator]
                inclination=inc + 0.5,
                mean_anomaly=anomaly + 0.01,
            )
            out += [es, partner]
    out.append(replace(base, norad_cat_id=979_999, mean_motion=16.4, eccentricity=0.001, bstar=0.5))
    return out


def _reference(
    r: F64,
    v: F64,
    valid: npt.NDArray[np.bool_],
    pad: F64,
    knot_t: F64,
    taus: F64,
    knot_s: float,
    step: float,
    window: float,
    threshold: float,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], F64]:
    cpos, cvel = screen._hermite(taus, knot_s)
    half = step / 2.0
    cap = 8.0 * half + _pairs.PAD_FLOOR_KM * 2
    grow = 1.0 + _pairs.TIDE * half * half
    radius = (threshold + 2.0 * cap) * grow
    si, sj, st = [], [], []
    for q in range(len(knot_t) - 1):
        live = valid & np.isfinite(r[:, q, 0]) & np.isfinite(r[:, q + 1, 0])
        for m, tau_m in enumerate(taus):
            t_mid = knot_t[q] + tau_m * knot_s
            if knot_t[q] + knot_s < -step or knot_t[q] > window + step:
                continue
            if t_mid < -step or t_mid > window + step:
                continue
            quad = np.stack([r[:, q], v[:, q], r[:, q + 1], v[:, q + 1]])
            pos = np.einsum("k,kni->ni", cpos[m], quad)
            vel = np.einsum("k,kni->ni", cvel[m], quad)
            speed = np.linalg.norm(vel, axis=1)
            reach = np.where(live, speed * half + pad, 0.0)
            wide = live & (reach > cap)
            own = np.where(wide, (threshold + reach + max(reach.max(), cap)) * grow, radius)
            rho = np.linalg.norm(pos, axis=1)
            rhodot = np.einsum("ij,ij->i", pos, vel) / rho
            rhoddot = (speed**2 - rhodot**2) / rho - _pairs.MU / rho**2
            radial = (
                np.abs(rhodot) * half
                + (2.0 * np.abs(rhoddot) + _pairs.RADIAL_ACC) * half * half / 2.0
                + pad
            )
            a, b = np.triu_indices(len(pos), 1)  # every pair, a < b
            keep = live[a] & live[b]
            a, b = a[keep], b[keep]
            limit = np.where(wide[a], own[a], np.where(wide[b], own[b], radius))
            dr, dv = pos[b] - pos[a], vel[b] - vel[a]
            d2 = np.einsum("ij,ij->i", dr, dr)
            vv = np.einsum("ij,ij->i", dv, dv)
            with np.errstate(divide="ignore", invalid="ignore"):
                tau = np.clip(
                    np.where(vv > 0, -np.einsum("ij,ij->i", dr, dv) / vv, 0.0), -half, half
                )
            dmin = np.linalg.norm(dr + dv * tau[:, None], axis=1)
            tol = (
                threshold
                + pad[a]
                + pad[b]
                + 0.5 * _pairs.TIDE * (np.sqrt(d2) + np.sqrt(vv) * half) * half * half
            )
            ok = (
                (d2 <= limit**2)
                & (np.abs(rho[a] - rho[b]) <= threshold + radial[a] + radial[b])
                & (dmin <= tol)
            )
            si.append(a[ok])
            sj.append(b[ok])
            st.append(t_mid + tau[ok])
    return np.concatenate(si), np.concatenate(sj), np.concatenate(st)


def _sorted(i: npt.NDArray[np.int64], j: npt.NDArray[np.int64], t: F64) -> tuple[F64, ...]:
    order = np.lexsort((t, j, i))
    return i[order], j[order], t[order]


@pytest.mark.parametrize(
    ("knot_s", "step_s", "threshold", "huge_pad"),
    [
        (120.0, 60.0, 5.0, 0.0),
        (120.0, 60.0, 40.0, 0.0),
        (180.0, 60.0, 5.0, 0.0),
        (300.0, 60.0, 5.0, 0.0),
        (60.0, 20.0, 5.0, 0.0),
        (240.0, 120.0, 5.0, 0.0),
        (120.0, 60.0, 5.0, 3000.0),  # wide objects' radii span more cells than are occupied
    ],
)
def test_compiled_search_gives_the_reference_seeds(
    knot_s: float, step_s: float, threshold: float, huge_pad: float
) -> None:
    cat = catalog.Catalog.concat([_catalog(), catalog.build(_eccentric()).catalog])
    sats, status = catalog.satrecs(cat)
    jd0, fr0 = catalog.julian(START)
    knot_t = np.arange(-knot_s, 14 * knot_s, knot_s)
    st, r, v = screen.propagate(sats, jd0, fr0, knot_t)
    assert (st != 0).sum() == 1  # the decaying object fails inside the window
    pad = screen._static_pad(cat, knot_s, step_s)
    pad[::7] += 30.0  # large pads: more wide objects, bands wider than the grid's usual
    pad[3] += huge_pad
    valid = status != catalog.STATUS_BAD_ELEMENTS
    per = round(knot_s / step_s)
    taus = (np.arange(per) + 0.5) / per
    cpos, cvel = screen._hermite(taus, knot_s)
    window = 11 * knot_s + 1.0  # the last knots are beyond the window: skipped
    everyone = np.zeros(0, dtype=bool)
    got = _pairs.search_block(
        r, v, valid, pad, knot_t, taus, cpos, cvel, knot_s, step_s, window, threshold, everyone
    )
    want = _reference(r, v, valid, pad, knot_t, taus, knot_s, step_s, window, threshold)
    assert len(want[0]) > 200
    got, want = _sorted(*got), _sorted(*want)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    np.testing.assert_allclose(got[2], want[2], rtol=0, atol=1e-9)
    # With primaries (the busiest objects, a wide one, an eccentric one): the same seeds of
    # the pairs that involve one, and no others.
    busy = np.bincount(np.concatenate([want[0], want[1]]), minlength=len(cat))
    flags = np.zeros(len(cat), dtype=bool)
    flags[np.argsort(busy)[::-1][:3]] = True
    flags[[3, len(cat) - 5]] = True
    mine = _pairs.search_block(
        r, v, valid, pad, knot_t, taus, cpos, cvel, knot_s, step_s, window, threshold, flags
    )
    keep = flags[want[0]] | flags[want[1]]
    assert 0 < keep.sum() < len(keep)
    mine = _sorted(*mine)
    np.testing.assert_array_equal(mine[0], want[0][keep])
    np.testing.assert_array_equal(mine[1], want[1][keep])
    np.testing.assert_allclose(mine[2], want[2][keep], rtol=0, atol=1e-9)


def test_compiled_search_on_an_empty_or_dead_catalog() -> None:
    taus = np.array([0.5])
    cpos, cvel = screen._hermite(taus, 60.0)
    for n in (0, 3):
        r = np.full((n, 3, 3), np.nan)
        v = np.full((n, 3, 3), np.nan)
        i, j, t = _pairs.search_block(
            r, v, np.ones(n, bool), np.ones(n), np.array([0.0, 60.0, 120.0]), taus, cpos, cvel,
            60.0, 60.0, 120.0, 5.0, np.zeros(0, dtype=bool),
        )  # fmt: skip
        assert len(i) == len(j) == len(t) == 0
        i, j, t = _pairs.search_block(
            r, v, np.ones(n, bool), np.ones(n), np.array([0.0, 60.0, 120.0]), taus, cpos, cvel,
            60.0, 60.0, 120.0, 5.0, np.ones(n, dtype=bool),
        )  # fmt: skip
        assert len(i) == len(j) == len(t) == 0
