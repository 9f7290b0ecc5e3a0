"""A POST may send a STIX bundle; a filter that matches no version of a visible object answers
an empty envelope, while an absent or hidden object stays a 404, the same for both."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from kizuna.stix.markings import TLP2_IDS, releasability_marking
from tests.conftest import Live
from tests.helpers import TAXII, auth, envelope, indicator

POST = {"Content-Type": TAXII}
NATO = releasability_marking(["NATO"])


@pytest.fixture
def site(live: Live) -> tuple[Live, str, str]:
    """A collection the admin fills and JPN-CERT's aiko reads (REL TO NATO is hidden from it)."""
    node = live.node
    c = node.add_collection("Shared")
    node.add_org("JPN-CERT", "JPN", ["IP4"])
    node.grant(c.id, "JPN-CERT", read=True, write=True, max_tlp="amber")
    return live, c.id, node.add_user("aiko", "JPN-CERT")


def test_a_bundle_is_posted_as_the_envelope_of_its_objects(site: tuple[Live, str, str]) -> None:
    live, cid, aiko = site
    objects = [indicator(), indicator(markings=[TLP2_IDS["green"]])]
    for bundle in (
        {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects[:1]},
        # its id and type go unread, however odd
        {"type": 7, "id": ["not", "an", "id"], "spec_version": "2.0", "objects": objects[1:]},
    ):
        r = httpx.post(f"{live.api}collections/{cid}/objects/", content=json.dumps(bundle),
                       headers={**auth(aiko), **POST})
        assert r.status_code == 202, r.text
        status = r.json()
        assert (status["status"], status["success_count"], status["failure_count"]) == ("complete", 1, 0)
    got = httpx.get(f"{live.api}collections/{cid}/objects/", headers=auth(aiko)).json()
    assert {o["id"] for o in got["objects"]} == {o["id"] for o in objects}
    r = httpx.post(f"{live.api}collections/{cid}/objects/",
                   content=json.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}"}),
                   headers={**auth(aiko), **POST})
    assert r.status_code == 400 and '"objects" list' in r.json()["description"]


def test_a_filter_matching_no_version_of_a_visible_object_is_an_empty_answer(
    site: tuple[Live, str, str],
) -> None:
    live, cid, aiko = site
    seen = indicator()
    hidden = indicator(markings=[NATO["id"]])
    r = httpx.post(f"{live.api}collections/{cid}/objects/", content=envelope([NATO, seen, hidden]),
                   headers={**auth(live.token), **POST})
    assert r.json()["success_count"] == 3
    absent = f"indicator--{uuid.uuid4()}"
    filters = (
        "match[version]=2020-01-01T00:00:00.000Z",
        "match[spec_version]=2.0",
        "added_after=2999-01-01T00:00:00.000Z",
    )
    for query in filters:
        for path in ("", "versions/"):
            if path == "versions/" and query.startswith("match[version]"):
                continue  # the versions endpoint takes no match[version]
            ok = httpx.get(f"{live.api}collections/{cid}/objects/{seen['id']}/{path}?{query}",
                           headers=auth(aiko))
            assert (ok.status_code, ok.json()) == (200, {}), (path, query, ok.text)
            assert "X-TAXII-Date-Added-First" not in ok.headers
            answers = set()
            for oid in (hidden["id"], absent):
                r = httpx.get(f"{live.api}collections/{cid}/objects/{oid}/{path}?{query}",
                              headers=auth(aiko))
                assert r.status_code == 404
                answers.add(r.json()["description"].replace(oid, "ID"))
            assert len(answers) == 1  # hidden and absent say the same
    # without a filter, the visible object is there and the others are not
    assert httpx.get(f"{live.api}collections/{cid}/objects/{seen['id']}/", headers=auth(aiko)).json()["objects"]
    assert httpx.get(f"{live.api}collections/{cid}/objects/{hidden['id']}/versions/",
                     headers=auth(aiko)).status_code == 404
    # the administrator sees the hidden one: a filter that misses is empty for it too
    r = httpx.get(f"{live.api}collections/{cid}/objects/{hidden['id']}/?match[spec_version]=2.0",
                  headers=auth(live.token))
    assert (r.status_code, r.json()) == (200, {})
