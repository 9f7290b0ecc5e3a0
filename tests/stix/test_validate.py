"""STIX 2.1 validation at the door: real data, the dirty real objects, and each rule's message."""

from __future__ import annotations

import copy
import dataclasses
import doctest
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kizuna.stix import _properties, validate
from kizuna.stix._rules import REQUIRED, STRICT_IDENTIFIER
from kizuna.stix.validate import Problem, validate_object

from ._objects import (
    CLEAN,
    IDENTITY,
    INDICATOR,
    MALWARE,
    T0,
    T1,
    TLP2_EXTENSION,
    TLP_GREEN,
    load,
    minimal,
    sdo,
)


def paths(obj: object) -> list[str]:
    return [p.path for p in validate_object(obj)]


def messages(obj: object) -> str:
    return " | ".join(f"{p.path}: {p.message}" for p in validate_object(obj))


# --- real data ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", CLEAN)
def test_every_object_of_the_clean_real_data_is_valid(name: str) -> None:
    objects = load(name)
    assert objects
    invalid = {o["id"]: validate_object(o) for o in objects if validate_object(o)}
    assert invalid == {}


def test_the_real_data_covers_every_attack_type() -> None:
    types = {o["type"] for o in load("attack-sample.json.gz")}
    assert {
        "attack-pattern",
        "campaign",
        "course-of-action",
        "identity",
        "intrusion-set",
        "malware",
        "marking-definition",
        "relationship",
        "tool",
        "x-mitre-tactic",
        "x-mitre-matrix",
        "x-mitre-data-source",
        "x-mitre-data-component",
        "x-mitre-asset",
        "x-mitre-analytic",
        "x-mitre-detection-strategy",
    } <= types


def test_atlas_dirty_objects_have_modified_before_created() -> None:
    dirty = {o["id"]: validate_object(o) for o in load("atlas-dirty.json.gz")}
    assert dirty["attack-pattern--c9f8f4b0-e377-55b1-bad3-aa5f13389216"] == [
        Problem(
            "modified",
            "modified (2025-10-27T00:00:00.000Z) is earlier than created (2025-10-31T00:00:00.000Z)",
        )
    ]
    assert dirty["attack-pattern--92a68652-d864-5c9c-9c1d-64ec09587390"] == [
        Problem(
            "modified",
            "modified (2025-12-23T00:00:00.000Z) is earlier than created (2025-12-24T00:00:00.000Z)",
        )
    ]
    # Custom objects need created and modified (STIX 2.1 section 11.2); stix2-validator does not
    # check custom objects, so it passes this one.
    collection = dirty["x-mitre-collection--7a735cfc-0469-5d8b-b11f-d014be33394e"]
    assert [p.path for p in collection] == ["created", "modified"]
    assert "missing" in collection[0].message


def test_capec_dirty_objects_have_a_url_with_a_leading_space() -> None:
    for obj in load("capec-dirty.json.gz"):
        problems = validate_object(obj)
        assert len(problems) == 1, problems
        (problem,) = problems
        index = next(
            i for i, r in enumerate(obj["external_references"]) if r.get("url", "").startswith(" ")
        )
        assert problem.path == f"external_references[{index}].url"
        assert repr(obj["external_references"][index]["url"]) in problem.message
        assert problem.message.startswith(
            "expected a URL without leading or trailing whitespace, got ' https://"
        )


def test_mobile_14_1_has_one_relationship_with_modified_before_created() -> None:
    (obj,) = load("mobile-14.1-dirty.json.gz")
    assert paths(obj) == ["modified"]


# --- minimal objects of every type ------------------------------------------------------------


@pytest.mark.parametrize("type_", sorted(minimal()))
def test_minimal_objects_are_valid(type_: str) -> None:
    assert validate_object(minimal()[type_]) == []


REQUIRED_CASES = [
    (type_, key) for type_, obj in minimal().items() for key in REQUIRED.get(type_, ())
]


@pytest.mark.parametrize(("type_", "key"), REQUIRED_CASES)
def test_dropping_a_required_property_is_reported_at_its_path(type_: str, key: str) -> None:
    obj = minimal()[type_]
    del obj[key]
    problems = validate_object(obj)
    assert key in [p.path for p in problems]
    assert any("required" in p.message and type_ in p.message for p in problems)


