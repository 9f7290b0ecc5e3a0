"""What an object is found by: the text the store's search index keeps of it.

:func:`search_text` is the store's ingest hook (``SqlStore.search_text``); :func:`terms` splits
a query the same way, and :func:`matches` is the test both the store's index (by substring)
and ``kizuna.search`` (on the version the gate released, redacted) apply: every term is a
substring of the text. Text and terms are lower-cased here, by Python, so that SQLite and
PostgreSQL fold the same way whatever their collations.

>>> text = search_text("attack-pattern", b'{"name": "PowerShell", "external_references":'
...     b' [{"source_name": "mitre-attack", "external_id": "T1059.001"}]}')
>>> text.split("\\n")
['powershell', 't1059.001']
>>> matches(text, terms("  t1059 POWER "))
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import msgspec

#: Properties whose values (strings, numbers or lists of strings) are indexed, at any depth.
TEXT_KEYS: Final = frozenset(
    {
        # names and descriptions of SDOs, SROs and notes
        *("name", "description", "aliases", "x_mitre_aliases", "labels", "abstract"),
        *("content", "explanation", "title"),
        # external ids (ATT&CK, CVE, CAPEC ...)
        "external_id",
        # indicators' patterns and observables' values
        *("pattern", "value", "path", "key", "display_name", "account_login", "user_id"),
        *("subject", "number", "cpe", "swid"),
        # space objects: catalog number, designator, satellite name
        *("norad_cat_id", "international_designator", "object_name", "object_designator"),
    }
)
#: Properties whose every value is indexed (a dict of hashes).
_ALL_VALUES: Final = frozenset({"hashes"})
#: At most this many characters of an object are indexed (a huge description is cut).
MAX_CHARS: Final = 32_768
_MAX_DEPTH: Final = 5


def search_text(stix_type: str, body: bytes, parsed: Any = None) -> str:
    """The lower-cased text one stored object is found by (the store's ingest hook). *parsed*
    is what *body* decodes to, when the caller has it (then the body is not decoded again)."""
    obj = parsed
    if obj is None:
        try:
            obj = msgspec.json.decode(body)
        except msgspec.DecodeError:
            return ""
    return object_text(obj)


def object_text(obj: Any) -> str:
    """The lower-cased text of a decoded object: one line per value."""
    out: list[str] = []
    _walk(obj, out, 0)
    # PostgreSQL's text holds no NUL: it is no character anyone searches for.
    text = "\n".join(out).replace("\x00", "")
    return text[:MAX_CHARS].lower()


def _walk(node: Any, out: list[str], depth: int) -> None:
    if depth > _MAX_DEPTH:
        return
    if isinstance(node, list):
        for item in node:
            if isinstance(item, dict | list):
                _walk(item, out, depth + 1)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key in TEXT_KEYS:
            _values(value, out)
        elif key in _ALL_VALUES and isinstance(value, dict):
            _values(list(value.values()), out)
        elif isinstance(value, dict | list):
            _walk(value, out, depth + 1)


def _values(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        if value:
            out.append(value)
    elif isinstance(value, bool):
        return
    elif isinstance(value, int | float):
        out.append(str(value))
    elif isinstance(value, list):
        out.extend(str(v) for v in value if isinstance(v, str | int) and not isinstance(v, bool))


def terms(query: str) -> list[str]:
    """The lower-cased terms of a query, each once, in order (split at white space; NUL is
    dropped, as from the text)."""
    return list(dict.fromkeys(query.replace("\x00", "").lower().split()))


def matches(text: str, wanted: Sequence[str]) -> bool:
    """Whether every one of *wanted* (lower-cased terms) occurs in *text*."""
    return all(term in text for term in wanted)
