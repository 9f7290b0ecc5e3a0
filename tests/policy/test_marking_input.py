"""Bad markings at the door, over real HTTP: each a clear per-object failure, nothing stored.

Every case posts a TAXII envelope to a real server on 127.0.0.1, reads the status resource
back (the POST answer and GET /status/{id}/ must agree), and checks what the store holds
afterwards: a failed object left no trace, the rest of the envelope and everything stored
before are intact. Rule 6 of docs/policy.md.
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from kizuna.stix.markings import TLP2_IDS, releasability_id, releasability_marking, tlp_marking
from tests.conftest import Live
from tests.helpers import TAXII, envelope, indicator

NEVER_STORED = "marking-definition--5b0b8ac5-7e40-4b1e-8a8e-6f6a0c5c9f01"
NATO = releasability_marking(["NATO"])
JPN = releasability_marking(["JPN"])


@dataclass
class Site:
    live: Live
    cid: str
    tokens: dict[str, str]

    def post(
        self, who: str, objects: list[dict[str, Any]], cid: str | None = None
    ) -> dict[str, Any]:
        """POST an envelope as *who*; the status, checked against GET /status/{id}/."""
        headers = {
            "Authorization": f"Bearer {self.tokens[who]}",
            "Accept": TAXII,
            "Content-Type": TAXII,
        }
        url = f"{self.live.api}collections/{cid or self.cid}/objects/"
        r = httpx.post(url, content=envelope(objects), headers=headers)
        assert r.status_code == 202, r.text
        status: dict[str, Any] = r.json()
        again = httpx.get(f"{self.live.api}status/{status['id']}/", headers=headers)
        assert again.status_code == 200 and again.json() == status
        assert status["status"] == "complete"
        assert status["total_count"] == len(objects)
        assert status["success_count"] + status["failure_count"] == len(objects)
        return status

    def get(
        self, who: str, oid: str, cid: str | None = None, **params: str
    ) -> list[dict[str, Any]]:
        """The versions of *oid* that *who* receives ([] on 404)."""
        r = httpx.get(
            f"{self.live.api}collections/{cid or self.cid}/objects/{oid}/",
            params=params,
            headers={"Authorization": f"Bearer {self.tokens[who]}", "Accept": TAXII},
        )
        if r.status_code == 404:
            return []
        assert r.status_code == 200, r.text
        objects: list[dict[str, Any]] = r.json()["objects"]
        return objects

    def count(self) -> int:
        return self.live.node.store.count(self.cid)


@pytest.fixture
def site(live: Live) -> Site:
    node = live.node
    node.add_org("FRA-CERT", "FRA")
    node.add_org("JPN-CERT", "JPN", ["IP4"])
    c = node.add_collection("Shared")
    tokens = {"admin": live.token}
    for user, org in (("camille", "FRA-CERT"), ("aiko", "JPN-CERT")):
        node.grant(c.id, org, read=True, write=True, max_tlp="amber")
        tokens[user] = node.add_user(user, org)
    return Site(live, c.id, tokens)


def failure(status: dict[str, Any], oid: str) -> str:
    found = [f for f in status["failures"] if f.get("id") == oid]
    assert len(found) == 1, (oid, status["failures"], status["successes"])
    assert not any(s["id"] == oid for s in status["successes"])
    message = found[0]["message"]
    assert isinstance(message, str)
    return message


def succeeded(status: dict[str, Any], oid: str) -> str:
    found = [s for s in status["successes"] if s["id"] == oid]
    assert len(found) == 1, (oid, status["failures"])
    message = found[0]["message"]
    assert isinstance(message, str)
    return message


# -- unknown markings ------------------------------------------------------------------------


def test_marking_never_stored_fails_and_nothing_is_stored(site: Site) -> None:
    bad = indicator(markings=[NEVER_STORED])
    bad_granular = indicator(
        granular_markings=[{"marking_ref": NEVER_STORED, "selectors": ["description"]}],
        description="x",
    )
    good = indicator()
    before = site.count()
    status = site.post("admin", [bad, good, bad_granular])
    for obj in (bad, bad_granular):
        message = failure(status, obj["id"])
        assert NEVER_STORED in message and "not stored on this node" in message
        assert "send its marking-definition" in message
        assert site.get("admin", obj["id"]) == []
    succeeded(status, good["id"])
    assert site.count() == before + 1


def test_marking_definition_sent_later_makes_the_object_acceptable(site: Site) -> None:
    obj = indicator(markings=[JPN["id"]])
    status = site.post("admin", [obj])
    assert "not stored on this node" in failure(status, obj["id"])
    assert site.live.node.store.marking_definition(JPN["id"]) is None
    # First the definition, then the object; or both in one envelope.
    assert site.post("admin", [JPN])["failure_count"] == 0
    status = site.post("admin", [obj])
    assert succeeded(status, obj["id"]) == "stored"
    other = indicator(markings=[NATO["id"]])
    status = site.post("admin", [other, NATO])
    assert status["failure_count"] == 0, status["failures"]


@pytest.mark.parametrize(
    ("refs", "expected"),
    [
        (["indicator--5b0b8ac5-7e40-4b1e-8a8e-6f6a0c5c9f01"], "object_marking_refs"),
        (["TLP:RED"], "object_marking_refs"),
        ("marking-definition--5b0b8ac5-7e40-4b1e-8a8e-6f6a0c5c9f01", "object_marking_refs"),
        ([], "object_marking_refs"),
    ],
)
def test_malformed_marking_refs_are_invalid(site: Site, refs: Any, expected: str) -> None:
    obj = indicator()
    obj["object_marking_refs"] = refs
    status = site.post("admin", [obj])
    message = failure(status, obj["id"])
    assert message.startswith("invalid STIX 2.1") and expected in message, message
    assert site.get("admin", obj["id"]) == []


def test_marking_definition_of_an_unknown_kind_cannot_be_used(site: Site) -> None:
    custom = {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": f"marking-definition--{uuid.uuid4()}",
        "created": "2026-01-01T00:00:00.000Z",
        "definition_type": "x-secret-level",
        "definition": {"level": "secret"},
    }
    obj = indicator(markings=[custom["id"]])
    status = site.post("admin", [custom, obj])
    assert "not usable" in failure(status, custom["id"])
    assert "was refused in this envelope" in failure(status, obj["id"])
    assert site.live.node.store.marking_definition(custom["id"]) is None


# -- granular selectors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "selectors",
    [["descriptoin"], ["external_references.[5].url"], [], [""], ["name.[0]"], [7]],
)
def test_malformed_granular_selectors(site: Site, selectors: list[Any]) -> None:
    obj = indicator(
        description="seen in phishing",
        external_references=[{"source_name": "a", "url": "https://a.example"}],
        granular_markings=[{"marking_ref": TLP2_IDS["green"], "selectors": selectors}],
    )
    good = indicator()
    status = site.post("admin", [obj, good])
    message = failure(status, obj["id"])
    assert message.startswith("invalid STIX 2.1") and "granular_markings[0].selectors" in message
    assert site.get("admin", obj["id"]) == []
    succeeded(status, good["id"])


# -- releasability markings ------------------------------------------------------------------


@pytest.mark.parametrize("codes", [["NATO", "XYZ"], ["PACIFIC-PACT"], ["JPN", "ZZZ", "QQQ"]])
def test_releasability_marking_with_unknown_codes(site: Site, codes: list[str]) -> None:
    marking = releasability_marking(codes)
    obj = indicator(markings=[marking["id"]])
    status = site.post("admin", [marking, obj])
    message = failure(status, marking["id"])
    assert "unknown code(s)" in message and "ISO 3166 alpha-3" in message
    for code in codes:
        if code not in ("NATO", "JPN"):
            assert code in message
    assert "was refused in this envelope" in failure(status, obj["id"])
    assert site.live.node.store.marking_definition(marking["id"]) is None
    assert site.get("admin", obj["id"]) == []


def test_releasability_marking_whose_id_does_not_match_its_codes(site: Site) -> None:
    forged = copy.deepcopy(JPN)
    ext = next(iter(forged["extensions"].values()))
    ext["rel_to"] = ["JPN", "NATO"]
    forged["name"] = "REL TO JPN, NATO"
    status = site.post("admin", [forged])
    message = failure(status, forged["id"])
    assert "does not match its content" in message
    assert site.live.node.store.marking_definition(forged["id"]) is None
    # The genuine one is accepted.
    assert site.post("admin", [JPN])["failure_count"] == 0
    assert releasability_id(["jpn"]) == JPN["id"]


# -- marking-definitions are immutable -----------------------------------------------------


def test_marking_definitions_are_immutable_and_reposting_is_idempotent(site: Site) -> None:
    statement = {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": f"marking-definition--{uuid.uuid4()}",
        "created": "2026-01-01T00:00:00.000Z",
        "definition_type": "statement",
        "definition": {"statement": "Copyright 2026 JPN-CERT"},
    }
    assert succeeded(site.post("admin", [statement]), statement["id"]) == "stored"
    stored = site.live.node.store.marking_definition(statement["id"])
    # The same content again: success, nothing new.
    before = site.count()
    message = succeeded(site.post("admin", [statement]), statement["id"])
    assert "already stored" in message
    assert site.count() == before
    # Different content under the same id: refused, the stored one unchanged.
    changed = copy.deepcopy(statement)
    changed["definition"]["statement"] = "Copyright 2027 JPN-CERT"
    assert "immutable" in failure(site.post("admin", [changed]), statement["id"])
    assert site.live.node.store.marking_definition(statement["id"]) == stored
    assert site.get("admin", statement["id"]) == [statement]


def test_tlp_definitions_cannot_be_redefined(site: Site) -> None:
    red = tlp_marking("red")
    red["name"] = "TLP:CLEAR"
    red["extensions"][next(iter(red["extensions"]))]["tlp_2_0"] = "clear"
    assert "immutable" in failure(site.post("admin", [red]), red["id"])
    # Objects marked TLP:RED stay hidden from amber readers.
    obj = indicator(markings=[TLP2_IDS["red"]])
    site.post("admin", [obj])
    assert site.get("camille", obj["id"]) == []


# -- the writer must be able to read what it writes -----------------------------------------


def test_writer_may_not_post_what_it_could_not_read(site: Site) -> None:
    site.post("admin", [NATO])
    cases = [
        indicator(markings=[NATO["id"]]),
        indicator(markings=[TLP2_IDS["red"]]),
        indicator(markings=[TLP2_IDS["amber+strict"]]),
        indicator(
            description="only for NATO",
            granular_markings=[{"marking_ref": NATO["id"], "selectors": ["description"]}],
        ),
    ]
    readable = indicator(markings=[TLP2_IDS["amber"]])
    before = site.count()
    status = site.post("aiko", [*cases, readable])
    for obj in cases:
        message = failure(status, obj["id"])
        assert "whose markings you could read yourself" in message and "JPN-CERT" in message
        assert site.get("admin", obj["id"]) == []
    succeeded(status, readable["id"])
    assert site.count() == before + 1
    # The French analyst may write REL TO NATO.
    assert site.post("camille", [cases[0]])["failure_count"] == 0


def test_peer_account_may_not_write_what_may_not_leave_for_it(site: Site) -> None:
    """A peer node's account is held to the onward-sharing rules on writes too."""
    node = site.live.node
    node.grant(site.cid, "JPN-CERT", read=True, write=True, max_tlp="red")
    site.tokens["jpn-node"] = node.add_user("jpn-node", "JPN-CERT", peer=True)
    red = indicator(markings=[TLP2_IDS["red"]])
    strict = indicator(markings=[TLP2_IDS["amber+strict"]])
    amber = indicator(markings=[TLP2_IDS["amber"]])
    status = site.post("jpn-node", [red, strict, amber])
    for obj in (red, strict):
        assert "could read yourself" in failure(status, obj["id"])
        assert site.get("admin", obj["id"]) == []
    succeeded(status, amber["id"])
    # The organization's analysts, with the same grant, may.
    assert site.post("aiko", [red, strict])["failure_count"] == 0


