"""What a comparison means for one value found at its path: STIX 2.1's comparison rules as
``stix2-matcher`` applies them.

- ``=`` and ``!=`` compare values of the same kind: numbers (integers and floats together),
  strings, booleans, bytes (a string compares with bytes when its code points are below 256),
  timestamps (a string in the data is read as one when the literal is ``t'...'``). Values of
  other kinds are unequal.
- ``<``, ``<=``, ``>``, ``>=`` order numbers, strings (by code point), bytes and timestamps;
  for values of kinds that do not order (booleans, or a number against a string) the
  comparison is false, with or without ``NOT``.
- ``IN`` is membership as Python sets have it (so ``1``, ``1.0`` and ``true`` are equal);
  lists and dictionaries are in no set.
- ``LIKE`` is SQL's (``%`` any run of characters but a newline, ``_`` one character), anchored;
  ``MATCHES`` searches with a Python regular expression; both normalize strings to NFC.
- ``ISSUBSET``: the value is an address or network inside the literal's network;
  ``ISSUPERSET``: the value is a network that holds the literal.
- ``NOT`` negates the outcome, except where the comparison does not apply at all (above).

Where ``stix2-matcher`` raises instead of answering (a string in the data that is not a
timestamp, not an address, bytes that are not UTF-8 under ``LIKE``), the comparison is false.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from kizuna.cyber._literals import Network, network, timestamp_micros
from kizuna.cyber.pattern import Comparison, Literal, Timestamp

Predicate = Callable[[object], bool]

#: Not comparable at all: the comparison is false whatever NOT says.
_NO = object()


def _latin1(text: str) -> bytes | None:
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return None


def _equal(literal: Literal) -> Callable[[object], bool]:
    """value == literal under STIX's rules (False for values of another kind)."""
    if isinstance(literal, Timestamp):
        micros = literal.micros

        def eq_ts(value: object) -> bool:
            return type(value) is str and timestamp_micros(value) == micros

        return eq_ts
    if isinstance(literal, bool):
        return lambda value: type(value) is bool and value == literal
    if isinstance(literal, int | float):
        return lambda value: type(value) in (int, float) and value == literal
    if isinstance(literal, str):
        as_bytes = _latin1(literal)

        def eq_str(value: object) -> bool:
            kind = type(value)
            if kind is str:
                return value == literal
            return kind is bytes and as_bytes is not None and value == as_bytes

        return eq_str
    assert isinstance(literal, bytes)

    def eq_bytes(value: object) -> bool:
        kind = type(value)
        if kind is bytes:
            return value == literal
        return kind is str and _latin1(value) == literal  # type: ignore[arg-type]

    return eq_bytes


def _order_key(literal: Literal) -> Callable[[object], object]:
    """The value as something that orders against the literal's key; _NO when it does not
    order against it at all, None when the comparison is false but NOT may turn it."""
    if isinstance(literal, Timestamp):

        def ts(value: object) -> object:
            if type(value) is not str:
                return _NO
            micros = timestamp_micros(value)
            return _NO if micros is None else micros

        return ts
    if isinstance(literal, int | float) and not isinstance(literal, bool):
        return lambda value: value if type(value) in (int, float) else _NO
    if isinstance(literal, str):

        def st(value: object) -> object:
            kind = type(value)
            if kind is str:
                return value
            return _NO if kind is not bytes else value  # compared with the literal's bytes

        return st

    def by(value: object) -> object:
        kind = type(value)
        if kind is bytes:
            return value
        if kind is str:
            return _latin1(value)  # type: ignore[arg-type]
        return _NO

    return by


def _order(comparison: Comparison) -> Predicate:
    literal = comparison.value
    assert literal is not None and not isinstance(literal, tuple)
    key = _order_key(literal)
    target: object = literal.micros if isinstance(literal, Timestamp) else literal
    target_bytes = _latin1(literal) if isinstance(literal, str) else None
    op = comparison.op
    negated = comparison.negated

    def test(value: object) -> bool:
        mine = key(value)
        if mine is _NO:
            return False
        other = target
        if isinstance(mine, bytes) and isinstance(target, str):
            other = target_bytes
        if mine is None or other is None:
            return negated  # string against bytes with a code point past 255
        if op == "<":
            result = mine < other  # type: ignore[operator]
        elif op == "<=":
            result = mine <= other  # type: ignore[operator]
        elif op == ">":
            result = mine > other  # type: ignore[operator]
        else:
            result = mine >= other  # type: ignore[operator]
        return bool(result) != negated

    return test


