"""The fast STIX pattern checker (``kizuna.stix._pattern``) against ``stix2-patterns``.

The fast checker is a filter in front of stix2-patterns, so the property that matters is safety:
whatever it accepts, stix2-patterns (with Kizuna's name checks, the path ``_types`` used alone
before) accepts too. It is checked on every pattern of the vendored real data, on patterns
generated from the grammar (which the fast checker must also accept, or the fast path would never
be taken), and on corruptions of them. Run with ``--hypothesis-show-statistics`` to see how often
the two agree on the corruptions.
"""

from __future__ import annotations

import base64
import doctest
import gzip
import itertools
import json
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from kizuna.stix import _pattern
from kizuna.stix._pattern import check_pattern
from kizuna.stix._types import _stix2_patterns_errors
from kizuna.stix.validate import validate_object

from ._objects import sdo

DATA = Path(__file__).parent.parent / "data"


def stix2_patterns_accepts(pattern: str) -> bool:
    """The authoritative answer: stix2-patterns and Kizuna's name checks find nothing (a crash
    of stix2-patterns counts as a refusal)."""
    try:
        return _stix2_patterns_errors(pattern, "2.1") == ()
    except Exception:
        return False


def _vendored_patterns() -> list[str]:
    patterns: set[str] = set()
    for path in sorted(DATA.glob("*/*.json.gz")):
        with gzip.open(path) as f:
            objects = json.load(f)["objects"]
        patterns.update(
            o["pattern"]
            for o in objects
            if o["type"] == "indicator"
            and o.get("pattern_type") == "stix"
            and o.get("pattern_version", "2.1") == "2.1"
        )
    return sorted(patterns)


VENDORED = _vendored_patterns()


def test_vendored_patterns_are_accepted_by_both() -> None:
    assert len(VENDORED) >= 200  # MBC, the OASIS examples ...
    for pattern in VENDORED:
        assert check_pattern(pattern) is None, pattern
        assert stix2_patterns_accepts(pattern), pattern


# --- A grammar of valid patterns, as tagged tokens --------------------------------------------

Tokens = list[tuple[str, str]]  # (tag, text); the tags let the corruptions aim

KEYWORDS = {"AND", "OR", "NOT", "FOLLOWEDBY", "LIKE", "MATCHES", "ISSUPERSET", "ISSUBSET"}
KEYWORDS |= {"EXISTS", "LAST", "IN", "START", "STOP", "SECONDS", "WITHIN", "REPEATS", "TIMES"}
KEYWORDS |= {"true", "false", "hashes"}

types = st.sampled_from(
    ["file", "domain-name", "ipv4-addr", "x-acme-widget", "network-traffic", "url", "x509"]
)
names = st.from_regex(r"[a-z0-9_]{3,12}", fullmatch=True).filter(lambda s: s not in KEYWORDS)
keys = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True).filter(
    lambda s: s not in KEYWORDS
)


