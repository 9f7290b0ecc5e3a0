"""``kizuna match``, ``related`` and ``benign`` as an operator runs them (subprocesses)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kizuna.stix.markings import TLP2_IDS
from tests.cli.test_cli import run

SHA = "ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c"


def _indicator(n: int, pattern: str, tlp: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--00000000-0000-4000-8000-00000000000{n}",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
        "object_marking_refs": [TLP2_IDS[tlp]],
        **extra,
    }


def _setup(tmp_path: Path) -> tuple[Path, str]:
    d = tmp_path / "n"
    run("init", d, "--name", "n", "--org", "HOME", "--country", "FRA", "--community", "NATO")
    cid = run("collection", "add", d, "feed").stdout.strip()
    run("org", "add", d, "PARTNER", "--country", "DEU", "--community", "NATO")
    run("user", "add", d, "pat", "--org", "PARTNER")
    run("grant", d, cid, "--org", "PARTNER", "--read", "--write", "--max-tlp", "green")
    feed = {
        "type": "bundle",
        "id": "bundle--00000000-0000-4000-8000-000000000000",
        "objects": [
            _indicator(1, f"[file:hashes.'SHA-256' = '{SHA}']", "green"),
            _indicator(2, "[domain-name:value = 'c2.evil.net']", "amber"),
            _indicator(3, "[ipv4-addr:value = '10.0.0.1']", "clear"),
            _indicator(4, "[domain-name:value = 'old.evil.net']", "clear", revoked=True),
            _indicator(
                5,
                "[url:value LIKE 'http://x.evil.net/%']",
                "clear",
                valid_until="2026-02-01T00:00:00Z",
            ),
        ],
    }
    (tmp_path / "feed.json").write_text(json.dumps(feed))
    run("import", d, cid, tmp_path / "feed.json")
    return d, cid


def test_match_through_the_gate_with_sightings(tmp_path: Path) -> None:
    d, cid = _setup(tmp_path)
    lines = [
        {
            "type": "file",
            "id": "file--1",
            "hashes": {"SHA-256": SHA},
            "first_observed": "2026-03-01T10:00:00Z",
            "last_observed": "2026-03-01T10:05:00Z",
        },
        {"type": "domain-name", "id": "domain-name--2", "value": "c2.evil.net"},
        {"type": "domain-name", "id": "domain-name--3", "value": "old.evil.net"},
        {"type": "ipv4-addr", "id": "ipv4-addr--4", "value": "10.0.0.1"},
        {
            "type": "url",
            "id": "url--5",
            "value": "http://x.evil.net/a",
            "first_observed": "2026-03-01T00:00:00Z",
        },
    ]
    seen = tmp_path / "seen.ndjson"
    seen.write_text("\n".join(json.dumps(x) for x in lines))
    out = run("match", d, seen, "--as", "pat", "--json").stdout.splitlines()
    found = [json.loads(x) for x in out]
    # The amber indicator is hidden from PARTNER, the revoked one and the one whose validity
    # ended count for nobody, 10.0.0.1 is a private address (benign).
    assert [(f["observation"], f["indicator"][-1]) for f in found] == [("file--1", "1")]
    assert found[0]["matched"] == [
        {"object": "file--1", "path": "file:hashes.'SHA-256'", "value": SHA}
    ]
    assert found[0]["first_observed"] == "2026-03-01T10:00:00.000Z"
    admin = [json.loads(x) for x in run("match", d, seen, "--json", "--benign").stdout.splitlines()]
    assert sorted(f["indicator"][-1] for f in admin) == ["1", "2", "3"]
    assert next(f for f in admin if f["indicator"].endswith("3"))["benign"] == (
        "private addresses (RFC 1918)"
    )
    for _ in range(2):  # the same day twice: one sighting, a new version, counts added
        proc = run("match", d, seen, "--as", "pat", "--sightings", cid)
        assert "recorded" in proc.stderr
    export = json.loads(run("export", d, cid, "--as", "pat", "--all-versions").stdout)
    sightings = [o for o in export["objects"] if o["type"] == "sighting"]
    assert [s["count"] for s in sightings] == [1, 2]
    assert sightings[1]["sighting_of_ref"].endswith("1")
    assert sightings[1]["object_marking_refs"] == [TLP2_IDS["green"]]
    assert sightings[1]["first_seen"] == "2026-03-01T10:00:00.000Z"


def test_related_and_benign_lists(tmp_path: Path) -> None:
    d, cid = _setup(tmp_path)
    objs = {
        "type": "bundle",
        "id": "bundle--00000000-0000-4000-8000-000000000001",
        "objects": [
            {
                "type": "domain-name",
                "spec_version": "2.1",
                "id": "domain-name--00000000-0000-4000-8000-000000000009",
                "value": "C2.Evil.Net.",
            },
        ],
    }
    (tmp_path / "more.json").write_text(json.dumps(objs))
    run("import", d, cid, tmp_path / "more.json")
    sco = "domain-name--00000000-0000-4000-8000-000000000009"
    rows = [json.loads(x) for x in run("related", d, sco, "--json").stdout.splitlines()]
    assert [(r["object"][-1], r["relation"], r["value"]["value"]) for r in rows] == [
        ("2", "same value", "c2.evil.net")
    ]
    assert run("related", d, sco, "--as", "pat").stdout == ""  # the amber indicator is hidden
    hidden = run(
        "related", d, "indicator--00000000-0000-4000-8000-000000000002", "--as", "pat", ok=False
    )
    absent = run(
        "related", d, "indicator--00000000-0000-4000-8000-000000000007", "--as", "pat", ok=False
    )
    assert hidden.stderr.replace("2'", "?'") == absent.stderr.replace("7'", "?'")
    (tmp_path / "ours.txt").write_text("# our own\nevil.net\n")
    run("benign", "add", d, "ours", tmp_path / "ours.txt")
    assert "ours\t1" in run("benign", "list", d).stdout
    text = run("related", d, sco).stdout
    assert "[benign: ours]" in text
    run("benign", "remove", d, "ours")
    assert "ours" not in run("benign", "list", d).stdout
    bad = run("match", d, tmp_path / "nowhere.json", ok=False)
    assert bad.returncode == 1 and "cannot read" in bad.stderr
