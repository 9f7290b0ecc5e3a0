"""Node to node over HTTPS, with the peer's certificate verified against a configured CA."""

from __future__ import annotations

import subprocess
from pathlib import Path

from kizuna.sync.engine import sync
from kizuna.taxii.app import create_app
from tests.conftest import serve_app
from tests.sync.federation import CATEGORIES, build, ids_in, load, marked_objects


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (openssl, as an operator would make one)."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=kizuna-test", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    return cert, key


def test_sync_over_https_verifies_the_peer(tmp_path: Path) -> None:
    fed, tokens = build(tmp_path)
    objects, marked = marked_objects()
    load(fed.nato, fed.shared, objects)
    cert, key = self_signed(tmp_path)
    with serve_app(create_app(fed.nato), tls=(cert, key)) as url:
        assert url.startswith("https://")
        # Without the CA, the certificate does not verify: a clear error, no retries, nothing stored.
        fed.jpn.add_peer("nato", url, org="NATO-CERT", token=tokens["jpn->nato"], pull=[("shared", "from-nato")])
        waits: list[float] = []
        reports = sync(fed.jpn, client_options={"sleep": waits.append})
        assert reports[0].error is not None and "--ca-file" in reports[0].error
        assert waits == [] and ids_in(fed.jpn, fed.from_nato) == set()
        # With it, sync works.
        fed.jpn.add_peer("nato", url, org="NATO-CERT", token=tokens["jpn->nato"],
                         pull=[("shared", "from-nato")], ca_file=str(cert))
        reports = sync(fed.jpn)
        assert reports[0].error is None
        want = {oid for oid, cat in marked.items() if CATEGORIES[cat][1]}
        assert ids_in(fed.jpn, fed.from_nato) & set(marked) == want
