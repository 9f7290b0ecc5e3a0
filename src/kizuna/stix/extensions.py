"""Kizuna's own extension-definitions. Their ids are fixed, so every node serves the same ones."""

from __future__ import annotations

from typing import Any

from kizuna.stix.markings import EXERCISE_EXTENSION, KIZUNA_IDENTITY, RELEASABILITY_EXTENSION

_CREATED = "2026-11-01T00:00:00.000Z"


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
    # The space domain's object types (space objects, conjunctions) are Kizuna's too.
    from kizuna.space.stix import space_extension_definitions

    return defs + space_extension_definitions()
