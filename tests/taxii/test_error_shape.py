"""Every error path answers with one shape: a TAXII error resource in the TAXII media type.

Each case is a request that must fail; the test checks its status, its media type, the error
resource's fields, and that the description tells a person what to do.
"""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import httpx
import pytest

from kizuna.node import Node
from tests.conftest import Live, serve
from tests.helpers import TAXII, auth, envelope, indicator

MISSING = f"indicator--{uuid.uuid4()}"


def _cases(
    cid: str, token: str, reader: str
) -> list[tuple[str, str, str, dict[str, str], bytes | None, int]]:
    ok = auth(token)
    post = {**ok, "Content-Type": TAXII}
    basic_wrong = {
        "Authorization": "Basic " + base64.b64encode(b"admin:wrong").decode(),
        "Accept": TAXII,
    }
    c = f"/api/collections/{cid}"
    return [
        ("no credentials", "GET", "/taxii2/", {"Accept": TAXII}, None, 401),
        (
            "wrong token",
            "GET",
            "/taxii2/",
            {"Authorization": "Bearer nope", "Accept": TAXII},
            None,
            401,
        ),
        ("wrong basic password", "GET", "/api/", basic_wrong, None, 401),
        (
            "bad basic encoding",
            "GET",
            "/api/",
            {"Authorization": "Basic %%%", "Accept": TAXII},
            None,
            401,
        ),
        (
            "unknown scheme",
            "GET",
            "/api/",
            {"Authorization": "Digest x", "Accept": TAXII},
            None,
            401,
        ),
        ("html accept", "GET", "/api/", {**ok, "Accept": "text/html"}, None, 406),
        (
            "taxii 2.0 accept",
            "GET",
            "/api/",
            {**ok, "Accept": "application/taxii+json;version=2.0"},
            None,
            406,
        ),
        ("unknown endpoint", "GET", "/api/nothing/", ok, None, 404),
        ("unknown collection", "GET", f"/api/collections/{uuid.uuid4()}/objects/", ok, None, 404),
        ("unknown object", "GET", f"{c}/objects/{MISSING}/", ok, None, 404),
        ("unknown object versions", "GET", f"{c}/objects/{MISSING}/versions/", ok, None, 404),
        ("delete unknown object", "DELETE", f"{c}/objects/{MISSING}/", ok, None, 404),
        ("unknown status", "GET", f"/api/status/{uuid.uuid4()}/", ok, None, 404),
        ("method not allowed", "PUT", f"{c}/objects/", ok, b"{}", 405),
        ("malformed json", "POST", f"{c}/objects/", post, b'{"objects": [', 400),
        (
            "bundle without objects",
            "POST",
            f"{c}/objects/",
            post,
            json.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}"}).encode(),
            400,
        ),
        ("envelope without objects", "POST", f"{c}/objects/", post, b'{"more": false}', 400),
        (
            "wrong content type",
            "POST",
            f"{c}/objects/",
            {**ok, "Content-Type": "application/json"},
            envelope([indicator()]),
            415,
        ),
        ("no content type", "POST", f"{c}/objects/", ok, envelope([indicator()]), 415),
        (
            "stix content type",
            "POST",
            f"{c}/objects/",
            {**ok, "Content-Type": "application/stix+json;version=2.1"},
            envelope([indicator()]),
            415,
        ),
        (
            "oversize body",
            "POST",
            f"{c}/objects/",
            post,
            b'{"objects": [' + b" " * 5000 + b"]}",
            413,
        ),
        ("bad added_after", "GET", f"{c}/objects/?added_after=yesterday", ok, None, 400),
        ("bad limit", "GET", f"{c}/objects/?limit=-3", ok, None, 400),
        ("zero limit", "GET", f"{c}/objects/?limit=0", ok, None, 400),
        ("non-numeric limit", "GET", f"{c}/manifest/?limit=ten", ok, None, 400),
        ("bad match id", "GET", f"{c}/objects/?match[id]=indicator--nope", ok, None, 400),
        ("bad match type", "GET", f"{c}/objects/?match[type]=Not_A_Type", ok, None, 400),
        ("bad match version", "GET", f"{c}/objects/?match[version]=newest", ok, None, 400),
        ("bad match spec_version", "GET", f"{c}/objects/?match[spec_version]=two", ok, None, 400),
        ("unsupported match", "GET", f"{c}/objects/?match[color]=red", ok, None, 400),
        ("repeated filter", "GET", f"{c}/objects/?limit=1&limit=2", ok, None, 400),
        ("forged next", "GET", f"{c}/objects/?next=abc.def", ok, None, 400),
        ("garbage next", "GET", f"{c}/objects/?next=%%%%", ok, None, 400),
        (
            "read-only user writes",
            "POST",
            f"{c}/objects/",
            {**auth(reader), "Content-Type": TAXII},
            envelope([indicator()]),
            403,
        ),
    ]


