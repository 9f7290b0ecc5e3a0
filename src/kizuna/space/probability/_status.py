"""The outcome of a Pc computation for one event, and one sentence per outcome for people."""

from __future__ import annotations

from enum import IntEnum


class PcStatus(IntEnum):
    """Outcome of a Pc computation for one event. Values below 10 carry a Pc."""

    OK = 0
    REMEDIATED = 1
    LONG_ENCOUNTER = 2
    NO_COVARIANCE = 10
    NOT_POSITIVE_DEFINITE = 11
    ZERO_RELATIVE_VELOCITY = 12
    NO_HBR = 13
    INVALID_INPUT = 14
    UNSUPPORTED_FRAME = 15
    INVALID_COVARIANCE = 16


#: One sentence per status, for people.
MESSAGES: dict[PcStatus, str] = {
    PcStatus.OK: "computed",
    PcStatus.REMEDIATED: "computed after clipping a non-positive or tiny eigenvalue of the "
    "encounter-plane covariance to (1e-4 HBR)^2 (CARA's eigenvalue clipping)",
    PcStatus.LONG_ENCOUNTER: "computed, but the encounter is long (slow relative motion or a "
    "huge uncertainty along the relative velocity), so the 2D method's straight-line "
    "assumption is doubtful; check with Monte Carlo or a 3D method",
    PcStatus.NO_COVARIANCE: "no covariance for at least one object: Pc not computed, only the "
    "miss distance is known",
    PcStatus.NOT_POSITIVE_DEFINITE: "the encounter-plane covariance has no positive eigenvalue: "
    "Pc not computed",
    PcStatus.ZERO_RELATIVE_VELOCITY: "relative velocity is zero, there is no encounter plane: "
    "Pc not computed",
    PcStatus.NO_HBR: "no hard-body radius (none in the CDM, none given): Pc not computed",
    PcStatus.INVALID_INPUT: "non-finite state, negative HBR, or numbers too large to compute "
    "with: Pc not computed",
    PcStatus.UNSUPPORTED_FRAME: "states not in an inertial frame (EME2000/GCRF): Pc not computed",
    PcStatus.INVALID_COVARIANCE: "a covariance that cannot be one (a negative or infinite "
    "variance, a correlation beyond +-1, or a standard deviation beyond 1.5e9 m or 11.2 km/s): "
    "Pc not computed",
}