@pytest.mark.parametrize("key", ["spec_version", "id", "created", "modified"])
def test_common_required_properties(key: str) -> None:
    obj = minimal()["attack-pattern"]
    del obj[key]
    assert validate_object(obj) == [
        Problem(key, "required property of every STIX domain object is missing")
    ]


def test_cyber_observables_need_no_spec_version_created_or_modified() -> None:
    assert (
        validate_object(
            {"type": "domain-name", "id": "domain-name--" + MALWARE[9:], "value": "example.org"}
        )
        == []
    )
    assert paths({"type": "domain-name", "value": "example.org"}) == ["id"]


def test_a_marking_definition_needs_no_modified_but_a_created() -> None:
    md = minimal()["marking-definition"]
    del md["created"]
    assert paths(md) == ["created"]


# --- shape, type and id -----------------------------------------------------------------------


@pytest.mark.parametrize("value", [None, [], "indicator", 3, True])
def test_a_value_that_is_not_an_object(value: object) -> None:
    (problem,) = validate_object(value)
    assert problem.path == ""
    assert problem.message.startswith("expected a JSON object")


def test_missing_type() -> None:
    obj = minimal()["tool"]
    del obj["type"]
    assert paths(obj) == ["type"]


@pytest.mark.parametrize("bad", ["Tool", "to", "-tool", "tool--x", "tool_x", 7, "x" * 251])
def test_bad_type_names(bad: object) -> None:
    obj = minimal()["tool"]
    obj["type"] = bad
    assert "type" in paths(obj)


def test_the_type_part_of_the_id_must_be_the_type() -> None:
    obj = minimal()["tool"]
    obj["id"] = MALWARE
    assert validate_object(obj) == [
        Problem("id", "the type part 'malware' differs from the object's type 'tool'")
    ]


@pytest.mark.parametrize(
    "bad",
    [
        "tool--not-a-uuid",
        "tool--31b940d4-6f7f-059a-80ea-9c1f17b5891b",  # UUID version 0
        "tool--31b940d4-6f7f-459a-00ea-9c1f17b5891b",  # not the RFC 4122 variant
        "tool-31b940d4-6f7f-459a-80ea-9c1f17b5891b",
        42,
    ],
)
def test_bad_ids(bad: object) -> None:
    obj = minimal()["tool"]
    obj["id"] = bad
    assert paths(obj) == ["id"]


@pytest.mark.parametrize("bad", ["2.0", "2.2", 2.1])
def test_spec_version_must_be_2_1(bad: object) -> None:
    obj = minimal()["tool"]
    obj["spec_version"] = bad
    (problem,) = validate_object(obj)
    assert problem.path == "spec_version"
    assert problem.message.startswith("expected '2.1', got")


def test_spec_version_of_a_cyber_observable_is_2_1_when_present() -> None:
    obj = minimal()["ipv4-addr"]
    obj["spec_version"] = "2.0"
    assert paths(obj) == ["spec_version"]


# --- timestamps -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        "2020-01-01 00:00:00.000Z",
        "2020-01-01T00:00:00.000",
        "2020-02-30T00:00:00.000Z",
        "2020-01-01T24:00:00.000Z",
        "2020-01-01T00:00:61.000Z",
        "2020-01-01T00:00:00.000+01:00",
        20200101,
    ],
)
def test_bad_timestamps(bad: object) -> None:
    obj = minimal()["indicator"]
    obj["valid_from"] = bad
    problems = validate_object(obj)
    assert [p.path for p in problems] == ["valid_from"]


def test_created_and_modified_are_precise_to_the_millisecond() -> None:
    obj = minimal()["tool"]
    obj["created"] = obj["modified"] = "2020-01-01T00:00:00Z"
    assert paths(obj) == ["created", "modified"]
    assert "millisecond" in validate_object(obj)[0].message
    obj["created"] = obj["modified"] = "2020-01-01T00:00:00.123456Z"
    assert validate_object(obj) == []


def test_a_leap_second_is_a_valid_timestamp() -> None:
    obj = minimal()["indicator"]
    obj["valid_from"] = "2016-12-31T23:59:60Z"
    assert validate_object(obj) == []


def test_modified_before_created_shows_both() -> None:
    obj = minimal()["tool"]
    obj["created"], obj["modified"] = T1, T0
    assert validate_object(obj) == [
        Problem("modified", f"modified ({T0}) is earlier than created ({T1})")
    ]


