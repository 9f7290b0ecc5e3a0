"""A fast, strict checker of STIX 2.1 indicator patterns (STIX 2.1 section 9).

``stix2-patterns`` parses a pattern with an ANTLR parser that costs 0.3 to 5 ms; a feed of new
indicators spends nearly all of its validation time there. This module is a tokenizer and a
recursive-descent parser for the same grammar (``STIXPattern.g4`` of the OASIS pattern
validator), with the checks ``stix2-patterns`` and Kizuna add on top of it, in a few
microseconds per pattern.

It is used as a filter in front of ``stix2-patterns``, never instead of it: :func:`check_pattern`
accepts only patterns that ``stix2-patterns`` accepts as well, and when it refuses one, the
caller asks ``stix2-patterns`` for the authoritative message. Refusing a valid pattern therefore
costs time, never correctness, so the parser refuses whatever it does not handle exactly as
``stix2-patterns`` does: comments, negative list indexes and a list index as the last step of a
``hashes`` path (on which ``stix2-patterns`` itself fails).

>>> check_pattern("[file:hashes.'SHA-256' = "
...               "'ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c']")
>>> check_pattern("[domain-name:value = 'c2.example'] FOLLOWEDBY "
...               "([ipv4-addr:value ISSUBSET '198.51.100.0/24'] REPEATS 2 TIMES) WITHIN 60 SECONDS")
>>> check_pattern("[domain-name:value = 'c2.example'")
"at 33: expected ']', got the end of the pattern"

Beyond the grammar, the checks are those of ``stix2-patterns`` (a value compared with a known
hash such as ``hashes.MD5`` has that hash's form; no qualifier is repeated on one bracketed
observation) and of Kizuna (object types and the first property of each path are valid STIX
names):

>>> check_pattern("[file:hashes.MD5 = 'not a hash']")
"'not a hash' is not a valid MD5 hash"
>>> check_pattern("[File:name = 'x.exe']")
"'File' is not a valid object type name"
"""

from __future__ import annotations

import re
from typing import Final

from stix2patterns.v21.object_validator import HASHES_REGEX

from kizuna.stix._properties import show
from kizuna.stix._rules import PROPERTY_NAME, TYPE_NAME

__all__ = ["MAX_PATTERN_DEPTH", "MAX_PATTERN_LENGTH", "check_pattern", "pattern_limit"]

#: The deepest nesting of parentheses and brackets a pattern may have. Real patterns nest a few
#: levels; both parsers (this one and the ANTLR parser of ``stix2-patterns``) recurse once or
#: more per level, and ``stix2-patterns`` ran out of Python's stack at 250 levels.
MAX_PATTERN_DEPTH: Final = 100
#: The longest pattern accepted, in characters (a pattern's tokens take about 40 times its
#: length in memory while it is checked). Feeds' largest patterns (long ``OR`` lists of hashes)
#: are a few kilobytes.
MAX_PATTERN_LENGTH: Final = 262_144

#: The grammar's whitespace (WS); comments are not taken (they match as bad characters).
_WS: Final = (
    "[ \\t\\r\\n\\x0b\\x0c\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
)

