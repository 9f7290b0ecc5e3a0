"""Combining REL TO markings for derived products (policy/combine.py), against brute force.

Who a marking set admits is decided here by enumerating principals, as the gate reads them:
every country of a small world (and one outside it, standing for all the others) with every
set of community names its organization could declare. A product derived from sources must
admit exactly the principals every source admits; ``no_more_releasable`` must say exactly
whether one marking set admits nobody another refuses.
"""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from kizuna.policy.combine import (
    combine,
    derived_refs,
    marking_definitions_for,
    no_more_releasable,
    rel_to_markings,
    source_marking_refs,
    summarize,
)
from kizuna.policy.gate import Access, CollectionView, Gate
from kizuna.policy.principal import Principal
from kizuna.stix.markings import Marking, RelTo, parse_marking, releasability_id

COMMUNITIES = {
    "NATO": frozenset({"FRA", "USA", "CAN", "GBR"}),
    "FVEY": frozenset({"AUS", "CAN", "GBR", "NZL", "USA"}),
    "IP4": frozenset({"AUS", "JPN", "NZL"}),
    "EMPTY": frozenset(),
}
NAMED = sorted({"FRA", "USA", "CAN", "GBR", "AUS", "NZL", "JPN"})
#: A country no marking names: it stands for all the others.
COUNTRIES = [*NAMED, "BRA"]
NAMES = sorted(COMMUNITIES)
CODES = NAMED + NAMES
REAL = CollectionView("c", "real")


def _principals() -> list[Principal]:
    out = []
    for country in COUNTRIES:
        for n in range(len(NAMES) + 1):
            for declared in itertools.combinations(NAMES, n):
                codes = {country, *declared}
                codes |= {c for c, members in COMMUNITIES.items() if country in members}
                org = f"{country}+{'+'.join(declared)}"
                out.append(Principal(org, org, country, frozenset(codes)))
    return out


PRINCIPALS = _principals()


def _gate(markings: dict[str, Marking]) -> Gate:
    grants = {(REAL.id, p.org): Access(True, True, "red") for p in PRINCIPALS}
    return Gate(markings, grants)


def _admitted(gate: Gate, refs: list[str]) -> frozenset[str]:
    return frozenset(
        p.org
        for p in PRINCIPALS
        if gate.set_visible(p, refs, gate.access(p, REAL.id), REAL)
    )


code_sets = st.frozensets(st.sampled_from(CODES), min_size=1, max_size=4)
marking_sets = st.lists(code_sets, min_size=0, max_size=2)


def _refs(sets: list[frozenset[str]], markings: dict[str, Marking]) -> list[str]:
    refs = []
    for codes in sets:
        rid = releasability_id(codes)
        markings[rid] = RelTo(codes)
        refs.append(rid)
    return refs


@settings(max_examples=400, deadline=None)
@given(st.lists(marking_sets, min_size=1, max_size=3))
def test_a_product_admits_exactly_whom_every_source_admits(
    sources: list[list[frozenset[str]]],
) -> None:
    markings: dict[str, Marking] = {}
    source_refs = [_refs(s, markings) for s in sources]
    product = derived_refs(source_refs, markings, COMMUNITIES)
    combined = combine(summarize(r, markings, COMMUNITIES) for r in source_refs)
    for d in marking_definitions_for(combined, COMMUNITIES):
        markings[str(d["id"])] = parse_marking(d)
    gate = _gate(markings)
    expected = frozenset.intersection(*(_admitted(gate, r) for r in source_refs))
    assert _admitted(gate, product) == expected, rel_to_markings(combined, COMMUNITIES)
    # No community is named that no source named (a name stands for more than its members).
    written = {c for codes in rel_to_markings(combined, COMMUNITIES) for c in codes}
    assert written & set(NAMES) <= {c for s in sources for codes in s for c in codes}


@settings(max_examples=400, deadline=None)
@given(marking_sets, marking_sets)
def test_no_more_releasable_is_exact(
    derived: list[frozenset[str]], source: list[frozenset[str]]
) -> None:
    markings: dict[str, Marking] = {}
    d_refs, s_refs = _refs(derived, markings), _refs(source, markings)
    gate = _gate(markings)
    d = summarize(d_refs, markings, COMMUNITIES)
    s = summarize(s_refs, markings, COMMUNITIES)
    assert no_more_releasable(d, s) == (_admitted(gate, d_refs) <= _admitted(gate, s_refs))


def test_a_community_is_not_written_for_its_members() -> None:
    """Sources naming AUS, CAN, GBR, NZL, USA: an organization that merely declares FVEY
    reads none of them, so it must not read the product either."""
    markings: dict[str, Marking] = {}
    five = [frozenset({"AUS", "CAN", "GBR", "NZL", "USA"})]
    product = derived_refs(
        [_refs(five, markings), _refs([frozenset({"FVEY"})], markings)], markings, COMMUNITIES
    )
    assert product == [releasability_id(five[0])]
    declares = next(p for p in PRINCIPALS if p.country == "JPN" and p.codes >= {"FVEY"})
    gate = _gate(markings)
    assert declares.org not in _admitted(gate, product)
    assert declares.org in _admitted(gate, [releasability_id(["FVEY"])])


def test_granular_markings_of_the_fields_used_count() -> None:
    obj = {
        "object_marking_refs": ["m-object"],
        "granular_markings": [
            {"marking_ref": "m-elements", "selectors": ["elements"]},
            {"marking_ref": "m-epoch", "selectors": ["elements.epoch", "name"]},
            {"marking_ref": "m-name", "selectors": ["name"]},
            {"marking_ref": "m-all", "selectors": ["external_references.[0]"]},
            {"marking_ref": 7, "selectors": ["elements"]},
            "not an entry",
        ],
    }
    assert source_marking_refs(obj, ["elements"]) == ["m-elements", "m-epoch", "m-object"]
    assert source_marking_refs(obj, ["elements.epoch"]) == ["m-elements", "m-epoch", "m-object"]
    assert source_marking_refs(obj, ["elementsx"]) == ["m-object"]
    assert source_marking_refs({}, ["elements"]) == []
