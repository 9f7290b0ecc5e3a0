"""Reading STIX bundles from files (``.json`` or ``.json.gz``), object by object, as bytes."""

from __future__ import annotations

import gzip
from pathlib import Path

import msgspec

from kizuna.errors import InvalidInput


class _Bundle(msgspec.Struct):
    objects: list[msgspec.Raw] | None = None
    type: str | None = None


def read_bundle(path: Path) -> list[bytes]:
    """The raw JSON of each object in a bundle (or TAXII envelope) file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read: {exc.strerror}") from None
    if path.suffix == ".gz" or data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise InvalidInput(f"{path}: not a valid gzip file: {exc}") from None
    try:
        bundle = msgspec.json.decode(data, type=_Bundle)
    except msgspec.DecodeError as exc:
        raise InvalidInput(f"{path}: not a STIX bundle: {exc}") from None
    if bundle.objects is None:
        raise InvalidInput(
            f'{path}: expected a STIX bundle {{"type": "bundle", "objects": [...]}} or a TAXII '
            'envelope {"objects": [...]}; found no "objects" list'
        )
    return definitions_first([bytes(o) for o in bundle.objects])


class _Typed(msgspec.Struct):
    type: str = ""


_DEFINITIONS = frozenset({"marking-definition", "extension-definition"})


def definitions_first(objects: list[bytes]) -> list[bytes]:
    """Marking- and extension-definitions first, the rest in their order.

    Bundles often list a marking-definition after the objects it marks (ATT&CK does); loaded
    in batches, those objects would otherwise be refused as marked with an unknown marking.
    """
    head: list[bytes] = []
    tail: list[bytes] = []
    for raw in objects:
        try:
            kind = msgspec.json.decode(raw, type=_Typed).type
        except (msgspec.DecodeError, msgspec.ValidationError):
            kind = ""
        (head if kind in _DEFINITIONS else tail).append(raw)
    return head + tail
