"""Reading STIX bundles from files (``.json`` or ``.json.gz``), object by object, as bytes.

A file of up to 64 MiB (decompressed) is read whole and split by msgspec; a larger one is read
in chunks of a mebibyte and never held whole: a bundle of a few gigabytes, or a gzip bomb,
costs the memory of a chunk and of the object being read. The reader
(:class:`BundleFile`) finds the objects of the bundle's ``objects`` list by scanning each chunk
for its brackets, quotes and commas with numpy (the way ``stix.limits.DepthScan`` measures
nesting), and refuses, naming the limit:

- a file larger than ``max_bytes`` once decompressed (``import_max_bytes``);
- one object larger than ``max_object_bytes`` (the API's ``max_body_bytes``);
- nesting deeper than :data:`~kizuna.stix.limits.MAX_JSON_DEPTH`;
- what is not a bundle or an envelope (a TLE, OMM or CDM file is pointed to
  ``kizuna space import``).

Bundles often list a marking-definition after the objects it marks (ATT&CK does); loaded in
batches, those objects would be refused as marked with an unknown marking. So the file is read
twice: its marking- and extension-definitions first, then everything else, in order.
"""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import msgspec
import numpy

from kizuna.errors import InvalidInput
from kizuna.stix.limits import MAX_JSON_DEPTH, json_depth

#: Bytes read (after decompression) at a time.
CHUNK = 1 << 20
#: The default of ``max_bytes``: files larger than this once decompressed are refused.
MAX_FILE_BYTES = 1 << 30
#: The default of ``max_object_bytes``.
MAX_OBJECT_BYTES = 20 * 1024 * 1024
#: A file of at most this many bytes (decompressed) is read whole and split by msgspec, five
#: times faster than chunk by chunk; a larger one is read in chunks, twice.
IN_MEMORY = 64 * 1024 * 1024

_DEFINITIONS = frozenset({"marking-definition", "extension-definition"})
#: What a definition's bytes hold (then decoded to be sure: the type may be a nested one's).
_DEFINITION_TYPE = re.compile(rb'"type"[ \t\r\n]*:[ \t\r\n]*"(?:marking|extension)-definition"')
_OBJECTS_KEY = re.compile(rb'\A[ \t\r\n]*"objects"[ \t\r\n]*:[ \t\r\n]*\Z')

_QUOTE, _BACKSLASH, _COMMA = ord('"'), ord("\\"), ord(",")
_WHITESPACE = b" \t\r\n"
#: The bytes that shape the JSON text: brackets, commas, quotes and backslashes.
_SHAPING = numpy.zeros(256, numpy.bool_)
_SHAPING[list(b'[]{},"\\')] = True
_STEP = numpy.zeros(256, numpy.int8)
_STEP[list(b"[{")] = 1
_STEP[list(b"]}")] = -1


class _Typed(msgspec.Struct):
    type: str = ""


def read_bundle(path: Path) -> list[bytes]:
    """The raw JSON of each object in a bundle (or TAXII envelope) file, definitions first."""
    return list(BundleFile(path))


class BundleFile:
    """The objects of one bundle (or TAXII envelope) file, read incrementally.

    Iterating gives the raw JSON of each object: marking- and extension-definitions first,
    then the others in the file's order. :attr:`size` is the decompressed size read so far.
    """

    def __init__(
        self,
        path: Path,
        *,
        max_bytes: int = MAX_FILE_BYTES,
        max_object_bytes: int = MAX_OBJECT_BYTES,
        chunk: int = CHUNK,
        in_memory: int = IN_MEMORY,
    ) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.max_object_bytes = max_object_bytes
        self.chunk = chunk
        self.in_memory = in_memory
        self.size = 0

    def __iter__(self) -> Iterator[bytes]:
        whole = self._whole()
        if whole is not None:
            yield from self._from_memory(whole)
            return
        yield from self.definitions()
        yield from self.others()

    def _whole(self) -> bytes | None:
        """The file's (decompressed) bytes when there are at most :attr:`in_memory` of them."""
        parts: list[bytes] = []
        self.size = 0
        for chunk in self._chunks():
            parts.append(chunk)
            if self.size > self.in_memory:
                return None
        return b"".join(parts)

    def _from_memory(self, data: bytes) -> Iterator[bytes]:
        """The objects of a small file read whole: msgspec splits it (5x faster)."""
        depth = json_depth(data)
        if depth > MAX_JSON_DEPTH:
            raise InvalidInput(_too_deep(self.path))
        try:
            bundle = msgspec.json.decode(data, type=_Bundle)
        except msgspec.DecodeError as exc:
            if "truncated" in str(exc):
                raise InvalidInput(_truncated(self.path)) from None
            if "trailing characters" in str(exc):
                raise InvalidInput(_more_after(self.path)) from None
            raise InvalidInput(f"{self.path}: not a STIX bundle: {exc}") from None
        if bundle.objects is None:
            raise InvalidInput(_no_objects(self.path))
        raws = [bytes(o) for o in bundle.objects]
        for i, raw in enumerate(raws):
            if len(raw) > self.max_object_bytes:
                raise InvalidInput(_too_large(self.path, i + 1, self.max_object_bytes))
        kinds = [_DEFINITION_TYPE.search(r) is not None and _kind(r) in _DEFINITIONS for r in raws]
        yield from (r for r, definition in zip(raws, kinds, strict=True) if definition)
        yield from (r for r, definition in zip(raws, kinds, strict=True) if not definition)

    def definitions(self) -> Iterator[bytes]:
        """The marking- and extension-definitions of the file."""
        for raw in self._objects():
            if _DEFINITION_TYPE.search(raw) and _kind(raw) in _DEFINITIONS:
                yield raw

    def others(self) -> Iterator[bytes]:
        """Every object that is not a marking- or extension-definition, in order."""
        for raw in self._objects():
            if not _DEFINITION_TYPE.search(raw) or _kind(raw) not in _DEFINITIONS:
                yield raw

    def _objects(self) -> Iterator[bytes]:
        splitter = _Splitter(self.path, self.max_object_bytes)
        for chunk in self._chunks():
            yield from splitter.feed(chunk)
        splitter.finish()

    def _chunks(self) -> Iterator[bytes]:
        """The file's decompressed bytes, chunk by chunk, up to :attr:`max_bytes`."""
        self.size = 0
        with _open(self.path) as f:
            while True:
                try:
                    chunk = f.read(self.chunk)
                except (OSError, EOFError, zlib.error) as exc:
                    raise InvalidInput(f"{self.path}: cannot read it: {_reason(exc)}") from None
                if not chunk:
                    break
                if not self.size:
                    _check_start(self.path, chunk)
                self.size += len(chunk)
                if self.size > self.max_bytes:
                    raise InvalidInput(
                        f"{self.path}: more than {self.max_bytes} bytes once decompressed; "
                        "this is the most a file may hold (kizuna import --max-bytes, or "
                        "the setting import_max_bytes). A gzip bomb?"
                    )
                yield chunk
        if not self.size:
            raise InvalidInput(f"{self.path}: the file is empty; expected a STIX bundle")


