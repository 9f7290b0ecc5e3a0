"""Where a POST's time goes: validation per object, in-process ingest, server CPU per request.

Measurements on the synthetic objects of bench/taxii.py (13 indicators, 6 relationships and
1 malware per 20, mixed markings), each printed on its own:

1. ``validate_object`` alone, microseconds per object (20,000 objects);
2. in-process ``ingest`` into a fresh SQLite node, objects/s in batches of 100 and 1,000
   (40,000 objects each, after a warm-up), and ``Node.snapshot()`` / ``Node.authenticate()``
   in microseconds; then the policy generation read right after a commit, on the SQLite
   store's kept read connection and on one from its pool;
3. the SQLite floor (and what the order of the ids and the id index's shape cost it: log
   frames per commit, time per row, with ids in counting order against scattered ones, and
   the index of id keys against the one before it; ``--page-sizes`` tries other page sizes
   with scattered ids, ``--id-index-stored`` another table size): the same rows as 2., inserted straight through ``sqlite3`` into the same
   schema (one ``executemany`` and one commit per transaction of 100 or 1,000), split into
   insert and commit time: what no POST on SQLite can beat;
4. ``kizuna serve`` in its own process, driven by one keep-alive ``http.client`` connection:
   the server process's CPU time (its threads' time on the CPU, from /proc) and the wall time per request for
   ``GET /taxii2/`` and POSTs of 1, 100 and 1,000 objects;
5. the small costs the POST path was shaped by: a hop to a worker thread and back (asyncio's
   and uvloop's executors, a no-op), making a frozen dataclass against a plain one, and an
   identifier checked by ``STRICT_IDENTIFIER`` against ``identifier_type``, and a body told
   free of granular markings and escapes by two searches against ``policy.refs._plain``, and
   the depth scan of an envelope (``stix.limits.json_depth``) beside msgspec's decode of it;
6. with ``--overlap-bound``: the upper bound of overlapping the ``versions`` insert with
   validation in a second thread (each batch's ``add_versions`` handed to a thread while the
   next batch is validated, which a POST could not even do), against the plain loop.

The machine is shared and noisy: compare two commits by running this alternately on each
(e.g. ``PYTHONPATH=/path/to/other/checkout/src``), not against a number from another day.

    .venv/bin/python bench/post_cost.py
    .venv/bin/python bench/post_cost.py --only-id-index --id-index-stored 1000000
"""

from __future__ import annotations

import argparse
import functools
import shutil
import sqlite3
import statistics
import tempfile
import time
import timeit
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import msgspec

import taxii as tb  # bench/taxii.py: data, node set-up, server, client
from kizuna.stix.timestamps import to_micros
from kizuna.stix.validate import validate_object
from kizuna.store._base import StoreBase
from kizuna.store._keys import id_key
from kizuna.store._transaction import INSERT_COLUMNS as _INSERT_COLUMNS
from kizuna.store.types import Outcome


def validation() -> None:
    objs = [msgspec.json.decode(b) for b in tb.synthetic(5_000_000, 20_000)]
    seconds = timeit.timeit(lambda: [validate_object(o) for o in objs], number=1)
    print(f"validate_object: {seconds / len(objs) * 1e6:.1f} us/object")


def in_process(root: Path) -> None:
    for size in (100, 1000):
        directory = root / f"ingest-{size}"
        loaded = tb.loaded_kizuna(directory, list(tb.synthetic(20_000_000, 2000)), size)
        node = loaded.node
        new = list(tb.synthetic(10_000_000, 40_000))
        t0 = time.perf_counter()
        loaded.ingest(new, size)
        rate = len(new) / (time.perf_counter() - t0)
        print(f"in-process ingest, batches of {size}: {rate:,.0f} objects/s")
        if size == 100:
            token = (directory / "bench-token").read_text()
            snap = timeit.timeit(node.snapshot, number=2000) / 2000 * 1e6
            auth = timeit.timeit(functools.partial(node.authenticate, token), number=2000)
            auth = auth / 2000 * 1e6
            print(f"Node.snapshot(): {snap:.0f} us; Node.authenticate(): {auth:.0f} us")
            _generation_after_writes(loaded)
        node.close()


