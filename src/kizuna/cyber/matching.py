"""Matching a node's indicators against observations, as a principal (``kizuna match``).

The indicators considered are those the principal may read (through the gate, the latest
visible version of each), in the collections asked for or every readable one, that are not
revoked and whose pattern is STIX. Each is valid from ``valid_from`` until ``valid_until``;
the matcher considers it for an observation only while it is valid. A match on values that
are all on a known-benign list is left out unless asked for, and marked when it is kept.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from kizuna.cyber.benign import Benign
from kizuna.cyber.matcher import Indicator, Match, Matcher
from kizuna.cyber.observables import observable_at
from kizuna.cyber.observations import Observed
from kizuna.errors import InvalidInput, NotFound, TimestampError
from kizuna.node import Node, read_page
from kizuna.policy.principal import Principal
from kizuna.stix.timestamps import format_micros, to_micros
from kizuna.store.types import ObjectQuery

__all__ = ["Hit", "load_indicators", "match_batch", "read_objects"]


@dataclass(frozen=True, slots=True)
class Hit:
    """A match as ``kizuna match`` reports it."""

    match: Match
    observations: list[Observed]
    benign: str | None  # the list holding every matched value, when all are on one

    def to_json(self) -> dict[str, Any]:
        ind = self.match.indicator
        collection = ind.ref[0]
        out: dict[str, Any] = {
            "observation": self.observations[0].id,
            "indicator": ind.id,
            "pattern": ind.pattern,
            "collection": collection,
            "first_observed": format_micros(min(o.first_us for o in self.observations)),
            "last_observed": format_micros(max(o.last_us for o in self.observations)),
            "matched": [
                {"object": f.object_id, "path": f.path.text(), "value": _jsonable(f.value)}
                for f in self.match.found
            ],
        }
        if len(self.observations) > 1:
            out["observations"] = [o.id for o in self.observations]
        if self.benign is not None:
            out["benign"] = self.benign
        return out


def _jsonable(value: Any) -> Any:
    return value.hex() if isinstance(value, bytes) else value


def load_indicators(
    node: Node, principal: Principal, collections: Sequence[str] = ()
) -> list[Indicator]:
    """The indicators *principal* may read in *collections* (default: every readable one)."""
    snap = node.snapshot()
    readable = snap.readable(principal)
    chosen = []
    for ref in collections:
        c = snap.collection(ref)
        if c is None or c.id not in readable:
            raise NotFound(f"no collection {ref!r} that you may read on this node")
        chosen.append(c)
    if not collections:
        chosen = [c for cid in sorted(readable) if (c := snap.collection(cid)) is not None]
    out: list[Indicator] = []
    for c in chosen:
        after = None
        while True:
            query = ObjectQuery(c.id, after_us=after, types=("indicator",))
            page = read_page(node.store, snap, principal, c, query, 5000)
            for item in page.items:
                obj = msgspec.json.decode(item.body)
                found = _indicator(obj, c.id)
                if found is not None:
                    out.append(found)
            if not page.more or page.last_added is None:
                break
            after = page.last_added
    return out


def _indicator(obj: dict[str, Any], collection_id: str) -> Indicator | None:
    if obj.get("revoked") is True or obj.get("pattern_type", "stix") != "stix":
        return None
    pattern = obj.get("pattern")
    if not isinstance(pattern, str):
        return None
    try:
        start = to_micros(obj["valid_from"]) if "valid_from" in obj else None
        end = to_micros(obj["valid_until"]) if "valid_until" in obj else None
    except TimestampError:
        return None
    markings = tuple(obj.get("object_marking_refs") or ())
    return Indicator(obj["id"], pattern, start, end, (collection_id, markings))


def match_batch(
    matcher: Matcher, batch: list[Observed], benign: Benign, *, include_benign: bool = False
) -> list[Hit]:
    """The matches of *batch*, benign ones left out unless *include_benign*."""
    out: list[Hit] = []
    for m in matcher.match(batch):
        names = []
        for f in m.found:
            o = observable_at(f.path, f.value)
            names.append(benign.check(o) if o is not None else None)
        mark = names[0] if names and all(names) else None
        if mark is not None and not include_benign:
            continue
        out.append(Hit(m, [batch[i] for i in m.observations], mark))
    return out


def read_objects(path: Path) -> list[Any]:
    """The STIX objects of a file: a bundle or envelope (``objects``), a JSON list, or one
    object per line (newline-delimited JSON); ``.gz`` files are read compressed."""
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from None
    except gzip.BadGzipFile:
        raise InvalidInput(f"{path} is not a gzip file") from None
    text = raw.decode("utf-8", errors="replace")
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return list(_lines(path, text))
    if isinstance(data, dict) and isinstance(data.get("objects"), list):
        return list(data["objects"])
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        return [data]
    raise InvalidInput(f"{path}: expected a bundle, an envelope, a list or STIX objects")


def _lines(path: Path, text: str) -> Iterator[Any]:
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            yield json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidInput(
                f"{path}:{number}: not JSON ({exc.msg}); expected a bundle, or one STIX object "
                "per line"
            ) from None
