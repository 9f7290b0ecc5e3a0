"""Peak memory of ``kizuna sync`` against a peer that sends 1 GiB.

The peer is the fake peer of the tests (tests/sync/fakepeer.py) in a process of its own; the
receiving node runs ``kizuna sync`` as an operator would, in a child process whose peak RSS
(``ru_maxrss`` from ``wait4``) is what is measured. Scenarios:

* ``baseline``: a peer with 50 objects (what the Python process costs at all);
* ``huge``: one answer of 1 GiB of objects, whatever page size is asked for;
* ``gzip-bomb``: an answer of about 1 MiB that gzip turns into 1 GiB of JSON whitespace;
* ``honest``: 1 GiB of real pages (about 1 KiB objects, 1,000 a page), all stored.

Target (issue "Robustness"): peak RSS under 500 MB in every scenario.

    .venv/bin/python bench/sync_memory.py                  # all four
    .venv/bin/python bench/sync_memory.py --only huge gzip-bomb
    .venv/bin/python bench/sync_memory.py --honest-mib 256 # a smaller honest sync
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kizuna.node import Node  # noqa: E402

#: scenario -> (fake peer mode, objects it serves)
SCENARIOS = {
    "baseline": ("good", 50),
    "huge": ("huge", 0),
    "gzip-bomb": ("gzip_bomb", 0),
    "honest": ("fat", 0),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def receiver(root: Path, url: str) -> Path:
    node, _ = Node.init(root / "home", name="home", org="JPN-CERT", country="JPN")
    cid = node.add_collection("from peer", alias="from-peer").id
    node.add_org("PEER-ORG", "BEL")
    node.grant(cid, "PEER-ORG", read=False, write=True, max_tlp="red")
    node.add_peer("peer", url, org="PEER-ORG", token="t", pull=[("c", "from-peer")])
    node.close()
    return root / "home"


def run(scenario: str, honest_objects: int) -> tuple[float, float, str]:
    mode, count = SCENARIOS[scenario]
    if scenario == "honest":
        count = honest_objects
    port = free_port()
    peer = subprocess.Popen(
        [sys.executable, "-m", "tests.sync.fakepeer", mode, str(port), str(count)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert peer.stdout is not None
        url = peer.stdout.readline().strip()
        with tempfile.TemporaryDirectory(prefix="kizuna-syncmem-") as tmp:
            directory = receiver(Path(tmp), url)
            start = time.perf_counter()
            child = subprocess.Popen(
                [sys.executable, "-m", "kizuna", "sync", str(directory)],
                stderr=subprocess.PIPE,
                text=True,
                env={**os.environ, "COLUMNS": "200"},
            )
            assert child.stderr is not None
            err = child.stderr.read()
            _, status, usage = os.wait4(child.pid, 0)
            child.returncode = os.waitstatus_to_exitcode(status)
            seconds = time.perf_counter() - start
    finally:
        peer.terminate()
        peer.wait(10)
    lines = [ln.strip() for ln in err.splitlines() if "received" in ln or "FAILED" in ln]
    return usage.ru_maxrss / 1024, seconds, " | ".join(lines)[:300]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=sorted(SCENARIOS), default=None)
    parser.add_argument("--honest-mib", type=int, default=1024, help="size of the honest sync")
    args = parser.parse_args()
    honest_objects = args.honest_mib * 1024 * 1024 // 1008  # each fat object is 1,008 bytes
    names = args.only or list(SCENARIOS)
    print(f"{'scenario':<10} {'peak RSS MB':>11} {'x baseline':>10} {'seconds':>8}  outcome")
    base = None
    for name in names:
        peak, seconds, outcome = run(name, honest_objects)
        base = base or (peak if name == "baseline" else None)
        ratio = f"{peak / base:.2f}" if base else "-"
        print(f"{name:<10} {peak:>11.0f} {ratio:>10} {seconds:>8.1f}  {outcome}", flush=True)


if __name__ == "__main__":
    main()
