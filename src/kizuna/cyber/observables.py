"""The observable values every STIX object carries, normalized: what correlation keys on.

- A cyber-observable object carries the values of its kind: addresses (and networks),
  domain names, URLs, e-mail addresses, MAC addresses, AS numbers, file names and hashes of
  every algorithm, mutexes, registry keys, directories, x509 serial numbers, user agents ...
- An indicator carries the comparison values of its pattern: ``=`` and ``IN`` on the paths
  above (``[ipv4-addr:value = '203.0.113.5']``, ``[file:hashes.'SHA-256' = ...]``,
  ``[email-message:from_ref.value = ...]``), networks under ``ISSUBSET``, and for any other
  path, the value itself under the kind ``type:path`` (so two indicators comparing
  ``process:name`` with the same name correlate). Negated comparisons carry nothing.
- An observed-data carries the values of the objects it embeds (STIX 2.0's ``objects``);
  those its ``object_refs`` name are stored, and carry theirs, on their own.

>>> [(o.kind, o.value, o.where) for o in observables({
...     "type": "indicator", "pattern_type": "stix",
...     "pattern": "[file:hashes.'SHA-256' = 'AB12' OR url:value = 'hxxp://Evil[.]example']"})]
[('hash:SHA-256', 'ab12', "file:hashes.'SHA-256'"), ('url', 'http://evil.example/', 'url:value')]
>>> [(o.kind, o.value) for o in observables({"type": "ipv4-addr", "value": "198.51.100.0/24"})]
[('ipv4-net', '198.51.100.0/24')]
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Final

from kizuna.cyber import normalize as n
from kizuna.cyber._evaluate import comparisons
from kizuna.cyber.pattern import (
    STAR,
    Comparison,
    FollowedBy,
    ObsAnd,
    Observation,
    ObservationExpr,
    ObsOr,
    Path,
    PatternError,
    Step,
    parse_pattern,
)

__all__ = [
    "Found",
    "Normalizer",
    "Observable",
    "found_values",
    "observable_at",
    "observables",
    "pattern_observables",
]


@dataclass(frozen=True, slots=True)
class Observable:
    """A value of a kind (``ipv4-addr``, ``domain-name``, ``hash:SHA-256`` ...), normalized;
    *where* is the path it came from (for people: two observables are the same value when
    kind and value are)."""

    kind: str
    value: str
    where: str


Normalizer = Callable[[str], "tuple[str, str] | None"]


def _as(kind: str, fn: Callable[[str], str | None]) -> Normalizer:
    def normal(text: str) -> tuple[str, str] | None:
        value = fn(text)
        return None if value is None or value == "" else (kind, value)

    return normal


def _plain(kind: str) -> Normalizer:
    return _as(kind, lambda text: text)


_IP: Final = n.address
#: (object type, path steps) -> how its values become observables. A hashes dictionary is
#: marked by the step "hashes" and handled for every algorithm.
_PATHS: Final[dict[tuple[str, tuple[Step, ...]], Normalizer]] = {
    ("ipv4-addr", ("value",)): _IP,
    ("ipv6-addr", ("value",)): _IP,
    ("domain-name", ("value",)): _as("domain-name", n.domain),
    ("url", ("value",)): _as("url", n.url),
    ("email-addr", ("value",)): _as("email-addr", n.email),
    ("mac-addr", ("value",)): _as("mac-addr", n.mac),
    ("autonomous-system", ("number",)): _plain("autonomous-system"),
    ("file", ("name",)): _plain("file-name"),
    ("directory", ("path",)): _plain("directory"),
    ("artifact", ("url",)): _as("url", n.url),
    ("mutex", ("name",)): _plain("mutex"),
    ("windows-registry-key", ("key",)): _as("windows-registry-key", n.registry_key),
    ("x509-certificate", ("serial_number",)): _as("x509-serial", n.x509_serial),
    ("user-account", ("user_id",)): _plain("user-id"),
    ("software", ("cpe",)): _plain("cpe"),
    ("network-traffic", ("extensions", "http-request-ext", "request_header", "User-Agent")): (
        _plain("user-agent")
    ),
    # References, as patterns write them.
    **{("network-traffic", (ref, "value")): _IP for ref in ("src_ref", "dst_ref")},
    **{
        ("email-message", (ref, "value")): _as("email-addr", n.email)
        for ref in ("from_ref", "sender_ref")
    },
    **{
        ("email-message", (refs, STAR, "value")): _as("email-addr", n.email)
        for refs in ("to_refs", "cc_refs", "bcc_refs")
    },
    ("domain-name", ("resolves_to_refs", STAR, "value")): _IP,
    ("process", ("image_ref", "name")): _plain("file-name"),
    ("file", ("parent_directory_ref", "path")): _plain("directory"),
}
_HASHED: Final = frozenset({"file", "artifact", "x509-certificate"})
#: Types with observables beyond their properties' own values (hashes, a header).
_MORE: Final = _HASHED | {"network-traffic"}
#: An observable as (kind, value, where), what :class:`Observable` holds.
Found = tuple[str, str, str]


def _hash(algorithm: str) -> Normalizer:
    kind = "hash:" + n.hash_algorithm(algorithm)
    return lambda text: (kind, n.digest(algorithm, text)) if text.strip() else None


def _normalizer(otype: str, steps: tuple[Step, ...]) -> Normalizer | None:
    found = _PATHS.get((otype, steps))
    if found is not None:
        return found
    if len(steps) >= 2 and isinstance(steps[-1], str) and steps[-2] == "hashes":
        prefix = steps[:-2]
        if (not prefix and otype in _HASHED) or prefix in (("image_ref",),):
            return _hash(steps[-1])
    return None


def _where(otype: str, steps: tuple[Step, ...]) -> str:
    return Path(otype, steps).text()


#: Per object type, its properties that carry observables: (property, normalizer, path text).
_FIELDS: Final[dict[str, list[tuple[str, Normalizer, str]]]] = {}
for (_type, _steps), _normal in _PATHS.items():
    if len(_steps) == 1 and isinstance(_steps[0], str):
        _FIELDS.setdefault(_type, []).append((_steps[0], _normal, _where(_type, _steps)))
#: Types whose one property that carries an observable is ``value`` (most of what feeds
#: carry): type -> (normalizer, path text), read without going through :data:`_FIELDS`.
_BY_VALUE: Final = {
    otype: (fields[0][1], fields[0][2])
    for otype, fields in _FIELDS.items()
    if [f[0] for f in fields] == ["value"] and otype not in _MORE
}


def _sco(obj: dict[str, Any], otype: str) -> list[Found]:
    out: list[Found] = []
    for key, normal, where in _FIELDS.get(otype, ()):
        value = obj.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str):
            found = normal(value)
            if found is not None:
                out.append((found[0], found[1], where))
    if otype not in _MORE:
        return out
    if otype == "network-traffic":
        steps = ("extensions", "http-request-ext", "request_header", "User-Agent")
        node: Any = obj
        for step in steps:
            node = node.get(step) if isinstance(node, dict) else None
        if isinstance(node, str) and node.strip():
            out.append(("user-agent", node, _where(otype, steps)))
    hashes = obj.get("hashes")
    if otype in _HASHED and isinstance(hashes, dict):
        for algorithm, value in hashes.items():
            if isinstance(algorithm, str) and isinstance(value, str) and value.strip():
                found = _hash(algorithm)(value)
                if found is not None:
                    out.append((found[0], found[1], _where(otype, ("hashes", algorithm))))
    return out


def _leaves(expr: ObservationExpr) -> Iterator[Observation]:
    if isinstance(expr, Observation):
        yield expr
    elif isinstance(expr, ObsAnd | ObsOr):
        for item in expr.items:
            yield from _leaves(item)
    elif isinstance(expr, FollowedBy):
        yield from _leaves(expr.left)
        yield from _leaves(expr.right)
    else:
        yield from _leaves(expr.expr)


def _compared(c: Comparison) -> Iterator[str]:
    if c.negated:
        return
    if c.op in ("=", "ISSUBSET") and isinstance(c.value, str):
        yield c.value
    elif c.op == "IN" and isinstance(c.value, tuple):
        yield from (v for v in c.value if isinstance(v, str))
    elif c.op == "=" and isinstance(c.value, int) and not isinstance(c.value, bool):
        yield str(c.value)


def observable_at(path: Path, value: object) -> Observable | None:
    """The observable a value found at *path* is (the kind ``type:path`` when the path is
    not one of a known kind); None for a value that is not text or a number."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    normal = _normalizer(path.object_type, path.steps)
    where = path.text()
    if normal is None:
        return Observable(where, value, where)
    found = normal(value)
    return None if found is None else Observable(*found, where)


