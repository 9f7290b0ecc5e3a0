"""Shared fixtures: nodes in temporary directories, real servers on 127.0.0.1, PostgreSQL."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from kizuna.node import Node

DATA = Path(__file__).parent / "data"
POSTGRES_URL = os.environ.get("KIZUNA_TEST_POSTGRES_URL", "")


def pytest_addoption(parser: pytest.Parser) -> None:
    # read by the vendored medallion suite (tests/interop/medallion): the backends it runs on
    parser.addoption("--backends", default="memory", help="medallion test backends (memory: Kizuna)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_ports(count: int) -> int:
    """The first of *count* consecutive ports that are free on 127.0.0.1 now."""
    while True:
        first = free_port()
        if first + count > 65536:
            continue
        try:
            with contextlib.ExitStack() as stack:
                for port in range(first, first + count):
                    s = stack.enter_context(socket.socket())
                    s.bind(("127.0.0.1", port))
        except OSError:
            continue
        return first


@dataclass
class Live:
    """A node served over real HTTP on 127.0.0.1."""

    node: Node
    url: str
    token: str

    @property
    def api(self) -> str:
        return self.url + "/api/"


@contextmanager
def serve(node: Node) -> Iterator[str]:
    """Run *node*'s TAXII app in a uvicorn server thread; yield its base URL."""
    from kizuna.taxii.app import create_app

    with serve_app(create_app(node)) as url:
        yield url


@contextmanager
def serve_app(app: Any, *, tls: tuple[Path, Path] | None = None) -> Iterator[str]:
    """Run an ASGI app in a uvicorn server thread on 127.0.0.1; yield its base URL.

    With *tls* (certificate, key), it serves HTTPS.
    """
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        ssl_certfile=str(tls[0]) if tls else None,
        ssl_keyfile=str(tls[1]) if tls else None,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.01)
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test; dropped afterwards."""
    import psycopg

    if not POSTGRES_URL:
        pytest.skip("KIZUNA_TEST_POSTGRES_URL is not set (scripts/test starts PostgreSQL)")
    name = "kizuna_test_" + uuid.uuid4().hex[:12]
    admin_url = POSTGRES_URL
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each store test runs on both adapters: an empty SQLite file, an empty PG database."""
    if request.param == "sqlite":
        yield ""
    else:
        with postgres_database() as url:
            yield url


@pytest.fixture
def node_and_token(tmp_path: Path) -> Iterator[tuple[Node, str]]:
    node, token = Node.init(
        tmp_path / "node", name="test", org="NATO-CERT", country="BEL", communities=["NATO"]
    )
    yield node, token
    node.close()


@pytest.fixture
def node(node_and_token: tuple[Node, str]) -> Node:
    return node_and_token[0]


@pytest.fixture
def live(node_and_token: tuple[Node, str]) -> Iterator[Live]:
    node, token = node_and_token
    with serve(node) as url:
        yield Live(node, url, token)
