"""The demo: a node on embedded SQLite with real public data, served on 127.0.0.1.

``kizuna demo`` builds it from the data vendored in ``demo/data`` (ATT&CK ICS and Mobile, the
Malware Behavior Catalog), marks part of it for releasability, and serves it.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from kizuna.node import Node
from kizuna.node._files import read_bundle
from kizuna.node._ingest import ingest

DEMO_DATA = Path(__file__).resolve().parents[2] / "demo" / "data"


@dataclass
class DemoNode:
    node: Node
    admin_token: str
    collection_id: str
    analyst_token: str


def build(directory: Path, console: Console) -> DemoNode:
    """Create the demo node in *directory* (replacing an earlier one) and load its data."""
    if directory.exists():
        shutil.rmtree(directory)
    node, admin_token = Node.init(
        directory / "nato", name="nato-demo", org="NATO-CERT", country="BEL", communities=["NATO"]
    )
    c = node.add_collection(
        "Shared threat intelligence",
        alias="shared",
        description="ATT&CK ICS and Mobile, MBC: real public data",
    )
    admin = node.store.user("admin")
    assert admin is not None
    principal = node.principal_for(admin)
    for path in sorted(DEMO_DATA.glob("*.json.gz")):
        objects = read_bundle(path)
        results = []
        for start in range(0, len(objects), 2000):
            results += ingest(
                node.store,
                node.snapshot(),
                principal,
                c,
                objects[start : start + 2000],
                f"file:{path.name}",
            )
        stored = sum(1 for r in results if r.stored)
        rejected = [r for r in results if not r.ok]
        console.print(f"  {path.name}: {stored} stored, {len(rejected)} rejected")
        for r in rejected[:3]:
            console.print(f"    rejected {r.id}: {r.message}", markup=False, highlight=False)
    node.add_org("JPN-CERT", "JPN", ["IP4"])
    node.grant(c.id, "JPN-CERT", read=True, write=True, max_tlp="amber")
    analyst = node.add_user("aiko", "JPN-CERT")
    return DemoNode(node, admin_token, c.id, analyst)
