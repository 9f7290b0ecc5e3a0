"""A recursive-descent parser of STIX 2.1 patterns that builds the tree of ``pattern.py``.

The grammar is that of the OASIS ``STIXPattern.g4`` (as ``stix2-patterns`` compiles it); the
tokens are its lexer's, longest match first. Precedence, loosest first: ``FOLLOWEDBY``, then
``OR``, then ``AND`` between observation expressions; qualifiers bind to the observation
expression just before them; inside ``[...]``, ``OR`` is looser than ``AND``. Every binary
operator is left-associative.

What this parser does not take, it leaves to ``stix2-patterns`` by raising :class:`Unhandled`
(comments, and any input it refuses: the ANTLR parser then gives the authoritative message).
tests/cyber/test_pattern_parse.py compares the trees of both on generated patterns.
"""

from __future__ import annotations

import re
from typing import Any, Final

from kizuna.cyber import _literals
from kizuna.cyber.pattern import (
    STAR,
    And,
    Comparison,
    ComparisonExpr,
    FollowedBy,
    Literal,
    ObsAnd,
    Observation,
    ObservationExpr,
    ObsOr,
    Or,
    Path,
    Repeats,
    StartStop,
    Step,
    Within,
)

_WS: Final = (
    "[ \\t\\r\\n\\x0b\\x0c\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
)
_TOKEN: Final = re.compile(
    _WS
    + r"""*(
    '[^'\\]*(?:\\['\\][^'\\]*)*'
    |[\[\]():,*]
    |t'[0-9]{4}-(?:0[1-9]|1[012])-(?:0[1-9]|[12][0-9]|3[01])
        T(?:[01][0-9]|2[0-3]):[0-5][0-9]:(?:[0-5][0-9]|60)(?:\.[0-9]+)?Z'
    |h'(?:[0-9A-Fa-f]{2})*'
    |b'(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2}==)'
    |[+-]?[0-9]*\.[0-9]+
    |[+-]?(?:0|[1-9][0-9]*)
    |[A-Za-z_][A-Za-z0-9_-]*
    |==?|!=|<>|<=|>=|<|>
    |/[*/]
    |"""
    + _WS.replace("[", "[^", 1)
    + r")|"
    + _WS
    + "+$",
    re.VERBOSE,
)

_KEYWORDS: Final = frozenset(
    (
        *("AND", "OR", "NOT", "FOLLOWEDBY", "LIKE", "MATCHES", "ISSUPERSET", "ISSUBSET"),
        *("EXISTS", "LAST", "IN", "START", "STOP", "SECONDS", "WITHIN", "REPEATS", "TIMES"),
    )
)
_FIXED: Final = {
    **{k: k for k in _KEYWORDS},
    **{p: p for p in "[]():.,*"},
    "=": "=",
    "==": "=",
    "!=": "!=",
    "<>": "!=",
    **{op: op for op in ("<", "<=", ">", ">=")},
    "true": "bool",
    "false": "bool",
}
_PREFIXED: Final = {"t": "ts", "h": "hex", "b": "bin"}
_ORDERABLE: Final = frozenset(("ipos", "ineg", "fpos", "fneg", "str", "bin", "hex", "ts"))
_PRIMITIVE: Final = _ORDERABLE | {"bool"}
_STRING_OPS: Final = frozenset(("LIKE", "MATCHES", "ISSUBSET", "ISSUPERSET"))


class Unhandled(Exception):
    """This parser does not take the pattern; ``stix2-patterns`` decides."""


def _kind(token: str) -> str:
    fixed = _FIXED.get(token)
    if fixed is not None:
        return fixed
    first = token[0]
    if first == "'":
        return "str" if len(token) > 1 else "bad"
    if len(token) > 1 and token[1] == "'":
        return _PREFIXED[first]
    if first.isascii() and (first.isalpha() or first == "_"):
        return "idh" if "-" in token else "id"
    if first == "/" or (len(token) == 1 and not token.isdigit()):
        return "bad"  # comments and lone characters: left to stix2-patterns
    if first == "-":
        return "fneg" if "." in token else "ineg"
    return "fpos" if "." in token else "ipos"


