"""Throughput of the vectorized 2D Pc against a per-event scipy dblquad baseline.

    .venv/bin/python bench/pc.py --events 1000000 --baseline 200

Synthetic high-speed LEO encounters (random geometry, covariances from metres to kilometres,
HBR 1-40 m). The vectorized path is the full :func:`kizuna.space.probability.pc_2d` (RTN->ECI
rotation, encounter plane, eigen-decomposition, quadrature) on one process; the baseline projects the
same events and integrates the 2D Gaussian over the disk with ``scipy.integrate.dblquad``, one
event at a time. Prints events/s for both, the ratio, and the largest relative difference on
the baseline sample. Timings on a shared machine are noisy; the ratio is what holds.
"""

from __future__ import annotations

import argparse
import math
import os
import time

import numpy as np
from scipy import integrate, stats

from kizuna.space.probability import pc_2d, rtn_to_eci


def synthetic(n: int, seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    r1 = rng.normal(size=(n, 3))
    r1 *= (6.9e6 / np.linalg.norm(r1, axis=1))[:, None]
    v1 = np.cross(r1, rng.normal(size=(n, 3)))
    v1 *= (7.5e3 / np.linalg.norm(v1, axis=1))[:, None]
    dv = rng.normal(0, 8e3, (n, 3))
    perp = np.cross(dv, rng.normal(size=(n, 3)))
    dr = perp / np.linalg.norm(perp, axis=1)[:, None] * (10 ** rng.uniform(0, 3.5, n))[:, None]
    sig = 10 ** rng.uniform(0, 3, (n, 2, 3))
    c1 = np.zeros((n, 3, 3))
    c2 = np.zeros((n, 3, 3))
    idx = np.arange(3)
    c1[:, idx, idx] = sig[:, 0] ** 2
    c2[:, idx, idx] = sig[:, 1] ** 2
    hbr = rng.uniform(1, 40, n)
    return r1, v1, c1, r1 - dr, v1 - dv, c2, hbr


def dblquad_pc(r1, v1, c1, r2, v2, c2, hbr) -> float:  # type: ignore[no-untyped-def]
    cov = rtn_to_eci(c1[None], r1[None], v1[None])[0] + rtn_to_eci(c2[None], r2[None],
                                                                   v2[None])[0]
    dr, dv = r1 - r2, v1 - v2
    y = dv / np.linalg.norm(dv)
    x = dr - y * (dr @ y)
    x /= np.linalg.norm(x)
    basis = np.array([x, np.cross(x, y)])
    mean = basis @ dr
    pdf = stats.multivariate_normal(mean=np.zeros(2), cov=basis @ cov @ basis.T).pdf
    val, _ = integrate.dblquad(lambda zz, xx: pdf([mean[0] + xx, mean[1] + zz]), -hbr, hbr,
                               lambda xx: -math.sqrt(max(hbr * hbr - xx * xx, 0.0)),
                               lambda xx: math.sqrt(max(hbr * hbr - xx * xx, 0.0)),
                               epsabs=1e-14, epsrel=1e-8)
    return float(val)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--baseline", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    events = synthetic(args.events, args.seed)
    t0 = time.perf_counter()
    res = pc_2d(*events)
    vec_s = time.perf_counter() - t0
    sample = synthetic(args.baseline, args.seed + 1)
    t0 = time.perf_counter()
    ref = np.array([dblquad_pc(*(a[i] for a in sample[:6]), float(sample[6][i]))
                    for i in range(args.baseline)])
    base_s = time.perf_counter() - t0
    ours = pc_2d(*sample).pc
    big = ref > 1e-12
    worst = float(np.max(np.abs(ours[big] - ref[big]) / ref[big])) if big.any() else 0.0
    vec_rate, base_rate = args.events / vec_s, args.baseline / base_s
    print(f"cpus visible: {os.cpu_count()}, numpy {np.__version__}")
    print(f"vectorized pc_2d: {args.events:,} events in {vec_s:.2f} s = {vec_rate:,.0f} events/s"
          f" (statuses: {np.bincount(res.status.astype(int)).tolist()})")
    print(f"dblquad baseline: {args.baseline:,} events in {base_s:.2f} s = "
          f"{base_rate:,.1f} events/s")
    print(f"ratio: {vec_rate / base_rate:,.0f}x; max relative difference on the sample "
          f"({int(big.sum())} events with Pc > 1e-12): {worst:.1e}")


if __name__ == "__main__":
    main()
