"""Where a POST's time goes: validation per object, in-process ingest, server CPU per request.

Four measurements on the synthetic objects of bench/taxii.py (13 indicators, 6 relationships and
1 malware per 20, mixed markings), each printed on its own:

1. ``validate_object`` alone, microseconds per object (20,000 objects);
2. in-process ``ingest`` into a fresh SQLite node, objects/s in batches of 100 and 1,000
   (40,000 objects each, after a warm-up), and ``Node.snapshot()`` / ``Node.authenticate()``
   in microseconds;
3. the SQLite floor: the same rows as 2., inserted straight through ``sqlite3`` into the same
   schema (one ``executemany`` and one commit per transaction of 100 or 1,000), split into
   insert and commit time: what no POST on SQLite can beat;
4. ``kizuna serve`` in its own process, driven by one keep-alive ``http.client`` connection:
   the server process's CPU time (utime + stime from /proc) and the wall time per request for
   ``GET /taxii2/`` and POSTs of 1, 100 and 1,000 objects.

The machine is shared and noisy: compare two commits by running this alternately on each
(e.g. ``PYTHONPATH=/path/to/other/checkout/src``), not against a number from another day.

    .venv/bin/python bench/post_cost.py
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import sqlite3
import tempfile
import time
import timeit
from pathlib import Path

import msgspec

import taxii as tb  # bench/taxii.py: data, node set-up, server, client
from kizuna.node._ingest import ingest
from kizuna.stix.timestamps import to_micros
from kizuna.stix.validate import validate_object
from kizuna.store.sql import _INSERT_COLUMNS


def validation() -> None:
    objs = [msgspec.json.decode(b) for b in tb.synthetic(5_000_000, 20_000)]
    seconds = timeit.timeit(lambda: [validate_object(o) for o in objs], number=1)
    print(f"validate_object: {seconds / len(objs) * 1e6:.1f} us/object")


def in_process(root: Path) -> None:
    for size in (100, 1000):
        directory = root / f"ingest-{size}"
        node = tb.init_kizuna(directory)
        user = node.store.user("admin")
        assert user is not None
        admin = node.principal_for(user)
        collection = node.collection("bench")
        ingest(node.store, node.snapshot(), admin, collection, [msgspec.json.encode(tb.REL)], "x")
        warm = list(tb.synthetic(20_000_000, 2000))
        for i in range(0, len(warm), size):
            ingest(node.store, node.snapshot(), admin, collection, warm[i : i + size], "x")
        new = list(tb.synthetic(10_000_000, 40_000))
        t0 = time.perf_counter()
        for i in range(0, len(new), size):
            ingest(node.store, node.snapshot(), admin, collection, new[i : i + size], "x")
        rate = len(new) / (time.perf_counter() - t0)
        print(f"in-process ingest, batches of {size}: {rate:,.0f} objects/s")
        if size == 100:
            token = (directory / "bench-token").read_text()
            snap = timeit.timeit(node.snapshot, number=2000) / 2000 * 1e6
            auth = timeit.timeit(functools.partial(node.authenticate, token), number=2000)
            auth = auth / 2000 * 1e6
            print(f"Node.snapshot(): {snap:.0f} us; Node.authenticate(): {auth:.0f} us")
        node.close()


def sqlite_floor(root: Path) -> None:
    """The rows of the in-process ingest, written straight through sqlite3: Kizuna's schema
    and pragmas, one ``executemany`` and one commit per transaction, no validation, no
    Python in between. What a POST cannot beat on SQLite (SQLite's own checkpoints included,
    which the store otherwise runs in its thread)."""
    for size in (100, 1000):
        directory = root / f"floor-{size}"
        node = tb.init_kizuna(directory)
        user = node.store.user("admin")
        assert user is not None
        admin = node.principal_for(user)
        collection = node.collection("bench")
        ingest(node.store, node.snapshot(), admin, collection, [msgspec.json.encode(tb.REL)], "x")
        warm = list(tb.synthetic(20_000_000, 2000))
        for i in range(0, len(warm), size):
            ingest(node.store, node.snapshot(), admin, collection, warm[i : i + size], "x")
        node.close()
        added = 10**16
        rows = []
        for raw in tb.synthetic(10_000_000, 40_000):
            obj = msgspec.json.decode(raw)
            added += 1
            version = to_micros(obj["modified"])
            rows.append((added, collection.id, obj["id"], obj["type"], version, "2.1", 1, 0, "x", raw))
        conn = sqlite3.connect(directory / "kizuna.db", isolation_level=None)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "cache_size=-65536"):
            conn.execute(f"PRAGMA {pragma}")
        columns = ", ".join(_INSERT_COLUMNS)  # the statement the store runs
        insert = f"INSERT INTO versions ({columns}) VALUES ({', '.join('?' * len(_INSERT_COLUMNS))})"
        spent_insert = spent_commit = 0.0
        for i in range(0, len(rows), size):
            conn.execute("BEGIN IMMEDIATE")
            t0 = time.perf_counter()
            conn.executemany(insert, rows[i : i + size])
            t1 = time.perf_counter()
            conn.execute("COMMIT")
            spent_insert += t1 - t0
            spent_commit += time.perf_counter() - t1
        conn.close()
        per_row = (spent_insert + spent_commit) / len(rows) * 1e6
        print(
            f"SQLite floor, transactions of {size}: {len(rows) / (spent_insert + spent_commit):,.0f}"
            f" rows/s ({per_row:.1f} us/row: insert {spent_insert / len(rows) * 1e6:.1f},"
            f" commit {spent_commit / len(rows) * 1e6:.1f})"
        )


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def per_request(root: Path) -> None:
    directory = root / "serve"
    tb.init_kizuna(directory).close()
    server = tb.start_kizuna(directory)
    client = tb.Http(server)
    try:
        tb.post_one(client, server, tb.envelope([msgspec.json.encode(tb.REL)]))
        discovery = server.objects_url.split("/api/")[0] + "/taxii2/"
        runs = [("GET /taxii2/", 0, 3000), ("POST 1", 1, 2000), ("POST 100", 100, 20_000)]
        runs.append(("POST 1000", 1000, 20_000))
        for label, size, n in runs:
            if size:
                objs = list(tb.synthetic(10_000_000 * size, n))
                bodies: list[bytes | None] = [tb.envelope(c) for c in tb.chunks(objs, size)]
            else:
                bodies = [None] * n
            c0, t0 = _cpu_seconds(server.proc.pid), time.perf_counter()
            for body in bodies:
                if body is None:
                    code, _, _ = client.request("GET", discovery)
                    assert code == 200
                else:
                    tb.post_one(client, server, body)
            cpu = (_cpu_seconds(server.proc.pid) - c0) / len(bodies) * 1e6
            wall = (time.perf_counter() - t0) / len(bodies) * 1e6
            print(f"{label}: server CPU {cpu:,.0f} us/request, wall {wall:,.0f} us/request")
    finally:
        client.close()
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="kizuna-bench-post-"))
    try:
        validation()
        in_process(root)
        sqlite_floor(root)
        per_request(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
