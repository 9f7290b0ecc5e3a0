"""The operator commands, run as users run them: ``python -m kizuna ...`` in a subprocess."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

from tests.helpers import DATA

KIZUNA = [sys.executable, "-m", "kizuna"]


def run(*args: str | Path, ok: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([*KIZUNA, *map(str, args)], capture_output=True, text=True, timeout=120)
    if ok:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_init_prints_only_the_token(tmp_path: Path) -> None:
    d = tmp_path / "n"
    proc = run(
        "init", d, "--name", "nato", "--org", "NATO-CERT", "--country", "BEL", "--community", "NATO"
    )
    lines = proc.stdout.splitlines()
    assert len(lines) == 1 and len(lines[0]) >= 40
    assert "created node" in proc.stderr
    config = (d / "kizuna.toml").read_text()
    assert lines[0] not in config  # only the hash is stored, in the database
    again = run("init", d, "--name", "x", "--org", "y", "--country", "BEL", ok=False)
    assert again.returncode == 1 and "already holds a Kizuna node" in again.stderr


def test_operator_workflow_import_export(tmp_path: Path) -> None:
    d = tmp_path / "n"
    run(
        "init", d, "--name", "nato", "--org", "NATO-CERT", "--country", "BEL", "--community", "NATO"
    )
    cid = run("collection", "add", d, "ATT&CK", "--description", "MITRE ATT&CK").stdout.strip()
    assert len(cid) == 36
    run("org", "add", d, "JPN-CERT", "--country", "JPN", "--community", "IP4")
    token = run("user", "add", d, "aiko", "--org", "JPN-CERT").stdout.strip()
    assert len(token) >= 40
    run("grant", d, cid, "--org", "JPN-CERT", "--read", "--max-tlp", "green")
    rel = json.loads(run("marking", "rel-to", d, "NATO", "jpn").stdout)
    assert rel["name"] == "REL TO JPN, NATO"

    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    source = DATA / "taxii" / "oasis-example-apt1.json.gz"
    proc = run("import", d, cid, source, bad, ok=False)
    assert proc.returncode == 1
    assert (
        "stored 76, already stored before this run 0, repeated in the input 0, rejected 0, "
        "unreadable files 1" in proc.stderr
    )
    assert "bad.json: not a STIX bundle" in proc.stderr
    proc = run("import", d, cid, source)
    assert "stored 0, already stored before this run 76, repeated in the input 0" in proc.stderr

    exported = json.loads(run("export", d, cid).stdout)
    assert exported["type"] == "bundle"
    with gzip.open(source, "rt") as fh:
        original = json.load(fh)["objects"]
    assert sorted(o["id"] for o in exported["objects"]) == sorted(o["id"] for o in original)
    assert {o["id"]: o for o in exported["objects"]} == {o["id"]: o for o in original}

    listed = run("collection", "list", d).stdout
    assert f"{cid}\t76\treal\tATT&CK" in listed
    assert "JPN-CERT\tJPN\tIP4" in run("org", "list", d).stdout


def test_import_reports_rejections(tmp_path: Path) -> None:
    d = tmp_path / "n"
    run("init", d, "--name", "n", "--org", "O", "--country", "FRA")
    cid = run("collection", "add", d, "C").stdout.strip()
    bundle = {
        "type": "bundle",
        "id": "bundle--6f4e1d2c-1111-4222-8333-444455556666",
        "objects": [
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": "indicator--6f4e1d2c-1111-4222-8333-444455556666",
                "created": "2026-01-02T00:00:00.000Z",
                "modified": "2026-01-01T00:00:00.000Z",
                "pattern": "[ipv4-addr:value = '1.2.3.4']",
                "pattern_type": "stix",
                "valid_from": "2026-01-01T00:00:00Z",
            },
        ],
    }
    f = tmp_path / "b.json"
    f.write_text(json.dumps(bundle))
    proc = run("import", d, cid, f, ok=False)
    assert proc.returncode == 1  # every object was rejected
    assert "stored 0, already stored before this run 0, repeated in the input 0, rejected 1" in (
        proc.stderr
    )
    assert "modified" in proc.stderr and "every object was rejected" in proc.stderr


def test_help_lists_every_command() -> None:
    out = run("--help").stdout
    for name in (
        "init",
        "serve",
        "collection",
        "user",
        "org",
        "grant",
        "marking",
        "import",
        "export",
        "space",
    ):
        assert name in out


def test_import_loads_definitions_before_the_objects_they_mark(tmp_path: Path) -> None:
    """ATT&CK lists its marking-definition last; batches must not refuse what it marks."""
    with gzip.open(DATA / "taxii" / "enterprise-attack-sample.json.gz") as fh:
        objects = list(json.loads(fh.read())["objects"])
    marking = [o for o in objects if o["type"] == "marking-definition"]
    rest = [o for o in objects if o["type"] != "marking-definition"]
    assert marking and any(marking[0]["id"] in o.get("object_marking_refs", []) for o in rest)
    f = tmp_path / "late-marking.json"
    f.write_text(json.dumps({"type": "bundle", "id": "bundle--6f4e1d2c-1111-4222-8333-444455556666", "objects": rest + marking}))
    d = tmp_path / "n"
    run("init", d, "--name", "n", "--org", "O", "--country", "FRA")
    cid = run("collection", "add", d, "C").stdout.strip()
    proc = run("import", d, cid, f, "--batch", "100")
    assert f"stored {len(objects)}, already stored before this run 0, repeated in the input 0, rejected 0" in proc.stderr


def test_two_imports_at_once_both_land(tmp_path: Path) -> None:
    """Writers of two processes queue for the database (an flock before BEGIN IMMEDIATE):
    neither fails with 'database is locked', and every object of both arrives once."""
    import uuid

    d = tmp_path / "n"
    run("init", d, "--name", "nato", "--org", "NATO-CERT", "--country", "BEL")
    cid = run("collection", "add", d, "feeds").stdout.strip()
    files = []
    for k in range(2):
        objects = [
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": f"indicator--{uuid.uuid4()}",
                "created": "2026-01-01T00:00:00.000Z",
                "modified": "2026-01-01T00:00:00.000Z",
                "name": f"feed {k} domain {i}",
                "pattern": f"[domain-name:value = 'f{k}-{i}.example']",
                "pattern_type": "stix",
                "valid_from": "2026-01-01T00:00:00Z",
            }
            for i in range(3000)
        ]
        path = tmp_path / f"feed{k}.json"
        path.write_text(json.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects}))
        files.append(path)
    procs = [
        subprocess.Popen(
            [*KIZUNA, "import", str(d), cid, str(f), "--batch", "100"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for f in files
    ]
    for p in procs:
        _, stderr = p.communicate(timeout=300)
        assert p.returncode == 0, stderr
        assert "stored 3000" in stderr, stderr
    exported = json.loads(run("export", d, cid).stdout)["objects"]
    assert len(exported) == 6000
    assert len({o["id"] for o in exported}) == 6000
