"""Rebuild the vendored STIX subsets in this folder from the full data sets.

Run from the repository root with the shared data directory as argument:

    .venv/bin/python tests/data/stix/make_subsets.py /work/shared/data/stix

Selection is deterministic (the first objects of each type, in file order), so a rebuild from
the same inputs gives the same files.
"""

from __future__ import annotations

import gzip
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent


def load(src: Path, name: str) -> list[dict[str, Any]]:
    with gzip.open(src / name) as f:
        objects: list[dict[str, Any]] = json.load(f)["objects"]
    return objects


def first_per_type(
    objects: list[dict[str, Any]], per_type: int, limits: dict[str, int] | None = None
) -> list[dict[str, Any]]:
    counts: dict[str, int] = defaultdict(int)
    chosen = []
    for obj in objects:
        limit = (limits or {}).get(obj["type"], per_type)
        if counts[obj["type"]] < limit:
            counts[obj["type"]] += 1
            chosen.append(obj)
    return chosen


def write(name: str, objects: list[dict[str, Any]]) -> None:
    bundle = {
        "type": "bundle",
        "id": "bundle--" + "0" * 8 + "-0000-4000-8000-" + "0" * 12,
        "objects": objects,
    }
    data = json.dumps(bundle, indent=None, sort_keys=True).encode()
    with gzip.GzipFile(HERE / name, "wb", mtime=0) as f:
        f.write(data)
    print(name, len(objects), (HERE / name).stat().st_size, "bytes")


def main(src: Path) -> None:
    for name in ("oasis-example-apt1.json.gz", "oasis-example-poisonivy.json.gz"):
        write(name, load(src, name))
    no_collection = {"x-mitre-collection": 0}
    attack = first_per_type(
        load(src, "enterprise-attack-18.1-from-cti-2.1.json.gz"),
        25,
        {**no_collection, "relationship": 100},
    )
    attack += first_per_type(load(src, "ics-attack-18.1.json.gz"), 5, no_collection)
    attack += first_per_type(load(src, "mobile-attack-17.1.json.gz"), 5, no_collection)
    write("attack-sample.json.gz", attack)
    mbc = load(src, "mbc-stix2.1.json.gz")
    write("mbc-sample.json.gz", first_per_type(mbc, 20, {"indicator": 1000}))
    atlas = load(src, "atlas-stix.json.gz")
    dirty = [o for o in atlas if "modified" in o and o["modified"] < o.get("created", "")]
    dirty += [o for o in atlas if "created" not in o]
    write("atlas-sample.json.gz", first_per_type([o for o in atlas if o not in dirty], 10))
    for o in dirty:
        o.pop("x_mitre_contents", None)  # large and irrelevant to what makes it dirty
    write("atlas-dirty.json.gz", dirty)
    capec = load(src, "capec-2.1-from-cti.json.gz")
    write("capec-sample.json.gz", first_per_type(capec, 10))
    write(
        "capec-dirty.json.gz",
        [
            o
            for o in capec
            if any(
                r.get("url", "").strip() != r.get("url", "")
                for r in o.get("external_references", [])
            )
        ],
    )
    mobile14 = load(src, "mobile-attack-14.1.json.gz")
    write(
        "mobile-14.1-dirty.json.gz",
        [o for o in mobile14 if "modified" in o and o["modified"] < o["created"]],
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
