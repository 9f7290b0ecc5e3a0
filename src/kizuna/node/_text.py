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
    kind = type(obj)
    if kind is dict:
        _walk(obj, out, 0)
    elif kind is list:
        _walk_list(obj, out, 0)
    text = "\n".join(out)
    if "\x00" in text:  # PostgreSQL's text holds no NUL: it is no character anyone searches for
        text = text.replace("\x00", "")
    return text[:MAX_CHARS].lower()


# The walk runs on every object a POST stores: it compares types (JSON decodes to exact
# dicts, lists, strings and numbers) rather than calling isinstance, a third of its time.


def _walk(node: dict[str, Any], out: list[str], depth: int) -> None:
    for key, value in node.items():
        kind = type(value)
        if key in TEXT_KEYS:
            if kind is str:
                if value:
                    out.append(value)
            elif kind is list:
                _listed(value, out)
            elif kind is int or kind is float:
                out.append(str(value))
        elif kind is dict:
            if key in _ALL_VALUES:
                _listed(list(value.values()), out)
            elif depth < _MAX_DEPTH:
                _walk(value, out, depth + 1)
        elif kind is list and depth < _MAX_DEPTH:
            _walk_list(value, out, depth + 1)


def _walk_list(node: list[Any], out: list[str], depth: int) -> None:
    if depth >= _MAX_DEPTH:
        return
    for item in node:
        kind = type(item)
        if kind is dict:
            _walk(item, out, depth + 1)
        elif kind is list:
            _walk_list(item, out, depth + 1)


def _listed(values: list[Any], out: list[str]) -> None:
    """The strings and integers of a list of values (not booleans, not floats)."""
    out.extend(v if type(v) is str else str(v) for v in values if type(v) is str or type(v) is int)


def terms(query: str) -> list[str]:
    """The lower-cased terms of a query, each once, in order (split at white space; NUL is
    dropped, as from the text)."""
    return list(dict.fromkeys(query.replace("\x00", "").lower().split()))


def matches(text: str, wanted: Sequence[str]) -> bool:
    """Whether every one of *wanted* (lower-cased terms) occurs in *text*."""
    return all(term in text for term in wanted)
