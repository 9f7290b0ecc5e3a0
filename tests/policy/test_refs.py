"""What an object's bytes tell the gate without parsing them (``policy.refs``)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kizuna.policy.refs import _plain, needs_redaction, releases_unchanged

#: Bodies built from the pieces the byte tests look for, so that every branch is reached.
_PIECES = st.sampled_from(
    [b"granular_markings", b"\\u", b"\\", b"u", b"\\\\u", b'"', b"_ref", b"x", b"{", b"}"]
)
bodies = st.lists(st.one_of(_PIECES, st.binary(max_size=8)), max_size=12).map(b"".join)


@given(bodies)
def test_plain_is_no_granular_markings_and_no_unicode_escape(body: bytes) -> None:
    assert _plain(body) == (b"granular_markings" not in body and b"\\u" not in body)


def test_an_escape_or_granular_markings_make_the_gate_parse_the_object() -> None:
    assert releases_unchanged(b'{"name":"line\\nbreak"}', any_hidden=False)
    assert not releases_unchanged(b'{"name":"\\u0041"}', any_hidden=False)
    assert not releases_unchanged(b'{"granular_markings":[]}', any_hidden=False)
    assert not releases_unchanged(b'{"name":"x"}', any_hidden=True)


def test_needs_redaction_reads_references_behind_an_escape_from_the_object() -> None:
    # "source\u005fref" is "source_ref": the bytes do not show it, the parsed object does.
    obj = {"type": "relationship", "source_ref": "indicator--0d6a4e4b-6a4b-4b7e-8f3a-0f4c2a1b9c8d"}
    assert needs_redaction(obj, b'{"type":"relationship","source\\u005fref":"indicator--x"}')
    assert not needs_redaction({"type": "indicator"}, b'{"type":"indicator"}')