def test_reader_without_write_grant_is_forbidden(site: Site) -> None:
    site.live.node.grant(site.cid, "JPN-CERT", read=True, write=False)
    r = httpx.post(
        f"{site.live.api}collections/{site.cid}/objects/",
        content=envelope([indicator()]),
        headers={
            "Authorization": f"Bearer {site.tokens['aiko']}",
            "Accept": TAXII,
            "Content-Type": TAXII,
        },
    )
    assert r.status_code == 403 and "may read but not write" in r.json()["title"] + r.text
    assert site.count() == 0


# -- annotations no more releasable than what they annotate ---------------------------------


def _note(refs: list[str], markings: list[str] | None = None, kind: str = "note") -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": kind,
        "spec_version": "2.1",
        "id": f"{kind}--{uuid.uuid4()}",
        "created": "2026-01-02T00:00:00.000Z",
        "modified": "2026-01-02T00:00:00.000Z",
        "object_refs": refs,
    }
    if kind == "note":
        obj["content"] = "also seen in our sector"
    else:
        obj["opinion"] = "agree"
    if markings:
        obj["object_marking_refs"] = markings
    return obj


def test_note_or_opinion_more_releasable_than_its_object(site: Site) -> None:
    site.post("admin", [JPN, NATO, releasability_marking(["JPN", "NATO"])])
    target = indicator(markings=[JPN["id"]])
    assert site.post("admin", [target])["failure_count"] == 0
    jpn_nato = releasability_id(["JPN", "NATO"])
    too_open = [
        _note([target["id"]]),
        _note([target["id"]], [jpn_nato]),
        _note([target["id"]], [TLP2_IDS["clear"]]),
        _note([target["id"]], [jpn_nato], kind="opinion"),
    ]
    fine = [
        _note([target["id"]], [JPN["id"]]),
        _note([target["id"]], [JPN["id"], TLP2_IDS["green"]], kind="opinion"),
    ]
    status = site.post("aiko", [*too_open, *fine])
    for obj in too_open:
        message = failure(status, obj["id"])
        assert "may not be more releasable than its sources" in message
        assert target["id"] in message
        assert site.get("admin", obj["id"]) == []
    for obj in fine:
        succeeded(status, obj["id"])
        assert site.get("aiko", obj["id"]) == [obj]


