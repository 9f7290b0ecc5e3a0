"""Small helpers shared by tests: loading vendored bundles, making STIX objects."""

from __future__ import annotations

import gzip
import json
import uuid
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data"
TAXII = "application/taxii+json;version=2.1"


def bundle_objects(name: str) -> list[dict[str, Any]]:
    path = DATA / "taxii" / name
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return list(json.load(fh)["objects"])


def indicator(
    *,
    name: str = "bad domain",
    created: str = "2026-01-01T00:00:00.000Z",
    modified: str | None = None,
    markings: list[str] | None = None,
    oid: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": oid or f"indicator--{uuid.uuid4()}",
        "created": created,
        "modified": modified or created,
        "name": name,
        "pattern": "[domain-name:value = 'evil.example']",
        "pattern_type": "stix",
        "valid_from": created,
    }
    if markings:
        obj["object_marking_refs"] = markings
    obj.update(extra)
    return obj


def envelope(objects: list[dict[str, Any]]) -> bytes:
    return json.dumps({"objects": objects}).encode()


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": TAXII}
