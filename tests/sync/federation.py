"""Build a three-node federation for tests: NATO <-> JPN <-> AUS (a third partner).

NATO-CERT (BEL, NATO) publishes collection "shared"; the Japanese node pulls it into
"from-nato"; the Australian partner's node pulls that into "from-jpn". Each link is a peer
account on the publishing node (`kizuna user add --peer`) and a write grant on the receiving
collection for the publisher's organization.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from kizuna.node import Node, ingest
from kizuna.stix.markings import TLP2_IDS, releasability_marking
from tests.conftest import serve
from tests.helpers import bundle_objects

REL_NATO = releasability_marking(["NATO"])
REL_NATO_JPN = releasability_marking(["NATO", "JPN"])
REL_NATO_JPN_AUS = releasability_marking(["NATO", "JPN", "AUS"])

#: marking category -> (object markings, reaches JPN, reaches AUS through JPN)
CATEGORIES: dict[str, tuple[list[str], bool, bool]] = {
    "unmarked": ([], True, True),
    "clear": ([TLP2_IDS["clear"]], True, True),
    "green": ([TLP2_IDS["green"]], True, True),
    "amber": ([TLP2_IDS["amber"]], True, True),
    "amber+strict": ([TLP2_IDS["amber+strict"]], False, False),
    "red": ([TLP2_IDS["red"]], False, False),
    "rel-nato": ([REL_NATO["id"]], False, False),
    "rel-nato-jpn": ([REL_NATO_JPN["id"]], True, False),
    "rel-nato-jpn-green": ([REL_NATO_JPN["id"], TLP2_IDS["green"]], True, False),
    "rel-nato-jpn-aus": ([REL_NATO_JPN_AUS["id"]], True, True),
}


@dataclass
class Fed:
    nato: Node
    jpn: Node
    aus: Node
    urls: dict[str, str]
    shared: str
    from_nato: str
    from_jpn: str
    marked: dict[str, str]  # object id -> category


def marked_objects() -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Real ATT&CK objects (no relationships), each given one category's markings."""
    objs = [
        o
        for o in bundle_objects("enterprise-attack-sample.json.gz")
        if o["type"] not in ("relationship", "marking-definition", "identity")
    ]
    names = sorted(CATEGORIES)
    out = [REL_NATO, REL_NATO_JPN, REL_NATO_JPN_AUS]
    marked: dict[str, str] = {}
    for i, obj in enumerate(objs):
        o = copy.deepcopy(obj)
        category = names[i % len(names)]
        refs = CATEGORIES[category][0]
        if refs:
            o["object_marking_refs"] = refs
        else:
            o.pop("object_marking_refs", None)
        marked[o["id"]] = category
        out.append(o)
    return out, marked


def relationships(marked: dict[str, str]) -> list[dict[str, Any]]:
    """Real relationships among the marked objects, unmarked: they follow their ends."""
    rels = [
        o for o in bundle_objects("enterprise-attack-sample.json.gz") if o["type"] == "relationship"
    ]
    out = []
    for r in rels:
        if r["source_ref"] in marked and r["target_ref"] in marked:
            r = copy.deepcopy(r)
            r.pop("object_marking_refs", None)
            out.append(r)
    return out


def load(
    node: Node, collection: str, objects: list[dict[str, Any]], origin: str = "file:test"
) -> None:
    admin = node.store.user("admin")
    assert admin is not None
    results = ingest(
        node.store,
        node.snapshot(),
        node.principal_for(admin),
        node.collection(collection),
        [msgspec.json.encode(o) for o in objects],
        origin,
    )
    bad = [r for r in results if not r.ok]
    assert not bad, bad[:3]


def build(root: Path) -> tuple[Fed, dict[str, str]]:
    """The three nodes, unserved; returns the federation and the peer tokens to wire later."""
    nato, _ = Node.init(
        root / "nato", name="nato", org="NATO-CERT", country="BEL", communities=["NATO"]
    )
    jpn, _ = Node.init(root / "jpn", name="jpn", org="JPN-CERT", country="JPN", communities=["IP4"])
    aus, _ = Node.init(root / "aus", name="aus", org="AUS-ACSC", country="AUS", communities=["IP4"])
    shared = nato.add_collection("shared", alias="shared").id
    from_nato = jpn.add_collection("from NATO", alias="from-nato").id
    from_jpn = aus.add_collection("from JPN", alias="from-jpn").id
    # NATO publishes to JPN-CERT's node.
    nato.add_org("JPN-CERT", "JPN", ["IP4"])
    nato.grant(shared, "JPN-CERT", read=True, write=False, max_tlp="amber+strict")
    tokens = {"jpn->nato": nato.add_user("jpn-node", "JPN-CERT", peer=True)}
    # JPN receives from NATO-CERT and publishes to AUS-ACSC's node.
    jpn.add_org("NATO-CERT", "BEL", ["NATO"])
    jpn.grant(from_nato, "NATO-CERT", read=False, write=True, max_tlp="red")
    jpn.add_org("AUS-ACSC", "AUS", ["IP4"])
    jpn.grant(from_nato, "AUS-ACSC", read=True, write=False, max_tlp="amber")
    tokens["aus->jpn"] = jpn.add_user("aus-node", "AUS-ACSC", peer=True)
    # AUS receives from JPN-CERT.
    aus.add_org("JPN-CERT", "JPN", ["IP4"])
    aus.grant(from_jpn, "JPN-CERT", read=False, write=True, max_tlp="red")
    return Fed(nato, jpn, aus, {}, shared, from_nato, from_jpn, {}), tokens


def wire(fed: Fed, tokens: dict[str, str]) -> None:
    fed.jpn.add_peer(
        "nato",
        fed.urls["nato"],
        org="NATO-CERT",
        token=tokens["jpn->nato"],
        pull=[("shared", "from-nato")],
    )
    fed.aus.add_peer(
        "jpn",
        fed.urls["jpn"],
        org="JPN-CERT",
        token=tokens["aus->jpn"],
        pull=[("from-nato", "from-jpn")],
    )


@contextmanager
def federation(root: Path) -> Iterator[Fed]:
    fed, tokens = build(root)
    objects, marked = marked_objects()
    fed.marked = marked
    load(fed.nato, fed.shared, objects + relationships(marked))
    with ExitStack() as stack:
        for name in ("nato", "jpn", "aus"):
            fed.urls[name] = stack.enter_context(serve(getattr(fed, name)))
        wire(fed, tokens)
        yield fed
    for n in (fed.nato, fed.jpn, fed.aus):
        n.close()


def ids_in(node: Node, collection: str) -> set[str]:
    from kizuna.store.types import ObjectQuery, VersionMatch

    rows = node.store.query(
        ObjectQuery(
            node.collection(collection).id, versions=VersionMatch(all=True), limit=1_000_000
        )
    )
    return {r.stix_id for r in rows}