def test_annotation_checked_against_an_object_in_the_same_envelope(site: Site) -> None:
    site.post("admin", [NATO])
    target = indicator(markings=[NATO["id"]])
    note = _note([target["id"]])
    status = site.post("admin", [target, note])
    succeeded(status, target["id"])
    assert "more releasable" in failure(status, note["id"])


def test_annotation_checked_against_the_latest_version(site: Site) -> None:
    site.post("admin", [NATO])
    v1 = indicator(created="2026-01-01T00:00:00.000Z")
    v2 = copy.deepcopy(v1)
    v2["modified"] = "2026-01-05T00:00:00.000Z"
    v2["object_marking_refs"] = [NATO["id"]]
    assert site.post("admin", [v1, v2])["failure_count"] == 0
    note = _note([v1["id"]])
    assert "more releasable" in failure(site.post("admin", [note]), note["id"])


def test_annotation_on_an_object_hidden_from_the_writer_reveals_nothing(site: Site) -> None:
    """The check counts only what the writer may see: a refusal would reveal the object."""
    site.post("admin", [NATO])
    hidden = indicator(markings=[NATO["id"]])
    site.post("admin", [hidden])
    absent = f"indicator--{uuid.uuid4()}"
    on_hidden = _note([hidden["id"]])
    on_absent = _note([absent])
    status = site.post("aiko", [on_hidden, on_absent])
    assert [s["message"] for s in status["successes"]] == ["stored", "stored"]
    # Readers who may not see the object do not receive the note (its only ref is hidden);
    # those who may see both receive it whole (its writer could not have seen the object, so
    # the note cannot carry anything of it).
    assert site.get("aiko", on_hidden["id"]) == []
    assert site.get("camille", on_hidden["id"]) == [on_hidden]
    assert site.get("admin", on_hidden["id"]) == [on_hidden]


