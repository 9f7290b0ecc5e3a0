"""Monte Carlo Pc of one event, with velocity uncertainty, seeded and reproducible."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

from kizuna.space.probability._geometry import F64, _covs, _rows, covariance_status, rtn_to_eci
from kizuna.space.probability._status import PcStatus


@dataclass(frozen=True)
class MonteCarloPc:
    """A Monte Carlo Pc estimate: ``hits`` of ``samples`` and a Clopper-Pearson interval."""

    pc: float
    low: float
    high: float
    hits: int
    samples: int
    confidence: float
    status: PcStatus
    remediated: bool


def _sampler(cov: F64) -> tuple[F64, bool]:
    w, vecs = np.linalg.eigh(0.5 * (cov + cov.T))
    clipped = bool(np.any(w < 0))
    out: F64 = vecs * np.sqrt(np.maximum(w, 0.0))
    return out, clipped


def pc_monte_carlo(
    r1: npt.ArrayLike,
    v1: npt.ArrayLike,
    cov1: npt.ArrayLike,
    r2: npt.ArrayLike,
    v2: npt.ArrayLike,
    cov2: npt.ArrayLike,
    hbr: float,
    *,
    samples: int = 1_000_000,
    seed: int = 0,
    cov_frame: str = "rtn",
    confidence: float = 0.95,
) -> MonteCarloPc:
    """Monte Carlo Pc of one event: draw both objects' full 6D states from their covariances
    (negative eigenvalues clipped to zero), move each drawn pair along straight lines to its
    own closest approach, and count approaches closer than ``hbr``. Unlike the 2D method this
    includes velocity uncertainty; like it, it assumes straight-line motion near TCA.
    Seeded, so a given ``seed`` always gives the same estimate."""
    p1, u1, p2, u2 = (
        _rows(a, 3, nm)[0] for a, nm in ((r1, "r1"), (v1, "v1"), (r2, "r2"), (v2, "v2"))
    )
    cs = []
    nan = MonteCarloPc(math.nan, math.nan, math.nan, 0, 0, confidence, PcStatus.OK, False)
    for c, p, u, nm in ((cov1, p1, u1, "cov1"), (cov2, p2, u2, "cov2")):
        arr = _covs(c, 1, nm)[0]
        absent, valid = covariance_status(arr)
        if absent[0]:
            return _replace_status(nan, PcStatus.NO_COVARIANCE)
        if not valid[0]:
            return _replace_status(nan, PcStatus.INVALID_COVARIANCE)
        if arr.shape == (3, 3):
            full = np.zeros((6, 6))
            full[:3, :3] = arr
            arr = full
        cs.append(rtn_to_eci(arr[None], p[None], u[None])[0] if cov_frame == "rtn" else arr)
    if not all(np.isfinite(c).all() for c in cs):  # the rotation of a state too large
        return _replace_status(nan, PcStatus.INVALID_INPUT)
    with np.errstate(over="ignore"):
        too_large = not np.isfinite(np.float64(hbr) * np.float64(hbr))  # as the 2D method says
    if too_large or not (hbr >= 0 and np.isfinite([*p1, *u1, *p2, *u2]).all()):
        return _replace_status(nan, PcStatus.NO_HBR if math.isnan(hbr) else PcStatus.INVALID_INPUT)
    (a1, k1), (a2, k2) = _sampler(cs[0]), _sampler(cs[1])
    rng = np.random.default_rng(seed)
    mean = np.concatenate([p1 - p2, u1 - u2])
    hits = 0
    for lo in range(0, samples, 200_000):
        m = min(200_000, samples - lo)
        d = mean + rng.standard_normal((m, 6)) @ a1.T - rng.standard_normal((m, 6)) @ a2.T
        dr, dv = d[:, :3], d[:, 3:]
        vv = np.einsum("ij,ij->i", dv, dv)
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.where(vv > 0, -np.einsum("ij,ij->i", dr, dv) / vv, 0.0)
        closest = np.linalg.norm(dr + dv * t[:, None], axis=1)
        hits += int(np.count_nonzero(closest < hbr))
    alpha = 1.0 - confidence
    low = 0.0 if hits == 0 else float(stats.beta.ppf(alpha / 2, hits, samples - hits + 1))
    high = (
        1.0 if hits == samples else float(stats.beta.ppf(1 - alpha / 2, hits + 1, samples - hits))
    )
    remediated = k1 or k2
    return MonteCarloPc(
        hits / samples,
        low,
        high,
        hits,
        samples,
        confidence,
        PcStatus.REMEDIATED if remediated else PcStatus.OK,
        remediated,
    )


def _replace_status(res: MonteCarloPc, status: PcStatus) -> MonteCarloPc:
    return MonteCarloPc(
        res.pc, res.low, res.high, res.hits, res.samples, res.confidence, status, res.remediated
    )
