"""The depth scan of JSON text (kizuna.stix.limits) against a plain character-by-character one."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from kizuna.stix.limits import MAX_JSON_DEPTH, DepthScan, json_depth


def reference_depth(text: str) -> int:
    """The nesting of *text*, read one character at a time (the obvious way, slowly)."""
    depth = deepest = 0
    inside = escaped = False
    for ch in text:
        if inside:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                inside = False
        elif ch == '"':
            inside = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


#: Strings made of what confuses a scanner: brackets, quotes, backslashes, non-ASCII.
_TRICKY = st.text(alphabet=st.sampled_from('[]{}"\\\\ab\u00e9\u3042\n'), max_size=12)
_VALUES = st.recursive(
    st.none() | st.integers() | st.booleans() | _TRICKY,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(_TRICKY, children, max_size=4),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None)
@given(_VALUES, st.booleans(), st.data())
def test_depth_of_json_equals_the_reference_whole_and_in_chunks(
    value: object, ascii_only: bool, data: st.DataObject
) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)
    raw = text.encode()
    expected = reference_depth(text)
    assert json_depth(raw) == expected
    # Fed in arbitrary chunks (an escape or a multi-byte character may be cut in two).
    cuts = sorted(data.draw(st.lists(st.integers(0, len(raw)), max_size=6)))
    scan = DepthScan()
    start = 0
    for cut in [*cuts, len(raw)]:
        scan.feed(raw[start:cut])
        start = cut
    assert scan.deepest == expected
    # A truncated text (invalid JSON) nests as deep as the part of it a decoder reads.
    half = len(raw) // 2
    assert json_depth(raw[:half]) == reference_depth(raw[:half].decode(errors="ignore"))


def test_deep_texts_are_measured_without_recursion() -> None:
    deep = b"[" * 1_000_000 + b"]" * 1_000_000
    assert json_depth(deep) == 1_000_000
    assert json_depth(b'{"a": "' + b"[" * 10_000 + b'"}') == 1
    assert json_depth(b"") == 0 and json_depth(b"42") == 0
    assert MAX_JSON_DEPTH == 100
