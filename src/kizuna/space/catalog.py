"""A catalog: one element set per object, as plain arrays that SGP4 and worker processes take.

:func:`read` turns the text of a TLE/3LE or OMM (KVN, XML, JSON, CSV) file into element sets
and per-record errors; :func:`build` keeps the newest element set of each catalog number and
packs them into a :class:`Catalog` of arrays. ``Satrec`` objects cannot be pickled, so the arrays
are what travels to worker processes; :func:`satrecs` rebuilds the propagators there.

>>> from kizuna.space.formats import tle
>>> text = '''ISS (ZARYA)
... 1 25544U 98067A   26140.50000000  .00016717  00000+0  10270-3 0  9992
... 2 25544  51.6416 247.4627 0006703 130.5360 325.0288 15.50103472 44713
... '''
>>> cat = build(read(text).records).catalog
>>> cat.norad.tolist(), cat.names
([25544], ('ISS (ZARYA)',))
>>> sats, status = satrecs(cat)
>>> status.tolist()
[0]
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt
from sgp4.api import WGS72, Satrec

from kizuna.errors import InvalidInput
from kizuna.space.formats import omm, tle
from kizuna.space.formats.omm import ElementSet

__all__ = [
    "STATUS_BAD_ELEMENTS",
    "BuildResult",
    "Catalog",
    "ReadResult",
    "build",
    "julian",
    "read",
    "satrecs",
]

#: Status of an object whose elements SGP4 refuses to initialise (beyond the sgp4 codes 1-6).
STATUS_BAD_ELEMENTS = 7

_TWO_PI = 2.0 * math.pi
_DEG = math.pi / 180.0
_JD_1949 = 2433281.5  # 1949-12-31 00:00 UT, the origin of sgp4init's epoch
_UNIX_JD = 2440587.5


def julian(when: datetime) -> tuple[float, float]:
    """A UTC datetime as (whole Julian date ending in .5, fraction of day), as sgp4 takes them.

    >>> julian(datetime(2026, 5, 20, 12, tzinfo=UTC))
    (2461180.5, 0.5)
    """
    seconds = (when.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds()
    days, rest = divmod(seconds, 86400.0)
    return _UNIX_JD + days, rest / 86400.0


@dataclass(frozen=True)
class Catalog:
    """Element sets as columns, one row per object (what :func:`satrecs` and workers take).

    ``elements`` has columns: mean motion (rad/min), eccentricity, inclination, RAAN, argument
    of perigee, mean anomaly (rad), BSTAR (1/ER), ndot (rad/min²), nddot (rad/min³).
    ``epoch_jd`` + ``epoch_fr`` is the epoch as a Julian date split into whole and fraction.
    """

    norad: npt.NDArray[np.int64]
    epoch_jd: npt.NDArray[np.float64]
    epoch_fr: npt.NDArray[np.float64]
    elements: npt.NDArray[np.float64]
    names: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.norad)

    def take(self, rows: npt.ArrayLike) -> Catalog:
        """A catalog of the given rows (indices or a boolean mask)."""
        idx = np.asarray(rows)
        if idx.dtype != np.bool_:
            idx = idx.astype(np.intp)
        names = tuple(np.asarray(self.names, dtype=object)[idx]) if self.names else ()
        return Catalog(
            self.norad[idx], self.epoch_jd[idx], self.epoch_fr[idx], self.elements[idx], names
        )

    @staticmethod
    def concat(parts: Sequence[Catalog]) -> Catalog:
        """Several catalogs one after another (no de-duplication)."""
        return Catalog(
            np.concatenate([p.norad for p in parts]),
            np.concatenate([p.epoch_jd for p in parts]),
            np.concatenate([p.epoch_fr for p in parts]),
            np.concatenate([p.elements for p in parts]),
            tuple(n for p in parts for n in (p.names or ("",) * len(p))),
        )


@dataclass(frozen=True, slots=True)
class ReadResult:
    """Element sets read from one text, and the per-record errors."""

    records: list[ElementSet]
    errors: list[InvalidInput]


@dataclass(frozen=True, slots=True)
class BuildResult:
    """The catalog, the element sets it holds (same order), and records left out with why."""

    catalog: Catalog
    records: list[ElementSet]
    errors: list[InvalidInput]


def read(text: str, *, source: str = "<catalog>") -> ReadResult:
    """Element sets from TLE/3LE or OMM (KVN, XML, JSON, CSV) text, whichever it is."""
    if tle.looks_like_tle(text):
        t = tle.parse(text, source=source)
        return ReadResult(t.records, list(t.errors))
    o = omm.parse(text, source=source)
    return ReadResult(o.records, list(o.errors))


def build(records: Iterable[ElementSet], *, source: str = "<catalog>") -> BuildResult:
    """The newest element set of each catalog number, packed as a :class:`Catalog`.

    Records without a catalog number cannot be named in screening results and are left out
    with an error.
    """
    newest: dict[int, ElementSet] = {}
    errors: list[InvalidInput] = []
    for es in records:
        if es.norad_cat_id is None:
            errors.append(
                omm.OmmError(
                    f"element set of {es.object_name or es.object_id or 'an object'} has no "
                    "NORAD_CAT_ID; screening names objects by catalog number",
                    source=source,
                    expected="NORAD_CAT_ID = 25544",
                )
            )
            continue
        old = newest.get(es.norad_cat_id)
        if old is None or es.epoch > old.epoch:
            newest[es.norad_cat_id] = es
    kept = [newest[k] for k in sorted(newest)]
    return BuildResult(_pack(kept), kept, errors)


def _pack(records: Sequence[ElementSet]) -> Catalog:
    n = len(records)
    norad = np.empty(n, dtype=np.int64)
    jd = np.empty(n)
    fr = np.empty(n)
    el = np.empty((n, 9))
    per_day = _TWO_PI / 1440.0  # rev/day -> rad/min
    for i, es in enumerate(records):
        norad[i] = es.norad_cat_id if es.norad_cat_id is not None else -1
        jd[i], fr[i] = julian(es.epoch)
        el[i] = (
            es.mean_motion * per_day,
            es.eccentricity,
            es.inclination * _DEG,
            es.ra_of_asc_node * _DEG,
            es.arg_of_pericenter * _DEG,
            es.mean_anomaly * _DEG,
            es.bstar,
            es.mean_motion_dot * per_day / 1440.0,
            es.mean_motion_ddot * per_day / 1440.0**2,
        )
    return Catalog(norad, jd, fr, el, tuple(es.object_name for es in records))


def satrecs(catalog: Catalog) -> tuple[list[Satrec], npt.NDArray[np.int8]]:
    """SGP4 propagators for every row, and a status per row (0 ok, else the sgp4 error code,
    or :data:`STATUS_BAD_ELEMENTS` when the elements cannot even be initialised).

    A row that fails still gets a propagator (all its positions come out NaN), so rows keep
    their places.
    """
    n = len(catalog)
    sats: list[Satrec] = []
    status = np.zeros(n, dtype=np.int8)
    epochs = (catalog.epoch_jd - _JD_1949) + catalog.epoch_fr
    el = catalog.elements
    usable = (
        np.isfinite(el[:, :7]).all(axis=1)
        & np.isfinite(epochs)
        & (el[:, 0] > 0.0)
        & (el[:, 1] >= 0.0)
        & (el[:, 1] < 1.0)
    )
    numbers = np.where((catalog.norad >= 0) & (catalog.norad <= 339_999), catalog.norad, 0)
    rows = el.tolist()
    for i, (ok, epoch, satnum) in enumerate(
        zip(usable.tolist(), epochs.tolist(), numbers.tolist(), strict=True)
    ):
        sat = Satrec()
        if ok:
            no, ecc, inc, node, argp, mo, bstar, ndot, nddot = rows[i]
            sat.sgp4init(
                WGS72, "i", satnum, epoch, bstar, ndot, nddot, ecc, argp, inc, mo, no, node
            )
            status[i] = sat.error
        else:
            # Initialise something harmless so the row propagates to NaN with a status.
            safe = epoch if math.isfinite(epoch) else 0.0
            sat.sgp4init(WGS72, "i", 0, safe, 0.0, 0.0, 0.0, 0.5, 0.0, 0.0, 0.0, -1.0, 0.0)
            status[i] = STATUS_BAD_ELEMENTS
        sats.append(sat)
    return sats, status