#: The shape of most feeds' patterns, ``[type:property = 'text']`` (no escapes in the text):
#: answered without the parser, with what the parser would give.
_SIMPLE: Final = re.compile(
    r"\[[ \t\r\n]*([a-z][a-z0-9]*(?:-[a-z0-9]+)*):([a-z][a-z0-9_]*)"
    r"[ \t\r\n]*=[ \t\r\n]*'([^'\\]*)'[ \t\r\n]*\]"
)


def _simple(pattern: str) -> list[Found] | None:
    m = _SIMPLE.fullmatch(pattern)
    if m is None:
        return None
    otype, prop, text = m.groups()
    normal = _normalizer(otype, (prop,))
    where = f"{otype}:{prop}"
    if normal is None:
        return [(where, text, where)]
    found = normal(text)
    return [] if found is None else [(found[0], found[1], where)]


def pattern_observables(pattern: str) -> list[Observable]:
    """The observables a STIX pattern compares with (see the module's docstring)."""
    return [Observable(*f) for f in _pattern_found(pattern)]


def _pattern_found(pattern: str) -> list[Found]:
    simple = _simple(pattern)
    if simple is not None:
        return simple
    return _parsed_found(pattern)


def _parsed_found(pattern: str) -> list[Found]:
    try:
        tree = parse_pattern(pattern)
    except PatternError:
        return []
    out: list[Found] = []
    for leaf in _leaves(tree):
        for c in comparisons(leaf.expr):
            otype, steps = c.path.object_type, c.path.steps
            normal = _normalizer(otype, steps)
            where = c.path.text()
            for text in _compared(c):
                if normal is None:
                    out.append((where, text, where))
                    continue
                found = normal(text)
                if found is not None:
                    out.append((found[0], found[1], where))
    return list(dict.fromkeys(out))


