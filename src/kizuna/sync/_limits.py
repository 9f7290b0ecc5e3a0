"""The bounds of one peer's sync round: pages, bytes, seconds, and the size of one answer.

A :class:`Budget` is made per peer round from the node's :class:`Limits`; the client spends
its bytes and reads its deadline, the pull and push loops spend its pages. Whatever the peer
does, the round ends when one bound is reached.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from kizuna.config import NodeConfig


@dataclass(frozen=True, slots=True)
class Limits:
    """What one peer's round may take (``sync_*`` settings, docs/operators.md)."""

    max_pages: int = 10_000
    max_bytes: int = 4 * 1024 * 1024 * 1024
    max_seconds: float = 900.0
    max_answer_bytes: int = 32 * 1024 * 1024
    request_timeout: float = 30.0

    @classmethod
    def of(cls, config: NodeConfig) -> Limits:
        return cls(
            max_pages=config.sync_round_max_pages,
            max_bytes=config.sync_round_max_bytes,
            max_seconds=float(config.sync_round_max_seconds),
            max_answer_bytes=config.sync_max_answer_bytes,
            request_timeout=float(config.sync_request_timeout_seconds),
        )


class Budget:
    """What is left of one peer's round. Shared by the round's thread and its prefetch."""

    def __init__(self, limits: Limits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._clock = clock
        self.deadline = clock() + limits.max_seconds
        self.pages = 0
        self.bytes = 0
        self._lock = threading.Lock()

    def remaining(self) -> float:
        """Seconds left before the round's deadline (negative once it has passed)."""
        return self.deadline - self._clock()

    def spend_bytes(self, n: int) -> None:
        with self._lock:
            self.bytes += n

    def spend_page(self) -> None:
        with self._lock:
            self.pages += 1

    def exhausted(self) -> str | None:
        """Which bound the round has reached (a sentence for the log), or None."""
        if self.pages >= self.limits.max_pages:
            return f"{self.pages} pages (sync_round_max_pages = {self.limits.max_pages})"
        if self.bytes >= self.limits.max_bytes:
            return f"{self.bytes} bytes received (sync_round_max_bytes = {self.limits.max_bytes})"
        if self.remaining() <= 0:
            return f"{self.limits.max_seconds:g} s (sync_round_max_seconds)"
        return None
