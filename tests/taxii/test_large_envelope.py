"""A very large envelope is ingested in slices (taxii/_slices.py): the same outcome as in one
transaction, and other requests are answered while it is."""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

import httpx

from kizuna.stix.markings import releasability_marking
from kizuna.taxii._slices import LARGE_BODY, SLICE
from tests.conftest import Live
from tests.helpers import TAXII, auth, indicator


def _body(objects: list[dict[str, Any]]) -> bytes:
    return json.dumps({"objects": objects}).encode()


def _large(n: int, **extra: Any) -> list[dict[str, Any]]:
    """*n* indicators whose envelope is larger than LARGE_BODY."""
    pad = "x" * max(0, LARGE_BODY // n - 300)
    return [indicator(name=f"large {i}", description=pad, **extra) for i in range(n)]


def _post(live: Live, cid: str, body: bytes) -> httpx.Response:
    return httpx.post(
        f"{live.url}/api/collections/{cid}/objects/",
        headers={**auth(live.token), "Content-Type": TAXII},
        content=body,
        timeout=600,
    )


def test_a_large_envelope_is_judged_as_a_small_one_would_be(live: Live) -> None:
    node = live.node
    node.config.max_body_bytes = 64 << 20
    c = node.add_collection("large")
    # A REL TO marking listed last, marking objects of the first slice; a note listed first,
    # on an object of a later slice; an object twice; bad objects among good ones.
    rel = releasability_marking(["NATO"])
    objects = _large(3 * SLICE + 7, object_marking_refs=[rel["id"]])
    target = objects[-1]
    note = {
        "type": "note",
        "spec_version": "2.1",
        "id": f"note--{uuid.uuid4()}",
        "created": "2026-01-02T00:00:00.000Z",
        "modified": "2026-01-02T00:00:00.000Z",
        "content": "seen",
        "object_refs": [target["id"]],
    }  # unmarked: more releasable than what it annotates, so refused
    bad = {**indicator(), "modified": "2020-01-01T00:00:00.000Z"}
    envelope = [note, *objects[:10], bad, *objects[10:], objects[5], rel]
    body = _body(envelope)
    assert len(body) > LARGE_BODY
    r = _post(live, c.id, body)
    assert r.status_code == 202, r.text
    status = r.json()
    assert status["total_count"] == len(envelope)
    assert status["success_count"] == len(objects) + 2  # the objects, the repeat, the marking
    failed = {f["id"]: f["message"] for f in status["failures"]}
    assert set(failed) == {note["id"], bad["id"]}
    assert "may not be more releasable than" in failed[note["id"]]
    messages = [s["message"] for s in status["successes"] if s["id"] == objects[5]["id"]]
    assert sorted(messages) == ["already stored (same id and version)", "stored"]
    assert node.store.count(c.id) == len(objects) + 1
    # The status is stored, as for any POST.
    got = httpx.get(f"{live.url}/api/status/{status['id']}/", headers=auth(live.token))
    assert got.status_code == 200 and got.json()["total_count"] == len(envelope)


def test_a_large_body_that_is_not_an_envelope_is_refused(live: Live) -> None:
    live.node.config.max_body_bytes = 64 << 20
    c = live.node.add_collection("refused")
    pad = b" " * (LARGE_BODY + 10)
    for body, words in (
        (b'{"objects": [' + pad + b"[" * 200, "levels deep"),
        (b'{"more": false,' + pad + b"}", 'no "objects" list'),
        (b'{"objects": [{"a": 1}' + pad, "ends early"),
    ):
        r = _post(live, c.id, body)
        assert r.status_code == 400, r.text
        assert words in r.json()["description"]
    assert live.node.store.count(c.id) == 0


def test_other_requests_are_answered_while_a_large_envelope_is_ingested(live: Live) -> None:
    live.node.config.max_body_bytes = 64 << 20
    c = live.node.add_collection("busy")
    body = _body(_large(4 * SLICE))
    answered: list[float] = []
    posted: list[float] = []

    def big() -> None:
        assert _post(live, c.id, body).status_code == 202
        posted.append(time.monotonic())

    thread = threading.Thread(target=big)
    thread.start()
    with httpx.Client(base_url=live.url, headers=auth(live.token), timeout=600) as client:
        while thread.is_alive() and len(answered) < 10_000:
            assert client.get(f"/api/collections/{c.id}/").status_code == 200
            answered.append(time.monotonic())
    thread.join()
    # GETs were answered while the POST was being ingested, not only after it.
    assert sum(1 for t in answered if t < posted[0]) >= 3
