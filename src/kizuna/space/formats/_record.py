"""The error of one unusable record in a space data file (TLE, OMM, CDM): where, what, expected.

>>> print(RecordError("cannot read the mean motion", source="a.tle", where="line 3",
...                   line="2 25544  51.6416 15.5O103472", expected="2 NNNNN NNN.NNNN NN.NNNNNNNN",
...                   columns=(18, 28)))
a.tle line 3: cannot read the mean motion
    expected: 2 NNNNN NNN.NNNN NN.NNNNNNNN
    got:      2 25544  51.6416 15.5O103472
                               ^^^^^^^^^^^
"""

from __future__ import annotations

from kizuna.errors import InvalidInput

__all__ = ["RecordError"]

_INDENT = "    got:      "


class RecordError(InvalidInput, ValueError):
    """A record that cannot be used: its source and place, the problem, then the expected form
    and the given input (one line each, in that order; carets under the given input mark
    ``columns``, 1-based and inclusive). Subclasses name their format's default source."""

    default_source = "<input>"

    def __init__(
        self,
        problem: str,
        *,
        source: str | None = None,
        where: str = "",
        line: str = "",
        expected: str = "",
        columns: tuple[int, int] | None = None,
    ) -> None:
        source = self.default_source if source is None else source
        parts = [f"{source} {where}".strip() + f": {problem}"]
        if expected:
            parts.append(f"    expected: {expected}")
        if line:
            parts.append(f"{_INDENT}{line}")
            if columns:
                first, last = columns
                parts.append(" " * (len(_INDENT) + first - 1) + "^" * (last - first + 1))
        super().__init__("\n".join(parts), details={"source": source, "where": where})
        self.problem = problem
        self.source = source
        self.where = where
        self.line = line
        self.expected = expected
        self.columns = columns
