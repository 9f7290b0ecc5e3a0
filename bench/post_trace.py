"""Where a long POST run's time goes, request by request, for one or more versions of the server.

A merge of the id index or a checkpoint of SQLite's log takes a fraction of a second, once in a
few hundred thousand objects at a million stored: a short run misses them, and a rate hides
them. This runs ``kizuna -v serve`` (its request log and the store's lines to a file) on a fresh
copy of one preloaded node per run, POSTs ``--objects`` new objects in envelopes of ``--size``
from one keep-alive ``http.client`` connection, and reads the server's log:

* the requests' median, mean, p99 and longest time, and the time the slow ones (over twice the
  median) took beyond the median: what merges and checkpoints cost the requests that met them;
* the time between two requests (the client's share: its parsing of the answer, its next
  request, the loopback);
* the merges of the id index and the checkpoints of the log, with their durations (as logged
  since 2026-12-02; older trees log merges without one, and checkpoints not at all).

Variants are ``NAME[=SOURCE_TREE]`` as for bench/post_ab.py; they run in turns, ``--rounds``
times, each on a copy of the same node, preloaded once (by the first variant's code, through
the ingest a POST uses) with ``--stored`` synthetic objects. The machine's speed moves by 10 to
20 % within minutes: compare variants within one run.

    git worktree add /tmp/kizuna-before HEAD~1
    .venv/bin/python bench/post_trace.py --stored 1000000 --objects 300000 --rounds 3 \\
        before=/tmp/kizuna-before/src now
"""

from __future__ import annotations

import argparse
import re
import shutil
import sqlite3
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import msgspec

import post_ab as ab  # bench/post_ab.py: the preload, the overall rate
import taxii as tb  # bench/taxii.py: data, node set-up, server, client

_REQUEST = re.compile(r'kizuna\.access: \S+ "POST [^"]*" 202 ([\d.]+) ms')
_MERGE = re.compile(r"(?:entering|entered) (\d+) recent versions in the id index(?: in ([\d.]+) s)?")
_CHECKPOINT = re.compile(r"WAL checkpoint: .* in ([\d.]+) s, ([\d.]+) s of it with the writers")


@dataclass
class Run:
    rate: float  # objects/s
    cpu: float  # server CPU microseconds per object
    median: float  # ms per request
    mean: float
    p99: float
    longest: float
    excess: float  # s: the slow requests' time beyond the median
    gap: float  # ms between requests
    merges: int
    merge_s: float
    checkpoints: int
    checkpoint_s: float
    locked_s: float

    def line(self) -> str:
        return (
            f"{self.rate:,.0f} objects/s, server CPU {self.cpu:.1f} us/object; requests: "
            f"median {self.median:.2f} ms, mean {self.mean:.2f}, p99 {self.p99:.1f}, "
            f"longest {self.longest:.0f}, slow ones {self.excess:.2f} s beyond the median; "
            f"{self.gap:.2f} ms between requests; {self.merges} merges ({self.merge_s:.2f} s), "
            f"{self.checkpoints} checkpoints ({self.checkpoint_s:.2f} s, "
            f"{self.locked_s:.2f} s with the writers waiting)"
        )


def _run(node: Path, tree: str, log: Path, objs: list[bytes], size: int) -> Run:
    server = tb.start_kizuna(node, log=log, tree=tree)
    client = tb.Http(server)
    try:
        tb.post_one(client, server, tb.envelope([msgspec.json.encode(tb.REL)]))
        tb.post_all(client, server, list(tb.synthetic(35_000_000, 2_000)), 100)  # warm-up
        client.close()
        client = tb.Http(server)  # uvicorn closes a connection left idle for 5 s
        before = len(log.read_text().splitlines())
        cpu = tb.cpu_seconds(server.proc.pid)
        t0 = time.perf_counter()
        tb.post_all(client, server, objs, size)
        wall = time.perf_counter() - t0
        cpu = tb.cpu_seconds(server.proc.pid) - cpu
        time.sleep(0.5)  # the last lines reach the file
    finally:
        client.close()
        server.stop()
    lines = log.read_text().splitlines()[before:]
    times = [float(m[1]) for line in lines if (m := _REQUEST.search(line))]
    merges = [m for line in lines if (m := _MERGE.search(line))]
    checkpoints = [m for line in lines if (m := _CHECKPOINT.search(line))]
    median = statistics.median(times)
    ordered = sorted(times)
    return Run(
        rate=len(objs) / wall,
        cpu=cpu / len(objs) * 1e6,
        median=median,
        mean=statistics.mean(times),
        p99=ordered[int(len(ordered) * 0.99)],
        longest=ordered[-1],
        excess=sum(t - median for t in times if t > 2 * median) / 1000,
        gap=(wall * 1000 - sum(times)) / len(times),
        merges=len(merges),
        merge_s=sum(float(m[2] or 0) for m in merges),
        checkpoints=len(checkpoints),
        checkpoint_s=sum(float(m[1]) for m in checkpoints),
        locked_s=sum(float(m[2]) for m in checkpoints),
    )


def _preload(directory: Path, tree: str, stored: int) -> None:
    """The node every run copies, preloaded by *tree*'s code, its log copied back."""
    ab.preload(directory, {"PYTHONPATH": tree} if tree else {}, stored)
    conn = sqlite3.connect(directory / "kizuna.db")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("variants", nargs="+", help="NAME[=SOURCE_TREE]")
    parser.add_argument("--stored", type=int, default=1_000_000, help="objects preloaded")
    parser.add_argument("--objects", type=int, default=300_000, help="objects POSTed per run")
    parser.add_argument("--size", type=int, default=100, help="objects per envelope")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="keep the servers' logs in this directory")
    args = parser.parse_args()
    variants = [(v.partition("=")[0], v.partition("=")[2]) for v in args.variants]
    root = Path(tempfile.mkdtemp(prefix="kizuna-bench-trace-"))
    runs: dict[str, list[Run]] = {name: [] for name, _ in variants}
    try:
        preloaded = root / "preloaded"
        print(f"preloading {args.stored:,} objects ...", flush=True)
        _preload(preloaded, variants[0][1], args.stored)
        logs = args.keep or root
        logs.mkdir(parents=True, exist_ok=True)
        batch = 50_000_000
        for r in range(args.rounds):
            for name, tree in variants[r % len(variants) :] + variants[: r % len(variants)]:
                batch += 1_000_000
                objs = list(tb.synthetic(batch, args.objects))
                node = root / "node"
                shutil.rmtree(node, ignore_errors=True)
                shutil.copytree(preloaded, node)
                run = _run(node, tree, logs / f"{name}-{r + 1}.log", objs, args.size)
                runs[name].append(run)
                print(f"round {r + 1} {name}: {run.line()}", flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    first = variants[0][0]

    def overall(name: str) -> float:
        return ab.overall_rate([run.rate for run in runs[name]])

    for name, _ in variants:
        medians = [run.median for run in runs[name]]
        print(
            f"{name}: overall {overall(name):,.0f} objects/s ({overall(name) / overall(first):.2f}x)"
            f"; request medians {', '.join(f'{m:.2f}' for m in medians)} ms; slow requests "
            f"{sum(run.excess for run in runs[name]):.2f} s beyond the median in all; "
            f"{sum(run.merges for run in runs[name])} merges, "
            f"{sum(run.checkpoints for run in runs[name])} checkpoints"
        )


if __name__ == "__main__":
    main()
