"""``kizuna import`` as an operator meets it: interrupted and run again, files that are not
bundles, exit statuses that say whether anything was imported."""

from __future__ import annotations

import gzip
import json
import re
import signal
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

from kizuna.node import Node
from tests.cli.test_cli import KIZUNA, run


def _indicators(n: int) -> list[dict[str, Any]]:
    return [
        {
            "type": "indicator",
            "spec_version": "2.1",
            "id": f"indicator--{uuid.uuid4()}",
            "created": "2026-01-01T00:00:00.000Z",
            "modified": "2026-01-01T00:00:00.000Z",
            "name": f"domain {i}",
            "pattern": f"[domain-name:value = 'd{i}.example']",
            "pattern_type": "stix",
            "valid_from": "2026-01-01T00:00:00Z",
        }
        for i in range(n)
    ]


def _bundle(path: Path, objects: list[dict[str, Any]]) -> Path:
    data = json.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects})
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(data.encode()))
    else:
        path.write_text(data)
    return path


def _node(tmp_path: Path) -> tuple[Path, str]:
    d = tmp_path / "n"
    run("init", d, "--name", "n", "--org", "NATO-CERT", "--country", "BEL")
    return d, run("collection", "add", d, "C").stdout.strip()


def _count(d: Path, cid: str) -> int:
    node = Node.open(d)
    try:
        return node.store.count(cid)
    finally:
        node.close()


def test_interrupted_import_says_what_was_committed_and_a_rerun_goes_on(tmp_path: Path) -> None:
    d, cid = _node(tmp_path)
    objects = _indicators(40_000)
    f = _bundle(tmp_path / "feed.json.gz", objects + objects[-25:])  # the input repeats 25
    proc = subprocess.Popen(
        [*KIZUNA, "import", str(d), cid, str(f), "--batch", "200"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 240
    while _count(d, cid) < 2000 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    said = re.search(r"interrupted: (\d+) object\(s\) stored and committed", stderr)
    assert said, stderr
    committed = int(said[1])
    assert 2000 <= committed < len(objects)
    assert committed == _count(d, cid)  # exactly what it said
    assert "Run the same command again" in stderr

    again = run("import", d, cid, f, "--batch", "200")
    assert (
        f"stored {len(objects) - committed}, already stored before this run {committed}, "
        "repeated in the input 25, rejected 0" in again.stderr
    )
    assert _count(d, cid) == len(objects)


def test_exit_status_says_whether_anything_was_imported(tmp_path: Path) -> None:
    d, cid = _node(tmp_path)
    good = _indicators(3)
    bad = [{**o, "modified": "2025-01-01T00:00:00.000Z"} for o in _indicators(2)]
    all_bad = run("import", d, cid, _bundle(tmp_path / "bad.json", bad), ok=False)
    assert all_bad.returncode == 1
    assert "rejected 2" in all_bad.stderr and "every object was rejected" in all_bad.stderr
    mixed = _bundle(tmp_path / "mixed.json", good + bad)
    assert "stored 3," in run("import", d, cid, mixed).stderr  # some stored: exit 0
    strict = run("import", d, cid, mixed, "--strict", ok=False)
    assert strict.returncode == 1 and "2 object(s) rejected (--strict)" in strict.stderr
    # Nothing new but nothing rejected: fine.
    assert "already stored before this run 3" in run("import", d, cid, mixed, "--strict", ok=False).stderr
    only_good = _bundle(tmp_path / "good.json", good)
    assert run("import", d, cid, only_good, "--strict").returncode == 0


def test_space_files_are_pointed_to_space_import(tmp_path: Path) -> None:
    d, cid = _node(tmp_path)
    tle = tmp_path / "catalog.txt"
    tle.write_text(
        "ISS (ZARYA)\n"
        "1 25544U 98067A   24001.50000000  .00016717  00000-0  10270-3 0  9009\n"
        "2 25544  51.6416 247.4627 0006703 130.5360 325.0288 15.50377579 12345\n"
    )
    proc = run("import", d, cid, tle, ok=False)
    assert proc.returncode == 1
    assert "looks like a set of two-line element sets (TLE)" in proc.stderr
    assert "kizuna space import" in proc.stderr


def test_a_file_past_max_bytes_is_refused(tmp_path: Path) -> None:
    d, cid = _node(tmp_path)
    f = _bundle(tmp_path / "big.json.gz", _indicators(2000))
    proc = run("import", d, cid, f, "--max-bytes", "100000", ok=False)
    assert proc.returncode == 1
    assert "more than 100000 bytes once decompressed" in proc.stderr
    assert _count(d, cid) == 0
