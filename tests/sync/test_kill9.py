"""Crash safety: ``kill -9`` in the middle of a sync, then sync again.

The receiving node's cursor is committed in the same transaction as each page's objects, so
a sync process killed at any moment resumes with no loss and no duplicate; the end state is
identical (same versions, same bytes) to that of a node that synced undisturbed. Likewise when
the *publishing* node's server is killed with ``kill -9`` and restarted mid-sync.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kizuna.node import Node
from kizuna.stix.markings import TLP2_IDS
from kizuna.store.types import ObjectQuery, VersionMatch
from kizuna.sync.engine import sync
from tests.conftest import free_port, serve
from tests.helpers import indicator
from tests.sync.federation import REL_NATO, REL_NATO_JPN, load

pytestmark = pytest.mark.slow


def _publisher(root: Path, n: int) -> tuple[Node, str]:
    nato, _ = Node.init(root / "nato", name="nato", org="NATO-CERT", country="BEL", communities=["NATO"])
    shared = nato.add_collection("shared", alias="shared").id
    nato.add_org("JPN-CERT", "JPN", ["IP4"])
    nato.grant(shared, "JPN-CERT", read=True, write=False, max_tlp="amber")
    token = nato.add_user("jpn-node", "JPN-CERT", peer=True)
    markings = [[], [REL_NATO["id"]], [REL_NATO_JPN["id"]], [TLP2_IDS["red"]], [TLP2_IDS["green"]]]
    objects = [REL_NATO, REL_NATO_JPN] + [
        indicator(name=f"ioc {i}", markings=markings[i % len(markings)] or None,
                  created=f"2026-02-{1 + i % 28:02d}T00:00:00.000Z")
        for i in range(n)
    ]
    load(nato, shared, objects)
    return nato, token


def _receiver(root: Path, name: str, url: str, token: str) -> Node:
    jpn, _ = Node.init(root / name, name=name, org="JPN-CERT", country="JPN", communities=["IP4"])
    c = jpn.add_collection("from NATO", alias="from-nato")
    jpn.add_org("NATO-CERT", "BEL", ["NATO"])
    jpn.grant(c.id, "NATO-CERT", read=False, write=True, max_tlp="red")
    jpn.add_peer("nato", url, org="NATO-CERT", token=token, pull=[("shared", "from-nato")])
    return jpn


def _state(node: Node) -> set[tuple[str, int, bytes]]:
    rows = node.store.query(ObjectQuery(node.collection("from-nato").id, versions=VersionMatch(all=True), limit=10**6))
    return {(r.stix_id, r.version_us, r.body) for r in rows}


def _count(node: Node) -> int:
    return node.store.count(node.collection("from-nato").id)


def _sync_cmd(directory: Path) -> list[str]:
    return [sys.executable, "-m", "kizuna", "sync", str(directory), "--page-size", "25"]


def test_kill_9_the_syncing_process_then_resume(tmp_path: Path) -> None:
    nato, token = _publisher(tmp_path, 1500)
    with serve(nato) as url:
        reference = _receiver(tmp_path, "reference", url, token)
        assert [r.error for r in sync(reference, page_size=25)] == [None]
        expected = _state(reference)
        total = len(expected)
        assert total > 500

        jpn = _receiver(tmp_path, "jpn", url, token)
        interrupted: list[int] = []  # how much was stored when each kill landed
        for _ in range(3):  # kill it up to three times at different points
            proc = subprocess.Popen(_sync_cmd(tmp_path / "jpn"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            target = _count(jpn) + 150
            deadline = time.monotonic() + 60
            while _count(jpn) < target and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.005)
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
                interrupted.append(_count(jpn))
            proc.wait()
        # At least one kill landed mid-sync: part of the collection stored, part not.
        assert any(0 < n < total for n in interrupted), interrupted
        done = subprocess.run(_sync_cmd(tmp_path / "jpn"), capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        assert _state(jpn) == expected


def test_kill_9_the_publishing_server_then_restart(tmp_path: Path) -> None:
    nato, token = _publisher(tmp_path, 1200)
    nato.close()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    serve_cmd = [sys.executable, "-m", "kizuna", "serve", str(tmp_path / "nato"), "--port", str(port)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}

    def start() -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(serve_cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        import httpx

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(url + "/taxii2/", timeout=1)
                return proc
            except httpx.TransportError:
                time.sleep(0.05)
        proc.kill()
        raise RuntimeError("kizuna serve did not start")

    server = start()
    try:
        reference = _receiver(tmp_path, "reference", url, token)
        assert [r.error for r in sync(reference, page_size=25)] == [None]
        expected = _state(reference)

        jpn = _receiver(tmp_path, "jpn", url, token)
        syncer = subprocess.Popen(_sync_cmd(tmp_path / "jpn"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while _count(jpn) < 200 and time.monotonic() < deadline:
            time.sleep(0.005)
        os.kill(server.pid, signal.SIGKILL)
        server.wait()
        time.sleep(0.5)  # the syncer now meets a peer that is down, and retries
        server = start()
        syncer.wait(timeout=300)
        if syncer.returncode != 0:  # it gave up while the peer was down: sync again
            again = subprocess.run(_sync_cmd(tmp_path / "jpn"), capture_output=True, text=True, timeout=300)
            assert again.returncode == 0, again.stderr
        assert _state(jpn) == expected
    finally:
        server.kill()
        server.wait()
