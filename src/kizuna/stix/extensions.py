"""Kizuna's own extension-definitions. Their ids are fixed, so every node serves the same ones."""

from __future__ import annotations

from typing import Any

from kizuna.stix.markings import EXERCISE_EXTENSION, KIZUNA_IDENTITY, RELEASABILITY_EXTENSION

__all__ = [
    "CONJUNCTION_EXTENSION",
    "CONJUNCTION_TYPE",
    "ELEMENT_SET_EXTENSION",
    "ELEMENT_SET_TYPE",
    "SPACE_OBJECT_EXTENSION",
    "SPACE_OBJECT_TYPE",
    "extension_definition",
    "extension_definitions",
    "kizuna_identity",
    "space_extension_definitions",
]

_CREATED = "2026-11-01T00:00:00.000Z"

#: The space domain's object types (kizuna.space.stix makes them) and their definitions' fixed
#: ids (the last 12 hex digits spell "spaceo" and "conjun" in ASCII).
SPACE_OBJECT_TYPE = "x-kizuna-space-object"
CONJUNCTION_TYPE = "x-kizuna-conjunction"
SPACE_OBJECT_EXTENSION = "extension-definition--6b697a75-6e61-4000-8000-73706163656f"
CONJUNCTION_EXTENSION = "extension-definition--6b697a75-6e61-4000-8000-636f6e6a756e"
ELEMENT_SET_TYPE = "x-kizuna-element-set"
ELEMENT_SET_EXTENSION = "extension-definition--6b697a75-6e61-4000-8000-656c656d7365"


def kizuna_identity() -> dict[str, Any]:
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": KIZUNA_IDENTITY,
        "created": _CREATED,
        "modified": _CREATED,
        "name": "Kizuna",
        "identity_class": "system",
        "description": "The Kizuna threat-intelligence exchange, author of its extension-definitions.",
    }


def extension_definition(
    ext_id: str,
    name: str,
    description: str,
    schema: str,
    extension_type: str = "property-extension",
) -> dict[str, Any]:
    """One of Kizuna's extension-definitions (fixed id, authored by the Kizuna identity)."""
    return {
        "type": "extension-definition",
        "spec_version": "2.1",
        "id": ext_id,
        "created": _CREATED,
        "modified": _CREATED,
        "created_by_ref": KIZUNA_IDENTITY,
        "name": name,
        "description": description,
        "schema": schema,
        "version": "1.0.0",
        "extension_types": [extension_type],
    }


def extension_definitions() -> list[dict[str, Any]]:
    """Every extension-definition Kizuna defines, with the identity that authors them."""
    defs: list[dict[str, Any]] = [
        kizuna_identity(),
        extension_definition(
            RELEASABILITY_EXTENSION,
            "Kizuna releasability",
            "On a marking-definition: the object may be released only to principals of the "
            "listed countries (ISO 3166 alpha-3) or communities (e.g. NATO). Property rel_to: "
            "sorted list of upper-case codes. The id of such a marking is UUIDv5 over its codes.",
            "https://kizuna.invalid/schemas/releasability-1.0.json",
        ),
        extension_definition(
            EXERCISE_EXTENSION,
            "Kizuna exercise",
            "On a marking-definition: the object belongs to the named exercise and may only be "
            "read from that exercise's collections. Property exercise: the exercise name.",
            "https://kizuna.invalid/schemas/exercise-1.0.json",
        ),
    ]
    return defs + space_extension_definitions()


def space_extension_definitions() -> list[dict[str, Any]]:
    """The definitions (``new-sdo``) of the space domain's three object types."""
    return [
        extension_definition(
            SPACE_OBJECT_EXTENSION,
            "Kizuna space object",
            f"New SDO {SPACE_OBJECT_TYPE}: a tracked space object (norad_cat_id, "
            "international_designator, name, owner_country, object_type) and its current SGP4 "
            "mean elements (elements: OMM keywords in lower case). The id is UUIDv5 over "
            "'norad:<number>[/<designator>]'; a newer element set is a new version.",
            "https://kizuna.invalid/schemas/space-object-1.0.json",
            "new-sdo",
        ),
        extension_definition(
            CONJUNCTION_EXTENSION,
            "Kizuna conjunction",
            f"New SDO {CONJUNCTION_TYPE}: a close approach between two space objects "
            "(space_object_refs), with tca, miss_distance_km, relative_speed_km_s, miss_rtn_km "
            "(object 2 relative to object 1 in object 1's RTN frame), collision_probability and "
            "collision_probability_method when known (absent otherwise), and screening.",
            "https://kizuna.invalid/schemas/conjunction-1.0.json",
            "new-sdo",
        ),
        extension_definition(
            ELEMENT_SET_EXTENSION,
            "Kizuna element set",
            f"New SDO {ELEMENT_SET_TYPE}: what one organization observes of a space object "
            "(space_object_ref, norad_cat_id): its SGP4 mean elements (elements: OMM keywords "
            "in lower case), created by that organization (created_by_ref). The id is UUIDv5 "
            "over '<created_by_ref>|<space_object_ref>'; a newer epoch is a new version.",
            "https://kizuna.invalid/schemas/element-set-1.0.json",
            "new-sdo",
        ),
    ]