class _Parser:
    __slots__ = ("at", "kinds", "texts")

    def __init__(self, pattern: str) -> None:
        texts = [t for t in _TOKEN.findall(pattern) if t]
        self.texts = [*texts, ""]
        self.kinds = [*(_kind(t) for t in texts), "end"]
        self.at = 0

    def _take(self, kind: str) -> str:
        if self.kinds[self.at] != kind:
            raise Unhandled
        self.at += 1
        text: str = self.texts[self.at - 1]
        return text

    def _next_is(self, kind: str) -> bool:
        if self.kinds[self.at] == kind:
            self.at += 1
            return True
        return False

    def whole(self) -> ObservationExpr:
        expr = self.followed_by()
        self._take("end")
        return expr

    def followed_by(self) -> ObservationExpr:
        expr = self.obs_or()
        while self._next_is("FOLLOWEDBY"):
            expr = FollowedBy(expr, self.obs_or())
        return expr

    def obs_or(self) -> ObservationExpr:
        items = [self.obs_and()]
        while self._next_is("OR"):
            items.append(self.obs_and())
        return items[0] if len(items) == 1 else ObsOr(flat(ObsOr, items))

    def obs_and(self) -> ObservationExpr:
        items = [self.observation()]
        while self._next_is("AND"):
            items.append(self.observation())
        return items[0] if len(items) == 1 else ObsAnd(flat(ObsAnd, items))

    def observation(self) -> ObservationExpr:
        expr: ObservationExpr
        if self._next_is("["):
            expr = Observation(self.comparisons())
            self._take("]")
        elif self._next_is("("):
            expr = self.followed_by()
            self._take(")")
        else:
            raise Unhandled
        while True:
            if self._next_is("WITHIN"):
                kind, text = self.kinds[self.at], self.texts[self.at]
                if kind not in ("ipos", "fpos"):
                    raise Unhandled
                self.at += 1
                self._take("SECONDS")
                number = int(text) if kind == "ipos" else float(text)
                expr = Within(expr, _literals.checked_within(number))
            elif self._next_is("REPEATS"):
                times = int(self._take("ipos"))
                self._take("TIMES")
                expr = Repeats(expr, _literals.checked_repeats(times))
            elif self._next_is("START"):
                start = _literals.timestamp(self._take("ts")).micros
                self._take("STOP")
                stop = _literals.timestamp(self._take("ts")).micros
                expr = StartStop(expr, start, stop)
            else:
                return expr

    def comparisons(self) -> ComparisonExpr:
        items = [self.comparison_and()]
        while self._next_is("OR"):
            items.append(self.comparison_and())
        return items[0] if len(items) == 1 else Or(flat(Or, items))

    def comparison_and(self) -> ComparisonExpr:
        items = [self.test()]
        while self._next_is("AND"):
            items.append(self.test())
        return items[0] if len(items) == 1 else And(flat(And, items))

    def test(self) -> ComparisonExpr:
        if self._next_is("("):
            inner = self.comparisons()
            self._take(")")
            return inner
        negated = self._next_is("NOT")
        if self._next_is("EXISTS"):
            return Comparison(self.path(), "EXISTS", None, negated)
        if negated:
            raise Unhandled
        path = self.path()
        negated = self._next_is("NOT")
        op = self.kinds[self.at]
        self.at += 1
        value: Literal | tuple[Literal, ...]
        if op in ("=", "!="):
            value = self._literal(_PRIMITIVE)
        elif op in ("<", "<=", ">", ">="):
            value = self._literal(_ORDERABLE)
        elif op == "IN":
            value = self._set()
        elif op in _STRING_OPS:
            value = self._literal(frozenset(("str",)))
            _literals.checked_comparison(op, value)
        else:
            raise Unhandled
        return Comparison(path, op, value, negated)

    def path(self) -> Path:
        kind = self.kinds[self.at]
        if kind not in ("id", "idh"):
            raise Unhandled
        otype = self.texts[self.at]
        self.at += 1
        self._take(":")
        steps: list[Step] = [self._key()]
        while True:
            if self._next_is("."):
                steps.append(self._key())
            elif self._next_is("["):
                kind, text = self.kinds[self.at], self.texts[self.at]
                if kind in ("ipos", "ineg"):
                    steps.append(int(text))
                elif kind == "*":
                    steps.append(STAR)
                else:
                    raise Unhandled
                self.at += 1
                self._take("]")
            else:
                return Path(otype, tuple(steps))

    def _key(self) -> str:
        kind, text = self.kinds[self.at], self.texts[self.at]
        self.at += 1
        if kind == "id":
            return str(text)
        if kind == "str":
            return _literals.string(text)
        raise Unhandled

    def _literal(self, kinds: frozenset[str]) -> Literal:
        kind, text = self.kinds[self.at], self.texts[self.at]
        if kind not in kinds:
            raise Unhandled
        self.at += 1
        return _literals.literal(kind, text)

    def _set(self) -> tuple[Literal, ...]:
        start = self.at
        self._take("(")
        values: list[Literal] = []
        if self.kinds[self.at] != ")":
            values.append(self._literal(_PRIMITIVE))
            while self._next_is(","):
                values.append(self._literal(_PRIMITIVE))
        self._take(")")
        return _literals.checked_set(values, "".join(self.texts[start : self.at]))


def flat(cls: type[Any], parts: list[Any]) -> tuple[Any, ...]:
    """Operands of an associative operator, a parenthesized one of the same operator spread."""
    out: list[Any] = []
    for part in parts:
        out.extend(part.items if isinstance(part, cls) else (part,))
    return tuple(out)


def parse(pattern: str) -> ObservationExpr:
    """The tree of *pattern*; Unhandled when this parser does not take it, PatternError when
    the matcher refuses a literal or qualifier of a pattern that parses."""
    return _Parser(pattern).whole()
