"""The matcher's prefilter (``cyber/_needs.py``): a pattern is evaluated only on the
observations that carry what it needs, and that never loses a match the oracle finds.

Cases at the edges of each need: a text piece at the very start or end of a value, values
and literals in another Unicode normal form, networks at their first and last address and
of every prefix length, flags that make literals mean more than themselves; then many
patterns in one matcher, where the pieces are chosen among all of them.
"""

from __future__ import annotations

from typing import Any

import pytest

from kizuna.cyber._evaluate import compile_expr
from kizuna.cyber._needs import Inside, Texts, like_texts, necessary, regex_texts
from kizuna.cyber.matcher import Indicator, Matcher
from kizuna.cyber.observations import observations
from kizuna.cyber.pattern import Observation, parse_pattern
from tests.cyber.test_matcher_oracle import _observed, oracle, ours

NAMES = ["x.exe", "exe", "abc.exe", "résumé", "re\u0301sume\u0301", "EXE.x", "a.dll", "", "ex"]
ADDRESSES = ["198.51.100.0", "198.51.100.255", "198.51.101.0", "198.51.100.0/25", "10.0.0.0/8"]
ADDRESSES += ["198.51.100.7/32", "0.0.0.0", "255.255.255.255"]
#: stix2-matcher raises on IPv6 under ISSUBSET: these are checked against the pattern's
#: compiled test run on every observation, without the prefilter.
IPV6 = ["2001:db8::1", "2001:db8::/32", "2001:db8:0:1::/64", "2001:db9::", "::", "::/0"]
TEXT_PATTERNS = [
    "[file:name LIKE '%exe']",
    "[file:name LIKE 'x.e%']",
    "[file:name LIKE 'exe']",
    "[file:name LIKE '%sumé']",
    "[file:name LIKE '%sume\u0301']",
    "[file:name LIKE 'r_sum_']",
    "[file:name LIKE '%.dl_' AND file:name LIKE 'a%']",
    "[file:name LIKE 'ex%' OR file:name MATCHES 'dll$']",
    "[file:name MATCHES '^x\\\\.exe$']",
    "[file:name MATCHES 'exe$']",
    "[file:name MATCHES '(?i)EXE']",
    "[file:name MATCHES 'ab?c']",
    "[file:name MATCHES 'sume\u0301$']",
    "[file:name NOT LIKE '%exe']",
    "[file:name LIKE '%ex']",
]
NETWORK_PATTERNS = [
    "[ipv4-addr:value ISSUBSET '198.51.100.0/24']",
    "[ipv4-addr:value ISSUBSET '198.51.100.0/25']",
    "[ipv4-addr:value ISSUBSET '198.51.100.7/32']",
    "[ipv4-addr:value ISSUBSET '0.0.0.0/1']",
    "[ipv4-addr:value ISSUBSET '128.0.0.0/1']",
    "[ipv4-addr:value NOT ISSUBSET '198.51.100.0/24']",
    "[ipv4-addr:value ISSUBSET '10.0.0.0/8' AND ipv4-addr:value LIKE '10.%']",
]


def _files(names: list[str]) -> list[dict[str, Any]]:
    return [{"type": "file", "id": f"file--{n}", "name": name} for n, name in enumerate(names)]


def _addresses(values: list[str]) -> list[dict[str, Any]]:
    return [
        {"type": "ipv4-addr", "id": f"ipv4-addr--{n}", "value": v} for n, v in enumerate(values)
    ]


