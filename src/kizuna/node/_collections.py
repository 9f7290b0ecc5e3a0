"""Collections and the grants that say which organization may read or write them."""

from __future__ import annotations

import uuid

import msgspec

from kizuna.errors import BadRequest, NotFound
from kizuna.node._base import NodeBase
from kizuna.policy.derived import DERIVED_MODES, REFUSE
from kizuna.stix.markings import EXERCISE_EXTENSION, exercise_marking, tlp_level
from kizuna.store.types import Collection, Grant

#: The TLP ceiling of the grant a new collection gives the node's own organization: TLP 2.0's
#: AMBER+STRICT is "the organization only", so its analysts read everything up to it; TLP:RED
#: is for named recipients, never a whole organization (docs/operators.md).
HOME_MAX_TLP = "amber+strict"


class Collections(NodeBase):
    """A node's collections and grants."""

    def add_collection(
        self,
        title: str,
        *,
        description: str = "",
        alias: str | None = None,
        kind: str = "real",
        default_markings: tuple[str, ...] = (),
        home_grant: bool = True,
        derived: str = REFUSE,
    ) -> Collection:
        """Create a collection; ``kind="exercise:NAME"`` makes it a collection of that exercise.

        An exercise collection stamps the exercise's marking on everything that enters it
        (its marking-definition is stored here), so exercise data never mixes with real data.
        With *home_grant* (the default), the node's own organization may read and write it up
        to :data:`HOME_MAX_TLP`, granted in the same transaction (``kizuna grant`` changes it).
        *derived* says what becomes of a sighting, note or opinion more releasable than one
        of its sources: ``refuse`` it, or ``restrict`` it to what every source admits.
        """
        if derived not in DERIVED_MODES:
            raise BadRequest(
                f"unknown treatment of derived products {derived!r}: expected "
                f"{' or '.join(DERIVED_MODES)}"
            )
        if kind.startswith("exercise:"):
            try:
                marking = exercise_marking(kind.split(":", 1)[1])
            except ValueError as exc:
                raise BadRequest(str(exc)) from None
            kind = f"exercise:{marking['extensions'][EXERCISE_EXTENSION]['exercise']}"
            self.store.put_marking_definitions([(marking["id"], msgspec.json.encode(marking))])
        elif kind != "real":
            raise BadRequest(f"unknown collection kind {kind!r}: expected real or exercise:NAME")
        stored = self.snapshot().markings
        for mid in default_markings:
            if mid not in stored:
                raise BadRequest(
                    f"default marking {mid!r} is not a marking-definition stored on this node "
                    "(kizuna marking list shows them; kizuna marking rel-to stores a REL TO one)"
                )
        c = Collection(
            id=str(uuid.uuid4()),
            title=title,
            description=description,
            alias=alias,
            default_markings=default_markings,
            kind=kind,
            derived=derived,
        )
        grants = [Grant(c.id, self.config.org, True, True, HOME_MAX_TLP)] if home_grant else []
        self.store.add_collection(c, grants)
        return c

    def collection(self, collection_id: str) -> Collection:
        c = self.snapshot().collection(collection_id)
        if c is None:
            raise NotFound(f"no collection {collection_id!r} on this node")
        return c

    def grant(
        self,
        collection_id: str,
        org: str,
        *,
        read: bool,
        write: bool,
        max_tlp: str = "amber",
    ) -> Grant:
        c = self.collection(collection_id)
        if self.store.org(org) is None:
            raise NotFound(f"no organization {org!r}")
        try:
            level = tlp_level(max_tlp)
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
        g = Grant(c.id, org, read, write, level)
        self.store.set_grant(g)
        return g

    def revoke(self, collection_id: str, org: str) -> Grant:
        """Remove *org*'s grant on a collection; returns the grant that was."""
        c = self.collection(collection_id)
        current = self.grant_of(c.id, org)
        if current is None or not self.store.delete_grant(c.id, org):
            raise NotFound(f"{org!r} holds no grant on collection {c.id}")
        return current

    def grants(self) -> list[Grant]:
        """Every grant, by collection and organization."""
        return self.store.grants()

    def grant_of(self, collection_id: str, org: str) -> Grant | None:
        """The grant *org* holds on a collection (by id or alias), if any."""
        c = self.collection(collection_id)
        return next(
            (g for g in self.store.grants() if g.collection_id == c.id and g.org == org), None
        )
