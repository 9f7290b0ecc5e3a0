"""STIX 2.1 patterns as values: the syntax tree that the matcher compiles.

:func:`parse_pattern` reads a pattern into a tree of the classes below, with the literals as
Python values (strings, integers, floats, booleans, bytes for ``h'..'`` and ``b'..'``,
:class:`Timestamp` for ``t'..'``). A recursive-descent parser (``_grammar.py``) reads the
grammar of the OASIS ``STIXPattern.g4`` in microseconds; what it does not take (comments, for
instance) is read from the parse tree of ``stix2-patterns`` instead (``_antlr.py``), so every
pattern ``stix2-patterns`` accepts has a tree.

>>> p = parse_pattern("[file:hashes.'SHA-256' = 'ab' OR file:name IN ('a.exe', 'b.exe')]")
>>> p
Observation(expr=Or(items=(Comparison(path=Path(object_type='file', steps=('hashes', 'SHA-256')), op='=', value='ab', negated=False), Comparison(path=Path(object_type='file', steps=('name',)), op='IN', value=('a.exe', 'b.exe'), negated=False))))
>>> parse_pattern("[a:b = 1] FOLLOWEDBY [a:c = 2] WITHIN 5 SECONDS").right
Within(expr=Observation(expr=Comparison(path=Path(object_type='a', steps=('c',)), op='=', value=2, negated=False)), micros=5000000)
>>> parse_pattern("[a:b = ]")
Traceback (most recent call last):
...
kizuna.cyber.pattern.PatternError: not a STIX 2.1 pattern: 1:7: no viable alternative at input ']'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, TypeAlias

__all__ = [
    "STAR",
    "And",
    "Comparison",
    "ComparisonExpr",
    "FollowedBy",
    "Literal",
    "ObsAnd",
    "ObsOr",
    "Observation",
    "ObservationExpr",
    "Or",
    "Path",
    "PatternError",
    "Repeats",
    "StartStop",
    "Step",
    "Timestamp",
    "Within",
    "parse_pattern",
]


class PatternError(ValueError):
    """A pattern that cannot be matched: not valid STIX 2.1, or a literal the matcher refuses
    (a set of mixed types, ``REPEATS 0 TIMES``, ``WITHIN 0 SECONDS``, a bad regular expression
    or network)."""


@dataclass(frozen=True, slots=True)
class Timestamp:
    """A ``t'...'`` literal (or a timestamp in the data), in microseconds since the epoch;
    digits past the microsecond are dropped, as ``stix2-matcher`` drops them."""

    micros: int


class _Star:
    """The ``[*]`` step of a path (every element of a list)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "STAR"

    def __reduce__(self) -> str:
        return "STAR"


STAR: Final = _Star()

#: A path step: a dictionary key, a list index, or every element of a list.
Step: TypeAlias = "str | int | _Star"
Literal: TypeAlias = "str | int | float | bool | bytes | Timestamp"


@dataclass(frozen=True, slots=True)
class Path:
    """``object_type:first.step[0].step``: the first step is always a key."""

    object_type: str
    steps: tuple[Step, ...]

    def text(self) -> str:
        """The path as a pattern spells it (keys quoted where they must be)."""
        out = [self.object_type, ":"]
        for i, step in enumerate(self.steps):
            if isinstance(step, str):
                plain = step.isidentifier() and step.isascii()
                if i:
                    out.append(".")
                out.append(step if plain else "'" + step.replace("'", "\\'") + "'")
            elif step is STAR:
                out.append("[*]")
            else:
                out.append(f"[{step}]")
        return "".join(out)


@dataclass(frozen=True, slots=True)
class Comparison:
    """``path [NOT] op value``; ``EXISTS path`` has op ``EXISTS`` and value None; ``IN`` has a
    tuple of literals."""

    path: Path
    op: str
    value: Literal | tuple[Literal, ...] | None
    negated: bool = False


@dataclass(frozen=True, slots=True)
class And:
    """Comparisons joined by AND inside one ``[...]``: all hold on the same object."""

    items: tuple[ComparisonExpr, ...]


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[ComparisonExpr, ...]


ComparisonExpr: TypeAlias = "Comparison | And | Or"


@dataclass(frozen=True, slots=True)
class Observation:
    """One ``[...]``: matched by one observation."""

    expr: ComparisonExpr


@dataclass(frozen=True, slots=True)
class ObsAnd:
    """``A AND B`` between observation expressions: each bound to other observations."""

    items: tuple[ObservationExpr, ...]


@dataclass(frozen=True, slots=True)
class ObsOr:
    items: tuple[ObservationExpr, ...]


@dataclass(frozen=True, slots=True)
class FollowedBy:
    """``A FOLLOWEDBY B`` (left-associative: ``A FOLLOWEDBY B FOLLOWEDBY C`` is
    ``(A FOLLOWEDBY B) FOLLOWEDBY C``)."""

    left: ObservationExpr
    right: ObservationExpr


@dataclass(frozen=True, slots=True)
class Within:
    expr: ObservationExpr
    micros: int


@dataclass(frozen=True, slots=True)
class Repeats:
    expr: ObservationExpr
    times: int


@dataclass(frozen=True, slots=True)
class StartStop:
    expr: ObservationExpr
    start: int
    stop: int


ObservationExpr: TypeAlias = (
    "Observation | ObsAnd | ObsOr | FollowedBy | Within | Repeats | StartStop"
)


def parse_pattern(text: str) -> ObservationExpr:
    """The syntax tree of *text*; PatternError when it is not a pattern the matcher can use."""
    from kizuna.cyber import _antlr, _grammar

    try:
        return _grammar.parse(text)
    except _grammar.Unhandled:
        return _antlr.parse(text)
