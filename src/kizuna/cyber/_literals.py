"""Literals and qualifiers as the matcher reads them, whichever parser read the pattern.

The checks here are those ``stix2-matcher`` makes when it matches (it raises on them), made
once when a pattern is compiled instead: a set literal mixes types, ``REPEATS 0 TIMES``,
``WITHIN 0 SECONDS``, a timestamp that is no date, a regular expression Python cannot compile,
a network that is not one.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Final

from kizuna.cyber.pattern import Literal, PatternError, Timestamp

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND: Final = timedelta(microseconds=1)


def timestamp_micros(text: str) -> int | None:
    """Microseconds of a timestamp as ``stix2-matcher`` reads one (upper-case ``T`` and ``Z``,
    ``YYYY-MM-DDTHH:MM:SS[.fraction]Z``, digits past the microsecond dropped), or None."""
    micros = _SEEN.get(text)
    if micros is not None or text in _SEEN:
        return micros
    micros = _parse_timestamp(text)
    if len(_SEEN) > 65_536:
        _SEEN.clear()
    _SEEN[text] = micros
    return micros


_SEEN: dict[str, int | None] = {}


def _parse_timestamp(text: str) -> int | None:
    if any(c.islower() for c in text):
        return None
    if "." in text:
        fmt = "%Y-%m-%dT%H:%M:%S.%fZ"
        head, _, frac = text.partition(".")
        if len(frac) > 7 and frac.endswith("Z"):
            text = f"{head}.{frac[:6]}Z"
    else:
        fmt = "%Y-%m-%dT%H:%M:%SZ"
    try:
        parsed = datetime.strptime(text, fmt).replace(tzinfo=UTC)
    except ValueError:
        return None
    return (parsed - _EPOCH) // _MICROSECOND


def string(token: str) -> str:
    """A StringLiteral's value: quotes off, ``\\'`` and ``\\\\`` unescaped."""
    return token[1:-1].replace("\\'", "'").replace("\\\\", "\\")


def timestamp(token: str) -> Timestamp:
    micros = timestamp_micros(token[2:-1])
    if micros is None:
        raise PatternError(f"{token} is not a valid timestamp")
    return Timestamp(micros)


def literal(kind: str, token: str) -> Literal:
    """The value of a literal token of *kind* (the tokenizer's kinds)."""
    if kind == "str":
        return string(token)
    if kind in ("ipos", "ineg"):
        return int(token)
    if kind in ("fpos", "fneg"):
        return float(token)
    if kind == "bool":
        return token == "true"
    if kind == "hex":
        return binascii.a2b_hex(token[2:-1])
    if kind == "bin":
        return base64.standard_b64decode(token[2:-1])
    if kind == "ts":
        return timestamp(token)
    raise PatternError(f"unexpected literal {token!r}")  # pragma: no cover - the parsers' kinds


def checked_set(values: list[Literal], text: str) -> tuple[Literal, ...]:
    """An IN list: one type of value (integers and floats mix), as the matcher requires."""
    kinds = {_set_kind(v) for v in values}
    if len(kinds) > 1:
        raise PatternError(f"the set {text} mixes types of values")
    return tuple(values)


def _set_kind(value: Literal) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def checked_within(value: int | float) -> int:
    if value <= 0:
        raise PatternError(f"WITHIN {value} SECONDS: the duration must be positive")
    try:
        return timedelta(seconds=value) // _MICROSECOND
    except OverflowError:
        raise PatternError(f"WITHIN {value} SECONDS is too long a duration") from None


def checked_repeats(value: int) -> int:
    if value < 1:
        raise PatternError(f"REPEATS {value} TIMES: the count must be at least 1")
    return value


def checked_comparison(op: str, value: object) -> None:
    """The literal of LIKE, MATCHES, ISSUBSET and ISSUPERSET is one the matcher can use."""
    if op == "MATCHES":
        assert isinstance(value, str)
        try:
            re.compile(unicodedata.normalize("NFC", value))
        except re.error as exc:
            raise PatternError(f"MATCHES {value!r}: not a regular expression: {exc}") from None
    elif op == "ISSUBSET":
        assert isinstance(value, str)
        if network(value, strict_cidr=True) is None:
            raise PatternError(f"ISSUBSET {value!r}: expected a network such as '198.51.100.0/24'")
    elif op == "ISSUPERSET":
        assert isinstance(value, str)
        if network(value, strict_cidr=False) is None:
            raise PatternError(f"ISSUPERSET {value!r}: expected an address or a network")


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def network(text: str, *, strict_cidr: bool) -> Network | None:
    """An address (a network of one) or a CIDR network, host bits allowed; None if neither.

    With *strict_cidr*, the text must name a prefix length (``ISSUBSET``'s right side); an
    IPv4 prefix is 1 to 32 bits, as ``stix2-matcher`` takes them.
    """
    _, slash, prefix = text.partition("/")
    if strict_cidr and not slash:
        return None
    if slash and not (prefix.isascii() and prefix.isdigit()):
        return None
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None
    if slash and net.version == 4 and net.prefixlen == 0:
        return None
    return net
