"""``kizuna space pc``: collision probability of conjunctions described by CDM files.

For each CDM (KVN or XML) it prints the Pc computed here (2D method, see
:mod:`kizuna.space.probability`), the method, and the Pc the CDM itself states. With ``--json`` each CDM
gives one JSON object on its own line, with at least ``file``, ``pc``, ``method`` and ``cdm_pc``
(``null`` where unknown). A file that cannot be read or parsed gets a clear error (on stderr,
and a JSON line with ``error`` under ``--json``); the others are still processed, and the exit
status is 1 if any file failed.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import click

from kizuna.space.formats.cdm import Cdm, CdmError, format_epoch, parse
from kizuna.space.probability import (
    MESSAGES,
    Pc2D,
    PcStatus,
    cdm_arrays,
    pc_2d_from_cdms,
    pc_monte_carlo,
)

__all__ = ["METHOD", "pc"]

METHOD = "2D-Pc (Foster/Alfano, CARA PcCircle)"


def _num(x: float | None) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


def _miss_disagrees(cdm: Cdm, computed: float) -> str | None:
    """A caveat when the CDM's MISS_DISTANCE is not the distance between its own states (CDMs
    round it to the metre; 1 m or 0.1 % is allowed)."""
    stated = cdm.relative.miss_distance_m
    if not math.isfinite(computed) or abs(stated - computed) <= max(1.0, 1e-3 * computed):
        return None
    return (
        f"the CDM's MISS_DISTANCE ({stated:g} m) is not the distance between its states "
        f"({computed:.1f} m): the states were used"
    )


def _record(path: Path, cdm: Cdm, res: Pc2D, i: int, hbr: float | None) -> dict[str, Any]:
    status = PcStatus(int(res.status[i]))
    caveats = [
        MESSAGES[s]
        for s, on in (
            (PcStatus.REMEDIATED, res.remediated[i]),
            (PcStatus.LONG_ENCOUNTER, res.long_encounter[i]),
        )
        if on and s is not status
    ]
    disagreement = _miss_disagrees(cdm, float(res.miss_distance_m[i]))
    if disagreement:
        caveats.append(disagreement)
    return {
        "file": str(path),
        "pc": _num(res.pc[i]),
        "method": METHOD if status < 10 else None,
        "cdm_pc": cdm.relative.collision_probability,
        "cdm_method": cdm.relative.collision_probability_method,
        "status": status.name.lower(),
        "message": MESSAGES[status],
        "caveats": caveats,
        "miss_distance_m": _num(res.miss_distance_m[i]),
        "relative_speed_m_s": _num(res.relative_speed_m_s[i]),
        "hbr_m": _num(hbr if hbr is not None else cdm.relative.hbr_m),
        "tca": format_epoch(cdm.relative.tca),
        "object1": cdm.object1.object_designator,
        "object2": cdm.object2.object_designator,
        "notes": list(cdm.notes),
    }


def _fmt(x: float | None) -> str:
    return "unknown" if x is None else f"{x:.4e}"


def _text(rec: dict[str, Any]) -> str:
    head = f"{rec['file']}:"
    if rec.get("error"):
        return f"{head} ERROR {rec['error']}"
    cdm = f"CDM states {_fmt(rec['cdm_pc'])}" + (
        f" ({rec['cdm_method']})" if rec["cdm_method"] else ""
    )
    miss_m = rec["miss_distance_m"]
    miss = "miss unknown" if miss_m is None else f"miss {miss_m:.1f} m"
    if rec["pc"] is None:
        line = f"{head} no Pc ({rec['status']}: {rec['message']}); {miss}; {cdm}"
    else:
        hbr = "unbounded" if rec["hbr_m"] is None else f"{rec['hbr_m']:g} m"
        line = f"{head} Pc {rec['pc']:.4e} [{rec['method']}]; {cdm}; {miss}, HBR {hbr}"
        if rec["status"] != "ok":
            line += f"\n    {rec['status']}: {rec['message']}"
    for caveat in rec["caveats"]:
        line += f"\n    also: {caveat}"
    if "mc_pc" in rec and rec["mc_pc"] is None:
        line += f"\n    Monte Carlo: not computed ({rec['mc_status']})"
    elif "mc_pc" in rec:
        line += (
            f"\n    Monte Carlo: {_fmt(rec['mc_pc'])} ({rec['mc_hits']}/{rec['mc_samples']},"
            f" 95% CI {_fmt(rec['mc_low'])} .. {_fmt(rec['mc_high'])}, seed "
            f"{rec['mc_seed']})"
        )
    if rec.get("plot"):
        line += f"\n    plot: {rec['plot']}"
    elif "plot" in rec:
        line += "\n    plot: not drawn (the states cannot be drawn)"
    return line


def _plot(cdm: Cdm, res: Pc2D, i: int, path: Path, hbr: float | None) -> str | None:
    """The plot of one CDM, or None when its numbers cannot be drawn (said in its status)."""
    if PcStatus(int(res.status[i])) is PcStatus.INVALID_INPUT:
        return None
    from kizuna.space.plot import plot_cdm  # matplotlib only when asked for

    try:
        return str(plot_cdm(cdm, res, i, path, hbr_m=hbr))
    except (ValueError, OverflowError):  # coordinates matplotlib cannot place
        return None


def _finite_hbr(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    if value is not None and not math.isfinite(value):
        raise click.BadParameter(f"{value} is not a radius (expected metres, e.g. 10)")
    return value


@click.command("pc")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per CDM, one per line.")
@click.option(
    "--hbr",
    "hbr",
    type=click.FloatRange(min=0),
    default=None,
    callback=_finite_hbr,
    help="Combined hard-body radius in m; overrides the CDM's (COMMENT HBR).",
)
@click.option(
    "--plot",
    "plot_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write <DIR>/<file stem>.png per CDM.",
)
@click.option(
    "--monte-carlo",
    "mc_samples",
    type=click.IntRange(min=0),
    default=0,
    help="Also estimate Pc by Monte Carlo with this many samples per CDM.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Monte Carlo seed.")
@click.option(
    "--no-tca-adjust",
    is_flag=True,
    help="Use the CDM states as given (no shift to the linear closest approach).",
)
def pc(
    files: tuple[Path, ...],
    as_json: bool,
    hbr: float | None,
    plot_dir: Path | None,
    mc_samples: int,
    seed: int,
    no_tca_adjust: bool,
) -> None:
    """Collision probability of the conjunctions in CDM FILES (KVN or XML)."""
    parsed: list[tuple[Path, Cdm]] = []
    records: dict[Path, dict[str, Any]] = {}
    failed = False
    for path in files:
        try:
            parsed.append((path, parse(path.read_text(encoding="utf-8"), source=str(path))))
        except (OSError, UnicodeDecodeError, CdmError) as exc:
            failed = True
            message = str(exc) if isinstance(exc, CdmError) else f"{path}: cannot read ({exc})"
            click.echo(message, err=True)
            records[path] = {
                "file": str(path),
                "pc": None,
                "method": None,
                "cdm_pc": None,
                "status": "error",
                "error": message,
            }
    cdms = [c for _, c in parsed]
    res = pc_2d_from_cdms(cdms, hbr_m=hbr, adjust_tca=not no_tca_adjust)
    arrays = cdm_arrays(cdms, hbr) if mc_samples else None
    if plot_dir is not None:
        plot_dir.mkdir(parents=True, exist_ok=True)
    for i, (path, cdm) in enumerate(parsed):
        rec = _record(path, cdm, res, i, hbr)
        if arrays is not None:
            mc = pc_monte_carlo(
                arrays.r1[i],
                arrays.v1[i],
                arrays.cov1[i],
                arrays.r2[i],
                arrays.v2[i],
                arrays.cov2[i],
                float(arrays.hbr[i]),
                samples=mc_samples,
                seed=seed,
            )
            rec.update(
                mc_pc=_num(mc.pc),
                mc_low=_num(mc.low),
                mc_high=_num(mc.high),
                mc_hits=mc.hits,
                mc_samples=mc.samples,
                mc_seed=seed,
                mc_status=mc.status.name.lower(),
            )
        if plot_dir is not None:
            rec["plot"] = _plot(cdm, res, i, plot_dir / f"{path.stem}.png", hbr)
        records[path] = rec
    for path in files:
        rec = records[path]
        if as_json:
            click.echo(json.dumps(rec, allow_nan=False))
        elif not rec.get("error"):
            click.echo(_text(rec))
    if failed:
        raise SystemExit(1)
