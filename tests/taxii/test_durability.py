"""Once a status says success, the objects survive ``kill -9`` of the server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from kizuna.node import Node
from tests.conftest import free_port
from tests.helpers import TAXII, auth, indicator


def _start(directory: Path, port: int, extra: list[str] | None = None) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "kizuna", "serve", str(directory), "--port", str(port), *(extra or [])],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/taxii2/", timeout=1)
            return proc
        except httpx.TransportError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("server did not start")


def test_acknowledged_objects_survive_kill_9(tmp_path: Path) -> None:
    node, token = Node.init(tmp_path / "n", name="n", org="NATO-CERT", country="BEL")
    cid = node.add_collection("c").id
    node.close()
    port = free_port()
    proc = _start(tmp_path / "n", port)
    acknowledged: list[str] = []
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=auth(token)) as client:
            for _ in range(5):
                objs = [indicator() for _ in range(200)]
                r = client.post(f"/api/collections/{cid}/objects/", headers={"Content-Type": TAXII},
                                content=json.dumps({"objects": objs}))
                assert r.status_code == 202 and r.json()["success_count"] == 200
                acknowledged.extend(o["id"] for o in objs)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=auth(token)) as client:
            first = client.get(f"/api/collections/{cid}/objects/", params={"limit": 300}).json()
        os.kill(proc.pid, signal.SIGKILL)  # no shutdown, no flush: the process just dies
        proc.wait()
        proc = _start(tmp_path / "n", port)
        # A next cursor issued by the dead process still works in the new one (stateless).
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=auth(token)) as client:
            second = client.get(f"/api/collections/{cid}/objects/", params={"limit": 300, "next": first["next"]})
            assert second.status_code == 200
            ids = [o["id"] for o in first["objects"]] + [o["id"] for o in second.json()["objects"]]
            assert len(set(ids)) == 600
        seen: set[str] = set()
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=auth(token)) as client:
            params: dict[str, object] = {"limit": 1000}
            while True:
                page = client.get(f"/api/collections/{cid}/objects/", params=params).json()
                seen.update(o["id"] for o in page.get("objects", []))
                if not page["more"]:
                    break
                params = {"limit": 1000, "next": page["next"]}
        assert seen == set(acknowledged)
    finally:
        proc.kill()
        proc.wait()


def test_serve_with_several_worker_processes(tmp_path: Path) -> None:
    node, token = Node.init(tmp_path / "n", name="n", org="NATO-CERT", country="BEL")
    cid = node.add_collection("c").id
    node.close()
    port = free_port()
    proc = _start(tmp_path / "n", port, ["--workers", "2"])
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=auth(token)) as client:
            posted: list[str] = []
            for _ in range(4):  # the two processes share the work and one database
                objs = [indicator() for _ in range(50)]
                r = client.post(f"/api/collections/{cid}/objects/", headers={"Content-Type": TAXII},
                                content=json.dumps({"objects": objs}))
                assert r.status_code == 202 and r.json()["success_count"] == 50
                posted.extend(o["id"] for o in objs)
            page = client.get(f"/api/collections/{cid}/objects/", params={"limit": 1000}).json()
            assert sorted(o["id"] for o in page["objects"]) == sorted(posted)
    finally:
        proc.terminate()
        proc.wait()
