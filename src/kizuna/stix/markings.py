"""Marking-definitions Kizuna understands: TLP 2.0 (and 1.0), releasability, exercise, statement.

TLP 2.0 uses the official ids and extension of the OASIS TLP 2.0 extension-definition. A
releasability marking (``REL TO NATO, JPN``) carries Kizuna's releasability extension; its id is
derived from its content, so the same marking made on any node is the same object:

>>> releasability_id(["nato", "JPN"]) == releasability_id(["JPN", "NATO"])
True
>>> sorted(parse_marking(releasability_marking(["JPN", "NATO"])).codes)
['JPN', 'NATO']
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kizuna.stix.ids import derived_id

__all__ = [
    "EXERCISE_EXTENSION",
    "KIZUNA_IDENTITY",
    "RELEASABILITY_EXTENSION",
    "TLP1_IDS",
    "TLP2_EXTENSION",
    "TLP2_IDS",
    "TLP_LEVELS",
    "Exercise",
    "Marking",
    "RelTo",
    "Statement",
    "Tlp",
    "Unknown",
    "builtin_markings",
    "exercise_marking",
    "is_releasability_code",
    "meaning_is_public",
    "normalize_codes",
    "parse_marking",
    "releasability_id",
    "releasability_marking",
    "tlp_level",
    "tlp_marking",
]

TLP2_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
#: Kizuna's releasability extension-definition (fixed: every node serves the same object).
RELEASABILITY_EXTENSION = "extension-definition--6b697a75-6e61-4000-8000-72656c746f00"
#: Kizuna's exercise extension-definition: objects that belong to a named exercise.
EXERCISE_EXTENSION = "extension-definition--6b697a75-6e61-4000-8000-657865726300"
KIZUNA_IDENTITY = "identity--6b697a75-6e61-4000-8000-6b697a756e61"
_EXT_CREATED = "2026-11-01T00:00:00.000Z"

#: TLP levels from least to most restrictive.
TLP_LEVELS = ("clear", "green", "amber", "amber+strict", "red")

TLP2_IDS = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
#: The STIX 2.1 predefined TLP 1.0 markings, read as the TLP 2.0 level they correspond to.
TLP1_IDS = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": ("white", "clear"),
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": ("green", "green"),
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": ("amber", "amber"),
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": ("red", "red"),
}

_CODE = re.compile(r"^[A-Z][A-Z0-9_+-]{1,49}\Z")


@dataclass(frozen=True, slots=True)
class Tlp:
    level: str

    @property
    def rank(self) -> int:
        return TLP_LEVELS.index(self.level)


@dataclass(frozen=True, slots=True)
class RelTo:
    codes: frozenset[str]


@dataclass(frozen=True, slots=True)
class Exercise:
    name: str


@dataclass(frozen=True, slots=True)
class Statement:
    text: str


@dataclass(frozen=True, slots=True)
class Unknown:
    reason: str


Marking = Tlp | RelTo | Exercise | Statement | Unknown


def tlp_level(name: str) -> str:
    """Normalize a TLP level name (``TLP:AMBER+STRICT``, ``white`` ...) or raise ValueError."""
    level = name.strip().lower().removeprefix("tlp:")
    if level == "white":
        level = "clear"
    if level not in TLP_LEVELS:
        raise ValueError(f"unknown TLP level {name!r}; expected one of {', '.join(TLP_LEVELS)}")
    return level


def is_releasability_code(code: str) -> bool:
    """Can *code* (upper-case) be named in a ``REL TO`` marking? A letter, then 1 to 49
    letters, digits, ``_``, ``+`` or ``-``: a country (``JPN``) or a community (``NATO``).

    >>> is_releasability_code("EU-27"), is_releasability_code("FIVE EYES")
    (True, False)
    """
    return _CODE.match(code) is not None


def normalize_codes(codes: Iterable[str]) -> list[str]:
    """Upper-case, de-duplicate and sort releasability codes; raise ValueError on bad ones."""
    out = set()
    for code in codes:
        c = code.strip().upper()
        if not is_releasability_code(c):
            raise ValueError(
                f"{code!r} is not a releasability code: expected an ISO 3166 alpha-3 country "
                "(JPN) or a community name (NATO)"
            )
        out.add(c)
    if not out:
        raise ValueError("a releasability marking needs at least one country or community")
    return sorted(out)


def releasability_id(codes: Iterable[str]) -> str:
    return derived_id("marking-definition", "rel-to:" + ",".join(normalize_codes(codes)))


def releasability_marking(codes: Iterable[str]) -> dict[str, Any]:
    """The marking-definition for ``REL TO`` these codes (deterministic id and content)."""
    normalized = normalize_codes(codes)
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": releasability_id(normalized),
        "created": _EXT_CREATED,
        "created_by_ref": KIZUNA_IDENTITY,
        "name": "REL TO " + ", ".join(normalized),
        "extensions": {
            RELEASABILITY_EXTENSION: {
                "extension_type": "property-extension",
                "rel_to": normalized,
            }
        },
    }


def exercise_marking(name: str) -> dict[str, Any]:
    """The marking-definition that places an object in exercise *name*."""
    clean = name.strip().upper()
    if not _CODE.match(clean):
        raise ValueError(f"{name!r} is not an exercise name (letters, digits, - and _)")
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": derived_id("marking-definition", "exercise:" + clean),
        "created": _EXT_CREATED,
        "created_by_ref": KIZUNA_IDENTITY,
        "name": "EXERCISE " + clean,
        "extensions": {
            EXERCISE_EXTENSION: {"extension_type": "property-extension", "exercise": clean}
        },
    }


def tlp_marking(level: str) -> dict[str, Any]:
    """The official TLP 2.0 marking-definition object for *level*."""
    level = tlp_level(level)
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP2_IDS[level],
        "created": "2022-10-01T00:00:00.000Z",
        "name": "TLP:" + level.upper(),
        "extensions": {TLP2_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": level}},
    }


def builtin_markings() -> list[dict[str, Any]]:
    """Marking-definitions every node knows without being told: TLP 2.0 and TLP 1.0."""
    out = [tlp_marking(level) for level in TLP_LEVELS]
    for mid, (old, _level) in TLP1_IDS.items():
        out.append(
            {
                "type": "marking-definition",
                "spec_version": "2.1",
                "id": mid,
                "created": "2017-01-20T00:00:00.000Z",
                "definition_type": "tlp",
                "name": "TLP:" + old.upper(),
                "definition": {"tlp": old},
            }
        )
    return out


def parse_marking(definition: dict[str, Any] | bytes) -> Marking:
    """What a stored marking-definition means to the gate. Anything unrecognized is Unknown."""
    obj: Any = json.loads(definition) if isinstance(definition, bytes) else definition
    if not isinstance(obj, dict):
        return Unknown("not a JSON object")
    mid = obj.get("id")
    if mid in TLP1_IDS:
        return Tlp(TLP1_IDS[mid][1])
    exts = obj.get("extensions")
    if isinstance(exts, dict):
        if TLP2_EXTENSION in exts:
            value = (
                exts[TLP2_EXTENSION].get("tlp_2_0")
                if isinstance(exts[TLP2_EXTENSION], dict)
                else None
            )
            if isinstance(value, str) and value in TLP_LEVELS and TLP2_IDS[value] == mid:
                return Tlp(value)
            return Unknown(f"TLP 2.0 marking {mid} does not match the official definition")
        if RELEASABILITY_EXTENSION in exts:
            ext = exts[RELEASABILITY_EXTENSION]
            codes = ext.get("rel_to") if isinstance(ext, dict) else None
            if isinstance(codes, list) and all(isinstance(c, str) for c in codes):
                try:
                    normalized = normalize_codes(codes)
                except ValueError as exc:
                    return Unknown(str(exc))
                if releasability_id(normalized) != mid:
                    return Unknown(f"releasability marking {mid} does not match its content")
                return RelTo(frozenset(normalized))
            return Unknown("releasability extension without a rel_to list of codes")
        if EXERCISE_EXTENSION in exts:
            ext = exts[EXERCISE_EXTENSION]
            name = ext.get("exercise") if isinstance(ext, dict) else None
            if isinstance(name, str) and name:
                return Exercise(name.upper())
            return Unknown("exercise extension without an exercise name")
    if obj.get("definition_type") == "statement":
        d = obj.get("definition")
        if isinstance(d, dict) and isinstance(d.get("statement"), str):
            return Statement(d["statement"])
    if obj.get("definition_type") == "tlp":
        return Unknown("a TLP 1.0 marking-definition that is not one of the four predefined ones")
    return Unknown("a marking-definition of a kind Kizuna does not know")


def meaning_is_public(marking_id: str, marking: Marking) -> bool:
    """True when the id of a marking-definition says all it means: the TLP ones (official
    ids), and releasability and exercise markings whose id is derived from their content.

    Anyone may know such a definition, so it can be compared with what a writer sends. Any
    other definition (a statement, an exercise marking under an id of its own) says something
    its id does not, which only those who may see it may learn (docs/policy.md, Rule 6).

    >>> meaning_is_public(TLP2_IDS["red"], Tlp("red"))
    True
    >>> meaning_is_public("marking-definition--0d2b59a2-5c16-4c52-b4a6-3b1a7d2a0b11",
    ...                   Statement("Copyright ACME"))
    False
    """
    if isinstance(marking, Tlp):
        return marking_id in TLP1_IDS or TLP2_IDS.get(marking.level) == marking_id
    if isinstance(marking, RelTo):
        return releasability_id(marking.codes) == marking_id
    if isinstance(marking, Exercise):
        try:
            return bool(exercise_marking(marking.name)["id"] == marking_id)
        except ValueError:  # a name no derived exercise marking has
            return False
    return False
