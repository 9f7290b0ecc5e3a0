"""Nothing from an exercise collection reaches a real collection on a peer (docs/policy.md,
Rule 6): everything an exercise collection holds carries the exercise's marking, its
marking-definitions and extension-definitions included, so a peer's real collection refuses
all of it. Two nodes over real HTTP, on each store adapter."""

from __future__ import annotations

import uuid
from pathlib import Path

from kizuna.node import Node
from kizuna.stix.markings import releasability_marking
from kizuna.store.types import ObjectQuery, VersionMatch
from kizuna.sync.engine import sync
from tests.conftest import serve
from tests.helpers import indicator
from tests.sync.federation import load


def test_an_exercise_pushed_to_a_peers_real_collection_stores_nothing(
    tmp_path: Path, database: str
) -> None:
    nato, _ = Node.init(
        tmp_path / "nato", name="nato", org="NATO-CERT", country="BEL", communities=["NATO"],
        database=database,
    )  # fmt: skip
    jpn, _ = Node.init(tmp_path / "jpn", name="jpn", org="JPN-CERT", country="JPN")
    drill = nato.add_collection("drill", alias="drill", kind="exercise:LOCKED-SHIELDS").id
    # JPN takes part in the exercise too (it knows the exercise's marking), and has a real inbox.
    jpn.add_collection("drill", alias="drill", kind="exercise:LOCKED-SHIELDS")
    inbox = jpn.add_collection("from NATO", alias="inbox").id
    nato.add_org("JPN-CERT", "JPN")
    nato.grant(drill, "JPN-CERT", read=True, write=False, max_tlp="amber")
    jpn.add_org("NATO-CERT", "BEL", ["NATO"])
    jpn.grant(inbox, "NATO-CERT", read=True, write=True, max_tlp="amber")
    account = jpn.add_user("nato-node", "NATO-CERT", peer=True)

    rel = releasability_marking(["JPN", "NATO"])
    extension = {
        "type": "extension-definition",
        "spec_version": "2.1",
        "id": f"extension-definition--{uuid.uuid4()}",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "created_by_ref": "identity--6b697a75-6e61-4000-8000-6b697a756e61",
        "name": "x-drill",
        "schema": "https://example.invalid/schema",
        "version": "1.0",
        "extension_types": ["property-extension"],
    }
    scenario = indicator(name="exercise inject", markings=[rel["id"]])
    load(nato, drill, [rel, extension, scenario])
    rows = nato.store.query(ObjectQuery(drill, versions=VersionMatch(all=True)))
    assert len(rows) == 3

    with serve(jpn) as url:
        nato.add_peer("jpn", url, org="JPN-CERT", token=account, push=[("drill", "inbox")])
        [report] = sync(nato)
        assert report.error is None
        assert report.sent == 0 and report.refused == 3, report.reasons
        assert all("exercise" in reason for reason in report.reasons), report.reasons
    assert jpn.store.count(inbox) == 0
    nato.close()
    jpn.close()
