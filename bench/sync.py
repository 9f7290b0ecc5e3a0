"""Sync throughput between two nodes on 127.0.0.1.

Measures, in one run:

* the floor: downloading every page of the publisher's collection with a bare HTTP client
  (no validation, no storage);
* an initial sync of N objects (pull: fetch, validate, gate, store, commit cursor per page);
* a no-change sync (everything already there: one empty page).

and prints objects/s and the ratio of sync to the floor. The publisher runs ``kizuna serve`` in
its own process; the receiver syncs in this one.

    .venv/bin/python bench/sync.py --objects 100000

Targets (issue "Federation"): >= 10,000 objects/s initial, <= 1 s no-change at 100k.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import msgspec

from kizuna.node import Node
from kizuna.stix.markings import TLP2_IDS, releasability_marking
from kizuna.stix.timestamps import to_micros
from kizuna.store.types import NewVersion
from kizuna.sync.engine import sync

REL = releasability_marking(["NATO", "JPN"])


def synthetic(n: int) -> list[dict[str, object]]:
    """N indicators with a realistic marking mix (documented in docs/benchmarks.md)."""
    mix = [[], [TLP2_IDS["green"]], [TLP2_IDS["amber"]], [REL["id"]], [TLP2_IDS["clear"]]]
    out: list[dict[str, object]] = []
    for i in range(n):
        stamp = f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:{(i // 60) % 60:02d}.{i % 1000:03d}Z"
        obj: dict[str, object] = {
            "type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.UUID(int=i + 1, version=4)}",
            "created": stamp, "modified": stamp, "name": f"C2 domain {i}",
            "description": "Command-and-control domain seen in a phishing campaign.",
            "indicator_types": ["malicious-activity"],
            "pattern": f"[domain-name:value = 'c2-{i}.example']", "pattern_type": "stix",
            "valid_from": stamp, "labels": ["benchmark"],
        }
        if mix[i % len(mix)]:
            obj["object_marking_refs"] = mix[i % len(mix)]
        out.append(obj)
    return out


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--page-size", type=int, default=1000)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="kizuna-bench-sync-"))
    pub, _ = Node.init(root / "pub", name="pub", org="NATO-CERT", country="BEL", communities=["NATO"])
    shared = pub.add_collection("shared", alias="shared").id
    pub.add_org("JPN-CERT", "JPN", ["IP4"])
    pub.grant(shared, "JPN-CERT", read=True, write=False, max_tlp="amber")
    token = pub.add_user("jpn-node", "JPN-CERT", peer=True)
    print(f"loading {args.objects} objects into the publisher ...", file=sys.stderr)
    objs = synthetic(args.objects)
    for start in range(0, len(objs), 5000):
        chunk = objs[start : start + 5000]
        pub.store.add_versions(shared, [
            NewVersion(o["id"], "indicator", to_micros(o["modified"]), "2.1",  # type: ignore[arg-type]
                       tuple(sorted(o.get("object_marking_refs", []))), False, msgspec.json.encode(o))  # type: ignore[arg-type]
            for o in chunk
        ], "file:bench")
    rel = msgspec.json.encode(REL)
    pub.store.add_versions(shared, [NewVersion(REL["id"], "marking-definition", to_micros(REL["created"]), "2.1", (), False, rel)], "file:bench", marking_definitions=[(REL["id"], rel)])
    pub.close()
    visible = sum(1 for o in objs if o.get("object_marking_refs") != [TLP2_IDS["red"]])

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "-m", "kizuna", "serve", str(root / "pub"), "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ})
    try:
        for _ in range(300):
            try:
                httpx.get(url + "/taxii2/", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/taxii+json;version=2.1"}
        t0 = time.perf_counter()
        fetched = 0
        params: dict[str, object] = {"limit": args.page_size, "match[version]": "all"}
        with httpx.Client(headers=headers, timeout=60) as client:
            while True:
                body = client.get(f"{url}/api/collections/shared/objects/", params=params).content
                env = msgspec.json.decode(body)
                fetched += len(env.get("objects", []))
                if not env.get("more"):
                    break
                params = {"limit": args.page_size, "match[version]": "all", "next": env["next"]}
        floor = time.perf_counter() - t0

        sub, _ = Node.init(root / "sub", name="sub", org="JPN-CERT", country="JPN", communities=["IP4"])
        inbox = sub.add_collection("from NATO", alias="inbox").id
        sub.add_org("NATO-CERT", "BEL", ["NATO"])
        sub.grant(inbox, "NATO-CERT", read=False, write=True, max_tlp="red")
        sub.add_peer("pub", url, org="NATO-CERT", token=token, pull=[("shared", "inbox")])
        t0 = time.perf_counter()
        reports = sync(sub, page_size=args.page_size)
        initial = time.perf_counter() - t0
        assert reports[0].error is None, reports[0].error
        stored = reports[0].stored
        t0 = time.perf_counter()
        again = sync(sub, page_size=args.page_size)
        nochange = time.perf_counter() - t0
        assert again[0].stored == 0
    finally:
        server.terminate()
        server.wait()
    print(f"objects published: {args.objects}, visible to the peer: {visible}, fetched: {fetched}, stored: {stored}")
    print(f"floor (bare paged download): {floor:.2f} s = {fetched / floor:,.0f} objects/s")
    print(f"initial sync:                {initial:.2f} s = {stored / initial:,.0f} objects/s "
          f"(target >= 10,000)  ratio to floor {initial / floor:.2f}x")
    print(f"no-change sync:              {nochange:.3f} s (target <= 1 s)")


if __name__ == "__main__":
    main()
