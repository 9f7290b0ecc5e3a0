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

__all__ = ["Ephemeris", "sgp4_states", "states_at"]

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


def states_at(
    sats: Sequence[Any], jd0: float, fr0: float, rows: npt.NDArray[np.int64], t_s: F64
) -> tuple[npt.NDArray[np.uint8], F64, F64]:
    """Error codes, positions and velocities of ``sats[rows[k]]`` at ``t_s[k]`` seconds after
    (jd0, fr0), one row per *k*: one call per distinct object over all of its times, the
    results written in place (what ``sats[rows[k]].sgp4(jd0, fr0 + t_s[k] / 86400)`` gives,
    without a Python call per row).

    >>> from sgp4.api import Satrec
    >>> iss = Satrec.twoline2rv(
    ...     "1 25544U 98067A   26140.00000000  .00016717  00000-0  10270-3 0  9990",
    ...     "2 25544  51.6400 100.0000 0003000  90.0000   0.0000 15.50000000    03")
    >>> err, r, v = states_at([iss], 2461180.5, 0.0, np.array([0, 0]), np.array([60.0, 0.0]))
    >>> err.tolist(), bool((r[1] == iss.sgp4(2461180.5, 0.0)[1]).all())
    ([0, 0], True)
    """
    m = len(rows)
    order = np.argsort(rows, kind="stable")
    ids = rows[order]
    jd = np.full(m, jd0)
    fr = fr0 + t_s[order] / 86400.0
    err = np.zeros(m, dtype=np.uint8)
    r = np.empty((m, 3))
    v = np.empty((m, 3))
    if m:
        cuts = (np.flatnonzero(ids[1:] != ids[:-1]) + 1).tolist()
        starts = [0, *cuts]
        for a, b, row in zip(starts, [*cuts, m], ids[starts].tolist(), strict=True):
            sat = sats[row]
            if hasattr(sat, "_sgp4"):  # sgp4's compiled Satrec: straight into the outputs
                sat._sgp4(jd[a:b], fr[a:b], err[a:b], r[a:b], v[a:b])
            else:  # an Ephemeris, or sgp4 without its compiled extension
                err[a:b], r[a:b], v[a:b] = sat.sgp4_array(jd[a:b], fr[a:b])
    out_err = np.empty_like(err)
    out_r = np.empty_like(r)
    out_v = np.empty_like(v)
    out_err[order], out_r[order], out_v[order] = err, r, v
    return out_err, out_r, out_v
