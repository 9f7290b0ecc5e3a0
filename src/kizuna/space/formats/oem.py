"""CCSDS Orbit Ephemeris Messages (502.0-B-3, KVN): an operator's own ephemeris of an object.

:func:`parse_kvn` reads the header, then one or more segments (``META_START`` ... ``META_STOP``,
ephemeris lines ``epoch x y z x_dot y_dot z_dot [x_ddot y_ddot z_ddot]`` in km and km/s,
optional ``COVARIANCE_START`` ... ``COVARIANCE_STOP`` blocks, which are skipped). Each segment
is interpolated as its metadata says (:meth:`Segment.states`): ``INTERPOLATION = LAGRANGE``
(the ``INTERPOLATION_DEGREE + 1`` nearest points, positions and velocities each a Lagrange
polynomial), ``HERMITE`` (the ``(INTERPOLATION_DEGREE + 1) / 2`` nearest points, positions
and velocities together) or ``LINEAR``; none given reads as Lagrange of degree 5, with a note.
Only the useable span (``USEABLE_START_TIME`` / ``USEABLE_STOP_TIME``, else the data) is
interpolated: outside it states are NaN.

Supported: ``CENTER_NAME = EARTH``, ``TIME_SYSTEM = UTC``, ``REF_FRAME`` TEME (SGP4's frame,
used as given) or EME2000 / GCRF / ICRF (rotated to TEME with
:func:`kizuna.space.screening.events.teme_to_eme2000`'s transpose; GCRF and ICRF are taken as
EME2000, which they match within 0.02 arcsec, about a metre at GEO). Anything else is refused
with an :class:`OemError` naming the line.

>>> text = '''CCSDS_OEM_VERS = 3.0
... CREATION_DATE = 2026-05-19T12:00:00
... ORIGINATOR = OPERATOR
... META_START
... OBJECT_NAME = SAT
... OBJECT_ID = 2026-001A
... CENTER_NAME = EARTH
... REF_FRAME = TEME
... TIME_SYSTEM = UTC
... START_TIME = 2026-05-20T00:00:00
... STOP_TIME = 2026-05-20T00:02:00
... INTERPOLATION = LINEAR
... META_STOP
... 2026-05-20T00:00:00 7000 0 0 0 7.5 0
... 2026-05-20T00:01:00 7000 450 0 0 7.5 0
... 2026-05-20T00:02:00 6985 900 0 -0.5 7.5 0
... '''
>>> oem = parse_kvn(text)
>>> seg = oem.segments[0]
>>> seg.object_id, seg.interpolation, len(seg.epochs_s)
('2026-001A', 'LINEAR', 3)
>>> from datetime import datetime, UTC
>>> r, v = seg.states(datetime(2026, 5, 20, tzinfo=UTC), np.array([30.0, 500.0]))
>>> r[0].tolist(), bool(np.isnan(r[1]).all())
([7000.0, 225.0, 0.0], True)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt

from kizuna.space.formats._epoch import parse_epoch
from kizuna.space.formats._record import RecordError

__all__ = ["Oem", "OemError", "Segment", "parse_kvn"]

_F64 = npt.NDArray[np.float64]

_FRAMES_AS_EME2000 = ("EME2000", "GCRF", "ICRF")
_METHODS = ("LAGRANGE", "HERMITE", "LINEAR")
_HEADER = ("CCSDS_OEM_VERS", "CREATION_DATE", "ORIGINATOR", "MESSAGE_ID", "CLASSIFICATION")
_META = (
    "OBJECT_NAME",
    "OBJECT_ID",
    "CENTER_NAME",
    "REF_FRAME",
    "REF_FRAME_EPOCH",
    "TIME_SYSTEM",
    "START_TIME",
    "USEABLE_START_TIME",
    "USEABLE_STOP_TIME",
    "STOP_TIME",
    "INTERPOLATION",
    "INTERPOLATION_DEGREE",
)
_DATA_LINE = "2026-05-20T00:00:00.000 6778.137 0.0 0.0 0.0 7.6686 0.0"


class OemError(RecordError):
    """An OEM that cannot be used: the file and line, the problem, the expected form."""

    default_source = "<oem>"


@dataclass(frozen=True)
class Segment:
    """One segment: its metadata, epochs (seconds after ``epoch0``), positions and velocities
    as given (km, km/s, in ``ref_frame``), and how to interpolate them."""

    object_name: str
    object_id: str
    ref_frame: str
    interpolation: str
    degree: int
    epoch0: datetime
    epochs_s: _F64
    r: _F64
    v: _F64
    useable_start_s: float
    useable_stop_s: float
    notes: tuple[str, ...] = ()

    def span(self) -> tuple[datetime, datetime]:
        """The useable span."""
        return (
            self.epoch0 + timedelta(seconds=self.useable_start_s),
            self.epoch0 + timedelta(seconds=self.useable_stop_s),
        )

    def states(self, start: datetime, t_s: _F64) -> tuple[_F64, _F64]:
        """TEME positions and velocities (km, km/s) at *t_s* seconds after *start*, NaN
        outside the useable span."""
        t = np.asarray(t_s, dtype=float) + (start - self.epoch0).total_seconds()
        r = np.full((len(t), 3), np.nan)
        v = np.full((len(t), 3), np.nan)
        inside = (t >= self.useable_start_s) & (t <= self.useable_stop_s)
        for k in np.flatnonzero(inside).tolist():
            r[k], v[k] = self._at(float(t[k]))
        if self.ref_frame in _FRAMES_AS_EME2000:
            from kizuna.space.screening.events import teme_to_eme2000

            for k in np.flatnonzero(inside).tolist():
                rot = teme_to_eme2000(start + timedelta(seconds=float(t_s[k]))).T
                r[k], v[k] = rot @ r[k], rot @ v[k]
        return r, v

    def _window(self, t: float, count: int) -> slice:
        n = len(self.epochs_s)
        count = min(count, n)
        k = int(np.searchsorted(self.epochs_s, t))
        lo = min(max(k - count // 2, 0), n - count)
        return slice(lo, lo + count)

    def _at(self, t: float) -> tuple[_F64, _F64]:
        x = self.epochs_s
        if self.interpolation == "LINEAR":
            s = self._window(t, 2)
            if s.stop - s.start < 2:
                return self.r[s.start].copy(), self.v[s.start].copy()
            (t0, t1), (r0, r1), (v0, v1) = x[s], self.r[s], self.v[s]
            f = (t - t0) / (t1 - t0)
            return r0 + f * (r1 - r0), v0 + f * (v1 - v0)
        if self.interpolation == "HERMITE":
            return _hermite(self, self._window(t, max((self.degree + 1) // 2, 2)), t)
        s = self._window(t, self.degree + 1)
        return _lagrange(x[s], self.r[s], t), _lagrange(x[s], self.v[s], t)


def _lagrange(x: _F64, y: _F64, t: float) -> _F64:
    out = np.zeros(y.shape[1])
    for j in range(len(x)):
        others = np.delete(x, j)
        out += y[j] * float(np.prod((t - others) / (x[j] - others)))
    return out


def _hermite(seg: Segment, points: slice, t: float) -> tuple[_F64, _F64]:
    """Hermite interpolation through the positions and velocities of *points* (divided
    differences over doubled nodes): position and its derivative at *t*."""
    x, r, v = seg.epochs_s[points], seg.r[points], seg.v[points]
    z = np.repeat(x, 2)
    m = len(z)
    q = np.zeros((m, m, 3))
    q[:, 0] = np.repeat(r, 2, axis=0)
    for i in range(1, m):
        q[i, 1] = v[i // 2] if i % 2 else (q[i, 0] - q[i - 1, 0]) / (z[i] - z[i - 1])
    for j in range(2, m):
        for i in range(j, m):
            q[i, j] = (q[i, j - 1] - q[i - 1, j - 1]) / (z[i] - z[i - j])
    pos = np.zeros(3)
    vel = np.zeros(3)
    prod, dprod = 1.0, 0.0
    for j in range(m):
        pos += q[j, j] * prod
        vel += q[j, j] * dprod
        dprod = dprod * (t - z[j]) + prod
        prod *= t - z[j]
    return pos, vel


@dataclass(frozen=True)
class Oem:
    """An OEM: its header keywords and segments."""

    header: dict[str, str]
    segments: tuple[Segment, ...]
    notes: tuple[str, ...] = field(default=())

    def states(self, start: datetime, t_s: _F64) -> tuple[_F64, _F64]:
        """States from whichever segment's useable span holds each time (the later one where
        two overlap), NaN where none does."""
        r = np.full((len(t_s), 3), np.nan)
        v = np.full((len(t_s), 3), np.nan)
        for seg in self.segments:
            rs, vs = seg.states(start, t_s)
            ok = np.isfinite(rs).all(axis=1)
            r[ok], v[ok] = rs[ok], vs[ok]
        return r, v


def parse_kvn(text: str, *, source: str = "<oem>") -> Oem:
    """An :class:`Oem` from KVN text; :class:`OemError` on anything it cannot use."""
    header: dict[str, str] = {}
    segments: list[Segment] = []
    meta: dict[str, str] | None = None
    rows: list[tuple[datetime, list[float]]] = []
    in_meta = in_cov = False
    meta_line = 0

    def fail(number: int, problem: str, line: str = "", expected: str = "") -> OemError:
        return OemError(
            problem, source=source, where=f"line {number}", line=line, expected=expected
        )

    def close(number: int) -> None:
        if meta is None:
            return
        if len(rows) < 2:
            raise fail(meta_line, "a segment needs at least two ephemeris lines")
        segments.append(_segment(meta, rows, lambda p: fail(meta_line, p)))

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("COMMENT"):
            continue
        if line == "META_START":
            close(number)
            meta, rows, in_meta, meta_line = {}, [], True, number
            continue
        if line == "META_STOP":
            if not in_meta:
                raise fail(number, "META_STOP without META_START", raw)
            in_meta = False
            continue
        if line == "COVARIANCE_START":
            in_cov = True
            continue
        if line == "COVARIANCE_STOP":
            in_cov = False
            continue
        if in_cov:
            continue
        if "=" in line:
            key, _, value = (part.strip() for part in line.partition("="))
            if in_meta and meta is not None:
                if key not in _META:
                    raise fail(
                        number, f"unknown metadata keyword {key!r}", raw, "OBJECT_NAME = SAT"
                    )
                meta[key] = value
            elif meta is None and key in _HEADER:
                header[key] = value
            else:
                raise fail(number, f"keyword {key!r} out of place", raw)
            continue
        if meta is None or in_meta:
            raise fail(number, "an ephemeris line outside a segment's data", raw, _DATA_LINE)
        parts = line.split()
        if len(parts) not in (7, 10):
            raise fail(
                number,
                f"an ephemeris line has an epoch and 6 or 9 numbers, not {len(parts) - 1}",
                raw,
                _DATA_LINE,
            )
        try:
            when = parse_epoch(parts[0])
            values = [float(p) for p in parts[1:7]]
        except ValueError as exc:
            raise fail(number, f"cannot read the ephemeris line ({exc})", raw, _DATA_LINE) from None
        if not all(np.isfinite(values)):
            raise fail(number, "an ephemeris line with a number that is not finite", raw)
        if rows and when <= rows[-1][0]:
            raise fail(number, "ephemeris epochs must increase", raw)
        rows.append((when, values))
    if "CCSDS_OEM_VERS" not in header:
        raise OemError(
            "not an OEM: no CCSDS_OEM_VERS line", source=source, expected="CCSDS_OEM_VERS = 3.0"
        )
    close(0)
    if not segments:
        raise OemError("an OEM without a segment", source=source, expected="META_START")
    return Oem(header, tuple(segments), tuple(n for s in segments for n in s.notes))


def _segment(
    meta: dict[str, str],
    rows: list[tuple[datetime, list[float]]],
    refuse: Callable[[str], OemError],
) -> Segment:
    for key in ("OBJECT_NAME", "OBJECT_ID", "CENTER_NAME", "REF_FRAME", "TIME_SYSTEM"):
        if key not in meta:
            raise refuse(f"the segment's metadata lacks {key}")
    if meta["CENTER_NAME"].upper() != "EARTH":
        raise refuse(f"CENTER_NAME {meta['CENTER_NAME']!r}: only EARTH is supported")
    if meta["TIME_SYSTEM"].upper() != "UTC":
        raise refuse(f"TIME_SYSTEM {meta['TIME_SYSTEM']!r}: only UTC is supported")
    frame = meta["REF_FRAME"].upper()
    if frame != "TEME" and frame not in _FRAMES_AS_EME2000:
        raise refuse(f"REF_FRAME {frame!r}: supported are TEME, EME2000, GCRF and ICRF")
    notes = []
    method = meta.get("INTERPOLATION", "").upper()
    if not method:
        method = "LAGRANGE"
        notes.append("no INTERPOLATION given: Lagrange of degree 5")
    if method not in _METHODS:
        raise refuse(f"INTERPOLATION {method!r}: supported are LAGRANGE, HERMITE and LINEAR")
    try:
        degree = int(meta.get("INTERPOLATION_DEGREE", "5"))
    except ValueError:
        raise refuse("INTERPOLATION_DEGREE is not a whole number") from None
    if not 1 <= degree <= 15:
        raise refuse(f"INTERPOLATION_DEGREE {degree}: expected 1 to 15")
    epoch0 = rows[0][0].astimezone(UTC)
    t = np.array([(w - epoch0).total_seconds() for w, _ in rows])
    data = np.array([vals for _, vals in rows])
    try:
        lo = parse_epoch(meta.get("USEABLE_START_TIME", meta.get("START_TIME", ""))) - epoch0
        hi = parse_epoch(meta.get("USEABLE_STOP_TIME", meta.get("STOP_TIME", ""))) - epoch0
        start_s, stop_s = max(lo.total_seconds(), 0.0), min(hi.total_seconds(), float(t[-1]))
    except ValueError:
        start_s, stop_s = 0.0, float(t[-1])
    return Segment(
        object_name=meta["OBJECT_NAME"],
        object_id=meta["OBJECT_ID"],
        ref_frame=frame,
        interpolation=method,
        degree=degree,
        epoch0=epoch0,
        epochs_s=t,
        r=data[:, :3],
        v=data[:, 3:6],
        useable_start_s=start_s,
        useable_stop_s=stop_s,
        notes=tuple(notes),
    )
