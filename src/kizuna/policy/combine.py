"""Releasability as a value: summarize a marking set, combine sets for derived products.

A derived product (a conjunction of two space objects, a sighting of an indicator, a note on
a report) is never more releasable than its sources: REL TO is the intersection of the
sources' country sets, TLP the stricter, exercises the union.

>>> communities = {"NATO": frozenset({"FRA", "DEU", "USA"}), "IP4": frozenset({"JPN", "AUS"})}
>>> a = Releasability(tlp=1, countries=frozenset({"FRA", "DEU", "USA", "JPN"}))
>>> b = Releasability(tlp=2, countries=frozenset({"FRA", "DEU", "USA"}))
>>> c = combine([a, b])
>>> c.tlp, sorted(c.countries or ())
(2, ['DEU', 'FRA', 'USA'])
>>> rel_to_codes(c, communities)
['NATO']
>>> no_more_releasable(c, a) and no_more_releasable(c, b) and not no_more_releasable(a, b)
True
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from kizuna.stix.markings import TLP2_IDS, TLP_LEVELS, Exercise, Marking, RelTo, Statement, Tlp


@dataclass(frozen=True, slots=True)
class Releasability:
    """Who a marking set lets see an object, in comparable form.

    ``tlp`` is the rank in TLP_LEVELS, -1 when unmarked; ``countries`` None means no REL TO
    restriction; ``unknown`` is True when a marking is not understood (then nobody may see it).
    """

    tlp: int = -1
    countries: frozenset[str] | None = None
    exercises: frozenset[str] = field(default_factory=frozenset)
    statements: frozenset[str] = field(default_factory=frozenset)
    unknown: bool = False


def expand(codes: Iterable[str], communities: Mapping[str, frozenset[str]]) -> frozenset[str]:
    """Countries named by releasability codes (a community stands for its members)."""
    out: set[str] = set()
    for code in codes:
        out |= communities.get(code, frozenset({code}))
    return frozenset(out)


def summarize(
    refs: Iterable[str],
    markings: Mapping[str, Marking],
    communities: Mapping[str, frozenset[str]],
) -> Releasability:
    tlp = -1
    countries: frozenset[str] | None = None
    exercises: set[str] = set()
    statements: set[str] = set()
    unknown = False
    for ref in refs:
        m = markings.get(ref)
        if isinstance(m, Tlp):
            tlp = max(tlp, m.rank)
        elif isinstance(m, RelTo):
            here = expand(m.codes, communities)
            countries = here if countries is None else countries & here
        elif isinstance(m, Exercise):
            exercises.add(m.name)
        elif isinstance(m, Statement):
            statements.add(ref)
        else:
            unknown = True
    return Releasability(tlp, countries, frozenset(exercises), frozenset(statements), unknown)


def combine(items: Iterable[Releasability]) -> Releasability:
    """The releasability of a product derived from all of *items*."""
    tlp = -1
    countries: frozenset[str] | None = None
    exercises: frozenset[str] = frozenset()
    statements: frozenset[str] = frozenset()
    unknown = False
    for r in items:
        tlp = max(tlp, r.tlp)
        if r.countries is not None:
            countries = r.countries if countries is None else countries & r.countries
        exercises |= r.exercises
        statements |= r.statements
        unknown = unknown or r.unknown
    return Releasability(tlp, countries, exercises, statements, unknown)


def no_more_releasable(derived: Releasability, source: Releasability) -> bool:
    """True when everyone who may see *derived* may also see *source*."""
    if source.unknown and not derived.unknown:
        return False
    if derived.tlp < source.tlp:
        return False
    if source.countries is not None and (
        derived.countries is None or not derived.countries <= source.countries
    ):
        return False
    return derived.exercises >= source.exercises


def rel_to_codes(r: Releasability, communities: Mapping[str, frozenset[str]]) -> list[str]:
    """Codes for a REL TO marking naming exactly ``r.countries``, with whole communities named."""
    if r.countries is None:
        return []
    rest = set(r.countries)
    codes: list[str] = []
    for name, members in sorted(communities.items(), key=lambda kv: -len(kv[1])):
        if members and members <= rest:
            codes.append(name)
            rest -= members
    return sorted(codes) + sorted(rest)


def marking_refs_for(
    r: Releasability,
    communities: Mapping[str, frozenset[str]],
) -> list[str]:
    """Object-marking refs that express *r* (TLP, REL TO, exercises, statements).

    REL TO and exercise markings are derived ids; the caller stores their definitions
    (see kizuna.stix.markings.releasability_marking and exercise_marking). An empty country
    set cannot be written as one REL TO marking: that raises ValueError (use
    :func:`derived_refs`, which keeps the sources' REL TO markings instead), and so does a
    marking nobody understands (it denies everyone; no marking can say that).
    """
    from kizuna.stix.markings import exercise_marking, releasability_marking

    if r.unknown:
        raise ValueError(
            "a source carries a marking Kizuna does not understand: nobody may see it, so no "
            "marking can express what the product may be released to"
        )
    refs: list[str] = []
    if r.tlp >= 0:
        refs.append(TLP2_IDS[TLP_LEVELS[r.tlp]])
    if r.countries is not None:
        codes = rel_to_codes(r, communities)
        if not codes:
            raise ValueError(
                "the sources share no country: no single REL TO marking expresses that; "
                "mark the product with derived_refs(), which keeps every source's REL TO"
            )
        refs.append(str(releasability_marking(codes)["id"]))
    for name in sorted(r.exercises):
        refs.append(str(exercise_marking(name)["id"]))
    refs.extend(sorted(r.statements))
    return sorted(set(refs))


def derived_refs(
    sources: Iterable[Iterable[str]],
    markings: Mapping[str, Marking],
    communities: Mapping[str, frozenset[str]],
) -> list[str]:
    """Object-marking refs for a product derived from objects marked *sources*.

    Normally one REL TO marking naming the intersection of the sources' countries, the
    strictest TLP, every exercise. When the sources share no country, the product is marked
    TLP:RED and keeps every source's REL TO marking: the gate then admits only a principal
    that each of them admits (in practice, nobody but the node's administrators).

    >>> from kizuna.stix.markings import releasability_id
    >>> nato, ip4 = releasability_id(["NATO"]), releasability_id(["IP4"])
    >>> ms = {nato: RelTo(frozenset({"NATO"})), ip4: RelTo(frozenset({"IP4"}))}
    >>> cs = {"NATO": frozenset({"FRA", "USA"}), "IP4": frozenset({"JPN", "AUS"})}
    >>> derived_refs([[nato], [ip4]], ms, cs) == sorted([TLP2_IDS["red"], nato, ip4])
    True
    """
    source_refs = [list(refs) for refs in sources]
    combined = combine(summarize(refs, markings, communities) for refs in source_refs)
    if combined.countries is None or combined.countries:
        return marking_refs_for(combined, communities)
    rel_tos = {r for refs in source_refs for r in refs if isinstance(markings.get(r), RelTo)}
    shared = marking_refs_for(
        Releasability(
            TLP_LEVELS.index("red"), None, combined.exercises, combined.statements, combined.unknown
        ),
        communities,
    )
    return sorted(set(shared) | rel_tos)
