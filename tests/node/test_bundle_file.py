"""Bundle files read incrementally (kizuna.node.BundleFile) give exactly the objects msgspec
finds in the whole file, in chunks of any size; past each limit the file is refused by name."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kizuna.errors import InvalidInput
from kizuna.node import BundleFile, read_bundle
from kizuna.node._files import IN_MEMORY
from kizuna.stix.limits import MAX_JSON_DEPTH


class _Whole(msgspec.Struct):
    objects: list[msgspec.Raw]


def whole_file_objects(data: bytes) -> list[bytes]:
    """The oracle: the raw objects msgspec finds in the whole text, definitions first."""
    raws = [bytes(r) for r in msgspec.json.decode(data, type=_Whole).objects]
    kinds = [json.loads(r).get("type") if r.startswith(b"{") else None for r in raws]
    first = [r for r, k in zip(raws, kinds, strict=True) if k in _DEFS]
    return first + [r for r, k in zip(raws, kinds, strict=True) if k not in _DEFS]


_DEFS = ("marking-definition", "extension-definition")
_TRICKY = st.text(alphabet=st.sampled_from('[]{},:"\\\\ ab\u00e9\n'), max_size=10)
_VALUES = st.recursive(
    st.none() | st.integers(-(2**40), 2**40) | st.booleans() | _TRICKY,
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(_TRICKY, children, max_size=3),
    max_leaves=12,
)
_OBJECTS = st.dictionaries(_TRICKY, _VALUES, max_size=4).map(dict) | _VALUES
_TYPED = st.tuples(
    st.sampled_from(["indicator", "marking-definition", "extension-definition", "x-y"]),
    st.dictionaries(st.sampled_from(["name", "id", "objects", "x_list"]), _VALUES, max_size=3),
).map(lambda t: {"type": t[0], **t[1]})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    objects=st.lists(_TYPED | _OBJECTS, max_size=8),
    before=st.dictionaries(st.sampled_from(["type", "id", "spec_version", "x_before"]), _VALUES, max_size=3),
    after=st.dictionaries(st.sampled_from(["more", "x_after"]), _VALUES, max_size=2),
    indent=st.sampled_from([None, 0, 2]),
    ascii_only=st.booleans(),
    chunk=st.integers(1, 64),
    compress=st.booleans(),
    whole=st.booleans(),
)
def test_the_objects_of_any_bundle_in_any_chunks(
    tmp_path: Path,
    objects: list[Any],
    before: dict[str, Any],
    after: dict[str, Any],
    indent: int | None,
    ascii_only: bool,
    chunk: int,
    compress: bool,
    whole: bool,
) -> None:
    text = json.dumps({**before, "objects": objects, **after}, indent=indent, ensure_ascii=ascii_only)
    data = text.encode()
    path = tmp_path / ("b.json.gz" if compress else "b.json")
    path.write_bytes(gzip.compress(data) if compress else data)
    in_memory = IN_MEMORY if whole else 0
    assert list(BundleFile(path, chunk=chunk, in_memory=in_memory)) == whole_file_objects(data)


def _file(tmp_path: Path, data: bytes, name: str = "b.json") -> Path:
    path = tmp_path / name
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    return path


WAYS = pytest.mark.parametrize("in_memory", [0, IN_MEMORY], ids=["in chunks", "whole"])


def test_a_file_past_max_bytes_is_refused_while_it_is_read(tmp_path: Path) -> None:
    path = _file(tmp_path, b'{"objects": [' + b" " * 5_000_000 + b"]}", "bomb.json.gz")
    with pytest.raises(InvalidInput, match="more than 1000000 bytes once decompressed"):
        list(BundleFile(path, max_bytes=1_000_000))
    assert list(BundleFile(path)) == []


@WAYS
def test_an_object_past_max_object_bytes_is_refused(tmp_path: Path, in_memory: int) -> None:
    path = _file(tmp_path, b'{"objects": [{"a": 1}, {"name": "' + b"x" * 3_000_000 + b'"}]}')
    with pytest.raises(InvalidInput, match="object 2 of its objects list is larger than 1000000"):
        list(BundleFile(path, max_object_bytes=1_000_000, in_memory=in_memory))


@WAYS
def test_nesting_past_the_limit_is_refused_before_decoding(tmp_path: Path, in_memory: int) -> None:
    deep = b'{"objects": [' + b"[" * (MAX_JSON_DEPTH - 2) + b"]" * (MAX_JSON_DEPTH - 2) + b"]}"
    assert len(list(BundleFile(_file(tmp_path, deep), in_memory=in_memory))) == 1
    deeper = b'{"objects": [' + b"[" * 1_000_000
    with pytest.raises(InvalidInput, match=f"more than {MAX_JSON_DEPTH} levels deep"):
        list(BundleFile(_file(tmp_path, deeper), in_memory=in_memory))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"[1, 2]", "not a STIX bundle"),
        (b'{"type": "bundle"}', 'found no "objects" list'),
        (b'{"objects": [{"a": 1}', "ends early"),
        (b'{"objects": []} {"objects": []}', "more after the bundle"),
        (b'{"objects": []} trailing', "more after the bundle"),
        (
            b"ISS (ZARYA)\n1 25544U 98067A   24001.50000000  .00016717  00000-0  10270-3 0  9009\n"
            b"2 25544  51.6416 247.4627 0006703 130.5360 325.0288 15.50377579 12345\n",
            "looks like a set of two-line element sets",
        ),
        (b"CCSDS_OMM_VERS = 3.0\n", "looks like a CCSDS orbit mean-elements message"),
        (b'[{"OBJECT_NAME": "ISS", "NORAD_CAT_ID": 25544}]', "orbit mean-elements message"),
        (b'<?xml version="1.0"?><cdm version="1.0">', "conjunction data message"),
    ],
)
@WAYS
def test_what_is_not_a_bundle_is_refused_saying_what_it_is(
    tmp_path: Path, content: bytes, message: str, in_memory: int
) -> None:
    with pytest.raises(InvalidInput, match=message) as caught:
        list(BundleFile(_file(tmp_path, content), in_memory=in_memory))
    if "looks like" in message:
        assert "kizuna space import" in caught.value.message


def test_a_second_objects_list_is_refused_when_read_in_chunks(tmp_path: Path) -> None:
    path = _file(tmp_path, b'{"objects": [{"a": 1}], "objects": [{"b": 2}]}')
    with pytest.raises(InvalidInput, match='"objects" is given twice'):
        list(BundleFile(path, in_memory=0))
    assert read_bundle(path) == [b'{"b": 2}']  # read whole: the last, as a POST takes it


@WAYS
def test_corrupt_gzip_is_refused(tmp_path: Path, in_memory: int) -> None:
    good = gzip.compress(b'{"objects": [' + b'{"a": 1},' * 100_000 + b"{}]}")
    path = tmp_path / "cut.json.gz"
    path.write_bytes(good[: len(good) // 2])
    with pytest.raises(InvalidInput, match="ends early"):
        list(BundleFile(path, in_memory=in_memory))
    path.write_bytes(b"\x1f\x8b" + b"\x00" * 100)
    with pytest.raises(InvalidInput, match="not a valid gzip file"):
        list(BundleFile(path, in_memory=in_memory))
