"""What a node accepts, and what a writer learns from the answer (docs/policy.md, Rule 6 and
"Derived products"): over real HTTP, on SQLite and on PostgreSQL.

- A sighting, note or opinion is checked against its sources wherever they are stored, using
  the latest version of each that the writer can see; more releasable than one, it is refused
  with the rule named, or, in a collection that restricts derived products, stored restricted.
- A writer that may write but not read learns nothing from the answer; neither does one that
  guesses a marking-definition it cannot see.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from kizuna.policy.derived import RESTRICT
from kizuna.stix.markings import releasability_id
from tests.helpers import indicator
from tests.policy.ingress import add_collection, failures, rel, successes, tlp, world

RULE = "a derived product may not be more releasable than its sources"


def _note(about: list[str], markings: list[str], **extra: Any) -> dict[str, Any]:
    obj = {
        "type": "note",
        "spec_version": "2.1",
        "id": f"note--{uuid.uuid4()}",
        "created": "2026-02-01T00:00:00.000Z",
        "modified": "2026-02-01T00:00:00.000Z",
        "content": "seen in our networks",
        "object_refs": about,
        "object_marking_refs": markings,
    }
    obj.update(extra)
    return obj


def _sighting(of: str, markings: list[str], **extra: Any) -> dict[str, Any]:
    obj = {
        "type": "sighting",
        "spec_version": "2.1",
        "id": f"sighting--{uuid.uuid4()}",
        "created": "2026-02-01T00:00:00.000Z",
        "modified": "2026-02-01T00:00:00.000Z",
        "sighting_of_ref": of,
        "object_marking_refs": markings,
    }
    obj.update(extra)
    return obj


def _identity(markings: list[str]) -> dict[str, Any]:
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": f"identity--{uuid.uuid4()}",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "name": "a ministry",
        "identity_class": "organization",
        "object_marking_refs": markings,
    }


# -- derived products are checked against their sources, in any collection -------------------


def test_a_note_is_checked_against_a_source_in_another_collection(
    tmp_path: Path, database: str
) -> None:
    with world(tmp_path, database) as w:
        add_collection(w, "sources")
        add_collection(w, "notes")
        source = indicator(markings=[rel("NATO")])
        assert successes(w.post("admin", "sources", source)) == {source["id"]}
        wide = _note([source["id"]], [rel("JPN-NATO")])
        narrow = _note([source["id"]], [rel("NATO"), tlp("green")])
        status = w.post("camille", "notes", wide, narrow)
        assert RULE in failures(status)[wide["id"]]
        assert "object_refs" in failures(status)[wide["id"]]
        assert successes(status) == {narrow["id"]}
        assert [o["id"] for o in w.objects("admin", "notes")] == [narrow["id"]]


def test_a_sighting_is_checked_against_every_source_property(
    tmp_path: Path, database: str
) -> None:
    with world(tmp_path, database) as w:
        add_collection(w, "intel")
        add_collection(w, "sightings")
        source = indicator(markings=[tlp("green")])
        where = _identity([rel("NATO")])
        w.post("admin", "intel", source, where)
        of_only = _sighting(source["id"], [rel("JPN-NATO"), tlp("green")])
        where_too = _sighting(
            source["id"], [rel("JPN-NATO"), tlp("green")], where_sighted_refs=[where["id"]]
        )
        status = w.post("camille", "sightings", of_only, where_too)
        assert successes(status) == {of_only["id"]}
        assert "where_sighted_refs" in failures(status)[where_too["id"]]
        assert RULE in failures(status)[where_too["id"]]
        # A source stricter in TLP refuses as well.
        amber = indicator(markings=[tlp("amber")])
        w.post("admin", "intel", amber)
        status = w.post("camille", "sightings", _sighting(amber["id"], [tlp("green")]))
        assert status["failure_count"] == 1 and RULE in status["failures"][0]["message"]


def test_a_source_in_the_same_envelope_counts(tmp_path: Path, database: str) -> None:
    with world(tmp_path, database) as w:
        add_collection(w, "intel")
        source = indicator(markings=[rel("NATO")])
        note = _note([source["id"]], [rel("JPN-NATO")])
        status = w.post("camille", "intel", source, note)
        assert successes(status) == {source["id"]}
        assert RULE in failures(status)[note["id"]]


def test_the_answer_does_not_change_when_a_hidden_version_is_added(
    tmp_path: Path, database: str
) -> None:
    """The check uses the latest version the writer can see: adding a newer version hidden
    from it (TLP:RED, above its ceiling) changes nothing it could observe."""
    with world(tmp_path, database) as w:
        add_collection(w, "intel")
        oid = f"indicator--{uuid.uuid4()}"
        w.post("admin", "intel", indicator(oid=oid, markings=[tlp("amber")]))

        def answers() -> tuple[bool, bool]:
            green = w.post("camille", "intel", _note([oid], [tlp("green")]))
            amber = w.post("camille", "intel", _note([oid], [tlp("amber")]))
            return green["success_count"] == 1, amber["success_count"] == 1

        before = answers()
        assert before == (False, True)
        newer = indicator(
            oid=oid, modified="2026-03-01T00:00:00.000Z", markings=[tlp("red"), rel("NATO")]
        )
        assert w.post("admin", "intel", newer)["success_count"] == 1
        assert answers() == before


def test_a_source_withheld_from_the_writer_is_not_consulted(
    tmp_path: Path, database: str
) -> None:
    """A relationship whose markings admit the writer but whose target it may not see is
    withheld from it, so hidden (Rule 4): a note on it gets the answer for an absent id, and
    a writer that receives it is held to it."""
    with world(tmp_path, database) as w:
        add_collection(w, "intel")
        target = indicator(name="NATO only", markings=[rel("NATO")])
        source = indicator(name="for all", markings=[tlp("amber")])
        when = "2026-01-01T00:00:00.000Z"
        withheld = {
            "type": "relationship", "spec_version": "2.1", "id": f"relationship--{uuid.uuid4()}",
            "created": when, "modified": when, "relationship_type": "related-to",
            "source_ref": source["id"], "target_ref": target["id"],
            "object_marking_refs": [tlp("amber")],
        }  # fmt: skip
        assert w.post("admin", "intel", target, source, withheld)["failure_count"] == 0
        absent = f"relationship--{uuid.uuid4()}"
        answers = []
        for about in (withheld["id"], absent):
            status = w.post("aiko", "intel", _note([about], [tlp("clear")]))
            answers.append((status["success_count"], status["failure_count"]))
        assert answers == [(1, 0), (1, 0)]
        # camille (FRA, in NATO) receives the relationship: her note is held to it.
        held = w.post("camille", "intel", _note([withheld["id"]], [tlp("clear")]))
        assert held["failure_count"] == 1 and RULE in held["failures"][0]["message"]


def test_a_source_hidden_from_the_writer_is_not_consulted(
    tmp_path: Path, database: str
) -> None:
    """A refusal would reveal the hidden source: the answer is the one for an absent id."""
    with world(tmp_path, database) as w:
        add_collection(w, "intel")
        add_collection(w, "secret", read=("JPN-CERT",), write=("JPN-CERT",))
        hidden = indicator(markings=[rel("JPN")])
        w.post("admin", "secret", hidden)
        absent = f"indicator--{uuid.uuid4()}"
        a = w.post("camille", "intel", _note([hidden["id"]], [tlp("green")]))
        b = w.post("camille", "intel", _note([absent], [tlp("green")]))
        assert a["success_count"] == b["success_count"] == 1
        # The JPN analyst, who can see it, is held to it.
        c = w.post("aiko", "intel", _note([hidden["id"]], [tlp("green")]))
        assert c["failure_count"] == 1 and RULE in c["failures"][0]["message"]


def test_a_restricting_collection_stores_the_product_with_the_combined_marking(
    tmp_path: Path, database: str
) -> None:
    """Sources naming AUS, CAN, GBR, NZL, USA: the product is REL TO exactly those, never
    REL TO FVEY, so an organization merely declaring FVEY cannot read it."""
    with world(tmp_path, database) as w:
        add_collection(w, "intel")
        add_collection(w, "products", derived=RESTRICT)
        source = indicator(markings=[rel("FIVE")])
        w.post("admin", "intel", source)
        note = _note([source["id"]], [rel("FVEY")])
        status = w.post("olivia", "products", note)
        assert successes(status) == {note["id"]}
        [stored] = w.objects("admin", "products")
        assert stored["object_marking_refs"] == [rel("FIVE")]
        assert w.objects("olivia", "products") != []
        assert w.objects("bruno", "products") == []
        # Several sources: the strictest TLP and every REL TO restriction at once.
        other = _identity([tlp("amber"), rel("AUS")])
        w.post("admin", "intel", other)
        both = _sighting(source["id"], [tlp("green")], where_sighted_refs=[other["id"]])
        assert successes(w.post("olivia", "products", both)) == {both["id"]}
        got = {o["id"]: o for o in w.objects("admin", "products")}[both["id"]]
        assert sorted(got["object_marking_refs"]) == sorted([tlp("amber"), releasability_id(["AUS"])])


# -- no oracles -------------------------------------------------------------------------------


def _url(w: Any, name: str) -> dict[str, Any]:
    return {
        "type": "url",
        "spec_version": "2.1",
        "id": f"url--{uuid.uuid5(uuid.NAMESPACE_URL, name)}",
        "value": name,
    }


def test_a_writer_that_may_not_read_learns_nothing_from_the_answer(
    tmp_path: Path, database: str
) -> None:
    """Already stored or new, an object gets the same answer, and an SCO's version is not
    the stored one's date_added."""
    with world(tmp_path, database) as w:
        add_collection(w, "drop", read=("FRA-CERT",), write=("FRA-CERT", "JPN-CERT"))
        stored = indicator(markings=[tlp("green")])
        known = _url(w, "http://known.example/")
        first = w.post("camille", "drop", stored, known)
        assert first["success_count"] == 2
        dates = {s["id"]: s["version"] for s in first["successes"]}
        fresh = indicator(markings=[tlp("green")])
        new_url = _url(w, "http://new.example/")
        status = w.post("aiko", "drop", stored, known, fresh, new_url)
        messages = {s["id"]: s["message"] for s in status["successes"]}
        assert set(messages.values()) == {"stored"}, messages
        by_id = {s["id"]: s["version"] for s in status["successes"]}
        assert by_id[known["id"]] != dates[known["id"]]
        assert by_id[known["id"]] == by_id[new_url["id"]]
        # A reader that writes is told the truth.
        again = w.post("camille", "drop", stored)
        assert again["successes"][0]["message"].startswith("already stored")


