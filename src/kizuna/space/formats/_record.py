"""The error of one unusable record in a space data file (TLE, OMM, CDM): where, what, expected.

It is :class:`kizuna.errors.RecordError` (422, also a ``ValueError``), which draws the message,
with the columns of the given line it points at kept as ``columns``.

>>> print(RecordError("cannot read the mean motion", source="a.tle", where="line 3",
...                   line="2 25544  51.6416 15.5O103472", expected="2 NNNNN NNN.NNNN NN.NNNNNNNN",
...                   columns=(18, 28)))
a.tle line 3: cannot read the mean motion
    expected: 2 NNNNN NNN.NNNN NN.NNNNNNNN
    got:      2 25544  51.6416 15.5O103472
                               ^^^^^^^^^^^
>>> import kizuna.errors
>>> issubclass(RecordError, kizuna.errors.RecordError)
True
"""

from __future__ import annotations

from kizuna import errors

__all__ = ["RecordError"]


class RecordError(errors.RecordError):
    """A record that cannot be used: its source and place, the problem, then the expected form
    and the given input (one line each, in that order; carets under the given input mark
    ``columns``, 1-based and inclusive). Subclasses name their format's default source."""

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
        super().__init__(
            problem, source=source, where=where, expected=expected, line=line, columns=columns
        )
        self.columns = columns