def test_same_instant_in_other_precision_is_not_earlier() -> None:
    obj = minimal()["tool"]
    obj["created"], obj["modified"] = "2020-01-01T00:00:00.400Z", "2020-01-01T00:00:00.4000Z"
    assert validate_object(obj) == []


def test_valid_until_must_be_later_than_valid_from() -> None:
    obj = minimal()["indicator"]
    obj["valid_until"] = T0
    assert validate_object(obj) == [
        Problem("valid_until", f"valid_until ({T0}) is not later than valid_from ({T0})")
    ]
    obj["valid_until"] = T1
    assert validate_object(obj) == []


@pytest.mark.parametrize(
    ("type_", "first", "last"),
    [
        ("campaign", "first_seen", "last_seen"),
        ("intrusion-set", "first_seen", "last_seen"),
        ("threat-actor", "first_seen", "last_seen"),
        ("sighting", "first_seen", "last_seen"),
        ("observed-data", "first_observed", "last_observed"),
        ("relationship", "start_time", "stop_time"),
    ],
)
def test_orderings(type_: str, first: str, last: str) -> None:
    obj = minimal()[type_]
    obj[first], obj[last] = T1, T0
    assert paths(obj) == [last]
    assert validate_object(obj)[0].message == f"{last} ({T0}) is earlier than {first} ({T1})"


def test_report_published_is_a_timestamp() -> None:
    obj = minimal()["report"]
    obj["published"] = "yesterday"
    (problem,) = validate_object(obj)
    assert problem.path == "published"
    assert "YYYY-MM-DD" in problem.message and "'yesterday'" in problem.message


# --- references -------------------------------------------------------------------------------


def test_created_by_ref_must_be_an_identity() -> None:
    obj = minimal()["tool"]
    obj["created_by_ref"] = MALWARE
    assert validate_object(obj) == [
        Problem("created_by_ref", f"must refer to identity, got a malware ({MALWARE})")
    ]
    obj["created_by_ref"] = IDENTITY
    assert validate_object(obj) == []


def test_object_marking_refs_must_be_marking_definitions() -> None:
    obj = minimal()["tool"]
    obj["object_marking_refs"] = [TLP_GREEN, IDENTITY, "nope"]
    assert paths(obj) == ["object_marking_refs[1]", "object_marking_refs[2]"]


@pytest.mark.parametrize("key", ["source_ref", "target_ref"])
def test_relationships_do_not_point_at_markings_or_relationships(key: str) -> None:
    obj = minimal()["relationship"]
    obj[key] = TLP_GREEN
    assert validate_object(obj) == [
        Problem(key, f"may not refer to a marking-definition ({TLP_GREEN})")
    ]


def test_sighting_refs() -> None:
    obj = minimal()["sighting"]
    obj["where_sighted_refs"] = [IDENTITY, MALWARE]
    obj["observed_data_refs"] = [INDICATOR]
    assert paths(obj) == ["where_sighted_refs[1]", "observed_data_refs[0]"]


def test_any_ref_and_refs_hold_identifiers() -> None:
    obj = minimal()["note"]
    obj["object_refs"] = [MALWARE, "malware"]
    obj["sample_ref"] = 3
    assert paths(obj) == ["object_refs[1]", "sample_ref"]
    obj = minimal()["note"]
    obj["object_refs"] = MALWARE
    assert paths(obj) == ["object_refs"]


def test_custom_refs_are_the_producers_business() -> None:
    # ATT&CK's data components carry x_mitre_data_source_ref = "" (deprecated objects).
    obj = minimal()["x-kizuna-thing"]
    obj["x_kizuna_source_ref"] = ""
    assert validate_object(obj) == []


# --- null, empty lists, property names --------------------------------------------------------


def test_null_and_empty_lists_are_not_stix_values() -> None:
    obj = minimal()["tool"]
    obj["description"] = None
    obj["aliases"] = []
    problems = validate_object(obj)
    assert [p.path for p in problems] == ["description", "aliases"]
    assert "null" in problems[0].message and "empty" in problems[1].message


@pytest.mark.parametrize("bad", ["Name", "ab", "x-kizuna-size", "naïve", "x" * 251])
def test_property_names(bad: str) -> None:
    obj = minimal()["tool"]
    obj[bad] = "v"
    (problem,) = validate_object(obj)
    assert problem.path == bad
    assert problem.message.startswith("property names must be 3..250 characters")


