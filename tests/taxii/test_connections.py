"""Idle, trickling and oversized connections cannot stop a real ``kizuna serve``.

The server runs in its own process with a file limit of 1,024 (so that 2,200 connections are
more than it can hold open) and short deadlines; the test opens 2,000 connections that send
nothing and 200 that trickle a request a byte at a time, then asks as a normal client. Every
loop is bounded.
"""

from __future__ import annotations

import contextlib
import json
import resource
import selectors
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kizuna import config
from kizuna.node import Node
from tests.conftest import free_port
from tests.helpers import TAXII, auth

IDLE = 2000
TRICKLING = 200
SERVER_FILES = 1024


def _own_file_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= needed:
        return
    if hard != resource.RLIM_INFINITY and hard < needed:
        pytest.skip(f"this test needs {needed} open files; the hard limit is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


def _limit_server_files() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (SERVER_FILES, SERVER_FILES))


@contextlib.contextmanager
def _serving(tmp_path: Path, **settings: int) -> Iterator[tuple[str, int, str, Path]]:
    node, token = Node.init(tmp_path / "n", name="n", org="NATO-CERT", country="BEL")
    node.add_collection("c", alias="c")
    for key, value in settings.items():
        setattr(node.config, key, value)
    config.save(node.directory, node.config)
    node.close()
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kizuna", "-v", "serve", str(tmp_path / "n"), "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=out,
            preexec_fn=_limit_server_files,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/taxii2/", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("server did not start: " + log.read_text()) from None
                time.sleep(0.05)
        yield "127.0.0.1", port, token, log
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _connect_all(host: str, port: int, count: int) -> list[socket.socket]:
    """*count* connected sockets (a connect that the backlog holds still counts)."""
    out = []
    for _ in range(count):
        s = socket.socket()
        s.settimeout(10)
        s.connect((host, port))
        s.setblocking(False)
        out.append(s)
    return out


def _read_until_closed(socks: list[socket.socket], seconds: float) -> dict[str, int]:
    """Read every socket until the server closes it or *seconds* pass; how each ended."""
    outcome = {"eof": 0, "reset": 0, "open": 0, "408": 0}
    sel = selectors.DefaultSelector()
    got: dict[socket.socket, bytes] = {}
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
        got[s] = b""
    deadline = time.monotonic() + seconds
    while got and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=0.2):
            s = key.fileobj
            assert isinstance(s, socket.socket)
            try:
                data = s.recv(65536)
            except ConnectionResetError:
                outcome["reset"] += 1
                data = None
            if data:
                got[s] += data
                continue
            if data is not None:
                outcome["eof"] += 1
                if got[s].startswith(b"HTTP/1.1 408"):
                    outcome["408"] += 1
            sel.unregister(s)
            del got[s]
    outcome["open"] = len(got)
    sel.close()
    return outcome


@pytest.mark.slow
def test_idle_and_trickling_connections_do_not_stop_a_normal_client(tmp_path: Path) -> None:
    _own_file_limit(IDLE + TRICKLING + 200)
    with _serving(tmp_path, header_timeout_seconds=3, max_connections=4096) as (
        host,
        port,
        token,
        log,
    ):
        idle = _connect_all(host, port, IDLE)
        trickling = _connect_all(host, port, TRICKLING)
        request = b"GET /taxii2/ HTTP/1.1\r\nHost: x\r\n"
        try:
            # Two bytes from every trickler, half a second apart: they have started requests.
            for i in range(2):
                for s in trickling:
                    with contextlib.suppress(BlockingIOError, OSError):
                        s.send(request[i : i + 1])
                time.sleep(0.5)
            with httpx.Client(headers=auth(token), timeout=30) as client:
                started = time.monotonic()
                r = client.get(f"http://{host}:{port}/taxii2/")
                answered = time.monotonic() - started
            assert r.status_code == 200, r.text
            assert r.headers["content-type"] == TAXII
            # The server keeps under its file limit by closing the connections idle longest;
            # the rest close at the header deadline: the idle ones quietly, the trickling ones
            # with a 408. None is reset.
            ended_idle = _read_until_closed(idle, 20)
            ended_trickling = _read_until_closed(trickling, 20)
        finally:
            for s in idle + trickling:
                s.close()
        assert ended_idle == {"eof": IDLE, "reset": 0, "open": 0, "408": 0}, ended_idle
        assert ended_trickling == {
            "eof": TRICKLING,
            "reset": 0,
            "open": 0,
            "408": TRICKLING,
        }, ended_trickling
        # And it serves on afterwards.
        r = httpx.get(f"http://{host}:{port}/taxii2/", headers=auth(token), timeout=30)
        assert r.status_code == 200
        text = log.read_text()
        assert f"holding at most {SERVER_FILES - 256} connections" in text
        assert "connections open (max_connections 768): closed" in text
        print(f"a normal client's GET answered in {answered:.3f} s")


