"""The demo: a federation of three nodes on 127.0.0.1 with real public data flowing.

A NATO node (NATO-CERT, Belgium), a Japanese node (JPN-CERT) and a third partner's node
(AUS-ACSC, Australia) run on embedded SQLite. The NATO node loads real ATT&CK and MBC data
(vendored in ``demo/data``) under a mix of markings; the Japanese node pulls what NATO shares
with it, the Australian node pulls what Japan may pass on. ``kizuna demo`` runs one sync round,
prints what each node received and what it did not (and why), then serves all three.
"""

from __future__ import annotations

import shutil
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
from rich.console import Console
from rich.table import Table

from kizuna.node import Node, ingest, read_bundle, read_page
from kizuna.policy.gate import CollectionView
from kizuna.stix.markings import TLP2_IDS, releasability_marking
from kizuna.store.types import ObjectQuery, VersionMatch
from kizuna.sync.engine import sync

__all__ = [
    "DEMO_DATA",
    "MIX",
    "REL_NATO",
    "REL_NATO_JPN",
    "REL_NATO_JPN_AUS",
    "Demo",
    "build",
    "curl_line",
    "held",
    "run",
    "summary",
    "wire",
]

DEMO_DATA = Path(__file__).resolve().parents[2] / "demo" / "data"

REL_NATO = releasability_marking(["NATO"])
REL_NATO_JPN = releasability_marking(["NATO", "JPN"])
REL_NATO_JPN_AUS = releasability_marking(["NATO", "JPN", "AUS"])

#: The markings the NATO node's analysts put on the data, round-robin over the objects.
MIX: list[tuple[str, list[str]]] = [
    ("TLP:CLEAR", [TLP2_IDS["clear"]]),
    ("TLP:GREEN", [TLP2_IDS["green"]]),
    ("TLP:AMBER", [TLP2_IDS["amber"]]),
    ("TLP:AMBER+STRICT", [TLP2_IDS["amber+strict"]]),
    ("TLP:RED", [TLP2_IDS["red"]]),
    ("REL TO NATO", [REL_NATO["id"]]),
    ("REL TO JPN, NATO", [REL_NATO_JPN["id"]]),
    ("TLP:GREEN + REL TO JPN, NATO", [TLP2_IDS["green"], REL_NATO_JPN["id"]]),
    ("REL TO AUS, JPN, NATO", [REL_NATO_JPN_AUS["id"]]),
]


@dataclass
class Demo:
    nodes: dict[str, Node]
    tokens: dict[str, str]
    collections: dict[str, str]
    category: dict[str, str] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)


