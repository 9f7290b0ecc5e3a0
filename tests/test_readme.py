"""The README's "Using a node" block runs as written and its curl line returns objects."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[1]


def using_a_node_block() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Using a node", 1)[1]
    match = re.search(r"```sh\n(.*?)```", section, re.S)
    assert match, "README.md: no sh block under 'Using a node'"
    return match.group(1)


def test_the_using_a_node_block_runs_as_written(tmp_path: Path) -> None:
    """In a directory that holds what a clone holds (.venv, demo/data) and nothing else.

    The one change is the port: 8000 may be taken where the tests run, so a free one stands in.
    """
    block = using_a_node_block()
    assert "../" not in block and "shared/data" not in block
    assert block.count("8000") == 2
    (tmp_path / ".venv").symlink_to(sys.prefix)
    (tmp_path / "demo").symlink_to(ROOT / "demo")
    script = block.replace("8000", str(free_port()))
    proc = subprocess.Popen(
        ["bash", "-e", "-o", "pipefail", "-c", script],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"},
        start_new_session=True,  # its own process group: a server left behind by a failure goes
    )
    try:
        stdout, stderr = proc.communicate(timeout=300)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
    assert proc.returncode == 0, stderr[-3000:]
    envelope = json.loads(stdout[stdout.index("{"):])
    objects = envelope["objects"]
    assert len(objects) == 5 and {o["type"] for o in objects} == {"intrusion-set"}
    assert "created user 'aiko' of JPN-CERT; it can read 1 collection(s): ATT&CK Mobile" in stderr
