"""Who is asking: a user of an organization, or a peer node acting for its organization.

A principal's identity is a :class:`PrincipalKey`, typed by where the principal comes from,
so two principals of different kinds never share a key whatever their names: an account of
this node (``kizuna user add``, a person or the account a peer node uses here) and this
node's sync engine acting for a configured peer (``kizuna peer add``) live in different name
spaces, and an account named ``peer:aus`` is not the peer ``aus``.

>>> PrincipalKey(Kind.ACCOUNT, "peer:aus") == PrincipalKey(Kind.SYNC, "aus")
False
>>> str(PrincipalKey(Kind.ACCOUNT, "peer:aus")), str(PrincipalKey(Kind.SYNC, "aus"))
('user:peer:aus', 'sync:aus')

Every cache of what a principal may see is keyed by the whole :class:`Principal` value
(identity and every fact the gate decides on), never by its name.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from kizuna.policy.countries import is_country

__all__ = [
    "Kind",
    "Principal",
    "PrincipalKey",
    "origin_org",
    "origin_peer",
    "peer_origin",
    "releasability_codes",
]


class Kind(enum.Enum):
    """Where a principal comes from; the value starts its key's text (no ``:`` in it)."""

    #: An account of this node's users table: a person, or the account a peer node uses
    #: to read and write here (``kizuna user add --peer``).
    ACCOUNT = "user"
    #: This node's sync engine acting for one of its configured peers (the peers table).
    SYNC = "sync"


@dataclass(frozen=True, slots=True)
class PrincipalKey:
    """A principal's identity: its kind and its name within that kind."""

    kind: Kind
    name: str

    def __str__(self) -> str:
        """The key as text (cursors, statuses, the request log): unambiguous, since the kind
        is one of a fixed set of words without ``:`` and ends at the first ``:``."""
        return f"{self.kind.value}:{self.name}"


@dataclass(frozen=True, slots=True)
class Principal:
    """A requester as the gate sees it.

    ``codes`` are every releasability code the principal answers to (see
    :func:`releasability_codes`).
    """

    name: str
    org: str
    country: str
    codes: frozenset[str]
    is_admin: bool = False
    #: Set when the principal is a peer node: the account's name, or the configured peer's.
    peer: str | None = None
    kind: Kind = Kind.ACCOUNT

    def __post_init__(self) -> None:
        if self.kind is Kind.SYNC and self.peer is None:
            raise ValueError("the sync engine's principal acts for a peer: give its name")

    @property
    def key(self) -> PrincipalKey:
        return PrincipalKey(self.kind, self.name)

    @property
    def origin(self) -> str:
        """How versions this principal writes are recorded (see docs/policy.md, provenance).

        ``peer:ORG:NAME`` for a peer node of organization ORG, ``user:NAME`` for a user; sync
        never pushes a version back to a node of the organization it came from.
        """
        if self.peer is not None:
            return peer_origin(self.org, self.peer)
        return f"user:{self.name}"


def _part(text: str) -> str:
    """A name as one ``:``-separated part of an origin: ``%`` and ``:`` escaped (percent
    encoding; names without either, nearly all, are written as they are)."""
    return text.replace("%", "%25").replace(":", "%3A")


def _unpart(text: str) -> str:
    return text.replace("%3A", ":").replace("%25", "%")


def peer_origin(org: str, peer: str) -> str:
    """The origin of what a peer node *peer* of organization *org* wrote: ``peer:ORG:NAME``,
    each part escaped, so that no two (organization, peer) pairs share one, whatever ``:``
    their names hold (organization ``A:B`` and peer ``c`` against ``A`` and ``B:c``).

    >>> peer_origin("A:B", "c"), peer_origin("A", "B:c")
    ('peer:A%3AB:c', 'peer:A:B%3Ac')
    >>> origin_org(peer_origin("A:B", "c")), origin_org(peer_origin("A", "B:c"))
    ('A:B', 'A')
    """
    return f"peer:{_part(org)}:{_part(peer)}"


def origin_org(origin: str) -> str | None:
    """The organization of a peer's origin (:func:`peer_origin`); None for any other."""
    kind, _, rest = origin.partition(":")
    if kind != "peer":
        return None
    org, _, _ = rest.partition(":")
    return _unpart(org)


def origin_peer(origin: str) -> str | None:
    """The peer's name in a peer's origin (:func:`peer_origin`); None for any other."""
    kind, _, rest = origin.partition(":")
    if kind != "peer":
        return None
    _, _, name = rest.partition(":")
    return _unpart(name)


def releasability_codes(
    country: str, declared: Iterable[str], communities: Mapping[str, frozenset[str]]
) -> frozenset[str]:
    """The codes a principal of an organization answers to.

    Its country, the communities whose members include that country, and the communities its
    organization declares. A declared code that is a country is not one: an organization has
    one country, and declaring another would make it answer to that country's markings. For
    the same reason a community named like a country is not one (``kizuna community set``
    refuses such names).

    >>> cs = {"NATO": frozenset({"FRA", "USA"}), "FVEY": frozenset({"USA", "AUS"})}
    >>> sorted(releasability_codes("JPN", ["FVEY", "USA"], cs))
    ['FVEY', 'JPN']
    >>> sorted(releasability_codes("USA", [], cs))
    ['FVEY', 'NATO', 'USA']
    """
    codes = {country, *(c for c in declared if not is_country(c))}
    codes |= {
        name for name, members in communities.items() if country in members and not is_country(name)
    }
    return frozenset(codes)