# -- collection default markings ----------------------------------------------------------


def test_collection_default_markings_are_stamped_on_unmarked_objects(site: Site) -> None:
    node = site.live.node
    assert site.post("admin", [NATO, JPN])["failure_count"] == 0
    c = node.add_collection("NATO defaults", default_markings=(TLP2_IDS["green"], NATO["id"]))
    for org in ("FRA-CERT", "JPN-CERT"):
        node.grant(c.id, org, read=True, write=True, max_tlp="amber")
    unmarked = indicator()
    marked = indicator(markings=[JPN["id"]])
    statement = {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": f"marking-definition--{uuid.uuid4()}",
        "created": "2026-01-01T00:00:00.000Z",
        "definition_type": "statement",
        "definition": {"statement": "Copyright 2026 NATO-CERT"},
    }
    status = site.post("admin", [unmarked, marked, statement], cid=c.id)
    assert status["failure_count"] == 0, status["failures"]
    got = site.get("admin", unmarked["id"], cid=c.id)
    assert got == [{**unmarked, "object_marking_refs": [TLP2_IDS["green"], NATO["id"]]}]
    # The stamped markings decide who sees it.
    assert site.get("camille", unmarked["id"], cid=c.id) == got
    assert site.get("aiko", unmarked["id"], cid=c.id) == []
    # A marked object keeps its own markings; a marking-definition is never stamped.
    assert site.get("aiko", marked["id"], cid=c.id) == [marked]
    assert site.get("admin", statement["id"], cid=c.id) == [statement]
    # A writer may not post into defaults it could not read itself.
    mine = indicator()
    message = failure(site.post("aiko", [mine], cid=c.id), mine["id"])
    assert "whose markings you could read yourself" in message
    assert site.get("admin", mine["id"], cid=c.id) == []


