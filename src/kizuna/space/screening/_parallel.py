"""Screening in parallel: the window cut into time chunks, each screened in its own process.

SGP4's ``SatrecArray`` holds the GIL, so parallel screening needs processes. The same code runs
on a local ``concurrent.futures.ProcessPoolExecutor`` or, given a scheduler address
(``tcp://host:8786``), on a Dask cluster through its ``concurrent.futures``-compatible
executor. Each chunk is screened over its own interval widened by an overlap on both sides and
keeps only the events whose TCA falls in its own interval; the merge then drops the rare event
that two chunks both claim (same pair, TCA within 10 ms).

>>> _chunks(24.0, 4)
[(0.0, 21600.0), (21600.0, 43200.0), (43200.0, 64800.0), (64800.0, 86400.0)]
"""

from __future__ import annotations

import importlib
import itertools
import multiprocessing
import os
import socket
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from kizuna.space.catalog import Catalog
from kizuna.space.screening._primary import near_primaries
from kizuna.space.screening._proximity import combine
from kizuna.space.screening._screen import (
    EVENT_ARRAYS,
    ScreenResult,
    drop_together,
    screen_span,
)
from kizuna.space.screening._trajectory import Ephemeris

__all__ = [
    "SMALL_JOB_OBJECT_HOURS",
    "default_workers",
    "merge",
    "plan_chunks",
    "screen_parallel",
]

_ARRAYS = EVENT_ARRAYS


def _chunks(hours: float, count: int) -> list[tuple[float, float]]:
    """*count* consecutive intervals (seconds from the start) covering the window."""
    total = hours * 3600.0
    edges = np.linspace(0.0, total, count + 1)
    return [(float(a), float(b)) for a, b in itertools.pairwise(edges)]


def plan_chunks(
    hours: float, workers: int, chunk_hours: float, knot_s: float, step_s: float
) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """Each chunk's own interval and the span screened for it (the interval widened by two
    knots on both sides, within the window), in seconds from the start."""
    count = max(workers, int(np.ceil(hours / chunk_hours)))
    overlap = 2.0 * max(knot_s, step_s)
    intervals = _chunks(hours, count)
    return [
        ((a, b), (max(a - overlap, 0.0), b + overlap if k < count - 1 else b))
        for k, (a, b) in enumerate(intervals)
    ]


def _run_chunk(
    catalog: Catalog,
    start: datetime,
    interval: tuple[float, float],
    span: tuple[float, float],
    last: bool,
    threshold_km: float,
    knot_s: float,
    step_s: float,
    primary: npt.NDArray[np.bool_] | None = None,
    trajectories: Mapping[int, Ephemeris] | None = None,
) -> ScreenResult:
    """Screen one chunk's *span*; keep the events whose TCA is in its interval."""
    a, b = interval
    lo, hi = span
    cpu = time.process_time()
    result = screen_span(
        catalog,
        start + timedelta(seconds=lo),
        (hi - lo) / 3600.0,
        threshold_km,
        knot_s=knot_s,
        step_s=step_s,
        primary=primary,
        trajectories=trajectories,
    )
    tca = result.tca_s + lo
    keep = (tca >= a) & ((tca <= b) if last else (tca < b))
    values: dict[str, Any] = {name: getattr(result, name)[keep] for name in _ARRAYS}
    values["tca_s"] = tca[keep]
    return ScreenResult(
        start=start,
        hours=(b - a) / 3600.0,
        threshold_km=threshold_km,
        knot_s=knot_s,
        step_s=step_s,
        status=result.status,
        proximity=result.proximity.shifted(lo),
        cpu_s=time.process_time() - cpu,
        process_cpu=((_process_key(), time.process_time()),),
        **values,
    )


