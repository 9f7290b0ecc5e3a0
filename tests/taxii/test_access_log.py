"""The request log: one line per request on ``kizuna.access``, saying who asked for what and how
it went; ``kizuna serve`` writes it to stderr unless given ``--no-access-log``, in every worker
process too."""

from __future__ import annotations

import asyncio
import logging
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from kizuna.node import Node
from kizuna.taxii.app import create_app
from tests.conftest import free_port
from tests.helpers import TAXII, auth, envelope, indicator

LINE = re.compile(r'^127\.0\.0\.1:\d+ "(\w+) (\S+)" (\d{3}|-) (\d+\.\d) ms (\S+)$')


def _lines(caplog: pytest.LogCaptureFixture) -> list[tuple[str, ...]]:
    out = []
    for record in caplog.records:
        if record.name == "kizuna.access":
            m = LINE.match(record.getMessage())
            assert m, record.getMessage()
            out.append(m.groups())
    return out


async def _requests(node: Node, token: str, cid: str) -> None:
    transport = httpx.ASGITransport(app=create_app(node), client=("127.0.0.1", 50123))
    async with httpx.AsyncClient(transport=transport, base_url="http://kizuna") as client:
        assert (await client.get("/taxii2/", headers=auth(token))).status_code == 200
        assert (await client.get("/taxii2/", headers={"Accept": TAXII})).status_code == 401
        r = await client.get(
            f"/api/collections/{cid}/objects/", params={"limit": 5}, headers=auth(token)
        )
        assert r.status_code == 200
        r = await client.post(
            f"/api/collections/{cid}/objects/",
            content=envelope([indicator()]),
            headers={**auth(token), "Content-Type": TAXII},
        )
        assert r.status_code == 202


@pytest.mark.parametrize("enabled", [True, False])
def test_each_request_is_one_line_with_its_status_time_and_principal(
    node_and_token: tuple[Node, str], caplog: pytest.LogCaptureFixture, enabled: bool
) -> None:
    node, token = node_and_token
    cid = node.add_collection("c").id
    caplog.set_level(logging.INFO if enabled else logging.WARNING, logger="kizuna.access")
    asyncio.run(_requests(node, token, cid))
    lines = [(method, target, status, who) for method, target, status, _, who in _lines(caplog)]
    assert lines == (
        [
            ("GET", "/taxii2/", "200", "user:admin"),
            ("GET", "/taxii2/", "401", "-"),  # not authenticated: nobody to name
            ("GET", f"/api/collections/{cid}/objects/?limit=5", "200", "user:admin"),
            ("POST", f"/api/collections/{cid}/objects/", "202", "user:admin"),
        ]
        if enabled
        else []  # nothing at all when the logger is not enabled for INFO
    )


def _serve_and_get(directory: Path, token: str, extra: list[str], log: Path) -> str:
    port = free_port()
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kizuna", "serve", str(directory), "--port", str(port), *extra],
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    r = httpx.get(f"http://127.0.0.1:{port}/taxii2/", headers=auth(token), timeout=1)
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline, "server did not start"
                    time.sleep(0.05)
            assert r.status_code == 200
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    return log.read_text()


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_writes_the_request_log_to_stderr(tmp_path: Path, workers: str) -> None:
    node, token = Node.init(tmp_path / "n", name="n", org="NATO-CERT", country="BEL")
    node.close()
    text = _serve_and_get(tmp_path / "n", token, ["--workers", workers], tmp_path / "err")
    assert re.search(r'kizuna\.access: 127\.0\.0\.1:\d+ "GET /taxii2/" 200 [\d.]+ ms user:admin', text)
    assert '"GET /taxii2/ HTTP/1.1" 200' not in text  # uvicorn's own access log is off


def test_serve_no_access_log(tmp_path: Path) -> None:
    node, token = Node.init(tmp_path / "n", name="n", org="NATO-CERT", country="BEL")
    node.close()
    text = _serve_and_get(tmp_path / "n", token, ["--no-access-log"], tmp_path / "err")
    assert "serving n at" in text and "kizuna.access" not in text


def test_no_access_log_holds_when_everything_else_is_verbose() -> None:
    from kizuna import logs

    access, root = logging.getLogger("kizuna.access"), logging.getLogger()
    levels = access.level, root.level
    try:
        root.setLevel(logging.INFO)  # kizuna -v
        logs.enable_access_log(False)
        assert not access.isEnabledFor(logging.INFO)
        logs.enable_access_log(True)
        assert access.isEnabledFor(logging.INFO)
    finally:
        access.setLevel(levels[0])
        root.setLevel(levels[1])
