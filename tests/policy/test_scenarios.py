"""Scenario: real ATT&CK data under releasability markings, read by three allies' analysts.

An administrator of a NATO node posts the ATT&CK Enterprise sample (groups, software,
techniques, mitigations, tactics and the relationships among them), re-marked in six shares:
REL TO NATO, REL TO JPN, NATO, TLP:RED, TLP:CLEAR, TLP:AMBER + REL TO IP4, and unchanged (the
MITRE copyright statement only). The identity that created every object is REL TO JPN, NATO.

The node runs on each store adapter (SQLite, PostgreSQL). Three analysts read the collection
through the OASIS taxii2-client over real HTTP: a French CERT's (FRA: in NATO), a Japanese
CERT's (JPN, declaring IP4) and an Australian partner's (AUS, declaring IP4). Each must
receive exactly its share, page by page: relationships whose source or
target it may not see are withheld, references to the hidden identity are removed, hidden
objects answer 404 on the object and versions endpoints exactly like absent ones, and no
identifier of a hidden object appears in any response body.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from taxii2client.v21 import Collection, Server, as_pages

from kizuna.node import Node
from kizuna.policy.required import is_required
from kizuna.stix.markings import TLP2_IDS, releasability_marking
from kizuna.stix.timestamps import to_micros
from tests.conftest import Live, postgres_database, serve
from tests.helpers import bundle_objects

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

STATEMENT = "marking-definition--fa42a846-8d90-4e51-bc29-71d5b4802168"
NATO = releasability_marking(["NATO"])
JPN_NATO = releasability_marking(["JPN", "NATO"])
IP4 = releasability_marking(["IP4"])

#: share -> (added markings, the analysts who may see it)
SHARES: dict[str, tuple[list[str], set[str]]] = {
    "rel-nato": ([NATO["id"]], {"fra"}),
    "rel-jpn-nato": ([JPN_NATO["id"]], {"fra", "jpn"}),
    "red": ([TLP2_IDS["red"]], set()),
    "clear": ([TLP2_IDS["clear"]], {"fra", "jpn", "aus"}),
    "amber-ip4": ([TLP2_IDS["amber"], IP4["id"]], {"jpn", "aus"}),
    "unchanged": ([], {"fra", "jpn", "aus"}),
}
ANALYSTS = {
    "fra": ("camille", "FRA-CERT"),
    "jpn": ("aiko", "JPN-CERT"),
    "aus": ("olivia", "AUS-ACSC"),
}
ABSENT = "attack-pattern--00000000-0000-4000-8000-00000000dead"


@dataclass
class Scenario:
    url: str
    collection_id: str
    tokens: dict[str, str]
    posted: dict[str, dict[str, Any]]
    share_of: dict[str, str]
    admin_token: str

    def collection(self, who: str) -> Collection:
        user = ANALYSTS[who][0] if who in ANALYSTS else who
        return Collection(
            f"{self.url}/api/collections/{self.collection_id}/",
            user=user,
            password=self.tokens[who],
        )

    def visible_ids(self, who: str) -> set[str]:
        """The objects the analyst may see, derived from the shares alone (not from the gate)."""
        seen = {oid for oid, share in self.share_of.items() if who in SHARES[share][1]}
        changed = True
        while changed:  # relationships need both ends visible
            changed = False
            for oid in list(seen):
                obj = self.posted[oid]
                if obj["type"] == "relationship" and not (
                    obj["source_ref"] in seen and obj["target_ref"] in seen
                ):
                    seen.discard(oid)
                    changed = True
        return seen

    def hidden_ids(self, who: str) -> set[str]:
        return set(self.posted) - self.visible_ids(who)

    def expected(self, who: str) -> dict[str, dict[str, Any]]:
        """Each visible object as the analyst must receive it: refs to hidden objects removed."""
        hidden = self.hidden_ids(who)
        out = {}
        for oid in self.visible_ids(who):
            obj = copy.deepcopy(self.posted[oid])
            for key in list(obj):
                value = obj[key]
                if key.endswith("_ref") and value in hidden:
                    assert not is_required(obj["type"], key), (oid, key)
                    del obj[key]
                elif key.endswith("_refs") and key != "object_marking_refs":
                    kept = [v for v in value if v not in hidden]
                    if kept != value:
                        obj[key] = kept
                        assert kept or not is_required(obj["type"], key)
                        if not kept:
                            del obj[key]
            out[oid] = obj
        return out


@dataclass
class Recorder:
    """Every response one analyst's taxii2-client session received."""

    responses: list[requests.Response] = field(default_factory=list)

    def attach(self, coll: Collection) -> Collection:
        coll._conn.session.hooks["response"].append(self.hook)
        return coll

    def hook(self, r: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.responses.append(r)


def _remark(obj: dict[str, Any], share: str) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    added = SHARES[share][0]
    if added:
        out["object_marking_refs"] = sorted({*out.get("object_marking_refs", []), *added})
    return out


def _build(root: Path, database: str) -> tuple[Node, str, Scenario]:
    node, admin_token = Node.init(
        root / "nato",
        name="nato-hq",
        org="NATO-CERT",
        country="BEL",
        communities=["NATO"],
        database=database,
    )
    node.add_org("FRA-CERT", "FRA")
    node.add_org("JPN-CERT", "JPN", ["IP4"])
    node.add_org("AUS-ACSC", "AUS", ["IP4"])
    c = node.add_collection("ATT&CK shared", description="Enterprise ATT&CK, re-marked")
    tokens = {"admin": admin_token}
    for who, (user, org) in ANALYSTS.items():
        node.grant(c.id, org, read=True, write=False, max_tlp="amber")
        tokens[who] = node.add_user(user, org)

    objects = bundle_objects("enterprise-attack-sample.json.gz")
    order = list(SHARES)
    share_of: dict[str, str] = {}
    posted: dict[str, dict[str, Any]] = {}
    by_type: dict[str, list[dict[str, Any]]] = {}
    for obj in objects:
        by_type.setdefault(obj["type"], []).append(obj)
    for otype, objs in sorted(by_type.items()):
        for i, obj in enumerate(sorted(objs, key=lambda o: o["id"])):
            if otype == "marking-definition":
                share = "unchanged"
            elif otype == "identity":
                share = "rel-jpn-nato"
            else:
                share = order[(i + len(otype)) % len(order)]
            share_of[obj["id"]] = share
            posted[obj["id"]] = _remark(obj, share)
    for m in (NATO, JPN_NATO, IP4):
        share_of[m["id"]] = "unchanged"
        posted[m["id"]] = m
    return node, admin_token, Scenario("", c.id, tokens, posted, share_of, admin_token)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def scenario(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Scenario]:
    """The node, on each store adapter, with the re-marked sample posted by its admin."""
    with ExitStack() as stack:
        database = "" if request.param == "sqlite" else stack.enter_context(postgres_database())
        yield stack.enter_context(_posted(tmp_path_factory.mktemp("scenario"), database))


@contextmanager
def _posted(root: Path, database: str) -> Iterator[Scenario]:
    node, _, sc = _build(root, database)
    try:
        with serve(node) as url:
            sc.url = url
            admin = sc.collection("admin")
            # The REL TO marking-definitions travel in the same envelope as what they mark.
            status = admin.add_objects(json.dumps({"objects": list(sc.posted.values())}))
            assert status.status == "complete"
            assert status.failure_count == 0, status.failures[:3]
            assert status.success_count == len(sc.posted)
            yield sc
    finally:
        node.close()


def test_the_shares_are_not_trivial(scenario: Scenario) -> None:
    counts = {who: len(scenario.visible_ids(who)) for who in ANALYSTS}
    total = len(scenario.posted)
    assert len(set(counts.values())) == 3, counts
    assert all(100 < n < total for n in counts.values()), counts
    # Some relationships are withheld only because one end is hidden.
    for who in ANALYSTS:
        withheld = [
            oid
            for oid in scenario.hidden_ids(who)
            if scenario.posted[oid]["type"] == "relationship"
            and who in SHARES[scenario.share_of[oid]][1]
        ]
        assert len(withheld) > 10, who


def test_admin_reads_everything(scenario: Scenario) -> None:
    coll = scenario.collection("admin")
    got = [o for page in as_pages(coll.get_objects, per_request=500) for o in page["objects"]]
    assert {o["id"]: o for o in got} == scenario.posted


@pytest.mark.parametrize("who", list(ANALYSTS))
@pytest.mark.parametrize("per_request", [37, 100])
def test_each_analyst_pages_through_exactly_its_share(
    scenario: Scenario, who: str, per_request: int
) -> None:
    rec = Recorder()
    coll = rec.attach(scenario.collection(who))
    expected = scenario.expected(who)
    pages = list(as_pages(coll.get_objects, per_request=per_request))
    assert len(pages) == -(-len(expected) // per_request)
    got: dict[str, dict[str, Any]] = {}
    for n, page in enumerate(pages):
        last = n == len(pages) - 1
        objs = page.get("objects", [])
        assert page["more"] is (not last)
        assert ("next" in page) is (not last)
        if not last:
            assert len(objs) == per_request
        else:
            assert 0 < len(objs) <= per_request
        for o in objs:
            assert o["id"] not in got, "an object came twice"
            got[o["id"]] = o
    assert set(got) == set(expected)
    for oid, obj in got.items():
        assert obj == expected[oid], oid

    # The manifest pages over the same objects, with dates that match the page headers.
    manifest: dict[str, dict[str, Any]] = {}
    for page in as_pages(coll.get_manifest, per_request=per_request):
        for record in page.get("objects", []):
            manifest[record["id"]] = record
    assert set(manifest) == set(expected)
    for oid, record in manifest.items():
        assert to_micros(record["version"]) == _stamp(expected[oid]), oid
    object_pages = [r for r in rec.responses if "/objects/" in r.url and r.request.method == "GET"]
    assert len(object_pages) == len(pages)
    for response, page in zip(object_pages, pages, strict=True):
        objs = page["objects"]
        assert response.headers["X-TAXII-Date-Added-First"] == manifest[objs[0]["id"]]["date_added"]
        assert response.headers["X-TAXII-Date-Added-Last"] == manifest[objs[-1]["id"]]["date_added"]
    _assert_no_hidden_ids(scenario, who, rec)


@pytest.mark.parametrize("who", list(ANALYSTS))
def test_relationships_filter_pages_only_visible_ones(scenario: Scenario, who: str) -> None:
    rec = Recorder()
    coll = rec.attach(scenario.collection(who))
    expected = {oid for oid, o in scenario.expected(who).items() if o["type"] == "relationship"}
    sizes = []
    got: set[str] = set()
    for page in as_pages(coll.get_objects, per_request=25, type="relationship"):
        sizes.append(len(page.get("objects", [])))
        got |= {o["id"] for o in page.get("objects", [])}
    assert got == expected
    assert sizes == [25] * (len(expected) // 25) + (
        [len(expected) % 25] if len(expected) % 25 else []
    )
    _assert_no_hidden_ids(scenario, who, rec)


@pytest.mark.parametrize("who", list(ANALYSTS))
def test_hidden_objects_look_absent(scenario: Scenario, who: str) -> None:
    rec = Recorder()
    coll = rec.attach(scenario.collection(who))
    hidden = sorted(scenario.hidden_ids(who))
    # A sample from every reason to be hidden: each share it is not in, and withheld relationships.
    sample: list[str] = []
    for share in SHARES:
        sample += [oid for oid in hidden if scenario.share_of[oid] == share][:3]
    sample += [
        oid
        for oid in hidden
        if scenario.posted[oid]["type"] == "relationship"
        and who in SHARES[scenario.share_of[oid]][1]
    ][:3]
    assert len(sample) >= 6

    absent = _answers(coll, ABSENT)
    for oid in sample:
        assert _answers(coll, oid) == {k: v.replace(ABSENT, oid) for k, v in absent.items()}, oid
    # The 404 messages name the id asked for: the leak check below does see hidden UUIDs.
    hidden_uuids = {oid.split("--", 1)[1] for oid in sample}
    assert any(set(UUID.findall(r.text)) & hidden_uuids for r in rec.responses)

    # Visible objects answer, for contrast, with exactly the expected body.
    expected = scenario.expected(who)
    for oid in sorted(expected)[:5]:
        assert coll.get_object(oid)["objects"] == [expected[oid]]
        assert [to_micros(v) for v in coll.object_versions(oid)["versions"]] == [
            _stamp(expected[oid])
        ]
    _assert_no_hidden_ids(scenario, who, rec)


def test_collections_list_is_per_analyst(scenario: Scenario) -> None:
    outsider_root = Server(f"{scenario.url}/taxii2/", user="aiko", password=scenario.tokens["jpn"])
    ids = {c.id for c in outsider_root.default.collections}
    assert scenario.collection_id in ids
    shared = next(c for c in outsider_root.default.collections if c.id == scenario.collection_id)
    assert shared.can_read and not shared.can_write


# -- helpers -----------------------------------------------------------------------------------


def _stamp(obj: dict[str, Any]) -> int:
    """The TAXII version of an object (its modified, else created), in microseconds."""
    return to_micros(obj.get("modified") or obj["created"])


def _answers(coll: Collection, oid: str) -> dict[str, str]:
    """What every endpoint answers about *oid*: status and body, as text."""
    out = {}
    for name, call in (
        ("object", lambda: coll.get_object(oid)),
        ("object-all", lambda: coll.get_object(oid, version="all")),
        ("versions", lambda: coll.object_versions(oid)),
        ("objects-match", lambda: coll.get_objects(id=oid)),
        ("manifest-match", lambda: coll.get_manifest(id=oid)),
    ):
        try:
            out[name] = "200 " + json.dumps(call(), sort_keys=True)
        except requests.exceptions.HTTPError as exc:
            assert exc.response is not None
            out[name] = f"{exc.response.status_code} {exc.response.text}"
    return out


def _assert_no_hidden_ids(scenario: Scenario, who: str, rec: Recorder) -> None:
    """No UUID of a hidden object in any body (other than the one the request itself named)."""
    hidden = {oid.split("--", 1)[1] for oid in scenario.hidden_ids(who)}
    assert rec.responses
    for r in rec.responses:
        asked = set(UUID.findall(requests.utils.unquote(r.url)))
        leaked = (set(UUID.findall(r.text)) & hidden) - asked
        assert not leaked, (r.url, sorted(leaked)[:3])


UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def test_version_filters_see_only_visible_versions(live: Live) -> None:
    """One technique re-marked across releases: each analyst's first, last, all, a given
    version, the versions list and the manifest count only the versions it may see."""
    node = live.node
    node.add_org("FRA-CERT", "FRA")
    node.add_org("JPN-CERT", "JPN", ["IP4"])
    c = node.add_collection("history")
    tokens = {"admin": live.token}
    for user, org in (("camille", "FRA-CERT"), ("aiko", "JPN-CERT")):
        node.grant(c.id, org, read=True, write=False)
        tokens[user] = node.add_user(user, org)
    sample = bundle_objects("enterprise-attack-sample.json.gz")
    technique = next(o for o in sample if o["type"] == "attack-pattern")
    statement = next(o for o in sample if o["id"] == STATEMENT)
    stamps = ["2026-01-01T00:00:00.000Z", "2026-02-01T00:00:00.000Z", "2026-03-01T00:00:00.000Z"]
    marks = [[NATO["id"]], [JPN_NATO["id"]], [IP4["id"]]]
    versions = [
        {**technique, "modified": stamp, "object_marking_refs": [STATEMENT, *m]}
        for stamp, m in zip(stamps, marks, strict=True)
    ]
    admin = Collection(f"{live.api}collections/{c.id}/", user="admin", password=live.token)
    status = admin.add_objects(json.dumps({"objects": [statement, NATO, JPN_NATO, IP4, *versions]}))
    assert status.failure_count == 0, status.failures
    seen = {"camille": [0, 1], "aiko": [1, 2]}
    for user, visible in seen.items():
        coll = Collection(f"{live.api}collections/{c.id}/", user=user, password=tokens[user])
        oid = technique["id"]
        mine = [versions[i] for i in visible]
        assert coll.get_object(oid, version="first")["objects"] == [mine[0]]
        assert coll.get_object(oid)["objects"] == [mine[-1]]
        assert coll.get_object(oid, version="all")["objects"] == mine
        for i, v in enumerate(versions):
            if i in visible:
                assert coll.get_object(oid, version=v["modified"])["objects"] == [v]
            else:  # an empty answer, the same as for a version that never existed
                assert coll.get_object(oid, version=v["modified"]) == {}
                assert coll.get_object(oid, version="2025-01-01T00:00:00.000Z") == {}
        listed = coll.object_versions(oid)["versions"]
        assert [to_micros(v) for v in listed] == [to_micros(v["modified"]) for v in mine]
        manifest = coll.get_manifest(id=oid, version="all")["objects"]
        assert [to_micros(r["version"]) for r in manifest] == [
            to_micros(v["modified"]) for v in mine
        ]
        assert coll.get_objects(id=oid, version="all")["objects"] == mine
