"""Observations to match: what a sensor saw, read from STIX objects.

An :class:`Observed` is one observation: its objects (by id), when it was seen
(``first_observed`` to ``last_observed``, in microseconds) and how many times
(``number_observed``). :func:`observations` makes them from a batch of STIX objects, as a
bundle, a TAXII envelope or newline-delimited JSON holds them:

- an ``observed-data`` is one observation of the objects its ``object_refs`` name (found
  anywhere in the batch), or of its own ``objects`` (STIX 2.0's embedded form);
- a cyber-observable object that no ``observed-data`` names is an observation of its own,
  with the objects it refers to, seen once, at its own ``first_observed``/``last_observed``
  when it carries them, else at *now*.

>>> obs = observations([{"type": "ipv4-addr", "id": "ipv4-addr--1", "value": "203.0.113.5"}],
...                    now_us=0)
>>> obs[0].id, obs[0].count, sorted(obs[0].by_type)
('ipv4-addr--1', 1, ['ipv4-addr'])
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from kizuna.cyber._literals import timestamp_micros

__all__ = ["NOT_OBSERVABLE", "ObservationError", "Observed", "observations"]

#: Types that are not cyber-observables: no pattern matches them (STIX 2.1's SDOs, SROs and
#: meta objects, as ``stix2-matcher`` lists them).
NOT_OBSERVABLE: Final = frozenset(
    {
        *("attack-pattern", "bundle", "campaign", "course-of-action", "extension-definition"),
        *("grouping", "identity", "incident", "indicator", "infrastructure", "intrusion-set"),
        *("language-content", "location", "malware", "malware-analysis", "marking-definition"),
        *("note", "observed-data", "opinion", "relationship", "report", "threat-actor"),
        *("tool", "sighting", "vulnerability"),
    }
)


class ObservationError(ValueError):
    """An observed-data that cannot be used (the message says why)."""


@dataclass(slots=True)
class Observed:
    """One observation of a batch."""

    id: str
    first_us: int
    last_us: int
    count: int
    #: Every object of the observation by id (a reference resolves among these).
    objects: dict[str, Any]
    #: The cyber-observables among them, by type: (id, object).
    by_type: dict[str, list[tuple[str, Any]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.by_type:
            for oid, obj in self.objects.items():
                otype = obj.get("type") if type(obj) is dict else None
                if type(otype) is str and otype not in NOT_OBSERVABLE:
                    self.by_type.setdefault(otype, []).append((oid, obj))


def _time(obj: dict[str, Any], key: str, what: str) -> int:
    value = obj.get(key)
    micros = timestamp_micros(value) if type(value) is str else None
    if micros is None:
        raise ObservationError(
            f"{what}: {key} must be a timestamp such as 2026-05-19T12:00:00Z, got {value!r}"
        )
    return micros


def _referred(start: dict[str, Any], scos: dict[str, Any]) -> dict[str, Any]:
    """*start* and the objects of *scos* it refers to, directly or through others."""
    out = {start["id"]: start}
    todo = [start]
    while todo:
        obj = todo.pop()
        for ref in _refs_of(obj):
            if ref not in out and ref in scos:
                out[ref] = scos[ref]
                todo.append(scos[ref])
    return out


def _refs_of(value: Any) -> Iterable[str]:
    if type(value) is dict:
        for key, item in value.items():
            if key.endswith("_ref") and type(item) is str:
                yield item
            elif key.endswith("_refs") and type(item) is list:
                yield from (r for r in item if type(r) is str)
            elif type(item) is dict or type(item) is list:
                yield from _refs_of(item)
    elif type(value) is list:
        for item in value:
            yield from _refs_of(item)


def observations(objects: Iterable[Any], *, now_us: int) -> list[Observed]:
    """The observations of a batch of STIX objects (see the module's docstring).

    Raises ObservationError for an observed-data without valid ``first_observed``,
    ``last_observed`` or ``number_observed``.
    """
    batch = [o for o in objects if type(o) is dict and type(o.get("id")) is str]
    scos = {o["id"]: o for o in batch if o.get("type") not in NOT_OBSERVABLE}
    claimed: set[str] = set()
    out: list[Observed] = []
    for obj in batch:
        if obj.get("type") != "observed-data":
            continue
        what = f"observed-data {obj['id']}"
        first, last = _time(obj, "first_observed", what), _time(obj, "last_observed", what)
        count = obj.get("number_observed")
        if type(count) is not int or count < 1:
            raise ObservationError(f"{what}: number_observed must be at least 1, got {count!r}")
        if first > last:
            raise ObservationError(f"{what}: first_observed is later than last_observed")
        members: dict[str, Any] = {obj["id"]: obj}
        refs = obj.get("object_refs")
        if type(refs) is list:
            for ref in refs:
                if type(ref) is str and ref in scos:
                    members[ref] = scos[ref]
                    claimed.add(ref)
        embedded = obj.get("objects")
        if type(embedded) is dict:
            members.update((k, v) for k, v in embedded.items() if type(v) is dict)
        out.append(Observed(obj["id"], first, last, count, members))
    for oid, sco in scos.items():
        if oid in claimed:
            continue
        what = f"{sco.get('type')} {oid}"
        first = _time(sco, "first_observed", what) if "first_observed" in sco else now_us
        last = _time(sco, "last_observed", what) if "last_observed" in sco else max(first, now_us)
        if first > last:
            raise ObservationError(f"{what}: first_observed is later than last_observed")
        out.append(Observed(oid, first, last, 1, _referred(sco, scos)))
    return out