def merge(
    parts: Iterable[ScreenResult], start: datetime, hours: float, threshold_km: float
) -> ScreenResult:
    """One result from chunk results (TCAs relative to the same *start*), sorted by TCA, with
    duplicates (same pair, TCA within 10 ms) dropped and the first failure status kept. The
    pairs together in every chunk are the proximity pairs; their events are dropped. CPU time
    is the chunks' sum."""
    items = sorted(parts, key=lambda p: float(p.tca_s.min()) if len(p) else float("inf"))
    if not items:
        raise ValueError("nothing to merge")
    status = np.zeros_like(items[0].status)
    for p in items:
        fresh = (status == 0) & (p.status != 0)
        status[fresh] = p.status[fresh]
    values: dict[str, Any] = {
        name: np.concatenate([getattr(p, name) for p in items]) for name in _ARRAYS
    }
    order = np.lexsort((values["tca_s"], values["object2"], values["object1"]))
    values = {k: v[order] for k, v in values.items()}
    t, o1, o2 = values["tca_s"], values["object1"], values["object2"]
    dup = np.zeros(len(t), dtype=bool)
    dup[1:] = (o1[1:] == o1[:-1]) & (o2[1:] == o2[:-1]) & (np.diff(t) < 1e-2)
    values = {k: v[~dup] for k, v in values.items()}
    order = np.argsort(values["tca_s"], kind="stable")
    values = {k: v[order] for k, v in values.items()}
    merged = ScreenResult(
        start=start,
        hours=hours,
        threshold_km=threshold_km,
        knot_s=items[0].knot_s,
        step_s=items[0].step_s,
        status=status,
        proximity=combine([p.proximity for p in items]),
        cpu_s=sum(p.cpu_s for p in items),
        process_cpu=_latest(p.process_cpu for p in items),
        **values,
    )
    return drop_together(merged)


def _latest(entries: Iterable[tuple[tuple[str, float], ...]]) -> tuple[tuple[str, float], ...]:
    """The largest CPU figure of each process (its latest)."""
    best: dict[str, float] = {}
    for group in entries:
        for key, cpu in group:
            best[key] = max(best.get(key, 0.0), cpu)
    return tuple(sorted(best.items()))


def _executor(workers: int, scheduler: str | None) -> tuple[Executor, Callable[[], None]]:
    if scheduler:
        try:
            distributed: Any = importlib.import_module("distributed")
        except ImportError as exc:  # pragma: no cover - dask is an optional dependency
            raise RuntimeError(
                "--scheduler needs Dask: pip install 'kizuna[dask]' (dask and distributed)"
            ) from exc
        client = distributed.Client(scheduler)
        executor: Executor = client.get_executor()
        return executor, client.close
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("forkserver"))
    return pool, lambda: pool.shutdown(wait=True, cancel_futures=True)


def screen_parallel(
    catalog: Catalog,
    start: datetime,
    hours: float,
    threshold_km: float,
    *,
    workers: int | None = 2,
    scheduler: str | None = None,
    chunk_hours: float = 12.0,
    knot_s: float = 300.0,
    step_s: float = 60.0,
    progress: Callable[[float], None] | None = None,
    executor: Executor | None = None,
    primaries: Sequence[int] | None = None,
    trajectories: Mapping[int, Ephemeris] | None = None,
) -> ScreenResult:
    """:func:`~kizuna.space.screening.screen` over time chunks run in parallel, merged.

    *scheduler* (``tcp://host:port``) runs the chunks on a Dask cluster; otherwise *workers*
    local processes (``forkserver``: a script that calls this needs the usual
    ``if __name__ == "__main__":`` guard), or this process alone when *workers* is 1. An
    *executor* of your own may be passed instead (it is not shut down).
    *progress* is called with the fraction of chunks done. *workers* None chooses by the job's
    size (:func:`default_workers`, over the objects left after the primary filter).

    *primaries* (catalog numbers) screens only the pairs with a primary: the objects that can
    never come near one are left out before anything is propagated (``_primary``), so the
    events are those of the all-vs-all run that involve a primary, at a fraction of its cost.
    Rows and statuses still refer to *catalog* (a row left out has status 0).

    *trajectories* (catalog row -> :class:`~kizuna.space.screening.Ephemeris`) gives those
    rows their states from an ephemeris (an operator's OEM) instead of their elements.

    ``cpu_s`` of the result is the CPU time of this process during the call plus that of every
    other process a chunk ran in (all of it, from the process's start: its imports too).
    """
    c0 = time.process_time()
    if primaries is None:
        result = _screen_chunks(
            catalog, start, hours, threshold_km,
            workers or default_workers(len(catalog), hours), scheduler, chunk_hours, knot_s,
            step_s, progress, executor, None, trajectories,
        )  # fmt: skip
    else:
        rows, primary = near_primaries(catalog, primaries, start, hours, threshold_km, trajectories)
        where = {int(row): k for k, row in enumerate(rows.tolist())}
        moved = {where[row]: t for row, t in (trajectories or {}).items() if row in where}
        count = workers or default_workers(len(rows), hours)
        # One chunk per process: the time filter and the per-object calls pay per chunk.
        sub = _screen_chunks(
            catalog.take(rows), start, hours, threshold_km,
            count, scheduler, max(chunk_hours, hours / count),
            knot_s, step_s, progress, executor, primary, moved,
        )  # fmt: skip
        result = _in_catalog(sub, rows, len(catalog))
    own = _process_key()
    elsewhere = sum(cpu for key, cpu in result.process_cpu if key != own)
    return replace(result, cpu_s=time.process_time() - c0 + elsewhere)


