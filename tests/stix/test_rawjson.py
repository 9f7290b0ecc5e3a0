"""Repeated keys and nesting depth, read from an object's bytes (stix/rawjson.py)."""

from __future__ import annotations

import json

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kizuna.stix.limits import MAX_OBJECT_DEPTH
from kizuna.stix.rawjson import nesting_depth, repeated_key, too_deep


def _repeated(raw: bytes) -> str | None:
    return repeated_key(raw, msgspec.json.decode(raw))


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        (b'{"a": 1, "a": 2}', "a"),
        (b'{"x": {"b": "c:d", "b": "e"}}', "b"),
        (b'{"l": [{"k": 1}, {"k": 1, "k": 1}]}', "k"),
        # The dropped value held keys of its own: still more ":" in the bytes than kept.
        (b'{"o": {"p": 1, "q": 2}, "o": 3}', "o"),
        # A ":" spelled as an escape cannot hide a repeated key.
        (b'{"a": "\\u003a", "a": "x"}', "a"),
        (b'{"a\\u0062": 1, "ab": 2}', "ab"),
    ],
)
def test_a_repeated_key_is_found(raw: bytes, key: str) -> None:
    assert _repeated(raw) == key


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a": 1, "b": {"a": 2}}',
        b'{"t": "12:00:00", "u": ["a:b", {"c": "::"}]}',
        b'{"a": "\\u003a", "b": "\\"x\\":1"}',
        b'{"k\\"": 1, "k": 2}',
        b"[]",
        b'"a:b"',
    ],
)
def test_distinct_keys_pass(raw: bytes) -> None:
    assert _repeated(raw) is None


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet=':"\\{}[],ab\u00e9'),
    lambda inner: st.lists(inner, max_size=4)
    | st.lists(st.tuples(st.sampled_from(["a", "b", ":", 'q"']), inner), max_size=4),
    max_leaves=20,
)


def _dump(value: object, ensure_ascii: bool) -> str:
    """JSON text of *value*, where a list of pairs is an object (keys may repeat)."""
    if isinstance(value, list) and value and all(isinstance(p, tuple) for p in value):
        items = ", ".join(
            f"{json.dumps(k, ensure_ascii=ensure_ascii)}: {_dump(v, ensure_ascii)}"
            for k, v in value
        )
        return "{" + items + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_dump(v, ensure_ascii) for v in value) + "]"
    return json.dumps(value, ensure_ascii=ensure_ascii)


def _has_repeat(value: object) -> bool:
    if isinstance(value, list) and value and all(isinstance(p, tuple) for p in value):
        keys = [k for k, _ in value]
        return len(keys) != len(set(keys)) or any(_has_repeat(v) for _, v in value)
    if isinstance(value, list):
        return any(_has_repeat(v) for v in value)
    return False


@settings(max_examples=300, deadline=None)
@given(json_values, st.booleans())
def test_repeated_keys_against_a_model(value: object, ensure_ascii: bool) -> None:
    raw = _dump(value, ensure_ascii).encode()
    assert (_repeated(raw) is not None) == _has_repeat(value), raw


def test_nesting_depth() -> None:
    assert nesting_depth(b"1") == 0
    assert nesting_depth(b"{}") == 1
    assert nesting_depth(b'{"a": [1, {"b": "[[[["}]}') == 3
    assert nesting_depth(b'["\\"[", []]') == 2
    deep = b"[" * 400 + b"]" * 400
    assert nesting_depth(deep) == 400 and too_deep(deep)
    at_limit = b"[" * MAX_OBJECT_DEPTH + b"]" * MAX_OBJECT_DEPTH
    assert not too_deep(at_limit)
    wide = b"[" + b"[]," * 500 + b"[]]"
    assert nesting_depth(wide) == 2 and not too_deep(wide)
    # Brackets inside strings are text, however many.
    assert not too_deep(b'{"a": "' + b"[" * 500 + b'"}')
