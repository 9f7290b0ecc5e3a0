"""TAXII 2.1 query parameters: ``added_after``, ``limit``, ``next`` and ``match[...]``.

Bad values are refused with a message that shows what is expected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kizuna.errors import InvalidFilter, TimestampError
from kizuna.stix.ids import TYPE_NAME, is_identifier
from kizuna.stix.timestamps import EXPECTED, to_micros
from kizuna.store.types import VersionMatch

__all__ = ["SUPPORTED", "Filters", "parse_filters"]

SUPPORTED = ("match[id]", "match[type]", "match[version]", "match[spec_version]")
_SPEC_VERSION = re.compile(r"^[0-9]\.[0-9]\Z")
#: A limit: ASCII digits only (``str.isdigit`` also takes "²" and "٣", which ``int`` refuses or
#: reads as 3), and no more of them than a 64-bit integer holds.
_LIMIT = re.compile(r"^[0-9]{1,18}\Z")


@dataclass(frozen=True, slots=True)
class Filters:
    added_after: int | None
    limit: int
    next: str | None
    ids: tuple[str, ...]
    types: tuple[str, ...]
    versions: VersionMatch
    spec_versions: tuple[str, ...]


def _show(value: str) -> str:
    """*value* quoted for a message, cut short when it is long (a URL may be 16 KiB)."""
    if len(value) <= 60:
        return repr(value)
    return f"{value[:40]!r}... ({len(value)} characters)"


def _values(raw: str, name: str) -> list[str]:
    values = [v.strip() for v in raw.split(",")]
    if not all(values):
        raise InvalidFilter(
            f"{name}={_show(raw)} has an empty value; expected a comma-separated list"
        )
    return values


def parse_filters(
    items: list[tuple[str, str]],
    *,
    default_limit: int,
    max_limit: int,
    allowed: tuple[str, ...] = SUPPORTED,
) -> Filters:
    params: dict[str, str] = {}
    for key, value in items:
        if key in params:
            raise InvalidFilter(f"{_show(key)} is given more than once; give it once, comma-separated")
        params[key] = value
    for key in params:
        if key.startswith("match[") and key not in allowed:
            raise InvalidFilter(
                f"unsupported filter {_show(key)}; this endpoint supports {', '.join(allowed) or 'none'}"
            )
    added_after = None
    if "added_after" in params:
        try:
            added_after = to_micros(params["added_after"])
        except TimestampError:
            raise InvalidFilter(
                f"added_after={_show(params['added_after'])} is not a timestamp; expected {EXPECTED}"
            ) from None
    limit = default_limit
    if "limit" in params:
        raw = params["limit"]
        if _LIMIT.match(raw) is None or int(raw) < 1:
            raise InvalidFilter(
                f"limit={_show(raw)}: expected a positive integer in ASCII digits, such as "
                f"limit=100 (pages hold at most {max_limit})"
            )
        limit = min(int(raw), max_limit)
    ids: tuple[str, ...] = ()
    if "match[id]" in params:
        values = _values(params["match[id]"], "match[id]")
        bad = [v for v in values if not is_identifier(v)]
        if bad:
            raise InvalidFilter(
                f"match[id] value {_show(bad[0])} is not a STIX identifier; expected type--UUID, e.g. "
                "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
            )
        ids = tuple(values)
    types: tuple[str, ...] = ()
    if "match[type]" in params:
        values = _values(params["match[type]"], "match[type]")
        bad = [v for v in values if not TYPE_NAME.match(v)]
        if bad:
            raise InvalidFilter(
                f"match[type] value {_show(bad[0])} is not a STIX type name; expected e.g. indicator, "
                "attack-pattern, x-mitre-tactic"
            )
        types = tuple(values)
    versions = VersionMatch()
    if "match[version]" in params:
        first = last = every = False
        at: list[int] = []
        for v in _values(params["match[version]"], "match[version]"):
            if v == "first":
                first = True
            elif v == "last":
                last = True
            elif v == "all":
                every = True
            else:
                try:
                    at.append(to_micros(v))
                except TimestampError:
                    raise InvalidFilter(
                        f"match[version] value {_show(v)}: expected first, last, all or a timestamp "
                        f"{EXPECTED}"
                    ) from None
        versions = VersionMatch(first=first, last=last, all=every, at=tuple(at))
    spec_versions: tuple[str, ...] = ()
    if "match[spec_version]" in params:
        values = _values(params["match[spec_version]"], "match[spec_version]")
        bad = [v for v in values if not _SPEC_VERSION.match(v)]
        if bad:
            raise InvalidFilter(
                f"match[spec_version] value {_show(bad[0])}: expected a STIX version such as 2.1"
            )
        spec_versions = tuple(values)
    return Filters(
        added_after=added_after,
        limit=limit,
        next=params.get("next"),
        ids=ids,
        types=types,
        versions=versions,
        spec_versions=spec_versions,
    )
