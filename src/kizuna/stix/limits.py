"""How deep JSON may nest in what a node accepts: one limit for every way in.

Depth counts JSON arrays and objects, the outermost one at depth 1: ``{}`` and ``[]`` have depth
1, ``{"a": [1]}`` depth 2, a scalar depth 0. Real STIX objects nest a dozen levels at most
(an extension holding a list of objects holding lists); a value nested hundreds of levels
deep is an attack on every recursive reader of it (the JSON decoder, validation, redaction),
so it is refused before any of them sees it.

- The HTTP door (TAXII POST bodies) and bundle files refuse a document nested deeper than
  :data:`MAX_JSON_DEPTH`.
- Ingest refuses an object nested deeper than :data:`MAX_OBJECT_DEPTH`: the same limit seen
  from inside an envelope or bundle (``{"objects": [ {...} ]}`` puts each object two levels
  down), so whatever passes the door also passes ingest, and an object that arrives alone (a
  peer's page, a computed product) is held to the same limit.

>>> MAX_OBJECT_DEPTH == MAX_JSON_DEPTH - ENVELOPE_DEPTH
True
"""

from __future__ import annotations

import numpy

__all__ = ["ENVELOPE_DEPTH", "MAX_JSON_DEPTH", "MAX_OBJECT_DEPTH", "DepthScan", "json_depth"]

#: The deepest nesting of JSON arrays and objects in a document a node accepts.
MAX_JSON_DEPTH = 100
#: Levels an envelope or bundle puts around each object (``{"objects": [ ... ]}``).
ENVELOPE_DEPTH = 2
#: The deepest nesting of JSON arrays and objects in one STIX object (the object is depth 1).
MAX_OBJECT_DEPTH = MAX_JSON_DEPTH - ENVELOPE_DEPTH


class DepthScan:
    """How deep the arrays and objects of a JSON text nest, read chunk by chunk, without
    recursion and without decoding.

    The depth is exact for valid JSON and, for invalid JSON, up to its first syntax error (all
    a decoder reads of it). It costs a few C passes over the bytes (``bytes.translate`` keeps
    the brackets and quotes, numpy sums them): a third to two thirds of what msgspec takes to
    decode the same envelope, a few percent of a POST's time (``bench/post_cost.py``).

    >>> scan = DepthScan()
    >>> scan.feed(b'{"objects": [{"name": "[[[ \\\\" {{"}, ')
    3
    >>> scan.feed(b'{"list": [[1]]}]}')
    5
    """

    __slots__ = ("_depth", "_inside", "_tail", "deepest")

    def __init__(self) -> None:
        #: The deepest nesting seen so far.
        self.deepest = 0
        self._depth = 0  # the nesting at the end of what was fed
        self._inside = False  # whether that end is inside a string
        self._tail = b""  # backslashes at the end of the last chunk (they escape what follows)

    @property
    def depth(self) -> int:
        """The nesting at the end of what was fed (1 inside the outermost object)."""
        return self._depth

    def feed(self, data: bytes) -> int:
        """Read the next chunk of the text; the deepest nesting so far."""
        if self._tail:
            data, self._tail = self._tail + data, b""
        if b"\\" in data:
            # Escapes never hold a bracket, but an escaped quote does not end a string. A pair
            # of backslashes is one escaped backslash (taken left to right within a run), then
            # a backslash before a quote escapes it: both go, and every quote left is real.
            kept = len(data.rstrip(b"\\"))
            if kept < len(data):
                data, self._tail = data[:kept], data[kept:]
            data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
        marks = data.translate(None, _NOT_MARKS)
        if not marks:
            return self.deepest
        a = numpy.frombuffer(marks, numpy.uint8)
        # Inside a string after an odd number of quotes (counted modulo 256: the parity holds).
        inside = numpy.cumsum(a == _QUOTE, dtype=numpy.uint8) & 1
        if self._inside:
            inside ^= 1
        steps = _STEP[a] * (inside == 0)
        depth = numpy.cumsum(steps, dtype=numpy.int64 if len(a) >= 2**31 else numpy.int32)
        self.deepest = max(self.deepest, self._depth + int(depth.max()))
        self._depth += int(depth[-1])
        self._inside = bool(inside[-1])
        return self.deepest


def json_depth(data: bytes) -> int:
    """How deep the arrays and objects of the JSON text *data* nest (see :class:`DepthScan`).

    >>> json_depth(b'{"a": [1, {"b": "]]]"}]}'), json_depth(b'"[[["'), json_depth(b"[" * 5000)
    (3, 0, 5000)
    """
    return DepthScan().feed(data)


_QUOTE = ord('"')
#: The bytes that are neither a bracket nor a quote (``bytes.translate`` deletes them).
_NOT_MARKS = bytes(range(256)).translate(None, b'[]{}"')
#: +1 for an opening bracket, -1 for a closing one.
_STEP = numpy.zeros(256, numpy.int8)
_STEP[[ord("["), ord("{")]] = 1
_STEP[[ord("]"), ord("}")]] = -1
