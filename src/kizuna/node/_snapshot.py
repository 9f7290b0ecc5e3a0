"""The policy snapshot: the gate and everything it needs, cached per policy generation."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field

from kizuna.errors import ConfigError
from kizuna.policy.gate import Access, CollectionView, Gate
from kizuna.policy.principal import Kind, Principal, PrincipalKey, releasability_codes
from kizuna.stix.markings import Marking, parse_marking
from kizuna.store.sql import SqlStore
from kizuna.store.types import Collection, Org, Peer, User

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
    #: Principals made, by everything of *who* they are made from (:meth:`principal_for`).
    _principals: dict[tuple[PrincipalKey, str, bool, str | None], Principal] = field(
        default_factory=dict
    )
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def view(self, collection: Collection) -> CollectionView:
        return CollectionView(id=collection.id, kind=collection.kind)

    def collection(self, ref: str) -> Collection | None:
        """The collection whose id or alias is *ref*."""
        found = self.collections.get(ref)
        if found is None:
            found = next((c for c in self.collections.values() if c.alias == ref), None)
        return found

    def principal_for(self, who: User | Peer) -> Principal:
        """The principal *who* acts as, with its organization's country and communities.

        A user is an account of this node (a person, or the account a peer node uses here:
        ``peer`` set to its name); a configured peer is this node's sync engine acting for it
        (:attr:`Kind.SYNC`). The one way a principal is made, cached per snapshot.
        """
        kind = Kind.SYNC if isinstance(who, Peer) else Kind.ACCOUNT
        is_admin = False if isinstance(who, Peer) else who.is_admin
        peer = who.name if isinstance(who, Peer) or who.is_peer else None
        # Keyed by what the principal is made of, not its name alone: ``kizuna peer add`` of
        # a configured peer with another organization moves no policy generation (peers are
        # not in the snapshot), and the peer read again must act for the new organization at
        # once, in a process that made the old principal (the scheduler of ``kizuna serve``).
        key = (PrincipalKey(kind, who.name), who.org, is_admin, peer)
        with self._lock:
            cached = self._principals.get(key)
        if cached is not None:
            return cached
        org = self.orgs.get(who.org)
        if org is None:
            if isinstance(who, Peer):
                raise ConfigError(
                    f"peer {who.name} acts for organization {who.org!r}, which is missing"
                )
            raise ConfigError(f"user {who.name!r} belongs to a missing organization {who.org!r}")
        is_admin = False if isinstance(who, Peer) else who.is_admin
        peer = who.name if isinstance(who, Peer) or who.is_peer else None
        principal = Principal(
            name=who.name,
            org=org.name,
            country=org.country,
            codes=releasability_codes(org.country, org.communities, self.communities),
            is_admin=is_admin,
            peer=peer,
            kind=kind,
        )
        with self._lock:
            self._principals[key] = principal
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
