"""Which properties an object cannot lose: if redaction would remove one, it is withheld.

>>> is_required("relationship", "source_ref")
True
>>> is_required("malware", "description")
False
"""

from __future__ import annotations

__all__ = ["WITHHOLDABLE_TYPES", "is_required", "required_properties", "required_refs", "type_of"]

_COMMON = frozenset({"type", "id", "spec_version", "created", "modified"})

_BY_TYPE: dict[str, frozenset[str]] = {
    "attack-pattern": frozenset({"name"}),
    "campaign": frozenset({"name"}),
    "course-of-action": frozenset({"name"}),
    "grouping": frozenset({"context", "object_refs"}),
    "identity": frozenset({"name"}),
    "indicator": frozenset({"pattern", "pattern_type", "valid_from"}),
    "infrastructure": frozenset({"name"}),
    "intrusion-set": frozenset({"name"}),
    "location": frozenset(),
    "malware": frozenset({"is_family"}),
    "malware-analysis": frozenset({"product"}),
    "note": frozenset({"content", "object_refs"}),
    "observed-data": frozenset({"first_observed", "last_observed", "number_observed"}),
    "opinion": frozenset({"opinion", "object_refs"}),
    "report": frozenset({"name", "published", "object_refs"}),
    "threat-actor": frozenset({"name"}),
    "tool": frozenset({"name"}),
    "vulnerability": frozenset({"name"}),
    "relationship": frozenset({"relationship_type", "source_ref", "target_ref"}),
    "sighting": frozenset({"sighting_of_ref"}),
    "marking-definition": frozenset({"definition_type", "definition", "extensions"}),
    "extension-definition": frozenset({"name", "schema", "version", "extension_types"}),
}


def required_properties(object_type: str) -> frozenset[str]:
    """The top-level properties an object of *object_type* must keep."""
    return _COMMON | _BY_TYPE.get(object_type, frozenset())


def is_required(object_type: str, prop: str) -> bool:
    return prop in required_properties(object_type)


def required_refs(object_type: str) -> tuple[str, ...]:
    """The required properties of *object_type* that name other objects (sorted).

    >>> required_refs("relationship")
    ('source_ref', 'target_ref')
    >>> required_refs("indicator")
    ()
    """
    return _REQUIRED_REFS.get(object_type, ())


def type_of(stix_id: str) -> str:
    """The object type an identifier names (``type--UUID``).

    >>> type_of("relationship--0d6a4e4b-6a4b-4b7e-8f3a-0f4c2a1b9c8d")
    'relationship'
    """
    return stix_id.split("--", 1)[0]


_REQUIRED_REFS: dict[str, tuple[str, ...]] = {
    otype: refs
    for otype, props in _BY_TYPE.items()
    if (refs := tuple(sorted(p for p in props if p.endswith(("_ref", "_refs")))))
}

#: Types whose objects the fine pass may withhold although their markings admit the reader:
#: those with a required reference, which goes when it names a hidden object.
WITHHOLDABLE_TYPES = frozenset(_REQUIRED_REFS)
