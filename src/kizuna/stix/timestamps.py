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

import re
import time
from datetime import UTC, date, datetime, timedelta

from kizuna.errors import TimestampError

__all__ = ["EXPECTED", "format_added", "format_micros", "now_micros", "to_micros"]

#: ASCII digits only: a str pattern's \d also matches other scripts' digits ("٢٠٢٠").
_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.(\d+))?Z\Z", re.ASCII)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_DAY = _EPOCH.toordinal()
_MICROSECOND = timedelta(microseconds=1)

EXPECTED = "YYYY-MM-DDTHH:MM:SS[.s+]Z (UTC, e.g. 2026-05-19T12:00:00.000Z)"


def to_micros(value: object) -> int:
    """Parse a STIX timestamp into microseconds since 1970-01-01T00:00:00Z.

    Digits beyond the microsecond are truncated (STIX allows any precision). Objects repeat
    their timestamps (created, modified, valid_from) and feeds repeat them across objects, so
    valid strings are remembered.
    """
    if not isinstance(value, str):
        raise TimestampError(f"expected a timestamp string {EXPECTED}, got {type(value).__name__}")
    micros = _REMEMBERED.get(value)
    if micros is None:
        micros = _parse(value)
        if len(_REMEMBERED) >= _REMEMBER:
            _REMEMBERED.clear()
        _REMEMBERED[value] = micros
    return micros


#: Valid timestamps seen lately and their microseconds: a plain dict, emptied when full. An
#: ``lru_cache`` kept its order on every miss, and most timestamps of a feed are new ones: it
#: cost more per object than this (4 lookups, one new string: 1.97 against 1.40 us).
_REMEMBERED: dict[str, int] = {}
_REMEMBER = 65_536


def _parse(value: str) -> int:
    if _TIMESTAMP.match(value) is None:
        raise TimestampError(f"expected {EXPECTED}, got {_quoted(value)}")
    try:
        # The form is checked; datetime's C parser does the arithmetic (it truncates digits
        # beyond the microsecond, as STIX versions compare here).
        return (datetime.fromisoformat(value) - _EPOCH) // _MICROSECOND
    except ValueError:
        return _parse_slowly(value)  # a leap second, or the reason the date is invalid


def _parse_slowly(value: str) -> int:
    try:
        days = date(int(value[0:4]), int(value[5:7]), int(value[8:10])).toordinal()
    except ValueError as exc:
        raise TimestampError(f"{_quoted(value)} is not a valid date and time: {exc}") from None
    hours, minutes = int(value[11:13]), int(value[14:16])
    if hours > 23:
        raise TimestampError(f"{_quoted(value)} is not a valid date and time: hour must be in 0..23")
    if minutes > 59:
        raise TimestampError(
            f"{_quoted(value)} is not a valid date and time: minute must be in 0..59"
        )
    seconds = min(int(value[17:19]), 59)  # a leap second (60) counts as 59
    frac = value[20:-1]
    micros = int(frac[:6].ljust(6, "0")) if frac else 0
    return (
        (days - _EPOCH_DAY) * 86_400_000_000
        + (hours * 60 + minutes) * 60_000_000
        + seconds * 1_000_000
        + micros
    )


def _quoted(value: str) -> str:
    """*value* quoted for a message, its middle left out when it is long."""
    return repr(value) if len(value) <= 60 else f"{value[:30]!r}...{value[-10:]!r}"


def format_micros(micros: int) -> str:
    """Format microseconds since the epoch as a STIX timestamp.

    Millisecond precision when that is exact, microseconds otherwise.
    """
    seconds, us = divmod(micros, 1_000_000)
    base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    if us % 1000 == 0:
        return f"{base}.{us // 1000:03d}Z"
    return f"{base}.{us:06d}Z"


def format_added(micros: int) -> str:
    """Format a ``date_added`` (the node's clock, in microseconds) as TAXII answers carry it:
    always six digits of fraction, as the OASIS reference server writes them; also the version
    of an object that has no ``modified`` or ``created`` (an SCO).

    >>> format_added(1_399_539_600_000_000), format_micros(1_399_539_600_000_000)
    ('2014-05-08T09:00:00.000000Z', '2014-05-08T09:00:00.000Z')
    """
    seconds, us = divmod(micros, 1_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{us:06d}Z"


def now_micros() -> int:
    """The current time in microseconds since the epoch."""
    return time.time_ns() // 1000