# Whitespace, then one token. The order of the alternatives makes the first match the longest
# one, as the ANTLR lexer chooses it (a timestamp before the identifier ``t``, a float before an
# integer ...); the last one takes any other character alone, as a token no rule uses. Strings
# and punctuation come first because they are the most frequent (it doubles the speed).
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
    |"""
    + _WS.replace("[", "[^", 1)
    + ")",
    re.VERBOSE,
)

#: The grammar's keywords (case-sensitive in STIX 2.1); ``true``/``false`` are BoolLiterals.
_KEYWORDS: Final = frozenset(
    {
        *("AND", "OR", "NOT", "FOLLOWEDBY", "LIKE", "MATCHES", "ISSUPERSET", "ISSUBSET"),
        *("EXISTS", "LAST", "IN", "START", "STOP", "SECONDS", "WITHIN", "REPEATS", "TIMES"),
    }
)
_ORDERABLE: Final = frozenset(("ipos", "ineg", "fpos", "fneg", "str", "bin", "hex", "ts"))
_PRIMITIVE: Final = _ORDERABLE | {"bool"}
_STRING_OPS: Final = frozenset(("LIKE", "MATCHES", "ISSUBSET", "ISSUPERSET"))
_QUALIFIERS: Final = frozenset(("WITHIN", "REPEATS", "START"))
_STAR: Final = object()

#: The kinds of the tokens that are always spelled the same.
_FIXED: Final = {
    **{k: k for k in _KEYWORDS},
    **{p: p for p in "[]():.,*"},
    **dict.fromkeys(("=", "==", "!=", "<>"), "eq"),
    **dict.fromkeys(("<", "<=", ">", ">="), "ord"),
    "true": "bool",
    "false": "bool",
}
_HASHES: Final = {name: (re.compile(rx), label) for name, (rx, label) in HASHES_REGEX.items()}
_PREFIXED: Final = {"t": "ts", "h": "hex", "b": "bin"}
_ID_START: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")


class _Refused(Exception):
    """The pattern is refused; the argument says why."""


def _kind(token: str) -> str:
    """The kind of a token that is not in ``_FIXED``: a literal, an identifier or ``bad``."""
    first = token[0]
    if first == "'":
        return "str" if len(token) > 1 else "bad"
    if len(token) > 1 and token[1] == "'":
        return _PREFIXED[first]
    if first in _ID_START:
        return "idh" if "-" in token else "id"
    if len(token) == 1 and not token.isdigit():
        return "bad"
    if first == "-":
        return "fneg" if "." in token else "ineg"
    return "fpos" if "." in token else "ipos"


def _position(pattern: str, index: int) -> int:
    """Where the *index*-th token of *pattern* starts (for messages only)."""
    for i, m in enumerate(_TOKEN.finditer(pattern)):
        if i == index:
            return m.start(1)
    return len(pattern)


def _unquote(text: str) -> str:
    """A StringLiteral's value, unescaped the way stix2-patterns does it."""
    return text[1:-1].replace("\\'", "'").replace("\\\\", "\\")


