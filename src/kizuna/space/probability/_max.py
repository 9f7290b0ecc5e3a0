"""The largest 2D Pc any covariance could give an encounter: a risk figure with no covariance.

For a miss distance d and a hard-body radius R the 2D Pc is largest, over every size, aspect
ratio and orientation of the encounter-plane covariance, in the limit of a covariance squeezed
onto the miss direction (Alfano 2005, "Relating position uncertainty to maximum conjunction
probability"): the Gaussian then lies along the line through the disk's centre, and the Pc is
the mass of N(0, s^2) on [d - R, d + R], largest for s^2 = 2dR / ln((d + R)/(d - R)). For R much
smaller than d this is about 0.484 R/d; a spherical covariance gives only R^2/(e d^2), which is
no upper bound. When d <= R the miss point is inside the disk and the bound is 1.

>>> float(pc_max(1000.0, 10.0)[0]).__round__(6), round(0.48394 * 10 / 1000, 6)
(0.004839, 0.004839)
>>> pc_max([5.0, 20.0, 100.0], [10.0, 0.0, 1e-3]).round(8).tolist()
[1.0, 0.0, 4.84e-06]
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import special

from kizuna.space.probability._geometry import F64

__all__ = ["pc_max"]


def pc_max(miss_m: npt.ArrayLike, hbr_m: npt.ArrayLike) -> F64:
    """The maximum 2D Pc per event (NaN where the miss or HBR is not a finite number >= 0)."""
    d = np.atleast_1d(np.asarray(miss_m, dtype=np.float64))
    r = np.broadcast_to(np.asarray(hbr_m, dtype=np.float64), d.shape)
    out = np.full(d.shape, np.nan)
    valid = np.isfinite(d) & np.isfinite(r) & (d >= 0) & (r >= 0)
    out[valid & (r == 0)] = 0.0
    out[valid & (r > 0) & (d <= r)] = 1.0
    far = valid & (r > 0) & (d > r)
    if np.any(far):
        df, rf = d[far], r[far]
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            s = np.sqrt(2.0 * df * rf / np.log1p(2.0 * rf / (df - rf)))
            hi, lo = (df + rf) / (s * np.sqrt(2.0)), (df - rf) / (s * np.sqrt(2.0))
            out[far] = 0.5 * (special.erfc(lo) - special.erfc(hi))  # both > 0: no cancellation
    return out
