"""POST throughput of two or more versions of the server, side by side, in alternating rounds.

The machine is shared and its speed moves by 20 % from one quarter hour to the next, so a
change to the POST path is judged against the code before it in the same run, not against a
figure from another day. Each variant is a name and, optionally, a source tree to run instead
of this checkout (``NAME=PATH``, e.g. a ``git worktree`` of the previous commit) and environment
settings for its server (``NAME=PATH:KEY=VALUE,KEY=VALUE``; a KEY that names a node setting,
such as ``sqlite_checkpoint_mib``, is written into the node's ``kizuna.toml`` instead). Every variant gets a node preloaded
with ``--stored`` synthetic objects (by the variant's own code, in a process of its own: the same ingest a POST uses), its own
``kizuna serve`` process and one keep-alive ``http.client`` connection, all running at once.
Each round, the variants take turns (in an order that rotates from round to round), each
POSTing ``--objects`` new objects in envelopes of 100, then as many in envelopes of 1,000, so
that a slow minute of the machine falls on every variant alike. Each turn starts with the
node's SQLite log emptied and pays for copying what it wrote (as the POST rows of
``bench/taxii.py`` do since 2026-11-29).

    git worktree add /tmp/kizuna-before HEAD~1
    .venv/bin/python bench/post_ab.py before=/tmp/kizuna-before/src now

prints, per variant and envelope size, the median objects/s and the median server CPU time per
object (the server process's threads' time on the CPU, from /proc: less moved by other processes
than the wall clock), each with every round's figure and its ratio to the first variant; then
the overall rate, all rounds' objects over all their time. A merge of the id index or a
checkpoint falls in some rounds and not in others, so at a million stored the median of a few
rounds can miss them; the overall rate is the steady state they are part of.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import msgspec

import taxii as tb  # bench/taxii.py: data, node set-up, server, client
from kizuna import config
from kizuna.config import NodeConfig

SIZES = (100, 1000)


def _variant(text: str) -> tuple[str, dict[str, str]]:
    """NAME[=TREE][:KEY=VALUE,...] -> (NAME, its server's environment and settings)."""
    head, _, settings = text.partition(":")
    name, _, tree = head.partition("=")
    env = dict(kv.split("=", 1) for kv in settings.split(",") if kv)
    if tree:
        env["PYTHONPATH"] = tree
    return name, env


class _Running:
    """One variant's server, preloaded and warmed up, with its client."""

    def __init__(self, root: Path, env: dict[str, str], stored: int) -> None:
        self.root = root
        preload(root, env, stored)
        settings = {k: v for k, v in env.items() if k in NodeConfig.setting_names()}
        if settings:
            cfg = config.load(root)
            for key, value in settings.items():
                kind = type(getattr(cfg, key))
                if kind is bool:  # bool("false") is True
                    if value.lower() not in ("true", "false"):
                        raise SystemExit(f"{key}={value}: expected true or false")
                    setattr(cfg, key, value.lower() == "true")
                else:
                    setattr(cfg, key, kind(value))
            config.save(root, cfg)
        saved = dict(os.environ)
        os.environ.update({k: v for k, v in env.items() if k not in settings})
        try:
            self.server = tb.start_kizuna(root)
        finally:
            os.environ.clear()
            os.environ.update(saved)
        self.client = tb.Http(self.server)
        tb.post_one(self.client, self.server, tb.envelope([msgspec.json.encode(tb.REL)]))
        tb.post_all(self.client, self.server, list(tb.synthetic(35_000_000, 1000)), 100)

    def post(self, objs: list[bytes], size: int) -> tuple[float, float]:
        """objects/s and server CPU microseconds per object, POSTing *objs* *size* at a time."""
        # A connection of its own per turn: uvicorn closes one left idle for 5 s while the
        # other variants took theirs (or loaded their nodes).
        self.client.close()
        self.client = tb.Http(self.server)
        cpu = tb.cpu_seconds(self.server.proc.pid)
        # Each turn pays for copying the log it wrote (bench/taxii.py's settled rows): a
        # variant with a longer checkpoint interval would otherwise leave more of its copying
        # after its turn. The copy runs in this process, so the CPU figure leaves it out.
        rate = tb.settled(
            self.root, len(objs), lambda: tb.post_all(self.client, self.server, objs, size)
        )
        return rate, (tb.cpu_seconds(self.server.proc.pid) - cpu) / len(objs) * 1e6

    def stop(self) -> None:
        self.client.close()
        self.server.stop()


def preload(root: Path, env: dict[str, str], stored: int) -> None:
    """The variant's node, made and preloaded by the variant's own code (in a process of its
    own, with its PYTHONPATH): a variant may store things differently."""
    code = (
        "import sys; from pathlib import Path; import taxii as tb; "
        "tb.loaded_kizuna(Path(sys.argv[1]), list(tb.synthetic(30_000_000, int(sys.argv[2]))))"
        ".node.close()"
    )
    paths = [env["PYTHONPATH"]] if "PYTHONPATH" in env else []
    paths.append(str(Path(__file__).parent))
    subprocess.run(
        [sys.executable, "-c", code, str(root), str(stored)],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(paths)},
        check=True,
    )


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
    names = [n for n, _ in variants]
    rates: dict[tuple[str, int], list[float]] = {(n, s): [] for n in names for s in SIZES}
    cpus: dict[tuple[str, int], list[float]] = {(n, s): [] for n in names for s in SIZES}
    root = Path(tempfile.mkdtemp(prefix="kizuna-bench-ab-"))
    running: dict[str, _Running] = {}
    try:
        for name, env in variants:
            running[name] = _Running(root / name, env, args.stored)
        batch = 40_000_000
        for r in range(args.rounds):
            for name in names[r % len(names) :] + names[: r % len(names)]:
                got = []
                for size in SIZES:
                    batch += 1_000_000
                    rate, cpu = running[name].post(list(tb.synthetic(batch, args.objects)), size)
                    rates[name, size].append(rate)
                    cpus[name, size].append(cpu)
                    got.append(f"{rate:,.0f}/s {cpu:.1f} us")
                print(f"round {r + 1} {name}: " + ", ".join(got), flush=True)
    finally:
        for run in running.values():
            run.stop()
        shutil.rmtree(root, ignore_errors=True)
    first = names[0]
    for name in names:
        for size in SIZES:
            rate = statistics.median(rates[name, size])
            cpu = statistics.median(cpus[name, size])
            print(
                f"{name}, envelopes of {size:,}: {rate:,.0f} objects/s "
                f"({rate / statistics.median(rates[first, size]):.2f}x) "
                f"[{', '.join(f'{x:,.0f}' for x in rates[name, size])}]; server CPU "
                f"{cpu:.1f} us/object ({cpu / statistics.median(cpus[first, size]):.2f}x) "
                f"[{', '.join(f'{x:.1f}' for x in cpus[name, size])}]"
            )
    for name in names:
        for size in SIZES:
            overall = overall_rate(rates[name, size])
            print(
                f"{name}, envelopes of {size:,}, overall: {overall:,.0f} objects/s "
                f"({overall / overall_rate(rates[first, size]):.2f}x) over "
                f"{args.objects * args.rounds:,} objects"
            )


def overall_rate(rates: list[float]) -> float:
    """Objects per second over rounds of equal numbers of objects, from their rates."""
    return len(rates) / sum(1 / r for r in rates)


if __name__ == "__main__":
    main()