def _generation_after_writes(loaded: tb.Loaded) -> None:
    """The policy generation read right after a POST of 100 has committed (as every request
    after a POST reads it), on the store's kept connection and on one from the read pool."""
    store = loaded.node.store
    new = list(tb.synthetic(12_000_000, 20_000))
    kept: list[float] = []
    pooled: list[float] = []
    for i in range(0, len(new), 200):
        loaded.ingest(new[i : i + 100], 100)
        t0 = time.perf_counter()
        store.policy_generation()
        t1 = time.perf_counter()
        loaded.ingest(new[i + 100 : i + 200], 100)
        t2 = time.perf_counter()
        StoreBase.policy_generation(store)
        t3 = time.perf_counter()
        kept.append(t1 - t0)
        pooled.append(t3 - t2)
    print(
        "policy generation right after a commit: kept connection "
        f"{statistics.median(kept) * 1e6:.0f} us, pooled {statistics.median(pooled) * 1e6:.0f} us"
    )


#: The statement the store runs to insert versions.
_INSERT = (
    f"INSERT INTO versions ({', '.join(_INSERT_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(_INSERT_COLUMNS))})"
)


def _rows(
    cid: str, start: int, count: int, first: int, counting: bool | None = None
) -> list[tuple[Any, ...]]:
    """``versions`` rows of synthetic objects, ``added_us`` counting from *first*."""
    out = []
    for n, raw in enumerate(tb.synthetic(start, count, counting)):
        obj = msgspec.json.decode(raw)
        version = to_micros(obj["modified"])
        stix_id = obj["id"]
        out.append(
            (first + n, cid, stix_id, obj["type"], version, "2.1", 1, 0, "x", raw, id_key(stix_id))
        )
    return out


def id_order(root: Path, page_sizes: list[int], stored: int = 100_000) -> None:
    """What the order of the ids and the shape of the id index cost SQLite: Kizuna's schema
    holding *stored* synthetic rows, then 10,000 more in transactions of 100, straight through
    ``sqlite3`` with SQLite's own checkpoints off, then one checkpoint of the whole log:

    - ids in counting order, an index of id keys on the versions (``store/_keys.py``;
      the layout of 2026-11-29);
    - scattered ids, as real ids are, the same;
    - scattered ids, the id index as it was before the keys: unique on (stix_id,
      collection_id, version_us, marking_set), about 110 bytes an entry against 30;
    - scattered ids, no id index written by the commits: the store's fresh versions since
      2026-11-29 (``store/_recent.py``), whose merge into the index, once per 65,536
      versions, is not in this figure;
    - scattered ids for each page size of *page_sizes* (the database rebuilt with it first).

    Printed per run: the log's frames (pages) per commit, and per row the time to insert, to
    commit, and its share of the checkpoint (which the store's thread runs beside writers)."""
    runs = [(True, 4096, "key"), (False, 4096, "key"), (False, 4096, "wide")]
    runs += [(False, 4096, "recent")]
    runs += [(False, p, "key") for p in page_sizes if p != 4096]
    for counting, page, index in runs:
        directory = root / f"ids-{counting}-{page}-{index}"
        node = tb.init_kizuna(directory)
        cid = node.collection("bench").id
        node.close()
        conn = sqlite3.connect(directory / "kizuna.db", isolation_level=None)
        if page != 4096:
            conn.execute("PRAGMA journal_mode=DELETE")
            conn.execute(f"PRAGMA page_size={page}")
            conn.execute("VACUUM")
        if index == "key":
            conn.execute(
                "CREATE INDEX ix_versions_key ON versions (id_key, version_us, marking_set)"
            )
        if index == "wide":
            conn.execute(
                "CREATE UNIQUE INDEX uq_versions_object "
                "ON versions (stix_id, collection_id, version_us, marking_set)"
            )
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "cache_size=-65536"):
            conn.execute(f"PRAGMA {pragma}")
        conn.execute("PRAGMA wal_autocheckpoint=0")
        for start in range(0, stored, 100_000):
            count = min(100_000, stored - start)
            conn.execute("BEGIN")
            conn.executemany(
                _INSERT, _rows(cid, 20_000_000 + start, count, 10**16 + start, counting)
            )
            conn.execute("COMMIT")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        new = _rows(cid, 10_000_000, 10_000, 2 * 10**16, counting)
        spent_insert = spent_commit = 0.0
        for i in range(0, len(new), 100):
            t0 = time.perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(_INSERT, new[i : i + 100])
            t1 = time.perf_counter()
            conn.execute("COMMIT")
            spent_insert += t1 - t0
            spent_commit += time.perf_counter() - t1
        wal = (directory / "kizuna.db-wal").stat().st_size
        t0 = time.perf_counter()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        spent_checkpoint = time.perf_counter() - t0
        conn.close()
        frames = (wal - 32) / (page + 24) / (len(new) / 100)
        what = {
            "key": "id keys",
            "wide": "(stix_id, collection_id, ...)",
            "recent": "none (fresh versions, merged later)",
        }[index]
        per_row = (spent_insert + spent_commit + spent_checkpoint) / len(new) * 1e6
        print(
            f"ids {'in counting order' if counting else 'scattered'}, index of {what}, "
            f"page size {page:,}, {stored:,} stored: "
            f"{frames:.0f} log frames per commit of 100 rows, {per_row:.1f} us/row "
            f"(insert {spent_insert / len(new) * 1e6:.1f}, commit "
            f"{spent_commit / len(new) * 1e6:.1f}, checkpoint "
            f"{spent_checkpoint / len(new) * 1e6:.1f})",
            flush=True,
        )
        shutil.rmtree(directory)


