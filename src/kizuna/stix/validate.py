"""Strict, fast STIX 2.1 validation at the door.

:func:`validate_object` takes one parsed JSON value and returns every :class:`Problem` it finds,
or ``[]`` when the value is a valid STIX 2.1 object. It never raises on bad input. It checks the
common properties of all objects (type, id, spec_version, created/modified and their order,
references and the types they point at, external references, granular markings and their
selectors, extensions, labels, confidence, lang, revoked, property names), the required
properties of the STIX 2.1 types, timestamp orderings, and indicator patterns (with
``stix2-patterns``). Custom object types and custom properties are allowed when their names are
valid. See ``docs/stix-validation.md``.

>>> validate_object({
...     "type": "identity", "spec_version": "2.1",
...     "id": "identity--f431f809-377b-45e0-aa1c-6a4751cae5ff",
...     "created": "2020-01-01T00:00:00.000Z", "modified": "2020-01-01T00:00:00.000Z",
...     "name": "ACME CERT", "identity_class": "organization",
... })
[]
>>> for p in validate_object({
...     "type": "tool", "spec_version": "2.1",
...     "id": "malware--f431f809-377b-45e0-aa1c-6a4751cae5ff",
...     "created": "2020-01-01T00:00:00.000Z", "modified": "2019-01-01T00:00:00.000Z",
... }):
...     print(p.path or "(object)", "-", p.message)
id - the type part 'malware' differs from the object's type 'tool'
modified - modified (2019-01-01T00:00:00.000Z) is earlier than created (2020-01-01T00:00:00.000Z)
name - required property of a tool is missing
"""

from __future__ import annotations

from typing import Any

from kizuna.stix import _properties as P
from kizuna.stix import _rules as R
from kizuna.stix._properties import Problem
from kizuna.stix._types import TYPE_CHECKS

__all__ = ["Problem", "validate_object"]

_COMMON_FULL = ("spec_version", "id", "created", "modified")
_NO_TIMESTAMPS: tuple[str, ...] = ()
_NO_ORDERINGS: tuple[tuple[str, str, bool], ...] = ()


def validate_object(obj: object) -> list[Problem]:
    """All problems of one STIX 2.1 object (a parsed JSON value); [] when it is valid."""
    if not isinstance(obj, dict):
        return [Problem("", f"expected a JSON object (a STIX object), got {P.kind(obj)}")]
    out: list[Problem] = []
    otype = obj.get("type")
    if otype is None:
        out.append(
            Problem(
                "type",
                "required property is missing; expected a STIX type name such as 'indicator'",
            )
        )
        otype = ""
    elif not isinstance(otype, str) or not 3 <= len(otype) <= 250 or not R.TYPE_NAME.match(otype):
        out.append(
            Problem(
                "type",
                "expected a type name of 3..250 characters a-z, 0-9 and "
                f"single hyphens, starting with a letter, got {P.show(otype)}",
            )
        )
        otype = ""
    sco = otype in R.SCO_TYPES or (
        otype not in R.SDO_TYPES
        and otype not in R.SRO_TYPES
        and otype not in R.META_TYPES
        and _declares_new_sco(obj)
    )
    _common(out, obj, otype, sco)
    _properties(out, obj, otype)
    check = TYPE_CHECKS.get(otype)
    if check is not None:
        check(out, obj)
    return _bounded(out) if out else out


#: At most this many problems are listed for one object (a list of 100,000 wrong items has
#: as many), each path and message cut to a length a person can read.
_MAX_PROBLEMS = 20
_MAX_PATH = 300
_MAX_MESSAGE = 1000


def _bounded(problems: list[Problem]) -> list[Problem]:
    """*problems*, at most :data:`_MAX_PROBLEMS` of them, paths and messages of bounded length."""
    out = [
        p
        if len(p.path) <= _MAX_PATH and len(p.message) <= _MAX_MESSAGE
        else Problem(_cut(p.path, _MAX_PATH), _cut(p.message, _MAX_MESSAGE))
        for p in problems[:_MAX_PROBLEMS]
    ]
    if len(problems) > _MAX_PROBLEMS:
        out.append(Problem("", f"... and {len(problems) - _MAX_PROBLEMS} more problems"))
    return out


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _declares_new_sco(obj: dict[str, Any]) -> bool:
    exts = obj.get("extensions")
    if isinstance(exts, dict):
        for ext in exts.values():
            if isinstance(ext, dict) and ext.get("extension_type") == "new-sco":
                return True
    return False


