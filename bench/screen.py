"""Full-catalog screening: wall time, CPU time, peak RSS, events, and the propagation floor.

    .venv/bin/python bench/screen.py --scenario real --hours 24 --workers 2
    .venv/bin/python bench/screen.py --scenario 30k --hours 24 --workers 2
    .venv/bin/python bench/screen.py --all            # the scenarios of docs/benchmarks.md
    .venv/bin/python bench/screen.py --scenario 100k --hours 24 --dask   # and on Dask
    .venv/bin/python bench/screen.py --primary 25544 --hours 168 --workers 1
    .venv/bin/python bench/screen.py --primary 25544,49157 --hours 24 --check  # = all-vs-all's

``real`` is the 15,450-object CelesTrak "active" catalog of 2026-05 (epochs 2026-05-19/20),
screened from 2026-05-20T00:00Z. ``30k`` adds a synthetic debris population of 14,550 objects
(:func:`synthetic_debris`, documented there) to reach 30,000, ``100k`` the same population
scaled to 84,550 to reach 100,000. Threshold 5 km.

The *floor* is the time to propagate the screening knots alone (SGP4 ``SatrecArray`` at every
``knot_s``, in the same chunks and blocks as :func:`~kizuna.space.screening.screen_parallel`
screens them, on the same number of processes, nothing else): screening can never be faster
than that. The ratio wall(screen) / wall(floor) is printed.

CPU time counts this process and its worker processes; peak RSS is the largest of this process
and of any worker (each worker holds one chunk). The machine is shared: other engineers' jobs
run alongside, so wall times are noisy and CPU time is the steadier number.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import resource
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from kizuna.space import catalog, screening
from kizuna.space.formats.omm import ElementSet
from kizuna.space.screening import near_primaries, plan_chunks, propagate, screen_parallel

REAL = Path("/work/shared/data/space/tle/celestrak-active-2026-05.tle")
START = datetime(2026, 5, 20, tzinfo=UTC)
MU = 398600.8
RE = 6378.135
CHUNK_HOURS = 12.0  # screen_parallel's default

# Fragmentation clouds: (name, count, parent altitude km, parent inclination deg, median dv m/s).
CLOUDS = [
    ("FENGYUN 1C DEB", 3400, 850.0, 98.8, 60.0),
    ("COSMOS 2251 DEB", 1700, 790.0, 74.0, 50.0),
    ("IRIDIUM 33 DEB", 650, 790.0, 86.4, 50.0),
    ("COSMOS 1408 DEB", 1500, 480.0, 82.6, 40.0),
    ("NOAA 16 DEB", 450, 850.0, 99.0, 40.0),
    ("DMSP F13 DEB", 250, 850.0, 98.8, 40.0),
]
# Background: old rocket bodies and mission debris, inclination families of the real catalog.
BACKGROUND = 6200
BACKGROUND_INCLINATIONS = [28.5, 51.6, 65.0, 71.0, 74.0, 81.2, 82.9, 97.8, 98.7]
GTO = 400


def synthetic_debris(n_total: int, seed: int = 2026) -> list[ElementSet]:
    """A realistic synthetic debris population, scaled to *n_total* objects.

    Six fragmentation clouds (Fengyun-1C, Cosmos 2251, Iridium 33, Cosmos 1408, NOAA 16,
    DMSP F13) at their parents' altitude and inclination: each fragment leaves its parent's
    circular orbit with an isotropic velocity change (log-normal magnitude, median 40-60 m/s),
    which sets its semi-major axis, eccentricity and inclination by two-body mechanics; years
    of differential J2 precession make RAAN, argument of perigee and mean anomaly uniform.
    Plus a background of rocket bodies and mission debris (600-1500 km, the inclination
    families of the real catalog, eccentricity exponential with mean 0.01) and GTO debris
    (perigee 250-600 km, apogee near GEO, inclination 7-28 deg). Fragments with perigee below
    300 km (decayed) are redrawn. BSTAR 1e-4 .. 1e-3 (log-uniform). Epoch: 2026-05-20T00:00Z.
    """
    rng = np.random.default_rng(seed)
    base = sum(c[1] for c in CLOUDS) + BACKGROUND + GTO
    scale = n_total / base
    a_list: list[float] = []
    e_list: list[float] = []
    i_list: list[float] = []
    names: list[str] = []
    for name, count, alt, inc, dv in CLOUDS:
        k = round(count * scale)
        got = 0
        while got < k:
            m = k - got
            r = RE + alt
            v = math.sqrt(MU / r)
            ir = math.radians(inc)
            vel = np.column_stack(
                [np.zeros(m), np.full(m, v * math.cos(ir)), np.full(m, v * math.sin(ir))]
            )
            mag = rng.lognormal(math.log(dv / 1000.0), 0.7, m)
            d = rng.normal(size=(m, 3))
            vel += d / np.linalg.norm(d, axis=1)[:, None] * mag[:, None]
            pos = np.array([r, 0.0, 0.0])
            h = np.cross(pos, vel)
            speed2 = np.einsum("ij,ij->i", vel, vel)
            a = 1.0 / (2.0 / r - speed2 / MU)
            evec = np.cross(vel, h) / MU - pos / r
            e = np.linalg.norm(evec, axis=1)
            i = np.degrees(np.arccos(h[:, 2] / np.linalg.norm(h, axis=1)))
            keep = np.flatnonzero((a * (1 - e) > RE + 300.0) & (e < 0.2))[:m]
            a_list += a[keep].tolist()
            e_list += e[keep].tolist()
            i_list += i[keep].tolist()
            names += [name] * len(keep)
            got += len(keep)
    for _ in range(round(BACKGROUND * scale)):
        alt = rng.uniform(600.0, 1500.0)
        e = min(rng.exponential(0.01), 0.1)
        a_list.append((RE + alt) / (1.0 - e))  # perigee at altitude alt
        e_list.append(e)
        i_list.append(float(rng.choice(BACKGROUND_INCLINATIONS)) + rng.normal(0, 0.3))
        names.append("BACKGROUND DEB")
    for _ in range(round(GTO * scale)):
        rp, ra = RE + rng.uniform(250.0, 600.0), RE + rng.uniform(30000.0, 36500.0)
        a_list.append((rp + ra) / 2)
        e_list.append((ra - rp) / (ra + rp))
        i_list.append(rng.uniform(7.0, 28.0))
        names.append("GTO DEB")
    out = []
    for k in range(min(len(a_list), n_total)):
        a = a_list[k]
        mean_motion = math.sqrt(MU / a**3) * 86400.0 / (2.0 * math.pi)
        out.append(
            ElementSet(
                norad_cat_id=800_000 + k,
                epoch=START,
                mean_motion=mean_motion,
                eccentricity=e_list[k],
                inclination=min(max(i_list[k], 0.0), 180.0),
                ra_of_asc_node=rng.uniform(0, 360),
                arg_of_pericenter=rng.uniform(0, 360),
                mean_anomaly=rng.uniform(0, 360),
                bstar=10 ** rng.uniform(-4, -3),
                object_name=names[k],
                object_type="DEBRIS",
            )
        )
    return out


def load(scenario: str) -> catalog.Catalog:
    records = catalog.read(REAL.read_text(), source=REAL.name).records
    if scenario in SIZES:
        records = records + synthetic_debris(SIZES[scenario] - len(records))
    return catalog.build(records).catalog


#: Synthetic scenarios: the real catalog plus synthetic_debris up to this many objects.
SIZES = {"30k": 30_000, "100k": 100_000}


def _floor_chunk(
    cat: catalog.Catalog, start: datetime, span: tuple[float, float], knot_s: float
) -> int:
    """Propagate the knots of one chunk's span, in the blocks screening uses; nothing else."""
    sats, _ = catalog.satrecs(cat)
    jd0, fr0 = catalog.julian(start + timedelta(seconds=span[0]))
    knots = np.arange(-knot_s, span[1] - span[0] + 2 * knot_s, knot_s)
    block = 60  # knot intervals per block, as kizuna.space.screening.screen does
    for b in range(0, len(knots) - 1, block):
        propagate(sats, jd0, fr0, knots[b : b + block + 1])
    return len(knots)


