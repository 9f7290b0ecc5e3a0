"""The background scheduler of ``kizuna serve`` syncs on its own, and stops cleanly."""

from __future__ import annotations

import time
from pathlib import Path

from kizuna.sync.scheduler import Scheduler
from tests.sync.federation import CATEGORIES, federation, ids_in


def test_scheduler_pulls_without_being_asked(tmp_path: Path) -> None:
    with federation(tmp_path) as fed:
        want = {oid for oid, cat in fed.marked.items() if CATEGORIES[cat][1]}
        scheduler = Scheduler(fed.jpn, interval=0.05)
        scheduler.start()
        try:
            deadline = time.monotonic() + 60
            while ids_in(fed.jpn, fed.from_nato) & set(fed.marked) != want:
                assert time.monotonic() < deadline, "the scheduler did not sync"
                time.sleep(0.05)
            rounds = scheduler.rounds
            while scheduler.rounds < rounds + 2:  # it keeps going, finding nothing new
                assert time.monotonic() < deadline
                time.sleep(0.05)
        finally:
            scheduler.stop()
        assert ids_in(fed.jpn, fed.from_nato) & set(fed.marked) == want
