"""A peer's TAXII envelope, split into its objects' bytes without trusting their shape.

The fast path is msgspec, which leaves each object as raw bytes. An object nested deeper
than the decoder can follow makes that fail for the whole envelope; then the envelope is
split by a scanner that only counts brackets, so the objects beside it are kept and the deep
one is refused on its own by ingest (kizuna.stix.limits).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import msgspec


class _Envelope(msgspec.Struct):
    more: bool = False
    next: str | None = None
    objects: list[msgspec.Raw] = msgspec.field(default_factory=list)


@dataclass(slots=True)
class Envelope:
    more: bool
    next: str | None
    objects: list[bytes]


#: The most objects one answer may hold. msgspec makes an object per element of the array
#: before anything can count them (about 100 bytes each with their copies), so an answer of
#: ``[1,1,1,...]`` would cost 50 times its size: one with fewer commas than this cannot hold
#: more elements, and one with more is split by the scanner, which counts as it goes.
MAX_OBJECTS = 100_000


def decode_envelope(body: bytes | bytearray) -> Envelope:
    """The envelope in *body*; ``msgspec.DecodeError`` or ``ValidationError`` when it is not one."""
    if body.count(b",") >= MAX_OBJECTS:
        return _split(body)
    try:
        env = msgspec.json.decode(body, type=_Envelope)
    except RecursionError:
        return _split(body)
    return Envelope(env.more, env.next, [bytes(o) for o in env.objects])


def weight(raw: bytes) -> int:
    """At least the number of JSON values in *raw* (each but the first follows a comma or
    opens a container): what decoding it may cost, counted without decoding it."""
    return raw.count(b",") + raw.count(b"[") + raw.count(b"{") + 1


# A JSON string (escapes included), or one structural character.
_TOKENS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{},]')
_SPACE = b" \t\r\n"


def _split(body: bytes | bytearray) -> Envelope:
    data = bytes(body)
    depth = 0
    array: tuple[int, int] | None = None  # the objects array: '[' and ']' offsets
    in_objects = False
    element = 0
    elements: list[tuple[int, int]] = []
    for m in _TOKENS.finditer(data):
        c = data[m.start()]
        if c == 0x22:  # a string: a key of the envelope's own object?
            if depth == 1 and array is None and m.group() == b'"objects"':
                rest = data[m.end() :].lstrip(_SPACE)
                if rest[:1] == b":" and rest[1:].lstrip(_SPACE)[:1] == b"[":
                    in_objects = True
            continue
        if c in b"[{":
            depth += 1
            if in_objects and depth == 2 and c == 0x5B:
                array = (m.start(), -1)
                element = m.end()
                in_objects = False
        elif c in b"]}":
            if array is not None and array[1] < 0 and depth == 2:
                elements.append((element, m.start()))
                array = (array[0], m.end())
            depth -= 1
        elif depth == 2 and array is not None and array[1] < 0:  # a comma between objects
            elements.append((element, m.start()))
            element = m.end()
            if len(elements) >= MAX_OBJECTS:
                raise msgspec.DecodeError(f"the answer holds more than {MAX_OBJECTS} objects")
    if depth != 0 or array is None or array[1] < 0:
        raise msgspec.DecodeError("malformed TAXII envelope: brackets do not balance")
    head = msgspec.json.decode(data[: array[0]] + b"[]" + data[array[1] :], type=_Envelope)
    objects = [raw for raw in (data[a:b].strip(_SPACE) for a, b in elements) if raw]
    return Envelope(head.more, head.next, objects)


_ID = re.compile(rb'"id"\s*:\s*"([^"\\]{1,300})"')


def peek_id(raw: object) -> str | None:
    """The first ``"id"`` string in an object's bytes, for a log line about an object that
    cannot be decoded (it may belong to a nested object: a hint, never a key)."""
    if not isinstance(raw, bytes | bytearray):
        return None
    m = _ID.search(raw, 0, 65536)
    return m.group(1).decode("utf-8", "replace") if m else None