def _cpu() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _pool(workers: int) -> ProcessPoolExecutor:
    # fork: the workers are this process's children, so their CPU time and peak RSS are
    # counted by RUSAGE_CHILDREN once the pool is shut down.
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))


def floor(cat: catalog.Catalog, hours: float, workers: int, knot_s: float, step_s: float) -> float:
    with _pool(workers) as pool:
        t = time.perf_counter()
        plan = plan_chunks(hours, workers, CHUNK_HOURS, knot_s, step_s)
        futures = [pool.submit(_floor_chunk, cat, START, span, knot_s) for _, span in plan]
        for f in futures:
            f.result()
        return time.perf_counter() - t


def run(
    scenario: str, hours: float, workers: int, knot_s: float, step_s: float, dask: bool = False
) -> None:
    cat = load(scenario)
    floor_s = floor(cat, hours, workers, knot_s, step_s)
    c0 = _cpu()
    t0 = time.perf_counter()
    with _pool(workers) as pool:
        result = screen_parallel(
            cat,
            START,
            hours,
            5.0,
            workers=workers,
            chunk_hours=CHUNK_HOURS,
            knot_s=knot_s,
            step_s=step_s,
            executor=pool,
        )
        wall = time.perf_counter() - t0
    cpu = _cpu() - c0
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    rss = max(me.ru_maxrss, kids.ru_maxrss) / 1024.0
    failed = int((result.status != 0).sum())
    print(
        f"{scenario:>5} {len(cat):>6} objects {hours:>5g} h: wall {wall:7.1f} s, "
        f"CPU {cpu:7.1f} s, peak RSS {rss:6.0f} MB/process, "
        f"events {len(result):>7}, proximity pairs {len(result.proximity)}, "
        f"not propagated {failed}, floor {floor_s:6.1f} s, ratio {wall / floor_s:4.1f}x",
        flush=True,
    )
    if dask:
        import distributed

        with distributed.LocalCluster(
            n_workers=workers, threads_per_worker=1, dashboard_address=None
        ) as cluster:
            t0 = time.perf_counter()
            other = screen_parallel(
                cat, START, hours, 5.0, scheduler=cluster.scheduler_address,
                chunk_hours=CHUNK_HOURS, knot_s=knot_s, step_s=step_s,
            )  # fmt: skip
            dask_wall = time.perf_counter() - t0
        same = (
            np.array_equal(other.object1, result.object1)
            and np.array_equal(other.object2, result.object2)
            and np.allclose(other.tca_s, result.tca_s, atol=1e-6, rtol=0.0)
            and np.allclose(other.miss_km, result.miss_km, atol=1e-9, rtol=0.0)
            and other.proximity.pairs() == result.proximity.pairs()
        )
        print(
            f"  Dask LocalCluster ({workers} workers): wall {dask_wall:7.1f} s, "
            f"events {len(other)}, identical events and proximity pairs: {same}",
            flush=True,
        )


