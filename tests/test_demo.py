"""The main job runs: three nodes, real data, one sync round, a summary that adds up."""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import free_ports


def _printed_line(proc: subprocess.Popen[str], timeout: float) -> str:
    """The first line the demo prints on stdout (the curl line), or fail after *timeout*."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 1.0)
        if ready:
            return proc.stdout.readline()
        if proc.poll() is not None:
            break
    raise AssertionError(f"the demo printed no line (exit status {proc.poll()})")


def test_demo_federation_runs_nothing_leaks_and_its_curl_line_works(tmp_path: Path) -> None:
    """The summary adds up, and the printed curl line, pasted as printed, returns objects."""
    port = free_ports(3)  # the demo serves on port, port + 1 and port + 2
    log = tmp_path / "stderr.txt"
    with log.open("w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kizuna", "demo", "--dir", str(tmp_path / "demo"),
             "--port", str(port)],
            stdout=subprocess.PIPE, stderr=stderr, text=True,
            env={**os.environ, "COLUMNS": "200"},
        )
        try:
            line = _printed_line(proc, 600)
            assert line.startswith("curl "), line
            answer = subprocess.run(["bash", "-c", line], capture_output=True, text=True, timeout=60)
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=60)
    err = log.read_text()
    assert proc.returncode == 0, err[-3000:]
    assert answer.returncode == 0, answer.stderr
    envelope = json.loads(answer.stdout)
    objects = envelope["objects"]
    assert 0 < len(objects) <= 3 and {o["type"] for o in objects} == {"malware"}
    assert envelope["more"] is True
    assert "sync jpn <- nato:" in err and "0 rejected" in err
    rows = {}
    for text in err.splitlines():
        cells = [c.strip() for c in text.strip("│┃ ").split("│")]
        if len(cells) >= 4 and cells[1].isdigit():
            rows[cells[0]] = tuple(int(c) for c in cells[1:4])
    assert rows["TLP:RED"][1:] == (0, 0)
    assert rows["TLP:AMBER+STRICT"][1:] == (0, 0)
    assert rows["REL TO NATO"][1:] == (0, 0)
    assert rows["REL TO JPN, NATO"][0] == rows["REL TO JPN, NATO"][1] > 0 and rows["REL TO JPN, NATO"][2] == 0
    assert rows["TLP:CLEAR"][0] == rows["TLP:CLEAR"][1] == rows["TLP:CLEAR"][2] > 0


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
