"""Conjunction screening: every close approach in a catalog over a time window.

:func:`screen` screens in this process (the method is in ``_screen``'s docstring and
docs/space.md); :func:`screen_parallel` cuts the window into chunks screened by worker
processes or a Dask cluster and merges them. The compiled pair search (numba) is in
``_kernel``: this package is the only part of Kizuna that imports numba, so nothing else pays
for it. :mod:`.events` writes a CCSDS CDM per event, :mod:`.report` the screening CSV.
"""

from kizuna.space.screening._kernel import is_cached
from kizuna.space.screening._parallel import (
    SMALL_JOB_OBJECT_HOURS,
    default_workers,
    merge,
    plan_chunks,
    screen_parallel,
)
from kizuna.space.screening._primary import near_primaries
from kizuna.space.screening._screen import (
    STATUS_TEXT,
    ScreenResult,
    propagate,
    screen,
    tca_datetime,
)
from kizuna.space.screening._trajectory import Ephemeris

__all__ = [
    "SMALL_JOB_OBJECT_HOURS",
    "STATUS_TEXT",
    "Ephemeris",
    "ScreenResult",
    "default_workers",
    "is_cached",
    "merge",
    "near_primaries",
    "plan_chunks",
    "propagate",
    "screen",
    "screen_parallel",
    "tca_datetime",
]