def test_a_non_string_key_is_reported_not_raised() -> None:
    obj: dict[Any, Any] = minimal()["tool"]
    obj[3] = "v"
    assert paths(obj) == ["3"]


def test_custom_types_and_properties_are_kept() -> None:
    obj = minimal()["x-kizuna-thing"]
    obj["x_kizuna_note"] = {"nested": [1, 2]}
    assert validate_object(obj) == []


def test_a_custom_sco_declared_by_extension_needs_no_created() -> None:
    obj = {
        "type": "x-kizuna-sat",
        "id": "x-kizuna-sat--" + MALWARE[9:],
        "extensions": {TLP2_EXTENSION: {"extension_type": "new-sco"}},
    }
    assert validate_object(obj) == []


# --- common properties ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "bad"),
    [
        ("labels", ["ok", 3]),
        ("labels", "label"),
        ("confidence", 101),
        ("confidence", -1),
        ("confidence", True),
        ("confidence", 50.5),
        ("lang", "english!"),
        ("lang", 3),
        ("revoked", "no"),
        ("kill_chain_phases", [{"kill_chain_name": "k"}]),
    ],
)
def test_bad_common_properties(key: str, bad: object) -> None:
    obj = minimal()["attack-pattern"]
    obj[key] = bad
    problems = validate_object(obj)
    assert len(problems) == 1
    assert problems[0].path.startswith(key)


@pytest.mark.parametrize("lang", ["en", "ja", "fr-CA", "zh-Hant-TW", "sr-Latn", "x-klingon"])
def test_good_language_tags(lang: str) -> None:
    obj = minimal()["attack-pattern"]
    obj["lang"] = lang
    assert validate_object(obj) == []


def test_external_references() -> None:
    obj = minimal()["attack-pattern"]
    obj["external_references"] = [
        {"source_name": "mitre-attack", "external_id": "T1566", "url": "https://x.org/T1566"},
        {"source_name": "no anything"},
        {"url": "https://example.org"},
        {"source_name": "cve", "external_id": "CVE-21-1"},
        {"source_name": "capec", "external_id": "CAPEC-66"},
        {"source_name": "s", "url": "https://example.org/a b"},
        {"source_name": "s", "url": "https://example.org/\n"},
        "https://example.org",
    ]
    assert paths(obj) == [
        "external_references[1]",
        "external_references[2].source_name",
        "external_references[3].external_id",
        "external_references[5].url",
        "external_references[6].url",
        "external_references[7]",
    ]


def test_granular_markings_selectors_resolve() -> None:
    obj = minimal()["attack-pattern"]
    obj["description"] = "d"
    obj["external_references"] = [{"source_name": "s", "url": "https://example.org"}]
    obj["granular_markings"] = [
        {
            "selectors": ["description", "external_references.[0].url", "name"],
            "marking_ref": TLP_GREEN,
        },
        {"selectors": ["description"], "lang": "ja"},
        {"selectors": ["external_references.[1]"], "marking_ref": TLP_GREEN},
        {"selectors": ["aliases"], "marking_ref": TLP_GREEN},
        {"selectors": ["description.[0]"], "marking_ref": TLP_GREEN},
        {"selectors": ["Description"], "marking_ref": TLP_GREEN},
        {"selectors": [], "marking_ref": TLP_GREEN},
        {"selectors": ["name"], "marking_ref": TLP_GREEN, "lang": "ja"},
        {"selectors": ["name"]},
        {"selectors": ["name"], "marking_ref": IDENTITY},
    ]
    problems = validate_object(obj)
    assert [p.path for p in problems] == [
        "granular_markings[2].selectors[0]",
        "granular_markings[3].selectors[0]",
        "granular_markings[4].selectors[0]",
        "granular_markings[5].selectors[0]",
        "granular_markings[6].selectors",
        "granular_markings[7]",
        "granular_markings[8]",
        "granular_markings[9].marking_ref",
    ]
    text = [p.message for p in problems]
    assert "index 1 is past the end of a list of 1" in text[0]
    assert "there is no property 'aliases'" in text[1]
    assert "not a list" in text[2]
    assert "got both" in text[5] and "got neither" in text[6]


