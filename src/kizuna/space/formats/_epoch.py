"""CCSDS epochs (502.0-B-3 and 508.0-B-1 share one form): the one parser OMM and CDM use.

An epoch is UTC, in calendar (``2026-05-20T06:49:59.999808``) or day-of-year
(``2026-140T06:49:59.999808``) form, with any number of fraction digits and an optional ``Z``.
The fraction is rounded to the nearest microsecond (what a ``datetime`` holds), carrying into
the next second, minute or day when it rounds up. A ``datetime`` has no leap seconds (it counts
as POSIX time does), so a leap second (``23:59:60``, which only the last minute of a UTC day can
hold) reads as the POSIX ``timegm`` reads it: as the first second of the next day, which keeps
instants in order; second 60 of any other minute is refused.

>>> parse_epoch("2020-064T10:34:41.4264").isoformat()
'2020-03-04T10:34:41.426400+00:00'
>>> parse_epoch("2010-03-13T22:37:52.61849996").isoformat()
'2010-03-13T22:37:52.618500+00:00'
>>> parse_epoch("2016-12-31T23:59:60.5Z").isoformat()
'2017-01-01T00:00:00.500000+00:00'
>>> parse_epoch("2026-05-20T12:00:60")
Traceback (most recent call last):
...
ValueError: second 60 (a leap second) is only possible at 23:59 UTC: '2026-05-20T12:00:60'
>>> parse_epoch("26263.52959654")
Traceback (most recent call last):
...
ValueError: not a CCSDS epoch: '26263.52959654' (expected 2026-05-20T06:49:59.999808 or 2026-140T06:49:59.999808)
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

__all__ = ["EPOCH_FORMS", "format_epoch", "parse_epoch"]

#: The two forms, as an example each (shown in error messages).
EPOCH_FORMS = "2026-05-20T06:49:59.999808 or 2026-140T06:49:59.999808"

_EPOCH = re.compile(r"^(\d{4})-(?:(\d{2})-(\d{2})|(\d{3}))T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?Z?$")


def parse_epoch(text: str) -> datetime:
    """A CCSDS epoch as an aware UTC datetime (raises ValueError saying what is wrong)."""
    m = _EPOCH.match(text.strip())
    if m is None:
        raise ValueError(f"not a CCSDS epoch: {text!r} (expected {EPOCH_FORMS})")
    year, month, day, doy, hh, mi, ss, frac = m.groups()
    hour, minute, second = int(hh), int(mi), int(ss)
    if hour > 23 or minute > 59 or second > 60:
        raise ValueError(f"time of day out of range in epoch {text!r}")
    if second == 60 and (hour, minute) != (23, 59):
        raise ValueError(f"second 60 (a leap second) is only possible at 23:59 UTC: {text!r}")
    if doy is not None:
        number = int(doy)
        base = datetime(int(year), 1, 1, tzinfo=UTC) + timedelta(days=number - 1)
        if number == 0 or base.year != int(year):
            raise ValueError(f"day of year out of range in epoch {text!r}")
    else:
        try:
            base = datetime(int(year), int(month), int(day), tzinfo=UTC)
        except ValueError:
            raise ValueError(f"date out of range in epoch {text!r}") from None
    micro = 0
    if frac:  # to the nearest microsecond, half up, in integers (no binary rounding)
        scale = 10 ** max(len(frac) - 6, 0)
        micro = (int(frac.ljust(6, "0")) + scale // 2) // scale
    return base + timedelta(hours=hour, minutes=minute, seconds=second, microseconds=micro)


def format_epoch(when: datetime, *, digits: int = 6) -> str:
    """An aware datetime as a CCSDS calendar epoch (UTC, no ``Z``) with *digits* fraction digits
    (3 or 6); with 3, microseconds are kept when the milliseconds would lose them.

    >>> when = parse_epoch("2026-140T06:49:59.5Z")
    >>> format_epoch(when), format_epoch(when, digits=3)
    ('2026-05-20T06:49:59.500000', '2026-05-20T06:49:59.500')
    >>> format_epoch(parse_epoch("2026-05-20T06:49:59.123456"), digits=3)
    '2026-05-20T06:49:59.123456'
    """
    if digits not in (3, 6):
        raise ValueError(f"digits must be 3 or 6, not {digits}")
    when = when.astimezone(UTC)
    frac = f"{when.microsecond:06d}"
    if digits == 3 and frac.endswith("000"):
        frac = frac[:3]
    return when.strftime("%Y-%m-%dT%H:%M:%S") + "." + frac
