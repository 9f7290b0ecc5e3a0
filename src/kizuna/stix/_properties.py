"""Checks of the STIX 2.1 common properties that hold structure: external references, granular
markings (with their selectors), extensions, kill chain phases, references and timestamps.

Each check appends :class:`Problem` values to a list it is given; none raises. Messages put what
was expected beside what was given.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from kizuna.errors import TimestampError
from kizuna.stix import _rules as R
from kizuna.stix.timestamps import EXPECTED, to_micros


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a STIX object.

    *path* points at the offending property (``"modified"``, ``"external_references[2].url"``),
    or is ``""`` for the object as a whole; *message* is for a person and shows what was expected
    beside what was given.
    """

    path: str
    message: str


def kind(value: object) -> str:
    """The JSON name of *value*'s kind, for messages.

    >>> kind([]), kind(None), kind(True), kind(1.5)
    ('array', 'null', 'boolean', 'number')
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, str):
        return "string"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def is_one_of(value: object, names: frozenset[str] | tuple[str, ...]) -> bool:
    """Is *value* one of the strings *names*? (``in`` a set raises for a list or an object.)

    >>> is_one_of(["new-sco"], frozenset({"new-sco"}))
    False
    """
    return isinstance(value, str) and value in names


def show(value: object, limit: int = 80) -> str:
    """A short, quoted rendering of *value* for a message, at most *limit* characters.

    It costs no more than *limit* whatever the value: a list of a million items, a value nested
    thousands of levels deep or an integer of 5,000 digits (which ``repr`` refuses to write)
    are shown by their beginning.

    >>> show([1, "a", {"k": None}])
    "[1, 'a', {'k': None}]"
    >>> show(list(range(10**6)), 20)
    '[0, 1, 2, 3, 4, 5...'
    >>> show(10**5000)
    'an integer of about 5001 digits'
    """
    parts: list[str] = []
    size = 0
    # A stack of what is left to write: values, and the text that closes a container.
    todo: list[object] = [value]
    while todo and size <= limit:
        item = todo.pop()
        if isinstance(item, _Text):
            text = item.text
        elif isinstance(item, list | tuple):
            text = "["
            todo.append(_Text("]"))
            head = item[: limit // 2 + 1]  # each item takes 3 characters at least, with ", "
            for i in range(len(head) - 1, -1, -1):
                todo.append(head[i])
                if i:
                    todo.append(_Text(", "))
        elif isinstance(item, dict):
            text = "{"
            todo.append(_Text("}"))
            items = list(item.items())[: limit // 2 + 1]
            for i in range(len(items) - 1, -1, -1):
                todo.append(items[i][1])
                todo.append(_Text(_scalar(items[i][0], limit) + ": "))
                if i:
                    todo.append(_Text(", "))
        else:
            text = _scalar(item, limit)
        parts.append(text)
        size += len(text)
    text = "".join(parts)
    return text if len(text) <= limit and not todo else text[: limit - 3] + "..."


class _Text:
    """Text :func:`show` writes as it is (punctuation between the values it renders)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def _scalar(value: object, limit: int) -> str:
    if isinstance(value, str):
        return repr(value[: limit + 1])
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 256:
        return f"an integer of about {int(value.bit_length() * 0.30103) + 1} digits"
    return repr(value)


def timestamp(out: list[Problem], path: str, value: object, millis: bool = False) -> int | None:
    """The microseconds of a timestamp property, or None after reporting why it is not one."""
    try:
        micros = to_micros(value)
    except TimestampError as exc:
        out.append(Problem(path, str(exc)))
        return None
    assert isinstance(value, str)
    if value[17:19] > "60":
        out.append(Problem(path, f"expected seconds 00..60, got {show(value)}"))
        return None
    # The form is checked, so 24 characters with a '.' at 19 is exactly milliseconds.
    if millis and not (len(value) == 24 and value[19] == ".") and R.MILLIS.search(value) is None:
        out.append(Problem(path, f"must be precise to the millisecond ({EXPECTED}), got {show(value)}"))
    return micros


def reference(
    out: list[Problem],
    path: str,
    value: object,
    allowed: frozenset[str] | None,
    forbidden: frozenset[str] | None,
) -> None:
    """Check one identifier-valued reference, and the type it points at."""
    if not isinstance(value, str):
        out.append(Problem(path, f"expected an identifier 'type--uuid', got {kind(value)}"))
        return
    target = _referenced_type(value)
    if target is None:
        out.append(
            Problem(path, f"expected an identifier 'type--uuid' (RFC 4122 UUID), got {show(value)}")
        )
        return
    if allowed is not None and target not in allowed:
        expected = " or ".join(sorted(allowed)) if len(allowed) < 6 else "a cyber-observable"
        out.append(Problem(path, f"must refer to {expected}, got a {target} ({value})"))
    elif forbidden is not None and target in forbidden:
        out.append(Problem(path, f"may not refer to a {target} ({value})"))


