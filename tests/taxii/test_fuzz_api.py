"""Fuzzing the TAXII API over real HTTP (hypothesis, bounded): POST bodies and query
parameters of every shape get an answer below 500 in the TAXII media type, and nothing already
stored is lost or changed."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kizuna.node import Node
from tests.conftest import serve
from tests.helpers import TAXII, auth, indicator
from tests.stix._objects import minimal

_SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

_KEYS = st.sampled_from(
    [
        "type",
        "id",
        "spec_version",
        "created",
        "modified",
        "name",
        "pattern",
        "pattern_type",
        "valid_from",
        "object_marking_refs",
        "granular_markings",
        "created_by_ref",
        "external_references",
        "extensions",
        "labels",
        "object_refs",
        "x_custom",
    ]
) | st.text(max_size=8)
_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(
        [
            "2026-01-01T00:00:00.000Z",
            "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
            "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
            "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
            "[ipv4-addr:value = '1.2.3.4']",
            "stix",
        ]
    ),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_KEYS, children, max_size=4),
    max_leaves=10,
)
_OBJECTS = sorted(minimal().values(), key=lambda o: str(o["type"]))


@st.composite
def _objects(draw: st.DrawFn) -> Any:
    """A valid object, or one with arbitrary JSON put in a few places, or any JSON value."""
    if draw(st.integers(0, 9)) == 0:
        return draw(_JSON)
    obj = copy.deepcopy(draw(st.sampled_from(_OBJECTS)))
    obj["id"] = obj["id"].rsplit("--", 1)[0] + "--" + draw(st.uuids(version=4)).__str__()
    for key, value in draw(st.lists(st.tuples(_KEYS, _JSON), max_size=3)):
        obj[key] = value
    return obj


@st.composite
def _bodies(draw: st.DrawFn) -> bytes:
    """An envelope or bundle of such objects, perhaps damaged as bytes."""
    objects = draw(st.lists(_objects(), max_size=6))
    wrapper: dict[str, Any] = {"objects": objects}
    if draw(st.booleans()):
        wrapper = {"type": "bundle", "id": "bundle--6f4e1d2c-1111-4222-8333-444455556666", **wrapper}
    for key, value in draw(st.lists(st.tuples(st.sampled_from(["more", "next", "type", "x"]), _JSON), max_size=2)):
        wrapper[key] = value
    body = json.dumps(wrapper, ensure_ascii=draw(st.booleans())).encode()
    damage = draw(st.sampled_from(["none", "none", "cut", "insert", "deep", "number"]))
    at = draw(st.integers(0, max(0, len(body) - 1)))
    if damage == "cut":
        body = body[:at]
    elif damage == "insert":
        body = body[:at] + draw(st.binary(min_size=1, max_size=8)) + body[at:]
    elif damage == "deep":
        depth = draw(st.integers(90, 5000))
        body = b'{"objects": [' + b"[" * depth + b"]" * depth + b"]}"
    elif damage == "number":
        body = b'{"objects": [{"type": "indicator", "confidence": 1' + b"0" * at + b"}]}"
    return body


_PARAMS = st.sampled_from(
    [
        "limit",
        "added_after",
        "next",
        "match[id]",
        "match[type]",
        "match[version]",
        "match[spec_version]",
        "match[x]",
    ]
) | st.text(max_size=10)
_VALUES = st.text(max_size=40) | st.sampled_from(
    ["²", "٣", "9" * 5000, "0", "-1", "1e3", "2026-01-01T00:00:00Z", "last,first,all", ",", "%"]
)


def _query(pairs: list[tuple[str, str]], raw: bytes) -> str:
    text = "&".join(f"{quote(k, safe='[]')}={quote(v, safe='')}" for k, v in pairs)
    if raw:
        text += ("&" if text else "") + "".join(f"%{b:02X}" if b >= 127 or b < 33 or b == 35 else chr(b) for b in raw)
    return text


def _answer_is_fine(r: httpx.Response, what: str) -> None:
    assert r.status_code < 500, f"{what}: {r.status_code} {r.text[:300]}"
    if r.status_code >= 400:
        assert r.headers["content-type"] == TAXII, what
        assert r.json()["http_status"] == str(r.status_code), what


def test_posts_and_queries_of_any_shape_answer_below_500_and_lose_nothing(tmp_path: Path) -> None:
    node, token = Node.init(tmp_path / "n", name="n", org="NATO-CERT", country="BEL")
    c = node.add_collection("fuzz")
    headers = {**auth(token), "Content-Type": TAXII}
    kept = [indicator(name=f"kept {i}") for i in range(20)]
    try:
        with serve(node) as url, httpx.Client(base_url=url, timeout=60) as client:
            objects_url = f"/api/collections/{c.id}/objects/"
            seeded = client.post(objects_url, headers=headers, content=json.dumps({"objects": kept}))
            assert seeded.status_code == 202 and seeded.json()["success_count"] == len(kept)
            before = {
                o["id"]: client.get(f"{objects_url}{o['id']}/", headers=auth(token)).content
                for o in kept
            }

            @_SETTINGS
            @given(_bodies())
            def post(body: bytes) -> None:
                r = client.post(objects_url, headers=headers, content=body)
                _answer_is_fine(r, f"POST {body[:200]!r}")

            @_SETTINGS
            @given(
                st.sampled_from(["objects/", "manifest/", f"objects/{kept[0]['id']}/", f"objects/{kept[0]['id']}/versions/"]),
                st.lists(st.tuples(_PARAMS, _VALUES), max_size=4),
                st.binary(max_size=12),
            )
            def query(endpoint: str, pairs: list[tuple[str, str]], raw: bytes) -> None:
                path = f"/api/collections/{c.id}/{endpoint}?{_query(pairs, raw)}"
                r = client.get(path, headers=auth(token))
                _answer_is_fine(r, f"GET {path[:300]}")

            post()
            query()
            # Nothing already stored was lost or changed: each kept object's first version
            # reads back as it was.
            for o in kept:
                r = client.get(
                    f"{objects_url}{o['id']}/",
                    params={"match[version]": o["modified"]},
                    headers=auth(token),
                )
                assert r.status_code == 200, r.text
                assert r.json()["objects"] == json.loads(before[o["id"]])["objects"]
            assert node.store.count(c.id) >= len(kept)
    finally:
        node.close()
