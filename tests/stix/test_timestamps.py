"""STIX timestamps to microseconds: the fast parser agrees with datetime arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kizuna.errors import TimestampError
from kizuna.stix.timestamps import (
    _parse,
    _parse_slowly,
    format_micros,
    to_micros,
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@given(
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)),
    st.sampled_from(["", ".5", ".123", ".123456", ".123456789"]),
)
def test_agrees_with_datetime(moment: datetime, frac: str) -> None:
    text = moment.strftime("%Y-%m-%dT%H:%M:%S").rjust(19, "0") + frac + "Z"
    whole = moment.replace(microsecond=0, tzinfo=UTC) - _EPOCH
    expected = (whole.days * 86_400 + whole.seconds) * 1_000_000
    expected += int(frac[1:7].ljust(6, "0")) if frac else 0
    assert _parse(text) == expected  # the parser itself, not what to_micros remembers
    assert to_micros(text) == expected


def test_round_trip_and_leap_second() -> None:
    assert to_micros(format_micros(1431681136432000)) == 1431681136432000
    assert to_micros("2016-12-31T23:59:60.5Z") - to_micros("2016-12-31T23:59:59Z") == 500_000


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2024-02-30T00:00:00Z", "day is out of range for month"),
        ("2023-02-29T00:00:00Z", "day is out of range for month"),
        ("2023-13-01T00:00:00Z", "month must be in 1..12"),
        ("0000-01-01T00:00:00Z", "year 0 is out of range"),
        ("2023-01-01T24:00:00Z", "hour must be in 0..23"),
        ("2023-01-01T00:60:00Z", "minute must be in 0..59"),
        ("2023-01-01 00:00:00Z", "expected YYYY-MM-DDTHH:MM:SS"),
        ("2023-01-01T00:00:00.Z", "expected YYYY-MM-DDTHH:MM:SS"),
        ("2023-01-01T00:00:00z", "expected YYYY-MM-DDTHH:MM:SS"),
        ("2023-01-01T00:00:00+00:00", "expected YYYY-MM-DDTHH:MM:SS"),
        ("2023-01-01T00:00:00Z\n", "expected YYYY-MM-DDTHH:MM:SS"),
    ],
)
def test_refuses_with_reason(text: str, reason: str) -> None:
    with pytest.raises(TimestampError, match=reason):
        to_micros(text)


@given(
    st.tuples(
        st.integers(0, 9999),
        st.integers(0, 99),
        st.integers(0, 99),
        st.integers(0, 99),
        st.integers(0, 99),
        st.integers(0, 99),
    ),
    st.text(alphabet="0123456789", max_size=12),
)
def test_fast_path_agrees_with_the_slow_one_on_every_well_formed_string(
    fields: tuple[int, int, int, int, int, int], frac: str
) -> None:
    """datetime.fromisoformat does the arithmetic for valid values; anything it refuses (leap
    seconds, impossible dates) goes to the slow path, which accepts or explains."""
    y, mo, d, h, mi, sec = fields
    text = f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{sec:02d}" + (f".{frac}" if frac else "") + "Z"
    try:
        expected: int | str = _parse_slowly(text)
    except TimestampError as exc:
        expected = str(exc)
    try:
        got: int | str = _parse(text)
    except TimestampError as exc:
        got = str(exc)
    assert got == expected


def test_remembered_timestamps_are_forgotten_when_too_many() -> None:
    from kizuna.stix import timestamps

    timestamps._REMEMBERED.clear()
    first = "2020-01-01T00:00:00.000Z"
    assert to_micros(first) == to_micros(first) == 1577836800000000
    assert first in timestamps._REMEMBERED
    for n in range(timestamps._REMEMBER):  # fills the memory: it starts again
        to_micros(format_micros(1577836800000000 + n + 1))
    assert first not in timestamps._REMEMBERED
    assert len(timestamps._REMEMBERED) <= timestamps._REMEMBER
    assert to_micros(first) == 1577836800000000
    with pytest.raises(TimestampError):
        to_micros("2020-01-01")  # a refused value is not remembered
    assert "2020-01-01" not in timestamps._REMEMBERED
