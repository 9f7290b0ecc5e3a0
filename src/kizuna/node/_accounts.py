"""Organizations, users, communities, and who a request is: principals and authentication.

:meth:`Accounts.principal_for` is the one way to the principal a user, or a configured peer
(this node's sync engine acting for it), acts as.
"""

from __future__ import annotations

import hashlib
import json
import secrets

from kizuna.errors import BadRequest, NotFound
from kizuna.node._base import NodeBase, country_code
from kizuna.node._names import check_name
from kizuna.node._snapshot import COMMUNITIES_SETTING, Snapshot
from kizuna.policy.countries import is_country
from kizuna.policy.principal import Principal
from kizuna.stix.ids import derived_id
from kizuna.store.types import Org, Peer, User


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


class Accounts(NodeBase):
    """The organizations, users and communities of a node, and its principals."""

    def add_org(self, name: str, country: str, communities: list[str] | None = None) -> Org:
        """Create an organization; its *name* follows :func:`~kizuna.node.check_name`."""
        check_name("organization", name)
        if self.store.org(name) is not None:
            raise BadRequest(f"organization {name!r} already exists")
        declared = sorted({c.upper() for c in communities or []})
        countries = [c for c in declared if is_country(c)]
        if countries:
            raise BadRequest(
                f"{', '.join(countries)} is a country, not a community: an organization has one "
                "country (its own) and declares communities (NATO, FVEY ...)"
            )
        for community in communities or []:
            check_name("community", community)
        org = Org(
            name=name,
            country=country_code(country),
            communities=tuple(declared),
            identity_id=derived_id("identity", f"org:{name}"),
        )
        self.store.add_org(org)
        return org

    def add_user(self, username: str, org: str, *, admin: bool = False, peer: bool = False) -> str:
        """Create a user of *org*; returns its API token (only its hash is stored).

        With *peer*, the account is the one a peer node of *org* uses here: what it reads is
        subject to the onward-sharing rules of docs/policy.md (no TLP:RED, TLP:AMBER+STRICT
        only within this node's own organization). *username* follows
        :func:`~kizuna.node.check_name`.
        """
        check_name("user", username)
        if self.store.org(org) is None:
            raise NotFound(
                f"no organization {org!r} (create it with: kizuna org add DIR {org} ...)"
            )
        if self.store.user(username) is not None:
            raise BadRequest(f"user {username!r} already exists")
        token = new_token()
        self.store.add_user(username, org, hash_token(token), is_admin=admin, is_peer=peer)
        return token

    def rotate_token(self, username: str) -> str:
        """Give *username* a new API token and return it; the old token stops working.

        A disabled user is enabled again with the new token.
        """
        token = new_token()
        if not self.store.set_token_hash(username, hash_token(token)):
            raise NotFound(f"no user {username!r} (kizuna user list shows them)")
        return token

    def disable_user(self, username: str) -> bool:
        """Destroy *username*'s token (``rotate_token`` gives a new one); False if it was."""
        if self.store.user(username) is None:
            raise NotFound(f"no user {username!r} (kizuna user list shows them)")
        return self.store.disable_user(username)

    def orgs(self) -> list[Org]:
        """The organizations of this node, by name."""
        return self.store.orgs()

    def users(self) -> list[User]:
        """The users of this node (disabled ones too), by name; never their tokens."""
        return self.store.users()

    def communities(self) -> dict[str, frozenset[str]]:
        return self.snapshot().communities

    def set_community(self, name: str, members: list[str]) -> None:
        """Create or replace community *name* (stored upper-case; it follows
        :func:`~kizuna.node.check_name`, which refuses a country's code) of *members*."""
        check_name("community", name)
        current = {k: sorted(v) for k, v in self.communities().items()}
        current[name.upper()] = sorted({country_code(m) for m in members})
        self.store.set_setting(COMMUNITIES_SETTING, json.dumps(current))

    def principal_for(self, who: User | Peer) -> Principal:
        """The principal *who* acts as: a user (an account of this node), or a configured
        peer (this node's sync engine acting for it). See ``Snapshot.principal_for``."""
        return self.snapshot().principal_for(who)

    def authenticate(
        self, token: str, username: str | None = None, snap: Snapshot | None = None
    ) -> Principal | None:
        """The principal a token belongs to (and, with Basic auth, that user name), or None.

        Answered from the policy snapshot (*snap*, or the current one), which holds the users.
        """
        snap = snap or self.snapshot()
        user = snap.users.get(hash_token(token))
        if user is None or (username is not None and username != user.name):
            return None
        return snap.principal_for(user)
