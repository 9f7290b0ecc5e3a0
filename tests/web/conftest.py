"""Fixtures of the UI's tests: one world and one served node per module, one browser."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kizuna.taxii.app import create_app
from kizuna.web import mount
from tests.conftest import serve_app
from tests.web.world import World, build

#: Where the browser tests save their screenshots (look at them).
SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = build(tmp_path_factory.mktemp("web"))
    yield w
    w.node.close()


@pytest.fixture(scope="module")
def url(world: World) -> Iterator[str]:
    with serve_app(mount(create_app(world.node), world.node)) as base:
        yield base


def sign_in(base: str, username: str, token: str) -> httpx.Client:
    """An HTTP client signed in to the UI as *username* (through the form, as a browser)."""
    client = httpx.Client(base_url=base, follow_redirects=False)
    page = client.get("/ui/login")
    csrf = csrf_of(page.text)
    answer = client.post(
        "/ui/login", data={"username": username, "token": token, "csrf": csrf, "next": "/ui/"}
    )
    assert answer.status_code == 303, answer.text
    return client


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, "no CSRF token in the page"
    return m.group(1)


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    path = chromium()
    if path is None:
        pytest.skip("Debian's chromium is not installed (scripts/test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=["--no-sandbox"], headless=True)
        yield b
        b.close()
