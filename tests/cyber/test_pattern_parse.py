"""The fast pattern parser against the tree read from stix2-patterns' own parse."""

from __future__ import annotations

import gzip
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kizuna.cyber import _antlr, _grammar
from kizuna.cyber.pattern import (
    STAR,
    Comparison,
    Observation,
    Path,
    PatternError,
    Timestamp,
    parse_pattern,
)
from tests.conftest import DATA
from tests.cyber._generate import pattern_text, patterns


def mbc_patterns() -> list[str]:
    with gzip.open(DATA / "stix" / "mbc-sample.json.gz") as f:
        objects = json.load(f)["objects"]
    return [o["pattern"] for o in objects if o["type"] == "indicator"]


def test_the_183_patterns_of_mbc_parse_alike() -> None:
    found = mbc_patterns()
    assert len(found) == 183
    for text in found:
        assert _grammar.parse(text) == _antlr.parse(text), text


@settings(max_examples=400, deadline=None)
@given(patterns(), st.sampled_from([" ", "  ", "\t", "\n "]))
def test_generated_patterns_parse_alike(tree: object, space: str) -> None:
    text = pattern_text(tree).replace(" ", space)  # type: ignore[arg-type]
    fast = _grammar.parse(text)
    assert fast == _antlr.parse(text)
    assert fast == tree


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[a:b = 1] /* a comment */", Observation(Comparison(Path("a", ("b",)), "=", 1))),
        ("// c\n[a:b[*] = true]", Observation(Comparison(Path("a", ("b", STAR)), "=", True))),
        (
            "[a:'b'.'c d'[-1] NOT > t'2020-01-01T00:00:00.1234567Z']",
            Observation(
                Comparison(Path("a", ("b", "c d", -1)), ">", Timestamp(1577836800123456), True)
            ),
        ),
        ("[a:b == h'0aFF']", Observation(Comparison(Path("a", ("b",)), "=", b"\n\xff"))),
        ("[a:b <> b'YWI=']", Observation(Comparison(Path("a", ("b",)), "!=", b"ab"))),
    ],
)
def test_forms_either_parser_reads(text: str, expected: object) -> None:
    assert parse_pattern(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[a:b = 1", "not a STIX 2.1 pattern"),
        ("[a:b IN (1, 'x')]", "mixes types"),
        ("[a:b = 1] REPEATS 0 TIMES", "at least 1"),
        ("[a:b = 1] WITHIN 0 SECONDS", "must be positive"),
        ("[a:b = 1] START t'2021-02-30T00:00:00Z' STOP t'2022-01-01T00:00:00Z'", "not a valid"),
        ("[a:b MATCHES '(']", "not a regular expression"),
        ("[a:b ISSUBSET '10.0.0.1']", "expected a network"),
        ("[a:b ISSUBSET '10.0.0.0/0']", "expected a network"),
        ("[a:b ISSUPERSET 'nowhere']", "expected an address"),
        ("[a:b = TRUE]", "not a STIX 2.1 pattern"),
    ],
)
def test_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(PatternError, match=message):
        parse_pattern(text)


def test_paths_print_as_patterns_spell_them() -> None:
    assert Path("file", ("hashes", "SHA-256")).text() == "file:hashes.'SHA-256'"
    assert Path("x", ("a", 0, STAR, "b")).text() == "x:a[0][*].b"
    assert Path("x", ("it's",)).text() == "x:'it\\'s'"