#: Below this many object-hours one process is faster than two: starting a worker and loading
#: the compiled kernel in it costs about 2.5 s of wall time and 1.5 CPU-seconds, and one
#: process screens about 30,000 object-hours per CPU-second (docs/benchmarks.md, "Conjunction
#: screening", bench/screen_workers.py).
SMALL_JOB_OBJECT_HOURS = 150_000.0


def default_workers(objects: int, hours: float) -> int:
    """How many processes to screen *objects* over *hours* with: 1 for a small job; else the
    CPUs that are idle (the CPU count less the load average beyond this process's own), at
    least 1. On a machine that other jobs keep busy, a second worker only waits for a core.

    >>> default_workers(1000, 6.0)
    1
    >>> 1 <= default_workers(15_450, 24.0) <= (os.cpu_count() or 1)
    True
    """
    cpus = os.cpu_count() or 1
    if objects * hours < SMALL_JOB_OBJECT_HOURS or cpus == 1:
        return 1
    try:
        busy = max(os.getloadavg()[0] - 1.0, 0.0)
    except OSError:  # pragma: no cover - no load average on this platform
        busy = 0.0
    return max(1, min(cpus, int(cpus - busy + 0.5)))


def _process_key() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _in_catalog(result: ScreenResult, rows: npt.NDArray[np.int64], n: int) -> ScreenResult:
    """*result* of the catalog's *rows* with its rows and statuses turned into the catalog's."""
    status = np.zeros(n, dtype=result.status.dtype)
    status[rows] = result.status
    near = result.proximity
    return replace(
        result,
        row1=rows[result.row1],
        row2=rows[result.row2],
        status=status,
        proximity=replace(near, row1=rows[near.row1], row2=rows[near.row2]),
    )


def _screen_chunks(
    catalog: Catalog,
    start: datetime,
    hours: float,
    threshold_km: float,
    workers: int,
    scheduler: str | None,
    chunk_hours: float,
    knot_s: float,
    step_s: float,
    progress: Callable[[float], None] | None,
    executor: Executor | None,
    primary: npt.NDArray[np.bool_] | None,
    trajectories: Mapping[int, Ephemeris] | None,
) -> ScreenResult:
    plan = plan_chunks(hours, workers, chunk_hours, knot_s, step_s)
    count = len(plan)
    if executor is None and scheduler is None and workers == 1:
        parts = []
        for k, (interval, span) in enumerate(plan):
            last = k == count - 1
            parts.append(
                _run_chunk(
                    catalog,
                    start,
                    interval,
                    span,
                    last,
                    threshold_km,
                    knot_s,
                    step_s,
                    primary,
                    trajectories,
                )
            )
            if progress is not None:
                progress((k + 1) / count)
        return merge(parts, start, hours, threshold_km)
    owned = executor is None
    close: Callable[[], None] = lambda: None  # noqa: E731
    if executor is None:
        executor, close = _executor(workers, scheduler)
    try:
        payload: Any = catalog
        if scheduler and owned:
            payload = executor._client.scatter(catalog, broadcast=True)  # type: ignore[attr-defined]
        futures: list[Future[ScreenResult]] = [
            executor.submit(
                _run_chunk,
                payload,
                start,
                interval,
                span,
                k == count - 1,
                threshold_km,
                knot_s,
                step_s,
                primary,
                trajectories,
            )
            for k, (interval, span) in enumerate(plan)
        ]
        parts = []
        for done, future in enumerate(as_completed(futures), start=1):
            parts.append(future.result())
            if progress is not None:
                progress(done / count)
    finally:
        close()
    return merge(parts, start, hours, threshold_km)
