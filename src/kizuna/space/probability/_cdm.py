"""Pc from parsed CDMs: their states, covariances and HBR stacked into arrays."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from kizuna.space.probability._2d import Pc2D, pc_2d
from kizuna.space.probability._geometry import F64
from kizuna.space.probability._status import PcStatus

if TYPE_CHECKING:
    from collections.abc import Sequence

    from kizuna.space.formats.cdm import Cdm


@dataclass(frozen=True)
class CdmArrays:
    """States (m, m/s), 6x6 RTN covariances (NaN when absent) and HBR (NaN when unknown) of a
    list of CDMs, one row each; ``inertial`` is False where a state is in ITRF."""

    r1: F64
    v1: F64
    cov1: F64
    r2: F64
    v2: F64
    cov2: F64
    hbr: F64
    inertial: npt.NDArray[np.bool_]


def cdm_arrays(cdms: Sequence[Cdm], hbr_m: float | None = None) -> CdmArrays:
    """Stack the states, covariances and HBR of CDMs; ``hbr_m`` overrides each CDM's HBR."""
    n = len(cdms)
    r1, v1, r2, v2 = (np.zeros((n, 3)) for _ in range(4))
    c1, c2 = np.full((n, 6, 6), np.nan), np.full((n, 6, 6), np.nan)
    hbr = np.full(n, np.nan)
    inertial = np.ones(n, dtype=bool)
    for i, cdm in enumerate(cdms):
        for obj, r, v, c in ((cdm.object1, r1, v1, c1), (cdm.object2, r2, v2, c2)):
            with np.errstate(over="ignore"):  # a state too large becomes inf: INVALID_INPUT
                r[i] = np.array(obj.position_km) * 1e3
                v[i] = np.array(obj.velocity_km_s) * 1e3
            m = obj.covariance_matrix()
            if m is not None:
                c[i] = m
            inertial[i] &= obj.ref_frame in ("EME2000", "GCRF")
        given = hbr_m if hbr_m is not None else cdm.relative.hbr_m
        hbr[i] = np.nan if given is None else given
    return CdmArrays(r1, v1, c1, r2, v2, c2, hbr, inertial)


def pc_2d_from_cdms(
    cdms: Sequence[Cdm], *, hbr_m: float | None = None, adjust_tca: bool = True
) -> Pc2D:
    """:func:`pc_2d` for a list of parsed CDMs (``hbr_m`` overrides the CDMs' HBR)."""
    a = cdm_arrays(cdms, hbr_m)
    res = pc_2d(a.r1, a.v1, a.cov1, a.r2, a.v2, a.cov2, a.hbr, adjust_tca=adjust_tca)
    if not np.all(a.inertial):
        res.status[~a.inertial] = PcStatus.UNSUPPORTED_FRAME
        res.pc[~a.inertial] = np.nan
    return res
