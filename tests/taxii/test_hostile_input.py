"""Bad input at the TAXII door: a precise 4xx, never a 5xx, and the good objects beside it stored.

Bodies nested past the limit, objects of every malformed shape in one envelope, query
parameters with digits that are not ASCII or too many of them.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import httpx
import pytest

from kizuna.stix.limits import MAX_JSON_DEPTH, MAX_OBJECT_DEPTH
from tests.conftest import Live
from tests.helpers import TAXII, auth, envelope, indicator

MARKING = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"


def _post(live: Live, cid: str, body: bytes) -> httpx.Response:
    return httpx.post(
        f"{live.url}/api/collections/{cid}/objects/",
        headers={**auth(live.token), "Content-Type": TAXII},
        content=body,
        timeout=60,
    )


def _nested(depth: int) -> Any:
    """A JSON value of *depth* levels: lists in lists, with an object at the bottom."""
    value: Any = {"deep": True}
    for _ in range(depth - 1):
        value = [value]
    return value


def test_a_body_nested_past_the_limit_is_refused_naming_it(live: Live) -> None:
    c = live.node.add_collection("deep")
    for depth in (MAX_JSON_DEPTH + 1, 5_000, 1_000_000):
        body = b'{"objects": [' + b"[" * depth + b"]" * depth + b"]}"
        started = time.monotonic()
        r = _post(live, c.id, body)
        assert r.status_code == 400, r.text
        assert r.headers["content-type"] == TAXII
        description = r.json()["description"]
        assert f"at most {MAX_JSON_DEPTH} are accepted" in description
        assert f"{depth + 2} levels deep" in description
        assert time.monotonic() - started < 10
    # Unterminated (invalid JSON): refused for its depth before a decoder reads it.
    r = _post(live, c.id, b'{"objects": [' + b"[" * 100_000)
    assert r.status_code == 400 and "levels deep" in r.json()["description"]
    assert live.node.store.count(c.id) == 0


def test_an_object_at_the_deepest_level_accepted_is_stored(live: Live) -> None:
    c = live.node.add_collection("deepest")
    deepest = indicator(x_nested=_nested(MAX_OBJECT_DEPTH - 1))
    body = envelope([deepest])
    r = _post(live, c.id, body)
    assert r.status_code == 202, r.text
    status = r.json()
    assert status["success_count"] == 1, status
    too_deep = indicator(x_nested=_nested(MAX_OBJECT_DEPTH))
    r = _post(live, c.id, envelope([too_deep]))
    assert r.status_code == 400 and f"object inside the envelope: {MAX_OBJECT_DEPTH}" in r.text


def _malformed() -> list[dict[str, Any]]:
    """One object of each malformed shape that made validation raise, or could."""
    ext_def = {
        "type": "extension-definition",
        "spec_version": "2.1",
        "id": f"extension-definition--{uuid.uuid4()}",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "name": "x",
        "schema": "https://example.org/s",
        "version": "1",
        "created_by_ref": "identity--f431f809-377b-45e0-aa1c-6a4751cae5ff",
    }
    ext = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
    return [
        {**ext_def, "extension_types": [["x"]]},
        {**ext_def, "id": f"extension-definition--{uuid.uuid4()}", "extension_types": [None]},
        indicator(extensions={ext: {"extension_type": [None]}}),
        indicator(object_marking_refs=MARKING),
        indicator(object_marking_refs=[12]),
        indicator(created_by_ref=["identity--f431f809-377b-45e0-aa1c-6a4751cae5ff"]),
        indicator(name=["a", "list"]),
        indicator(labels="not-a-list"),
        indicator(confidence={"high": True}),
        indicator(granular_markings=[{"selectors": ["name.[" + "9" * 5000 + "]"], "lang": "en"}]),
        indicator(granular_markings="everything"),
        indicator(external_references=[{"source_name": ["x"], "url": 3}]),
        indicator(kill_chain_phases=[["x"]]),
        indicator(pattern="(" * 5000 + "[ipv4-addr:value = '1']" + ")" * 5000),
        indicator(pattern="[file:x[" + "9" * 5000 + "] = 'a']"),
        indicator(valid_from="٢٠٢٦-01-01T00:00:00.000Z"),
        {"type": ["indicator"], "id": f"indicator--{uuid.uuid4()}"},
        {"type": "marking-definition", "spec_version": "2.1", "id": 7, "created": 1},
        {
            "type": "marking-definition",
            "spec_version": "2.1",
            "id": f"marking-definition--{uuid.uuid4()}",
            "created": "2026-01-01T00:00:00.000Z",
            "definition_type": "tlp",
            "definition": {"tlp": ["red"]},
        },
        {"type": "opinion", "opinion": {"agree": 1}},
    ]


def test_every_malformed_object_is_refused_alone_and_the_others_are_stored(live: Live) -> None:
    c = live.node.add_collection("malformed")
    bad = _malformed()
    good = [indicator(name=f"good {i}") for i in range(3)]
    objects = [good[0], *bad[:10], good[1], *bad[10:], good[2]]
    raw = b'{"objects": [' + b",".join(json.dumps(o).encode() for o in objects)
    # Also: a number too large for a 64-bit integer, and a value that is not an object.
    raw += b', {"type": "indicator", "confidence": 1' + b"0" * 400 + b"}, [1], 3]}"
    r = _post(live, c.id, raw)
    assert r.status_code == 202, r.text
    status = r.json()
    assert status["success_count"] == 3, status["successes"]
    assert status["failure_count"] == len(bad) + 3
    assert {s["id"] for s in status["successes"]} == {g["id"] for g in good}
    for failure in status["failures"]:
        assert len(failure["message"]) < 10_000
    assert live.node.store.count(c.id) == 3


@pytest.mark.parametrize(
    "query",
    [
        "limit=²",
        "limit=٣",
        "limit=" + "9" * 4300,
        "limit=" + "1" * 19,
        "limit=%EF%BC%95",  # a fullwidth 5
        "limit=+5",
        "limit= 5",
        "added_after=٢٠٢٦-01-01T00:00:00.000Z",
        "added_after=" + "2" * 5000,
        "match[version]=2026-01-01T00:00:00.٣Z",
        "match[spec_version]=٢.١",
        "match[id]=" + "x" * 10_000,
        "next=" + "A" * 10_000,
    ],
)
def test_query_parameters_take_ascii_digits_only(live: Live, query: str) -> None:
    c = live.node.add_collection("params")
    r = httpx.get(f"{live.url}/api/collections/{c.id}/objects/?{query}", headers=auth(live.token))
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == TAXII
    description = r.json()["description"]
    assert len(description) < 500
    if query.startswith("limit"):
        assert "expected a positive integer in ASCII digits, such as limit=100" in description


def test_large_limits_in_ascii_digits_are_capped(live: Live) -> None:
    c = live.node.add_collection("capped")
    _post(live, c.id, envelope([indicator() for _ in range(3)]))
    for limit in ("999999999999999999", "0002"):
        r = httpx.get(
            f"{live.url}/api/collections/{c.id}/objects/?limit={limit}", headers=auth(live.token)
        )
        assert r.status_code == 200, r.text
        assert len(r.json()["objects"]) == (3 if limit.startswith("9") else 2)