def _common(out: list[Problem], obj: dict[str, Any], otype: str, sco: bool) -> None:
    """Presence of the required common properties, the id, spec_version and created/modified."""
    if sco:
        required: tuple[str, ...] = ("id",)
    elif otype == "marking-definition":
        required = ("spec_version", "id", "created")
    else:
        required = _COMMON_FULL
    for key in required:
        if key not in obj:
            out.append(
                Problem(key, f"required property of every {_category(otype, sco)} is missing")
            )
    oid = obj.get("id")
    if oid is not None:
        if not isinstance(oid, str):
            out.append(Problem("id", f"expected an identifier 'type--uuid', got {P.kind(oid)}"))
        else:
            id_type = P.identifier_type(oid)
            if id_type is None:
                out.append(
                    Problem(
                        "id",
                        f"expected '{otype or 'type'}--' and an RFC 4122 UUID "
                        f"(e.g. {otype or 'indicator'}--"
                        f"8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f), got {P.show(oid)}",
                    )
                )
            elif otype and id_type != otype:
                out.append(
                    Problem(
                        "id",
                        f"the type part {P.show(id_type)} differs from the object's type "
                        f"{otype!r}",
                    )
                )
    spec = obj.get("spec_version")
    if spec is not None and spec != "2.1":
        out.append(Problem("spec_version", f"expected '2.1', got {P.show(spec)}"))
    created = modified = None
    if "created" in obj:
        created = P.timestamp(out, "created", obj["created"], millis=True)
    if "modified" in obj:
        modified = P.timestamp(out, "modified", obj["modified"], millis=True)
    if created is not None and modified is not None and modified < created:
        out.append(
            Problem(
                "modified",
                f"modified ({obj['modified']}) is earlier than created ({obj['created']})",
            )
        )


def _category(otype: str, sco: bool) -> str:
    if sco:
        return "cyber-observable"
    if otype in R.SRO_TYPES:
        return "relationship object"
    if otype in R.META_TYPES:
        return otype
    return "STIX domain object" if otype in R.SDO_TYPES else "custom object"


# What to check of a property, by object type and property name (a bounded cache: names repeat).
_SKIP, _REF, _REFS, _STAMP, _STRING, _STRUCT, _HEX, _BIN = range(8)
_Plan = tuple[bool, int, Any, Any]
_PLANS: dict[str, dict[str, _Plan]] = {}
_PLAN_LIMIT = 4096


def _plan(otype: str, key: str) -> _Plan:
    """(is the name valid, which check, and its two arguments) for property *key* of *otype*."""
    plans = _PLANS.get(otype)
    if plans is None:
        plans = {} if len(_PLANS) >= _PLAN_LIMIT else _PLANS.setdefault(otype, {})
    plan = plans.get(key)
    if plan is not None:
        return plan
    name_ok = R.PROPERTY_NAME.match(key) is not None or key == "id"
    if key.startswith("x_"):
        plan = (name_ok, _SKIP, None, None)  # custom properties are the producer's business
    elif key.endswith(("_ref", "_refs")):
        allowed = R.REF_TYPES.get((otype, key)) or R.REF_TYPES.get(("*", key))
        forbidden = R.REF_NOT_TYPES.get((otype, key))
        plan = (name_ok, _REF if key.endswith("_ref") else _REFS, allowed, forbidden)
    elif key in R.TIMESTAMPS.get(otype, _NO_TIMESTAMPS):
        plan = (name_ok, _STAMP, None, None)
    elif key in R.STRINGS:
        plan = (name_ok, _STRING, None, None)
    elif key in _STRUCTURED:
        plan = (name_ok, _STRUCT, _STRUCTURED[key], None)
    elif key.endswith("_hex"):
        plan = (name_ok, _HEX, None, None)
    elif key.endswith("_bin"):
        plan = (name_ok, _BIN, None, None)
    else:
        plan = (name_ok, _SKIP, None, None)
    if len(plans) < _PLAN_LIMIT:
        plans[key] = plan
    return plan