def test_extensions() -> None:
    obj = minimal()["tool"]
    obj["extensions"] = {
        TLP2_EXTENSION: {"extension_type": "property-extension", "x": 1},
        "extension-definition--nope": {"extension_type": "property-extension"},
        "archive-ext": {"contains_refs": []},
        "archive": {"a": 1},
        "x-kizuna-ext": {},
        "extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e": {"extension_type": "x"},
    }
    assert paths(obj) == [
        "extensions.extension-definition--nope",
        "extensions.archive",
        "extensions.x-kizuna-ext",
        "extensions.extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e.extension_type",
    ]


# --- type-specific rules ----------------------------------------------------------------------


def test_indicator_pattern_errors_come_from_stix2_patterns() -> None:
    obj = minimal()["indicator"]
    obj["pattern"] = "[ipv4-addr:value = '198.51.100.1'"
    (problem,) = validate_object(obj)
    assert problem.path == "pattern"
    assert problem.message.startswith("not a valid STIX pattern: ")
    assert len(problem.message) > len("not a valid STIX pattern: ") + 10


@pytest.mark.parametrize(
    ("pattern", "word"),
    [
        ("[File:name = 'x']", "'File' is not a valid object type name"),
        ("[fi:name = 'x']", "'fi' is not a valid object type name"),
        ("[file:Name = 'x']", "'Name' in file:... is not a valid property name"),
    ],
)
def test_pattern_object_types_and_property_names(pattern: str, word: str) -> None:
    obj = minimal()["indicator"]
    obj["pattern"] = pattern
    (problem,) = validate_object(obj)
    assert problem.path == "pattern"
    assert word in problem.message


def test_non_stix_patterns_are_not_parsed() -> None:
    obj = minimal()["indicator"]
    obj["pattern_type"], obj["pattern"] = "yara", "rule x { condition: true }"
    assert validate_object(obj) == []


def test_malware_family_needs_a_name() -> None:
    obj = minimal()["malware"]
    obj["is_family"] = True
    assert validate_object(obj) == [Problem("name", "required when is_family is true")]
    obj["is_family"] = "yes"
    assert paths(obj) == ["is_family"]


def test_malware_analysis_needs_result_or_analysis_sco_refs() -> None:
    obj = minimal()["malware-analysis"]
    del obj["result"]
    assert paths(obj) == [""]
    obj["sample_ref"] = IDENTITY
    assert paths(obj) == ["sample_ref", ""]


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        ({"region": "eastern-asia"}, []),
        ({"latitude": 35.68, "longitude": 139.69}, []),
        ({"latitude": 35.68, "longitude": 139.69, "precision": 10.0}, []),
        ({}, [""]),
        ({"latitude": 35.68}, ["", "longitude"]),
        ({"country": "JP", "precision": 10.0}, ["precision"]),
        ({"latitude": 91, "longitude": 0}, ["latitude"]),
        ({"latitude": "35", "longitude": 181}, ["latitude", "longitude"]),
    ],
)
def test_location(props: dict[str, Any], expected: list[str]) -> None:
    obj = sdo("location", **props)
    assert paths(obj) == expected


def test_observed_data() -> None:
    obj = minimal()["observed-data"]
    obj["objects"] = {"0": {"type": "ipv4-addr", "value": "198.51.100.1"}}
    assert paths(obj) == [""]
    del obj["object_refs"]
    assert validate_object(obj) == []
    obj["number_observed"] = 0
    assert paths(obj) == ["number_observed"]
    obj = minimal()["observed-data"]
    obj["object_refs"] = [MALWARE]
    assert paths(obj) == ["object_refs[0]"]


def test_opinion_values() -> None:
    obj = minimal()["opinion"]
    obj["opinion"] = "meh"
    (problem,) = validate_object(obj)
    assert problem.path == "opinion"
    assert "strongly-disagree" in problem.message and "'meh'" in problem.message


@pytest.mark.parametrize(
    ("count", "ok"),
    [(0, True), (999_999_999, True), (-1, False), (1_000_000_000, False), ("2", False)],
)
def test_sighting_count(count: object, ok: bool) -> None:
    obj = minimal()["sighting"]
    obj["count"] = count
    assert (validate_object(obj) == []) is ok


def test_sighting_of_a_relationship_is_refused() -> None:
    obj = minimal()["sighting"]
    obj["sighting_of_ref"] = "relationship--" + MALWARE[9:]
    assert paths(obj) == ["sighting_of_ref"]