def _statement(mid: str, text: str) -> dict[str, Any]:
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": mid,
        "created": "2026-01-01T00:00:00.000Z",
        "definition_type": "statement",
        "definition": {"statement": text},
    }


def test_guessing_a_hidden_marking_definition_gets_one_answer(
    tmp_path: Path, database: str
) -> None:
    with world(tmp_path, database) as w:
        add_collection(w, "secret", read=("JPN-CERT",), write=("JPN-CERT",))
        add_collection(w, "open")
        mid = f"marking-definition--{uuid.uuid4()}"
        secret = _statement(mid, "Operation Sakura: do not share")
        assert w.post("aiko", "secret", secret)["success_count"] == 1
        right = w.post("camille", "open", secret)
        wrong = w.post("camille", "open", _statement(mid, "Operation Tulip"))
        assert failures(right) == failures(wrong) == {mid: failures(right)[mid]}
        assert "taken" in failures(right)[mid]
        # Nor can it be used: what it means would show in the answer.
        marked = indicator(markings=[mid])
        assert "not visible to you" in failures(w.post("camille", "open", marked))[marked["id"]]
        # Its reader compares as usual.
        assert w.post("aiko", "open", secret)["success_count"] == 1
        assert "immutable" in failures(w.post("aiko", "open", _statement(mid, "x")))[mid]
