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

from kizuna.errors import InvalidInput
from kizuna.node._split import Splitter, more_after, no_objects, too_deep, too_large, truncated
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
            raise InvalidInput(too_deep(self.path))
        try:
            bundle = msgspec.json.decode(data, type=_Bundle)
        except msgspec.DecodeError as exc:
            if "truncated" in str(exc):
                raise InvalidInput(truncated(self.path)) from None
            if "trailing characters" in str(exc):
                raise InvalidInput(more_after(self.path)) from None
            raise InvalidInput(f"{self.path}: not a STIX bundle: {exc}") from None
        if bundle.objects is None:
            raise InvalidInput(no_objects(self.path))
        raws = [bytes(o) for o in bundle.objects]
        for i, raw in enumerate(raws):
            if len(raw) > self.max_object_bytes:
                raise InvalidInput(too_large(self.path, i + 1, self.max_object_bytes))
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
        splitter = Splitter(self.path, self.max_object_bytes)
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