def sqlite_floor(root: Path) -> None:
    """The rows of the in-process ingest, written straight through sqlite3: Kizuna's schema
    and pragmas, one ``executemany`` and one commit per transaction, no validation, no
    Python in between. What a POST cannot beat on SQLite (SQLite's own checkpoints included,
    which the store otherwise runs in its thread)."""
    for size in (100, 1000):
        directory = root / f"floor-{size}"
        loaded = tb.loaded_kizuna(directory, list(tb.synthetic(20_000_000, 2000)), size)
        loaded.node.close()
        rows = _rows(loaded.collection.id, 10_000_000, 40_000, 10**16 + 1)
        conn = sqlite3.connect(directory / "kizuna.db", isolation_level=None)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "cache_size=-65536"):
            conn.execute(f"PRAGMA {pragma}")
        spent_insert = spent_commit = 0.0
        for i in range(0, len(rows), size):
            conn.execute("BEGIN IMMEDIATE")
            t0 = time.perf_counter()
            conn.executemany(_INSERT, rows[i : i + size])
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
            c0, t0 = tb.cpu_seconds(server.proc.pid), time.perf_counter()
            for body in bodies:
                if body is None:
                    code, _, _ = client.request("GET", discovery)
                    assert code == 200
                else:
                    tb.post_one(client, server, body)
            cpu = (tb.cpu_seconds(server.proc.pid) - c0) / len(bodies) * 1e6
            wall = (time.perf_counter() - t0) / len(bodies) * 1e6
            print(f"{label}: server CPU {cpu:,.0f} us/request, wall {wall:,.0f} us/request")
    finally:
        client.close()
        server.stop()


