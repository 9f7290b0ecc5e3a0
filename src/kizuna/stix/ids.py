"""STIX identifiers: ``type--UUID``, and the deterministic (UUIDv5) ids Kizuna derives.

>>> is_identifier("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f")
True
>>> is_identifier("indicator--not-a-uuid")
False
>>> object_type("malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b")
'malware'
"""

from __future__ import annotations

import re
import uuid

__all__ = [
    "IDENTIFIER",
    "KIZUNA_NAMESPACE",
    "STIX_SCO_NAMESPACE",
    "TYPE_NAME",
    "derived_id",
    "is_identifier",
    "new_id",
    "object_type",
]

_TYPE = r"[a-z0-9][a-z0-9-]{1,248}[a-z0-9]"
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
IDENTIFIER = re.compile(rf"^(?P<type>{_TYPE})--(?P<uuid>{_UUID})\Z")
TYPE_NAME = re.compile(rf"^{_TYPE}\Z")

#: The namespace STIX 2.1 fixes for deterministic SCO ids (section 2.9).
STIX_SCO_NAMESPACE = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")
#: Kizuna's own namespace for ids derived from content (releasability markings, space objects).
KIZUNA_NAMESPACE = uuid.UUID("6b697a75-6e61-5f00-8000-6b697a756e61")


def is_identifier(value: object) -> bool:
    """True when *value* is a syntactically valid STIX identifier."""
    return isinstance(value, str) and IDENTIFIER.match(value) is not None


def object_type(identifier: str) -> str:
    """The type part of a STIX identifier."""
    return identifier.split("--", 1)[0]


def derived_id(object_type: str, name: str) -> str:
    """A deterministic Kizuna id: the same *name* gives the same id on every node."""
    return f"{object_type}--{uuid.uuid5(KIZUNA_NAMESPACE, name)}"


def new_id(object_type: str) -> str:
    """A fresh random (UUIDv4) identifier."""
    return f"{object_type}--{uuid.uuid4()}"
