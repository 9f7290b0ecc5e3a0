"""The OASIS ``stix2`` library's TAXII data store, unchanged, against a real Kizuna server.

``TAXIICollectionSink`` posts STIX bundles, ``TAXIICollectionSource`` reads with TAXII filters
(type, id, version) and filters the rest itself, ``TAXIICollectionStore`` is both; all three go
through ``taxii2-client`` over HTTP to a node served on 127.0.0.1, as a JPN-CERT analyst whose
view the access gate decides.
"""

from __future__ import annotations

import pytest
import stix2
from stix2 import Filter, TAXIICollectionSink, TAXIICollectionSource, TAXIICollectionStore
from taxii2client.v21 import Collection

from kizuna.stix.markings import TLP2_IDS, releasability_marking
from tests.conftest import Live

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

NATO = releasability_marking(["NATO"])
JPN_NATO = releasability_marking(["JPN", "NATO"])


@pytest.fixture
def aiko(live: Live) -> tuple[Collection, str]:
    """A taxii2-client collection as aiko (JPN-CERT, read and write up to TLP:AMBER)."""
    node = live.node
    c = node.add_collection("Shared", alias="shared")
    node.add_org("JPN-CERT", "JPN", ["IP4"])
    node.grant(c.id, "JPN-CERT", read=True, write=True, max_tlp="amber")
    token = node.add_user("aiko", "JPN-CERT")
    for marking in (NATO, JPN_NATO):  # stored on the node, as an operator would
        node.releasability_marking(sorted(marking["extensions"][next(iter(marking["extensions"]))]["rel_to"]))
    return Collection(f"{live.api}collections/{c.id}/", user="aiko", password=token), c.id


def test_sink_source_and_store(aiko: tuple[Collection, str]) -> None:
    collection, _ = aiko
    sink, source = TAXIICollectionSink(collection), TAXIICollectionSource(collection)
    malware = stix2.Malware(name="Poison Ivy", is_family=True, malware_types=["remote-access-trojan"])
    indicator = stix2.Indicator(
        name="bad domain", pattern="[domain-name:value = 'evil.example']", pattern_type="stix",
        object_marking_refs=[TLP2_IDS["green"], JPN_NATO["id"]],
    )
    rel = stix2.Relationship(indicator, "indicates", malware)
    sink.add([malware, indicator, rel])  # one bundle
    newer = malware.new_version(description="a RAT", modified="2030-01-01T00:00:00.000Z")
    sink.add(newer)

    got = source.get(malware.id)
    assert got is not None and got.description == "a RAT" and got.modified == newer.modified
    versions = source.all_versions(malware.id)
    assert sorted(v.modified for v in versions) == [malware.modified, newer.modified]
    assert source.get(indicator.id).object_marking_refs == [TLP2_IDS["green"], JPN_NATO["id"]]
    assert source.get(f"malware--{'0' * 8}-0000-4000-8000-{'0' * 12}") is None

    # TAXII filters (sent to the server) and the library's own (applied to what comes back)
    assert {o.id for o in source.query([Filter("type", "=", "malware")])} == {malware.id}
    assert [o.id for o in source.query([Filter("id", "=", rel.id)])] == [rel.id]
    assert {o.id for o in source.query([Filter("name", "=", "bad domain")])} == {indicator.id}
    assert {o.id for o in source.query([Filter("type", "=", "relationship"),
                                        Filter("relationship_type", "=", "indicates")])} == {rel.id}
    first = source.query([Filter("id", "=", malware.id), Filter("version", "=", "first")])
    assert [o.modified for o in first] == [malware.modified]
    everything = source.query([Filter("version", "=", "all")])
    assert len(everything) == 4

    store = TAXIICollectionStore(collection)
    report = stix2.Report(name="weekly", published="2030-01-02T00:00:00Z",
                          object_refs=[malware.id, indicator.id])
    store.add(report)
    assert store.get(report.id).object_refs == [malware.id, indicator.id]
    assert store.get(report.id).name == "weekly"
    assert {o.id for o in store.query([Filter("type", "=", "report")])} == {report.id}
    assert [v.id for v in store.all_versions(report.id)] == [report.id]


def test_what_the_gate_withholds_the_library_does_not_find(
    live: Live, aiko: tuple[Collection, str]
) -> None:
    collection, cid = aiko
    secret = stix2.Malware(name="NATO only", is_family=False, object_marking_refs=[NATO["id"]])
    admin = Collection(f"{live.api}collections/{cid}/", user="admin", password=live.token)
    TAXIICollectionSink(admin).add(secret)
    source = TAXIICollectionSource(collection)
    assert source.get(secret.id) is None  # a 404, as for an absent object
    assert source.all_versions(secret.id) == []
    assert source.query([Filter("type", "=", "malware")]) == []
    assert TAXIICollectionSource(admin).get(secret.id).name == "NATO only"
    # aiko may not write what she could not read: the sink does not read the status (it
    # says why), and the node keeps nothing
    refused = stix2.Malware(name="also NATO only", is_family=False, object_marking_refs=[NATO["id"]])
    TAXIICollectionSink(collection).add(refused)
    assert TAXIICollectionSource(admin).get(refused.id) is None