def test_every_error_has_the_taxii_error_shape(live: Live) -> None:
    node = live.node
    c = node.add_collection("errors")
    node.add_org("Reader Org", "JPN")
    node.grant(c.id, "Reader Org", read=True, write=False)
    reader = node.add_user("reader", "Reader Org")
    node.config.max_body_bytes = 4096
    failures: list[str] = []
    with httpx.Client(base_url=live.url) as client:
        for name, method, path, headers, body, status in _cases(c.id, live.token, reader):
            r = client.request(method, path, headers=headers, content=body)
            problem = _shape_problem(r, status)
            if problem:
                failures.append(f"{name}: {problem}")
    assert not failures, "\n".join(failures)


def _shape_problem(r: httpx.Response, status: int) -> str | None:
    if r.status_code != status:
        return f"status {r.status_code}, expected {status}: {r.text[:200]}"
    if r.headers.get("content-type") != TAXII:
        return f"content-type {r.headers.get('content-type')!r}"
    try:
        body: Any = r.json()
    except ValueError:
        return f"body is not JSON: {r.text[:200]!r}"
    if set(body) - {
        "title",
        "description",
        "http_status",
        "details",
        "error_id",
        "error_code",
        "external_details",
    }:
        return f"unexpected keys {sorted(body)}"
    if not isinstance(body.get("title"), str) or not body["title"]:
        return "no title"
    if not isinstance(body.get("description"), str) or len(body["description"]) < 15:
        return f"description too thin: {body.get('description')!r}"
    if body.get("http_status") != str(status):
        return f"http_status {body.get('http_status')!r}"
    if status == 401 and "www-authenticate" not in r.headers:
        return "401 without WWW-Authenticate"
    return None


@pytest.mark.parametrize("bad_next", ["", "a.b.c", "eyJ4IjoxfQ.AAAA"])
def test_tampered_next_is_refused(live: Live, bad_next: str) -> None:
    c = live.node.add_collection("paging")
    with httpx.Client(base_url=live.url) as client:
        r = client.post(
            f"/api/collections/{c.id}/objects/",
            headers={**auth(live.token), "Content-Type": TAXII},
            content=envelope([indicator() for _ in range(5)]),
        )
        assert r.status_code == 202
        first = client.get(
            f"/api/collections/{c.id}/objects/?limit=2", headers=auth(live.token)
        ).json()
        token = first["next"]
        # Flip one character of the signature: refused.
        flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
        for value in (bad_next or flipped, flipped):
            r = client.get(
                f"/api/collections/{c.id}/objects/",
                params={"next": value},
                headers=auth(live.token),
            )
            assert r.status_code == 400, r.text
            assert r.json()["title"] == "Invalid next cursor"
        # A cursor used with different filters: refused.
        r = client.get(
            f"/api/collections/{c.id}/objects/",
            params={"next": token, "match[type]": "malware"},
            headers=auth(live.token),
        )
        assert r.status_code == 400 and "different filters" in r.json()["description"]
        # Unchanged: works.
        r = client.get(
            f"/api/collections/{c.id}/objects/",
            params={"next": token, "limit": 2},
            headers=auth(live.token),
        )
        assert r.status_code == 200 and len(r.json()["objects"]) == 2


def test_expired_next_is_refused_with_a_way_out(node_and_token: tuple[Node, str]) -> None:
    node, token = node_and_token
    node.config.cursor_ttl_seconds = -1  # every cursor is already too old when it is used
    c = node.add_collection("expiry")
    with serve(node) as url, httpx.Client(base_url=url, headers=auth(token)) as client:
        client.post(
            f"/api/collections/{c.id}/objects/",
            headers={"Content-Type": TAXII},
            content=envelope([indicator() for _ in range(3)]),
        )
        first = client.get(f"/api/collections/{c.id}/objects/", params={"limit": 1}).json()
        r = client.get(f"/api/collections/{c.id}/objects/", params={"next": first["next"]})
        assert r.status_code == 400
        assert "expired" in r.json()["description"] and "added_after" in r.json()["description"]
