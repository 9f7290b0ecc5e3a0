"""Collision probability (Pc) of conjunctions: the 2D encounter-plane method and Monte Carlo.

The 2D method (Foster 1992, Alfano 2005, as NASA CARA's ``PcCircle`` computes it) assumes a
short encounter: straight-line relative motion and no velocity uncertainty near TCA. Both
objects' 3x3 position covariances are rotated from their own RTN frames to the inertial frame
and added; the sum is projected onto the encounter plane (perpendicular to the relative
velocity); Pc is the mass of that 2D Gaussian, centred on the miss vector, over the disk of the
combined hard-body radius (HBR). The disk integral is done in the covariance's principal axes:
analytically (error functions) along one axis and by 64-point Gauss-Legendre quadrature along
the other, after the substitution ``x = xm + HBR sin(phi)`` that removes the square-root edge of
the disk.

Everything works on arrays of events and never raises for a row: each row gets a
:class:`PcStatus` and ``NaN`` where Pc cannot be computed.

>>> r1, v1 = [[7000e3, 0, 0]], [[0, 7.5e3, 0]]
>>> r2, v2 = [[7000e3 + 50, 0, 0]], [[0, 0, 7.5e3]]
>>> cov = np.diag([100.0**2, 300.0**2, 100.0**2])[None]   # RTN, m**2
>>> res = pc_2d(r1, v1, cov, r2, v2, cov, hbr=20.0)
>>> round(float(res.pc[0]), 8), PcStatus(res.status[0]).name
(0.00418992, 'OK')
>>> res = pc_2d(r1, v1, np.full((1, 3, 3), np.nan), r2, v2, cov, hbr=20.0)
>>> float(res.pc[0]), PcStatus(res.status[0]).name, float(res.miss_distance_m[0])
(nan, 'NO_COVARIANCE', 50.0)
"""

from __future__ import annotations

import numpy as np  # noqa: F401 (the doctests above use np)

from kizuna.space.probability._2d import SHORT_ENCOUNTER_LIMIT_S, Pc2D, pc_2d
from kizuna.space.probability._cdm import CdmArrays, cdm_arrays, pc_2d_from_cdms
from kizuna.space.probability._geometry import encounter_frame, rtn_to_eci
from kizuna.space.probability._max import pc_max
from kizuna.space.probability._monte_carlo import MonteCarloPc, pc_monte_carlo
from kizuna.space.probability._status import MESSAGES, PcStatus

__all__ = [
    "MESSAGES",
    "SHORT_ENCOUNTER_LIMIT_S",
    "CdmArrays",
    "MonteCarloPc",
    "Pc2D",
    "PcStatus",
    "cdm_arrays",
    "encounter_frame",
    "pc_2d",
    "pc_2d_from_cdms",
    "pc_max",
    "pc_monte_carlo",
    "rtn_to_eci",
]
