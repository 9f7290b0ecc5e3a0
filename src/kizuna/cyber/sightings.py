"""Sightings of matched indicators, one per (indicator, sighter, day), as new versions.

Every match of a run adds to the sighting of its indicator by the principal's organization
on the day the observation began: the sighting's id is derived from the three, so a later
run (or another process) makes a new version of the same object, with the counts added, the
times widened and the observed-data references joined, rather than one object per hit.

A sighting is marked no more releasable than everything it derives from: the indicator, the
observations (their own markings, when the file gave them any) and the sighting's earlier
version (``kizuna.policy.combine.derived_refs``: REL TO the intersection, the stricter TLP).
It is stored through ``kizuna.node.ingest`` as the principal, so the gate checks it as any
object written by them; a collection pushed to the indicator's source takes it back there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec

from kizuna.cyber.matching import Hit
from kizuna.errors import BadRequest, NotFound
from kizuna.node import Node, ingest, read_page
from kizuna.policy.combine import combine, derived_refs, rel_to_markings, summarize
from kizuna.policy.principal import Principal
from kizuna.stix.ids import derived_id
from kizuna.stix.timestamps import format_micros, now_micros, to_micros
from kizuna.store.types import ObjectQuery

__all__ = ["SightingResult", "record_sightings"]

_DAY_US = 86_400_000_000


@dataclass(slots=True)
class _Group:
    indicator: str
    indicator_markings: tuple[str, ...]
    day: int
    count: int = 0
    first: int = 2**62
    last: int = 0
    observed: dict[str, None] = field(default_factory=dict)
    markings: list[tuple[str, ...]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SightingResult:
    id: str
    ok: bool
    message: str
    count: int


def _observation_markings(hit: Hit) -> list[tuple[str, ...]]:
    out = []
    for obs in hit.observations:
        own = obs.objects.get(obs.id, {})
        refs = own.get("object_marking_refs") if isinstance(own, dict) else None
        if isinstance(refs, list) and refs:
            out.append(tuple(str(r) for r in refs))
    return out


def record_sightings(
    node: Node, principal: Principal, collection_ref: str, hits: Sequence[Hit]
) -> list[SightingResult]:
    """Add *hits* to the sightings in the collection *collection_ref*; one result per
    sighting written (or refused, with the reason)."""
    snap = node.snapshot()
    collection = snap.collection(collection_ref)
    if collection is None or collection.id not in snap.readable(principal):
        raise NotFound(f"no collection {collection_ref!r} that you may read on this node")
    org = snap.orgs.get(principal.org)
    if org is None:
        raise BadRequest(f"{principal.name} acts for no organization of this node")
    groups: dict[str, _Group] = {}
    for hit in hits:
        indicator = hit.match.indicator
        first = min(o.first_us for o in hit.observations)
        day = first // _DAY_US
        sid = derived_id("sighting", f"{indicator.id}|{org.identity_id}|{day}")
        group = groups.get(sid)
        if group is None:
            group = groups[sid] = _Group(indicator.id, tuple(indicator.ref[1]), day)
        group.count += sum(o.count for o in hit.observations)
        group.first = min(group.first, first)
        group.last = max(group.last, max(o.last_us for o in hit.observations))
        for o in hit.observations:
            if o.id.startswith("observed-data--"):
                group.observed[o.id] = None
        group.markings.extend(_observation_markings(hit))
    out: list[SightingResult] = []
    for sid, group in groups.items():
        out.append(_write(node, principal, collection.id, org.identity_id, sid, group))
    return out


def _previous(
    node: Node, principal: Principal, collection_id: str, sid: str
) -> dict[str, Any] | None:
    snap = node.snapshot()
    c = snap.collection(collection_id)
    assert c is not None
    page = read_page(node.store, snap, principal, c, ObjectQuery(collection_id, ids=(sid,)), 1)
    return msgspec.json.decode(page.items[0].body) if page.items else None


def _write(
    node: Node, principal: Principal, collection_id: str, identity: str, sid: str, g: _Group
) -> SightingResult:
    old = _previous(node, principal, collection_id, sid)
    now = now_micros()
    count, first, last, observed = g.count, g.first, g.last, dict(g.observed)
    sources = [g.indicator_markings, *g.markings]
    created = now
    if old is not None:
        count += int(old.get("count", 0))
        first = min(first, to_micros(old.get("first_seen", format_micros(first))))
        last = max(last, to_micros(old.get("last_seen", format_micros(last))))
        observed = {**dict.fromkeys(old.get("observed_data_refs", [])), **observed}
        sources.append(tuple(old.get("object_marking_refs") or ()))
        created = to_micros(old["created"])
        now = max(now, to_micros(old["modified"]) + 1000)
    snap = node.snapshot()
    try:
        refs = derived_refs([s for s in sources if s], snap.markings, snap.communities)
    except ValueError as exc:
        return SightingResult(sid, False, str(exc), count)
    combined = combine(summarize(s, snap.markings, snap.communities) for s in sources if s)
    for codes in rel_to_markings(combined, snap.communities):
        node.releasability_marking(codes)  # stored once, checked as any incoming one
    sighting: dict[str, Any] = {
        "type": "sighting",
        "spec_version": "2.1",
        "id": sid,
        "created": format_micros(created),
        "modified": format_micros(now),
        "created_by_ref": identity,
        "sighting_of_ref": g.indicator,
        "where_sighted_refs": [identity],
        "count": count,
        "first_seen": format_micros(first),
        "last_seen": format_micros(last),
    }
    if observed:
        sighting["observed_data_refs"] = list(observed)
    if refs:
        sighting["object_marking_refs"] = refs
    snap = node.snapshot()
    c = snap.collection(collection_id)
    assert c is not None
    (result,) = ingest(
        node.store,
        snap,
        principal,
        c,
        [msgspec.json.encode(sighting)],
        f"computed:match:{principal.name}",
    )
    return SightingResult(sid, result.ok, result.message, count)