def _properties(out: list[Problem], obj: dict[Any, Any], otype: str) -> None:
    """Property by property: names, null and empty lists, references, timestamps and the
    structured common properties."""
    seen: dict[str, int] = {}
    plans = _PLANS.get(otype, {})
    for key, value in obj.items():
        if not isinstance(key, str):
            out.append(Problem(str(key), f"property names are strings, got {P.kind(key)}"))
            continue
        plan = plans.get(key) or _plan(otype, key)
        name_ok, action, arg1, arg2 = plan
        if not name_ok:
            out.append(
                Problem(
                    key,
                    "property names must be 3..250 characters of a-z, 0-9 "
                    f"and _, got {P.show(key)}",
                )
            )
        if value is None:
            out.append(Problem(key, "null is not a STIX value; leave the property out instead"))
            continue
        if value == []:
            out.append(Problem(key, "empty lists are not allowed in STIX; leave the property out"))
            continue
        if action == _SKIP:
            continue
        if action == _REF:
            P.reference(out, key, value, arg1, arg2)
        elif action == _REFS:
            P.references(out, key, value, arg1, arg2)
        elif action == _STAMP:
            micros = P.timestamp(out, key, value)
            if micros is not None:
                seen[key] = micros
        elif action == _STRING:
            if not isinstance(value, str):
                out.append(Problem(key, f"expected a string, got {P.kind(value)}"))
        elif action == _STRUCT:
            arg1(out, obj, value)
        elif action == _HEX:
            if not isinstance(value, str) or R.HEX.match(value) is None:
                out.append(Problem(key, f"expected hexadecimal octets, got {P.show(value)}"))
        elif not isinstance(value, str) or R.BASE64.match(value) is None:
            out.append(Problem(key, f"expected base64, got {P.show(value)}"))
    for later, earlier, strict in R.ORDERINGS.get(otype, _NO_ORDERINGS):
        if later in seen and earlier in seen:
            a, b = seen[later], seen[earlier]
            if a < b or (strict and a == b):
                word = "not later than" if strict and a == b else "earlier than"
                out.append(
                    Problem(later, f"{later} ({obj[later]}) is {word} {earlier} ({obj[earlier]})")
                )


def _labels(out: list[Problem], obj: dict[str, Any], value: object) -> None:
    P.string_list(out, "labels", value)


def _confidence(out: list[Problem], obj: dict[str, Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        out.append(Problem("confidence", f"expected an integer 0..100, got {P.show(value)}"))


def _lang(out: list[Problem], obj: dict[str, Any], value: object) -> None:
    if not isinstance(value, str) or R.LANGUAGE_TAG.match(value) is None:
        out.append(
            Problem(
                "lang",
                f"expected an RFC 5646 language tag such as 'en' or 'ja', got {P.show(value)}",
            )
        )


def _boolean(name: str) -> Any:
    def check(out: list[Problem], obj: dict[str, Any], value: object) -> None:
        if not isinstance(value, bool):
            out.append(Problem(name, f"expected true or false, got {P.show(value)}"))

    return check


def _external_references(out: list[Problem], obj: dict[str, Any], value: object) -> None:
    P.external_references(out, value)


def _granular_markings(out: list[Problem], obj: dict[str, Any], value: object) -> None:
    P.granular_markings(out, obj, value)


def _extensions(out: list[Problem], obj: dict[str, Any], value: object) -> None:
    P.extensions(out, value)


def _kill_chain_phases(out: list[Problem], obj: dict[str, Any], value: object) -> None:
    P.kill_chain_phases(out, value)


_STRUCTURED: dict[str, Any] = {
    "labels": _labels,
    "confidence": _confidence,
    "lang": _lang,
    "revoked": _boolean("revoked"),
    "defanged": _boolean("defanged"),
    "is_family": _boolean("is_family"),
    "external_references": _external_references,
    "granular_markings": _granular_markings,
    "extensions": _extensions,
    "kill_chain_phases": _kill_chain_phases,
}
