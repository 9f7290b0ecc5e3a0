"""validate_object never raises: any JSON value, anywhere in an object, is a Problem of it.

Each example starts from a minimal valid object of one type (tests/stix/_objects.py) and puts
arbitrary JSON values at a few places: a property the object has, a property STIX defines for
some type (references, timestamps, structured common properties, type rules), or somewhere
inside a structured value (an extension, a granular marking, an external reference). The
validator must return a list of Problems (possibly empty), never raise, and describe every
value it refuses in a message of bounded length.
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kizuna.stix import _rules as R
from kizuna.stix.validate import Problem, validate_object

from ._objects import TLP2_EXTENSION, minimal

_KEYS = st.one_of(
    st.sampled_from(
        [
            "type",
            "id",
            "spec_version",
            "created",
            "modified",
            "name",
            "labels",
            "confidence",
            "lang",
            "revoked",
            "external_references",
            "granular_markings",
            "object_marking_refs",
            "created_by_ref",
            "extensions",
            "kill_chain_phases",
            "extension_types",
            "extension_properties",
            "definition_type",
            "definition",
            "pattern",
            "pattern_type",
            "pattern_version",
            "objects",
            "object_refs",
            "contents",
            "opinion",
            "latitude",
            "longitude",
            "precision",
            "number_observed",
            "count",
            "is_family",
            "result",
            "analysis_sco_refs",
            "payload_bin",
            "hash_hex",
            "x_custom",
            *R.STRINGS,
            *{key for _, key in R.REF_TYPES},
            *{key for _, key in R.REF_NOT_TYPES},
            *{key for keys in R.TIMESTAMPS.values() for key in keys},
        ]
    ),
    st.text(max_size=12),
)

#: Any JSON value (with integers past 64 bits and every kind of string), nested a few levels.
_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**400), max_value=10**400)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(
        [
            "2020-01-01T00:00:00.000Z",
            "2020-01-01T00:00:60.000Z",
            "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
            "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
            TLP2_EXTENSION,
            "new-sco",
            "toplevel-property-extension",
            "description.[" + "9" * 5000 + "]",
            "[" * 30 + "ipv4-addr:value = '1'" + "]" * 30,
            "(" * 500 + "[ipv4-addr:value = '1']" + ")" * 500,
            "stix",
            "tlp",
            "statement",
        ]
    ),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_KEYS, children, max_size=4),
    max_leaves=12,
)

_TYPES = sorted(minimal())


def _put(obj: dict[str, Any], path: list[int], key: str, value: object) -> None:
    """Set *key* to *value* in *obj* or in a dict or list nested in it (chosen by *path*)."""
    target: Any = obj
    for step in path:
        children = [v for v in (target.values() if isinstance(target, dict) else target)]
        children = [c for c in children if isinstance(c, dict | list) and c]
        if not children:
            break
        target = children[step % len(children)]
    if isinstance(target, dict):
        target[key] = value
    else:
        target[len(path) % len(target)] = value


_EDIT = st.tuples(st.lists(st.integers(0, 7), max_size=3), _KEYS, _JSON)


@st.composite
def _objects(draw: st.DrawFn) -> object:
    obj = copy.deepcopy(minimal()[draw(st.sampled_from(_TYPES))])
    if draw(st.booleans()):
        obj["extensions"] = {
            TLP2_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": "green"}
        }
        obj["granular_markings"] = [
            {"selectors": ["type"], "marking_ref": obj["id"].replace(obj["type"], "x", 0)}
        ]
    for path, key, value in draw(st.lists(_EDIT, min_size=1, max_size=4)):
        _put(obj, path, key, value)
    return obj


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_objects())
def test_validate_object_never_raises_on_any_json_anywhere(obj: object) -> None:
    problems = validate_object(obj)
    assert isinstance(problems, list)
    for p in problems:
        assert isinstance(p, Problem)
        assert isinstance(p.path, str) and isinstance(p.message, str)
        assert len(p.message) < 2000, p.message[:200]


@settings(max_examples=300, deadline=None)
@given(_JSON)
def test_validate_object_never_raises_on_any_json_value(value: object) -> None:
    assert all(isinstance(p, Problem) for p in validate_object(value))


# --- the shapes that raised before ------------------------------------------------------------


def _messages(obj: dict[str, Any]) -> dict[str, str]:
    return {p.path: p.message for p in validate_object(obj)}


def test_a_list_in_extension_types_is_a_problem() -> None:
    obj = minimal()["extension-definition"] | {"extension_types": [["x"], {"a": 1}, None]}
    found = _messages(obj)
    assert found["extension_types[0]"].endswith("got ['x']")
    assert "extension_types[1]" in found and "extension_types[2]" in found


def test_a_list_as_extension_type_is_a_problem() -> None:
    obj = minimal()["malware"] | {"extensions": {TLP2_EXTENSION: {"extension_type": [None]}}}
    assert (
        "expected one of new-sco" in _messages(obj)[f"extensions.{TLP2_EXTENSION}.extension_type"]
    )


def test_numbers_and_lists_where_references_and_strings_are_expected() -> None:
    obj = minimal()["relationship"] | {
        "source_ref": 12,
        "object_marking_refs": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
        "created_by_ref": ["identity--f431f809-377b-45e0-aa1c-6a4751cae5ff"],
        "relationship_type": ["indicates"],
        "description": {"text": "x"},
    }
    found = _messages(obj)
    assert found["source_ref"] == "expected an identifier 'type--uuid', got number"
    assert found["object_marking_refs"] == "expected a list of identifiers, got string"
    assert found["created_by_ref"] == "expected an identifier 'type--uuid', got array"
    assert found["relationship_type"] == "expected a string, got array"
    assert found["description"] == "expected a string, got object"


def test_unhashable_values_of_enumerated_properties() -> None:
    md = minimal()["marking-definition"] | {
        "definition_type": "tlp",
        "definition": {"tlp": ["red"]},
    }
    assert "expected white, green, amber or red" in _messages(md)["definition.tlp"]
    op = minimal()["opinion"] | {"opinion": {"agree": True}}
    assert "expected one of strongly-disagree" in _messages(op)["opinion"]


def test_integers_too_long_to_print_are_shown_by_their_size() -> None:
    obj = minimal()["location"] | {"latitude": 10**5000, "confidence": -(10**5000)}
    found = _messages(obj)
    assert found["latitude"] == "expected -90..90, got an integer of about 5001 digits"
    assert "an integer of about 5001 digits" in found["confidence"]


def test_selector_indexes_are_ascii_digits_of_any_length() -> None:
    obj = minimal()["malware"] | {"labels": ["a"]}
    for selector, why in (
        ("labels.[" + "9" * 5000 + "]", "past the end of a list of 1"),
        ("labels.[٣]", "expected a selector such as"),
        ("labels.[0]", None),
    ):
        gm = [{"selectors": [selector], "marking_ref": "marking-definition--" + _UUID}]
        found = _messages(obj | {"granular_markings": gm})
        message = found.get("granular_markings[0].selectors[0]")
        assert (message is None) if why is None else (why in str(message)), (selector, message)


_UUID = "34098fce-860f-48ae-8e50-ebd3cc5e41da"


def test_messages_show_a_bounded_part_of_huge_values() -> None:
    nested: list[Any] = []
    for _ in range(50_000):
        nested = [nested]
    obj = minimal()["malware"] | {"confidence": nested, "labels": list(range(100_000))}
    found = _messages(obj)
    assert len(found["confidence"]) < 200 and found["confidence"].endswith("...")
    assert found["labels[0]"] == "expected a string, got number"
    # At most 20 problems are listed; the last one says how many more there are.
    assert len(validate_object(obj)) == 21
    assert found[""] == "... and 99981 more problems"


def test_patterns_nested_past_the_limit_are_a_problem_of_the_object() -> None:
    from kizuna.stix._pattern import MAX_PATTERN_DEPTH

    ok = "(" * (MAX_PATTERN_DEPTH - 1) + "[ipv4-addr:value = '1']" + ")" * (MAX_PATTERN_DEPTH - 1)
    assert validate_object(minimal()["indicator"] | {"pattern": ok}) == []
    for pattern in (
        "(" * 5000 + "[ipv4-addr:value = '1']" + ")" * 5000,
        "[" + "(" * 5000 + "ipv4-addr:value = '1'" + ")" * 5000 + "]",
        "(" * 5000,
    ):
        found = _messages(minimal()["indicator"] | {"pattern": pattern})
        assert found["pattern"].startswith("not accepted: the pattern nests"), found
        assert f"at most {MAX_PATTERN_DEPTH}" in found["pattern"]


def test_patterns_past_the_length_limit_and_huge_indexes() -> None:
    from kizuna.stix._pattern import MAX_PATTERN_LENGTH

    long = " OR ".join(["[ipv4-addr:value = '1.2.3.4']"] * (MAX_PATTERN_LENGTH // 30 + 1))
    found = _messages(minimal()["indicator"] | {"pattern": long})
    assert f"at most {MAX_PATTERN_LENGTH} are accepted" in found["pattern"]
    index = "[file:x[" + "9" * 5000 + "] = 'a']"
    assert "pattern" in _messages(minimal()["indicator"] | {"pattern": index})
    # A long refused pattern is refused with the fast parser's reason (stix2-patterns is slow).
    invalid = " OR ".join(["[ipv4-addr:value = '1.2.3.4']"] * 2000) + " OR"
    assert (
        "expected '[' or '('" in _messages(minimal()["indicator"] | {"pattern": invalid})["pattern"]
    )


def test_timestamps_have_ascii_digits() -> None:
    obj = minimal()["malware"] | {"modified": "٢٠٢٠-01-01T00:00:00.000Z"}
    assert _messages(obj)["modified"].startswith("expected YYYY-MM-DDTHH:MM:SS")