# -- nothing already stored is lost ---------------------------------------------------------


def test_a_failed_new_version_leaves_the_stored_one_intact(site: Site) -> None:
    site.post("admin", [JPN, NATO])
    v1 = indicator(markings=[JPN["id"]], created="2026-01-01T00:00:00.000Z")
    assert site.post("aiko", [v1])["failure_count"] == 0
    before = site.count()
    v2 = copy.deepcopy(v1)
    v2["modified"] = "2026-02-01T00:00:00.000Z"
    v2["object_marking_refs"] = [NATO["id"]]  # JPN-CERT may not write what it cannot read
    v2_unknown = copy.deepcopy(v1)
    v2_unknown["modified"] = "2026-03-01T00:00:00.000Z"
    v2_unknown["object_marking_refs"] = [NEVER_STORED]
    status = site.post("aiko", [v2, v2_unknown])
    assert status["failure_count"] == 2 and status["success_count"] == 0
    assert site.count() == before
    assert site.get("aiko", v1["id"], **{"match[version]": "all"}) == [v1]
    assert site.get("admin", v1["id"], **{"match[version]": "all"}) == [v1]
    # The same version again (even with other markings) changes nothing.
    same = copy.deepcopy(v1)
    same["object_marking_refs"] = [TLP2_IDS["clear"]]
    message = succeeded(site.post("admin", [same]), v1["id"])
    assert "already stored" in message
    assert site.get("admin", v1["id"], **{"match[version]": "all"}) == [v1]


def test_same_version_hidden_from_the_writer_is_not_an_oracle(site: Site) -> None:
    site.post("admin", [JPN, NATO])
    theirs = indicator(markings=[NATO["id"]])
    site.post("admin", [theirs])
    mine = {**theirs, "object_marking_refs": [JPN["id"]]}
    fresh = {**mine, "id": f"indicator--{uuid.uuid4()}"}
    hidden_answer = site.post("aiko", [mine])["successes"]
    fresh_answer = site.post("aiko", [fresh])["successes"]
    assert [s["message"] for s in hidden_answer] == [s["message"] for s in fresh_answer]
    assert site.get("aiko", mine["id"]) == [mine]