def _keys(result: screening.ScreenResult, numbers: set[int]) -> list[tuple[int, int, float]]:
    return sorted(
        (int(a), int(b), round(float(t), 4))
        for a, b, t in zip(result.object1, result.object2, result.tca_s, strict=True)
        if a in numbers or b in numbers
    )


def run_primary(
    scenario: str, primaries: list[int], hours: float, workers: int, check: bool
) -> None:
    """One or a few primaries against the catalog: the wall time of screen_parallel (its
    filter included, also timed alone); with *check*, the all-vs-all run's events of the
    primaries too."""
    cat = load(scenario)
    t0 = time.perf_counter()
    rows, _ = near_primaries(cat, primaries, START, hours, 5.0)
    filtered = time.perf_counter() - t0
    c0, t0 = _cpu(), time.perf_counter()
    with _pool(workers) as pool:
        result = screen_parallel(
            cat, START, hours, 5.0, workers=workers, primaries=primaries,
            executor=pool if workers > 1 else None,
        )  # fmt: skip
        wall = time.perf_counter() - t0  # the filter included
    cpu = _cpu() - c0
    print(
        f"{scenario:>5} {len(cat):>6} objects, primaries {primaries}, {hours:g} h, "
        f"{workers} worker(s): wall {wall:6.1f} s (filter {filtered:.2f} s, {len(rows)} kept), "
        f"CPU {cpu:6.1f} s, events {len(result)}, proximity pairs {len(result.proximity)}",
        flush=True,
    )
    if check:
        whole = screen_parallel(cat, START, hours, 5.0, workers=workers)
        numbers = set(primaries)
        same = _keys(whole, numbers) == _keys(result, numbers)
        near = {
            (int(a), int(b))
            for a, b in zip(whole.proximity.object1, whole.proximity.object2, strict=True)
            if a in numbers or b in numbers
        }
        mine = set(
            zip(result.proximity.object1.tolist(), result.proximity.object2.tolist(), strict=True)
        )
        print(
            f"  all-vs-all: {len(_keys(whole, numbers))} events of the primaries, "
            f"same events: {same}, same proximity pairs: {near == mine}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", choices=["real", "30k", "100k"], default="real")
    parser.add_argument(
        "--dask", action="store_true", help="also on a Dask LocalCluster of --workers workers"
    )
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--knot-s", type=float, default=300.0)
    parser.add_argument("--step-s", type=float, default=60.0)
    parser.add_argument("--all", action="store_true", help="real and 30k x 24 h, 30k x 7 days")
    parser.add_argument("--primary", default=None, help="NORAD[,NORAD...]: one against all")
    parser.add_argument("--check", action="store_true", help="with --primary: all-vs-all too")
    args = parser.parse_args()
    if args.primary:
        numbers = [int(x) for x in args.primary.split(",")]
        run_primary(args.scenario, numbers, args.hours, args.workers, args.check)
        return
    if args.all:
        for scenario, hours in (("real", 24.0), ("30k", 24.0), ("30k", 168.0)):
            subprocess.run(
                [sys.executable, __file__, "--scenario", scenario, "--hours", str(hours),
                 "--workers", str(args.workers), "--knot-s", str(args.knot_s),
                 "--step-s", str(args.step_s)],
                check=True,
            )  # fmt: skip
        return
    run(args.scenario, args.hours, args.workers, args.knot_s, args.step_s, args.dask)


if __name__ == "__main__":
    main()
