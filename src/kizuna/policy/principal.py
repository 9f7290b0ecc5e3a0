"""Who is asking: a user of an organization, or a peer node acting for its organization."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Principal:
    """A requester as the gate sees it.

    ``codes`` are every releasability code the principal answers to: its country (ISO 3166
    alpha-3), the communities its organization declares, and the communities whose members
    include its country.
    """

    name: str
    org: str
    country: str
    codes: frozenset[str]
    is_admin: bool = False
    #: Set when the principal is a peer node (its name in ``kizuna peer list``).
    peer: str | None = None

    @property
    def key(self) -> str:
        return f"{'peer' if self.peer else 'user'}:{self.name}"

    @property
    def origin(self) -> str:
        """How versions this principal writes are recorded (see docs/policy.md, provenance).

        ``peer:ORG:NAME`` for a peer node of organization ORG, ``user:NAME`` for a user; sync
        never pushes a version back to a node of the organization it came from.
        """
        if self.peer is not None:
            return f"peer:{self.org}:{self.peer}"
        return f"user:{self.name}"
