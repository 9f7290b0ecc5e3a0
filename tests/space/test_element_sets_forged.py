"""An organization's element sets cannot be replaced by another organization's user: a
version of JAXA's element set (its id is derived from JAXA and the object) written by a
user of NSPOC is not used, whoever screens and whatever ``--elements-from`` says (such a
version, its orbit moved, had been the newest of JAXA's and was screened as JAXA's own)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from kizuna.node import Node, ingest
from kizuna.space import stix
from kizuna.space.cli._node import organization_identity
from kizuna.stix.markings import TLP2_IDS
from tests.space.test_element_sets import _alone, _records, _screen


def test_a_forged_version_of_a_partners_element_set_is_not_used(tmp_path: Path) -> None:
    node, _ = Node.init(tmp_path / "node", name="jp", org="JAXA", country="JPN")
    c = node.add_collection("space")
    node.add_org("NSPOC", "USA")
    node.add_user("tokyo", "JAXA")
    node.add_user("washington", "NSPOC")
    for org in ("JAXA", "NSPOC"):
        node.grant(c.id, org, read=True, write=True, max_tlp="amber")
    jaxa, _ = _records()
    green = TLP2_IDS["green"]
    forged = [replace(es, mean_anomaly=(es.mean_anomaly + 7.0) % 360.0,
                      epoch=es.epoch + timedelta(minutes=1)) for es in jaxa]
    batches = [
        ("admin", [stix.space_object(es, object_marking_refs=[green]) for es in jaxa]),
        ("tokyo", [stix.element_set(es, created_by_ref=organization_identity("JAXA"),
                                    object_marking_refs=[green]) for es in jaxa]),
        # NSPOC's user writes newer versions of JAXA's element sets, saying they are JAXA's
        ("washington", [stix.element_set(es, created_by_ref=organization_identity("JAXA"),
                                         object_marking_refs=[green]) for es in forged]),
    ]
    for user, objects in batches:
        who = node.store.user(user)
        assert who is not None
        principal = node.principal_for(who)
        results = ingest(node.store, node.snapshot(), principal, c,
                         [json.dumps(o).encode() for o in objects], principal.origin)
        assert all(r.ok and r.stored for r in results), [r.message for r in results][:3]
    node.close()
    genuine = _alone(jaxa)
    assert genuine != _alone(forged)  # the forgery would show
    for user in ("tokyo", "washington"):
        assert _screen(tmp_path, c.id, user, "--elements-from", "JAXA") == genuine, user
        assert _screen(tmp_path, c.id, user) == genuine, user
