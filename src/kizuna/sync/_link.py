"""One peer's round and the report of each of its links (a pull or a push of one collection)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from kizuna.node import Node
from kizuna.policy.principal import Principal
from kizuna.stix.timestamps import now_micros
from kizuna.store.types import Peer
from kizuna.sync._limits import Budget
from kizuna.sync.client import TaxiiClient

log = logging.getLogger("kizuna.sync")

Progress = Callable[[str, int], None]

#: Rejections a report keeps with their reasons (all are counted).
KEPT_REJECTIONS = 1000


@dataclass
class LinkReport:
    """What one pull or push between two collections did."""

    peer: str
    direction: str
    local: str
    remote: str
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    sent: int = 0
    refused: int = 0
    pages: int = 0
    #: Why the link failed: the peer misbehaved or could not be reached; the operator acts.
    error: str | None = None
    #: Why the link stopped before the end with nothing wrong (a bound of the round); the next
    #: round goes on from the cursor.
    stopped: str | None = None
    #: (object id or None, reason) of the first KEPT_REJECTIONS rejected or refused objects.
    rejections: list[tuple[str | None, str]] = field(default_factory=list)
    started_us: int = field(default_factory=now_micros)
    finished_us: int = 0
    cursor: str | None = None

    @property
    def reasons(self) -> list[str]:
        return [f"{oid or '(no id)'}: {reason}" for oid, reason in self.rejections]

    def reject(self, oid: str | None, reason: str) -> None:
        """Count one object refused (here, or by the peer in a push) and keep why.

        Both may come from the peer: they are kept with control characters escaped and cut
        short, as they will reach a log and the operator's terminal.
        """
        oid = None if oid is None else shown(oid, 120)
        reason = shown(reason, 500)
        if self.direction == "pull":
            self.rejected += 1
        else:
            self.refused += 1
        if len(self.rejections) >= KEPT_REJECTIONS:
            if len(self.rejections) == KEPT_REJECTIONS and self.rejected + self.refused == (
                KEPT_REJECTIONS + 1
            ):
                log.warning(
                    "%s %s %s<->%s: more than %d objects rejected; the rest are counted only",
                    self.direction,
                    self.peer,
                    self.local,
                    self.remote,
                    KEPT_REJECTIONS,
                )
            return
        self.rejections.append((oid, reason))
        verb = "rejected" if self.direction == "pull" else "peer refused"
        log.warning(
            "%s %s %s<->%s: %s %s: %s",
            self.direction,
            self.peer,
            self.local,
            self.remote,
            verb,
            oid or "(no id)",
            reason,
        )


@dataclass
class Round:
    """What the links of one peer's round share: the node, the peer, its client, the budget."""

    node: Node
    peer: Peer
    principal: Principal
    client: TaxiiClient
    page_size: int = 1000
    progress: Progress | None = None

    @property
    def budget(self) -> Budget:
        return self.client.budget


def shown(text: str, limit: int) -> str:
    """*text* with what is not printable escaped (``\\x1b``), cut to about *limit* characters."""
    if not text.isprintable():
        text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text[: limit * 2])
    return text if len(text) <= limit else text[: limit - 3] + "..."
