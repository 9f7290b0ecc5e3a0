"""The byte oracle of the gate's property test: nothing of a hidden object in any byte.

An answer (a body and its headers) may hold only identifiers, planted tokens (``tok-`` and
twelve hex digits, tests/policy/worlds.py) and timestamps that the principal may receive: those
of the views the reference model gives it, the ``date_added`` of the versions it receives, and
the ids its request named. Bodies are read with every repeated key kept and escapes decoded,
so a value hidden behind either is found too. Independent of the gate: regular expressions over
what the reference model allows.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.policy import reference as ref

_FRACTION = re.compile(r"\.(\d+)Z$")


def micros(stamp: str) -> int:
    """A timestamp as integer microseconds since the epoch (fractions past 6 digits cut)."""
    m = _FRACTION.search(stamp)
    frac = (m.group(1) if m else "")[:6].ljust(6, "0")
    base = datetime.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    return int(base.timestamp()) * 1_000_000 + int(frac)


@dataclass
class Allowed:
    """What may appear in the answers to one principal from one collection."""

    ids: set[str] = field(default_factory=set)
    tokens: set[str] = field(default_factory=set)
    stamps: set[int] = field(default_factory=set)

    @classmethod
    def of(cls, values: Iterable[Any], dates: Iterable[int] = ()) -> Allowed:
        out = cls()
        for value in values:
            for s in ref.strings_in(value):
                out.ids.update(ref.ID_RE.findall(s))
                out.tokens.update(ref.TOKEN_RE.findall(s))
                out.stamps.update(micros(t) for t in ref.STAMP_RE.findall(s))
        out.stamps.update(dates)
        return out

    def plus_ids(self, ids: Iterable[str]) -> Allowed:
        return Allowed(self.ids | set(ids), self.tokens, self.stamps)


def all_strings(body: bytes) -> list[str]:
    """Every string of a JSON body, repeated keys' values included, escapes decoded."""
    found: list[str] = []

    def in_lists(value: Any) -> None:
        # Strings in lists, at any depth (objects inside them went through pairs already).
        stack = [value]
        while stack:
            node = stack.pop()
            if isinstance(node, str):
                found.append(node)
            elif isinstance(node, list):
                stack.extend(node)

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        for key, value in items:
            found.append(key)
            in_lists(value)
        return dict(items)

    if body.strip():
        top = json.loads(body, object_pairs_hook=pairs)
        if not isinstance(top, dict):
            in_lists(top)
    return found


def leaks(body: bytes, headers: Mapping[str, str], allowed: Allowed) -> list[str]:
    """What *body* and *headers* hold that *allowed* does not."""
    out = []
    texts = all_strings(body) + [f"{k}: {v}" for k, v in headers.items()]
    for s in texts:
        for i in ref.ID_RE.findall(s):
            if i not in allowed.ids:
                out.append(f"id {i}")
        for t in ref.TOKEN_RE.findall(s):
            if t not in allowed.tokens:
                out.append(f"value {t}")
        for st in ref.STAMP_RE.findall(s):
            if micros(st) not in allowed.stamps:
                out.append(f"timestamp {st}")
    # Nothing planted may hide outside strings either (a raw scan of the bytes).
    raw = body.decode("utf-8", "replace")
    out.extend(f"raw id {i}" for i in ref.ID_RE.findall(raw) if i not in allowed.ids)
    out.extend(f"raw value {t}" for t in ref.TOKEN_RE.findall(raw) if t not in allowed.tokens)
    return out


def assert_no_leak(body: bytes, headers: Mapping[str, str], allowed: Allowed, what: str) -> None:
    found = leaks(body, headers, allowed)
    assert not found, f"{what}: {sorted(set(found))[:5]}"


def canonical(objs: Iterable[Any]) -> list[str]:
    """A list of JSON values as a sorted list of their canonical texts (a multiset)."""
    return sorted(json.dumps(o, sort_keys=True) for o in objs)
