"""The access gate's cost: one paged read as an administrator and as a partner, in one run.

A node holds N (default 100,000) objects under 20 distinct marking sets: ten REL TO markings,
each with TLP:GREEN or TLP:AMBER. A partner organization (JPN-CERT, releasability codes JPN and
IP4, read grant up to TLP:AMBER) may see half of them: the five REL TO markings that name JPN
or IP4. Objects come in groups of 20 that share one marking set (1 malware, 6 relationships
``indicates`` from an indicator of the group to its malware, 13 indicators), so the partner
sees whole groups and every relationship it sees points at objects it may see too; the
relationships (30%) take the gate's fine pass (references to hidden objects).

Both read every object through ``node._read.read_page`` (the path of every TAXII GET, export
and sync push): the coarse gate in SQL (``marking_set IN (...)``), the fine gate in Python,
pages of ``--limit`` (default 1,000) visible objects, each page's bodies joined into a TAXII
envelope as the server does. Reported: objects/s for each, and the time per object returned,
partner over administrator.

    .venv/bin/python bench/gate.py
    .venv/bin/python bench/gate.py --database postgresql://kizuna@127.0.0.1:55432/postgres

(with --database, the run creates a database of its own next to the one named, and drops it)

Target (issue "Access gate"): filtered <= 1.3x unfiltered per object returned.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import msgspec

from kizuna.node import Node, ingest, read_page
from kizuna.policy.principal import Principal
from kizuna.stix.markings import TLP2_IDS, releasability_marking
from kizuna.store.types import Collection, ObjectQuery
from taxii import object_uuid  # bench/taxii.py: scattered ids, as real producers make them

#: Ten REL TO markings; the first five admit JPN-CERT (codes JPN, IP4), the last five do not.
RELS = [
    ["JPN"],
    ["JPN", "NATO"],
    ["IP4"],
    ["JPN", "USA"],
    ["IP4", "NATO"],
    ["NATO"],
    ["FRA"],
    ["EU"],
    ["GBR", "USA"],
    ["FVEY"],
]
MARKINGS = [releasability_marking(codes) for codes in RELS]
#: 20 marking sets: each REL TO with TLP:GREEN or TLP:AMBER.
SETS = [sorted([m["id"], TLP2_IDS[tlp]]) for m in MARKINGS for tlp in ("green", "amber")]


def objects(n: int) -> Iterator[bytes]:
    """n objects in groups of 20 sharing a marking set, cycling through the 20 sets; ids as
    ``bench/taxii.py`` makes them (scattered, or in counting order with
    ``KIZUNA_BENCH_COUNTING_IDS=1``, as before 2026-11-29's fifth session)."""
    for i in range(n):
        s = f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:{(i // 60) % 60:02d}.{i % 1000:03d}Z"
        slot = i % 20
        group = i - slot
        oid = object_uuid(i)
        obj: dict[str, object]
        if slot == 0:
            obj = {
                "type": "malware", "spec_version": "2.1", "id": f"malware--{oid}",
                "created": s, "modified": s, "name": f"Backdoor family {i}",
                "malware_types": ["backdoor"], "is_family": True,
            }
        elif slot <= 6:
            obj = {
                "type": "relationship", "spec_version": "2.1", "id": f"relationship--{oid}",
                "created": s, "modified": s, "relationship_type": "indicates",
                "source_ref": f"indicator--{object_uuid(group + 7)}",
                "target_ref": f"malware--{object_uuid(group)}",
            }
        else:
            obj = {
                "type": "indicator", "spec_version": "2.1", "id": f"indicator--{oid}",
                "created": s, "modified": s, "name": f"C2 domain {i}",
                "description": "Command-and-control domain seen in a phishing campaign.",
                "indicator_types": ["malicious-activity"],
                "pattern": f"[domain-name:value = 'c2-{i}.example']", "pattern_type": "stix",
                "valid_from": s,
            }
        obj["object_marking_refs"] = SETS[(i // 20) % len(SETS)]
        yield msgspec.json.encode(obj)


def fresh_database(url: str) -> str:
    """A new, empty PostgreSQL database next to *url* (dropped at the end)."""
    import psycopg

    name = f"kizuna_bench_gate_{os.getpid()}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.rsplit("/", 1)[0] + "/" + name


def drop_database(url: str, fresh: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{fresh.rsplit("/", 1)[1]}"')


def read_all(node: Node, principal: Principal, collection: Collection, limit: int) -> tuple[float, int]:
    """Seconds to read every visible object page by page, and how many there were."""
    after: int | None = None
    count = 0
    t0 = time.perf_counter()
    while True:
        page = read_page(
            node.store,
            node.snapshot(),
            principal,
            collection,
            ObjectQuery(collection_id=collection.id, after_us=after),
            limit,
        )
        envelope = b'{"more":true,"objects":[' + b",".join(i.body for i in page.items) + b"]}"
        count += len(page.items)
        del envelope
        if not page.more or page.last_added is None:
            break
        after = page.last_added
    return time.perf_counter() - t0, count


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--limit", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3, help="reads of each; the best counts")
    parser.add_argument("--database", default="", help="database URL; default SQLite")
    parser.add_argument(
        "--analyze",
        action="store_true",
        help="PostgreSQL: ANALYZE after loading, as autovacuum would later (planner statistics)",
    )
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="kizuna-bench-gate-"))
    database = fresh_database(args.database) if args.database else ""
    try:
        node, _ = Node.init(
            root / "node",
            name="gate",
            org="NATO-CERT",
            country="BEL",
            communities=["NATO"],
            database=database,
        )
        collection = node.add_collection("shared", alias="shared")
        node.add_org("JPN-CERT", "JPN", ["IP4"])
        node.grant(collection.id, "JPN-CERT", read=True, write=False, max_tlp="amber")
        node.add_user("jpn-analyst", "JPN-CERT")
        admin_user = node.store.user("admin")
        partner_user = node.store.user("jpn-analyst")
        assert admin_user is not None and partner_user is not None
        admin = node.principal_for(admin_user)
        partner = node.principal_for(partner_user)

        print(f"loading {args.objects:,} objects ...", file=sys.stderr)
        ingest(node.store, node.snapshot(), admin, collection,
               [msgspec.json.encode(m) for m in MARKINGS], "file:bench")
        batch: list[bytes] = []
        for raw in objects(args.objects):
            batch.append(raw)
            if len(batch) == 5000:
                ingest(node.store, node.snapshot(), admin, collection, batch, "file:bench")
                batch = []
        if batch:
            ingest(node.store, node.snapshot(), admin, collection, batch, "file:bench")
        if args.analyze and database:
            import psycopg

            with psycopg.connect(database, autocommit=True) as conn:
                conn.execute("ANALYZE")
        stored = node.store.count(collection.id)
        sets = len(node.snapshot().visible_sets(partner, collection) or ())

        best: dict[str, tuple[float, int]] = {}
        for _ in range(args.rounds):
            for name, who in (("admin", admin), ("partner", partner)):
                seconds, count = read_all(node, who, collection, args.limit)
                if name not in best or seconds < best[name][0]:
                    best[name] = (seconds, count)
        node.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)
        if database:
            drop_database(args.database, database)

    (a_s, a_n), (p_s, p_n) = best["admin"], best["partner"]
    a_per, p_per = a_s / a_n * 1e6, p_s / p_n * 1e6
    backend = "PostgreSQL" if args.database.startswith("postgres") else "SQLite"
    if args.analyze and database:
        backend += ", ANALYZE after loading"
    print(f"## Access gate: paged read (limit {args.limit:,}) of {stored:,} objects, "
          f"20 marking sets, {backend}, best of {args.rounds}")
    print("| reader | objects returned | seconds | objects/s | us per object returned |")
    print("| --- | ---: | ---: | ---: | ---: |")
    print(f"| admin (no filtering) | {a_n:,} | {a_s:.2f} | {a_n / a_s:,.0f} | {a_per:.1f} |")
    print(f"| partner JPN-CERT ({sets} of 20 sets) | {p_n:,} | {p_s:.2f} | {p_n / p_s:,.0f} "
          f"| {p_per:.1f} |")
    print(f"\nfiltered / unfiltered per object returned: {p_per / a_per:.2f}x (target <= 1.3x)")


if __name__ == "__main__":
    main()
