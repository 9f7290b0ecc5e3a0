"""The background scheduler of ``kizuna serve``: a round with each peer every
``sync_interval_seconds``.

Each peer's round runs in a thread of its own. When a peer's round is still running at the
next tick (a slow peer, or one that hangs until its round's deadline), that peer is skipped
this time; the other peers' rounds start on time.
"""

from __future__ import annotations

import logging
import threading
import time

from kizuna.node import Node
from kizuna.store.types import Peer
from kizuna.sync.engine import peer_round

__all__ = ["Scheduler"]

log = logging.getLogger("kizuna.sync")


class Scheduler:
    """Runs sync rounds in daemon threads until stopped. A failing round is logged, not fatal."""

    def __init__(self, node: Node, interval: float) -> None:
        self._node = node
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kizuna-sync", daemon=True)
        self._running: dict[str, threading.Thread] = {}
        #: Ticks so far (a round was started, or skipped, for each peer at each tick).
        self.rounds = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop starting rounds; wait up to *timeout* seconds for the running ones."""
        self._stop.set()
        end = time.monotonic() + timeout
        self._thread.join(timeout)
        for thread in list(self._running.values()):
            thread.join(max(0.0, end - time.monotonic()))

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                peers = self._node.store.peers()
            except Exception:  # the database may be back at the next tick
                log.exception("sync: cannot read the peers")
                peers = []
            for peer in peers:
                running = self._running.get(peer.name)
                if running is not None and running.is_alive():
                    log.warning(
                        "sync with %s: its last round is still running; skipped this time",
                        peer.name,
                    )
                    continue
                thread = threading.Thread(
                    target=self._round, args=(peer,), name=f"kizuna-sync-{peer.name}", daemon=True
                )
                self._running[peer.name] = thread
                thread.start()
            self.rounds += 1
            self._stop.wait(self._interval)

    def _round(self, peer: Peer) -> None:
        try:
            reports = peer_round(self._node, peer)
        except Exception:  # keep serving whatever one round did
            log.exception("sync round with %s failed", peer.name)
            return
        failed = sum(1 for r in reports if r.error)
        log.info("sync round with %s: %d link(s), %d failed", peer.name, len(reports), failed)
