"""STIX 2.1 timestamps (RFC 3339, UTC, ``Z``) as integer microseconds since the epoch.

Versions are ordered and compared by their microsecond value, so that ``...16.4Z`` and
``...16.400Z`` are the same version, while the original string is kept in the stored bytes.

>>> to_micros("2015-05-15T09:12:16.432Z")
1431681136432000
>>> format_micros(1431681136432000)
'2015-05-15T09:12:16.432Z'
>>> format_micros(1431681136432001)
'2015-05-15T09:12:16.432001Z'
"""

from __future__ import annotations

import functools
import re
import time
from datetime import UTC, datetime

_TIMESTAMP = re.compile(
    r"^(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})T(?P<h>\d{2}):(?P<mi>\d{2}):(?P<s>\d{2})"
    r"(?:\.(?P<frac>\d+))?Z$"
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

EXPECTED = "YYYY-MM-DDTHH:MM:SS[.s+]Z (UTC, e.g. 2026-05-19T12:00:00.000Z)"


class TimestampError(ValueError):
    """A string that is not a STIX 2.1 timestamp; the message shows the expected form."""


def to_micros(value: object) -> int:
    """Parse a STIX timestamp into microseconds since 1970-01-01T00:00:00Z.

    Digits beyond the microsecond are truncated (STIX allows any precision). Objects repeat
    their timestamps (created, modified, valid_from) and feeds repeat them across objects, so
    valid strings are remembered.
    """
    if not isinstance(value, str):
        raise TimestampError(f"expected a timestamp string {EXPECTED}, got {type(value).__name__}")
    return _parse(value)


@functools.lru_cache(maxsize=65_536)
def _parse(value: str) -> int:
    m = _TIMESTAMP.match(value)
    if m is None:
        raise TimestampError(f"expected {EXPECTED}, got {value!r}")
    try:
        dt = datetime(
            int(m["y"]),
            int(m["mo"]),
            int(m["d"]),
            int(m["h"]),
            int(m["mi"]),
            min(int(m["s"]), 59),
            tzinfo=UTC,
        )
    except ValueError as exc:
        raise TimestampError(f"{value!r} is not a valid date and time: {exc}") from None
    frac = (m["frac"] or "")[:6].ljust(6, "0")
    delta = dt - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + int(frac)


def format_micros(micros: int) -> str:
    """Format microseconds since the epoch as a STIX timestamp.

    Millisecond precision when that is exact, microseconds otherwise.
    """
    seconds, us = divmod(micros, 1_000_000)
    base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    if us % 1000 == 0:
        return f"{base}.{us // 1000:03d}Z"
    return f"{base}.{us:06d}Z"


def now_micros() -> int:
    """The current time in microseconds since the epoch."""
    return time.time_ns() // 1000
