"""The derived-product pass of ingest: a sighting, note or opinion is no more releasable than
its sources (docs/policy.md, "Derived products"; the judgement is :mod:`kizuna.policy.derived`).

Each source a product names is looked up wherever it is stored on the node, in every
collection the writer reads (all of them for an administrator), at the latest version the
writer receives there (through the gate: a version the fine pass withholds from it is not
one it may see); an object of the same batch counts too. The answer therefore does not
change when a version hidden from the writer is added, and a source the writer cannot see at
all is not consulted (a refusal would reveal it).
"""

from __future__ import annotations

from typing import Any

import msgspec

from kizuna.node._batch import Candidate, Refusal, refusal, version_text
from kizuna.node._marking_rules import Rules
from kizuna.node._read import read_page
from kizuna.node._snapshot import Snapshot
from kizuna.policy.derived import (
    DERIVED_TYPES,
    RESTRICT,
    Known,
    combined,
    judge,
    latest_known,
    restricted,
    source_ids,
)
from kizuna.policy.principal import Principal
from kizuna.policy.refs import visibility_refs
from kizuna.stix.markings import parse_marking
from kizuna.stix.timestamps import to_micros
from kizuna.store import SqlStore
from kizuna.store.types import ObjectQuery, VersionMatch

_PAGE = 1000


def known_sources(
    store: SqlStore, snap: Snapshot, principal: Principal, candidates: list[Candidate]
) -> dict[str, Known]:
    """The latest version the writer may see of every source the batch's products name."""
    wanted = sorted(
        {s for c in candidates if c.obj["type"] in DERIVED_TYPES for s in source_ids(c.obj)}
    )
    if not wanted:
        return {}
    readable: dict[str, frozenset[int] | None] = (
        dict.fromkeys(snap.collections, None) if principal.is_admin else snap.readable(principal)
    )
    sets = snap.sets
    seen: list[tuple[str, int, tuple[str, ...]]] = []
    for cid in readable:
        after: int | None = None
        while True:
            # Through the gate: what the writer receives, so that a source the fine pass
            # withholds from it (a relationship whose target it may not see) is as hidden as
            # one its markings hide, and not consulted (docs/policy.md, Rule 4).
            page = read_page(
                store,
                snap,
                principal,
                snap.collections[cid],
                ObjectQuery(cid, after_us=after, ids=tuple(wanted), versions=VersionMatch()),
                _PAGE,
            )
            for item in page.items:
                r = item.row
                if r.marking_set not in sets:  # made since the snapshot: read them again
                    sets = store.marking_sets()
                seen.append((r.stix_id, r.version_us, sets.get(r.marking_set, ("?",))))
            if not page.more or page.last_added is None:
                break
            after = page.last_added
    wanted_set = set(wanted)
    for c in candidates:  # sources in the same batch count too
        if c.obj["id"] in wanted_set:
            version = version_text(c.obj)
            seen.append((c.obj["id"], to_micros(version) if version else 0, c.visibility))
    return latest_known(seen)


def check_derived(
    rules: Rules, known: dict[str, Known], candidates: list[Candidate]
) -> tuple[list[Candidate], list[Refusal], list[dict[str, Any]]]:
    """The products no more releasable than their known sources; in a collection that
    restricts derived products, the others restricted (with the marking-definitions that
    restriction needs), else refused."""
    kept: list[Candidate] = []
    refused: list[Refusal] = []
    definitions: dict[str, dict[str, Any]] = {}
    for c in candidates:
        obj = c.obj
        if obj["type"] not in DERIVED_TYPES or not any(s in known for s in source_ids(obj)):
            kept.append(c)
            continue
        failure = judge(obj, c.visibility, known, rules.markings, rules.communities)
        if failure is not None and rules.collection.derived == RESTRICT:
            failure = _restrict(rules, known, c, definitions)
        if failure is not None:
            refused.append(refusal(c, failure))
            continue
        kept.append(c)
    return kept, refused, list(definitions.values())


def _restrict(
    rules: Rules, known: dict[str, Known], c: Candidate, definitions: dict[str, dict[str, Any]]
) -> str | None:
    """Mark *c* with what it and every known source admit; why it cannot be, or None."""
    r = combined(c.obj, c.visibility, known, rules.markings, rules.communities)
    if r.exercises and rules.collection.kind == "real":
        return (
            "a source of this product is exercise data, which cannot enter a real-world "
            "collection, not even through what is derived from it"
        )
    try:
        refs, needed = restricted(r, rules.communities)
    except ValueError as exc:
        return f"this product cannot be restricted to what its sources admit: {exc}"
    for d in needed:
        if d["id"] not in rules.markings:
            definitions[str(d["id"])] = d
            rules.markings[str(d["id"])] = parse_marking(d)
    c.obj["object_marking_refs"] = refs
    c.body = msgspec.json.encode(c.obj)
    c.visibility = visibility_refs(c.obj)
    return None
