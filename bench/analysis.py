"""Cyber analysis, side by side in one run: matching against stix2-matcher, ingest with the
value index on and off, ``related`` latency with one value carried by many objects, and the
index's size per entry.

    .venv/bin/python bench/analysis.py                       # a quick run
    .venv/bin/python bench/analysis.py --equality 1000000 --mixed 10000 --stored 1000000

Matching runs on one core (this process); stix2-matcher's rate is measured on a sample of the
same patterns and observations (it matches one pattern at a time) and scaled to the same
number of indicators. Prints ratios beside the figures; docs/benchmarks.md records them.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import msgspec
from stix2matcher.matcher import match as oracle_match

from kizuna.cyber import correlate
from kizuna.cyber.matcher import Indicator, Matcher
from kizuna.cyber.observations import observations
from kizuna.node import Node, ingest

rng = random.Random(20)


def _hex(n: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def _ip() -> str:
    return f"{rng.randrange(1, 224)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}"


def equality_patterns(n: int) -> list[str]:
    kinds = [
        lambda: f"[file:hashes.'SHA-256' = '{_hex(64)}']",
        lambda: f"[file:hashes.MD5 = '{_hex(32)}']",
        lambda: f"[ipv4-addr:value = '{_ip()}']",
        lambda: f"[domain-name:value = 'h{_hex(10)}.example.net']",
        lambda: f"[url:value = 'http://h{_hex(8)}.example.net/{_hex(6)}']",
    ]
    return [rng.choice(kinds)() for _ in range(n)]


def mixed_patterns(n: int) -> list[str]:
    kinds = [
        lambda: f"[domain-name:value LIKE '%.{_hex(3)}.example.net']",
        lambda: f"[url:value MATCHES '^http://[a-z0-9]+\\\\.{_hex(2)}']",
        lambda: f"[ipv4-addr:value ISSUBSET '{_ip().rsplit('.', 1)[0]}.0/24']",
        lambda: f"[file:name = 'f{_hex(4)}.exe' AND file:size > {rng.randrange(10_000)}]",
        lambda: (
            f"[file:hashes.MD5 = '{_hex(32)}'] FOLLOWEDBY [domain-name:value = 'h{_hex(10)}.example.net'] WITHIN 600 SECONDS"
        ),
        lambda: f"[ipv4-addr:value = '{_ip()}'] REPEATS 2 TIMES",
        lambda: (
            f"[file:hashes.'SHA-256' = '{_hex(64)}' OR file:name IN ('a{_hex(3)}', 'b{_hex(3)}')]"
        ),
    ]
    return [rng.choice(kinds)() for _ in range(n)]


def observation_objects(n: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    makers = [
        lambda i: {
            "type": "file",
            "id": f"file--{i}",
            "name": f"f{_hex(4)}.exe",
            "size": rng.randrange(20_000),
            "hashes": {"MD5": _hex(32), "SHA-256": _hex(64)},
        },
        lambda i: {"type": "ipv4-addr", "id": f"ipv4-addr--{i}", "value": _ip()},
        lambda i: {
            "type": "domain-name",
            "id": f"domain-name--{i}",
            "value": f"h{_hex(10)}.example.net",
        },
        lambda i: {
            "type": "url",
            "id": f"url--{i}",
            "value": f"http://h{_hex(8)}.example.net/{_hex(6)}",
        },
    ]
    for i in range(n):
        out.append(rng.choice(makers)(i))
    return out


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds else float("inf")


def bench_matching(
    n_patterns: int, patterns: list[str], objects: list[dict[str, Any]], label: str
) -> None:
    started = time.perf_counter()
    matcher = Matcher(Indicator(f"indicator--{i}", p) for i, p in enumerate(patterns))
    compile_s = time.perf_counter() - started
    batch = observations(objects, now_us=0)
    started = time.perf_counter()
    hits = 0
    for start in range(0, len(batch), 1000):
        hits += len(matcher.match(batch[start : start + 1000]))
    ours = rate(len(batch), time.perf_counter() - started)
    # stix2-matcher: a sample of patterns against a sample of observations, one pattern at a
    # time (its API), scaled to every pattern.
    sample_p, sample_o = patterns[:20], objects[:50]
    bundles = [
        {
            "type": "bundle",
            "id": "bundle--1",
            "objects": [
                *sample_o,
                *(
                    {
                        "type": "observed-data",
                        "id": f"observed-data--{o['id']}",
                        "first_observed": "2026-01-01T00:00:00Z",
                        "last_observed": "2026-01-01T00:00:00Z",
                        "number_observed": 1,
                        "object_refs": [o["id"]],
                    }
                    for o in sample_o
                ),
            ],
        }
    ]
    started = time.perf_counter()
    for p in sample_p:
        oracle_match(p, bundles, stix_version="2.1")
    per_pair = (time.perf_counter() - started) / (len(sample_p) * len(sample_o))
    theirs = 1 / (per_pair * n_patterns)
    print(
        f"matching, {label}: {n_patterns:,} patterns compiled in {compile_s:.1f} s; "
        f"{ours:,.0f} observations/s (one core, {hits} matches) against stix2-matcher "
        f"{theirs:,.3f} observations/s: {ours / theirs:,.0f}x"
    )


def _objects(n: int, carried: str, carriers: int) -> list[bytes]:
    out = []
    for i in range(n):
        oid = f"domain-name--{uuid.UUID(int=rng.getrandbits(128), version=4)}"
        value = carried if i < carriers else f"h{_hex(12)}.example.org"
        if i % 3 == 0:
            obj = {
                "type": "indicator",
                "spec_version": "2.1",
                "id": oid.replace("domain-name", "indicator"),
                "created": "2026-01-01T00:00:00.000Z",
                "modified": "2026-01-01T00:00:00.000Z",
                "pattern": f"[domain-name:value = '{value}']",
                "pattern_type": "stix",
                "valid_from": "2026-01-01T00:00:00Z",
            }
        else:
            obj = {"type": "domain-name", "spec_version": "2.1", "id": oid, "value": value}
        out.append(msgspec.json.encode(obj))
    rng.shuffle(out)
    return out


def _load(
    directory: Path, objects: list[bytes], *, index: bool, variant: str = "levels"
) -> tuple[Node, str, float]:
    """Ingest *objects* into a new node; *variant* (with the index): ``levels`` as the store
    keeps it, ``one`` with every entry in one table ordered by key (each batch moves on to
    the last level at once), ``hook`` with the keys computed and nothing entered."""
    node, _ = Node.init(directory, name="b", org="HOME", country="FRA")
    if index and variant == "one":
        node.store.value_level_0 = node.store.value_level_1 = 0
    elif index and variant == "hook":
        node.store._enter_values = lambda conn, entries: None  # type: ignore[method-assign]
    if not index:
        node.close()
        cfg = (
            (directory / "kizuna.toml")
            .read_text()
            .replace("value_index = true", "value_index = false")
        )
        (directory / "kizuna.toml").write_text(cfg)
        node = Node.open(directory)
    cid = node.add_collection("bench").id
    snap = node.snapshot()
    admin = snap.principal_for(node.store.user("admin"))  # type: ignore[arg-type]
    c = snap.collection(cid)
    assert c is not None
    started = time.perf_counter()
    for start in range(0, len(objects), 1000):
        ingest(node.store, node.snapshot(), admin, c, objects[start : start + 1000], "file:bench")
    return node, cid, rate(len(objects), time.perf_counter() - started)


def bench_store(stored: int, carriers: int, rounds: int, loads: int = 5) -> None:
    carried = "c2.hot.example.net"
    objects = _objects(stored, carried, carriers)
    with tempfile.TemporaryDirectory() as tmp:
        # Loads without and with the index alternate, in pairs: the machine is shared, and
        # the two loads of a pair see much the same moment. The ratio is the median of the
        # pairs' ratios, the rates the medians of each side.
        offs: list[float] = []
        ons: list[float] = []
        node: Node | None = None
        for n in range(loads):
            off, _, rate_off = _load(Path(tmp) / f"off{n}", objects, index=False)
            off.close()
            if node is not None:
                node.close()
            node, _, rate_on = _load(Path(tmp) / f"on{n}", objects, index=True)
            offs.append(rate_off)
            ons.append(rate_on)
        assert node is not None
        ratio = statistics.median(a / b for a, b in zip(ons, offs, strict=True))
        print(
            f"ingest of {stored:,} objects (a third indicators), batches of 1,000, {loads} pairs "
            f"of loads: {statistics.median(ons):,.0f} objects/s with the value index, "
            f"{statistics.median(offs):,.0f} without: {ratio:.2f}x (median of the pairs)"
        )
        entries = node.store.value_index_entries()
        values = _distinct_values(node)
        size = _sqlite_bytes(node)
        print(
            f"value index: {entries:,} entries for {values:,} distinct values and {stored:,} "
            "objects"
            + (
                f", {size:,} bytes: {size / entries:.1f} bytes per entry, "
                f"{size / values:.1f} per value, {size / stored:.1f} per object"
                if size
                else ""
            )
        )
        admin = node.snapshot().principal_for(node.store.user("admin"))  # type: ignore[arg-type]
        target = next(
            o
            for o in (msgspec.json.decode(b) for b in objects)
            if o["type"] == "domain-name" and o["value"] == carried
        )["id"]
        times = []
        for _ in range(rounds):
            started = time.perf_counter()
            page = correlate.related(node, admin, target, limit=100)
            times.append(time.perf_counter() - started)
        times.sort()
        p95 = times[int(0.95 * (len(times) - 1))]
        print(
            f"related, one value carried by {carriers:,} of {stored:,} objects, pages of 100: "
            f"median {statistics.median(times) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms "
            f"({len(page.items)} on the page, more: {page.next is not None})"
        )
        node.close()


def bench_levels(stored: int, loads: int) -> None:
    """Ingest without the index, with it in one table, with its levels, and with the keys
    computed but nothing entered, one load of each in turn, *loads* times."""
    objects = _objects(stored, "c2.hot.example.net", min(10_000, stored))
    rates: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(loads):
            for variant in ("off", "one", "levels", "hook"):
                node, _, r = _load(
                    Path(tmp) / f"{variant}{n}", objects, index=variant != "off", variant=variant
                )
                node.close()
                rates.setdefault(variant, []).append(r)
    off = statistics.median(rates["off"])
    print(
        f"ingest of {stored:,} objects, batches of 1,000, {loads} load(s) of each (medians): "
        + ", ".join(
            f"{v} {statistics.median(r):,.0f} objects/s ({statistics.median(r) / off:.2f}x)"
            for v, r in rates.items()
        )
    )


def _distinct_values(node: Node) -> int:
    with node.store._read.connect() as conn:  # a measurement
        return int(
            conn.exec_driver_sql(
                "SELECT count(*) FROM (SELECT value_key FROM value_index UNION "
                "SELECT value_key FROM value_index_recent UNION SELECT value_key FROM value_index_1)"
            ).scalar_one()
        )


def _sqlite_bytes(node: Node) -> int:
    try:
        with node.store._read.connect() as conn:  # a measurement: SQLite's own page statistics
            row = conn.exec_driver_sql(
                "SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'value\\_index%' ESCAPE '\\'"
            ).scalar()
    except Exception:
        return 0
    return int(row or 0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--equality", type=int, default=100_000, help="equality indicators")
    parser.add_argument("--mixed", type=int, default=10_000, help="mixed patterns")
    parser.add_argument("--observations", type=int, default=100_000)
    parser.add_argument("--stored", type=int, default=60_000, help="objects stored for related")
    parser.add_argument("--carriers", type=int, default=10_000, help="objects carrying one value")
    parser.add_argument("--rounds", type=int, default=40, help="related calls timed")
    parser.add_argument("--loads", type=int, default=5, help="pairs of ingest runs (without, with)")
    parser.add_argument(
        "--store-only", action="store_true", help="only ingest, the index and related"
    )
    parser.add_argument("--matching-only", action="store_true", help="only matching")
    parser.add_argument(
        "--levels",
        action="store_true",
        help="only ingest: without the index, one table, levels, the hook alone",
    )
    args = parser.parse_args(argv)
    if args.levels:
        bench_levels(args.stored, args.loads)
        return 0
    if not args.store_only:
        objects = observation_objects(args.observations)
        bench_matching(args.equality, equality_patterns(args.equality), objects, "equality")
        bench_matching(
            args.mixed, mixed_patterns(args.mixed), objects[: args.observations // 5], "mixed"
        )
    if not args.matching_only:
        bench_store(args.stored, min(args.carriers, args.stored), args.rounds, args.loads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
