"""What the parts of a node share: its directory, settings, store and policy snapshot."""

from __future__ import annotations

import threading
from pathlib import Path

from kizuna.config import NodeConfig
from kizuna.errors import BadRequest
from kizuna.node._definitions import publish as publish_markings
from kizuna.node._snapshot import Snapshot, load_snapshot
from kizuna.policy.countries import is_country
from kizuna.stix.timestamps import format_micros, now_micros
from kizuna.store.sql import SqlStore


class NodeBase:
    """A node's directory, settings and store, and its policy snapshot, cached."""

    def __init__(self, directory: Path, config: NodeConfig, store: SqlStore) -> None:
        self.directory = directory
        self.config = config
        self.store = store
        self._snapshot: Snapshot | None = None
        self._snapshot_lock = threading.Lock()

    def snapshot(self) -> Snapshot:
        """The current gate; reloaded when anything it depends on has changed."""
        generation = self.store.policy_generation()
        snap = self._snapshot
        if snap is not None and snap.generation == generation:
            return snap
        with self._snapshot_lock:
            if self._snapshot is None or self._snapshot.generation != generation:
                self._snapshot = load_snapshot(self.store, self.config.org)
                # Marking-definitions the snapshot knows first go to kizuna-definitions.
                publish_markings(self.store, self._snapshot)
            return self._snapshot

    def now(self) -> str:
        return format_micros(now_micros())


def country_code(code: str) -> str:
    """*code* as an ISO 3166 alpha-3 country code, or BadRequest."""
    c = code.strip().upper()
    if not is_country(c):
        raise BadRequest(f"{code!r} is not an ISO 3166 alpha-3 country code (e.g. JPN, FRA, USA)")
    return c
