"""The column layout of TLE lines 1 and 2, field by field, and the physical range of each value.

The checksum sees digits and minus signs only, so a line can change and keep its checksum (a
``0`` becoming a blank, a ``.`` or a ``+``; a ``1`` becoming a ``-``; a blank becoming ``0``).
Every column is therefore held to the form the template gives it: the blanks between fields
blank, the decimal points where the template has them, signs only where a sign goes, digits
right-justified with no blank inside. What passes is then checked against physics.

>>> line2 = "2 25544  51.6416 247.4627 0006703 130.5360 325.0288 15.50103472 44713"
>>> bad_column(2, line2) is None
True
>>> bad_column(2, line2.replace("247.4627", "-47.4627"))
('cannot read the right ascension of the ascending node (deg) in columns 18-25 (written NNN.NNNN, blanks before, digits after)', (18, 25))
>>> bad_column(2, line2.replace(" 0006703", "00006703"))
('column 26 must be blank (blank after the right ascension)', (26, 26))
"""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = ["FIELDS", "MEAN_MOTION_RANGE", "Field", "bad_column", "label_of", "out_of_range"]


class Field(NamedTuple):
    """One field of a TLE line: 1-based inclusive columns, what it is, how it is written."""

    first: int
    last: int
    label: str
    form: str  # shown in the message
    pattern: re.Pattern[str]


def _f(first: int, last: int, label: str, form: str, pattern: str) -> Field:
    return Field(first, last, label, form, re.compile(pattern))


_BLANK = r" "
_ANGLE = r" {0,2}\d{1,3}\.\d{4}"  # NNN.NNNN, right-justified
_IMPLIED = r"[ +-]\d{5}[+-]\d"  # +NNNNN-N: sign, five digits, exponent sign and digit
_CATALOG = r" {0,4}\d{1,5}|[A-HJ-NP-Z]\d{4}"

#: The fields of each line, in column order, blanks included (the checksum, column 69, and the
#: line number, column 1, are checked before).
FIELDS: dict[int, tuple[Field, ...]] = {
    1: (
        _f(2, 2, "blank after the line number", "a blank", _BLANK),
        _f(3, 7, "catalog number", "NNNNN, or Alpha-5: a letter and 4 digits", _CATALOG),
        _f(8, 8, "classification", "U, C or S", r"[UCS]"),
        _f(9, 9, "blank after the classification", "a blank", _BLANK),
        _f(
            10,
            17,
            "international designator (YYNNNAAA)",
            "YYNNNAAA: 1-3 letters, left-justified, or all blank",
            r"\d{5}(?:[A-Z]{3}|[A-Z]{2} |[A-Z]  )| {8}",
        ),
        _f(18, 18, "blank after the designator", "a blank", _BLANK),
        _f(
            19,
            32,
            "epoch (YYDDD.DDDDDDDD)",
            "YYDDD.DDDDDDDD",
            r"\d\d(?: {2}\d| \d\d|\d{3})\.\d{1,8} *",
        ),
        _f(33, 33, "blank after the epoch", "a blank", _BLANK),
        _f(
            34,
            43,
            "first derivative of mean motion",
            "+.NNNNNNNN: sign or blank, point, 8 digits",
            r"[ +-]\.\d{8}",
        ),
        _f(44, 44, "blank after the first derivative", "a blank", _BLANK),
        _f(45, 52, "second derivative of mean motion (NNNNN-N)", "+NNNNN-N", _IMPLIED),
        _f(53, 53, "blank after the second derivative", "a blank", _BLANK),
        _f(54, 61, "BSTAR (NNNNN-N, decimal point implied)", "+NNNNN-N", _IMPLIED),
        _f(62, 62, "blank after BSTAR", "a blank", _BLANK),
        _f(63, 63, "ephemeris type", "a digit (0) or a blank", r"[\d ]"),
        _f(64, 64, "blank after the ephemeris type", "a blank", _BLANK),
        _f(65, 68, "element set number", "up to 4 digits, right-justified", r" {0,3}\d{1,4}| {4}"),
    ),
    2: (
        _f(2, 2, "blank after the line number", "a blank", _BLANK),
        _f(3, 7, "catalog number", "NNNNN, or Alpha-5: a letter and 4 digits", _CATALOG),
        _f(8, 8, "blank after the catalog number", "a blank", _BLANK),
        _f(9, 16, "inclination (deg)", "NNN.NNNN, blanks before, digits after", _ANGLE),
        _f(17, 17, "blank after the inclination", "a blank", _BLANK),
        _f(
            18,
            25,
            "right ascension of the ascending node (deg)",
            "NNN.NNNN, blanks before, digits after",
            _ANGLE,
        ),
        _f(26, 26, "blank after the right ascension", "a blank", _BLANK),
        _f(
            27,
            33,
            "eccentricity (7 digits, decimal point implied)",
            "NNNNNNN (7 digits, no point)",
            r"\d{7}",
        ),
        _f(34, 34, "blank after the eccentricity", "a blank", _BLANK),
        _f(35, 42, "argument of perigee (deg)", "NNN.NNNN, blanks before, digits after", _ANGLE),
        _f(43, 43, "blank after the argument of perigee", "a blank", _BLANK),
        _f(44, 51, "mean anomaly (deg)", "NNN.NNNN, blanks before, digits after", _ANGLE),
        _f(52, 52, "blank after the mean anomaly", "a blank", _BLANK),
        _f(53, 63, "mean motion (rev/day)", "NN.NNNNNNNN", r" ?\d{1,2}\.\d{8}"),
        _f(
            64,
            68,
            "revolution number at epoch",
            "up to 5 digits, right-justified",
            r" {0,4}\d{1,5}| {5}",
        ),
    ),
}

