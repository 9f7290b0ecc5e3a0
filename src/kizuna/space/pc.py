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

from kizuna.space._pc_2d import _CHUNK as _CHUNK
from kizuna.space._pc_2d import _FCLIP as _FCLIP
from kizuna.space._pc_2d import _GL_W as _GL_W
from kizuna.space._pc_2d import _GL_X as _GL_X
from kizuna.space._pc_2d import _ORDER as _ORDER
from kizuna.space._pc_2d import _TAIL as _TAIL
from kizuna.space._pc_2d import SHORT_ENCOUNTER_LIMIT_S as SHORT_ENCOUNTER_LIMIT_S
from kizuna.space._pc_2d import Pc2D, pc_2d
from kizuna.space._pc_2d import _disk_integral as _disk_integral
from kizuna.space._pc_2d import _erf_dif as _erf_dif
from kizuna.space._pc_2d import _pc_chunk as _pc_chunk
from kizuna.space._pc_cdm import CdmArrays, cdm_arrays, pc_2d_from_cdms
from kizuna.space._pc_geometry import F64 as F64
from kizuna.space._pc_geometry import _covs as _covs
from kizuna.space._pc_geometry import _rows as _rows
from kizuna.space._pc_geometry import _unit as _unit
from kizuna.space._pc_geometry import encounter_frame, rtn_to_eci
from kizuna.space._pc_monte_carlo import MonteCarloPc, pc_monte_carlo
from kizuna.space._pc_monte_carlo import _replace_status as _replace_status
from kizuna.space._pc_monte_carlo import _sampler as _sampler
from kizuna.space._pc_status import MESSAGES, PcStatus

__all__ = [
    "MESSAGES",
    "CdmArrays",
    "MonteCarloPc",
    "Pc2D",
    "PcStatus",
    "cdm_arrays",
    "encounter_frame",
    "pc_2d",
    "pc_2d_from_cdms",
    "pc_monte_carlo",
    "rtn_to_eci",
]
