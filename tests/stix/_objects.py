"""Minimal valid STIX 2.1 objects of every type the validator knows, and the vendored real data."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent.parent / "data" / "stix"

#: Real data sets every object of which is valid STIX 2.1.
CLEAN = (
    "oasis-example-apt1.json.gz",
    "oasis-example-poisonivy.json.gz",
    "attack-sample.json.gz",
    "mbc-sample.json.gz",
    "atlas-sample.json.gz",
    "capec-sample.json.gz",
)

T0 = "2020-01-01T00:00:00.000Z"
T1 = "2021-06-30T12:00:00.000Z"
IDENTITY = "identity--f431f809-377b-45e0-aa1c-6a4751cae5ff"
MALWARE = "malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b"
INDICATOR = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
TLP_GREEN = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
TLP2_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"


def load(name: str) -> list[dict[str, Any]]:
    """The objects of one vendored bundle."""
    with gzip.open(DATA / name) as f:
        objects: list[dict[str, Any]] = json.load(f)["objects"]
    return objects


def _uuid(n: int) -> str:
    return f"{n:08x}-0000-4000-8000-000000000000"


def sdo(type_: str, n: int = 1, **props: Any) -> dict[str, Any]:
    """A minimal object of *type_* with the common properties and *props*."""
    return {
        "type": type_,
        "spec_version": "2.1",
        "id": f"{type_}--{_uuid(n)}",
        "created": T0,
        "modified": T0,
        **props,
    }


def minimal() -> dict[str, dict[str, Any]]:
    """One minimal valid object per type, keyed by type."""
    named = (
        "attack-pattern",
        "campaign",
        "course-of-action",
        "identity",
        "incident",
        "infrastructure",
        "intrusion-set",
        "threat-actor",
        "tool",
        "vulnerability",
    )
    objs = {t: sdo(t, name=f"a {t}") for t in named}
    objs["grouping"] = sdo("grouping", context="suspicious-activity", object_refs=[MALWARE])
    objs["indicator"] = sdo(
        "indicator",
        pattern="[ipv4-addr:value = '198.51.100.1']",
        pattern_type="stix",
        valid_from=T0,
    )
    objs["location"] = sdo("location", country="JP")
    objs["malware"] = sdo("malware", is_family=False)
    objs["malware-analysis"] = sdo("malware-analysis", product="sandbox", result="malicious")
    objs["note"] = sdo("note", content="seen twice", object_refs=[MALWARE])
    objs["observed-data"] = sdo(
        "observed-data",
        first_observed=T0,
        last_observed=T1,
        number_observed=3,
        object_refs=["ipv4-addr--" + _uuid(7)],
    )
    objs["opinion"] = sdo("opinion", opinion="agree", object_refs=[MALWARE])
    objs["report"] = sdo("report", name="r", published=T1, object_refs=[MALWARE])
    objs["relationship"] = sdo(
        "relationship", relationship_type="indicates", source_ref=INDICATOR, target_ref=MALWARE
    )
    objs["sighting"] = sdo("sighting", sighting_of_ref=INDICATOR, count=2)
    objs["extension-definition"] = sdo(
        "extension-definition",
        name="e",
        schema="https://example.org/schema",
        version="1.0",
        extension_types=["property-extension"],
        created_by_ref=IDENTITY,
    )
    objs["language-content"] = sdo(
        "language-content",
        object_ref=MALWARE,
        object_modified=T0,
        contents={"ja": {"name": "マルウェア"}},
    )
    md = sdo(
        "marking-definition",
        definition_type="statement",
        definition={"statement": "Copyright Kizuna"},
    )
    del md["modified"]
    objs["marking-definition"] = md
    objs["ipv4-addr"] = {
        "type": "ipv4-addr",
        "id": "ipv4-addr--" + _uuid(7),
        "value": "198.51.100.1",
    }
    objs["x-kizuna-thing"] = sdo("x-kizuna-thing", x_kizuna_size=3)
    return objs