def _seen(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """*objects*, each in an observed-data of its own (the oracle matches only those)."""
    return [x for n, o in enumerate(objects) for x in (o, _observed(n, [o["id"]]))]


@pytest.mark.parametrize("pattern", TEXT_PATTERNS)
@pytest.mark.parametrize("name", NAMES)
def test_text_needs_answer_as_the_oracle(pattern: str, name: str) -> None:
    objects = _seen(_files([name]))
    assert ours(pattern, objects) == oracle(pattern, objects)


@pytest.mark.parametrize("pattern", NETWORK_PATTERNS)
@pytest.mark.parametrize("value", ADDRESSES)
def test_network_needs_answer_as_the_oracle(pattern: str, value: str) -> None:
    objects = _seen(_addresses([value]))
    assert ours(pattern, objects) == oracle(pattern, objects)


@pytest.mark.parametrize(
    "pattern",
    [
        "[ipv6-addr:value ISSUBSET '2001:db8::/32']",
        "[ipv6-addr:value ISSUBSET '2001:db8::/64']",
        "[ipv6-addr:value ISSUBSET '::/0']",
        "[ipv6-addr:value ISSUBSET '2001:db8::1/128']",
        "[ipv6-addr:value ISSUBSET '198.51.100.0/24']",
    ],
)
@pytest.mark.parametrize("value", [*IPV6, "198.51.100.7"])
def test_ipv6_network_needs_answer_as_the_unfiltered_test(pattern: str, value: str) -> None:
    objects = [{"type": "ipv6-addr", "id": "ipv6-addr--1", "value": value}]
    tree = parse_pattern(pattern)
    assert isinstance(tree, Observation)
    (obs,) = observations(objects, now_us=0)
    assert ours(pattern, objects) == bool(compile_expr(tree.expr)(obs.objects, obs.by_type))


def test_many_patterns_in_one_matcher_answer_as_each_alone() -> None:
    texts = TEXT_PATTERNS + NETWORK_PATTERNS
    objects = _files(NAMES) + _addresses(ADDRESSES)
    batch = observations(_seen(objects), now_us=0)
    matcher = Matcher([Indicator(f"indicator--{n}", t) for n, t in enumerate(texts)])
    found = {(m.indicator.pattern, batch[m.observations[0]].id) for m in matcher.match(batch)}
    expected = {
        (text, f"observed-data--{n}")
        for text in texts
        for n, obj in enumerate(objects)
        if oracle(text, _seen([obj]))
    }
    assert found == expected
    assert len(expected) > 40


def test_what_each_comparison_needs() -> None:
    def needs(text: str) -> Any:
        tree = parse_pattern(text)
        assert isinstance(tree, Observation)
        return necessary(tree.expr)

    assert needs("[file:name LIKE '%.exe']") == [Texts("file", ("name",), (".exe",))]
    assert needs("[file:name LIKE 'a_b%c']") is None  # no run of three characters
    assert needs("[file:name NOT LIKE '%.exe']") is None
    assert needs("[ipv4-addr:value ISSUBSET '198.51.100.0/24']") == [
        Inside("ipv4-addr", ("value",), 4, 24, int("c63364", 16))
    ]
    # AND: an equality is the most selective need; OR: every part's.
    assert needs("[file:name LIKE '%.exe' AND file:size = 3]") == [("file", ("size",), "n", 3)]
    assert needs("[file:name LIKE '%.exe' OR file:size > 3]") is None
    assert like_texts("%sume\u0301_x") == ["sumé", "x"]
    assert regex_texts("^http://[a-z]+\\.ab(c|d)") == ["http://", ".ab"]
    assert regex_texts("(?i)abc") is None  # case-insensitive: literals match other text
    assert regex_texts("(?x) a b c") is None


def test_a_pattern_on_a_piece_every_value_shares_still_matches_only_its_own() -> None:
    """Pieces are chosen where fewest patterns share them: 300 LIKE patterns that all hold
    ``.example.net`` each index a piece of their own part, and each matches its value."""
    hexes = [f"{n:03x}" for n in range(300)]
    texts = [f"[domain-name:value LIKE '%.{h}.example.net']" for h in hexes]
    matcher = Matcher([Indicator(f"indicator--{n}", t) for n, t in enumerate(texts)])
    objects = [
        {"type": "domain-name", "id": f"domain-name--{n}", "value": f"www.{h}.example.net"}
        for n, h in enumerate(hexes)
    ]
    batch = observations(objects, now_us=0)
    found = sorted((m.indicator.id, batch[m.observations[0]].id) for m in matcher.match(batch))
    assert found == sorted((f"indicator--{n}", f"domain-name--{n}") for n in range(300))
    pieces = [
        piece
        for paths in matcher._paths.values()  # the index itself: no piece of .example.net
        for entry in paths.values()
        for piece in entry.grams or {}
    ]
    assert not set(pieces) & {".ex", "exa", "xam", "amp", "mpl", "ple", "le.", "e.n", ".ne"}