# The field that holds each column, per line (to point at a blank that strayed).
_FIELD_AT = {
    line_no: {c: f for f in fields for c in range(f.first, f.last + 1)}
    for line_no, fields in FIELDS.items()
}


def label_of(line_no: int, column: int) -> str:
    """What the field holding *column* of line *line_no* is."""
    return _FIELD_AT[line_no][column].label


def bad_column(line_no: int, line: str) -> tuple[str, tuple[int, int]] | None:
    """The first field of a 69-column *line* not written as its template says: (problem,
    columns), or None when every field has its form."""
    for f in FIELDS[line_no]:
        if f.pattern.fullmatch(line[f.first - 1 : f.last]) is None:
            if f.form == "a blank":
                return f"column {f.first} must be blank ({f.label})", (f.first, f.last)
            where = f"columns {f.first}-{f.last}"
            return f"cannot read the {f.label} in {where} (written {f.form})", (f.first, f.last)
    return None


#: Mean motions (rev/day) of orbits that can exist: a semi-major axis above 0.95 Earth radii
#: (where SGP4 itself gives up) and below the Earth's Hill sphere (about 1.5 million km).
MEAN_MOTION_RANGE = (0.0047, 18.35)

#: Physical range of each value read from line 2, inclusive: (line, first column) -> range.
_RANGES: dict[tuple[int, int], tuple[float, float]] = {
    (2, 9): (0.0, 180.0),
    (2, 18): (0.0, 360.0),
    (2, 35): (0.0, 360.0),
    (2, 44): (0.0, 360.0),
    (2, 53): MEAN_MOTION_RANGE,
}


def out_of_range(line_no: int, first: int, value: float) -> str | None:
    """Why *value*, read from the field at (*line_no*, *first*), cannot be, or None.

    >>> out_of_range(2, 9, 51.6), out_of_range(2, 53, 25.0)
    (None, 'mean motion (rev/day) 25.0 is outside 0.0047 .. 18.35')
    """
    bounds = _RANGES.get((line_no, first))
    if bounds is None or bounds[0] <= value <= bounds[1]:
        return None
    label = label_of(line_no, first)
    return f"{label} {value!r} is outside {bounds[0]:g} .. {bounds[1]:g}"