def identifier_type(value: str) -> str | None:
    """The type part of identifier *value* ('type--uuid'), or None when it is not one.

    What ``R.STRICT_IDENTIFIER`` matches, about a third faster (bench/post_cost.py): the UUID
    has no '--', so the type ends at the last one.

    >>> identifier_type("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f")
    'indicator'
    >>> identifier_type("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f" + chr(10)) is None
    True
    """
    kind, sep, uuid = value.rpartition("--")
    if sep and R.UUID.fullmatch(uuid) and R.IDENTIFIER_TYPE.fullmatch(kind):
        return kind
    return None


#: identifier_type, remembered: objects repeat the ids they refer to, markings and authors
#: above all.
_referenced_type = functools.lru_cache(maxsize=16_384)(identifier_type)


def references(
    out: list[Problem],
    path: str,
    value: object,
    allowed: frozenset[str] | None,
    forbidden: frozenset[str] | None,
) -> None:
    """Check a non-empty list of references."""
    if not isinstance(value, list):
        out.append(Problem(path, f"expected a list of identifiers, got {kind(value)}"))
        return
    for i, item in enumerate(value):
        reference(out, f"{path}[{i}]", item, allowed, forbidden)


def string_list(out: list[Problem], path: str, value: object) -> None:
    """Check a non-empty list of strings."""
    if not isinstance(value, list) or not value:
        out.append(Problem(path, f"expected a non-empty list of strings, got {show(value)}"))
        return
    for i, item in enumerate(value):
        if not isinstance(item, str):
            out.append(Problem(f"{path}[{i}]", f"expected a string, got {kind(item)}"))


def external_references(out: list[Problem], value: object) -> None:
    """Check ``external_references`` (section 2.5)."""
    if not isinstance(value, list):
        out.append(Problem("external_references", f"expected a list, got {kind(value)}"))
        return
    for i, ref in enumerate(value):
        path = f"external_references[{i}]"
        if not isinstance(ref, dict):
            out.append(Problem(path, f"expected an object, got {kind(ref)}"))
            continue
        source = ref.get("source_name")
        if not isinstance(source, str):
            given = "nothing" if source is None else kind(source)
            out.append(Problem(f"{path}.source_name", f"expected a string, got {given}"))
        if "description" not in ref and "url" not in ref and "external_id" not in ref:
            out.append(Problem(path, "expected at least one of description, url, external_id"))
        for key in ("description", "external_id"):
            if key in ref and not isinstance(ref[key], str):
                out.append(Problem(f"{path}.{key}", f"expected a string, got {kind(ref[key])}"))
        url = ref.get("url")
        if url is not None:
            _url(out, f"{path}.url", url)
        ext_id = ref.get("external_id")
        if source == "cve" and not (isinstance(ext_id, str) and R.CVE_ID.match(ext_id)):
            out.append(
                Problem(
                    f"{path}.external_id",
                    f"a cve reference needs a CVE id (CVE-YYYY-NNNN), got {show(ext_id)}",
                )
            )
        if source == "capec" and not (isinstance(ext_id, str) and R.CAPEC_ID.match(ext_id)):
            out.append(
                Problem(
                    f"{path}.external_id",
                    f"a capec reference needs a CAPEC id (CAPEC-N), got {show(ext_id)}",
                )
            )
        hashes = ref.get("hashes")
        if hashes is not None and not (
            isinstance(hashes, dict) and hashes and all(isinstance(h, str) for h in hashes.values())
        ):
            out.append(
                Problem(f"{path}.hashes", f"expected an object of hash strings, got {show(hashes)}")
            )


def _url(out: list[Problem], path: str, url: object) -> None:
    if not isinstance(url, str):
        out.append(Problem(path, f"expected a URL string, got {kind(url)}"))
    elif url != url.strip():
        out.append(
            Problem(
                path, f"expected a URL without leading or trailing whitespace, got {show(url, 500)}"
            )
        )
    elif R.URL.match(url) is None:
        out.append(
            Problem(
                path,
                "expected a URL with a scheme and no spaces (e.g. "
                f"'https://example.org/x'), got {show(url, 500)}",
            )
        )


def kill_chain_phases(out: list[Problem], value: object) -> None:
    """Check ``kill_chain_phases`` (section 2.8)."""
    if not isinstance(value, list):
        out.append(Problem("kill_chain_phases", f"expected a list, got {kind(value)}"))
        return
    for i, phase in enumerate(value):
        path = f"kill_chain_phases[{i}]"
        if not isinstance(phase, dict):
            out.append(Problem(path, f"expected an object, got {kind(phase)}"))
            continue
        for key in ("kill_chain_name", "phase_name"):
            if not isinstance(phase.get(key), str):
                out.append(
                    Problem(f"{path}.{key}", f"expected a string, got {show(phase.get(key))}")
                )


