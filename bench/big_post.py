"""Other clients' latency while one client POSTs a very large envelope (100,000 objects).

For each variant (``NAME`` or ``NAME=SOURCE_TREE``, as in ``bench/post_ab.py``): a fresh node
with ``max_body_bytes`` raised to hold the envelope, its own ``kizuna serve``, preloaded with
``--stored`` objects. Then two kinds of other clients run in processes of their own (so that
their timing shares no interpreter with anything else), each with one keep-alive connection
and a pause of 20 ms between requests: ``get`` clients read a page of 10 objects, ``post``
clients POST envelopes of 10 new objects. They run for a few seconds alone (the baseline), then
while the large POST runs, and stop when it is answered. Printed per variant: the large POST's
time, and for each kind of client, the p50, p99 and maximum latency during the large POST and
in the baseline (milliseconds) and how many requests that makes.

    .venv/bin/python bench/big_post.py before=/tmp/kizuna-before/src now --objects 100000
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import taxii as tb  # bench/taxii.py: data, node set-up, server, client
from kizuna import config

PAUSE = 0.02


def other_client(
    server: tb.Server, kind: str, start: int, stop_at: multiprocessing.Value, out: multiprocessing.Queue  # type: ignore[type-arg]
) -> None:
    """Requests of one *kind* until *stop_at* (a monotonic time, 0 until known) passes."""
    client = tb.Http(server)
    seq = start
    found: list[tuple[float, float]] = []  # (when it started, milliseconds)
    while True:
        now = time.monotonic()
        if stop_at.value and now > stop_at.value:
            break
        t0 = time.perf_counter()
        if kind == "get":
            code, _, body = client.request("GET", server.objects_url, {"limit": 10})
        else:
            body = tb.envelope(list(tb.synthetic(seq, 10)))
            seq += 10
            code, _, body = client.request("POST", server.objects_url, body=body)
        found.append((now, (time.perf_counter() - t0) * 1000))
        if code not in (200, 202):
            raise SystemExit(f"{kind} answered {code}: {body[:300]!r}")
        time.sleep(PAUSE)
    client.close()
    out.put((kind, found))


def quantiles(values: list[float]) -> str:
    if not values:
        return "n=0"
    ordered = sorted(values)
    p99 = ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]  # nearest rank
    return (
        f"p50 {statistics.median(values):7.1f}  p99 {p99:7.1f}  max {max(values):7.1f} ms "
        f"(n={len(values)})"
    )


def run(root: Path, name: str, tree: str, args: argparse.Namespace) -> None:
    directory = root / name
    loaded = tb.loaded_kizuna(directory, list(tb.synthetic(0, args.stored)))
    loaded.node.config.max_body_bytes = 1 << 30
    config.save(directory, loaded.node.config)
    loaded.node.close()
    big = tb.envelope(list(tb.synthetic(10_000_000, args.objects)))
    server = tb.start_kizuna(directory, 1, tree=tree)
    try:
        stop_at = multiprocessing.Value("d", 0.0)
        out: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
        kinds = ["get"] * args.getters + ["post"] * args.posters
        procs = [
            multiprocessing.Process(
                target=other_client, args=(server, kind, 20_000_000 + i * 1_000_000, stop_at, out)
            )
            for i, kind in enumerate(kinds)
        ]
        for p in procs:
            p.start()
        time.sleep(args.baseline)
        client = tb.Http(server)
        began = time.monotonic()
        code, _, answer = client.request("POST", server.objects_url, body=big)
        ended = time.monotonic()
        client.close()
        if code != 202:
            raise SystemExit(f"the large POST answered {code}: {answer[:300]!r}")
        stop_at.value = ended
        results = [out.get(timeout=600) for _ in procs]
        for p in procs:
            p.join()
    finally:
        server.stop()
    print(f"{name}: the POST of {args.objects:,} objects ({len(big) / 1e6:.0f} MB) took {ended - began:.1f} s")
    for kind in ("get", "post"):
        during = [ms for k, found in results if k == kind for t, ms in found if began <= t <= ended]
        before = [ms for k, found in results if k == kind for t, ms in found if t < began]
        if during or before:
            print(f"  {kind:4} during: {quantiles(during)}")
            print(f"  {kind:4} before: {quantiles(before)}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("variants", nargs="+", help="NAME[=SOURCE_TREE]")
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--stored", type=int, default=10_000, help="objects preloaded")
    parser.add_argument("--getters", type=int, default=2)
    parser.add_argument("--posters", type=int, default=1)
    parser.add_argument("--baseline", type=float, default=3.0, help="seconds before the POST")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="kizuna-bench-big-"))
    try:
        for variant in args.variants:
            name, _, tree = variant.partition("=")
            run(root, name, tree, args)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