def observables(obj: Any) -> list[Observable]:
    """The observables of one STIX object (each once, in the order found)."""
    return [Observable(*f) for f in found_values(obj)]


def found_values(obj: Any) -> list[Found]:
    """:func:`observables` as (kind, value, where) tuples, without making an
    :class:`Observable` of each (what the value index's keys are made from)."""
    if not isinstance(obj, dict):
        return []
    otype = obj.get("type")
    if not isinstance(otype, str):
        return []
    plain = _BY_VALUE.get(otype)
    if plain is not None:
        value = obj.get("value")
        if type(value) is str:
            one = plain[0](value)
            return [] if one is None else [(one[0], one[1], plain[1])]
    if otype == "indicator":
        pattern = obj.get("pattern")
        if obj.get("pattern_type", "stix") == "stix" and isinstance(pattern, str):
            return _pattern_found(pattern)
        return []
    if otype == "observed-data":
        embedded = obj.get("objects")
        out: list[Found] = []
        if isinstance(embedded, dict):
            for inner in embedded.values():
                if isinstance(inner, dict) and isinstance(inner.get("type"), str):
                    out.extend(_sco(inner, inner["type"]))
        return list(dict.fromkeys(out))
    found = _sco(obj, otype)
    return found if len(found) < 2 else list(dict.fromkeys(found))