def build(directory: Path, console: Console) -> Demo:
    """Create the three nodes in *directory* (replacing earlier ones) and load NATO's data."""
    if directory.exists():
        shutil.rmtree(directory)
    nato, nato_admin = Node.init(directory / "nato", name="nato", org="NATO-CERT", country="BEL",
                                 communities=["NATO"])
    jpn, jpn_admin = Node.init(directory / "jpn", name="jpn", org="JPN-CERT", country="JPN",
                               communities=["IP4"])
    aus, aus_admin = Node.init(directory / "aus", name="aus", org="AUS-ACSC", country="AUS",
                               communities=["IP4"])
    shared = nato.add_collection("NATO shared threat intelligence", alias="shared").id
    from_nato = jpn.add_collection("Received from NATO", alias="from-nato").id
    from_jpn = aus.add_collection("Received from JPN-CERT", alias="from-jpn").id
    demo = Demo({"nato": nato, "jpn": jpn, "aus": aus},
                {"nato": nato_admin, "jpn": jpn_admin, "aus": aus_admin},
                {"nato": shared, "jpn": from_nato, "aus": from_jpn})
    nato.add_org("JPN-CERT", "JPN", ["IP4"])
    nato.grant(shared, "JPN-CERT", read=True, write=False, max_tlp="amber+strict")
    demo.tokens["jpn->nato"] = nato.add_user("jpn-node", "JPN-CERT", peer=True)
    jpn.add_org("NATO-CERT", "BEL", ["NATO"])
    jpn.grant(from_nato, "NATO-CERT", read=False, write=True, max_tlp="red")
    jpn.add_org("AUS-ACSC", "AUS", ["IP4"])
    jpn.grant(from_nato, "AUS-ACSC", read=True, write=False, max_tlp="amber")
    demo.tokens["aus->jpn"] = jpn.add_user("aus-node", "AUS-ACSC", peer=True)
    demo.tokens["aiko"] = jpn.add_user("aiko", "JPN-CERT")
    aus.add_org("JPN-CERT", "JPN", ["IP4"])
    aus.grant(from_jpn, "JPN-CERT", read=False, write=True, max_tlp="red")

    admin = nato.store.user("admin")
    assert admin is not None
    principal = nato.principal_for(admin)
    collection = nato.collection(shared)
    markings = [REL_NATO, REL_NATO_JPN, REL_NATO_JPN_AUS]
    ingest(nato.store, nato.snapshot(), principal, collection,
           [msgspec.json.encode(m) for m in markings], "file:demo")
    index = 0
    for path in sorted(DEMO_DATA.glob("*.json.gz")):
        raw = read_bundle(path)
        marked: list[bytes] = []
        for body in raw:
            obj: dict[str, Any] = msgspec.json.decode(body)
            if obj.get("type") in ("relationship", "marking-definition", "identity"):
                marked.append(body)  # relationships follow their ends (docs/policy.md, Rule 4)
                continue
            oid = obj.get("id", "")
            if oid in demo.category:  # a later version of an object keeps its markings
                name = demo.category[oid]
                refs = dict(MIX)[name]
            else:
                name, refs = MIX[index % len(MIX)]
                index += 1
            obj["object_marking_refs"] = sorted(set(obj.get("object_marking_refs", [])) | set(refs))
            demo.category[obj.get("id", "")] = name
            marked.append(msgspec.json.encode(obj))
        stored = rejected = 0
        for start in range(0, len(marked), 2000):
            results = ingest(nato.store, nato.snapshot(), principal, collection,
                             marked[start:start + 2000], f"file:{path.name}")
            stored += sum(1 for r in results if r.stored)
            rejected += sum(1 for r in results if not r.ok)
        console.print(f"  nato: {path.name}: {stored} stored" + (f", {rejected} rejected" if rejected else ""))
    return demo


def wire(demo: Demo) -> None:
    demo.nodes["jpn"].add_peer("nato", demo.urls["nato"], org="NATO-CERT",
                               token=demo.tokens["jpn->nato"], pull=[("shared", "from-nato")])
    demo.nodes["aus"].add_peer("jpn", demo.urls["jpn"], org="JPN-CERT",
                               token=demo.tokens["aus->jpn"], pull=[("from-nato", "from-jpn")])


def held(node: Node, collection: str) -> set[str]:
    """Ids in *collection* as the node's administrator reads them (through the gate)."""
    admin = node.store.user("admin")
    assert admin is not None
    principal = node.principal_for(admin)
    c = node.collection(collection)
    ids: set[str] = set()
    after = None
    while True:
        page = read_page(node.store, node.snapshot(), principal, c,
                         ObjectQuery(c.id, after_us=after, versions=VersionMatch(all=True)), 5000)
        ids.update(i.row.stix_id for i in page.items)
        if not page.more:
            return ids
        after = page.last_added


