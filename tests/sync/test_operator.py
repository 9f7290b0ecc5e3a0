"""What the operator sees and does about a peer: ``kizuna sync``, ``peer status``, ``peer reset``,
run as the operator runs them, and the scheduler of ``kizuna serve`` with a peer that hangs."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from kizuna.node import Node
from kizuna.sync.scheduler import Scheduler
from tests.sync.fakepeer import FakePeer, added, fake_indicator, fake_peer
from tests.sync.federation import ids_in

KIZUNA = [sys.executable, "-m", "kizuna"]


def run(*args: str | Path, code: int = 0) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([*KIZUNA, *map(str, args)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == code, proc.stderr
    return proc


def _home(root: Path, peers: dict[str, str]) -> Path:
    """A node pulling collection "c" of each peer NAME at URL into "from-NAME"."""
    home, _ = Node.init(root / "home", name="home", org="JPN-CERT", country="JPN")
    for name, url in peers.items():
        cid = home.add_collection(f"from-{name}", alias=f"from-{name}").id
        home.add_org(f"ORG-{name}", "BEL")
        home.grant(cid, f"ORG-{name}", read=False, write=True, max_tlp="red")
        home.add_peer(name, url, org=f"ORG-{name}", token="t", pull=[("c", f"from-{name}")])
    home.close()
    return root / "home"


def test_status_shows_what_was_rejected_and_reset_moves_the_cursor(tmp_path: Path) -> None:
    served: list[object] = [fake_indicator(i) for i in range(5)]
    served[2] = fake_indicator(2, object_marking_refs=7)
    with fake_peer(FakePeer("good", served)) as url:
        d = _home(tmp_path, {"feed": url})
        never = run("peer", "status", d).stdout
        assert "cursor none (from the beginning)" in never and "no round yet" in never
        out = run("sync", d).stderr
        assert "5 received, 4 stored, 0 duplicates, 1 rejected" in out
        status = run("peer", "status", d, "feed").stdout
        assert f"pull c -> from-feed: cursor {added(4)}" in status
        assert "5 received, 4 stored, 0 duplicates, 1 rejected" in status
        assert fake_indicator(2)["id"] in status and "object_marking_refs" in status

        # Back to before the third object: the next round resends it and what follows.
        run("peer", "reset", d, "feed", "--since", added(1))
        assert f"cursor {added(1)}" in run("peer", "status", d, "feed").stdout
        again = run("sync", d).stderr
        assert "3 received, 0 stored, 2 duplicates, 1 rejected" in again
        # Without --since: from the beginning.
        reset = run("peer", "reset", d, "feed").stderr
        assert f"cursor {added(4)} -> none (from the beginning)" in reset
        assert "5 received, 0 stored, 4 duplicates" in run("sync", d).stderr

        bad = run("peer", "reset", d, "feed", "--since", "yesterday", code=1).stderr
        assert "--since" in bad and "YYYY-MM-DD" in bad
        assert "no peer 'nobody'" in run("peer", "status", d, "nobody", code=1).stderr


def test_sync_fails_with_the_reason_of_a_peer_that_loops(tmp_path: Path) -> None:
    with fake_peer(FakePeer("loop_next")) as url:
        d = _home(tmp_path, {"loop": url})
        out = run("sync", d, "--page-size", "10", code=1).stderr
        assert "FAILED: the peer repeats next 'loop': its pages loop" in out
        assert "20 received, 10 stored, 10 duplicates" in out
        assert "FAILED: the peer repeats next" in run("peer", "status", d).stdout


def test_the_scheduler_keeps_syncing_a_good_peer_while_another_hangs(tmp_path: Path) -> None:
    hang = FakePeer("hang")
    with fake_peer(FakePeer("good")) as good_url, fake_peer(hang) as hang_url:
        d = _home(tmp_path, {"good": good_url, "stuck": hang_url})
        node = Node.open(d)
        node.config.sync_round_max_seconds = 20
        node.config.sync_request_timeout_seconds = 60
        scheduler = Scheduler(node, interval=0.1)
        scheduler.start()
        try:
            deadline = time.monotonic() + 60
            finished: set[int] = set()
            while len(finished) < 3:  # three rounds with the good peer ...
                assert time.monotonic() < deadline, "the good peer was not synced"
                finished |= {r.finished_us for r in node.store.sync_rounds("good")}
                time.sleep(0.05)
            # ... while the first round with the stuck one still waits for its answer.
            assert node.store.sync_rounds("stuck") == []
            assert len(ids_in(node, "from-good")) == 50
        finally:
            hang.released.set()  # the stuck peer lets go, its round ends
            scheduler.stop()
        (stuck,) = node.store.sync_rounds("stuck")
        assert stuck.error is not None
        node.close()


def test_what_a_peer_controls_is_shown_escaped(tmp_path: Path) -> None:
    """An id or reason from a peer reaches the operator's terminal and log with its control
    characters escaped, and cut short."""
    served = [fake_indicator(0, id="indicator--\x1b[2J\x1b[31mgotcha\n" + "x" * 5000)]
    with fake_peer(FakePeer("good", served)) as url:
        d = _home(tmp_path, {"feed": url})
        run("sync", d)
        status = run("peer", "status", d).stdout
        assert chr(27) not in status
        assert "indicator--\\x1b[2J\\x1b[31mgotcha\\nxxx" in status  # escaped, on one line
        assert max(len(line) for line in status.splitlines()) < 2000


def test_the_newest_rejections_are_kept_per_peer(tmp_path: Path) -> None:
    from kizuna.store.types import SyncRound

    node, _ = Node.init(tmp_path / "n", name="n", org="JPN-CERT", country="JPN")
    kept = node.store.kept_rejections
    for k in range(3):
        rejections = [(f"indicator--{k}-{i}", "bad") for i in range(kept * 2 // 3)]
        node.store.record_sync_round(SyncRound("p", "pull", "l", "r", k, k + 1), rejections)
    node.store.record_sync_round(SyncRound("q", "pull", "l", "r", 0, 1), [(None, "other peer")])
    newest = node.store.sync_rejections("p", limit=10 * kept)
    assert len(newest) == kept
    assert newest[0].object_id == f"indicator--2-{kept * 2 // 3 - 1}"
    assert [r.reason for r in node.store.sync_rejections("q")] == ["other peer"]
    (last,) = node.store.sync_rounds("p")
    assert last.started_us == 2
    node.close()
