"""The error of one unusable record in a space data file (CDM, OMM): where, what, expected."""

from __future__ import annotations

from kizuna.errors import InvalidInput


class RecordError(InvalidInput, ValueError):
    """A record that cannot be used: its source and place, the problem, the bad input and the
    expected form beside it (one line each). Subclasses name their format's default source."""

    default_source = "<input>"

    def __init__(
        self,
        problem: str,
        *,
        source: str | None = None,
        where: str = "",
        line: str = "",
        expected: str = "",
    ) -> None:
        source = self.default_source if source is None else source
        parts = [f"{source} {where}".strip() + f": {problem}"]
        if line:
            parts.append(f"    got:      {line}")
        if expected:
            parts.append(f"    expected: {expected}")
        super().__init__("\n".join(parts), details={"source": source, "where": where})
        self.problem = problem
        self.source = source
        self.where = where
        self.line = line
        self.expected = expected