def small_costs() -> None:
    import asyncio
    from dataclasses import make_dataclass

    import uvloop

    from kizuna.policy.refs import _plain
    from kizuna.stix._properties import identifier_type
    from kizuna.stix._rules import STRICT_IDENTIFIER
    from kizuna.stix.limits import json_depth

    pool = ThreadPoolExecutor(1)

    async def hops(n: int) -> float:
        loop = asyncio.get_running_loop()
        for _ in range(100):
            await loop.run_in_executor(pool, int)
        t0 = time.perf_counter()
        for _ in range(n):
            await loop.run_in_executor(pool, int)
        return (time.perf_counter() - t0) / n * 1e6

    print(
        f"thread hop and back: asyncio {asyncio.run(hops(5000)):.0f} us, "
        f"uvloop {uvloop.run(hops(5000)):.0f} us"
    )
    pool.shutdown()

    seven = list(zip("abcdefg", (str, str, int, str, tuple, bool, bytes), strict=True))
    frozen = make_dataclass("Frozen", seven, frozen=True, slots=True)
    plain = make_dataclass("Plain", seven, slots=True)
    n = 200_000
    for cls in (frozen, plain):
        make = functools.partial(cls, "x", "y", 1, "2.1", (), False, b"")
        spent = timeit.timeit(make, number=n)
        print(f"make a {cls.__name__.lower()} dataclass of 7 fields: {spent / n * 1e6:.2f} us")
    oid = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
    old = timeit.timeit(lambda: STRICT_IDENTIFIER.match(oid)["type"], number=n) / n * 1e6
    new = timeit.timeit(lambda: identifier_type(oid), number=n) / n * 1e6
    print(f"identifier check: STRICT_IDENTIFIER {old:.2f} us, identifier_type {new:.2f} us")
    bodies = list(tb.synthetic(5_000_000, 2000))
    n = 50
    two = timeit.timeit(
        lambda: [b"granular_markings" not in b and b"\\u" not in b for b in bodies], number=n
    )
    one = timeit.timeit(lambda: [_plain(b) for b in bodies], number=n)
    print(
        "a body without granular markings or escapes: two searches "
        f"{two / n / len(bodies) * 1e6:.2f} us, policy.refs._plain (memchr first) "
        f"{one / n / len(bodies) * 1e6:.2f} us"
    )
    for size in (100, 1000):
        body = tb.envelope(bodies[:size])
        n = 20_000 // size
        scan = timeit.timeit(functools.partial(json_depth, body), number=n) / n / size * 1e6
        decode = timeit.timeit(functools.partial(msgspec.json.decode, body), number=n) / n / size * 1e6
        print(
            f"an envelope of {size}: its depth scanned (stix.limits.json_depth) {scan:.2f} us "
            f"per object, decoded by msgspec {decode:.2f} us per object"
        )


def _hand_over(store: Any, pending: list[Future[Any]]) -> None:
    """Make *store*'s ``add_versions`` return at once and run in a thread of its own."""
    pool = ThreadPoolExecutor(1)
    real = store.add_versions

    def handed_over(cid: str, items: Any, origin: str, **kw: Any) -> Any:
        pending.append(pool.submit(real, cid, items, origin, **kw))
        return [(Outcome.STORED, 1)] * len(items)

    store.add_versions = handed_over


def overlap_bound(root: Path) -> None:
    for size in (100, 1000):
        rates = []
        for overlap in (False, True):
            loaded = tb.loaded_kizuna(
                root / f"overlap-{size}-{overlap}", list(tb.synthetic(20_000_000, 20_000))
            )
            pending: list[Future[Any]] = []
            if overlap:
                _hand_over(loaded.node.store, pending)
            new = list(tb.synthetic(10_000_000, 30_000))
            t0 = time.perf_counter()
            loaded.ingest(new, size)
            for f in pending:
                f.result()
            rates.append((time.perf_counter() - t0) / len(new) * 1e6)
            loaded.node.close()
        print(
            f"insert overlapped with validation, batches of {size}: {rates[0]:.1f} -> "
            f"{rates[1]:.1f} us/object (upper bound)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--page-sizes",
        default="",
        help="comma-separated page sizes to try with scattered ids (e.g. 1024,2048,8192)",
    )
    parser.add_argument(
        "--id-index-stored",
        type=int,
        default=100_000,
        help="rows stored before the id index lines measure (default 100,000)",
    )
    parser.add_argument(
        "--only-id-index", action="store_true", help="measure the id index lines only"
    )
    parser.add_argument(
        "--overlap-bound",
        action="store_true",
        help="also measure the upper bound of overlapping the insert with validation",
    )
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="kizuna-bench-post-"))
    page_sizes = [int(p) for p in args.page_sizes.split(",") if p]
    try:
        if args.only_id_index:
            id_order(root, page_sizes, args.id_index_stored)
            return
        validation()
        in_process(root)
        sqlite_floor(root)
        id_order(root, page_sizes, args.id_index_stored)
        per_request(root)
        small_costs()
        if args.overlap_bound:
            overlap_bound(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