def _like(text: str) -> re.Pattern[str]:
    text = unicodedata.normalize("NFC", text)
    parts = [".*" if c == "%" else "." if c == "_" else re.escape(c) for c in text]
    return re.compile("^" + "".join(parts) + "$")


def _as_text(value: object, binary_ok: bool) -> str | None:
    if type(value) is str:
        return unicodedata.normalize("NFC", value)
    if type(value) is bytes and binary_ok:
        try:
            return unicodedata.normalize("NFC", value.decode("utf-8"))
        except UnicodeDecodeError:
            return None
    return None


def predicate(comparison: Comparison) -> Predicate:
    """A test of one value for *comparison* (``EXISTS`` has none: the path decides)."""
    op, literal, negated = comparison.op, comparison.value, comparison.negated
    if op in ("=", "!="):
        assert literal is not None and not isinstance(literal, tuple)
        eq = _equal(literal)
        flip = negated != (op == "!=")
        return (lambda value: not eq(value)) if flip else eq
    if op in ("<", "<=", ">", ">="):
        return _order(comparison)
    if op == "IN":
        assert isinstance(literal, tuple)
        members = frozenset(literal)
        timestamps = any(isinstance(v, Timestamp) for v in literal)

        def member(value: object) -> bool:
            if timestamps and type(value) is str:
                micros = timestamp_micros(value)
                value = None if micros is None else Timestamp(micros)
            try:
                found = value in members
            except TypeError:
                found = False
            return found != negated

        return member
    assert isinstance(literal, str)
    if op == "LIKE":
        like = _like(literal)
        binary_like = all(ord(c) < 256 for c in like.pattern)

        def is_like(value: object) -> bool:
            text = _as_text(value, binary_like)
            return (text is not None and like.match(text) is not None) != negated

        return is_like
    if op == "MATCHES":
        regex = re.compile(unicodedata.normalize("NFC", literal))
        binary_regex: re.Pattern[bytes] | None = None
        if all(ord(c) < 256 for c in regex.pattern):
            try:
                binary_regex = re.compile(bytes(ord(c) for c in regex.pattern))
            except re.error:
                binary_regex = None

        def matches(value: object) -> bool:
            if type(value) is str:
                found = regex.search(unicodedata.normalize("NFC", value)) is not None
            elif type(value) is bytes and binary_regex is not None:
                found = binary_regex.search(value) is not None
            else:
                found = False
            return found != negated

        return matches
    if op == "ISSUBSET":
        outer = network(literal, strict_cidr=True)
        assert outer is not None

        def inside(value: object) -> bool:
            inner = network_of(value, strict_cidr=False)
            return (inner is not None and _holds(outer, inner)) != negated

        return inside
    assert op == "ISSUPERSET"
    held = network(literal, strict_cidr=False)
    assert held is not None

    def holds(value: object) -> bool:
        outer = network_of(value, strict_cidr=True)
        return (outer is not None and _holds(outer, held)) != negated

    return holds


def _holds(outer: Network, inner: Network) -> bool:
    if outer.version != inner.version:
        return False
    return inner.subnet_of(outer)  # type: ignore[arg-type]


_NETWORKS: dict[tuple[str, bool], Network | None] = {}


def network_of(value: object, *, strict_cidr: bool) -> Network | None:
    if type(value) is not str:
        return None
    key = (value, strict_cidr)
    if key in _NETWORKS:
        return _NETWORKS[key]
    found = network(value, strict_cidr=strict_cidr)
    if len(_NETWORKS) > 65_536:
        _NETWORKS.clear()
    _NETWORKS[key] = found
    return found


__all__ = ["Predicate", "network_of", "predicate"]
