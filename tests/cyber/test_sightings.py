"""Sightings from matches: one object per (indicator, sighter, day), new versions as more is
seen, no more releasable than the indicator and the observations combined, and back to the
node that shared the indicator through the federation when (and only when) that allows."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import msgspec

from kizuna.cyber.matcher import Matcher
from kizuna.cyber.matching import load_indicators, match_batch
from kizuna.cyber.observations import observations
from kizuna.cyber.sightings import record_sightings
from kizuna.node import Node
from kizuna.policy.principal import Principal
from kizuna.stix.ids import derived_id
from kizuna.stix.markings import TLP2_IDS
from kizuna.stix.timestamps import to_micros
from kizuna.store.types import ObjectQuery, VersionMatch
from kizuna.sync.engine import sync
from tests.conftest import serve
from tests.helpers import indicator
from tests.sync.federation import REL_NATO_JPN, load

DAY_US = 86_400_000_000


def _observed(
    value: str, first: str, last: str, count: int = 1, markings: list[str] | None = None
) -> list[dict[str, Any]]:
    sco = {"type": "domain-name", "id": f"domain-name--{uuid.uuid4()}", "value": value}
    od: dict[str, Any] = {
        "type": "observed-data",
        "spec_version": "2.1",
        "id": f"observed-data--{uuid.uuid4()}",
        "created": first,
        "modified": first,
        "first_observed": first,
        "last_observed": last,
        "number_observed": count,
        "object_refs": [sco["id"]],
    }
    if markings:
        od["object_marking_refs"] = markings
    return [sco, od]


def _versions(node: Node, collection: str, oid: str) -> list[dict[str, Any]]:
    rows = node.store.query(
        ObjectQuery(node.collection(collection).id, ids=(oid,), versions=VersionMatch(all=True))
    )
    return [msgspec.json.decode(r.body) for r in rows]


def _sight(node: Node, who: Principal, collection: str, objects: list[dict[str, Any]]) -> Any:
    matcher = Matcher(load_indicators(node, who))
    hits = match_batch(matcher, observations(objects, now_us=0), _no_benign(node))
    return record_sightings(node, who, collection, hits)


def _no_benign(node: Node) -> Any:
    from kizuna.cyber.cli import node_benign

    return node_benign(node)


def test_sightings_are_one_per_indicator_sighter_and_day_as_new_versions(
    tmp_path: Path,
) -> None:
    node, _ = Node.init(tmp_path / "n", name="n", org="HOME", country="FRA", communities=["NATO"])
    feed = node.add_collection("feed", alias="feed").id
    seen = node.add_collection("sightings", alias="sightings").id
    ind = indicator(
        pattern="[domain-name:value = 'c2.badcdn.net']",
        markings=[TLP2_IDS["green"]],
        created="2026-01-01T00:00:00.000Z",
    )
    load(node, feed, [ind])
    admin = node.principal_for(node.store.user("admin"))  # type: ignore[arg-type]
    org = node.snapshot().orgs[admin.org].identity_id
    day1 = [
        *_observed("c2.badcdn.net", "2026-03-01T10:00:00Z", "2026-03-01T10:05:00Z", 3),
        *_observed("c2.badcdn.net", "2026-03-01T23:00:00Z", "2026-03-02T01:00:00Z", 2),
    ]
    day2 = _observed(
        "c2.badcdn.net", "2026-03-02T08:00:00Z", "2026-03-02T09:00:00Z", 4, [TLP2_IDS["amber"]]
    )
    results = _sight(node, admin, "sightings", day1 + day2)
    assert all(r.ok for r in results), results
    first_day = to_micros("2026-03-01T00:00:00Z") // DAY_US
    s1 = derived_id("sighting", f"{ind['id']}|{org}|{first_day}")
    s2 = derived_id("sighting", f"{ind['id']}|{org}|{first_day + 1}")
    assert sorted(r.id for r in results) == sorted([s1, s2])
    (one,) = _versions(node, seen, s1)
    assert one["count"] == 5 and one["sighting_of_ref"] == ind["id"]
    assert one["where_sighted_refs"] == [org] and one["created_by_ref"] == org
    assert (one["first_seen"], one["last_seen"]) == (
        "2026-03-01T10:00:00.000Z",
        "2026-03-02T01:00:00.000Z",
    )
    assert len(one["observed_data_refs"]) == 2
    assert one["object_marking_refs"] == [TLP2_IDS["green"]]
    # The observation of the second day was amber: its sighting is amber, the stricter.
    (two,) = _versions(node, seen, s2)
    assert two["count"] == 4 and two["object_marking_refs"] == [TLP2_IDS["amber"]]

    # Seen again the same day: a new version of the same sighting, counts added, times
    # widened, references joined, made after the last.
    again = _observed("c2.badcdn.net", "2026-03-01T07:00:00Z", "2026-03-01T08:00:00Z", 1)
    (result,) = _sight(node, admin, "sightings", again)
    assert result.ok and result.id == s1
    old, new = _versions(node, seen, s1)
    assert new["created"] == old["created"] and new["modified"] > old["modified"]
    assert new["count"] == 6 and new["first_seen"] == "2026-03-01T07:00:00.000Z"
    assert new["last_seen"] == old["last_seen"]
    assert set(old["observed_data_refs"]) < set(new["observed_data_refs"])
    # Once amber, always amber: a later version keeps its earlier version's markings.
    (result,) = _sight(
        node,
        admin,
        "sightings",
        _observed("c2.badcdn.net", "2026-03-02T10:00:00Z", "2026-03-02T10:00:00Z"),
    )
    assert result.id == s2 and _versions(node, seen, s2)[-1]["object_marking_refs"] == [
        TLP2_IDS["amber"]
    ]
    node.close()


def test_a_sighting_goes_back_to_the_indicators_source_only_when_its_markings_allow(
    tmp_path: Path,
) -> None:
    nato, _ = Node.init(
        tmp_path / "nato", name="nato", org="NATO-CERT", country="BEL", communities=["NATO"]
    )
    jpn, _ = Node.init(
        tmp_path / "jpn", name="jpn", org="JPN-CERT", country="JPN", communities=["IP4"]
    )
    outbox = nato.add_collection("to JPN", alias="outbox").id
    returns = nato.add_collection("sightings from partners", alias="returns").id
    inbox = jpn.add_collection("from NATO", alias="inbox").id
    ours = jpn.add_collection("our sightings", alias="ours").id
    # NATO pushes indicators to JPN; JPN pushes its sightings back to NATO.
    nato.add_org("JPN-CERT", "JPN", ["IP4"])
    nato.grant(outbox, "JPN-CERT", read=True, write=False, max_tlp="amber")
    nato.grant(returns, "JPN-CERT", read=True, write=True, max_tlp="amber")
    jpn.add_org("NATO-CERT", "BEL", ["NATO"])
    jpn.grant(inbox, "NATO-CERT", read=True, write=True, max_tlp="red")
    jpn.grant(ours, "NATO-CERT", read=True, write=False, max_tlp="amber")
    nato_account = jpn.add_user("nato-node", "NATO-CERT", peer=True)
    jpn_account = nato.add_user("jpn-node", "JPN-CERT", peer=True)
    shared = indicator(
        pattern="[domain-name:value = 'c2.badcdn.net']",
        markings=[REL_NATO_JPN["id"], TLP2_IDS["green"]],
    )
    load(nato, outbox, [REL_NATO_JPN, shared])
    rel_jpn = jpn.releasability_marking(["JPN"])
    with serve(jpn) as jpn_url, serve(nato) as nato_url:
        nato.add_peer(
            "jpn", jpn_url, org="JPN-CERT", token=nato_account, push=[("outbox", "inbox")]
        )
        assert [r.error for r in sync(nato)] == [None]
        analyst = jpn.principal_for(jpn.store.user("admin"))  # type: ignore[arg-type]
        # One observation JPN may share with NATO (amber), one only Japan may see.
        shareable = _observed(
            "c2.badcdn.net", "2026-03-01T10:00:00Z", "2026-03-01T10:00:00Z", 1, [TLP2_IDS["amber"]]
        )
        secret = _observed(
            "c2.badcdn.net", "2026-03-02T10:00:00Z", "2026-03-02T10:00:00Z", 1, [rel_jpn["id"]]
        )
        results = _sight(jpn, analyst, "ours", shareable + secret)
        assert len(results) == 2 and all(r.ok for r in results), results
        by_day = {
            msgspec.json.decode(jpn.store.query(ObjectQuery(ours, ids=(r.id,)))[0].body)[
                "first_seen"
            ][:10]: r.id
            for r in results
        }
        sent, kept = by_day["2026-03-01"], by_day["2026-03-02"]
        kept_obj = _versions(jpn, ours, kept)[-1]
        assert TLP2_IDS["green"] in kept_obj["object_marking_refs"]
        assert REL_NATO_JPN["id"] not in kept_obj["object_marking_refs"]  # JPN only
        jpn.add_peer(
            "nato", nato_url, org="NATO-CERT", token=jpn_account, push=[("ours", "returns")]
        )
        back = sync(jpn)
        assert [r.error for r in back] == [None]
        (returned,) = _versions(nato, returns, sent)
        assert returned["sighting_of_ref"] == shared["id"]
        assert sorted(returned["object_marking_refs"]) == sorted(
            [REL_NATO_JPN["id"], TLP2_IDS["amber"]]
        )
        assert _versions(nato, returns, kept) == []
        rows = nato.store.query(ObjectQuery(returns, versions=VersionMatch(all=True)))
        assert {r.stix_id for r in rows if r.type == "sighting"} == {sent}
    nato.close()
    jpn.close()
