"""A conjunction made from a CDM names its objects by what the CDM calls them, when the
objects themselves are not stored or not visible: on its page and in the space list."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from markupsafe import escape

from kizuna.space.formats.cdm import parse as parse_cdm
from kizuna.space.stix import from_cdm
from kizuna.web._views import carried_names
from tests.web.conftest import sign_in
from tests.web.world import CDM_NAME, World

A, B = "x-kizuna-space-object--a", "x-kizuna-space-object--b"
CDMS = Path(__file__).resolve().parents[1] / "data" / "space" / "cdm" / "SampleCDMs"


def test_from_cdm_carries_the_designators_and_names() -> None:
    text = (CDMS / "AlfanoTestCase03.cdm").read_text()
    text = text.replace("OBJECT_NAME                        = 3001", "OBJECT_NAME = ISS (ZARYA)", 1)
    text = text.replace("OBJECT_NAME                        = 3002", "OBJECT_NAME = UNKNOWN", 1)
    text = text.replace("INTERNATIONAL_DESIGNATOR           = 3002", "INTERNATIONAL_DESIGNATOR = N/A", 1)
    obj = from_cdm(parse_cdm(text))
    assert obj["screening"]["objects"] == [
        {"object_designator": "3001", "object_name": "ISS (ZARYA)", "international_designator": "3001"},
        {"object_designator": "3002"},  # UNKNOWN and N/A are not names
    ]
    assert carried_names(obj) == {
        obj["space_object_refs"][0]: "ISS (ZARYA) (3001, 3001)",
        obj["space_object_refs"][1]: "3002",
    }


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        ({}, {}),
        ({"space_object_refs": [A, B]}, {}),
        ({"space_object_refs": [A, B], "screening": "CDM"}, {}),
        ({"space_object_refs": [A, B], "screening": {"objects": "x"}}, {}),
        ({"space_object_refs": "ab", "screening": {"objects": [{"object_name": "X"}]}}, {}),
        # fewer names than refs, names that are not mappings, refs that are not strings
        ({"space_object_refs": [A, B], "screening": {"objects": [{"object_name": "X"}]}}, {A: "X"}),
        ({"space_object_refs": [A, B], "screening": {"objects": [None, {"object_designator": "7"}]}},
         {B: "7"}),
        ({"space_object_refs": [1, B], "screening": {"objects": [{"object_name": "X"}, {"object_name": "Y"}]}},
         {B: "Y"}),
        # more names than refs: the extra one names nothing
        ({"space_object_refs": [A], "screening": {"objects": [{"object_name": "X"}, {"object_name": "Y"}]}},
         {A: "X"}),
        # values of the wrong type or empty are left out; an int designator is spelled out
        ({"space_object_refs": [A, B], "screening": {"objects": [
            {"object_name": ["X"], "object_designator": 25544, "international_designator": {"a": 1}},
            {"object_name": "", "object_designator": "", "international_designator": None}]}},
         {A: "25544"}),
        # hostile text is returned as it is (the templates escape it)
        ({"space_object_refs": [A], "screening": {"objects": [
            {"object_name": "<script>alert(1)</script>", "object_designator": "javascript:x"}]}},
         {A: "<script>alert(1)</script> (javascript:x)"}),
    ],
)
def test_carried_names_of_odd_values(obj: dict[str, Any], expected: dict[str, str]) -> None:
    assert carried_names(obj) == expected


def test_names_are_on_the_page_and_in_the_space_list_escaped(world: World, url: str) -> None:
    client = sign_in(url, "analyst", world.tokens["analyst"])
    shown = str(escape(CDM_NAME))
    page = client.get(f"/ui/objects/{world.ids['conjunction_cdm']}").text
    assert f"{shown} (3001, 3001)" in page  # in the list of objects
    assert "<title>" in page and page.count(f"{shown} (3001, 3001) × 3002 (3002, 3002)") >= 2  # title, h1
    assert "<img src=x" not in page
    # the screening property, among the others, as JSON: the name's script shown as it is
    assert '"object_name": "ALFANO 衛星 \\u003cimg' in page
    space = client.get("/ui/space/").text
    assert f"{shown} (3001, 3001)</a>" in space and "<img src=x" not in space
    # the list's object filter finds the conjunction by the name its CDM gives
    found = client.get("/ui/space/", params={"object": "衛星"}).text
    assert world.ids["conjunction_cdm"] in found and world.ids["conjunction"] not in found
