"""An object whose states come from an ephemeris (an operator's OEM), not from SGP4.

:class:`Ephemeris` answers ``sgp4(jd, fr)`` and ``sgp4_array(jd, fr)`` as ``sgp4.api.Satrec``
does (an error code, TEME position in km, velocity in km/s), so screening propagates,
refines and checks it exactly as an element set; error 8 where the ephemeris has no state
(outside its useable span). :func:`sgp4_states` runs a mixed list: SGP4 objects together
through ``SatrecArray``, ephemerides through their interpolation. It pickles, so it travels to
worker processes with the catalog.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from sgp4.api import SatrecArray

from kizuna.space.formats.oem import Oem

__all__ = ["Ephemeris", "sgp4_states"]

F64 = npt.NDArray[np.float64]
_UNIX_JD = 2440587.5
_UNIX = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Ephemeris:
    """States of one object from an :class:`~kizuna.space.formats.oem.Oem`."""

    oem: Oem

    def sgp4_array(self, jd: F64, fr: F64) -> tuple[npt.NDArray[np.uint8], F64, F64]:
        seconds = ((np.asarray(jd) - _UNIX_JD) + np.asarray(fr)) * 86400.0
        r, v = self.oem.states(_UNIX, seconds)
        err = np.where(np.isfinite(r).all(axis=1), 0, 8).astype(np.uint8)
        return err, r, v

    def sgp4(self, jd: float, fr: float) -> tuple[int, tuple[float, ...], tuple[float, ...]]:
        err, r, v = self.sgp4_array(np.array([jd]), np.array([fr]))
        return int(err[0]), tuple(r[0].tolist()), tuple(v[0].tolist())


def sgp4_states(sats: Sequence[Any], jd: F64, fr: F64) -> tuple[npt.NDArray[Any], F64, F64]:
    """``SatrecArray(sats).sgp4(jd, fr)`` for a list that may hold :class:`Ephemeris` rows."""
    mine = [k for k, s in enumerate(sats) if isinstance(s, Ephemeris)]
    if not mine:
        return SatrecArray(list(sats)).sgp4(jd, fr)  # type: ignore[no-any-return]
    others = [k for k in range(len(sats)) if k not in set(mine)]
    err = np.zeros((len(sats), len(jd)), dtype=np.uint8)
    r = np.full((len(sats), len(jd), 3), np.nan)
    v = np.full((len(sats), len(jd), 3), np.nan)
    if others:
        e, rr, vv = SatrecArray([sats[k] for k in others]).sgp4(jd, fr)
        err[others], r[others], v[others] = e, rr, vv
    for k in mine:
        err[k], r[k], v[k] = sats[k].sgp4_array(jd, fr)
    return err, r, v
