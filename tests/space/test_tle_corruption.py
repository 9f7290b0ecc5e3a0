"""Every corruption the TLE checksum cannot see is refused, or reads as the same elements.

The checksum adds the digits and counts ``-`` as 1, so changing a character for another of the
same weight keeps it valid: a ``0`` for a blank, ``.`` or ``+`` (and back), a ``1`` for a ``-``.
The test makes every such single-character change, from the characters TLE lines are written
in, at every column of both lines of five element sets (an old ISS set, a high-eccentricity
debris, a rocket body, an Alpha-5 set, and one with a blank designator), and reads each one:
918 changes, of which 82 were read as other elements (a classification ``0``, a decimal point
moved, a negative mean motion, a blank inside the element set number) before each column was
held to its template.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from kizuna.space.formats import tle

DATA = Path(__file__).parent.parent / "data" / "space"
SETS = [
    *(DATA / "gpconf" / "corrupt-input" / "unedited-sets.tle").read_text().splitlines(),
    *(DATA / "gpconf" / "alpha5-tle" / "alpha5-T-270449-analyst-first.tle")
    .read_text()
    .splitlines(),
    "ISS (ZARYA)",
    "1 25544U 98067A   26140.50000000  .00016717  00000+0  10270-3 0  9992",
    "2 25544  51.6416 247.4627 0006703 130.5360 325.0288 15.50103472 44713",
]
ALPHABET = "0123456789 .+-"


def _weight(ch: str) -> int:
    return int(ch) if ch.isdigit() else 1 if ch == "-" else 0


def _corruptions() -> Iterator[tuple[str, str, str]]:
    """(description, original 3LE, corrupted 3LE) for every change the checksum misses."""
    for k in range(0, len(SETS), 3):
        name, one, two = SETS[k : k + 3]
        for line_no, line in ((1, one.rstrip()), (2, two.rstrip())):
            for col, old in enumerate(line):
                for new in ALPHABET:
                    if new == old or _weight(new) != _weight(old):
                        continue
                    bad = line[:col] + new + line[col + 1 :]
                    lines = [name, bad, two] if line_no == 1 else [name, one, bad]
                    yield (
                        f"{name.strip()} line {line_no} column {col + 1}: {old!r} -> {new!r}",
                        "\n".join([name, one, two]),
                        "\n".join(lines),
                    )


CASES = list(_corruptions())


def test_the_corruptions_are_the_ones_the_checksum_misses() -> None:
    assert len(CASES) == 918
    for _, original, corrupted in CASES:
        for old, new in zip(original.splitlines()[1:], corrupted.splitlines()[1:], strict=True):
            assert tle.checksum(new) == tle.checksum(old)
            assert _weight(new[68]) == _weight(old[68])


def test_each_corruption_is_refused_with_the_template_or_reads_the_same() -> None:
    garbage, untaught, refused = [], [], 0
    for what, original, corrupted in CASES:
        want = tle.parse(original)
        assert want.errors == [] and len(want.records) == 1
        got = tle.parse(corrupted, source="x.tle")
        if got.records:
            if got.records != want.records:
                garbage.append(what)
            continue
        refused += 1
        text = str(got.errors[0])
        if not ("\n    expected: " in text and text.index("expected:") < text.index("got:")):
            untaught.append(f"{what}: {text}")
    assert garbage == []
    assert untaught == []
    assert refused > len(CASES) // 2
