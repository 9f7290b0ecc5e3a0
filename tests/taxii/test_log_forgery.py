"""What a client sends cannot forge a line of the node's log: a line break in a request's
path (``%0a``), in a user's name or in an object id is written as its escape, on the line of
the request that carried it (``GET /api/%0a2026-... INFO kizuna.access: ...`` had written a
second, forged request line, unauthenticated)."""

from __future__ import annotations

import logging

import httpx
import pytest

from kizuna.node import Node, hash_token, new_token
from tests.conftest import serve
from tests.helpers import TAXII

FORGED = "2026-12-05 00:00:00,000 INFO kizuna.access: 10.0.0.1:1 \"GET /api/\" 200 1.0 ms user:admin"


def _messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name.startswith("kizuna")]


def test_no_client_text_breaks_a_log_line(
    node_and_token: tuple[Node, str], caplog: pytest.LogCaptureFixture
) -> None:
    node, _ = node_and_token
    cid = node.add_collection("c").id
    node.add_org("ODD", "FRA")
    # Node.add_user refuses a line break in a name; a database made before it did may hold one.
    odd_token = new_token()
    node.store.add_user(f"odd\n{FORGED}", "ODD", hash_token(odd_token))
    node.grant(cid, "ODD", read=True, write=True)
    caplog.set_level(logging.INFO, logger="kizuna")
    with serve(node) as url:
        forged = "%0A" + FORGED.replace(" ", "%20").replace('"', "%22")
        assert httpx.get(f"{url}/api/{forged}/", headers={"Accept": TAXII}).status_code in (401, 404)
        answer = httpx.delete(f"{url}/api/collections/{cid}/objects/x%0A{forged}/",
                              headers={"Accept": TAXII, "Authorization": f"Bearer {odd_token}"})
        assert answer.status_code in (400, 404), answer.text
        answer = httpx.get(f"{url}/api/collections/{cid}/objects/",
                           headers={"Accept": TAXII, "Authorization": f"Bearer {odd_token}"})
        assert answer.status_code == 200, answer.text
    messages = _messages(caplog)
    access = [m for m in messages if "ms " in m]
    assert len(access) >= 3, messages
    for m in messages:
        assert "\n" not in m and "\r" not in m, m
    assert any("\\n2026-12-05" in m for m in access)  # the escape is there, on its own line
