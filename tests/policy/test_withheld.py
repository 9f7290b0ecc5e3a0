"""What the fine pass withholds is hidden like what markings hide, on every egress path.

One node per store adapter (SQLite, PostgreSQL), served over real HTTP. The home organization
(FRA, in NATO) posts, as its administrator; a Japanese CERT (JPN) reads with an AMBER grant.
``INDICATOR`` is REL TO NATO (hidden from JPN); everything else is REL TO JPN, NATO, so JPN's
markings admit it, and only the fine pass can withhold it: a relationship whose target is the
hidden indicator, a note on it, a relationship to that note, and the newer version of
a relationship whose older version points at what JPN may see. docs/policy.md, Rules 3 to 7.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from click.testing import CliRunner

from kizuna.cli import main
from kizuna.node import Node
from kizuna.policy.refs import needs_redaction, visibility_refs
from kizuna.stix.markings import releasability_marking
from kizuna.stix.timestamps import to_micros
from kizuna.store.types import NewVersion
from tests.conftest import serve
from tests.helpers import TAXII, auth, envelope, indicator

NATO = releasability_marking(["NATO"])
JPN_NATO = releasability_marking(["JPN", "NATO"])
T0 = "2026-02-01T00:00:00.000Z"
T1 = "2026-02-02T00:00:00.000Z"
T2 = "2026-02-03T00:00:00.000Z"


def _id(kind: str) -> str:
    return f"{kind}--{uuid.uuid4()}"


HIDDEN = _id("indicator")  # REL TO NATO
SEEN = _id("indicator")  # REL TO JPN, NATO
SEEN2 = _id("indicator")
REL_TO_HIDDEN = _id("relationship")  # target: HIDDEN -> withheld from JPN
REL_TO_REL = _id("relationship")  # target: NOTE, withheld -> withheld in turn
NOTE = _id("note")  # on REL_TO_HIDDEN only -> withheld
CHAIN = _id("relationship")  # v1 -> SEEN, v2 -> HIDDEN: JPN's last is v1
LATE = _id("relationship")  # v1 -> HIDDEN, v2 -> SEEN: JPN's first is v2
THING = _id("x-thing")  # custom references to withheld and visible objects
SIGHTING = _id("sighting")  # of SEEN; sighted where a hidden and a visible identity are
SIGHTING_OF_NOTE = _id("sighting")  # of NOTE (withheld) -> withheld
HQ = _id("identity")  # REL TO NATO
PARTNER = _id("identity")
DEEP = _id("x-thing")  # 400 levels of lists around an x_ref (stored before ingest's limit)


def _rel(oid: str, source: str, target: str, modified: str = T0, **extra: Any) -> dict[str, Any]:
    return {
        "type": "relationship",
        "spec_version": "2.1",
        "id": oid,
        "created": T0,
        "modified": modified,
        "relationship_type": "related-to",
        "source_ref": source,
        "target_ref": target,
        "object_marking_refs": [JPN_NATO["id"]],
        **extra,
    }


def objects() -> list[dict[str, Any]]:
    jn = [JPN_NATO["id"]]
    return [
        indicator(oid=HIDDEN, name="hidden", markings=[NATO["id"]], created=T0),
        indicator(oid=SEEN, name="seen", markings=jn, created=T0),
        indicator(oid=SEEN2, name="seen too", markings=jn, created=T0),
        _rel(REL_TO_HIDDEN, SEEN, HIDDEN),
        _rel(REL_TO_REL, SEEN, NOTE),
        {
            "type": "note",
            "spec_version": "2.1",
            "id": NOTE,
            "created": T0,
            "modified": T0,
            "content": "about the hidden relationship",
            "object_refs": [REL_TO_HIDDEN],
            "object_marking_refs": jn,
        },
        _rel(CHAIN, SEEN, SEEN2, T0, description="older, visible"),
        _rel(CHAIN, SEEN, HIDDEN, T1, description="newer, withheld"),
        _rel(LATE, SEEN, HIDDEN, T0, description="first, withheld"),
        _rel(LATE, SEEN, SEEN2, T1, description="second, visible"),
        {
            "type": "x-thing",
            "spec_version": "2.1",
            "id": THING,
            "created": T0,
            "modified": T0,
            "name": "custom",
            "x_target_ref": REL_TO_HIDDEN,
            "x_related_refs": [NOTE, SEEN, REL_TO_REL, SEEN2],
            "x_links": [{"x_peer_ref": REL_TO_REL, "note": "gone"}, {"x_peer_ref": SEEN}],
            "object_marking_refs": jn,
            # Entries that JPN may see: they must follow what they marked.
            "granular_markings": [
                {"marking_ref": JPN_NATO["id"], "selectors": ["x_related_refs.[3]"]},
                {"marking_ref": JPN_NATO["id"], "selectors": ["x_related_refs.[0]", "name"]},
                {"marking_ref": JPN_NATO["id"], "selectors": ["x_target_ref"]},
            ],
        },
        _identity(HQ, [NATO["id"]]),
        _identity(PARTNER, jn),
        _sighting(SIGHTING_OF_NOTE, NOTE),
    ]


def stored_before_ingest_checked() -> list[dict[str, Any]]:
    """Objects stored as they are (ingest now refuses both): a sighting more releasable than
    where it was sighted, and one nested 400 levels deep."""
    deep: Any = {"x_ref": REL_TO_HIDDEN, "also": "kept"}
    for _ in range(400):
        deep = [deep]
    return [
        _sighting(SIGHTING, SEEN, where_sighted_refs=[HQ, PARTNER]),
        {
            "type": "x-thing",
            "spec_version": "2.1",
            "id": DEEP,
            "created": T0,
            "modified": T0,
            "x_deep": deep,
            "object_marking_refs": [JPN_NATO["id"]],
        },
    ]


def _identity(oid: str, markings: list[str]) -> dict[str, Any]:
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": oid,
        "created": T0,
        "modified": T0,
        "name": f"identity {oid[-4:]}",
        "identity_class": "organization",
        "object_marking_refs": markings,
    }


def _sighting(oid: str, of: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "sighting",
        "spec_version": "2.1",
        "id": oid,
        "created": T0,
        "modified": T0,
        "sighting_of_ref": of,
        "object_marking_refs": [JPN_NATO["id"]],
        **extra,
    }


@dataclass
class Setup:
    node: Node
    url: str
    cid: str
    admin: str
    jpn: str

    def get(self, token: str, path: str, **params: Any) -> httpx.Response:
        with httpx.Client(base_url=self.url, headers=auth(token)) as client:
            return client.get(f"/api/collections/{self.cid}/{path}", params=params)


@contextmanager
def setup(tmp_path: Path, database: str) -> Iterator[Setup]:
    node, admin = Node.init(
        tmp_path / "node", name="n", org="FR-CERT", country="FRA", database=database
    )
    node.add_org("JPN-CERT", "JPN", [])
    jpn = node.add_user("aiko", "JPN-CERT")
    c = node.add_collection("shared", alias="shared")
    node.grant(c.id, "JPN-CERT", read=True, write=False, max_tlp="amber")
    node.releasability_marking(["NATO"])
    node.releasability_marking(["JPN", "NATO"])
    try:
        with serve(node) as url:
            s = Setup(node, url, c.id, admin, jpn)
            with httpx.Client(base_url=url, headers=auth(admin)) as client:
                status = client.post(
                    f"/api/collections/{c.id}/objects/",
                    headers={"Content-Type": TAXII},
                    content=envelope(objects()),
                ).json()
            assert status["failure_count"] == 0, status["failures"]
            node.store.add_versions(
                c.id,
                [
                    NewVersion(
                        o["id"],
                        o["type"],
                        to_micros(o["modified"]),
                        "2.1",
                        visibility_refs(o),
                        needs_redaction(o),
                        msgspec.json.encode(o),
                    )
                    for o in stored_before_ingest_checked()
                ],
                "test",
            )
            yield s
    finally:
        node.close()


WITHHELD = (HIDDEN, REL_TO_HIDDEN, REL_TO_REL, NOTE, SIGHTING_OF_NOTE, HQ)


@pytest.fixture
def live(tmp_path: Path, database: str) -> Iterator[Setup]:
    with setup(tmp_path, database) as s:
        yield s


def _objects(s: Setup, token: str, **params: Any) -> dict[str, list[dict[str, Any]]]:
    r = s.get(token, "objects/", limit=100, **params)
    assert r.status_code == 200, r.text
    out: dict[str, list[dict[str, Any]]] = {}
    for o in r.json().get("objects", []):
        out.setdefault(o["id"], []).append(o)
    return out


def test_withheld_objects_are_absent_and_unnamed_everywhere(live: Setup) -> None:
    page = live.get(live.jpn, "objects/", limit=100)
    got = {o["id"] for o in page.json()["objects"]}
    assert got == {SEEN, SEEN2, CHAIN, LATE, THING, SIGHTING, PARTNER, DEEP}
    for oid in WITHHELD:
        assert oid not in page.text  # not as an object, not in anyone's references
    manifest = live.get(live.jpn, "manifest/", limit=100)
    assert {e["id"] for e in manifest.json()["objects"]} == got
    absent = _id("relationship")
    for oid in WITHHELD:
        for path in ("objects/{}/", "objects/{}/versions/"):
            r = live.get(live.jpn, path.format(oid))
            a = live.get(live.jpn, path.format(absent))
            assert r.status_code == a.status_code == 404
            assert r.content.replace(oid.encode(), b"ID") == a.content.replace(
                absent.encode(), b"ID"
            )
    # The administrator still sees every one of them.
    assert set(WITHHELD) <= set(_objects(live, live.admin))


def test_references_to_withheld_objects_are_removed_and_selectors_follow(live: Setup) -> None:
    thing = _objects(live, live.jpn, **{"match[id]": THING})[THING][0]
    assert "x_target_ref" not in thing
    assert thing["x_related_refs"] == [SEEN, SEEN2]
    assert thing["x_links"] == [{"note": "gone"}, {"x_peer_ref": SEEN}]
    # [3] (SEEN2) is now [1]; [0] (NOTE) is gone with its place, "name" stays; the entry
    # on the removed x_target_ref goes.
    assert thing["granular_markings"] == [
        {"marking_ref": JPN_NATO["id"], "selectors": ["x_related_refs.[1]"]},
        {"marking_ref": JPN_NATO["id"], "selectors": ["name"]},
    ]
    sighting = _objects(live, live.jpn, **{"match[id]": SIGHTING})[SIGHTING][0]
    assert sighting["where_sighted_refs"] == [PARTNER]


def test_last_and_first_are_the_versions_the_principal_receives(live: Setup) -> None:
    last = _objects(live, live.jpn)
    assert [o["modified"] for o in last[CHAIN]] == [T0]
    assert [o["modified"] for o in last[LATE]] == [T1]
    first = _objects(live, live.jpn, **{"match[version]": "first"})
    assert [o["modified"] for o in first[CHAIN]] == [T0]
    assert [o["modified"] for o in first[LATE]] == [T1]
    every = _objects(live, live.jpn, **{"match[version]": "all"})
    assert [o["modified"] for o in every[CHAIN]] == [T0]
    assert [o["modified"] for o in every[LATE]] == [T1]
    one = live.get(live.jpn, f"objects/{CHAIN}/").json()["objects"]
    assert [o["modified"] for o in one] == [T0]
    assert live.get(live.jpn, f"objects/{CHAIN}/versions/").json()["versions"] == [T0]
    assert live.get(live.jpn, f"objects/{LATE}/versions/").json()["versions"] == [T1]
    manifest = live.get(live.jpn, "manifest/", limit=100).json()["objects"]
    assert {e["version"] for e in manifest if e["id"] in (CHAIN, LATE)} == {
        "2026-02-01T00:00:00.000000Z",
        "2026-02-02T00:00:00.000000Z",
    } or {e["version"][:19] for e in manifest if e["id"] in (CHAIN, LATE)} == {
        T0[:19],
        T1[:19],
    }
    for oid, stamp in ((CHAIN, T1), (LATE, T0)):
        r = live.get(live.jpn, f"objects/{oid}/", **{"match[version]": stamp})
        assert r.status_code == 404 or not r.json().get("objects"), r.text
    # The administrator's last is the newest.
    assert [o["modified"] for o in _objects(live, live.admin)[CHAIN]] == [T1]


def test_export_and_push_hold_the_same_rules(live: Setup, tmp_path: Path) -> None:
    for flags in ([], ["--all-versions"]):
        result = CliRunner().invoke(
            main, ["export", str(live.node.directory), live.cid, "--as", "aiko", *flags]
        )
        assert result.exit_code == 0, result.output
        bundle = json.loads(result.stdout_bytes)
        ids = [o["id"] for o in bundle["objects"]]
        for oid in WITHHELD:
            assert oid not in result.stdout
        assert [o["modified"] for o in bundle["objects"] if o["id"] == CHAIN] == [T0]
        # The bundle carries the definition of every marking its objects carry.
        assert JPN_NATO["id"] in ids
        assert NATO["id"] not in ids


def test_deeply_nested_stored_objects_are_redacted(live: Setup) -> None:
    r = live.get(live.jpn, f"objects/{DEEP}/")
    assert r.status_code == 200, r.text
    leaf = r.json()["objects"][0]["x_deep"]
    for _ in range(400):
        (leaf,) = leaf
    assert leaf == {"also": "kept"}
    assert live.get(live.jpn, "objects/", limit=100).status_code == 200


def test_marking_definitions_of_what_a_principal_reads_are_readable(live: Setup) -> None:
    with httpx.Client(base_url=live.url, headers=auth(live.jpn)) as client:
        defs = client.get("/api/collections/kizuna-definitions/objects/", params={"limit": 1000})
        ids = {o["id"] for o in defs.json()["objects"]}
        assert JPN_NATO["id"] in ids  # marks what JPN reads
        assert NATO["id"] not in ids  # admits no one of JPN's codes
        r = client.get(f"/api/collections/kizuna-definitions/objects/{JPN_NATO['id']}/")
        assert r.status_code == 200 and r.json()["objects"][0] == JPN_NATO
        assert client.get(
            f"/api/collections/kizuna-definitions/objects/{NATO['id']}/"
        ).status_code == 404