class _Parser:
    """Recursive descent over the tokens of one pattern; each method consumes one rule."""

    __slots__ = ("at", "kinds", "pattern", "texts")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        texts: list[str] = _TOKEN.findall(pattern)
        self.texts = texts
        self.kinds = [_FIXED.get(t) or _kind(t) for t in texts]
        self.kinds.append("end")
        self.texts.append("")
        self.at = 0

    def _expected(self, what: str) -> _Refused:
        at = _position(self.pattern, self.at)
        got = (
            "the end of the pattern" if self.kinds[self.at] == "end" else show(self.texts[self.at])
        )
        return _Refused(f"at {at}: expected {what}, got {got}")

    def _take(self, kind: str) -> str:
        if self.kinds[self.at] != kind:
            raise self._expected(repr(kind))
        self.at += 1
        return self.texts[self.at - 1]

    def whole(self) -> None:
        self.observations()
        self._take("end")

    def observations(self) -> None:
        """observations: or (FOLLOWEDBY or)*, or: and (OR and)*, and: observation (AND ...)*."""
        self.observation()
        while self.kinds[self.at] in ("AND", "OR", "FOLLOWEDBY"):
            self.at += 1
            self.observation()

    def observation(self) -> None:
        """``[comparisons]`` or ``(observations)``, then its qualifiers."""
        kind = self.kinds[self.at]
        self.at += 1
        if kind == "[":
            self.comparisons()
            self._take("]")
            seen: set[str] | None = set()
        elif kind == "(":
            self.observations()
            self._take(")")
            seen = None  # stix2-patterns checks repeated qualifiers on [...] only
        else:
            self.at -= 1
            raise self._expected("'[' or '('")
        while (kind := self.kinds[self.at]) in _QUALIFIERS:
            self.at += 1
            if seen is not None:
                if kind in seen:
                    raise _Refused(f"Duplicate qualifier type encountered: {kind}")
                seen.add(kind)
            if kind == "WITHIN":
                if self.kinds[self.at] not in ("ipos", "fpos"):
                    raise self._expected("a positive number of seconds")
                self.at += 1
                self._take("SECONDS")
            elif kind == "REPEATS":
                self._take("ipos")
                self._take("TIMES")
            else:
                self._take("ts")
                self._take("STOP")
                self._take("ts")

    def comparisons(self) -> None:
        """comparisonExpression: tests joined by AND and OR (precedence does not matter here)."""
        self.test()
        while self.kinds[self.at] in ("AND", "OR"):
            self.at += 1
            self.test()

    def test(self) -> None:
        """One propTest: ``(comparisons)``, ``EXISTS path`` or ``path [NOT] op value``."""
        kind = self.kinds[self.at]
        if kind == "(":
            self.at += 1
            self.comparisons()
            self._take(")")
            return
        if kind == "EXISTS":
            self.at += 1
            self.path()  # stix2-patterns inspects no names or hashes of EXISTS
            return
        otype, path = self.path()
        if self.kinds[self.at] == "NOT":
            self.at += 1
        kind = self.kinds[self.at]
        self.at += 1
        if kind == "eq":
            value = self._literal(_PRIMITIVE)
        elif kind == "ord":
            value = self._literal(_ORDERABLE)
        elif kind == "IN":
            value = self._set()
        elif kind in _STRING_OPS:
            value = self._literal(("str",))
        else:
            self.at -= 1
            raise self._expected("a comparison operator")
        _check_names(otype, path)
        if "hashes" in path:
            _check_hash(path[-1], value)

    def path(self) -> tuple[str, list[object]]:
        """``type:property`` then ``.key``, ``.'quoted key'``, ``[n]`` or ``[*]`` steps."""
        kind, otype = self.kinds[self.at], self.texts[self.at]
        if kind != "id" and kind != "idh":
            raise self._expected("an object type")
        self.at += 1
        self._take(":")
        kind, text = self.kinds[self.at], self.texts[self.at]
        if kind == "id":
            path: list[object] = [text]
        elif kind == "str":
            path = [_unquote(text)]
        else:
            raise self._expected("a property name")
        self.at += 1
        while True:
            kind = self.kinds[self.at]
            if kind == ".":
                self.at += 1
                kind, text = self.kinds[self.at], self.texts[self.at]
                if kind == "id":
                    path.append(text)
                elif kind == "str":
                    path.append(_unquote(text))
                else:
                    raise self._expected("a property name")
                self.at += 1
            elif kind == "[":
                self.at += 1
                kind, text = self.kinds[self.at], self.texts[self.at]
                if kind == "ipos" and len(text) <= 18:
                    path.append(int(text))
                elif kind == "*":
                    path.append(_STAR)
                else:  # stix2-patterns fails on negative indexes: leave them to it
                    raise self._expected("a list index (n or *, n of at most 18 digits)")
                self.at += 1
                self._take("]")
            else:
                return otype, path

    def _literal(self, kinds: frozenset[str] | tuple[str, ...]) -> str:
        kind, text = self.kinds[self.at], self.texts[self.at]
        if kind not in kinds:
            raise self._expected("a literal" if len(kinds) > 1 else "a string")
        self.at += 1
        return text

    def _set(self) -> str:
        """``(v, ...)`` or ``()``; the text is stix2-patterns' (tokens without whitespace)."""
        self._take("(")
        parts = ["("]
        if self.kinds[self.at] != ")":
            parts.append(self._literal(_PRIMITIVE))
            while self.kinds[self.at] == ",":
                self.at += 1
                parts += (",", self._literal(_PRIMITIVE))
        self._take(")")
        parts.append(")")
        return "".join(parts)


