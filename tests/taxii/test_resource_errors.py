"""Resource errors are named: a full disk answers 507, a PostgreSQL that is down 503 with
``Retry-After``, a read-only node directory is one clear line at start (and ``serve
--read-only`` serves it). Each with real parts: a small tmpfs that fills up, a TCP proxy to
PostgreSQL that goes away and comes back, a directory this process may not write."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import stat
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kizuna.node import Node
from tests.conftest import POSTGRES_URL, free_port, postgres_database, serve
from tests.helpers import TAXII, auth, envelope, indicator


def _post(url: str, token: str, cid: str, body: bytes) -> httpx.Response:
    return httpx.post(
        f"{url}/api/collections/{cid}/objects/",
        headers={**auth(token), "Content-Type": TAXII},
        content=body,
        timeout=60,
    )


def _is_taxii_error(r: httpx.Response, status: int) -> str:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == TAXII
    body = r.json()
    assert body["http_status"] == str(status)
    description: str = body["description"]
    return description


# --- a full disk -------------------------------------------------------------------------------


@contextlib.contextmanager
def _small_disk(path: Path, size: str) -> Iterator[Path]:
    path.mkdir()
    if os.geteuid() != 0:
        pytest.skip("a full disk is made with a small tmpfs, which needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def test_a_full_disk_answers_507_and_nothing_is_half_stored(tmp_path: Path) -> None:
    with _small_disk(tmp_path / "disk", "3m") as disk:
        node, token = Node.init(disk / "n", name="n", org="NATO-CERT", country="BEL")
        try:
            c = node.add_collection("full")
            acknowledged = 0
            with serve(node) as url:
                for _ in range(200):  # bounded: 3 MiB fill up long before
                    batch = [indicator(description="x" * 2000) for _ in range(100)]
                    r = _post(url, token, c.id, envelope(batch))
                    if r.status_code != 202:
                        break
                    acknowledged += r.json()["success_count"]
                description = _is_taxii_error(r, 507)
                assert "disk is full" in description and "nothing of this request" in description
                assert acknowledged > 0
                # Reads go on, and hold exactly what was acknowledged.
                got = httpx.get(
                    f"{url}/api/collections/{c.id}/manifest/?limit=10000",
                    headers=auth(token),
                    timeout=60,
                )
                assert got.status_code == 200
                assert len(got.json().get("objects", [])) == acknowledged
                assert node.store.count(c.id) == acknowledged
        finally:
            node.close()


# --- PostgreSQL down ---------------------------------------------------------------------------


class _Proxy:
    """A TCP proxy on 127.0.0.1 to the PostgreSQL server, that can go down and come back."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._server: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()

    def up(self) -> None:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen(64)
        self._server = server
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()

    def down(self) -> None:
        with self._lock:
            if self._server is not None:
                # (Closing alone leaves a socket that a thread waits in accept() on listening.)
                with contextlib.suppress(OSError):
                    self._server.shutdown(socket.SHUT_RDWR)
                self._server.close()
                self._server = None
            for conn in self._conns:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
                conn.close()
            self._conns.clear()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := a.recv(65536):
                b.sendall(data)
        with contextlib.suppress(OSError):
            b.shutdown(socket.SHUT_WR)


@pytest.mark.postgres
def test_postgresql_down_answers_503_with_retry_after_and_recovers(tmp_path: Path) -> None:
    if not POSTGRES_URL:
        pytest.skip("KIZUNA_TEST_POSTGRES_URL is not set (scripts/test starts PostgreSQL)")
    with postgres_database() as url:
        parsed = httpx.URL(url.replace("postgresql://", "http://", 1))
        proxy = _Proxy((parsed.host, parsed.port or 5432))
        proxy.up()
        via_proxy = url.replace(f"{parsed.host}:{parsed.port}", f"127.0.0.1:{proxy.port}")
        node, token = Node.init(
            tmp_path / "n", name="n", org="NATO-CERT", country="BEL", database=via_proxy
        )
        try:
            c = node.add_collection("pg")
            with serve(node) as base:
                assert _post(base, token, c.id, envelope([indicator()])).status_code == 202
                proxy.down()
                for request in (
                    lambda: httpx.get(f"{base}/api/collections/", headers=auth(token), timeout=60),
                    lambda: _post(base, token, c.id, envelope([indicator()])),
                ):
                    r = request()
                    description = _is_taxii_error(r, 503)
                    assert r.headers["retry-after"] == "5"
                    assert "PostgreSQL" in description or "database" in description
                proxy.up()
                deadline = time.monotonic() + 30
                while True:
                    r = _post(base, token, c.id, envelope([indicator()]))
                    if r.status_code == 202 or time.monotonic() > deadline:
                        break
                    time.sleep(0.5)
                assert r.status_code == 202, r.text
                assert node.store.count(c.id) == 2  # the one refused while down is not there
        finally:
            proxy.down()
            node.close()


# --- a read-only node directory ----------------------------------------------------------------


def _without_privilege() -> list[str]:
    """A command prefix under which this process's user cannot write read-only files."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("as root, this test needs setpriv to drop the right to write anything")
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search", "--"]


def _read_only_tree(root: Path) -> None:
    for path in (root, *root.iterdir()):
        mode = path.stat().st_mode
        path.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def test_a_read_only_node_directory_says_so_and_serves_read_only_when_asked(
    tmp_path: Path,
) -> None:
    prefix = _without_privilege()
    node, token = Node.init(tmp_path / "n", name="n", org="NATO-CERT", country="BEL")
    c = node.add_collection("kept")
    stored = [indicator() for _ in range(3)]
    with serve(node) as url:
        assert _post(url, token, c.id, envelope(stored)).status_code == 202
    node.close()
    _read_only_tree(tmp_path / "n")
    kizuna = [*prefix, sys.executable, "-m", "kizuna"]
    try:
        port = free_port()
        refused = subprocess.run(
            [*kizuna, "serve", str(tmp_path / "n"), "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert refused.returncode == 1
        assert "cannot be written by this user" in refused.stderr
        assert "kizuna serve DIRECTORY --read-only" in refused.stderr
        assert "Traceback" not in refused.stderr and "serving" not in refused.stderr

        proc = subprocess.Popen(
            [*kizuna, "serve", str(tmp_path / "n"), "--port", str(port), "--read-only"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    r = httpx.get(
                        f"{base}/api/collections/{c.id}/objects/", headers=auth(token), timeout=5
                    )
                    break
                except httpx.TransportError:
                    assert proc.poll() is None and time.monotonic() < deadline
                    time.sleep(0.1)
            assert r.status_code == 200
            assert {o["id"] for o in r.json()["objects"]} == {o["id"] for o in stored}
            description = _is_taxii_error(
                _post(base, token, c.id, envelope([indicator(oid=f"indicator--{uuid.uuid4()}")])),
                403,
            )
            assert "serves read-only" in description
        finally:
            proc.terminate()
            _, stderr = proc.communicate(timeout=30)
        assert "read-only" in stderr and "Traceback" not in stderr
    finally:
        for path in (tmp_path / "n", *(tmp_path / "n").iterdir()):
            path.chmod(path.stat().st_mode | stat.S_IWUSR)
