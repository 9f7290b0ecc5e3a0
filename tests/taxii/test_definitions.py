"""Every node serves Kizuna's extension-definitions and the TLP marking-definitions."""

from __future__ import annotations

import httpx

from kizuna.stix.extensions import extension_definitions
from kizuna.stix.markings import TLP2_IDS
from kizuna.stix.validate import validate_object
from tests.conftest import Live
from tests.helpers import TAXII, auth, envelope, indicator


def test_definitions_collection_is_readable_by_everyone_and_writable_by_none(live: Live) -> None:
    live.node.add_org("Partner", "AUS")
    token = live.node.add_user("partner", "Partner")
    with httpx.Client(base_url=live.url, headers=auth(token)) as client:
        listed = client.get("/api/collections/").json()["collections"]
        definitions = next(c for c in listed if c.get("alias") == "kizuna-definitions")
        assert definitions["can_read"] and not definitions["can_write"]
        objs = client.get("/api/collections/kizuna-definitions/objects/").json()["objects"]
        ids = {o["id"] for o in objs}
        assert {d["id"] for d in extension_definitions()} <= ids
        assert set(TLP2_IDS.values()) <= ids
        assert all(validate_object(o) == [] for o in objs)
        r = client.post(
            "/api/collections/kizuna-definitions/objects/",
            headers={"Content-Type": TAXII},
            content=envelope([indicator()]),
        )
        assert r.status_code == 403
