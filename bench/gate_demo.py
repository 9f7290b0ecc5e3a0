"""The access gate's cost on real data: the demo's NATO node read whole by its administrator
and by an analyst of JPN-CERT, in one run.

``kizuna demo --no-serve`` builds the demo federation in a temporary directory (real MITRE
ATT&CK ICS and Mobile, and MBC, under a mix of TLP 2.0 and REL TO markings; unmarked
relationships, about 30 % of which point at an object the analyst may not see). An analyst of
JPN-CERT, which the NATO node grants read up to TLP:AMBER+STRICT, is added there; both then
read the shared collection through ``kizuna.node.read_page`` (the path of every TAXII GET,
export and sync push) in pages of 1,000, best of ``--rounds``. Printed: microseconds per object
returned for each, and the analyst's over the administrator's.

    .venv/bin/python bench/gate_demo.py [--rounds 3]

Unlike ``bench/gate.py`` (synthetic groups whose relationships stay inside one marking set),
here the fine pass withholds many of the relationships the analyst's markings admit.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from kizuna.node import Node, read_page
from kizuna.store.types import ObjectQuery


def read_all(node: Node, username: str) -> tuple[int, float]:
    """(objects returned, seconds) for one whole read of the shared collection."""
    user = node.store.user(username)
    assert user is not None
    principal = node.principal_for(user)
    collection = node.collection("shared")
    snap = node.snapshot()
    query = ObjectQuery(collection_id=collection.id)
    n = 0
    start = time.perf_counter()
    while True:
        page = read_page(node.store, snap, principal, collection, query, 1000)
        n += len(page.items)
        if not page.more:
            return n, time.perf_counter() - start
        query = replace(query, after_us=page.items[-1].row.added_us)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    kizuna = str(Path(sys.executable).with_name("kizuna"))
    with tempfile.TemporaryDirectory(prefix="kizuna-gate-demo-") as root:
        demo = Path(root) / "demo"
        env = {**os.environ, "COLUMNS": "120"}
        subprocess.run([kizuna, "demo", "--dir", str(demo), "--no-serve", "--port", "8700"],
                       check=True, capture_output=True, env=env)
        subprocess.run([kizuna, "user", "add", str(demo / "nato"), "kenji", "--org", "JPN-CERT"],
                       check=True, capture_output=True)
        node = Node.open(demo / "nato")
        try:
            best: dict[str, tuple[int, float]] = {}
            for _ in range(args.rounds):
                for who in ("admin", "kenji"):
                    n, seconds = read_all(node, who)
                    if who not in best or seconds < best[who][1]:
                        best[who] = (n, seconds)
        finally:
            node.close()
    per = {who: seconds / n * 1e6 for who, (n, seconds) in best.items()}
    for who, label in (("admin", "administrator"), ("kenji", "JPN-CERT analyst")):
        print(f"{label:>17}: {best[who][0]:>6,} objects, {per[who]:6.1f} us per object returned")
    print(f"analyst / administrator per object returned: {per['kenji'] / per['admin']:.2f}x")


if __name__ == "__main__":
    main()