class _Bundle(msgspec.Struct):
    objects: list[msgspec.Raw] | None = None


def _too_deep(path: Path) -> str:
    return (
        f"{path}: arrays and objects nest more than {MAX_JSON_DEPTH} levels deep; at most "
        f"{MAX_JSON_DEPTH} are accepted"
    )


def _too_large(path: Path, n: int, limit: int) -> str:
    return (
        f"{path}: object {n} of its objects list is larger than {limit} bytes; at most "
        f"{limit} are accepted (the API's max_body_bytes)"
    )


def _truncated(path: Path) -> str:
    return f"{path}: the JSON text ends early (a truncated file?)"


def _more_after(path: Path) -> str:
    return f"{path}: there is more after the bundle's closing brace (one JSON object expected)"


def _no_objects(path: Path) -> str:
    return (
        f'{path}: expected a STIX bundle {{"type": "bundle", "objects": [...]}} or a TAXII '
        'envelope {"objects": [...]}; found no "objects" list'
    )


def _open(path: Path) -> IO[bytes]:
    try:
        f = path.open("rb")
        magic = f.read(2)
        f.seek(0)
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read: {exc.strerror}") from None
    if path.suffix == ".gz" or magic == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=f, mode="rb")  # type: ignore[return-value]
    return f


def _reason(exc: BaseException) -> str:
    if isinstance(exc, EOFError):
        return "the gzip stream ends early (a truncated file?)"
    if isinstance(exc, gzip.BadGzipFile | zlib.error):
        return f"not a valid gzip file ({exc})"
    return str(getattr(exc, "strerror", None) or exc)


def _kind(raw: bytes) -> str:
    try:
        return msgspec.json.decode(raw, type=_Typed).type
    except (msgspec.DecodeError, msgspec.ValidationError):
        return ""


_TLE_LINE_1 = re.compile(r"^1 [ 0-9A-Z]{5}[A-Z ] ", re.M)
_TLE_LINE_2 = re.compile(r"^2 [ 0-9A-Z]{5} ", re.M)


def _check_start(path: Path, head: bytes) -> None:
    """Refuse a file that does not start as a JSON object, saying what it looks like."""
    text = head[:4096].decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    if text.startswith("{"):
        return
    what = None
    if "CCSDS_CDM_VERS" in text or "<cdm" in text:
        what = "a CCSDS conjunction data message (CDM)"
    elif "CCSDS_OMM_VERS" in text or "<omm" in text or "NORAD_CAT_ID" in text.upper():
        what = "a CCSDS orbit mean-elements message (OMM)"
    elif _TLE_LINE_1.search(text) and _TLE_LINE_2.search(text):
        what = "a set of two-line element sets (TLE)"
    if what:
        raise InvalidInput(
            f"{path}: this looks like {what}, not a STIX bundle; import it with: kizuna space "
            f"import DIRECTORY COLLECTION {path}"
        )
    raise InvalidInput(
        f'{path}: not a STIX bundle: expected {{"type": "bundle", "objects": [...]}} or a '
        f'TAXII envelope {{"objects": [...]}}, got {text[:40]!r}'
    )


class _Splitter:
    """The elements of the top-level ``objects`` list of a JSON text fed in chunks.

    Per chunk, numpy finds the bytes that shape the text (brackets, commas, quotes,
    backslashes), which quotes are escaped, which bytes are inside strings, and the nesting
    after each byte; Python then looks only at what happens at the two outermost levels (about
    one comma per object).
    """

    def __init__(self, path: Path, max_object_bytes: int) -> None:
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
            raise InvalidInput(_too_deep(self.path))
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
                    raise InvalidInput(_more_after(self.path))
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
            raise InvalidInput(_more_after(self.path))

    def _check_size(self, size: int) -> None:
        if size > self.max_object_bytes:
            raise InvalidInput(_too_large(self.path, self.elements + 1, self.max_object_bytes))

    def finish(self) -> None:
        if self.depth != 0 or self.inside:
            raise InvalidInput(_truncated(self.path))
        if not self.seen_objects:
            raise InvalidInput(_no_objects(self.path))
