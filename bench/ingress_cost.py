"""What the ingress checks of issue 15 cost a POST: repeated keys and nesting depth per object.

For the synthetic objects of bench/taxii.py and for ATT&CK Enterprise (as msgspec writes them,
and as Python's json writes them, spaces after ``:`` and ``,``), prints in microseconds per
object, side by side: msgspec's decode of the object, ``stix.rawjson.too_deep`` and
``stix.rawjson.repeated_key``, and ``validate_object``; then in-process ``ingest`` of the
synthetic objects in batches of 100 into a fresh SQLite node (median of ``--rounds``), and
the share of its time per object that the two checks take (measured in the same run).

The machine is shared and noisy: read the ratios, not the absolute figures.

    .venv/bin/python bench/ingress_cost.py
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import msgspec

import taxii as tb  # bench/taxii.py: data, node set-up
from kizuna.node import ingest
from kizuna.stix.rawjson import repeated_key, too_deep
from kizuna.stix.validate import validate_object


def _per_object(fn: Callable[[], object], count: int, repeat: int = 5) -> float:
    best = min(_timed(fn) for _ in range(repeat))
    return best / count * 1e6


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _costs(name: str, raws: list[bytes]) -> float:
    """Print the costs for *raws*; the checks' microseconds per object."""
    objs = [msgspec.json.decode(r) for r in raws]
    n = len(raws)
    decode = _per_object(lambda: [msgspec.json.decode(r) for r in raws], n)
    deep = _per_object(lambda: [too_deep(r) for r in raws], n)
    keys = _per_object(lambda: [repeated_key(r, o) for r, o in zip(raws, objs, strict=True)], n)
    valid = _per_object(lambda: [validate_object(o) for o in objs], n)
    size = sum(map(len, raws)) / n
    print(
        f"{name:<34} {size:7.0f} B  decode {decode:6.2f}  too_deep {deep:5.2f}  "
        f"repeated_key {keys:5.2f}  validate {valid:6.2f}  us/object  "
        f"(checks / decode {(deep + keys) / decode:4.2f}, / validate {(deep + keys) / valid:4.2f})"
    )
    return deep + keys


def _ingest_rate(objs: list[bytes]) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        node = tb.init_kizuna(Path(tmp) / "node")
        admin = node.store.user("admin")
        assert admin is not None
        principal = node.principal_for(admin)
        collection = node.collection("bench")
        rel = [msgspec.json.encode(tb.REL)]
        ingest(node.store, node.snapshot(), principal, collection, rel, "b")
        start = time.perf_counter()
        for chunk in tb.chunks(objs, 100):
            results = ingest(node.store, node.snapshot(), principal, collection, chunk, "b")
            assert all(r.ok for r in results)
        rate = len(objs) / (time.perf_counter() - start)
        node.close()
        return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    synthetic = list(tb.synthetic(0, args.objects))
    attack = tb.attack_objects()
    spaced = [json.dumps(msgspec.json.decode(r)).encode() for r in attack]
    print("per object (best of 5):")
    checks = _costs("synthetic (msgspec)", synthetic)
    _costs("ATT&CK Enterprise (msgspec)", attack)
    _costs("ATT&CK Enterprise (json.dumps)", spaced)
    _ingest_rate(synthetic[:2000])  # warm-up
    rate = statistics.median(_ingest_rate(synthetic) for _ in range(args.rounds))
    per_object = 1e6 / rate
    print(
        f"in-process ingest, {args.objects} synthetic objects in batches of 100 (median of "
        f"{args.rounds}): {rate:,.0f} objects/s, {per_object:.1f} us/object, of which the "
        f"checks {checks:.2f} us ({checks / per_object:.1%})"
    )


if __name__ == "__main__":
    main()
