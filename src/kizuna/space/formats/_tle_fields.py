"""The fields of a TLE that have a coding of their own: the line checksum, and the Alpha-5
catalog number (a letter for the ten-thousands, for numbers 100,000 to 339,999).
"""

from __future__ import annotations

import re

__all__ = ["alpha5_decode", "alpha5_encode", "checksum"]

_ALPHA = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # A=10 ... Z=33, without I and O


def checksum(line: str) -> int:
    """The modulo-10 checksum of columns 1-68: digits count their value, '-' counts 1.

    >>> checksum("1 25544U 98067A   26140.50000000  .00016717  00000+0  10270-3 0  9992")
    2
    """
    total = 0
    for ch in line[:68]:
        if ch.isdigit():
            total += int(ch)
        elif ch == "-":
            total += 1
    return total % 10


def alpha5_decode(field: str) -> int:
    """The catalog number in TLE columns 3-7: five digits, or Alpha-5 (a letter and 4 digits).

    >>> alpha5_decode("25544"), alpha5_decode("A0000"), alpha5_decode("Z9999"), alpha5_decode(" 1234")
    (25544, 100000, 339999, 1234)
    >>> alpha5_decode("I0000")
    Traceback (most recent call last):
    ...
    ValueError: not a catalog number: 'I0000' (expected 5 digits, or a letter A-Z without I and O and 4 digits)
    """
    text = field.strip()
    if re.fullmatch(r"\d{1,5}", text):
        return int(text)
    if len(text) == 5 and text[0] in _ALPHA and text[1:].isdigit():
        return (_ALPHA.index(text[0]) + 10) * 10_000 + int(text[1:])
    raise ValueError(
        f"not a catalog number: {field!r} "
        "(expected 5 digits, or a letter A-Z without I and O and 4 digits)"
    )


def alpha5_encode(number: int) -> str:
    """The five TLE columns for a catalog number (Alpha-5 from 100,000 to 339,999).

    >>> alpha5_encode(25544), alpha5_encode(100000), alpha5_encode(270449)
    ('25544', 'A0000', 'T0449')
    """
    if number < 0:
        raise ValueError(f"catalog number {number} is negative")
    if number < 100_000:
        return f"{number:05d}"
    if number <= 339_999:
        return _ALPHA[number // 10_000 - 10] + f"{number % 10_000:04d}"
    raise ValueError(
        f"catalog number {number} does not fit a TLE (Alpha-5 ends at 339999); write an OMM"
    )
