"""The background scheduler of ``kizuna serve``: a sync round every ``sync_interval_seconds``."""

from __future__ import annotations

import logging
import threading

from kizuna.node import Node
from kizuna.sync.engine import sync

log = logging.getLogger("kizuna.sync")


class Scheduler:
    """Runs sync rounds in a daemon thread until stopped. A failing round is logged, not fatal."""

    def __init__(self, node: Node, interval: float) -> None:
        self._node = node
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kizuna-sync", daemon=True)
        self.rounds = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            if self._node.store.peers():
                try:
                    reports = sync(self._node)
                except Exception:  # keep serving whatever one round did
                    log.exception("sync round failed")
                else:
                    failed = sum(1 for r in reports if r.error)
                    log.info("sync round: %d link(s), %d failed", len(reports), failed)
            self.rounds += 1
            self._stop.wait(self._interval)
