"""POST throughput of two or more versions of the server, side by side, in alternating rounds.

The machine is shared and its speed moves by 20 % from one quarter hour to the next, so a
change to the POST path is judged against the code before it in the same run, not against a
figure from another day. Each variant is a name and, optionally, a source tree to run instead
of this checkout (``NAME=PATH``, e.g. a ``git worktree`` of the previous commit) and environment
settings for its server (``NAME=PATH:KEY=VALUE,KEY=VALUE``). Each round, every variant in turn
gets a fresh node preloaded with ``--stored`` synthetic objects (in process, the same ingest a
POST uses), a ``kizuna serve`` process, and one keep-alive ``http.client`` connection that
POSTs ``--objects`` new objects in envelopes of 100, then as many in envelopes of 1,000.

    git worktree add /tmp/kizuna-before HEAD~1
    .venv/bin/python bench/post_ab.py before=/tmp/kizuna-before/src now

prints, per variant, the median objects/s per envelope size with every round's figure, and
each variant's ratio to the first.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
from pathlib import Path

import msgspec

import taxii as tb  # bench/taxii.py: data, node set-up, server, client

SIZES = (100, 1000)


def _variant(text: str) -> tuple[str, dict[str, str]]:
    name, _, rest = text.partition("=")
    tree, _, settings = rest.partition(":")
    env = dict(kv.split("=", 1) for kv in settings.split(",") if kv)
    if tree:
        env["PYTHONPATH"] = tree
    return name, env


def _round(root: Path, env: dict[str, str], stored: int, objects: int, seed: int) -> list[float]:
    tb.loaded_kizuna(root, list(tb.synthetic(30_000_000, stored))).node.close()
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        server = tb.start_kizuna(root)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    client = tb.Http(server)
    try:
        tb.post_one(client, server, tb.envelope([msgspec.json.encode(tb.REL)]))
        rates = []
        for size in SIZES:
            new = list(tb.synthetic(40_000_000 + seed * 1_000_000 + size * 100_000, objects))
            rates.append(tb.post_all(client, server, new, size))
        return rates
    finally:
        client.close()
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("variants", nargs="+", help="NAME[=SOURCE_TREE][:KEY=VALUE,...]")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--stored", type=int, default=100_000, help="objects preloaded")
    parser.add_argument("--objects", type=int, default=20_000, help="objects POSTed per size")
    args = parser.parse_args()
    variants = [_variant(v) for v in args.variants]
    results: dict[str, dict[int, list[float]]] = {n: {s: [] for s in SIZES} for n, _ in variants}
    root = Path(tempfile.mkdtemp(prefix="kizuna-bench-ab-"))
    try:
        seed = 0
        for r in range(args.rounds):
            for name, env in variants:
                seed += 1
                rates = _round(root / f"{name}-{r}", env, args.stored, args.objects, seed)
                for size, rate in zip(SIZES, rates, strict=True):
                    results[name][size].append(rate)
                print(f"round {r + 1} {name}: " + ", ".join(f"{x:,.0f}" for x in rates))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    first = variants[0][0]
    for name, _ in variants:
        cells = []
        for size in SIZES:
            median = statistics.median(results[name][size])
            ratio = median / statistics.median(results[first][size])
            runs = ", ".join(f"{x:,.0f}" for x in results[name][size])
            cells.append(f"envelopes of {size:,}: {median:,.0f} objects/s ({ratio:.2f}x) [{runs}]")
        print(f"{name}: " + "; ".join(cells))


if __name__ == "__main__":
    main()
