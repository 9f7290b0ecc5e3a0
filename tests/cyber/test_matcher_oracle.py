"""The matcher against the OASIS stix2-matcher: the same answers on the same cases.

On MBC's 183 real patterns (each against data made to match it, and against near misses), and
on generated patterns and batches covering every operator, path form and qualifier. A case on
which stix2-matcher raises instead of answering is not a case (the generators avoid them).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from stix2matcher.matcher import MatcherException
from stix2matcher.matcher import match as oracle_match

from kizuna.cyber.matcher import Indicator, Matcher
from kizuna.cyber.observations import observations
from kizuna.cyber.pattern import STAR, Comparison, Observation, ObservationExpr, parse_pattern
from tests.cyber._generate import batches, pattern_text, patterns
from tests.cyber.test_pattern_parse import mbc_patterns


def oracle(pattern: str, objects: list[dict[str, Any]]) -> bool:
    bundle = {"type": "bundle", "id": "bundle--1", "objects": copy.deepcopy(objects)}
    return bool(oracle_match(pattern, [bundle], stix_version="2.1"))


def ours(pattern: str, objects: list[dict[str, Any]]) -> bool:
    matcher = Matcher([Indicator("indicator--1", pattern)])
    assert not matcher.refused, matcher.refused
    return bool(matcher.match(observations(objects, now_us=0)))


def _observed(n: int, refs: list[str]) -> dict[str, Any]:
    return {
        "type": "observed-data",
        "id": f"observed-data--{n}",
        "first_observed": "2020-01-01T00:00:00Z",
        "last_observed": "2020-01-01T00:00:00Z",
        "number_observed": 1,
        "object_refs": refs,
    }


def _carrying(tree: ObservationExpr, change: Any) -> list[dict[str, Any]]:
    """An observation holding the values an MBC pattern compares with (*change*d)."""
    assert isinstance(tree, Observation)
    comparison = tree.expr
    assert isinstance(comparison, Comparison)
    path = comparison.path
    obj: dict[str, Any] = {"type": path.object_type, "id": f"{path.object_type}--1"}
    target = obj
    for step in path.steps[:-1]:
        assert isinstance(step, str) and step is not STAR
        target = target.setdefault(step, {})
    last = path.steps[-1]
    assert isinstance(last, str)
    target[last] = change(comparison.value)
    return [obj, _observed(1, [obj["id"]])]


@pytest.mark.parametrize(
    "change",
    [lambda v: v, str.upper, lambda v: v + " ", lambda v: v[:-1], lambda v: "x" + v],
    ids=["same", "upper", "space", "shorter", "prefixed"],
)
def test_mbc_patterns_answer_as_the_oracle(change: Any) -> None:
    agreed = 0
    for text in mbc_patterns():
        objects = _carrying(parse_pattern(text), change)
        assert ours(text, objects) == oracle(text, objects), text
        agreed += 1
    assert agreed == 183


def test_mbc_patterns_against_one_batch_of_all() -> None:
    """All 183 patterns in one matcher, against one batch holding the values of half."""
    texts = mbc_patterns()
    objects: list[dict[str, Any]] = []
    for n, text in enumerate(texts[::2]):
        part = _carrying(parse_pattern(text), lambda v: v)
        part[0]["id"] = f"{part[0]['type']}--{n}"
        objects += [part[0], _observed(n, [part[0]["id"]])]
    matcher = Matcher([Indicator(f"indicator--{i}", t) for i, t in enumerate(texts)])
    matched = {m.indicator.pattern for m in matcher.match(observations(objects, now_us=0))}
    expected = {t for t in texts if oracle(t, objects)}
    assert matched == expected
    assert len(expected) >= 90


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(patterns(), batches())
def test_generated_cases_answer_as_the_oracle(tree: ObservationExpr, objects: Any) -> None:
    text = pattern_text(tree)
    try:
        expected = oracle(text, objects)
    except (MatcherException, TypeError, ValueError):  # pragma: no cover - avoided by design
        assume(False)
    assert ours(text, objects) == expected, text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(patterns(depth=0), batches())
def test_one_observation_patterns_match_the_observations_the_oracle_names(
    tree: ObservationExpr, objects: Any
) -> None:
    """A pattern of one [...] matches each observation on its own: the same ones."""
    text = pattern_text(tree)
    batch = observations(objects, now_us=0)
    matches = Matcher([Indicator("indicator--1", text)]).match(batch)
    found = {batch[m.observations[0]].id for m in matches}
    expected = set()
    for obs in batch:
        alone = [o for o in objects if o["id"] in obs.objects]
        if oracle(text, alone):
            expected.add(obs.id)
    assert found == expected, text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(patterns(), min_size=2, max_size=8), batches())
def test_patterns_matched_together_answer_as_each_alone(
    trees: list[ObservationExpr], objects: Any
) -> None:
    """Many patterns in one matcher share its indexes (hash keys, text pieces chosen among
    all of them, networks): each matches where the oracle says it does, alone."""
    texts = [pattern_text(t) for t in trees]
    try:
        expected = {n for n, text in enumerate(texts) if oracle(text, objects)}
    except (MatcherException, TypeError, ValueError):  # pragma: no cover - avoided by design
        assume(False)
    matcher = Matcher([Indicator(f"indicator--{n}", text) for n, text in enumerate(texts)])
    matched = matcher.match(observations(objects, now_us=0))
    assert {int(m.indicator.id.split("--")[1]) for m in matched} == expected, texts
