"""The related extension endpoint over HTTP: what ``related`` answers, paged, through the
gate; an absent or hidden object answers the same 404, and a hidden carrier of the value is
neither listed nor counted."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from kizuna.cyber.benign import stored_benign
from kizuna.cyber.correlate import related
from kizuna.stix.markings import releasability_marking
from tests.conftest import Live
from tests.helpers import TAXII, auth, envelope, indicator

POST = {"Content-Type": TAXII}
NATO = releasability_marking(["NATO"])


def _domain(value: str, markings: list[str] | None = None) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": "domain-name",
        "spec_version": "2.1",
        "id": f"domain-name--{uuid.uuid4()}",
        "value": value,
    }
    if markings:
        obj["object_marking_refs"] = markings
    return obj


@pytest.fixture
def site(live: Live) -> tuple[Live, str, str, str]:
    """Two collections JPN-CERT's aiko may read, one it may not; REL TO NATO is hidden from it."""
    node = live.node
    shared = node.add_collection("Shared")
    other = node.add_collection("Other")
    closed = node.add_collection("Closed")
    node.add_org("JPN-CERT", "JPN", ["IP4"])
    node.grant(shared.id, "JPN-CERT", read=True, write=False, max_tlp="amber")
    node.grant(other.id, "JPN-CERT", read=True, write=False, max_tlp="amber")
    return live, shared.id, other.id, closed.id + " " + node.add_user("aiko", "JPN-CERT")


def _post(live: Live, cid: str, objects: list[dict[str, Any]]) -> None:
    r = httpx.post(f"{live.api}collections/{cid}/objects/", content=envelope(objects),
                   headers={**auth(live.token), **POST})
    assert r.status_code == 202 and r.json()["failure_count"] == 0, r.text


def _get(live: Live, token: str, cid: str, oid: str, **params: Any) -> httpx.Response:
    return httpx.get(f"{live.api}collections/{cid}/objects/{oid}/related/", params=params,
                     headers=auth(token))


def test_related_answers_what_the_function_answers_paged_and_gated(
    site: tuple[Live, str, str, str],
) -> None:
    live, shared, other, rest = site
    closed, aiko = rest.split(" ")
    target = indicator(pattern="[domain-name:value = 'c2.example']")
    seen = [_domain("C2.Example."), _domain("c2.example")]
    elsewhere = _domain("c2.example")
    hidden_marked = _domain("c2.example", [NATO["id"]])
    hidden_closed = _domain("c2.example")
    unrelated = _domain("other.example")
    _post(live, shared, [NATO, target, *seen, hidden_marked, unrelated])
    _post(live, other, [elsewhere])
    _post(live, closed, [hidden_closed])

    got: list[dict[str, Any]] = []
    r = _get(live, aiko, shared, target["id"], limit=1)
    pages = 0
    while True:
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["id"] == target["id"]
        assert len(body["related"]) <= 1
        got.extend(body["related"])
        pages += 1
        if not body["more"]:
            assert "next" not in body
            break
        r = _get(live, aiko, shared, target["id"], limit=1, next=body["next"])
    assert pages >= 3
    want = {seen[0]["id"], seen[1]["id"], elsewhere["id"]}
    assert {g["object"] for g in got} == want
    assert all(g["relation"] == "same value" for g in got)
    assert {g["collection"] for g in got} == {shared, other}
    assert {g["value"]["value"] for g in got} == {"c2.example"}

    # The same function, the same answer.
    node = live.node
    principal = node.snapshot().principal_for(node.store.user("aiko"))  # type: ignore[arg-type]
    page = related(node, principal, target["id"], limit=1000, benign=stored_benign(node.store))
    assert [r.to_json() for r in page.items] == got

    # The admin sees every carrier.
    everything = _get(live, live.token, shared, target["id"]).json()["related"]
    assert {g["object"] for g in everything} == want | {hidden_marked["id"], hidden_closed["id"]}


def test_absent_and_hidden_objects_answer_the_same_404(site: tuple[Live, str, str, str]) -> None:
    live, shared, other, rest = site
    closed, aiko = rest.split(" ")
    hidden = _domain("c2.example", [NATO["id"]])
    in_closed = _domain("c2.example")
    visible = _domain("c2.example")
    _post(live, shared, [NATO, hidden, visible])
    _post(live, closed, [in_closed])
    answers = []
    for oid in (hidden["id"], f"domain-name--{uuid.uuid4()}"):
        r = _get(live, aiko, shared, oid)
        assert r.status_code == 404
        answers.append(r.json()["description"].replace(oid, "X"))
    assert answers[0] == answers[1]
    # An object visible in another collection is not "in" this one.
    assert _get(live, aiko, other, visible["id"]).status_code == 404
    # A collection the caller may not read is 404 as if absent.
    assert _get(live, aiko, closed, in_closed["id"]).status_code == 404


def test_bad_parameters_are_refused(site: tuple[Live, str, str, str]) -> None:
    live, shared, _, rest = site
    _, aiko = rest.split(" ")
    obj = _domain("c2.example")
    _post(live, shared, [obj])
    for params in ({"limit": "0"}, {"limit": "x"}, {"limit": "100001"}, {"match[type]": "file"}):
        r = _get(live, aiko, shared, obj["id"], **params)
        assert r.status_code == 400, (params, r.text)
    r = _get(live, aiko, shared, obj["id"], next="forged.token")
    assert r.status_code == 400
    # A cursor issued for another object is refused.
    _post(live, shared, [_domain("c2.example"), _domain("c2.example")])
    first = _get(live, aiko, shared, obj["id"], limit=1).json()
    assert first["more"]
    twin = first["related"][0]["object"]
    r = _get(live, aiko, shared, twin, limit=1, next=first["next"])
    assert r.status_code == 400
