"""The main job runs: three nodes, real data, one sync round, a summary that adds up."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from tests.conftest import free_ports


def test_demo_federation_runs_and_nothing_leaks(tmp_path: Path) -> None:
    port = free_ports(3)  # the demo serves on port, port + 1 and port + 2
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


def test_demo_says_when_a_port_is_taken(tmp_path: Path) -> None:
    """A node that cannot serve ends the demo with a clear error (it used to wait for ever)."""
    port = free_ports(3)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port + 1))
        taken.listen()
        proc = subprocess.run(
            [sys.executable, "-m", "kizuna", "demo", "--dir", str(tmp_path / "demo"), "--no-serve",
             "--port", str(port)],
            capture_output=True, text=True, timeout=600,
        )
    assert proc.returncode == 1
    assert f"the jpn node could not serve on 127.0.0.1:{port + 1}" in proc.stderr
    assert "choose free ones with --port" in proc.stderr
