"""Space objects and conjunctions as STIX: ids every node agrees on, versions by epoch, valid."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from stix2validator import ValidationOptions, validate_instance

from kizuna.space import catalog, screening, stix
from kizuna.space.formats import tle
from kizuna.stix import extensions
from kizuna.stix.ids import is_identifier
from kizuna.stix.validate import validate_object

SAMPLE = (
    Path(__file__).parent.parent / "data" / "space" / "tle" / "celestrak-active-2026-05-sample.tle"
)
TLP_AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
START = datetime(2026, 5, 20, tzinfo=UTC)


def _records() -> list[tle.ElementSet]:
    return tle.parse(SAMPLE.read_text()).records


def _valid(obj: dict[str, object]) -> None:
    assert validate_object(obj) == []
    report = validate_instance(obj, ValidationOptions(strict=False))
    assert report.is_valid, [str(e) for e in report.errors]
    # Only the expected warning: our ids are UUIDv5 on purpose (the same on every node).
    assert all("{103}" in str(w) for w in report.warnings)


def test_every_node_names_an_object_the_same() -> None:
    es = _records()[0]
    a, b = stix.space_object(es), stix.space_object(replace(es, object_name="RENAMED"))
    assert a["id"] == b["id"] == stix.space_object_id(es.norad_cat_id or 0, es.object_id)
    assert a["created"] == b["created"]
    assert stix.space_object_id(25544, "1998-067a") == stix.space_object_id(25544, "1998-067A")
    assert stix.space_object_id(25544) != stix.space_object_id(25545)


def test_a_newer_element_set_is_a_newer_version() -> None:
    es = _records()[0]
    old = stix.space_object(es)
    new = stix.space_object(replace(es, epoch=es.epoch + timedelta(hours=6), mean_anomaly=10.0))
    assert old["id"] == new["id"] and old["created"] == new["created"]
    assert new["modified"] > old["modified"] >= old["created"]
    assert stix.element_set_of(new).mean_anomaly == 10.0


def test_space_objects_are_valid_and_carry_their_elements() -> None:
    for es in _records()[:40]:
        obj = stix.space_object(es, object_marking_refs=[TLP_AMBER], owner_country="JPN")
        _valid(obj)
        assert obj["object_marking_refs"] == [TLP_AMBER] and obj["owner_country"] == "JPN"
        assert stix.element_set_of(obj) == replace(es, country_code="JPN")


def test_unusable_space_objects_are_refused_with_a_reason() -> None:
    obj = stix.space_object(_records()[0])
    with pytest.raises(ValueError, match="unusable elements"):
        stix.element_set_of({**obj, "elements": {"epoch": "yesterday"}})
    with pytest.raises(ValueError, match="not a x-kizuna-space-object"):
        stix.element_set_of({"type": "indicator"})
    with pytest.raises(ValueError, match="needs a catalog number"):
        stix.space_object(replace(_records()[0], norad_cat_id=None))


def test_conjunctions_from_screening() -> None:
    cat = catalog.build(_records()).catalog
    result = screening.screen(cat, START, 0.1, 5.0)
    assert len(result) > 3
    refs = [stix.space_object_id(int(n)) for n in cat.norad]
    seen: list[tuple[str, str]] = []

    def markings(a: str, b: str) -> list[str]:
        seen.append((a, b))
        return [TLP_AMBER]

    assessed = START - timedelta(days=1)
    objs = stix.from_screening(result, refs, markings, assessed=assessed)
    assert len(objs) == len(result) == len(seen)
    for k, obj in enumerate(objs):
        _valid(obj)
        assert obj["space_object_refs"] == [refs[result.row1[k]], refs[result.row2[k]]]
        assert all(is_identifier(r) for r in obj["space_object_refs"])
        assert obj["object_marking_refs"] == [TLP_AMBER]
        assert obj["miss_distance_km"] == pytest.approx(float(result.miss_km[k]))
        assert "collision_probability" not in obj  # unknown: absent (STIX has no null)
        assert obj["screening"]["threshold_km"] == 5.0
        assert obj["created"] <= obj["modified"]
    again = stix.from_screening(result, refs, markings, assessed=START)
    assert [o["id"] for o in again] == [o["id"] for o in objs]  # same events, new versions
    assert all(a["modified"] > b["modified"] for a, b in zip(again, objs, strict=True))


def test_conjunction_with_a_probability() -> None:
    a, b = stix.space_object_id(1), stix.space_object_id(2)
    args = {
        "tca": START,
        "miss_distance_km": 0.2,
        "relative_speed_km_s": 12.0,
        "miss_rtn_km": (0.1, 0.1, 0.1),
        "screening": {},
        "object_marking_refs": [],
        "assessed": START,
    }
    obj = stix.conjunction(
        a, b, collision_probability=1.5e-4, collision_probability_method="FOSTER-1992", **args
    )  # type: ignore[arg-type]
    _valid(obj)
    assert (obj["collision_probability"], obj["collision_probability_method"]) == (
        1.5e-4,
        "FOSTER-1992",
    )
    with pytest.raises(ValueError, match="not in"):
        stix.conjunction(a, b, collision_probability=2.0, **args)  # type: ignore[arg-type]


def test_extension_definitions_have_fixed_ids() -> None:
    defs = extensions.space_extension_definitions()
    assert [d["id"] for d in defs] == [
        stix.SPACE_OBJECT_EXTENSION,
        stix.CONJUNCTION_EXTENSION,
        stix.ELEMENT_SET_EXTENSION,
    ]
    assert defs == extensions.space_extension_definitions()
    assert all(d in extensions.extension_definitions() for d in defs)
    for d in defs:
        _valid(d)
        assert d["extension_types"] == ["new-sdo"]


def test_a_partners_element_set_is_its_own_object_of_the_same_space_object() -> None:
    es = _records()[0]
    jaxa = "identity--" + "1" * 8 + "-1111-4111-8111-" + "1" * 12
    nspoc = "identity--" + "2" * 8 + "-2222-4222-8222-" + "2" * 12
    a = stix.element_set(es, created_by_ref=jaxa)
    b = stix.element_set(replace(es, mean_anomaly=1.0), created_by_ref=nspoc)
    assert a["space_object_ref"] == b["space_object_ref"] == stix.space_object(es)["id"]
    assert a["id"] != b["id"] and a["id"] == stix.element_set_id(jaxa, a["space_object_ref"])
    newer = stix.element_set(replace(es, epoch=es.epoch + timedelta(days=1)), created_by_ref=jaxa)
    assert newer["id"] == a["id"] and newer["modified"] > a["modified"]
    assert stix.element_set_of(b) == replace(es, mean_anomaly=1.0)
    _valid(a)