_INDEX = re.compile(r"^\[([0-9]+)\]\Z")


def _resolves(obj: dict[str, Any], selector: str) -> str | None:
    """None when *selector* points at something in *obj*; otherwise why it does not."""
    node: Any = obj
    for segment in selector.split("."):
        m = _INDEX.match(segment)
        if m is not None:
            if not isinstance(node, list):
                return f"{segment} indexes something that is not a list"
            digits = m[1]
            if len(digits) > 18 or int(digits) >= len(node):
                shown = digits if len(digits) <= 18 else f"{digits[:8]}... ({len(digits)} digits)"
                return f"index {shown} is past the end of a list of {len(node)}"
            index = int(digits)
            node = node[index]
        else:
            if not isinstance(node, dict) or segment not in node:
                return f"there is no property {show(segment)} there"
            node = node[segment]
    return None


def granular_markings(out: list[Problem], obj: dict[str, Any], value: object) -> None:
    """Check ``granular_markings`` (section 7.2.3): selectors that resolve, and exactly one of
    ``marking_ref`` or ``lang``."""
    if not isinstance(value, list):
        out.append(Problem("granular_markings", f"expected a list, got {kind(value)}"))
        return
    for i, gm in enumerate(value):
        path = f"granular_markings[{i}]"
        if not isinstance(gm, dict):
            out.append(Problem(path, f"expected an object, got {kind(gm)}"))
            continue
        selectors = gm.get("selectors")
        if not isinstance(selectors, list) or not selectors:
            out.append(
                Problem(
                    f"{path}.selectors",
                    f"expected a non-empty list of selectors, got {show(selectors)}",
                )
            )
        else:
            for j, sel in enumerate(selectors):
                spath = f"{path}.selectors[{j}]"
                if not isinstance(sel, str) or R.SELECTOR.match(sel) is None:
                    out.append(
                        Problem(
                            spath,
                            "expected a selector such as 'description' or "
                            f"'external_references.[0].url', got {show(sel)}",
                        )
                    )
                    continue
                why = _resolves(obj, sel)
                if why is not None:
                    out.append(Problem(spath, f"selector {show(sel)} does not resolve: {why}"))
        has_ref, has_lang = "marking_ref" in gm, "lang" in gm
        if has_ref == has_lang:
            out.append(
                Problem(
                    path,
                    "expected exactly one of marking_ref or lang, got "
                    + ("both" if has_ref else "neither"),
                )
            )
        if has_ref:
            reference(
                out,
                f"{path}.marking_ref",
                gm["marking_ref"],
                frozenset({"marking-definition"}),
                None,
            )
            if obj.get("type") == "marking-definition" and gm["marking_ref"] == obj.get("id"):
                out.append(
                    Problem(f"{path}.marking_ref", "a marking-definition may not mark itself")
                )
        if has_lang:
            lang = gm["lang"]
            if not isinstance(lang, str) or R.LANGUAGE_TAG.match(lang) is None:
                out.append(
                    Problem(f"{path}.lang", f"expected an RFC 5646 language tag, got {show(lang)}")
                )


def extensions(out: list[Problem], value: object) -> None:
    """Check ``extensions`` (section 7.3): keys are extension-definition ids or ``*-ext`` names,
    values are non-empty objects, and an extension-definition's entry names its type."""
    if not isinstance(value, dict) or not value:
        out.append(Problem("extensions", f"expected a non-empty object, got {show(value)}"))
        return
    for key, ext in value.items():
        path = f"extensions.{key if len(key) <= 250 else show(key, 250)}"
        by_definition = key.startswith("extension-definition--")
        if by_definition:
            m = R.STRICT_IDENTIFIER.match(key)
            if m is None or m["type"] != "extension-definition":
                out.append(
                    Problem(
                        path,
                        "expected an extension-definition id "
                        f"'extension-definition--<uuid>', got {show(key)}",
                    )
                )
        elif R.EXTENSION_NAME.match(key) is None:
            out.append(
                Problem(
                    path,
                    "expected an extension-definition id or a name ending in "
                    f"'-ext' (e.g. 'archive-ext'), got {show(key)}",
                )
            )
        if not isinstance(ext, dict) or not ext:
            out.append(Problem(path, f"expected a non-empty object, got {show(ext)}"))
            continue
        if by_definition:
            etype = ext.get("extension_type")
            if not is_one_of(etype, R.EXTENSION_TYPES):
                out.append(
                    Problem(
                        f"{path}.extension_type",
                        "expected one of "
                        f"{', '.join(sorted(R.EXTENSION_TYPES))}, got {show(etype)}",
                    )
                )