def quoted(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


strings = st.text(max_size=12).map(quoted)
ints_pos = st.builds(
    lambda sign, n: sign + str(n), st.sampled_from(["", "+"]), st.integers(0, 10**9)
)
ints_neg = st.integers(0, 10**9).map(lambda n: f"-{n}")
floats_pos = st.builds(
    lambda sign, a, b: f"{sign}{a}.{b}",
    st.sampled_from(["", "+"]),
    st.sampled_from(["", "0", "1", "42", "007"]),
    st.integers(0, 10**6),
)
floats = st.one_of(floats_pos, floats_pos.map(lambda f: "-" + f.lstrip("+")))
timestamps = st.builds(
    lambda d, frac, leap: (
        "t'" + d.strftime("%Y-%m-%dT%H:%M:") + ("60" if leap else d.strftime("%S")) + frac + "Z'"
    ),
    st.datetimes(min_value=datetime(1000, 1, 1), max_value=datetime(9999, 12, 31)),
    st.sampled_from(["", ".0", ".123", ".123456"]),
    st.booleans(),
)
hexes = st.binary(max_size=8).map(lambda b: f"h'{b.hex()}'")
binaries = st.binary(min_size=1, max_size=12).map(lambda b: f"b'{base64.b64encode(b).decode()}'")
orderable = st.one_of(strings, ints_pos, ints_neg, floats, timestamps, hexes, binaries)
primitive = st.one_of(orderable, st.sampled_from(["true", "false"]))


@st.composite
def paths(draw: st.DrawFn) -> Tokens:
    """``type:prop`` with ``.key``, ``.'quoted key'``, ``[n]`` and ``[*]`` steps."""
    first = draw(names)
    out: Tokens = [("type", draw(types)), ("punct", ":")]
    bare = first[0].isalpha() or first[0] == "_"  # a bare property is an identifier
    out.append(("prop", first if bare and draw(st.booleans()) else quoted(first)))
    for _ in range(draw(st.integers(0, 3))):
        step = draw(st.sampled_from(["key", "quoted", "index", "star"]))
        if step == "key":
            out += [("punct", "."), ("step", draw(keys))]
        elif step == "quoted":
            out += [("punct", "."), ("step", quoted(draw(st.text(max_size=8))))]
        else:
            index = draw(ints_pos) if step == "index" else "*"
            out += [("punct", "["), ("index", index), ("punct", "]")]
    return out


HASHES = [("MD5", 32), ("'MD5'", 32), ("'SHA-1'", 40), ("'SHA-256'", 64), ("SHA256", 64)]
HASHES += [("'SHA-512'", 128), ("'SHA3-256'", 64), ("'x-custom-hash'", 10)]


@st.composite
def comparisons(draw: st.DrawFn) -> Tokens:
    """One propTest: every operator with a literal of the kind it takes, NOT, EXISTS, and a
    hashes comparison whose value has its hash's form."""
    kind = draw(st.sampled_from(["eq", "order", "in", "string", "exists", "hash"]))
    if kind == "exists":
        return [("kw", "EXISTS"), *draw(paths())]
    if kind == "hash":
        key, size = draw(st.sampled_from(HASHES))
        digest = draw(st.binary(min_size=size // 2, max_size=size // 2)).hex()
        path: Tokens = [("type", "file"), ("punct", ":"), ("prop", "hashes")]
        path += [("punct", "."), ("step", key)]
        return [*path, ("op", draw(st.sampled_from(["=", "!="]))), ("lit", f"'{digest}'")]
    out = draw(paths())
    if draw(st.booleans()):
        out.append(("kw", "NOT"))
    if kind == "eq":
        out += [("op", draw(st.sampled_from(["=", "==", "!=", "<>"]))), ("lit", draw(primitive))]
    elif kind == "order":
        out += [("op", draw(st.sampled_from(["<", "<=", ">", ">="]))), ("lit", draw(orderable))]
    elif kind == "in":
        values = draw(st.lists(primitive, max_size=3))
        out += [("kw", "IN"), ("punct", "(")]
        for i, value in enumerate(values):
            out += [("punct", ",")] * (i > 0) + [("lit", value)]
        out.append(("punct", ")"))
    else:
        op = draw(st.sampled_from(["LIKE", "MATCHES", "ISSUBSET", "ISSUPERSET"]))
        out += [("kw", op), ("lit", draw(strings))]
    return out


def _joined(parts: st.SearchStrategy[Tokens], ops: list[str]) -> st.SearchStrategy[Tokens]:
    def build(items: list[Tokens], chosen: list[str]) -> Tokens:
        out = list(items[0])
        for op, item in zip(chosen, items[1:], strict=False):
            out += [("kw", op), *item]
        return out

    return st.builds(
        build, st.lists(parts, min_size=2, max_size=3), st.lists(st.sampled_from(ops), min_size=2)
    )


comparison_expressions = st.recursive(
    comparisons(),
    lambda inner: st.one_of(
        inner.map(lambda t: [("punct", "("), *t, ("punct", ")")]),
        _joined(inner, ["AND", "OR"]),
    ),
    max_leaves=5,
)

within = st.one_of(ints_pos, floats_pos)
qualifier = {
    "WITHIN": within.map(lambda n: [("kw", "WITHIN"), ("lit", n), ("kw", "SECONDS")]),
    "REPEATS": ints_pos.map(lambda n: [("kw", "REPEATS"), ("lit", n), ("kw", "TIMES")]),
    "START": st.tuples(timestamps, timestamps).map(
        lambda ts: [("kw", "START"), ("lit", ts[0]), ("kw", "STOP"), ("lit", ts[1])]
    ),
}


@st.composite
def qualified(draw: st.DrawFn, base: Tokens, simple: bool) -> Tokens:
    """*base* with qualifiers: distinct kinds on ``[...]`` (stix2-patterns refuses a repeated
    one there), any on ``(...)``."""
    kinds = list(qualifier)
    if simple:
        chosen = draw(st.permutations(kinds))[: draw(st.integers(0, 3))]
    else:
        chosen = draw(st.lists(st.sampled_from(kinds), max_size=3))
    out = list(base)
    for kind in chosen:
        out += draw(qualifier[kind])
    return out


observation = comparison_expressions.flatmap(
    lambda c: qualified([("punct", "["), *c, ("punct", "]")], True)
)
observation_expressions = st.recursive(
    observation,
    lambda inner: st.one_of(
        inner.flatmap(lambda t: qualified([("punct", "("), *t, ("punct", ")")], False)),
        _joined(inner, ["AND", "OR", "FOLLOWEDBY"]),
    ),
    max_leaves=4,
)

SPACES = [" ", "  ", "\t", "\n", "\r\n", "\u00a0", "\u2003", "\u3000"]


@st.composite
def spelled(draw: st.DrawFn, tokens: Tokens) -> str:
    """The tokens as text: whitespace between words, sometimes none next to punctuation."""
    out = [tokens[0][1]]
    for (tag_a, _), (tag_b, text) in itertools.pairwise(tokens):
        tight = "punct" in (tag_a, tag_b) or "op" in (tag_a, tag_b)
        if tight and draw(st.booleans()):
            out.append("")
        else:
            out.append(draw(st.sampled_from(SPACES)))
        out.append(text)
    return "".join(out)


valid_patterns = observation_expressions.flatmap(spelled)

ORACLE = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@ORACLE
@given(valid_patterns)
def test_generated_valid_patterns_are_accepted_by_both(pattern: str) -> None:
    assert check_pattern(pattern) is None
    assert stix2_patterns_accepts(pattern)


# --- Corruptions ------------------------------------------------------------------------------

BAD_OPS = ["=>", "=<", "~", "EQ", "!", "===", "<<", "eq", "IS", "NOT"]
BAD_LITERALS = ["h'0'", "h'zz'", "b''", "b'abc'", "t'2020-13-01T00:00:00Z'", "'open"]
BAD_LITERALS += ["t'2020-01-01 00:00:00Z'", "'bad\\escape'", "007", "1.", "0x1F", "TRUE", "-"]
BAD_LITERALS += ["+-1", "'abc'd'", "true1", "T'2020-01-01T00:00:00Z'", "h''", "b'AAAA"]
BAD_TYPES = ["File", "x_y", "ab", "a--b", "-ab", "1abc", "x-", "IN", "'file'", "domain-"]
BAD_PROPS = ["Name", "na-me", "id", "ab", "'Bad Name'", "'x'", "*", "1", "'na-me'", "NAME"]
BAD_STEPS = ["-1", "a", "1.5", "", "'x'", "+-1", "007"]


@st.composite
def corrupted(draw: st.DrawFn) -> str:
    """A valid pattern broken one way: a token dropped, duplicated or swapped, a bracket added,
    a bad operator, literal, object type, property or list index, or a character changed."""
    tokens = draw(observation_expressions)
    how = draw(
        st.sampled_from(
            ["drop", "duplicate", "swap", "bracket", "op", "literal", "path", "char", "index"]
        )
    )
    i = draw(st.integers(0, len(tokens) - 1))
    by_tag = {
        "op": ("op", BAD_OPS),
        "literal": ("lit", BAD_LITERALS),
        "index": ("index", BAD_STEPS),
    }
    if how == "drop":
        del tokens[i]
    elif how == "duplicate":
        tokens.insert(i, tokens[i])
    elif how == "swap" and i + 1 < len(tokens):
        tokens[i], tokens[i + 1] = tokens[i + 1], tokens[i]
    elif how == "bracket":
        tokens.insert(i, ("punct", draw(st.sampled_from(["[", "]", "(", ")"]))))
    elif how == "path":
        at = [j for j, (tag, _) in enumerate(tokens) if tag in ("type", "prop")]
        j = draw(st.sampled_from(at))
        bad = BAD_TYPES if tokens[j][0] == "type" else BAD_PROPS
        tokens[j] = (tokens[j][0], draw(st.sampled_from(bad)))
    elif how in by_tag:
        tag, bad = by_tag[how]
        at = [j for j, (t, _) in enumerate(tokens) if t == tag]
        if at:
            j = draw(st.sampled_from(at))
            tokens[j] = (tag, draw(st.sampled_from(bad)))
    text = draw(spelled(tokens)) if tokens else ""
    if how == "char" and text:
        k = draw(st.integers(0, len(text) - 1))
        if draw(st.booleans()):
            text = text[:k] + text[k + 1 :]
        else:
            text = text[:k] + draw(st.sampled_from(list("[]()'\\:.,-+=<>! /*aZ0tT"))) + text[k:]
    event(f"corruption: {how}")
    return text


@ORACLE
@given(corrupted())
def test_fast_accept_implies_stix2_patterns_accepts_on_corruptions(pattern: str) -> None:
    fast, slow = check_pattern(pattern) is None, stix2_patterns_accepts(pattern)
    event(f"agree: {fast == slow}" + ("" if fast == slow else f" (fast {fast}, slow {slow})"))
    assert slow or not fast


# --- Particular cases -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pattern",
    [
        "[x:name = 'a'] WITHIN 5 SECONDS WITHIN 6 SECONDS",  # repeated qualifier on [...]
        "[file:hashes.MD5 = 'e8e7b0a8f274cad7bdaedd5a91b5164']",  # 31 hex digits
        "[file:hashes.'SHA-256' IN ('a', 'b')]",  # stix2-patterns checks the set's text
        "[File:name = 'x']",
        "[file:Name = 'x']",
        "[file:name = 007]",
        "[file:name = b'']",
        "[file:name = t'2020-02-30T24:00:00Z']",
        "file:name = 'x'",
        "[file:name = 'x'] AND",
        "[file:name = 'x' AND]",
        "[file:name == 'x' AND file:size LIKE 5]",
        "[file:name = 'x'] REPEATS -2 TIMES",
        "[file:name = 'x'] within 5 seconds",
    ],
)
def test_refused_by_both(pattern: str) -> None:
    assert check_pattern(pattern) is not None
    assert not stix2_patterns_accepts(pattern)


@pytest.mark.parametrize(
    "pattern",
    [
        "([x-a:name = 'a'] WITHIN 5 SECONDS) WITHIN 6 SECONDS",  # repeats on (...) are fine
        "[file:size > -5 AND file:size <= +.5] REPEATS +3 TIMES",
        "[file:name = 'a\\'b\\\\c' OR (file:size IN () AND file:x_y NOT LIKE 'x')]",
        "[url:value NOT IN ('a', 1, -2.5, true, h'00ff', b'AAA=', t'2016-12-31T23:59:60.5Z')]",
        "[file:extensions.'ntfs-ext'.sids[*] MATCHES '^S-1-5$' AND EXISTS file:parent_ref]",
        "[network-traffic:src_ref.value ISSUBSET '10.0.0.0/8'] FOLLOWEDBY [x509:'version' >= 3]",
        "[file:hashes[*] = 'anything'] START t'2020-01-01T00:00:00Z' STOP t'2021-01-01T00:00:00Z'",
        "\u3000( [a-b:ccc = 5AND a-b:ddd = 6] )\n",
    ],
)
def test_accepted_by_both(pattern: str) -> None:
    assert check_pattern(pattern) is None
    assert stix2_patterns_accepts(pattern)


@pytest.mark.parametrize(
    "pattern",
    [
        "[file:name = 'x' /* a comment */]",  # comments are left to stix2-patterns
        "[file:name = 'x']  // a comment",
    ],
)
def test_left_to_stix2_patterns(pattern: str) -> None:
    assert check_pattern(pattern) is not None
    assert stix2_patterns_accepts(pattern)
    indicator = sdo(
        "indicator", pattern=pattern, pattern_type="stix", valid_from=sdo("x")["created"]
    )
    assert validate_object(indicator) == []


@pytest.mark.parametrize("pattern", ["", "[file:name[-1] = 'x']", "[file:hashes[0] = 'x']"])
def test_stix2_patterns_failures_become_problems(pattern: str) -> None:
    """stix2-patterns raises on these (its inspector cannot take them); the fast checker refuses
    them, and the validator reports the failure instead of raising."""
    assert check_pattern(pattern) is not None
    indicator = sdo(
        "indicator", pattern=pattern, pattern_type="stix", valid_from=sdo("x")["created"]
    )
    [problem] = validate_object(indicator)
    assert problem.path == "pattern"
    assert "stix2-patterns could not check it" in problem.message


def test_messages_of_refused_patterns_come_from_stix2_patterns() -> None:
    pattern = "[ipv4-addr:value = '198.51.100.1'"
    indicator = sdo(
        "indicator", pattern=pattern, pattern_type="stix", valid_from=sdo("x")["created"]
    )
    [problem] = validate_object(indicator)
    assert (
        problem.message == "not a valid STIX pattern: " + _stix2_patterns_errors(pattern, "2.1")[0]
    )


def test_doctests() -> None:
    result = doctest.testmod(_pattern)
    assert result.attempted >= 5
    assert result.failed == 0


# --- The fast path of the simple shape ----------------------------------------------------------

# Mostly valid names (so that the fast path is taken often), and the traps: keywords, true,
# hashes, capitals, hyphens in properties, too short or doubled hyphens in types.
_TRAPS = ["AND", "true", "hashes", "MD5", "Name", "va-lue", "ab", "do--main", "x", "_v"]
_NAME_PARTS = st.one_of(
    st.sampled_from(["file", "domain-name", "x-foo", "name", "value", "x_y"]),
    st.sampled_from(_TRAPS),
)


@st.composite
def simple_shapes(draw: st.DrawFn) -> str:
    otype = draw(_NAME_PARTS)
    path = ".".join(draw(st.lists(_NAME_PARTS, min_size=1, max_size=3)))
    pieces = ["a", "b", " ", ".", "a", "b", "\\'", "\\\\", "'", "\\"]
    value = "".join(draw(st.lists(st.sampled_from(pieces), max_size=5)))
    spacing = draw(st.sampled_from([" = ", " = ", " = ", "=", " == ", "  =  "]))
    return f"[{otype}:{path}{spacing}'{value}']" + draw(st.sampled_from(["", " ", "\n"]))


@settings(max_examples=2000)
@given(simple_shapes())
def test_simple_fast_path_accepts_only_what_the_parser_accepts(pattern: str) -> None:
    if _pattern._simple(pattern):
        _pattern._Parser(pattern).whole()  # raises _Refused if the parser disagrees
        event("fast path taken")


@ORACLE
@given(simple_shapes())
def test_simple_fast_path_accepts_only_what_stix2_patterns_accepts(pattern: str) -> None:
    assert stix2_patterns_accepts(pattern) or not _pattern._simple(pattern)
