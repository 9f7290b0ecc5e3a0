"""Derived products at the door: a sighting, note or opinion is no more releasable than its
sources (docs/policy.md, "Derived products").

Ingest finds, for each source a product names, the latest version of it that the writer can
see anywhere on the node (every copy of that version, when several collections hold it under
different markings), and asks :func:`judge` whether the product is too releasable, or
:func:`restricted` for the markings that make it no more releasable (a collection that asks
for it stores the product restricted instead of refusing it). Sources hidden from the writer,
and ids the node has never stored, are not consulted: a refusal because of them would reveal
them, and the writer carries nothing of an object it cannot see.

>>> sorted(source_ids({"type": "sighting", "sighting_of_ref": "indicator--1",
...     "where_sighted_refs": ["identity--2"], "observed_data_refs": ["observed-data--3"]}))
['identity--2', 'indicator--1', 'observed-data--3']
>>> source_ids({"type": "report", "object_refs": ["indicator--1"]})
[]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kizuna.policy.combine import (
    Releasability,
    combine,
    marking_definitions_for,
    marking_refs_for,
    no_more_releasable,
    summarize,
)
from kizuna.stix.markings import Marking

__all__ = [
    "DERIVED_MODES",
    "DERIVED_TYPES",
    "REFUSE",
    "RESTRICT",
    "SOURCE_PROPERTIES",
    "Known",
    "combined",
    "judge",
    "latest_known",
    "restricted",
    "source_ids",
]

#: The properties that name what a product is derived from, by type of product.
SOURCE_PROPERTIES: dict[str, tuple[str, ...]] = {
    "sighting": ("sighting_of_ref", "observed_data_refs", "where_sighted_refs"),
    "note": ("object_refs",),
    "opinion": ("object_refs",),
}
DERIVED_TYPES = frozenset(SOURCE_PROPERTIES)

#: How a collection treats a product more releasable than a source (``derived`` setting).
REFUSE = "refuse"
RESTRICT = "restrict"
DERIVED_MODES = (REFUSE, RESTRICT)


def source_ids(obj: Mapping[str, Any]) -> list[str]:
    """The ids a product names as its sources, in order, without repeats."""
    out: dict[str, None] = {}
    for prop in SOURCE_PROPERTIES.get(str(obj.get("type", "")), ()):
        value = obj.get(prop)
        values = value if isinstance(value, list) else [value]
        out.update((v, None) for v in values if isinstance(v, str))
    return list(out)


def _property_of(obj: Mapping[str, Any], source: str) -> str:
    for prop in SOURCE_PROPERTIES.get(str(obj.get("type", "")), ()):
        value = obj.get(prop)
        if value == source or (isinstance(value, list) and source in value):
            return prop
    return "a source property"  # pragma: no cover - sources come from source_ids


@dataclass(frozen=True, slots=True)
class Known:
    """A source as the writer knows it: the marking sets of every copy of its latest
    version the writer can see (one per collection that holds it under other markings)."""

    id: str
    copies: tuple[tuple[str, ...], ...]


def latest_known(
    versions: Iterable[tuple[str, int, tuple[str, ...]]],
) -> dict[str, Known]:
    """From (id, version_us, visibility markings) of every version the writer can see: each
    id's latest version, with the markings of each copy of it."""
    best: dict[str, tuple[int, set[tuple[str, ...]]]] = {}
    for sid, version_us, refs in versions:
        current = best.get(sid)
        if current is None or version_us > current[0]:
            best[sid] = (version_us, {refs})
        elif version_us == current[0]:
            current[1].add(refs)
    return {sid: Known(sid, tuple(sorted(sets))) for sid, (_, sets) in best.items()}


def judge(
    obj: Mapping[str, Any],
    mine: Sequence[str],
    known: Mapping[str, Known],
    markings: Mapping[str, Marking],
    communities: Mapping[str, frozenset[str]],
) -> str | None:
    """Why the product *obj*, marked *mine* (its visibility markings), is more releasable
    than one of its known sources; None when it is not."""
    product = summarize(mine, markings, communities)
    for sid in source_ids(obj):
        source = known.get(sid)
        if source is None:
            continue
        for refs in source.copies:
            if not no_more_releasable(product, summarize(refs, markings, communities)):
                return (
                    f"a derived product may not be more releasable than its sources "
                    f"(docs/policy.md, Derived products): this {obj.get('type')} names "
                    f"{sid} in {_property_of(obj, sid)}, which is marked "
                    f"{', '.join(refs) or 'with nothing'}, and readers of the "
                    f"{obj.get('type')} would not all be readers of it; mark the "
                    f"{obj.get('type')} at least as restrictively (or post it to a collection "
                    "whose derived products are restricted: kizuna collection add --derived "
                    "restrict)"
                )
    return None


def combined(
    obj: Mapping[str, Any],
    mine: Sequence[str],
    known: Mapping[str, Known],
    markings: Mapping[str, Marking],
    communities: Mapping[str, frozenset[str]],
) -> Releasability:
    """Who may see the product *obj* once restricted to what all its known sources admit."""
    parts = [summarize(mine, markings, communities)]
    for sid in source_ids(obj):
        for refs in known[sid].copies if sid in known else ():
            parts.append(summarize(refs, markings, communities))
    return combine(parts)


def restricted(
    r: Releasability, communities: Mapping[str, frozenset[str]]
) -> tuple[list[str], list[dict[str, Any]]]:
    """The object markings expressing *r*, and the REL TO and exercise definitions they need
    (ValueError when a source's marking is not understood: nothing can express that)."""
    return marking_refs_for(r, communities), marking_definitions_for(r, communities)
