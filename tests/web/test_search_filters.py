"""The search page's exact observable lookup (normalized as the value index keeps values)
and its filters by marking, origin and date added, under the gate."""

from __future__ import annotations

import re

from tests.web.conftest import sign_in
from tests.web.world import AMBER, GREEN, World


def _exact(html: str) -> str:
    m = re.search(r'<section aria-labelledby="exact-h">.*?</section>', html, re.S)
    assert m, "no exact lookup"
    return m.group(0)


def _words(html: str) -> str:
    m = re.search(r'<section aria-labelledby="found-h">.*?</section>', html, re.S)
    assert m
    return m.group(0)


def test_exact_lookup_normalizes(world: World, url: str) -> None:
    client = sign_in(url, "analyst", world.tokens["analyst"])
    for q in ("EVIL[.]example", "evil.example.", "Evil.Example"):
        exact = _exact(client.get("/ui/search", params={"q": q}).text)
        assert "Exact domain-name <code>evil.example</code>: 1 found" in exact, q
        assert f'href="/ui/objects/{world.ids["indicator"]}"' in exact
    assert "Looked up as normalized" in client.get("/ui/search", params={"q": "EVIL[.]example"}).text
    assert 'aria-labelledby="exact-h"' not in client.get("/ui/search", params={"q": "PowerShell"}).text


def test_exact_lookup_is_gated(world: World, url: str) -> None:
    analyst = sign_in(url, "analyst", world.tokens["analyst"])
    partner = sign_in(url, "partner", world.tokens["partner"])
    assert ": 1 found" in _exact(analyst.get("/ui/search", params={"q": "203.0.113.9"}).text)
    hidden = partner.get("/ui/search", params={"q": "203.0.113.9"}).text
    assert ": 0 found" in _exact(hidden) and world.hidden["jp_only"] not in hidden
    # the same answer as for a value nobody holds
    other = partner.get("/ui/search", params={"q": "203.0.113.10"}).text
    assert hidden.replace("203.0.113.9", "X") == other.replace("203.0.113.10", "X")


def test_filters(world: World, url: str) -> None:
    client = sign_in(url, "analyst", world.tokens["analyst"])
    both = _words(client.get("/ui/search", params={"q": "ドメイン", "marking": GREEN}).text)
    assert world.ids["indicator"] in both and world.ids["report"] in both
    assert ">0 found<" in _words(client.get("/ui/search", params={"q": "ドメイン", "marking": AMBER}).text)
    by_file = _words(client.get("/ui/search", params={"q": "ドメイン", "origin": "file:"}).text)
    assert ">1 found<" in by_file and world.ids["indicator"] in by_file  # its v2 came from a file
    later = client.get("/ui/search", params={"q": "ドメイン", "from": "2099-01-01"}).text
    assert ">0 found<" in _words(later)
    today = client.get("/ui/search", params={"q": "ドメイン", "from": "2000-01-01", "to": "2099-01-01"}).text
    assert ">2 found<" in _words(today)
    bad = client.get("/ui/search", params={"q": "ドメイン", "from": "yesterday"})
    assert bad.status_code == 400 and "YYYY-MM-DD" in bad.text
