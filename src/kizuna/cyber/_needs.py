"""What an observation must carry for a comparison expression to hold: the matcher's
prefilter, so that a pattern is evaluated only on the observations that can match it.

A *need* is one of:

- a hash :data:`~kizuna.cyber._keys.Key` (an equality, an ``IN`` member): the value at the
  path is that literal;
- :class:`Texts`: the value at the path is a string that holds each of these substrings (a
  ``LIKE`` pattern's literal runs, a regular expression's top-level literal runs); the
  matcher indexes one :data:`GRAM`-character piece of them, chosen where fewest patterns
  share it;
- :class:`Inside`: the value at the path is an address or network inside this network
  (``ISSUBSET``).

:func:`necessary` gives a list of needs one of which every observation satisfying the
expression fulfils (``AND``: the cheapest of its parts' lists; ``OR``: all of its parts'),
or None when there is none (``NOT``, ordering, ``EXISTS``, literals too short): such a
pattern is evaluated on every observation holding an object of a type it names.

Every need is necessary, never sufficient: the compiled pattern decides on each candidate.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from re import _constants as sre_constants  # type: ignore[attr-defined]
from re import _parser as sre_parser  # type: ignore[attr-defined]
from typing import Final, TypeAlias

from kizuna.cyber._keys import Key, keyable_path, necessary_keys
from kizuna.cyber._literals import network
from kizuna.cyber.pattern import And, Comparison, ComparisonExpr, Or, Step

__all__ = ["GRAM", "Inside", "Need", "Texts", "grams", "necessary", "net_key"]

#: The length of the pieces of text the matcher indexes.
GRAM: Final = 3


@dataclass(frozen=True, slots=True)
class Texts:
    object_type: str
    steps: tuple[Step, ...]
    #: NFC-normalized substrings, each at least GRAM characters long (at least one).
    texts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Inside:
    object_type: str
    steps: tuple[Step, ...]
    version: int
    prefixlen: int
    #: The network's address shifted right past its host bits (see :func:`net_key`).
    prefix: int


Need: TypeAlias = "Key | Texts | Inside"


def net_key(version: int, address: int, prefixlen: int) -> int:
    """The first *prefixlen* bits of *address* (an int of 32 or 128 bits)."""
    return address >> ((32 if version == 4 else 128) - prefixlen)


def grams(text: str) -> set[str]:
    """Every GRAM-character piece of *text*."""
    return {text[i : i + GRAM] for i in range(len(text) - GRAM + 1)}


def like_texts(pattern: str) -> list[str]:
    """The literal runs of a LIKE pattern (between its ``%`` and ``_``), NFC-normalized as
    the comparison normalizes both sides."""
    text = unicodedata.normalize("NFC", pattern)
    return [run for run in re.split("[%_]", text) if run]


def regex_texts(pattern: str) -> list[str] | None:
    """The literal runs at the top level of a regular expression, which every string it
    finds holds; None when case or another flag could change what a literal matches."""
    text = unicodedata.normalize("NFC", pattern)
    try:
        parsed = sre_parser.parse(text, 0)
    except (re.error, RecursionError, OverflowError):
        return None
    if parsed.state.flags & (re.IGNORECASE | re.VERBOSE | re.LOCALE):
        return None
    out: list[str] = []
    run: list[str] = []
    for op, arg in parsed:
        if op is sre_constants.LITERAL:
            run.append(chr(arg))
            continue
        if run:
            out.append("".join(run))
            run = []
    if run:
        out.append("".join(run))
    return out


def _comparison(c: Comparison) -> list[Need] | None:
    keys = necessary_keys(c)
    if keys is not None:
        return list(keys)
    if c.negated or not keyable_path(c.path) or not isinstance(c.value, str):
        return None
    otype, steps = c.path.object_type, c.path.steps
    if c.op in ("LIKE", "MATCHES"):
        found = like_texts(c.value) if c.op == "LIKE" else regex_texts(c.value)
        usable = tuple(t for t in found or () if len(t) >= GRAM)
        return [Texts(otype, steps, usable)] if usable else None
    if c.op == "ISSUBSET":
        net = network(c.value, strict_cidr=True)
        if net is None:
            return None
        address = int(net.network_address)
        prefix = net_key(net.version, address, net.prefixlen)
        return [Inside(otype, steps, net.version, net.prefixlen, prefix)]
    return None


def _cost(needs: list[Need]) -> float:
    """How many candidates a list of needs is likely to let through, relatively: a hash key
    is the most selective, a network less (it holds many addresses), a text the least."""
    return sum(3.0 if type(n) is Texts else 2.0 if type(n) is Inside else 1.0 for n in needs)


def necessary(expr: ComparisonExpr) -> list[Need] | None:
    """Needs one of which any observation satisfying *expr* fulfils, or None."""
    if isinstance(expr, Comparison):
        return _comparison(expr)
    found = [necessary(item) for item in expr.items]
    if isinstance(expr, And):
        usable = [n for n in found if n is not None]
        return min(usable, key=_cost) if usable else None
    assert isinstance(expr, Or)
    if any(n is None for n in found):
        return None
    return [need for needs in found if needs is not None for need in needs]