def _raw(host: str, port: int, data: bytes, seconds: float = 20) -> bytes:
    with socket.create_connection((host, port), timeout=seconds) as s:
        with contextlib.suppress(OSError):
            s.sendall(data)
        out = b""
        with contextlib.suppress(TimeoutError, ConnectionResetError):
            while chunk := s.recv(65536):
                out += chunk
        return out


def _taxii_error(response: bytes, status: int) -> dict[str, str]:
    head, _, body = response.partition(b"\r\n\r\n")
    assert head.startswith(f"HTTP/1.1 {status} ".encode()), response[:300]
    assert f"content-type: {TAXII}".encode() in head.lower()
    error: dict[str, str] = json.loads(body)
    assert error["http_status"] == str(status)
    return error


@pytest.mark.slow
def test_oversized_slow_and_malformed_requests_get_taxii_errors(tmp_path: Path) -> None:
    with _serving(tmp_path, header_timeout_seconds=2, body_timeout_seconds=2) as (
        host,
        port,
        token,
        log,
    ):
        long_query = b"GET /api/collections/x/objects/?match[id]=" + b"a" * 20_000
        error = _taxii_error(_raw(host, port, long_query + b" HTTP/1.1\r\nHost: x\r\n\r\n"), 414)
        assert "longer than 16384 bytes" in error["description"]
        huge = b"GET /taxii2/ HTTP/1.1\r\nHost: x\r\n" + b"X-Pad: " + b"p" * 70_000 + b"\r\n\r\n"
        assert "headers are longer" in _taxii_error(_raw(host, port, huge), 431)["description"]
        garbage = _taxii_error(_raw(host, port, b"\x16\x03\x01 nonsense\r\n\r\n"), 400)
        assert "not valid HTTP/1.1" in garbage["description"]
        # A body that trickles: 408 at the body deadline.
        with socket.create_connection((host, port), timeout=20) as s:
            s.sendall(
                b"POST /api/collections/c/objects/ HTTP/1.1\r\nHost: x\r\n"
                + f"Authorization: Bearer {token}\r\n".encode()
                + f"Content-Type: {TAXII}\r\nContent-Length: 1000\r\n\r\n".encode()
                + b'{"objects": ['
            )
            out = b""
            with contextlib.suppress(TimeoutError, ConnectionResetError):
                for _ in range(40):  # a byte every half second until the server closes
                    s.sendall(b" ")
                    time.sleep(0.5)
                    s.setblocking(False)
                    with contextlib.suppress(BlockingIOError):
                        chunk = s.recv(65536)
                        out += chunk
                        if not chunk:
                            break
                    s.setblocking(True)
        assert "did not arrive within 2 s" in _taxii_error(out, 408)["description"]
        # After all that, a normal request; and nothing in the log was unexpected.
        r = httpx.get(f"http://{host}:{port}/taxii2/", headers=auth(token), timeout=30)
        assert r.status_code == 200
        text = log.read_text()
        assert "Traceback" not in text and "unexpected error" not in text, text
        assert "closed a connection whose request body took over 2 s" in text


def test_serve_on_a_busy_port_says_so_before_serving(tmp_path: Path) -> None:
    Node.init(tmp_path / "n", name="n", org="NATO-CERT", country="BEL")[0].close()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "kizuna", "serve", str(tmp_path / "n"), "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1
    assert f"port {port} on 127.0.0.1 is in use" in done.stderr
    assert "serving" not in done.stderr
