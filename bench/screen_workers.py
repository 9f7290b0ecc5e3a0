"""One worker process against two, by job size: where ``--workers``' default switches.

    .venv/bin/python bench/screen_workers.py

Subsets of the real catalog (every k-th object) over 6 to 24 h, ``screen_parallel`` with 1 and
then 2 workers (``forkserver``, as the CLI runs it: worker start-up counted), twice each for the
small sizes. CPU is ``ScreenResult.cpu_s`` (every process). Prints the load average before
each size: on a shared machine it decides more than the size does.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime

from kizuna.space import catalog, screening

REAL = "/work/shared/data/space/tle/celestrak-active-2026-05.tle"
SIZES = ((1000, 6.0), (4000, 6.0), (8000, 6.0), (15_450, 6.0), (15_450, 12.0), (15_450, 24.0))


def main() -> None:
    with open(REAL, encoding="utf-8") as fh:
        full = catalog.build(catalog.read(fh.read()).records).catalog
    for n, hours in SIZES:
        cat = full.take(list(range(0, len(full), len(full) // n))[:n])
        print(f"{n} objects x {hours:g} h, load average {os.getloadavg()[0]:.1f}", flush=True)
        for workers in (1, 2) * (2 if n * hours < 50_000 else 1):
            t0 = time.perf_counter()
            result = screening.screen_parallel(
                cat, datetime(2026, 5, 20, tzinfo=UTC), hours, 5.0, workers=workers
            )
            print(
                f"  {workers} worker(s): wall {time.perf_counter() - t0:6.2f} s, "
                f"CPU {result.cpu_s:6.2f} s, events {len(result)}",
                flush=True,
            )


if __name__ == "__main__":
    main()
