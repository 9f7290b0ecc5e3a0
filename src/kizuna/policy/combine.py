"""Releasability as a value: summarize a marking set, combine sets for derived products.

A derived product (a conjunction of two space objects, a sighting of an indicator, a note on
a report) is never more releasable than its sources: it admits exactly the principals that
every source admits (REL TO: the intersection of who each source admits), TLP the stricter,
exercises the union.

Who a REL TO marking admits (docs/policy.md, Rule 2): a principal at least one of whose codes
it names. A principal's codes are its country, the communities whose members include that
country, and the communities its organization *declares*. That last kind matters here: an
organization may declare ``FVEY`` whatever its country, so ``REL TO FVEY`` admits it while
``REL TO AUS, CAN, GBR, NZL, USA`` does not, though both expand to the same five countries.
A REL TO marking is therefore read as a :class:`Clause`: the countries it admits by country
(communities expanded) and the names an organization could declare to be admitted (every code
that is not a country). Combining never writes a community name that not every source wrote.

>>> communities = {"FVEY": frozenset({"AUS", "CAN", "GBR", "NZL", "USA"})}
>>> from kizuna.stix.markings import releasability_id
>>> fvey, five = releasability_id(["FVEY"]), releasability_id(["AUS", "CAN", "GBR", "NZL", "USA"])
>>> marks = {fvey: RelTo(frozenset({"FVEY"})), five: RelTo(frozenset(FVEY_FIVE))}
>>> a, b = summarize([fvey], marks, communities), summarize([five], marks, communities)
>>> no_more_releasable(a, b), no_more_releasable(b, a)
(False, True)
>>> rel_to_markings(combine([a, b]), communities)
[['AUS', 'CAN', 'GBR', 'NZL', 'USA']]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kizuna.policy.countries import ISO3, is_country
from kizuna.stix.markings import (
    TLP2_IDS,
    TLP_LEVELS,
    Exercise,
    Marking,
    RelTo,
    Statement,
    Tlp,
    exercise_marking,
    releasability_marking,
)

__all__ = [
    "FVEY_FIVE",
    "Clause",
    "Releasability",
    "clause",
    "combine",
    "derived_refs",
    "expand",
    "marking_definitions_for",
    "marking_refs_for",
    "no_more_releasable",
    "rel_to_markings",
    "source_marking_refs",
    "summarize",
]

FVEY_FIVE = ("AUS", "CAN", "GBR", "NZL", "USA")  # for the module's example


@dataclass(frozen=True, slots=True)
class Clause:
    """One REL TO marking as the gate reads it: a principal is admitted when its country is in
    ``countries`` or its organization declares one of ``names``."""

    codes: frozenset[str]
    #: Countries admitted by country: the codes, communities expanded to their members.
    countries: frozenset[str]

    @property
    def names(self) -> frozenset[str]:
        """Codes an organization can hold by declaring them (every code not a country)."""
        return frozenset(c for c in self.codes if not is_country(c))


@dataclass(frozen=True, slots=True)
class Releasability:
    """Who a marking set lets see an object, in comparable form.

    ``tlp`` is the rank in TLP_LEVELS, -1 when unmarked; ``rel_to`` the REL TO markings a
    principal must each be admitted by (none: no REL TO restriction), with none implied by
    another; ``unknown`` is True when a marking is not understood (then nobody may see it).
    """

    tlp: int = -1
    rel_to: frozenset[Clause] = frozenset()
    exercises: frozenset[str] = field(default_factory=frozenset)
    statements: frozenset[str] = field(default_factory=frozenset)
    unknown: bool = False

    @property
    def countries(self) -> frozenset[str] | None:
        """Countries every REL TO admits by country; None when there is no REL TO."""
        if not self.rel_to:
            return None
        return frozenset.intersection(*(c.countries for c in self.rel_to))


def expand(codes: Iterable[str], communities: Mapping[str, frozenset[str]]) -> frozenset[str]:
    """Countries named by releasability codes (a community stands for its members; a country
    code is always the country, as in :func:`kizuna.policy.principal.releasability_codes`)."""
    out: set[str] = set()
    for code in codes:
        out |= frozenset({code}) if is_country(code) else communities.get(code, frozenset({code}))
    return frozenset(out)


def clause(codes: Iterable[str], communities: Mapping[str, frozenset[str]]) -> Clause:
    """The clause of a REL TO marking naming *codes*."""
    codes = frozenset(codes)
    return Clause(codes, expand(codes, communities))


def summarize(
    refs: Iterable[str],
    markings: Mapping[str, Marking],
    communities: Mapping[str, frozenset[str]],
) -> Releasability:
    tlp = -1
    clauses: list[Clause] = []
    exercises: set[str] = set()
    statements: set[str] = set()
    unknown = False
    for ref in refs:
        m = markings.get(ref)
        if isinstance(m, Tlp):
            tlp = max(tlp, m.rank)
        elif isinstance(m, RelTo):
            clauses.append(clause(m.codes, communities))
        elif isinstance(m, Exercise):
            exercises.add(m.name)
        elif isinstance(m, Statement):
            statements.add(ref)
        else:
            unknown = True
    return Releasability(tlp, _reduced(clauses), frozenset(exercises), frozenset(statements), unknown)


def combine(items: Iterable[Releasability]) -> Releasability:
    """The releasability of a product derived from all of *items*: exactly who all admit."""
    tlp = -1
    clauses: list[Clause] = []
    exercises: frozenset[str] = frozenset()
    statements: frozenset[str] = frozenset()
    unknown = False
    for r in items:
        tlp = max(tlp, r.tlp)
        clauses.extend(r.rel_to)
        exercises |= r.exercises
        statements |= r.statements
        unknown = unknown or r.unknown
    return Releasability(tlp, _reduced(clauses), exercises, statements, unknown)


def no_more_releasable(derived: Releasability, source: Releasability) -> bool:
    """True when everyone who may see *derived* may also see *source*."""
    if source.unknown and not derived.unknown:
        return False
    if derived.tlp < source.tlp:
        return False
    if not derived.exercises >= source.exercises:
        return False
    return all(_implies(derived.rel_to, s) for s in source.rel_to)


def _implies(clauses: Iterable[Clause], target: Clause) -> bool:
    """Does every principal admitted by all of *clauses* satisfy *target*?

    A principal *target* refuses has a country outside ``target.countries`` and declares none
    of ``target.names``; let it declare every other name. It still passes a clause that names
    something outside ``target.names``, so the clauses that can stop it are those whose names
    all lie within ``target.names``: they stop it unless its country is in all of them. The
    implication holds when no country outside ``target.countries`` is in all of those.
    """
    binding = [c.countries for c in clauses if c.names <= target.names]
    reach = frozenset.intersection(*binding) & ISO3 if binding else ISO3
    return reach <= target.countries


def _reduced(clauses: Iterable[Clause]) -> frozenset[Clause]:
    """*clauses* without those another one implies (``REL TO FRA`` makes ``REL TO NATO`` say
    nothing more); of clauses that admit the same principals, the one with fewest codes."""
    ranked = sorted(set(clauses), key=lambda c: (len(c.codes), sorted(c.codes)))
    kept = []
    for i, c in enumerate(ranked):
        if not any(
            _implies([o], c) and (j < i or not _implies([c], o))
            for j, o in enumerate(ranked)
            if j != i
        ):
            kept.append(c)
    return frozenset(kept)


def _single(r: Releasability, communities: Mapping[str, frozenset[str]]) -> Clause | None:
    """One clause admitting exactly whom all of ``r.rel_to`` admit, when one exists.

    Its names are those every clause names, its countries those every clause admits (listed
    where no such name covers them already); it is used only if it admits nobody more.
    """
    if len(r.rel_to) == 1:
        return next(iter(r.rel_to))
    names = frozenset.intersection(*(c.names for c in r.rel_to))
    countries = frozenset.intersection(*(c.countries for c in r.rel_to)) & ISO3
    codes = names | (countries - expand(names, communities))
    if not codes:
        return None
    candidate = clause(codes, communities)
    return candidate if _implies(r.rel_to, candidate) else None


def rel_to_markings(
    r: Releasability, communities: Mapping[str, frozenset[str]]
) -> list[list[str]]:
    """The codes of each REL TO marking that expresses ``r.rel_to`` exactly.

    One marking when one admits exactly the principals all of them admit, else one per
    clause: the gate admits a principal only if every REL TO marking of an object admits it.
    """
    if not r.rel_to:
        return []
    one = _single(r, communities)
    if one is not None:
        return [sorted(one.codes)]
    return sorted(sorted(c.codes) for c in r.rel_to)


def marking_refs_for(
    r: Releasability,
    communities: Mapping[str, frozenset[str]],
) -> list[str]:
    """Object-marking refs that express *r* (TLP, REL TO, exercises, statements).

    REL TO and exercise markings are derived ids; the caller stores their definitions
    (:func:`marking_definitions_for`). A marking nobody understands denies everyone and no
    marking can say that: it raises ValueError.
    """
    if r.unknown:
        raise ValueError(
            "a source carries a marking Kizuna does not understand: nobody may see it, so no "
            "marking can express what the product may be released to"
        )
    return sorted({str(d["id"]) for d in marking_definitions_for(r, communities)} | _plain(r))


def _plain(r: Releasability) -> set[str]:
    """The refs of *r* that need no definition of their own: TLP and statements."""
    refs = set(r.statements)
    if r.tlp >= 0:
        refs.add(TLP2_IDS[TLP_LEVELS[r.tlp]])
    return refs


def marking_definitions_for(
    r: Releasability, communities: Mapping[str, frozenset[str]]
) -> list[dict[str, Any]]:
    """The REL TO and exercise marking-definitions :func:`marking_refs_for` refers to."""
    out = [releasability_marking(codes) for codes in rel_to_markings(r, communities)]
    out += [exercise_marking(name) for name in sorted(r.exercises)]
    return out


def derived_refs(
    sources: Iterable[Iterable[str]],
    markings: Mapping[str, Marking],
    communities: Mapping[str, frozenset[str]],
) -> list[str]:
    """Object-marking refs for a product derived from objects marked *sources*.

    The strictest TLP, every exercise, and REL TO markings admitting exactly whom every
    source admits: one marking where one can say it, else several (all must admit).

    >>> from kizuna.stix.markings import releasability_id
    >>> nato, ip4 = releasability_id(["NATO"]), releasability_id(["IP4"])
    >>> ms = {nato: RelTo(frozenset({"NATO"})), ip4: RelTo(frozenset({"IP4"}))}
    >>> cs = {"NATO": frozenset({"FRA", "USA"}), "IP4": frozenset({"JPN", "AUS"})}
    >>> derived_refs([[nato], [ip4]], ms, cs) == sorted([nato, ip4])
    True
    """
    combined = combine(summarize(refs, markings, communities) for refs in sources)
    return marking_refs_for(combined, communities)


def source_marking_refs(obj: Mapping[str, Any], fields: Iterable[str]) -> list[str]:
    """The markings that decide who may see *fields* of *obj*, the fields a product is
    computed from: its object markings and every granular marking whose selector names one of
    those fields, a part of one, or a property that contains one.

    >>> obj = {"object_marking_refs": ["m1"], "granular_markings": [
    ...     {"marking_ref": "m2", "selectors": ["elements.epoch"]},
    ...     {"marking_ref": "m3", "selectors": ["name"]}]}
    >>> source_marking_refs(obj, ["elements", "norad_cat_id"])
    ['m1', 'm2']
    """
    wanted = list(fields)
    refs = {str(r) for r in obj.get("object_marking_refs") or ()}
    for entry in obj.get("granular_markings") or ():
        if not isinstance(entry, Mapping) or not isinstance(entry.get("marking_ref"), str):
            continue
        selectors = [s for s in entry.get("selectors") or () if isinstance(s, str)]
        if any(_overlaps(s, f) for s in selectors for f in wanted):
            refs.add(entry["marking_ref"])
    return sorted(refs)


def _overlaps(selector: str, prop: str) -> bool:
    return selector == prop or selector.startswith(prop + ".") or prop.startswith(selector + ".")