def test_marking_definition_forms() -> None:
    tlp1 = sdo("marking-definition", definition_type="tlp", definition={"tlp": "green"})
    del tlp1["modified"]
    assert validate_object(tlp1) == []
    tlp1["definition"] = {"tlp": "purple"}
    assert paths(tlp1) == ["definition.tlp"]
    tlp2 = sdo(
        "marking-definition",
        name="TLP:CLEAR",
        extensions={TLP2_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": "clear"}},
    )
    assert validate_object(tlp2) == []
    bare = sdo("marking-definition")
    assert paths(bare) == [""]
    half = sdo("marking-definition", definition_type="statement")
    assert paths(half) == ["definition"]
    selfish = minimal()["marking-definition"]
    selfish["object_marking_refs"] = [selfish["id"]]
    assert paths(selfish) == ["object_marking_refs"]


def test_extension_definition() -> None:
    obj = minimal()["extension-definition"]
    obj["extension_types"] = ["property-extension", "new-thing"]
    obj["extension_properties"] = ["x_a"]
    assert paths(obj) == ["extension_types[1]", "extension_properties"]


def test_language_content() -> None:
    obj = minimal()["language-content"]
    obj["contents"] = {"ja": "not an object"}
    assert paths(obj) == ["contents.ja"]


def test_every_problem_is_reported_not_only_the_first() -> None:
    obj = minimal()["indicator"]
    del obj["pattern_type"]
    obj["created"], obj["modified"] = T1, T0
    obj["created_by_ref"] = MALWARE
    obj["confidence"] = 200
    obj["spec_version"] = "2.0"
    assert sorted(paths(obj)) == sorted(
        ["spec_version", "modified", "created_by_ref", "confidence", "pattern_type"]
    )


def test_validation_does_not_change_the_object() -> None:
    for obj in load("oasis-example-poisonivy.json.gz")[:40]:
        before = copy.deepcopy(obj)
        validate_object(obj)
        assert obj == before


def test_problem_is_a_frozen_value() -> None:
    problem = Problem("modified", "m")
    with pytest.raises(dataclasses.FrozenInstanceError):
        problem.path = "x"  # type: ignore[misc]
    assert problem == Problem("modified", "m")
    assert validate.__all__ == ["Problem", "validate_object"]


@pytest.mark.parametrize("module", [validate, _properties])
def test_doctests(module: object) -> None:
    result = doctest.testmod(module)  # type: ignore[arg-type]
    assert result.attempted > 0
    assert result.failed == 0


# --- identifiers ---------------------------------------------------------------------------------

_ID_PARTS = st.lists(
    st.sampled_from(
        ["indicator", "x-mitre-tactic", "--", "-", "a", "9", "Z", "\n", "_", "8e2e2d2b",
         "17d4", "4cbf", "938f", "98ee46b3cd3f", "-4cbf-", "c", "f"]
    ),
    max_size=12,
).map("".join)
_A_UUID = "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"


@given(st.one_of(_ID_PARTS, _ID_PARTS.map(lambda s: s + "--" + _A_UUID), st.text(max_size=60)))
def test_identifier_type_reads_ids_as_the_strict_pattern_does(value: str) -> None:
    m = STRICT_IDENTIFIER.match(value)
    assert _properties.identifier_type(value) == (None if m is None else m["type"])


def test_names_and_values_with_a_trailing_newline_are_refused() -> None:
    """A pattern's "$" matches before a trailing newline; the rules end with "\\Z"."""
    obj = minimal()["malware"]
    assert "x_custom\n" in paths(dict(obj, **{"x_custom\n": "v"}))
    assert "type" in paths(dict(obj, type="malware\n"))
    assert paths(dict(obj, lang="en")) == []
    assert "lang" in paths(dict(obj, lang="en\n"))
    ref = {"source_name": "cve", "external_id": "CVE-2024-12345"}
    assert paths(dict(obj, external_references=[ref])) == []
    assert "external_references[0].external_id" in paths(
        dict(obj, external_references=[dict(ref, external_id="CVE-2024-12345\n")])
    )


def test_an_identifier_with_a_trailing_newline_is_refused() -> None:
    obj = minimal()["malware"]
    assert paths(obj) == []
    assert "id" in paths(dict(obj, id=obj["id"] + "\n"))
    assert "created_by_ref" in paths(dict(obj, created_by_ref=IDENTITY + "\n"))
    assert paths(dict(obj, created_by_ref=IDENTITY)) == []
