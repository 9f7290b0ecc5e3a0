"""The main job runs: three nodes, real data, one sync round, a summary that adds up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import free_port


def test_demo_federation_runs_and_nothing_leaks(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.run(
        [sys.executable, "-m", "kizuna", "demo", "--dir", str(tmp_path / "demo"), "--no-serve", "--port", str(port)],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    err = proc.stderr
    assert "sync jpn <- nato:" in err and "0 rejected" in err
    rows = {}
    for line in err.splitlines():
        cells = [c.strip() for c in line.strip("│┃ ").split("│")]
        if len(cells) >= 4 and cells[1].isdigit():
            rows[cells[0]] = tuple(int(c) for c in cells[1:4])
    assert rows["TLP:RED"][1:] == (0, 0)
    assert rows["TLP:AMBER+STRICT"][1:] == (0, 0)
    assert rows["REL TO NATO"][1:] == (0, 0)
    assert rows["REL TO JPN, NATO"][0] == rows["REL TO JPN, NATO"][1] > 0 and rows["REL TO JPN, NATO"][2] == 0
    assert rows["TLP:CLEAR"][0] == rows["TLP:CLEAR"][1] == rows["TLP:CLEAR"][2] > 0
    assert "curl -s -u" in proc.stdout