def summary(demo: Demo, console: Console) -> Table:
    """What each node holds per marking, and why what did not arrive did not."""
    nato, jpn = demo.nodes["nato"], demo.nodes["jpn"]
    have = {name: held(demo.nodes[name], demo.collections[name]) for name in demo.nodes}
    per: dict[str, Counter[str]] = {name: Counter() for name in demo.nodes}
    for oid, cat in demo.category.items():
        for name in demo.nodes:
            if oid in have[name]:
                per[name][cat] += 1
    jpn_peer = nato.principal_for(nato.store.user("jpn-node"))  # type: ignore[arg-type]
    aus_peer = jpn.principal_for(jpn.store.user("aus-node"))  # type: ignore[arg-type]
    table = Table(title="What each node received after one sync round")
    for column in ("markings", "NATO node", "JPN node", "AUS node", "why not"):
        table.add_column(column)
    for cat, refs in MIX:
        why = nato.snapshot().gate.explain(jpn_peer, refs, CollectionView(demo.collections["nato"], "real"))
        if why is None:
            why = jpn.snapshot().gate.explain(aus_peer, refs, CollectionView(demo.collections["jpn"], "real"))
            why = f"AUS: {why}" if why else ""
        else:
            why = f"JPN and AUS: {why}"
        table.add_row(cat, str(per["nato"][cat]), str(per["jpn"][cat]), str(per["aus"][cat]), why)
    rels = {name: sum(1 for i in have[name] if i.startswith("relationship--")) for name in demo.nodes}
    table.add_row("relationships (unmarked)", str(rels["nato"]), str(rels["jpn"]), str(rels["aus"]),
                  "only those whose both ends the receiver may see")
    return table


def curl_line(demo: Demo) -> str:
    """The query the demo prints: the Japanese node's analyst aiko reads malware it received.

    aiko is a user of JPN-CERT, the Japanese node's own organization, which may read the
    collection up to TLP:AMBER+STRICT (the grant a new collection gives it). ``-g`` stops curl
    reading ``match[type]`` as a glob; ``-sS`` hides the progress bar but not an error.
    """
    return (
        f'curl -sS -g -u "aiko:{demo.tokens["aiko"]}" '
        '-H "Accept: application/taxii+json;version=2.1" '
        f'"{demo.urls["jpn"]}/api/collections/from-nato/objects/?limit=3&match[type]=malware"'
    )


def _stopper(server: Any) -> Any:
    def stop() -> None:
        server.should_exit = True

    return stop


def run(directory: Path, console: Console, stack: ExitStack, port: int) -> Demo:
    """Build, serve on 127.0.0.1 (ports port, port+1, port+2), sync, print the summary."""
    import threading
    import time

    import uvicorn

    from kizuna.errors import ConfigError
    from kizuna.taxii.app import create_app
    from kizuna.web import mount

    demo = build(directory, console)
    for offset, name in enumerate(("nato", "jpn", "aus")):
        node = demo.nodes[name]
        config = uvicorn.Config(mount(create_app(node), node), host="127.0.0.1", port=port + offset,
                                log_level="warning")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            if not thread.is_alive():  # uvicorn logged why (a port in use, most often)
                raise ConfigError(
                    f"the {name} node could not serve on 127.0.0.1:{port + offset}; the demo "
                    f"uses ports {port}-{port + 2}: choose free ones with --port"
                )
            time.sleep(0.01)
        stack.callback(_stopper(server))
        demo.urls[name] = f"http://127.0.0.1:{port + offset}"
        console.print(f"  {name} node serving TAXII 2.1 at {demo.urls[name]}/taxii2/")
        console.print(f"    analysts' UI at {demo.urls[name]}/ui/: sign in as admin with token "
                      f"{demo.tokens[name]}", markup=False, highlight=False)
        if name == "jpn":
            console.print(f"    or as the analyst aiko (what JPN-CERT may see) with token "
                          f"{demo.tokens['aiko']}", markup=False, highlight=False)
    wire(demo)
    for name in ("jpn", "aus"):
        for r in sync(demo.nodes[name]):
            if r.error:
                console.print(f"  sync {name} <- {r.peer}: FAILED: {r.error}", markup=False)
            else:
                console.print(f"  sync {name} <- {r.peer}: {r.received} received, {r.stored} stored, "
                              f"{r.rejected} rejected")
    console.print(summary(demo, console))
    return demo
