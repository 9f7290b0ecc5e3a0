"""Two- and three-line element sets (TLE / 3LE), with Alpha-5 catalog numbers.

A TLE is a fixed-column rendering of an OMM record; this module reads it into the same
:class:`~kizuna.space.formats.omm.ElementSet` and writes one back. Reading never stops at the first bad
record: :func:`parse` returns the element sets that parsed and one :class:`TleError` per record
that did not, and each error prints the column template above the line it could not read.

>>> text = '''ISS (ZARYA)
... 1 25544U 98067A   26140.50000000  .00016717  00000+0  10270-3 0  9992
... 2 25544  51.6416 247.4627 0006703 130.5360 325.0288 15.50103472 44713
... '''
>>> result = parse(text)
>>> es = result.records[0]
>>> es.norad_cat_id, es.object_name, es.object_id, es.epoch.isoformat()
(25544, 'ISS (ZARYA)', '1998-067A', '2026-05-20T12:00:00+00:00')
>>> format_tle(es)[1] == text.splitlines()[2]
True
>>> print(parse(text.replace("15.50103472", "15.5O103472")).errors[0])
<tle> line 3: cannot read the mean motion (rev/day) in columns 53-63 (written NN.NNNNNNNN)
    expected: 2 NNNNN NNN.NNNN NNN.NNNN NNNNNNN NNN.NNNN NNN.NNNN NN.NNNNNNNNRRRRRC
    got:      2 25544  51.6416 247.4627 0006703 130.5360 325.0288 15.5O103472 44713
                                                                  ^^^^^^^^^^^
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from kizuna.space.formats._record import RecordError
from kizuna.space.formats._tle_columns import bad_column, label_of, out_of_range
from kizuna.space.formats._tle_fields import alpha5_decode, alpha5_encode, checksum
from kizuna.space.formats.omm import ElementSet

__all__ = [
    "LINE1_TEMPLATE",
    "LINE2_TEMPLATE",
    "TleError",
    "TleResult",
    "alpha5_decode",
    "alpha5_encode",
    "checksum",
    "format_tle",
    "looks_like_tle",
    "parse",
]

#: The column layout of line 1: N digit, U classification, A designator letters, + sign or
#: blank, C the checksum digit.
LINE1_TEMPLATE = "1 NNNNNU NNNNNAAA NNNNN.NNNNNNNN +.NNNNNNNN +NNNNN-N +NNNNN-N N NNNNC"
#: The column layout of line 2 (R: revolution number).
LINE2_TEMPLATE = "2 NNNNN NNN.NNNN NNN.NNNN NNNNNNN NNN.NNNN NNN.NNNN NN.NNNNNNNNRRRRRC"

_T = TypeVar("_T")


class TleError(RecordError):
    """A TLE record that cannot be read, shown under the template of the line it failed on.

    ``columns`` (1-based, inclusive) marks the offending field with carets.
    """

    default_source = "<tle>"

    def __init__(
        self,
        problem: str,
        *,
        source: str = "<tle>",
        line_number: int = 0,
        line: str = "",
        template: str = "",
        columns: tuple[int, int] | None = None,
    ) -> None:
        super().__init__(
            problem,
            source=source,
            where=f"line {line_number}" if line_number else "",
            line=line,
            expected=template,
            columns=columns,
        )
        self.line_number = line_number


@dataclass(frozen=True, slots=True)
class TleResult:
    """What :func:`parse` read: the element sets, and one error per bad record."""

    records: list[ElementSet]
    errors: list[TleError]


# ---------------------------------------------------------------------------------------------
# Reading


def _records(lines: list[str], source: str) -> Iterator[tuple[int, str, str, str] | TleError]:
    """Group lines into (line number of line 1, name, line 1, line 2) or errors."""
    name = ""
    i = 0
    while i < len(lines):
        raw = lines[i].rstrip("\r\n")
        stripped = raw.rstrip()
        if not stripped:
            i += 1
            continue
        if stripped.startswith("1 "):
            nxt = lines[i + 1].rstrip() if i + 1 < len(lines) else ""
            if nxt.startswith("2 "):
                yield (i + 1, name, stripped, nxt)
                i += 2
            else:
                yield TleError(
                    "line 1 is not followed by line 2",
                    source=source,
                    line_number=i + 2 if i + 1 < len(lines) else i + 1,
                    line=nxt,
                    template=LINE2_TEMPLATE,
                )
                i += 1
            name = ""
            continue
        if stripped.startswith("2 "):
            yield TleError(
                "line 2 without a line 1 before it",
                source=source,
                line_number=i + 1,
                line=stripped,
                template=LINE1_TEMPLATE,
            )
            name = ""
            i += 1
            continue
        name = stripped[2:].strip() if stripped.startswith("0 ") else stripped.strip()
        i += 1


def _implied(field: str) -> float:
    """An implied-decimal exponent field such as ' 10270-3' (0.10270e-3) or '-11606-4'."""
    text = field.strip()
    m = re.fullmatch(r"([+-]?)(\d{1,5})([+-]\d)", text)
    if m is None:
        raise ValueError(field)
    sign = -1.0 if m.group(1) == "-" else 1.0
    return sign * float("0." + m.group(2)) * 10.0 ** int(m.group(3))


def _designator(field: str) -> str:
    text = field.strip()
    if not text:
        return ""
    m = re.fullmatch(r"(\d\d)(\d{3})([A-Z]{1,3})", text)
    if m is None:
        raise ValueError(field)
    yy = int(m.group(1))
    year = 1900 + yy if yy >= 57 else 2000 + yy
    return f"{year}-{m.group(2)}{m.group(3)}"


def _epoch(yy: str, day: str) -> datetime:
    if not re.fullmatch(r"\d\d", yy) or not re.fullmatch(r"[ \d]{2}\d\.\d{1,8}", day.rstrip()):
        raise ValueError(day)
    y = int(yy)
    year = 1900 + y if y >= 57 else 2000 + y
    days = float(day)
    length = (datetime(year + 1, 1, 1) - datetime(year, 1, 1)).days
    if not 1.0 <= days < length + 1.0:
        raise ValueError(day)
    return datetime(year, 1, 1, tzinfo=UTC) + timedelta(days=days - 1.0)


def _number(field: str) -> float:
    text = field.strip()
    if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)", text):
        raise ValueError(field)
    return float(text)


class _Lines:
    """The two lines of one record, and how to read a field of them with a teaching error."""

    def __init__(self, number: int, line1: str, line2: str, source: str) -> None:
        self.number, self.source = number, source
        self.lines = {1: line1, 2: line2}

    def fail(self, line_no: int, problem: str, cols: tuple[int, int] | None) -> TleError:
        return TleError(
            problem,
            source=self.source,
            line_number=self.number + line_no - 1,
            line=self.lines[line_no],
            template=LINE1_TEMPLATE if line_no == 1 else LINE2_TEMPLATE,
            columns=cols,
        )

    def check(self) -> None:
        for line_no, line in self.lines.items():
            if len(line) != 69:
                col = min(len(line), 69) + 1
                raise self.fail(
                    line_no,
                    f"line {line_no} has {len(line)} columns, a TLE line has 69",
                    (col, col),
                )
            if not line[68].isdigit() or checksum(line) != int(line[68]):
                problem = f"checksum: the digits give {checksum(line)}, column 69 says {line[68]}"
                raise self.fail(line_no, problem, (69, 69))
        for line_no, line in self.lines.items():
            bad = bad_column(line_no, line)
            if bad is not None:
                raise self.fail(line_no, bad[0], bad[1])

    def field(self, line_no: int, first: int, last: int, parse: Callable[[str], _T]) -> _T:
        try:
            value = parse(self.lines[line_no][first - 1 : last])
        except ValueError:
            label = label_of(line_no, first)
            problem = f"cannot read the {label} in columns {first}-{last}"
            raise self.fail(line_no, problem, (first, last)) from None
        if isinstance(value, float):
            wrong = out_of_range(line_no, first, value)
            if wrong is not None:
                raise self.fail(line_no, wrong, (first, last))
        return value


def _eccentricity(text: str) -> float:
    if not re.fullmatch(r"\d{7}", text):
        raise ValueError(text)
    return float("." + text)


def _read(number: int, name: str, line1: str, line2: str, source: str) -> ElementSet:
    rec = _Lines(number, line1, line2, source)
    rec.check()
    sat1 = rec.field(1, 3, 7, alpha5_decode)
    sat2 = rec.field(2, 3, 7, alpha5_decode)
    if sat1 != sat2:
        raise rec.fail(2, f"catalog number {sat2} on line 2 differs from {sat1} on line 1", (3, 7))
    ephemeris = line1[62].strip()
    setno = line1[64:68].strip()
    revs = line2[63:68].strip()
    return ElementSet(
        norad_cat_id=sat1,
        epoch=rec.field(1, 19, 32, lambda s: _epoch(s[:2], s[2:])),
        mean_motion=rec.field(2, 53, 63, _number),
        eccentricity=rec.field(2, 27, 33, _eccentricity),
        inclination=rec.field(2, 9, 16, _number),
        ra_of_asc_node=rec.field(2, 18, 25, _number),
        arg_of_pericenter=rec.field(2, 35, 42, _number),
        mean_anomaly=rec.field(2, 44, 51, _number),
        bstar=rec.field(1, 54, 61, _implied),
        mean_motion_dot=rec.field(1, 34, 43, _number),
        mean_motion_ddot=rec.field(1, 45, 52, _implied),
        object_name=name,
        object_id=rec.field(1, 10, 17, _designator),
        ephemeris_type=int(ephemeris) if ephemeris else 0,
        classification_type=line1[7],
        element_set_no=int(setno) if setno else 999,
        rev_at_epoch=int(revs) if revs else 0,
    )


def parse(text: str, *, source: str = "<tle>") -> TleResult:
    """Read TLEs or 3LEs (a name line before each pair; a leading ``0 `` is dropped)."""
    records: list[ElementSet] = []
    errors: list[TleError] = []
    for item in _records(text.splitlines(), source):
        if isinstance(item, TleError):
            errors.append(item)
            continue
        try:
            records.append(_read(*item, source))
        except TleError as exc:
            errors.append(exc)
    return TleResult(records, errors)


def looks_like_tle(text: str) -> bool:
    """True when *text* has a line that starts like TLE line 1 followed by a line 2.

    >>> looks_like_tle("X\\n1 25544U 98067A\\n2 25544  51.6"), looks_like_tle("[{}]")
    (True, False)
    """
    lines = [ln for ln in text.splitlines()[:50] if ln.strip()]
    return any(a.startswith("1 ") and b.startswith("2 ") for a, b in itertools.pairwise(lines))


# ---------------------------------------------------------------------------------------------
# Writing


def _exp_field(value: float) -> str:
    """An implied-decimal exponent field: 0.10270e-3 -> ' 10270-3'."""
    if value == 0.0:
        return " 00000+0"
    sign = "-" if value < 0 else " "
    exponent = math.floor(math.log10(abs(value))) + 1
    mantissa = round(abs(value) / 10.0**exponent * 1e5)
    if mantissa >= 100_000:
        mantissa //= 10
        exponent += 1
    if not -9 <= exponent <= 9:
        raise ValueError(f"{value!r} is out of the range a TLE exponent field can hold")
    return f"{sign}{mantissa:05d}{'-' if exponent < 0 else '+'}{abs(exponent)}"


def _with_checksum(line: str) -> str:
    return line + str(checksum(line))


def format_tle(es: ElementSet) -> tuple[str, str]:
    """Write an element set as TLE lines 1 and 2 (Alpha-5 above 99,999).

    >>> from kizuna.space.formats.omm import parse_epoch
    >>> es = ElementSet(270449, parse_epoch("2026-05-20T00:00:00"), 15.2, .00056, 97.46, 154.1,
    ...                 270.5, 89.5, bstar=2.2159e-4, object_id="2026-067CY")
    >>> format_tle(es)[0]
    '1 T0449U 26067CY  26140.00000000  .00000000  00000+0  22159-3 0  9992'
    """
    if es.norad_cat_id is None:
        raise ValueError("an element set without NORAD_CAT_ID cannot be written as a TLE")
    sat = alpha5_encode(es.norad_cat_id)
    desig = ""
    m = re.fullmatch(r"(\d{4})-(\d{3})([A-Z]{1,3})", es.object_id)
    if m:
        desig = m.group(1)[2:] + m.group(2) + m.group(3)
    epoch = es.epoch.astimezone(UTC)
    start = datetime(epoch.year, 1, 1, tzinfo=UTC)
    day = 1.0 + (epoch - start).total_seconds() / 86400.0
    ndot = f"{es.mean_motion_dot:.8f}".replace("0.", ".", 1)
    ndot = ndot if ndot.startswith("-") else " " + ndot
    line1 = (
        f"1 {sat}{es.classification_type[:1] or 'U'} {desig:<8} {epoch.year % 100:02d}"
        f"{day:012.8f} {ndot:>10} {_exp_field(es.mean_motion_ddot)} {_exp_field(es.bstar)} "
        f"{es.ephemeris_type % 10} {es.element_set_no % 10000:>4}"
    )
    ecc = f"{es.eccentricity:.7f}"
    if not ecc.startswith("0."):
        raise ValueError(f"eccentricity {es.eccentricity!r} does not fit a TLE")
    line2 = (
        f"2 {sat} {es.inclination:8.4f} {es.ra_of_asc_node:8.4f} {ecc[2:]} "
        f"{es.arg_of_pericenter:8.4f} {es.mean_anomaly:8.4f} {es.mean_motion:11.8f}"
        f"{es.rev_at_epoch % 100000:5d}"
    )
    return _with_checksum(line1), _with_checksum(line2)
