"""The objects of a JSON text's top-level ``objects`` list (a STIX bundle, a TAXII envelope),
found chunk by chunk without decoding the text: a file too large to hold, a POST body too large
to decode in one call (which would hold the interpreter for as long).

>>> split_objects(b'{"type": "bundle", "objects": [{"a": "],"}, [1, 2], 3]}', "b.json")
[b'{"a": "],"}', b'[1, 2]', b'3']
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy

from kizuna.errors import InvalidInput
from kizuna.stix.limits import MAX_JSON_DEPTH

#: What an error names the text by: a file's path, or a phrase ("the request body").
Label = Path | str
#: The bytes fed to a :class:`Splitter` at a time by :func:`split_objects`.
CHUNK = 1 << 20

_QUOTE, _BACKSLASH, _COMMA = ord('"'), ord("\\"), ord(",")
_WHITESPACE = b" \t\r\n"
#: The bytes that shape the JSON text: brackets, commas, quotes and backslashes.
_SHAPING = numpy.zeros(256, numpy.bool_)
_SHAPING[list(b'[]{},"\\')] = True
_STEP = numpy.zeros(256, numpy.int8)
_STEP[list(b"[{")] = 1
_STEP[list(b"]}")] = -1
_OBJECTS_KEY = re.compile(rb'\A[ \t\r\n]*"objects"[ \t\r\n]*:[ \t\r\n]*\Z')


def split_objects(data: bytes, label: Label, max_object_bytes: int = 1 << 62) -> list[bytes]:
    """The raw JSON of each element of *data*'s ``objects`` list, read a mebibyte at a time
    (between two, other threads of the process run)."""
    splitter = Splitter(label, max_object_bytes)
    out: list[bytes] = []
    for start in range(0, len(data), CHUNK):
        out += splitter.feed(data[start : start + CHUNK])
    splitter.finish()
    return out


def too_deep(path: Label) -> str:
    return (
        f"{path}: arrays and objects nest more than {MAX_JSON_DEPTH} levels deep; at most "
        f"{MAX_JSON_DEPTH} are accepted"
    )


def too_large(path: Label, n: int, limit: int) -> str:
    return (
        f"{path}: object {n} of its objects list is larger than {limit} bytes; at most "
        f"{limit} are accepted (the API's max_body_bytes)"
    )


def truncated(path: Label) -> str:
    return f"{path}: the JSON text ends early (a truncated file?)"


def more_after(path: Label) -> str:
    return f"{path}: there is more after the bundle's closing brace (one JSON object expected)"


def no_objects(path: Label) -> str:
    return (
        f'{path}: expected a STIX bundle {{"type": "bundle", "objects": [...]}} or a TAXII '
        'envelope {"objects": [...]}; found no "objects" list'
    )


class Splitter:
    """The elements of the top-level ``objects`` list of a JSON text fed in chunks.

    Per chunk, numpy finds the bytes that shape the text (brackets, commas, quotes,
    backslashes), which quotes are escaped, which bytes are inside strings, and the nesting
    after each byte; Python then looks only at what happens at the two outermost levels (about
    one comma per object).
    """

    def __init__(self, path: Label, max_object_bytes: int) -> None:
        self.path = path
        self.max_object_bytes = max_object_bytes
        self.depth = 0
        self.inside = False  # inside a string at the end of what was fed
        self.backslashes = 0  # backslashes at the end of what was fed (in a string)
        self.key = bytearray()  # what came at the top level since its last comma
        self.in_objects = False  # inside the objects list
        self.seen_objects = False
        self.element = bytearray()  # the object being read, so far
        self.elements = 0
        self.done = False  # the bundle's closing brace was read

    def feed(self, chunk: bytes) -> list[bytes]:
        a = numpy.frombuffer(chunk, numpy.uint8)
        at = numpy.flatnonzero(_SHAPING[a])
        out: list[bytes] = []
        if len(at) == 0:
            self.backslashes = 0
            self._carry(chunk, 0, out)
            return out
        ch = a[at]
        quote = ch == _QUOTE
        if self.backslashes or (ch == _BACKSLASH).any():
            quote &= ~self._escaped(at, ch)
            # The backslashes at the very end escape what the next chunk starts with.
            tail = len(chunk) - len(chunk.rstrip(b"\\"))
            self.backslashes = (self.backslashes + tail) if tail == len(chunk) else tail
        else:
            self.backslashes = 0
        parity = numpy.cumsum(quote, dtype=numpy.uint8) & 1
        if self.inside:
            parity ^= 1
        outside = (parity == 0) & ~quote & (ch != _BACKSLASH)
        steps = _STEP[ch] * outside
        after = numpy.cumsum(steps, dtype=numpy.int64) + self.depth
        if len(after) and int(after.max()) > MAX_JSON_DEPTH:
            raise InvalidInput(too_deep(self.path))
        before = after - steps
        # What the two outermost levels see (brackets that enter or leave them, their commas:
        # a few per file), and the commas between the elements of a list at the second level
        # (about one per object), taken in bulk.
        top = numpy.flatnonzero(outside & (numpy.minimum(before, after) <= 1)).tolist()
        commas = at[outside & (ch == _COMMA) & (before == 2)]
        done = 0  # commas[:done] are taken
        start = 0  # where the part of the chunk not yet given to an element or key starts
        for e in top:
            pos, c, depth = int(at[e]), int(ch[e]), int(before[e])
            upto = int(numpy.searchsorted(commas, pos))
            if self.in_objects and upto > done:
                start = self._elements(chunk, start, commas[done:upto].tolist(), out)
            done = upto
            if c == _COMMA:  # at the top level
                self.key.clear()
            elif int(after[e]) > depth:  # an opening bracket
                if depth == 0 and self.done:
                    raise InvalidInput(more_after(self.path))
                if depth == 0 and c != ord("{"):
                    raise InvalidInput(f"{self.path}: not a STIX bundle: it is not a JSON object")
                if depth == 1:
                    self._key(chunk, start, pos)
                    if c == ord("[") and _OBJECTS_KEY.match(self.key):
                        if self.seen_objects:
                            # (A file read whole keeps the last, as msgspec and a POST do.)
                            raise InvalidInput(f'{self.path}: "objects" is given twice')
                        self.in_objects = self.seen_objects = True
                    self.key.clear()
            elif depth == 1:  # the bundle's closing brace
                self.key.clear()
                self.done = True
            elif self.in_objects:  # the end of the objects list
                self._element(chunk, start, pos, out, last=True)
                self.in_objects = False
            start = pos + 1
        if self.in_objects and len(commas) > done:
            start = self._elements(chunk, start, commas[done:].tolist(), out)
        self.depth = int(after[-1])
        self.inside = bool(parity[-1])
        self._carry(chunk, start, out)
        return out

    def _escaped(self, at: numpy.ndarray, ch: numpy.ndarray) -> numpy.ndarray:
        """Which of the shaping bytes at *at* are escaped (preceded by an odd run of
        backslashes, counting those at the end of the last chunk)."""
        backslash = ch == _BACKSLASH
        idx = numpy.arange(len(at))
        # A backslash continues a run when the one before it is a backslash right before it.
        continues = numpy.zeros(len(at), numpy.bool_)
        continues[1:] = backslash[1:] & backslash[:-1] & (at[1:] == at[:-1] + 1)
        first_of_run = backslash & ~continues
        run_start = numpy.maximum.accumulate(numpy.where(first_of_run, idx, 0))
        run_length = numpy.where(backslash, idx - run_start + 1, 0)
        if self.backslashes and at[0] == 0 and backslash[0]:
            # The run that starts the chunk continues the last chunk's.
            run_length[backslash & (run_start == 0)] += self.backslashes
        escaped = numpy.zeros(len(at), numpy.bool_)
        escaped[1:] = backslash[:-1] & (at[:-1] == at[1:] - 1) & (run_length[:-1] % 2 == 1)
        if self.backslashes % 2 == 1 and at[0] == 0 and not backslash[0]:
            escaped[0] = True
        return escaped

    def _key(self, chunk: bytes, start: int, pos: int) -> None:
        if len(self.key) < 256:
            self.key += chunk[start:pos][:256]

    def _elements(self, chunk: bytes, start: int, ends: list[int], out: list[bytes]) -> int:
        """The elements of the objects list that end (with a comma) at *ends*; where the next
        one starts."""
        starts = [start, *(e + 1 for e in ends[:-1])]
        pieces = [chunk[a:b].strip(_WHITESPACE) for a, b in zip(starts, ends, strict=True)]
        if self.element:
            pieces[0] = (bytes(self.element) + chunk[start : ends[0]]).strip(_WHITESPACE)
            self.element.clear()
        longest = max(map(len, pieces))
        if longest > self.max_object_bytes:
            self.elements += next(i for i, p in enumerate(pieces) if len(p) == longest)
            self._check_size(longest)
        self.elements += len(pieces)
        out.extend(pieces)
        return ends[-1] + 1

    def _element(self, chunk: bytes, start: int, pos: int, out: list[bytes], *, last: bool = False) -> None:
        self.element += chunk[start:pos]
        raw = bytes(self.element).strip(_WHITESPACE)
        self.element.clear()
        if raw or not (last and self.elements == 0):
            self._check_size(len(raw))
            self.elements += 1
            out.append(raw)

    def _carry(self, chunk: bytes, start: int, out: list[bytes]) -> None:
        """Keep what is left of *chunk* for the element (or the key) it belongs to."""
        if self.in_objects and self.depth >= 2:
            # (Whitespace before an element is no part of it: a list of 1 GiB of spaces is
            # refused for its size, not read as one huge element.)
            self.element += chunk[start:] if self.element else chunk[start:].lstrip(_WHITESPACE)
            self._check_size(len(self.element))
        elif self.depth == 1:
            self._key(chunk, start, len(chunk))
        elif self.depth == 0 and self.done and chunk[start:].strip(_WHITESPACE):
            raise InvalidInput(more_after(self.path))

    def _check_size(self, size: int) -> None:
        if size > self.max_object_bytes:
            raise InvalidInput(too_large(self.path, self.elements + 1, self.max_object_bytes))

    def finish(self) -> None:
        if self.depth != 0 or self.inside:
            raise InvalidInput(truncated(self.path))
        if not self.seen_objects:
            raise InvalidInput(no_objects(self.path))
