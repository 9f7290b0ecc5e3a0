"""Conjunction plots (PNG): relative distance around TCA and the encounter-plane view.

The functions take arrays and a path and draw with matplotlib's object API on the Agg canvas,
so they change no global matplotlib state and need no display. From a CDM the relative
trajectory near TCA is linearized from the relative state: ``d(t) = |dr + dv t|``.

>>> t, d = linear_distance([100.0, 0.0, 0.0], [0.0, 10.0, 0.0], span_s=10.0, steps=3)
>>> t.tolist(), d.round(3).tolist()
([-10.0, 0.0, 10.0], [141.421, 100.0, 141.421])
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Circle, Ellipse

if TYPE_CHECKING:
    from kizuna.space.formats.cdm import Cdm
    from kizuna.space.probability import Pc2D

__all__ = ["F64", "linear_distance", "plot_cdm", "plot_conjunction"]

F64 = npt.NDArray[np.float64]


def linear_distance(
    dr: npt.ArrayLike, dv: npt.ArrayLike, *, span_s: float, steps: int = 401
) -> tuple[F64, F64]:
    """Times (s from TCA) and distances (m) of straight-line relative motion over +-span_s."""
    r, v = np.asarray(dr, dtype=float), np.asarray(dv, dtype=float)
    t = np.linspace(-span_s, span_s, steps)
    return t, np.linalg.norm(r[None, :] + t[:, None] * v[None, :], axis=1)


def plot_conjunction(
    path: str | Path,
    *,
    t_s: npt.ArrayLike,
    distance_m: npt.ArrayLike,
    miss_xz_m: tuple[float, float],
    cov_plane_m2: npt.ArrayLike,
    hbr_m: float | None,
    title: str = "",
    pc_text: str = "",
) -> Path:
    """Write a two-panel PNG: distance over time around TCA, and the encounter plane (origin at
    the combined-uncertainty centre, the miss vector, 1/2/3-sigma covariance ellipses and the
    hard-body circle around the miss point). ``cov_plane_m2`` may be NaN (no covariance)."""
    out = Path(path)
    fig = Figure(figsize=(11, 4.8), dpi=100)
    FigureCanvasAgg(fig)
    left, right = fig.subplots(1, 2)
    t, d = np.asarray(t_s, dtype=float), np.asarray(distance_m, dtype=float)
    left.plot(t, d, color="tab:blue")
    left.axvline(0.0, color="grey", lw=0.8, ls="--")
    if hbr_m is not None and math.isfinite(hbr_m):
        left.axhline(hbr_m, color="tab:red", lw=0.8, label=f"HBR {hbr_m:g} m")
        left.legend(loc="upper center")
    left.set_xlabel("time from TCA [s]")
    left.set_ylabel("relative distance [m]")
    left.set_title("Relative distance (linearized)")
    left.grid(True, alpha=0.3)

    xm, zm = miss_xz_m
    cov = np.asarray(cov_plane_m2, dtype=float)
    extent = max(abs(xm), abs(zm), hbr_m or 0.0, 1.0)
    right.plot([0.0, xm], [0.0, zm], color="black", lw=1.0)
    right.plot([xm], [zm], marker="x", color="black", label="miss vector")
    if np.isfinite(cov).all():
        vals, vecs = np.linalg.eigh(cov)
        angle = math.degrees(math.atan2(vecs[1, 1], vecs[0, 1]))
        for k in (1, 2, 3):
            w, h = (2 * k * math.sqrt(max(v, 0.0)) for v in vals[::-1])
            right.add_patch(
                Ellipse(
                    (0.0, 0.0),
                    w,
                    h,
                    angle=angle,
                    fill=False,
                    color="tab:blue",
                    alpha=1.0 - 0.25 * k,
                    label=f"{k}-sigma" if k == 1 else None,
                )
            )
        extent = max(extent, 3 * math.sqrt(max(vals.max(), 0.0)))
    else:
        right.text(0.02, 0.02, "no usable covariance", transform=right.transAxes)
    if hbr_m is not None and math.isfinite(hbr_m) and hbr_m > 0:
        right.add_patch(Circle((xm, zm), hbr_m, fill=False, color="tab:red", label="HBR"))
    right.set_xlim(-1.15 * extent, 1.15 * extent)
    right.set_ylim(-1.15 * extent, 1.15 * extent)
    right.set_aspect("equal")
    right.set_xlabel("encounter plane x [m]")
    right.set_ylabel("encounter plane z [m]")
    right.set_title("Encounter plane" + (f"  ({pc_text})" if pc_text else ""))
    right.legend(loc="upper right", fontsize="small")
    right.grid(True, alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out, format="png")
    return out


def plot_cdm(
    cdm: Cdm, result: Pc2D, row: int, path: str | Path, *, hbr_m: float | None = None
) -> Path:
    """Plot one CDM given the :func:`kizuna.space.probability.pc_2d_from_cdms` result row for it
    (``hbr_m`` overrides the CDM's HBR, as it did for the Pc)."""
    hbr = hbr_m if hbr_m is not None else cdm.relative.hbr_m
    r1, v1 = np.array(cdm.object1.position_km), np.array(cdm.object1.velocity_km_s)
    r2, v2 = np.array(cdm.object2.position_km), np.array(cdm.object2.velocity_km_s)
    dr, dv = (r1 - r2) * 1e3, (v1 - v2) * 1e3
    speed = float(np.linalg.norm(dv))
    miss = float(np.linalg.norm(dr))
    span = 10.0 * max(miss, hbr or 0.0, 1.0) / speed if speed > 0 else 60.0
    t, d = linear_distance(dr, dv, span_s=min(span, 3600.0))
    plane = result.cov_plane[row]
    xm = float(np.linalg.norm(dr + dv * result.tca_offset_s[row]))
    pc = result.pc[row]
    text = f"Pc {pc:.3e}" if np.isfinite(pc) else "no Pc"
    title = (
        f"{cdm.object1.object_name} x {cdm.object2.object_name}   "
        f"TCA {cdm.relative.tca:%Y-%m-%d %H:%M:%S} UTC"
    )
    return plot_conjunction(
        path,
        t_s=t,
        distance_m=d,
        miss_xz_m=(xm, 0.0),
        cov_plane_m2=plane,
        hbr_m=hbr,
        title=title,
        pc_text=text,
    )
