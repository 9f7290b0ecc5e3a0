"""Rules of particular STIX 2.1 types: their required properties and the constraints between
them (a malware family has a name, a location has a place, an indicator's pattern parses ...).

Each check takes the problem list and the object, and appends what it finds.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from stix2patterns.v21.pattern import Pattern
from stix2patterns.validator import run_validator

from kizuna.stix import _properties as P
from kizuna.stix import _rules as R
from kizuna.stix._pattern import check_pattern, pattern_limit
from kizuna.stix._properties import Problem


def _required(out: list[Problem], obj: dict[str, Any], otype: str) -> None:
    for key in R.REQUIRED.get(otype, ()):
        if key not in obj:
            out.append(Problem(key, f"required property of a {otype} is missing"))


def _generic(out: list[Problem], obj: dict[str, Any]) -> None:
    _required(out, obj, obj["type"])


def _indicator(out: list[Problem], obj: dict[str, Any]) -> None:
    _required(out, obj, "indicator")
    pattern = obj.get("pattern")
    if obj.get("pattern_type") == "stix" and isinstance(pattern, str):
        version = "2.0" if obj.get("pattern_version") == "2.0" else "2.1"
        past = pattern_limit(pattern)
        if past is not None:
            out.append(Problem("pattern", f"not accepted: {past}"))
            return
        errors = (
            _pattern_errors(pattern, version)
            if len(pattern) <= _REMEMBERED_PATTERN
            else _pattern_errors.__wrapped__(pattern, version)
        )
        for error in errors:
            out.append(Problem("pattern", f"not a valid STIX pattern: {error}"))


#: The longest pattern whose errors are remembered (4,096 patterns of this length take 8 MiB;
#: remembering the longest ones would let a client fill the memory with them).
_REMEMBERED_PATTERN = 2048
#: The longest pattern that ``stix2-patterns`` is asked about when the fast parser refuses it
#: (its ANTLR parser took 1.4 s over 165,000 characters); a longer one is refused with the fast
#: parser's reason.
STIX2_PATTERNS_LENGTH = 16_384


@lru_cache(maxsize=4096)
def _pattern_errors(pattern: str, version: str) -> tuple[str, ...]:
    """The errors of a STIX pattern (cached: versions of an indicator repeat their pattern).

    The fast parser of ``_pattern`` accepts only what stix2-patterns accepts, in microseconds;
    when it refuses, stix2-patterns (0.3 to 5 ms) gives the authoritative errors."""
    if version == "2.1":
        reason = check_pattern(pattern)
        if reason is None:
            return ()
        if len(pattern) > STIX2_PATTERNS_LENGTH:
            return (reason,)
    elif len(pattern) > STIX2_PATTERNS_LENGTH:
        return (
            f"a STIX 2.0 pattern is checked up to {STIX2_PATTERNS_LENGTH} characters; this one "
            f"has {len(pattern)} (send it as a 2.1 pattern or split it)",
        )
    try:
        return _stix2_patterns_errors(pattern, version)
    except Exception as e:  # stix2-patterns fails on some inputs ('', hashes[0], x[-1])
        return (f"stix2-patterns could not check it ({type(e).__name__}: {P.show(str(e))})",)


def _stix2_patterns_errors(pattern: str, version: str) -> tuple[str, ...]:
    """The errors stix2-patterns finds in a pattern, and for 2.1 the object type names and
    property names it compares that are not valid STIX names."""
    errors = tuple(str(e) for e in run_validator(pattern, stix_version=version))
    if errors or version != "2.1":
        return errors
    found: list[str] = []
    for otype, comparisons in Pattern(pattern).inspect().comparisons.items():
        if not 3 <= len(otype) <= 250 or R.TYPE_NAME.match(otype) is None:
            found.append(
                f"{P.show(otype)} is not a valid object type name (3..250 characters a-z, "
                "0-9 and single hyphens)"
            )
        for path, _op, _value in comparisons:
            prop = path[0]
            if not isinstance(prop, str) or R.PROPERTY_NAME.match(prop) is None:
                found.append(
                    f"{P.show(prop)} in {otype}:... is not a valid property name (3..250 "
                    "characters a-z, 0-9 and _)"
                )
    return tuple(found)


def _malware(out: list[Problem], obj: dict[str, Any]) -> None:
    _required(out, obj, "malware")
    if obj.get("is_family") is True and "name" not in obj:
        out.append(Problem("name", "required when is_family is true"))


def _malware_analysis(out: list[Problem], obj: dict[str, Any]) -> None:
    _required(out, obj, "malware-analysis")
    if "result" not in obj and "analysis_sco_refs" not in obj:
        out.append(Problem("", "a malware-analysis needs result or analysis_sco_refs"))


def _location(out: list[Problem], obj: dict[str, Any]) -> None:
    has_lat, has_lon = "latitude" in obj, "longitude" in obj
    if "region" not in obj and "country" not in obj and not (has_lat and has_lon):
        out.append(Problem("", "a location needs region, country, or latitude and longitude"))
    if has_lat != has_lon:
        out.append(
            Problem("latitude" if has_lon else "longitude", "latitude and longitude go together")
        )
    if "precision" in obj and not (has_lat and has_lon):
        out.append(Problem("precision", "precision needs latitude and longitude"))
    for key, limit in (("latitude", 90.0), ("longitude", 180.0), ("precision", None)):
        value = obj.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            out.append(Problem(key, f"expected a number, got {P.kind(value)}"))
        elif limit is not None and not -limit <= value <= limit:
            out.append(Problem(key, f"expected -{limit:g}..{limit:g}, got {P.show(value)}"))


def _observed_data(out: list[Problem], obj: dict[str, Any]) -> None:
    _required(out, obj, "observed-data")
    _bounded(out, obj, "number_observed", 1)
    if ("objects" in obj) == ("object_refs" in obj):
        out.append(Problem("", "an observed-data needs exactly one of object_refs or objects"))
    objects = obj.get("objects")
    if objects is not None and not (isinstance(objects, dict) and objects):
        out.append(Problem("objects", f"expected a non-empty object, got {P.show(objects)}"))


def _bounded(out: list[Problem], obj: dict[str, Any], key: str, low: int) -> None:
    value = obj.get(key)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= 999_999_999:
        out.append(Problem(key, f"expected an integer {low}..999999999, got {P.show(value)}"))


def _opinion(out: list[Problem], obj: dict[str, Any]) -> None:
    _required(out, obj, "opinion")
    value = obj.get("opinion")
    if value is not None and not P.is_one_of(value, R.OPINIONS):
        out.append(
            Problem("opinion", f"expected one of {', '.join(R.OPINIONS)}, got {P.show(value)}")
        )


def _sighting(out: list[Problem], obj: dict[str, Any]) -> None:
    _required(out, obj, "sighting")
    _bounded(out, obj, "count", 0)


def _marking_definition(out: list[Problem], obj: dict[str, Any]) -> None:
    has_type, has_def = "definition_type" in obj, "definition" in obj
    if has_type != has_def:
        out.append(
            Problem(
                "definition" if has_type else "definition_type",
                "definition_type and definition go together",
            )
        )
    if not has_type and not has_def and "extensions" not in obj:
        out.append(
            Problem(
                "",
                "a marking-definition needs definition_type and definition, "
                "or extensions (e.g. TLP 2.0)",
            )
        )
    dtype, definition = obj.get("definition_type"), obj.get("definition")
    if has_def and not isinstance(definition, dict):
        out.append(Problem("definition", f"expected an object, got {P.kind(definition)}"))
    elif not isinstance(definition, dict):
        pass
    elif dtype == "tlp" and not P.is_one_of(definition.get("tlp"), R.TLP_LEVELS):
        out.append(
            Problem(
                "definition.tlp",
                f"expected white, green, amber or red, got {P.show(definition.get('tlp'))}",
            )
        )
    elif dtype == "statement" and not isinstance(definition.get("statement"), str):
        out.append(
            Problem(
                "definition.statement",
                f"expected a string, got {P.show(definition.get('statement'))}",
            )
        )
    refs = obj.get("object_marking_refs")
    if isinstance(refs, list) and obj.get("id") in refs:
        out.append(Problem("object_marking_refs", "a marking-definition may not mark itself"))


def _extension_definition(out: list[Problem], obj: dict[str, Any]) -> None:
    _required(out, obj, "extension-definition")
    types = obj.get("extension_types")
    if types is not None:
        if not isinstance(types, list):
            out.append(Problem("extension_types", f"expected a list, got {P.kind(types)}"))
            types = []
        for i, t in enumerate(types):
            if not P.is_one_of(t, R.EXTENSION_TYPES):
                out.append(
                    Problem(
                        f"extension_types[{i}]",
                        f"expected one of {', '.join(sorted(R.EXTENSION_TYPES))}, got {P.show(t)}",
                    )
                )
        if "extension_properties" in obj and "toplevel-property-extension" not in types:
            out.append(Problem("extension_properties", "only for a toplevel-property-extension"))


def _language_content(out: list[Problem], obj: dict[str, Any]) -> None:
    _required(out, obj, "language-content")
    contents = obj.get("contents")
    if contents is None:
        return
    if not isinstance(contents, dict) or not contents:
        out.append(Problem("contents", f"expected a non-empty object, got {P.show(contents)}"))
        return
    for lang, values in contents.items():
        if R.LANGUAGE_TAG.match(lang) is None:
            out.append(Problem(f"contents.{lang}", "expected an RFC 5646 language tag as key"))
        if not isinstance(values, dict):
            out.append(Problem(f"contents.{lang}", f"expected an object, got {P.kind(values)}"))


#: The check of each type with rules of its own, by type name.
TYPE_CHECKS: dict[str, Any] = {t: _generic for t in R.REQUIRED}
TYPE_CHECKS.update(
    {
        "indicator": _indicator,
        "malware": _malware,
        "malware-analysis": _malware_analysis,
        "location": _location,
        "observed-data": _observed_data,
        "opinion": _opinion,
        "sighting": _sighting,
        "marking-definition": _marking_definition,
        "extension-definition": _extension_definition,
        "language-content": _language_content,
    }
)
