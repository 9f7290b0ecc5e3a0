"""A small world for the ingress tests: one node over real HTTP, several organizations.

The node (NATO-CERT, BEL) runs on the store adapter the ``database`` fixture names. Each
organization has one analyst; ``World.post`` and ``World.get`` speak TAXII 2.1 over HTTP as
one of them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from kizuna.node import Node
from kizuna.stix.markings import TLP2_IDS, releasability_marking
from tests.conftest import serve

TAXII = "application/taxii+json;version=2.1"

#: organization -> (country, declared communities, analyst)
ORGS = {
    "FRA-CERT": ("FRA", (), "camille"),
    "JPN-CERT": ("JPN", ("IP4",), "aiko"),
    "AUS-ACSC": ("AUS", ("IP4",), "olivia"),
    # Declares FVEY, but is Brazilian: REL TO AUS, CAN, GBR, NZL, USA does not admit it.
    "BRA-FVEY": ("BRA", ("FVEY",), "bruno"),
}

CODES = {
    "NATO": ["NATO"],
    "JPN": ["JPN"],
    "JPN-NATO": ["JPN", "NATO"],
    "IP4": ["IP4"],
    "FVEY": ["FVEY"],
    "FIVE": ["AUS", "CAN", "GBR", "NZL", "USA"],
    "AUS": ["AUS"],
}
REL = {name: releasability_marking(codes) for name, codes in CODES.items()}


def rel(name: str) -> str:
    return str(REL[name]["id"])


def tlp(level: str) -> str:
    return TLP2_IDS[level]


@dataclass
class World:
    node: Node
    url: str
    tokens: dict[str, str]
    collections: dict[str, str] = field(default_factory=dict)

    def client(self, who: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.url + "/api/",
            headers={"Authorization": f"Bearer {self.tokens[who]}", "Accept": TAXII},
            timeout=30,
        )

    def post_raw(self, who: str, collection: str, body: bytes) -> httpx.Response:
        cid = self.collections[collection]
        with self.client(who) as c:
            return c.post(
                f"collections/{cid}/objects/", content=body, headers={"Content-Type": TAXII}
            )

    def post(self, who: str, collection: str, *objects: dict[str, Any]) -> dict[str, Any]:
        """POST *objects*; the status resource (asserting the request itself was accepted)."""
        r = self.post_raw(who, collection, json.dumps({"objects": list(objects)}).encode())
        assert r.status_code == 202, r.text
        status: dict[str, Any] = r.json()
        return status

    def get(self, who: str, path: str, **params: str) -> httpx.Response:
        with self.client(who) as c:
            return c.get(path, params=params)

    def objects(self, who: str, collection: str, **params: str) -> list[dict[str, Any]]:
        r = self.get(who, f"collections/{self.collections[collection]}/objects/", **params)
        assert r.status_code == 200, r.text
        return list(r.json().get("objects", []))


def failures(status: dict[str, Any]) -> dict[str, str]:
    return {f["id"]: f["message"] for f in status.get("failures", [])}


def successes(status: dict[str, Any]) -> set[str]:
    return {s["id"] for s in status.get("successes", [])}


@contextmanager
def world(tmp_path: Path, database: str) -> Iterator[World]:
    """The node with its organizations, analysts and REL TO markings, served over HTTP."""
    node, admin = Node.init(
        tmp_path / "node",
        name="hq",
        org="NATO-CERT",
        country="BEL",
        communities=["NATO"],
        database=database,
    )
    tokens = {"admin": admin}
    for org, (country, declared, analyst) in ORGS.items():
        node.add_org(org, country, list(declared))
        tokens[analyst] = node.add_user(analyst, org)
    for codes in CODES.values():
        node.releasability_marking(codes)
    try:
        with serve(node) as url:
            yield World(node, url, tokens)
    finally:
        node.close()


def add_collection(
    w: World,
    name: str,
    *,
    read: tuple[str, ...] = tuple(ORGS),
    write: tuple[str, ...] = tuple(ORGS),
    max_tlp: str = "amber",
    **kwargs: Any,
) -> str:
    c = w.node.add_collection(name, alias=name, **kwargs)
    for org in set(read) | set(write):
        w.node.grant(c.id, org, read=org in read, write=org in write, max_tlp=max_tlp)
    w.collections[name] = c.id
    return c.id
