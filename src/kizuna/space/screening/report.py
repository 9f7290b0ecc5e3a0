"""The screening CSV: one row per event under :data:`CSV_HEADER`, TCA with milliseconds."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TextIO

from kizuna.space.screening._screen import ScreenResult

__all__ = ["CSV_HEADER", "format_tca", "write_csv"]

#: The CSV header users' scripts rely on; do not change it.
CSV_HEADER = (
    "object1",
    "object2",
    "tca",
    "miss_km",
    "relative_speed_kms",
    "miss_r_km",
    "miss_t_km",
    "miss_n_km",
    "pc",
)


def format_tca(start: datetime, seconds: float) -> str:
    """An instant *seconds* after *start* as ISO 8601 UTC with milliseconds.

    >>> format_tca(datetime(2026, 5, 20, tzinfo=UTC), 11045.1234)
    '2026-05-20T03:04:05.123Z'
    """
    when = start.astimezone(UTC) + timedelta(milliseconds=round(seconds * 1000.0))
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def write_csv(result: ScreenResult, out: TextIO, pc: Sequence[float | None] | None = None) -> None:
    """One row per event under :data:`CSV_HEADER`; *pc* (per event) when known."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for k in range(len(result)):
        p = pc[k] if pc is not None else None
        r, t, n = result.miss_rtn_km[k]
        writer.writerow(
            [
                int(result.object1[k]),
                int(result.object2[k]),
                format_tca(result.start, float(result.tca_s[k])),
                f"{result.miss_km[k]:.6f}",
                f"{result.relative_speed_kms[k]:.6f}",
                f"{r:.6f}",
                f"{t:.6f}",
                f"{n:.6f}",
                "" if p is None else f"{p:.6e}",
            ]
        )
