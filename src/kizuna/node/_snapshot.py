"""The policy snapshot: the gate and everything it needs, cached per policy generation."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field

from kizuna.policy.gate import Access, CollectionView, Gate
from kizuna.policy.principal import Principal
from kizuna.stix.markings import Marking, parse_marking
from kizuna.store.sql import SqlStore
from kizuna.store.types import Collection

COMMUNITIES_SETTING = "communities"

#: Kinds of collection every authenticated principal may read (Kizuna's own definitions).
PUBLIC_KINDS = frozenset({"definitions"})


@dataclass
class Snapshot:
    generation: int
    gate: Gate
    markings: dict[str, Marking]
    sets: dict[int, tuple[str, ...]]
    collections: dict[str, Collection]
    communities: dict[str, frozenset[str]]
    _visible: dict[tuple[str, str], frozenset[int] | None] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def view(self, collection: Collection) -> CollectionView:
        return CollectionView(id=collection.id, kind=collection.kind)

    def visible_sets(self, principal: Principal, collection: Collection) -> frozenset[int] | None:
        key = (principal.key, collection.id)
        with self._lock:
            if key in self._visible:
                return self._visible[key]
        value = self.gate.visible_sets(principal, self.view(collection), self.sets)
        with self._lock:
            self._visible[key] = value
        return value

    def readable(self, principal: Principal) -> dict[str, frozenset[int] | None]:
        """Every collection *principal* may read, with its visible marking sets there."""
        out: dict[str, frozenset[int] | None] = {}
        for c in self.collections.values():
            if self.gate.access(principal, c.id).can_read:
                out[c.id] = self.visible_sets(principal, c)
        return out


def load_snapshot(store: SqlStore, home_org: str) -> Snapshot:
    generation = store.policy_generation()
    markings = {mid: parse_marking(body) for mid, body in store.marking_definitions().items()}
    collections = {c.id: c for c in store.collections()}
    grants: dict[tuple[str, str], Access] = {}
    for g in store.grants():
        grants[(g.collection_id, g.org)] = Access(g.can_read, g.can_write, g.max_tlp)
    orgs = store.orgs()
    for c in collections.values():
        if c.kind in PUBLIC_KINDS:
            for o in orgs:
                grants.setdefault((c.id, o.name), Access(True, False, "clear"))
    raw = store.setting(COMMUNITIES_SETTING)
    communities = {k: frozenset(v) for k, v in json.loads(raw or "{}").items()}
    return Snapshot(
        generation=generation,
        gate=Gate(markings, grants, home_org=home_org),
        markings=markings,
        sets=store.marking_sets(),
        collections=collections,
        communities=communities,
    )
