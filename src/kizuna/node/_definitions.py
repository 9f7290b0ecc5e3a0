"""The marking-definitions a reader needs to resolve what it reads (docs/policy.md, Rule 7).

Every marking-definition stored on the node (posted with objects, synced from a peer, made by
``kizuna marking rel-to``, by an exercise collection or by screening) gets a version in the
definitions collection (``kizuna-definitions``): :func:`publish` stores it there, once, when
the policy snapshot that first knows it is loaded. The gate
(:meth:`~kizuna.policy.gate.Gate.definition_visible`) decides who receives it there: those
whose every object it may mark.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import msgspec

from kizuna.node._snapshot import PUBLIC_KINDS, Snapshot
from kizuna.policy.principal import Principal
from kizuna.policy.refs import needs_redaction, visibility_refs
from kizuna.stix.timestamps import to_micros
from kizuna.store.sql import SqlStore
from kizuna.store.types import Collection, NewVersion, ObjectQuery, VersionMatch

log = logging.getLogger(__name__)


def publish(store: SqlStore, snap: Snapshot) -> int:
    """Store in the definitions collection each marking-definition not there yet; returns how
    many. Idempotent: two processes doing it at once store each once (a version is stored
    once per collection, id, version and marking set)."""
    target = next((c for c in snap.collections.values() if c.kind in PUBLIC_KINDS), None)
    if target is None or not snap.markings:
        return 0
    there = {
        r.stix_id
        for r in store.query(
            ObjectQuery(
                target.id,
                types=("marking-definition",),
                versions=VersionMatch(all=True),
                limit=1_000_000,
            )
        )
    }
    missing = sorted(set(snap.markings) - there)
    if not missing:
        return 0
    bodies = store.marking_definitions()
    items = []
    for mid in missing:
        body = bodies.get(mid)
        if body is None:
            continue
        obj = msgspec.json.decode(body)
        if not isinstance(obj, dict):
            continue
        items.append(
            NewVersion(
                stix_id=mid,
                type="marking-definition",
                version_us=to_micros(str(obj.get("modified") or obj.get("created"))),
                spec_version=str(obj.get("spec_version", "2.1")),
                marking_refs=visibility_refs(obj),
                needs_redaction=needs_redaction(obj, body),
                body=body,
            )
        )
    if items:
        store.add_versions(target.id, items, "computed:kizuna")
        log.info("published %d marking-definition(s) in %s", len(items), target.alias)
    return len(items)


def marking_ids_in(body: bytes) -> set[str]:
    """The markings an object (as released) references: object-level and granular."""
    obj = msgspec.json.decode(body)
    out: set[str] = set()
    if isinstance(obj, dict):
        out.update(r for r in obj.get("object_marking_refs") or () if isinstance(r, str))
        for entry in obj.get("granular_markings") or ():
            if isinstance(entry, dict) and isinstance(entry.get("marking_ref"), str):
                out.add(entry["marking_ref"])
    return out


def referenced_definitions(
    store: SqlStore,
    snap: Snapshot,
    principal: Principal,
    collection: Collection,
    marking_ids: Iterable[str],
) -> list[bytes]:
    """The stored definitions of *marking_ids* (the markings of objects a principal received
    from *collection*): what a bundle of those objects needs to be read alone. A definition
    is left out when its own markings deny the principal."""
    wanted = sorted(set(marking_ids))
    if not wanted:
        return []
    bodies = store.marking_definitions()
    access = snap.gate.access(principal, collection.id)
    view = snap.view(collection)
    out = []
    for mid in wanted:
        body = bodies.get(mid)
        if body is None:
            continue
        own = visibility_refs(msgspec.json.decode(body))
        if snap.gate.set_visible(principal, own, access, view):
            out.append(body)
    return out
