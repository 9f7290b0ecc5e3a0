"""The policy snapshot: the gate and everything it needs, cached per policy generation."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field

from kizuna.errors import ConfigError
from kizuna.policy.gate import Access, CollectionView, Gate
from kizuna.policy.principal import Kind, Principal, releasability_codes
from kizuna.stix.markings import Marking, parse_marking
from kizuna.store.sql import SqlStore
from kizuna.store.types import Collection, Org, User

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
    orgs: dict[str, Org] = field(default_factory=dict)
    #: Users by the hash of their API token (authentication without a query per request).
    users: dict[str, User] = field(default_factory=dict)
    _visible: dict[tuple[Principal, str], frozenset[int] | None] = field(default_factory=dict)
    _principals: dict[str, Principal] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def view(self, collection: Collection) -> CollectionView:
        return CollectionView(id=collection.id, kind=collection.kind)

    def collection(self, ref: str) -> Collection | None:
        """The collection whose id or alias is *ref*."""
        found = self.collections.get(ref)
        if found is None:
            found = next((c for c in self.collections.values() if c.alias == ref), None)
        return found

    def principal_of(self, user: User) -> Principal:
        """The principal *user* acts as (its organization's country and communities)."""
        with self._lock:
            cached = self._principals.get(user.name)
        if cached is not None:
            return cached
        org = self.orgs.get(user.org)
        if org is None:
            raise ConfigError(f"user {user.name!r} belongs to a missing organization {user.org!r}")
        principal = make_principal(
            org,
            user.name,
            self.communities,
            is_admin=user.is_admin,
            peer=user.name if user.is_peer else None,
        )
        with self._lock:
            self._principals[user.name] = principal
        return principal

    def visible_sets(self, principal: Principal, collection: Collection) -> frozenset[int] | None:
        # Keyed by the whole principal: what it may see depends on every field of it.
        key = (principal, collection.id)
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


def make_principal(
    org: Org,
    name: str,
    communities: dict[str, frozenset[str]],
    *,
    is_admin: bool = False,
    peer: str | None = None,
    kind: Kind = Kind.ACCOUNT,
) -> Principal:
    """A principal of *org*: its country, its own communities and those its country is in."""
    return Principal(
        name=name,
        org=org.name,
        country=org.country,
        codes=releasability_codes(org.country, org.communities, communities),
        is_admin=is_admin,
        peer=peer,
        kind=kind,
    )


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
        orgs={o.name: o for o in orgs},
        users=store.users_by_token_hash(),
    )
