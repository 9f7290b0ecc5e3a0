"""Server time of the analyst UI's pages at a given number of stored objects.

    .venv/bin/python bench/web.py                      # 10k and 100k stored
    .venv/bin/python bench/web.py --stored 10000 100000 1000000

For each size: a node with that many indicators (TLP:GREEN, a relationship and a note for
every hundredth), read as a non-administrator analyst of the home organization. Requests go
to the mounted application in this process (httpx's ASGI transport: no network), so the
times are the server's. Prints p50 and p95 of the object page (random objects) and of
collection pages (the first page, and filtered by type and sorted by name), of searches (two
words of a name, "indicator 123"; one defanged domain, "d123[.]example", looked up exactly
as well), and the first collection page of a session (counts by type not yet kept) and its
first object page (the links it looks up not yet gathered), as ratios to the targets (pages
100 ms, search 50 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import msgspec

from kizuna.node import Node, ingest
from kizuna.stix.markings import TLP2_IDS
from kizuna.taxii.app import create_app
from kizuna.web import mount

GREEN = TLP2_IDS["green"]
T = "2026-05-01T00:00:00.000Z"


def objects(n: int) -> tuple[list[bytes], list[str]]:
    out: list[bytes] = []
    ids: list[str] = []
    for i in range(n):
        iid = f"indicator--{uuid.uuid4()}"
        ids.append(iid)
        out.append(msgspec.json.encode({
            "type": "indicator", "spec_version": "2.1", "id": iid, "created": T, "modified": T,
            "name": f"indicator {i}", "pattern_type": "stix", "valid_from": T,
            "pattern": f"[domain-name:value = 'd{i}.example']", "object_marking_refs": [GREEN]}))
        if i % 100 == 0:
            out.append(msgspec.json.encode({
                "type": "note", "spec_version": "2.1", "id": f"note--{uuid.uuid4()}", "created": T,
                "modified": T, "content": f"note on {i}", "object_refs": [iid],
                "object_marking_refs": [GREEN]}))
            if ids[:-1]:
                out.append(msgspec.json.encode({
                    "type": "relationship", "spec_version": "2.1", "id": f"relationship--{uuid.uuid4()}",
                    "created": T, "modified": T, "relationship_type": "related-to", "source_ref": iid,
                    "target_ref": ids[-2], "object_marking_refs": [GREEN]}))
    return out, ids


def build(root: Path, n: int) -> tuple[Node, str, str, list[str]]:
    node, _ = Node.init(root, name="bench", org="CERT-JP", country="JPN")
    token = node.add_user("analyst", "CERT-JP")
    c = node.add_collection("Intel", alias="intel")
    snap = node.snapshot()
    admin = node.principal_for(next(u for u in snap.users.values() if u.name == "admin"))
    data, ids = objects(n)
    for start in range(0, len(data), 5000):
        ingest(node.store, node.snapshot(), admin, c, data[start : start + 5000], "file:bench")
    return node, token, c.id, ids


async def measure(node: Node, token: str, cid: str, ids: list[str], rounds: int) -> dict[str, Any]:
    app = mount(create_app(node), node)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        form = (await client.get("/ui/login")).text
        csrf = form.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        answer = await client.post("/ui/login", data={"username": "analyst", "token": token, "csrf": csrf})
        assert answer.status_code == 303, answer.text

        async def timed(path: str) -> float:
            started = time.perf_counter()
            r = await client.get(path)
            elapsed = time.perf_counter() - started
            assert r.status_code == 200, (path, r.status_code)
            return elapsed * 1000

        cold = await timed(f"/ui/collections/{cid}/")
        rng = random.Random(1)
        cold_object = await timed(f"/ui/objects/{rng.choice(ids)}")
        obj = [await timed(f"/ui/objects/{rng.choice(ids)}") for _ in range(rounds)]
        first = [await timed(f"/ui/collections/{cid}/") for _ in range(rounds)]
        later = [await timed(f"/ui/collections/{cid}/?type=indicator&sort=name") for _ in range(rounds)]
        n = len(ids)
        words = [await timed(f"/ui/search?q=indicator+{rng.randrange(n)}") for _ in range(rounds)]
        exact = [await timed(f"/ui/search?q=d{rng.randrange(n)}[.]example") for _ in range(rounds)]
    return {"cold": cold, "cold_object": cold_object, "object": obj, "collection": first,
            "filtered": later, "search": words, "exact": exact}


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stored", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    print(f"{'stored':>9} {'page':<28} {'p50 ms':>8} {'p95 ms':>8} {'p95/target':>10}")
    for n in args.stored:
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            node, token, cid, ids = build(Path(tmp) / "node", n)
            built = time.perf_counter() - started
            result = asyncio.run(measure(node, token, cid, ids, args.rounds))
            node.close()
        note = f"(built in {built:.0f} s)"
        print(f"{n:>9} {note:<28}")
        print(f"{n:>9} {'collection, first of session':<28} {result['cold']:>8.1f} {'':>8}")
        print(f"{n:>9} {'object, first of session':<28} {result['cold_object']:>8.1f} {'':>8}")
        for key, label, target in (("object", "object page", 100), ("collection", "collection page", 100),
                                   ("filtered", "collection, type + sort", 100),
                                   ("search", "search, two words", 50),
                                   ("exact", "search, a defanged domain", 50)):
            values = result[key]
            print(f"{n:>9} {label:<28} {p(values, 50):>8.1f} {p(values, 95):>8.1f} "
                  f"{p(values, 95) / target:>10.2f}")


if __name__ == "__main__":
    main()
