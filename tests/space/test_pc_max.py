"""The maximum Pc: an upper bound of every covariance's Pc, and reached by the thinnest ones."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize

from kizuna.space.probability import pc_max
from kizuna.space.probability._2d import _disk_integral


def _pc(d: float, r: float, log_sx: float, log_sz: float, theta: float) -> float:
    """The 2D Pc of miss d, HBR r for the covariance with principal sigmas and orientation."""
    sx, sz = math.exp(log_sx), math.exp(log_sz)
    a = lambda v: np.array([v])  # noqa: E731
    xm, zm = abs(d * math.cos(theta)), abs(d * math.sin(theta))
    return float(_disk_integral(a(xm), a(zm), a(sx), a(sz), a(r))[0])


def test_no_covariance_beats_the_bound_and_thin_ones_reach_it() -> None:
    rng = np.random.default_rng(7)
    for _ in range(12):
        d = float(10 ** rng.uniform(1, 4))
        r = float(d * 10 ** rng.uniform(-3, -0.05))
        bound = float(pc_max(d, r)[0])
        best = 0.0
        for start in ((math.log(d), math.log(d), 0.0), (math.log(d), math.log(d) - 4, 0.1)):
            res = optimize.minimize(
                lambda p, d=d, r=r: -_pc(d, r, p[0], max(p[1], p[0] - 9.0), p[2]),
                start,
                method="Nelder-Mead",
                options={"xatol": 1e-6, "fatol": 1e-14, "maxiter": 4000},
            )
            best = max(best, -float(res.fun))
        for sx, sz, th in rng.uniform([0.0, 0.0, 0.0], [2 * d, 2 * d, math.pi], (200, 3)):
            assert _pc(d, r, math.log(sx + 1e-9), math.log(sz + 1e-9), th) <= bound * (1 + 1e-4)  # the quadrature: ~1e-5 for the thinnest
        assert best <= bound * (1 + 1e-4)
        assert best >= 0.98 * bound, (d, r, best, bound)


def test_the_small_radius_limit_and_the_edges() -> None:
    phi1 = math.exp(-0.5) / math.sqrt(2 * math.pi)  # the normal density at 1 sigma
    assert float(pc_max(1e5, 1.0)[0]) == pytest.approx(2 * phi1 * 1e-5, rel=1e-6)
    spherical = 1.0**2 / (math.e * 1e5**2)  # the largest Pc of a round covariance
    assert spherical < float(pc_max(1e5, 1.0)[0])
    got = pc_max([0.0, 5.0, 10.0, 1.0, np.nan, -1.0, 1.0], [1.0, 5.0, 0.0, np.inf, 1.0, 1.0, -2.0])
    assert got[:3].tolist() == [1.0, 1.0, 0.0] and np.isnan(got[3:]).all()
