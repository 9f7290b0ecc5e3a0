"""The access gate's cost: paged reads as an administrator and as a partner, and the time of a
``GET object`` for a hidden id against an absent one, in one run.

A node holds N (default 100,000) objects under 20 distinct marking sets: ten REL TO markings,
each with TLP:GREEN or TLP:AMBER. A partner organization (JPN-CERT, releasability codes JPN and
IP4, read grant up to TLP:AMBER) may see ``--share`` percent of them: 50 (the default: the
five REL TO markings that name JPN or IP4) or 1 (one group in a hundred carries a set that
admits it, the others sets that do not). Objects come in groups of 20 that share one marking
set (1 malware, 6 relationships ``indicates`` from an indicator of the group to its malware,
13 indicators), so the partner sees whole groups and every relationship it sees points at
objects it may see too; the relationships (30%) take the gate's fine pass (references to
hidden objects).

Both read every object through ``kizuna.node.read_page`` (the path of every TAXII GET, export
and sync push): the coarse gate in SQL (``marking_set IN (...)``), the fine gate in Python,
pages of ``--limit`` (default 1,000) visible objects, each page's bodies joined into a TAXII
envelope as the server does. Reported: objects/s for each, and the time per object returned,
partner over administrator.

With ``--timing``, the partner then asks the TAXII application (in-process, over ASGI: auth,
routing, the gate, the error resource) for objects by id, alternating, ``--requests`` times
each: ids stored but hidden from it by their markings, ids never stored, and relationships
its markings admit whose target is hidden (withheld by the fine pass, so hidden too: 200 of
them are added for this). Reported: the median and 90th percentile of each, and hidden over
absent.

    .venv/bin/python bench/gate.py
    .venv/bin/python bench/gate.py --objects 1000000 --share 1 --timing
    .venv/bin/python bench/gate.py --database postgresql://kizuna@127.0.0.1:55432/postgres

(with --database, the run creates a database of its own next to the one named, and drops it)

    .venv/bin/python bench/gate.py --objects 1000000 --share 1 --keep /tmp/gate-1m \
        --database postgresql://kizuna@127.0.0.1:55432/kizuna_gate_1m

(with --keep DIR, the node lives in DIR and the database named is used as it is; a later run
with the same DIR opens them again instead of loading: the million objects are loaded once)

Targets: filtered <= 1.3x unfiltered per object returned (issue "Access gate", share 50); at
1,000,000 stored, a partner who may see 1 % pages at <= 2x the administrator's cost per
object returned, and hidden and absent ``GET object`` medians within 10 % (issue 15).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
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


def objects(n: int, share: int = 50) -> Iterator[bytes]:
    """n objects in groups of 20 sharing a marking set (see :func:`marking_set`); ids as
    ``bench/taxii.py`` makes them (scattered, or in counting order with
    ``KIZUNA_BENCH_COUNTING_IDS=1``, as before 2026-11-29)."""
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
        obj["object_marking_refs"] = marking_set(i // 20, share)
        yield msgspec.json.encode(obj)


#: The sets that admit JPN-CERT (its REL TO marking names JPN or IP4), and those that do not.
ADMITTING = [s for s in SETS if any(m["id"] in s for m in MARKINGS[:5])]
DENYING = [s for s in SETS if s not in ADMITTING]


def marking_set(group: int, share: int) -> list[str]:
    """The marking set of a group of 20: cycling through all 20 sets (share 50), or one
    group in a hundred under an admitting set and the rest under denying ones (share 1)."""
    if share == 50:
        return SETS[group % len(SETS)]
    if group % 100 == 0:
        return ADMITTING[(group // 100) % len(ADMITTING)]
    return DENYING[group % len(DENYING)]


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


def timed_ids(
    node: Node, admin: Principal, collection: Collection, n: int, share: int
) -> dict[str, list[str]]:
    """Ids for the GET object timing: 200 stored ids hidden from the partner by their markings
    (scattered over the store), 200 never stored, and 200 relationships its markings admit
    whose target it may not see (stored now: withheld by the fine pass)."""
    groups = [g for g in range(0, n // 20) if marking_set(g, share) in DENYING]
    step = max(1, len(groups) // 200)
    hidden = [f"indicator--{object_uuid(g * 20 + 10)}" for g in groups[::step][:200]]
    absent = [f"indicator--{uuid.uuid4()}" for _ in hidden]
    s = "2025-06-01T00:00:00.000Z"
    withheld = []
    for g in groups[::step][:200]:
        withheld.append({
            "type": "relationship", "spec_version": "2.1",
            # The same ids every run: a kept node (--keep) stores them once.
            "id": f"relationship--{uuid.uuid5(uuid.NAMESPACE_URL, f'withheld/{g}')}", "created": s, "modified": s,
            "relationship_type": "indicates",
            "source_ref": f"indicator--{object_uuid(g * 20 + 10)}",
            "target_ref": f"malware--{object_uuid(g * 20)}",
            "object_marking_refs": ADMITTING[0],
        })
    results = ingest(node.store, node.snapshot(), admin, collection,
                     [msgspec.json.encode(o) for o in withheld], "file:bench")
    assert all(r.ok for r in results), [r.message for r in results if not r.ok][:3]
    return {"hidden": hidden, "absent": absent, "withheld": [str(o["id"]) for o in withheld]}


async def get_object_times(
    node: Node, token: str, cid: str, by_kind: dict[str, list[str]], requests: int
) -> dict[str, list[float]]:
    """Microseconds of each GET object, the kinds alternating (their order rotating)."""
    from kizuna.taxii.app import create_app

    app = create_app(node)
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/taxii+json;version=2.1"}
    times: dict[str, list[float]] = {k: [] for k in by_kind}
    kinds = list(by_kind)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://node") as client:
        for i in range(requests + 50):
            order = kinds[i % len(kinds):] + kinds[: i % len(kinds)]
            for kind in order:
                ids = by_kind[kind]
                path = f"/api/collections/{cid}/objects/{ids[i % len(ids)]}/"
                t0 = time.perf_counter()
                r = await client.get(path, headers=headers)
                elapsed = (time.perf_counter() - t0) * 1e6
                assert r.status_code == 404, (kind, r.status_code)
                if i >= 50:  # the first rounds warm caches
                    times[kind].append(elapsed)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--limit", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3, help="reads of each; the best counts")
    parser.add_argument("--database", default="", help="database URL; default SQLite")
    parser.add_argument("--share", type=int, choices=(50, 1), default=50,
                        help="percent of the objects the partner may see")
    parser.add_argument("--timing", action="store_true",
                        help="also time GET object for hidden, absent and withheld ids")
    parser.add_argument("--requests", type=int, default=2000,
                        help="GET object requests of each kind (--timing)")
    parser.add_argument(
        "--keep",
        default="",
        help="the node's directory, kept; opened (not loaded) when it exists",
    )
    parser.add_argument(
        "--analyze",
        action="store_true",
        help="PostgreSQL: ANALYZE after loading, as autovacuum would later (planner statistics)",
    )
    args = parser.parse_args()
    keep = Path(args.keep) if args.keep else None
    root = keep or Path(tempfile.mkdtemp(prefix="kizuna-bench-gate-"))
    reopen = keep is not None and (keep / "node").exists()
    if keep is not None:
        database = args.database
    else:
        database = fresh_database(args.database) if args.database else ""
    try:
        if reopen:
            node = Node.open(root / "node", database or None)
            [collection] = [c for c in node.store.collections() if c.alias == "shared"]
        else:
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
        # A token of its own each run (an opened node's tokens are not known).
        token = node.add_user(f"jpn-timing-{os.getpid()}", "JPN-CERT")
        admin_user = node.store.user("admin")
        partner_user = node.store.user("jpn-analyst")
        assert admin_user is not None and partner_user is not None
        admin = node.principal_for(admin_user)
        partner = node.principal_for(partner_user)

        if not reopen:
            print(f"loading {args.objects:,} objects ...", file=sys.stderr)
            ingest(node.store, node.snapshot(), admin, collection,
                   [msgspec.json.encode(m) for m in MARKINGS], "file:bench")
            batch: list[bytes] = []
            for raw in objects(args.objects, args.share):
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
        timing: dict[str, list[float]] = {}
        if args.timing:
            by_kind = timed_ids(node, admin, collection, args.objects, args.share)
            timing = asyncio.run(get_object_times(node, token, collection.id, by_kind, args.requests))
        node.close()
    finally:
        if keep is None:
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
    target = "<= 1.3x" if args.share == 50 else "<= 2x"
    print(f"\nfiltered / unfiltered per object returned: {p_per / a_per:.2f}x (target {target})")
    if timing:
        print(f"\n## GET object by id as the partner, {args.requests:,} requests of each, "
              "alternating (TAXII app in-process, ASGI)")
        print("| id | median us | p90 us |")
        print("| --- | ---: | ---: |")
        for kind, times in timing.items():
            times.sort()
            print(f"| {kind} | {statistics.median(times):,.0f} | "
                  f"{times[int(len(times) * 0.9)]:,.0f} |")
        h, a = (statistics.median(timing[k]) for k in ("hidden", "absent"))
        w = statistics.median(timing["withheld"])
        print(f"\nhidden / absent medians: {h / a:.3f} (target within 10 %); "
              f"withheld / absent: {w / a:.3f}")


if __name__ == "__main__":
    main()
