"""A small node for the UI's tests: two organizations, a real and an exercise collection,
one object of each type the object page renders, hostile content, and objects hidden from
the partner (TLP:RED, REL TO a country it is not of)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kizuna.node import Node, ingest
from kizuna.space.formats.cdm import parse as parse_cdm
from kizuna.space.formats.omm import ElementSet, parse_epoch
from kizuna.space.stix import conjunction, from_cdm, space_object
from kizuna.stix.markings import TLP2_IDS
from kizuna.store.types import SyncRound

T0 = "2026-05-01T00:00:00.000Z"
T1 = "2026-05-02T00:00:00.000Z"
GREEN, AMBER, RED = TLP2_IDS["green"], TLP2_IDS["amber"], TLP2_IDS["red"]
CDMS = Path(__file__).resolve().parents[1] / "data" / "space" / "cdm" / "SampleCDMs"
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'
#: What the CDM of the world's conjunction_cdm calls its first object.
CDM_NAME = 'ALFANO 衛星 <img src=x onerror=alert(2)> & "A"'


def _id(kind: str) -> str:
    return f"{kind}--{uuid.uuid4()}"


@dataclass
class World:
    node: Node
    tokens: dict[str, str]
    intel: str
    exercise: str
    ids: dict[str, str] = field(default_factory=dict)
    hidden: dict[str, str] = field(default_factory=dict)  # name -> id hidden from "partner"


def build(root: Path) -> World:
    node, admin_token = Node.init(root / "node", name="jp-node", org="CERT-JP", country="JPN",
                                  communities=["NATO"])
    node.add_org("RS-CERT", "SRB")
    tokens = {
        "admin": admin_token,
        "analyst": node.add_user("analyst", "CERT-JP"),
        "partner": node.add_user("partner", "RS-CERT"),
    }
    intel = node.add_collection("Intel 情報", description="Shared threat intelligence", alias="intel")
    exercise = node.add_collection("Blue Sky exercise", kind="exercise:blue-sky", alias="blue-sky")
    node.grant(intel.id, "RS-CERT", read=True, write=True, max_tlp="amber")
    rel_jpn = node.releasability_marking(["JPN"])["id"]
    ids: dict[str, str] = {}
    objs: list[dict[str, Any]] = []

    def add(name: str, obj: dict[str, Any]) -> dict[str, Any]:
        obj.setdefault("spec_version", "2.1")
        obj.setdefault("id", _id(obj["type"]))
        obj.setdefault("created", T0)
        obj.setdefault("modified", obj["created"])
        ids[name] = obj["id"]
        objs.append(obj)
        return obj

    ident = add("identity", {"type": "identity", "name": "Српски CERT", "identity_class": "organization",
                             "sectors": ["government-national"], "object_marking_refs": [GREEN]})
    add("indicator", {"type": "indicator", "name": "悪性ドメイン evil.example", "pattern_type": "stix",
                      "pattern": "[domain-name:value = 'evil.example']", "valid_from": T0,
                      "description": "フィッシングに使われたドメイン", "object_marking_refs": [GREEN],
                      "created_by_ref": ident["id"]})
    add("malware", {"type": "malware", "name": "Злонамерни софтвер", "is_family": True,
                    "aliases": ["ZloBot"], "object_marking_refs": [GREEN]})
    add("attack_pattern", {
        "type": "attack-pattern", "name": "PowerShell", "object_marking_refs": [GREEN],
        "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "execution"}],
        "external_references": [
            {"source_name": "mitre-attack", "external_id": "T1059.001",
             "url": "https://attack.mitre.org/techniques/T1059/001/"},
        ]})
    add("hostile", {
        "type": "malware", "name": HOSTILE, "is_family": False, "description": HOSTILE,
        "object_marking_refs": [GREEN], "labels": ['" onmouseover="alert(1)'],
        "external_references": [
            {"source_name": "evil", "url": "javascript:alert(document.cookie)"},
            {"source_name": "fine", "url": "https://example.org/report"},
        ]})
    add("relationship", {"type": "relationship", "relationship_type": "indicates",
                         "source_ref": ids["indicator"], "target_ref": ids["malware"],
                         "object_marking_refs": [GREEN]})
    add("uses", {"type": "relationship", "relationship_type": "uses", "source_ref": ids["malware"],
                 "target_ref": ids["attack_pattern"], "object_marking_refs": [GREEN]})
    add("sighting", {"type": "sighting", "sighting_of_ref": ids["indicator"], "count": 3,
                     "first_seen": T0, "last_seen": T1, "where_sighted_refs": [ident["id"]],
                     "object_marking_refs": [GREEN]})
    add("opinion", {"type": "opinion", "opinion": "agree", "explanation": "Seen it too.",
                    "object_refs": [ids["indicator"]], "authors": ["analyst"],
                    "object_marking_refs": [AMBER]})
    add("note", {"type": "note", "content": "Заштитни зид блокира домен.", "abstract": "Blocked",
                 "object_refs": [ids["indicator"]], "authors": ["partner"],
                 "object_marking_refs": [GREEN]})
    # hidden from the partner: TLP:RED, and REL TO JPN only
    secret = add("secret", {"type": "malware", "name": "SECRET-RED-IMPLANT", "is_family": True,
                            "object_marking_refs": [RED]})
    jp_only = add("jp_only", {"type": "indicator", "name": "JAPAN-ONLY-INDICATOR", "pattern_type": "stix",
                              "pattern": "[ipv4-addr:value = '203.0.113.9']", "valid_from": T0,
                              "object_marking_refs": [GREEN, rel_jpn]})
    add("secret_rel", {"type": "relationship", "relationship_type": "uses", "source_ref": ids["malware"],
                       "target_ref": secret["id"], "object_marking_refs": [RED]})
    add("report", {"type": "report", "name": "Campaign ドメイン report", "published": T1,
                   "report_types": ["campaign"], "object_marking_refs": [GREEN],
                   "object_refs": [ids["indicator"], ids["malware"], ids["relationship"], jp_only["id"]]})
    es1 = ElementSet(25544, parse_epoch("2026-05-01T12:00:00"), 15.5, .0007, 51.64, 247.46, 130.54,
                     325.03, object_name="ISS (ZARYA)", object_id="1998-067A")
    es2 = ElementSet(48274, parse_epoch("2026-05-01T12:00:00"), 15.6, .0005, 41.47, 100.0, 80.0,
                     10.0, object_name="CSS (TIANHE)", object_id="2021-035A")
    so1 = space_object(es1, object_marking_refs=[GREEN])
    so2 = space_object(es2, object_marking_refs=[GREEN])
    ids["space_object"], ids["space_object2"] = so1["id"], so2["id"]
    objs += [so1, so2]
    cj = conjunction(so1["id"], so2["id"], tca=datetime(2026, 5, 3, 4, 5, 6, tzinfo=UTC),
                     miss_distance_km=0.42, relative_speed_km_s=11.2, miss_rtn_km=[0.1, 0.4, 0.05],
                     screening={"threshold_km": 5.0}, object_marking_refs=[GREEN],
                     assessed=datetime(2026, 5, 1, 13, tzinfo=UTC), collision_probability=2.5e-4,
                     collision_probability_method="foster-1992")
    ids["conjunction"] = cj["id"]
    objs.append(cj)
    # a conjunction from a CDM: its encounter plane has the combined covariance and the HBR
    # (its first object is named by the CDM only, with hostile text: neither object is stored)
    cdm_text = (CDMS / "AlfanoTestCase03.cdm").read_text().replace(
        "OBJECT_NAME                        = 3001", f"OBJECT_NAME = {CDM_NAME}", 1)
    cdm = from_cdm(parse_cdm(cdm_text))
    cdm["object_marking_refs"] = [GREEN]
    ids["conjunction_cdm"] = cdm["id"]
    objs.append(cdm)
    snap = node.snapshot()
    admin = node.principal_for(next(u for u in snap.users.values() if u.name == "admin"))
    results = ingest(node.store, snap, admin, intel, [json.dumps(o).encode() for o in objs], "user:admin")
    bad = [r for r in results if not r.ok]
    assert not bad, bad
    # a second version of the indicator, with a changed name
    v2 = dict(next(o for o in objs if o["id"] == ids["indicator"]), modified=T1, name="悪性ドメイン evil.example v2")
    results = ingest(node.store, node.snapshot(), admin, intel, [json.dumps(v2).encode()], "file:update.json")
    assert all(r.ok for r in results), results
    ex = add("exercise_indicator", {"type": "indicator", "name": "Exercise beacon", "pattern_type": "stix",
                                    "pattern": "[domain-name:value = 'beacon.exercise']", "valid_from": T0,
                                    "object_marking_refs": [GREEN]})
    results = ingest(node.store, node.snapshot(), admin, exercise, [json.dumps(ex).encode()], "user:admin")
    assert all(r.ok for r in results), results
    # a peer with a pull and a push link, the last rounds of both, and what the pull rejected
    node.add_peer("rs-node", "https://rs-node.example", org="RS-CERT", token="peer-token",
                  pull=[("rs-intel", intel.id)], push=[(intel.id, "jp-intel")])
    node.store.record_sync_round(
        SyncRound("rs-node", "pull", intel.id, "rs-intel", 1777593600000000, 1777593602500000,
                  pages=2, received=120, stored=117, duplicates=1, rejected=2),
        [(f"indicator--{uuid.uuid4()}", "pattern: expected ']' " + HOSTILE),
         (None, "not a STIX object: no type")],
    )
    node.store.record_sync_round(
        SyncRound("rs-node", "push", intel.id, "jp-intel", 1777593603000000, 1777593604000000,
                  pages=1, sent=40, refused=0, error="peer answered 503: try again later"),
        [],
    )
    hidden = {"secret": ids["secret"], "jp_only": jp_only["id"], "secret_rel": ids["secret_rel"],
              "exercise_indicator": ids["exercise_indicator"]}
    return World(node, tokens, intel.id, exercise.id, ids, hidden)