def _check_names(otype: str, path: list[object]) -> None:
    """Kizuna's rule: the object type and the first property are valid STIX names."""
    if not 3 <= len(otype) <= 250 or TYPE_NAME.match(otype) is None:
        raise _Refused(f"{show(otype)} is not a valid object type name")
    prop = path[0]
    if not isinstance(prop, str) or PROPERTY_NAME.match(prop) is None:
        raise _Refused(f"{show(prop)} is not a valid property name")


def _check_hash(last: object, value: str) -> None:
    """stix2-patterns' rule: a value compared with ``hashes.<known hash>`` has its form."""
    if last is _STAR:
        return
    if not isinstance(last, str):  # stix2-patterns fails on ``hashes[0]``: leave it to it
        raise _Refused("a list index after hashes")
    name = last.upper().replace("-", "").replace("'", "")
    if name in _HASHES:
        regex, label = _HASHES[name]
        digest = value.replace("'", "")
        if regex.match(digest) is None:
            raise _Refused(f"{show(digest)} is not a valid {label} hash")


#: The most common shape, ``[type:prop.prop = 'string']`` with single spaces around ``=``,
#: taken without tokenizing; its tokens are those of ``_TOKEN`` (identifiers, a StringLiteral).
_SIMPLE: Final = re.compile(
    r"\[([A-Za-z_][A-Za-z0-9_-]*):([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)"
    r" = '[^'\\]*(?:\\['\\][^'\\]*)*'\]\Z"
)


def _simple(pattern: str) -> bool:
    """True when *pattern* has the simple shape and passes every check the parser makes."""
    m = _SIMPLE.match(pattern)
    if m is None:
        return False
    otype, path = m.group(1), m.group(2).split(".")
    if otype in _FIXED or "hashes" in path or any(step in _FIXED for step in path):
        return False  # keywords and true/false are other tokens; hashes have their own rule
    return 3 <= len(otype) <= 250 and TYPE_NAME.match(otype) is not None and (
        PROPERTY_NAME.match(path[0]) is not None
    )


def pattern_limit(pattern: str) -> str | None:
    """Why *pattern* is past a limit (its length, or how deep it nests), or None.

    It costs a scan of the pattern's characters: the nesting is counted over its tokens only
    when it has that many opening parentheses and brackets at all.

    >>> pattern_limit("(" * 101 + "[ipv4-addr:value = '1']" + ")" * 101)
    'the pattern nests 102 levels of parentheses and brackets; at most 100 are accepted'
    >>> pattern_limit("[file:name = '" + "(" * 200 + "']") is None
    True
    """
    if len(pattern) > MAX_PATTERN_LENGTH:
        return (
            f"the pattern has {len(pattern)} characters; at most {MAX_PATTERN_LENGTH} are "
            "accepted (split it into several indicators)"
        )
    if pattern.count("(") + pattern.count("[") <= MAX_PATTERN_DEPTH:
        return None
    depth = deepest = 0
    for token in _TOKEN.findall(pattern):
        if token == "(" or token == "[":
            depth += 1
            deepest = max(deepest, depth)
        elif token == ")" or token == "]":
            depth -= 1
    if deepest > MAX_PATTERN_DEPTH:
        return (
            f"the pattern nests {deepest} levels of parentheses and brackets; at most "
            f"{MAX_PATTERN_DEPTH} are accepted"
        )
    return None


def check_pattern(pattern: str) -> str | None:
    """None when *pattern* is a valid STIX 2.1 pattern that ``stix2-patterns`` also accepts,
    else a short reason (the caller should ask ``stix2-patterns`` for its own message, since a
    refusal here may also mean "not handled by this parser")."""
    if _simple(pattern):
        return None
    try:
        _Parser(pattern).whole()
    except _Refused as refused:
        return str(refused.args[0])
    return None
