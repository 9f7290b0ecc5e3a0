"""Peak memory of ``kizuna import`` given gzip bombs, for one or more versions of the code.

Two files of 1 GiB once decompressed (a few megabytes on disk), made in a temporary directory:

- ``spaces``: a bundle whose ``objects`` list holds 1 GiB of whitespace;
- ``string``: a bundle of one note whose ``content`` is a string of 1 GiB.

Each variant (``NAME`` or ``NAME=SOURCE_TREE``, a ``src`` directory to run instead of this
checkout's, as in ``bench/post_ab.py``) imports each file into a fresh node, in a process of
its own under a small wrapper that reports the child's peak resident set size
(``getrusage(RUSAGE_CHILDREN).ru_maxrss``); printed: peak RSS, wall time, exit status and the
last line the command wrote.

    git worktree add /tmp/kizuna-before <commit before streaming import>
    .venv/bin/python bench/import_rss.py before=/tmp/kizuna-before/src now
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GIB = 1 << 30
_WRAPPER = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
lines = [l for l in done.stderr.splitlines() if l.strip()]
print(peak, done.returncode, (lines[-1] if lines else "")[:160], sep="\\t")
"""


def make_bombs(root: Path, size: int) -> dict[str, Path]:
    """The two bombs, *size* bytes of filler each once decompressed."""
    block = 1 << 20
    spaces = root / "spaces.json.gz"
    with gzip.open(spaces, "wb", compresslevel=9) as f:
        f.write(b'{"type": "bundle", "id": "bundle--6f4e1d2c-1111-4222-8333-444455556666", "objects": [')
        for _ in range(size // block):
            f.write(b" " * block)
        f.write(b"]}")
    string = root / "string.json.gz"
    with gzip.open(string, "wb", compresslevel=9) as f:
        f.write(
            b'{"type": "bundle", "objects": [{"type": "note", "spec_version": "2.1", '
            b'"id": "note--6f4e1d2c-1111-4222-8333-444455556666", "created": '
            b'"2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z", "content": "'
        )
        for _ in range(size // block):
            f.write(b"A" * block)
        f.write(b'", "object_refs": ["note--6f4e1d2c-1111-4222-8333-444455556667"]}]}')
    return {"spaces": spaces, "string": string}


def run_variant(root: Path, name: str, tree: str, bomb: Path) -> tuple[int, float, int, str]:
    env = dict(os.environ)
    if tree:
        env["PYTHONPATH"] = tree
    node = root / f"node-{name}-{bomb.stem}"
    shutil.rmtree(node, ignore_errors=True)
    kizuna = [sys.executable, "-m", "kizuna"]
    subprocess.run(
        [*kizuna, "init", str(node), "--name", "n", "--org", "NATO-CERT", "--country", "BEL"],
        env=env,
        check=True,
        capture_output=True,
    )
    cid = subprocess.run(
        [*kizuna, "collection", "add", str(node), "bombs"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    started = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-c", _WRAPPER, *kizuna, "import", str(node), cid, str(bomb)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    seconds = time.monotonic() - started
    peak, status, last = out.split("\t", 2)
    return int(peak) // 1024, seconds, int(status), last


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("variants", nargs="+", help="NAME[=SOURCE_TREE]")
    parser.add_argument("--gib", type=float, default=1.0, help="decompressed size of each bomb")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="kizuna-bench-import-"))
    try:
        bombs = make_bombs(root, int(args.gib * GIB))
        for kind, path in bombs.items():
            print(f"{kind}: {path.stat().st_size / 1e6:.1f} MB on disk, {args.gib:g} GiB decompressed")
        for kind, path in bombs.items():
            for variant in args.variants:
                name, _, tree = variant.partition("=")
                peak, seconds, status, last = run_variant(root, name, tree, path)
                print(
                    f"{kind:7} {name:8} peak RSS {peak:6,} MB  {seconds:6.1f} s  exit {status}  "
                    f"{last}"
                )
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
