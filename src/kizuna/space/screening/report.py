"""The screening CSV (one row per event under :data:`CSV_COLUMNS`, TCA with milliseconds) and
JSON lines (one object per event, full precision, TCA to the microsecond).

Beside the nine columns of :data:`CSV_HEADER` each event gets ``pc_max``, the largest Pc any
covariance could give its miss distance and hard-body radius
(:func:`kizuna.space.probability.pc_max`), its ``kind``, both objects' names and ``max_km``.

``kind`` is ``conjunction`` for a close approach (``tca`` its time of closest approach, ``max_km``
empty) or ``proximity`` for a pair that stays within the threshold over the whole window
(docked modules, formation flyers), written once after the conjunctions: ``tca`` and the miss
columns are those of its least distance, ``max_km`` its greatest.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

from kizuna.space.probability import pc_max
from kizuna.space.screening._screen import ScreenResult, rtn

__all__ = ["CSV_COLUMNS", "CSV_HEADER", "DEFAULT_HBR_M", "format_tca", "write_csv", "write_json"]

#: The combined hard-body radius (m) of pc_max when none is given: two objects of a few metres.
DEFAULT_HBR_M = 10.0

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
#: What the CSV holds: the nine columns, then the ones added after them (appended, never between).
CSV_COLUMNS = (*CSV_HEADER, "pc_max", "kind", "object1_name", "object2_name", "max_km")


def format_tca(start: datetime, seconds: float) -> str:
    """An instant *seconds* after *start* as ISO 8601 UTC with milliseconds.

    >>> format_tca(datetime(2026, 5, 20, tzinfo=UTC), 11045.1234)
    '2026-05-20T03:04:05.123Z'
    """
    when = start.astimezone(UTC) + timedelta(milliseconds=round(seconds * 1000.0))
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _events(
    result: ScreenResult,
    pc: Sequence[float | None] | None,
    names: Sequence[str],
    hbr_m: float,
) -> Iterator[dict[str, Any]]:
    bound = pc_max(result.miss_km * 1e3, hbr_m)
    for k in range(len(result)):
        r, t, n = (float(x) for x in result.miss_rtn_km[k])
        row1, row2 = int(result.row1[k]), int(result.row2[k])
        yield {
            "object1": int(result.object1[k]),
            "object2": int(result.object2[k]),
            "tca_s": float(result.tca_s[k]),
            "miss_km": float(result.miss_km[k]),
            "relative_speed_kms": float(result.relative_speed_kms[k]),
            "miss_rtn_km": (r, t, n),
            "pc": pc[k] if pc is not None else None,
            "pc_max": float(bound[k]),
            "kind": "conjunction",
            "object1_name": names[row1] if row1 < len(names) else "",
            "object2_name": names[row2] if row2 < len(names) else "",
            "max_km": None,
        }
    near = result.proximity
    if not len(near):
        return
    bound = pc_max(near.min_km * 1e3, hbr_m)
    miss_rtn = rtn(near.r1, near.v1, near.miss_km)
    for k in range(len(near)):
        r, t, n = (float(x) for x in miss_rtn[k])
        row1, row2 = int(near.row1[k]), int(near.row2[k])
        yield {
            "object1": int(near.object1[k]),
            "object2": int(near.object2[k]),
            "tca_s": float(near.t_min_s[k]),
            "miss_km": float(near.min_km[k]),
            "relative_speed_kms": float(near.relative_speed_kms[k]),
            "miss_rtn_km": (r, t, n),
            "pc": None,
            "pc_max": float(bound[k]),
            "kind": "proximity",
            "object1_name": names[row1] if row1 < len(names) else "",
            "object2_name": names[row2] if row2 < len(names) else "",
            "max_km": float(near.max_km[k]),
            "max_tca_s": float(near.t_max_s[k]),
        }


def write_csv(
    result: ScreenResult,
    out: TextIO,
    pc: Sequence[float | None] | None = None,
    *,
    names: Sequence[str] = (),
    hbr_m: float = DEFAULT_HBR_M,
) -> None:
    """One row per event under :data:`CSV_COLUMNS`; *pc* (per event) when known, *names* per
    catalog row, *hbr_m* the combined hard-body radius of ``pc_max``."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for e in _events(result, pc, names, hbr_m):
        r, t, n = e["miss_rtn_km"]
        writer.writerow(
            [
                e["object1"],
                e["object2"],
                format_tca(result.start, e["tca_s"]),
                f"{e['miss_km']:.6f}",
                f"{e['relative_speed_kms']:.6f}",
                f"{r:.6f}",
                f"{t:.6f}",
                f"{n:.6f}",
                "" if e["pc"] is None else f"{e['pc']:.6e}",
                f"{e['pc_max']:.6e}",
                e["kind"],
                e["object1_name"],
                e["object2_name"],
                "" if e["max_km"] is None else f"{e['max_km']:.6f}",
            ]
        )


def write_json(
    result: ScreenResult,
    out: TextIO,
    pc: Sequence[float | None] | None = None,
    *,
    names: Sequence[str] = (),
    hbr_m: float = DEFAULT_HBR_M,
) -> None:
    """One JSON object per event and line, numbers at full precision, TCA to the microsecond
    (``pc`` null when unknown; a proximity pair's ``max_km`` and its time ``max_at``)."""
    for e in _events(result, pc, names, hbr_m):
        when = result.start.astimezone(UTC) + timedelta(seconds=e.pop("tca_s"))
        r, t, n = e.pop("miss_rtn_km")
        if "max_tca_s" in e:
            at = result.start.astimezone(UTC) + timedelta(seconds=e.pop("max_tca_s"))
            e["max_at"] = at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        e = {
            "tca": when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            **e,
            "miss_r_km": r,
            "miss_t_km": t,
            "miss_n_km": n,
            "hbr_m": hbr_m,
        }
        out.write(json.dumps(e, allow_nan=False) + "\n")
