"""Focused tests of the gate (kizuna.policy.gate) and of marking combination (policy/combine.py).

The combination table of docs/policy.md is read from the document itself and checked row by
row, so the contract and the code cannot drift apart. The onward-sharing rules for peer
accounts, exercises, statements, unknown markings, granular redaction and references to hidden
objects each have their own cases.
"""

from __future__ import annotations

import copy
from collections.abc import Collection
from pathlib import Path
from typing import Any

import pytest

from kizuna.policy.combine import (
    Releasability,
    combine,
    derived_refs,
    expand,
    marking_refs_for,
    no_more_releasable,
    rel_to_markings,
    summarize,
)
from kizuna.policy.communities import DEFAULT_COMMUNITIES
from kizuna.policy.gate import (
    FULL,
    Access,
    CollectionView,
    Gate,
)
from kizuna.policy.principal import Principal
from kizuna.policy.refs import needs_redaction, referenced_ids, visibility_refs
from kizuna.stix.markings import (
    TLP1_IDS,
    TLP2_IDS,
    Exercise,
    Marking,
    RelTo,
    Statement,
    Tlp,
    Unknown,
    exercise_marking,
    parse_marking,
    releasability_id,
    releasability_marking,
    tlp_marking,
)

POLICY = Path(__file__).parents[2] / "docs" / "policy.md"
COMMUNITIES = {k: frozenset(v) for k, v in DEFAULT_COMMUNITIES.items()}
HOME = "NATO-CERT"

STATEMENT = "marking-definition--fa42a846-8d90-4e51-bc29-71d5b4802168"
UNKNOWN = "marking-definition--0d2b59a2-5c16-4c52-b4a6-3b1a7d2a0b11"
NEVER_STORED = "marking-definition--5b0b8ac5-7e40-4b1e-8a8e-6f6a0c5c9f01"


def rel(*codes: str) -> str:
    return releasability_id(codes)


def tlp(level: str) -> str:
    return TLP2_IDS[level]


EXERCISE_X = str(exercise_marking("LOCKED-SHIELDS")["id"])
EXERCISE_Y = str(exercise_marking("CYBER-COALITION")["id"])


def _markings() -> dict[str, Marking]:
    out: dict[str, Marking] = {}
    bodies: list[dict[str, Any]] = [tlp_marking(level) for level in TLP2_IDS]
    for codes in (["NATO"], ["JPN", "NATO"], ["JPN"], ["IP4"], ["EU"], ["FRA"]):
        bodies.append(releasability_marking(codes))
    bodies += [exercise_marking("LOCKED-SHIELDS"), exercise_marking("CYBER-COALITION")]
    bodies.append(
        {
            "type": "marking-definition",
            "spec_version": "2.1",
            "id": STATEMENT,
            "created": "2017-06-01T00:00:00.000Z",
            "definition_type": "statement",
            "definition": {"statement": "Copyright MITRE"},
        }
    )
    bodies.append(
        {
            "type": "marking-definition",
            "spec_version": "2.1",
            "id": UNKNOWN,
            "created": "2020-01-01T00:00:00.000Z",
            "definition_type": "x-custom",
            "definition": {"level": "secret-ish"},
        }
    )
    for body in bodies:
        out[body["id"]] = parse_marking(body)
    for mid in TLP1_IDS:
        out[mid] = parse_marking({"id": mid, "definition_type": "tlp"})
    return out


MARKINGS = _markings()


def principal(
    org: str, country: str, declared: tuple[str, ...] = (), *, peer: str | None = None
) -> Principal:
    """A principal with its codes computed as Snapshot.principal_for does."""
    codes = {country, *declared}
    codes |= {name for name, members in COMMUNITIES.items() if country in members}
    return Principal(
        name=f"{org}-user", org=org, country=country, codes=frozenset(codes), peer=peer
    )


FRA = principal("FRA-CERT", "FRA")
JPN = principal("JPN-CERT", "JPN", ("IP4",))
AUS = principal("AUS-ACSC", "AUS", ("IP4",))
ADMIN = Principal("admin", HOME, "BEL", frozenset({"BEL", "NATO", "EU"}), is_admin=True)

REAL = CollectionView("c-real", "real")
EXERCISE = CollectionView("c-ex", "exercise:LOCKED-SHIELDS")


def gate(max_tlp: str = "amber", *, orgs: tuple[str, ...] = ()) -> Gate:
    names = orgs or (FRA.org, JPN.org, AUS.org, HOME)
    grants = {(c.id, org): Access(True, True, max_tlp) for c in (REAL, EXERCISE) for org in names}
    return Gate(MARKINGS, grants, home_org=HOME)


def sees(g: Gate, p: Principal, refs: list[str], collection: CollectionView = REAL) -> bool:
    """The coarse and the fine answer agree; return it."""
    coarse = g.set_visible(p, refs, g.access(p, collection.id), collection)
    obj: dict[str, Any] = {"type": "indicator", "id": "indicator--1", "name": "x"}
    if refs:
        obj["object_marking_refs"] = refs
    fine = g.release(p, collection, obj, lambda ids: ()) is not None
    assert coarse == fine, (p.org, refs)
    why = g.explain(p, refs, collection)
    assert (why is None) == coarse, (p.org, refs, why)
    return coarse


# -- the combination table of docs/policy.md, read from the document ------------------------

#: The markings each row of the table stands for.
ROWS: dict[str, tuple[list[str], CollectionView]] = {
    "none": ([], REAL),
    "TLP:CLEAR": ([tlp("clear")], REAL),
    "TLP:GREEN": ([tlp("green")], REAL),
    "TLP:AMBER": ([tlp("amber")], REAL),
    "TLP:AMBER+STRICT": ([tlp("amber+strict")], REAL),
    "TLP:RED": ([tlp("red")], REAL),
    "REL TO NATO": ([rel("NATO")], REAL),
    "REL TO JPN, NATO": ([rel("JPN", "NATO")], REAL),
    "REL TO JPN": ([rel("JPN")], REAL),
    "REL TO IP4": ([rel("IP4")], REAL),
    "TLP:GREEN + REL TO JPN, NATO": ([tlp("green"), rel("JPN", "NATO")], REAL),
    "TLP:AMBER + REL TO NATO": ([tlp("amber"), rel("NATO")], REAL),
    "TLP:RED + REL TO JPN, NATO": ([tlp("red"), rel("JPN", "NATO")], REAL),
    "REL TO NATO and REL TO JPN (two markings)": ([rel("NATO"), rel("JPN")], REAL),
    "EXERCISE X (in a real collection)": ([EXERCISE_X], REAL),
    "a marking the node does not know": ([UNKNOWN], REAL),
    "a statement (copyright)": ([STATEMENT], REAL),
}


def policy_table() -> list[tuple[str, dict[str, bool]]]:
    """The rows of "The combination table" in docs/policy.md: (markings, {org: yes/no})."""
    text = POLICY.read_text(encoding="utf-8")
    section = text.split("### The combination table", 1)[1].split("\n## ", 1)[0]
    lines = [ln for ln in section.splitlines() if ln.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    assert header == ["object markings", "FRA", "JPN", "AUS"], header
    rows = []
    for line in lines[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        answers = {}
        for org, cell in zip(header[1:], cells[1:], strict=True):
            assert cell in ("yes", "no"), line
            answers[org] = cell == "yes"
        rows.append((cells[0], answers))
    return rows


def test_policy_table_rows_are_all_known() -> None:
    assert [label for label, _ in policy_table()] == list(ROWS)


@pytest.mark.parametrize(("label", "answers"), policy_table(), ids=lambda v: str(v))
def test_policy_combination_table(label: str, answers: dict[str, bool]) -> None:
    refs, collection = ROWS[label]
    g = gate("amber")
    got = {
        name: sees(g, p, refs, collection) for name, p in (("FRA", FRA), ("JPN", JPN), ("AUS", AUS))
    }
    assert got == answers
    # An administrator sees every row.
    assert sees(g, ADMIN, refs, collection)


@pytest.mark.parametrize(("label", "answers"), policy_table(), ids=lambda v: str(v))
def test_policy_table_with_red_ceiling(label: str, answers: dict[str, bool]) -> None:
    """ "With --max-tlp red, the AMBER+STRICT and RED rows become yes where REL TO admits"."""
    refs, collection = ROWS[label]
    g = gate("red")
    for name, p in (("FRA", FRA), ("JPN", JPN), ("AUS", AUS)):
        rel_only = [r for r in refs if not isinstance(MARKINGS.get(r), Tlp)]
        expected = answers[name] or (
            bool(refs) and rel_only != refs and sees(gate("amber"), p, rel_only, collection)
        )
        assert sees(g, p, refs, collection) == expected, (label, name)


# -- TLP ------------------------------------------------------------------------------------


@pytest.mark.parametrize("ceiling", ["clear", "green", "amber", "amber+strict", "red"])
def test_tlp_ceiling(ceiling: str) -> None:
    g = gate(ceiling)
    order = ["clear", "green", "amber", "amber+strict", "red"]
    for level in order:
        assert sees(g, FRA, [tlp(level)]) == (order.index(level) <= order.index(ceiling))


@pytest.mark.parametrize(("mid", "as_level"), [(k, v[1]) for k, v in TLP1_IDS.items()])
def test_tlp1_markings_read_as_tlp2(mid: str, as_level: str) -> None:
    assert MARKINGS[mid] == Tlp(as_level)
    for ceiling in ("clear", "green", "amber", "red"):
        assert sees(gate(ceiling), JPN, [mid]) == sees(gate(ceiling), JPN, [tlp(as_level)])


def test_tlp2_marking_with_a_wrong_id_is_unknown() -> None:
    body = tlp_marking("clear")
    body["id"] = TLP2_IDS["red"]
    assert isinstance(parse_marking(body), Unknown)
    body = tlp_marking("green")
    body["extensions"][next(iter(body["extensions"]))]["tlp_2_0"] = "purple"
    assert isinstance(parse_marking(body), Unknown)


def test_no_grant_no_read() -> None:
    g = gate("red", orgs=(FRA.org,))
    assert not sees(g, JPN, [])
    assert not sees(g, JPN, [tlp("clear")])
    assert g.visible_sets(JPN, REAL, {1: (), 2: (tlp("clear"),)}) == frozenset()
    assert g.access(JPN, REAL.id).can_read is False
    assert g.explain(JPN, [], REAL) == "JPN-CERT has no read grant on this collection"


def test_write_only_grant_does_not_read() -> None:
    g = Gate(MARKINGS, {(REAL.id, JPN.org): Access(False, True, "red")}, home_org=HOME)
    assert not g.set_visible(JPN, [], g.access(JPN, REAL.id), REAL)


def test_administrator_sees_everything() -> None:
    g = Gate(MARKINGS, {}, home_org=HOME)
    assert g.access(ADMIN, REAL.id) == FULL
    assert g.visible_sets(ADMIN, REAL, {1: (UNKNOWN,)}) is None
    assert sees(g, ADMIN, [UNKNOWN, tlp("red"), EXERCISE_Y, NEVER_STORED])


def test_visible_sets_are_the_sets_each_marking_admits() -> None:
    g = gate("amber")
    sets = {
        1: (),
        2: (tlp("green"),),
        3: (rel("NATO"),),
        4: (rel("IP4"), tlp("amber")),
        5: (tlp("red"),),
        6: (UNKNOWN,),
        7: (STATEMENT,),
    }
    assert g.visible_sets(FRA, REAL, sets) == frozenset({1, 2, 3, 7})
    assert g.visible_sets(JPN, REAL, sets) == frozenset({1, 2, 4, 7})
    assert g.visible_sets(AUS, REAL, sets) == frozenset({1, 2, 4, 7})


# -- peers: onward sharing ------------------------------------------------------------------

PEER_FRA = principal("FRA-CERT", "FRA", peer="fra-node")
PEER_HOME = principal(HOME, "BEL", ("NATO",), peer="nato-node-2")


@pytest.mark.parametrize("ceiling", ["amber", "amber+strict", "red"])
def test_tlp_red_is_never_released_to_a_peer(ceiling: str) -> None:
    g = gate(ceiling)
    for p in (PEER_FRA, PEER_HOME):
        assert not sees(g, p, [tlp("red")])
        assert not sees(g, p, [tlp("red"), rel("NATO")])
        # TLP 1.0 RED is the same level.
        tlp1_red = next(k for k, v in TLP1_IDS.items() if v[1] == "red")
        assert not sees(g, p, [tlp1_red])
        assert "may not leave" in (g.explain(p, [tlp("red")], REAL) or "")
    # The same organization's users see it when the ceiling allows.
    assert sees(g, FRA, [tlp("red")]) == (ceiling == "red")


@pytest.mark.parametrize("ceiling", ["amber+strict", "red"])
def test_amber_strict_only_to_a_peer_of_the_nodes_own_org(ceiling: str) -> None:
    g = gate(ceiling)
    assert not sees(g, PEER_FRA, [tlp("amber+strict")])
    assert sees(g, PEER_HOME, [tlp("amber+strict")])
    # A user of another organization with the ceiling reads it here (it stays on this node).
    assert sees(g, FRA, [tlp("amber+strict")])


def test_amber_strict_to_a_home_peer_still_needs_the_ceiling() -> None:
    assert not sees(gate("amber"), PEER_HOME, [tlp("amber+strict")])
    assert "above" in (gate("amber").explain(PEER_HOME, [tlp("amber+strict")], REAL) or "")


def test_peer_is_otherwise_gated_like_a_user_of_its_org() -> None:
    g = gate("amber")
    for refs in ROWS.values():
        assert sees(g, PEER_FRA, refs[0], refs[1]) == sees(g, FRA, refs[0], refs[1])
    g = gate("red")
    for level in ("clear", "green", "amber"):
        assert sees(g, PEER_FRA, [tlp(level)])


def test_peer_granular_red_field_is_removed() -> None:
    g = gate("red")
    obj = _indicator(granular_markings=[{"marking_ref": tlp("red"), "selectors": ["description"]}])
    out = g.release(PEER_HOME, REAL, copy.deepcopy(obj), lambda ids: ())
    assert out is not None and "description" not in out and "granular_markings" not in out
    # A user of the home organization with a red ceiling keeps it.
    home_user = principal(HOME, "BEL", ("NATO",))
    assert g.release(home_user, REAL, copy.deepcopy(obj), lambda ids: ()) == obj


# -- exercises, statements, unknown markings -------------------------------------------------


def test_exercise_marking_only_in_a_collection_of_that_exercise() -> None:
    g = gate("amber")
    assert sees(g, FRA, [EXERCISE_X], EXERCISE)
    assert not sees(g, FRA, [EXERCISE_X], REAL)
    assert not sees(g, FRA, [EXERCISE_Y], EXERCISE)
    assert not sees(g, FRA, [EXERCISE_X, rel("JPN")], EXERCISE)
    assert "exercise LOCKED-SHIELDS" in (g.explain(FRA, [EXERCISE_X], REAL) or "")


def test_statement_restricts_nothing_but_combines() -> None:
    g = gate("amber")
    assert sees(g, JPN, [STATEMENT])
    assert not sees(g, JPN, [STATEMENT, rel("NATO")])
    assert sees(g, JPN, [STATEMENT, tlp("green")])


@pytest.mark.parametrize("ref", [UNKNOWN, NEVER_STORED, "not-even-an-id"])
def test_unknown_markings_deny(ref: str) -> None:
    g = gate("red")
    for p in (FRA, JPN, AUS, PEER_HOME):
        assert not sees(g, p, [ref])
        assert not sees(g, p, [tlp("clear"), ref])
    assert "denies by default" in (g.explain(FRA, [ref], REAL) or "")


def test_unknown_granular_marking_removes_the_field() -> None:
    g = gate("red")
    obj = _indicator(granular_markings=[{"marking_ref": UNKNOWN, "selectors": ["description"]}])
    out = g.release(FRA, REAL, obj, lambda ids: ())
    assert out is not None and "description" not in out


def test_releasability_marking_whose_id_does_not_match_is_unknown() -> None:
    body = releasability_marking(["JPN"])
    body["extensions"][next(iter(body["extensions"]))]["rel_to"] = ["NATO"]
    m = parse_marking(body)
    assert isinstance(m, Unknown) and "does not match" in m.reason
    g = Gate({**MARKINGS, body["id"]: m}, gate()._grants, home_org=HOME)
    assert not sees(g, JPN, [body["id"]])
    assert not sees(g, FRA, [body["id"]])


def test_parse_marking_kinds() -> None:
    assert MARKINGS[rel("JPN", "NATO")] == RelTo(frozenset({"JPN", "NATO"}))
    assert MARKINGS[EXERCISE_X] == Exercise("LOCKED-SHIELDS")
    assert MARKINGS[STATEMENT] == Statement("Copyright MITRE")
    assert isinstance(MARKINGS[UNKNOWN], Unknown)
    assert isinstance(parse_marking(b"[1, 2]"), Unknown)
    assert isinstance(
        parse_marking({"id": "marking-definition--x", "definition_type": "tlp"}), Unknown
    )


# -- the fine pass: granular markings and references ------------------------------------------


def _indicator(**extra: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--6b0c4a9e-0f3e-4f7e-9d5a-2f4b0c1d2e3f",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "name": "bad domain",
        "description": "seen in phishing",
        "pattern": "[domain-name:value = 'evil.example']",
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
        "external_references": [
            {"source_name": "a", "url": "https://a.example"},
            {"source_name": "b", "url": "https://b.example/secret"},
        ],
    }
    obj.update(extra)
    return obj


def _release(
    p: Principal, obj: dict[str, Any], hidden: Collection[str] = (), g: Gate | None = None
) -> dict[str, Any] | None:
    g = g or gate("amber")
    hidden_set = set(hidden)

    def answer(ids: Collection[str]) -> Collection[str]:
        return [i for i in ids if i in hidden_set]

    return g.release(p, REAL, copy.deepcopy(obj), answer)


def test_granular_marking_removes_fields_it_does_not_admit() -> None:
    obj = _indicator(
        granular_markings=[
            {
                "marking_ref": rel("NATO"),
                "selectors": ["description", "external_references.[1].url"],
            },
            {"marking_ref": tlp("green"), "selectors": ["name"]},
        ]
    )
    fra = _release(FRA, obj)
    assert fra == obj
    jpn = _release(JPN, obj)
    assert jpn is not None
    assert "description" not in jpn
    assert jpn["external_references"] == [
        {"source_name": "a", "url": "https://a.example"},
        {"source_name": "b"},
    ]
    assert jpn["granular_markings"] == [{"marking_ref": tlp("green"), "selectors": ["name"]}]
    assert "secret" not in repr(jpn)


def test_granular_marking_on_a_whole_list_entry() -> None:
    obj = _indicator(
        granular_markings=[
            {"marking_ref": rel("NATO"), "selectors": ["external_references.[0]"]},
            {"marking_ref": tlp("green"), "selectors": ["external_references.[1].url"]},
        ]
    )
    jpn = _release(JPN, obj)
    assert jpn is not None
    assert jpn["external_references"] == [{"source_name": "b", "url": "https://b.example/secret"}]
    # The kept marking follows the item it marks: [1] became [0].
    assert jpn["granular_markings"] == [
        {"marking_ref": tlp("green"), "selectors": ["external_references.[0].url"]}
    ]


def test_kept_markings_follow_list_items_after_removals() -> None:
    refs = [{"source_name": n, "url": f"https://{n}.example"} for n in "abcde"]
    obj = _indicator(
        external_references=refs,
        granular_markings=[
            {
                "marking_ref": rel("NATO"),
                "selectors": ["external_references.[0]", "external_references.[2]"],
            },
            {
                "marking_ref": tlp("green"),
                "selectors": ["external_references.[1].url", "description"],
            },
            {
                "marking_ref": tlp("amber"),
                "selectors": ["external_references.[3]", "external_references.[2].url"],
            },
            {"marking_ref": rel("JPN"), "selectors": ["external_references.[4].source_name"]},
        ],
    )
    jpn = _release(JPN, obj)
    assert jpn is not None
    assert [r["source_name"] for r in jpn["external_references"]] == ["b", "d", "e"]
    assert jpn["granular_markings"] == [
        {"marking_ref": tlp("green"), "selectors": ["external_references.[0].url", "description"]},
        # The selector into the removed item [2] goes; the entry keeps the rest.
        {"marking_ref": tlp("amber"), "selectors": ["external_references.[1]"]},
        {"marking_ref": rel("JPN"), "selectors": ["external_references.[2].source_name"]},
    ]
    # What each kept marking marks is the same value as before.
    assert jpn["external_references"][0]["url"] == "https://b.example"
    assert jpn["external_references"][1] == refs[3]
    # FRA may not see REL TO JPN: e's name goes, nothing else.
    fra = _release(FRA, obj)
    assert fra is not None
    assert fra["external_references"][4] == {"url": "https://e.example"}


def test_entry_keeps_its_other_selectors_when_one_field_is_removed() -> None:
    obj = _indicator(
        granular_markings=[
            {"marking_ref": rel("NATO"), "selectors": ["description"]},
            {"marking_ref": tlp("green"), "selectors": ["description", "name"]},
        ]
    )
    jpn = _release(JPN, obj)
    assert jpn is not None and "description" not in jpn
    assert jpn["granular_markings"] == [{"marking_ref": tlp("green"), "selectors": ["name"]}]


def test_granular_marking_on_a_required_property_withholds() -> None:
    obj = _indicator(granular_markings=[{"marking_ref": rel("NATO"), "selectors": ["pattern"]}])
    assert _release(FRA, obj) == obj
    assert _release(JPN, obj) is None
    assert visibility_refs(obj) == (rel("NATO"),)
    assert needs_redaction(obj)


def test_visibility_refs_are_object_markings_and_required_granular_ones() -> None:
    obj = _indicator(
        object_marking_refs=[tlp("green"), STATEMENT],
        granular_markings=[
            {"marking_ref": rel("NATO"), "selectors": ["description"]},
            {"marking_ref": rel("IP4"), "selectors": ["id"]},
            {"lang": "fr", "selectors": ["name"]},
        ],
    )
    assert visibility_refs(obj) == tuple(sorted([tlp("green"), STATEMENT, rel("IP4")]))
    assert not needs_redaction({"type": "indicator", "id": "indicator--1"})


def test_lang_granular_markings_are_kept() -> None:
    obj = _indicator(granular_markings=[{"lang": "fr", "selectors": ["description"]}])
    assert _release(JPN, obj) == obj


REL = {
    "type": "relationship",
    "spec_version": "2.1",
    "id": "relationship--00000000-0000-4000-8000-000000000001",
    "created": "2026-01-01T00:00:00.000Z",
    "modified": "2026-01-01T00:00:00.000Z",
    "relationship_type": "uses",
    "source_ref": "intrusion-set--00000000-0000-4000-8000-000000000002",
    "target_ref": "malware--00000000-0000-4000-8000-000000000003",
    "created_by_ref": "identity--00000000-0000-4000-8000-000000000004",
}


def test_required_reference_to_a_hidden_object_withholds() -> None:
    assert _release(JPN, REL) == REL
    assert _release(JPN, REL, hidden=[REL["source_ref"]]) is None
    assert _release(JPN, REL, hidden=[REL["target_ref"]]) is None


def test_optional_reference_to_a_hidden_object_is_removed() -> None:
    out = _release(JPN, REL, hidden=[REL["created_by_ref"]])
    assert out is not None and "created_by_ref" not in out
    assert {k: v for k, v in REL.items() if k != "created_by_ref"} == out


def test_ref_lists_lose_hidden_entries() -> None:
    a, b = (
        "indicator--00000000-0000-4000-8000-00000000000a",
        "malware--00000000-0000-4000-8000-00000000000b",
    )
    note = {
        "type": "note",
        "spec_version": "2.1",
        "id": "note--00000000-0000-4000-8000-000000000005",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "content": "seen again",
        "object_refs": [a, b],
        "x_related_refs": [b],
    }
    out = _release(JPN, note, hidden=[b])
    assert out is not None and out["object_refs"] == [a] and "x_related_refs" not in out
    # A required list that becomes empty withholds the object.
    assert _release(JPN, note, hidden=[a, b]) is None


def test_nested_references_are_removed() -> None:
    hidden = "identity--00000000-0000-4000-8000-0000000000ff"
    sighting = {
        "type": "sighting",
        "spec_version": "2.1",
        "id": "sighting--00000000-0000-4000-8000-000000000006",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "sighting_of_ref": "indicator--00000000-0000-4000-8000-00000000000a",
        "where_sighted_refs": [hidden],
        "extensions": {"x-ext": {"extension_type": "property-extension", "seen_by_ref": hidden}},
    }
    out = _release(JPN, sighting, hidden=[hidden])
    assert out is not None
    assert hidden not in repr(out)
    assert _release(JPN, sighting, hidden=[sighting["sighting_of_ref"]]) is None


def test_markings_are_not_references() -> None:
    obj = _indicator(
        object_marking_refs=[tlp("green")],
        granular_markings=[{"marking_ref": tlp("clear"), "selectors": ["name"]}],
    )
    assert referenced_ids(obj) == set()
    out = _release(JPN, obj, hidden=[tlp("green"), tlp("clear")])
    assert out == obj


def test_release_withholds_what_the_object_markings_deny() -> None:
    assert _release(JPN, _indicator(object_marking_refs=[rel("NATO")])) is None
    assert _release(FRA, _indicator(object_marking_refs=[rel("NATO")])) is not None


# -- derived products: policy/combine.py ----------------------------------------------------


def _summary(*refs: str) -> Releasability:
    return summarize(refs, MARKINGS, COMMUNITIES)


def test_summarize() -> None:
    r = _summary(tlp("green"), rel("JPN", "NATO"), STATEMENT)
    assert r.tlp == 1
    assert r.countries == COMMUNITIES["NATO"] | {"JPN"}
    assert r.statements == {STATEMENT}
    assert not r.unknown
    assert _summary().countries is None and _summary().tlp == -1
    assert _summary(UNKNOWN).unknown and _summary(NEVER_STORED).unknown
    assert _summary(EXERCISE_X).exercises == {"LOCKED-SHIELDS"}
    # Two REL TO markings on one object: their intersection.
    assert _summary(rel("NATO"), rel("EU")).countries == COMMUNITIES["NATO"] & COMMUNITIES["EU"]


def test_expand() -> None:
    assert expand(["IP4", "FRA"], COMMUNITIES) == COMMUNITIES["IP4"] | {"FRA"}


def test_combine_is_intersection_and_stricter_tlp() -> None:
    a = _summary(tlp("green"), rel("JPN", "NATO"))
    b = _summary(tlp("amber"), rel("IP4"))
    c = combine([a, b])
    assert c.tlp == 2
    assert c.countries == frozenset({"JPN"})
    # A French organization declaring IP4 is admitted by both: REL TO JPN would refuse it.
    assert rel_to_markings(c, COMMUNITIES) == [["IP4"], ["JPN", "NATO"]]
    assert marking_refs_for(c, COMMUNITIES) == sorted([tlp("amber"), rel("IP4"), rel("JPN", "NATO")])
    assert no_more_releasable(c, a) and no_more_releasable(c, b)
    assert not no_more_releasable(a, c)


def test_combine_with_an_unrestricted_source_keeps_the_restriction() -> None:
    a = _summary()
    b = _summary(rel("NATO"))
    c = combine([a, b])
    assert c.countries == COMMUNITIES["NATO"]
    assert rel_to_markings(c, COMMUNITIES) == [["NATO"]]
    assert no_more_releasable(c, a) and no_more_releasable(c, b)
    assert not no_more_releasable(a, b)


def test_an_empty_intersection_keeps_each_sources_rel_to() -> None:
    c = combine([_summary(rel("NATO")), _summary(rel("IP4"))])
    assert c.countries == frozenset()
    # No one marking admits exactly whom both admit: both stay, and the gate wants both.
    assert rel_to_markings(c, COMMUNITIES) == [["IP4"], ["NATO"]]
    refs = derived_refs([[rel("NATO")], [tlp("green"), rel("IP4")]], MARKINGS, COMMUNITIES)
    assert refs == sorted([tlp("green"), rel("NATO"), rel("IP4")])
    g = gate("red")
    for p in (FRA, JPN, AUS, principal("KOR-KISA", "KOR")):
        assert not sees(g, p, refs)
    # An organization both sources admit reads the product, as it reads each source.
    both = principal("JPN-NATO-LIAISON", "JPN", ("NATO",))
    g = gate("red", orgs=(FRA.org, JPN.org, AUS.org, HOME, both.org))
    assert sees(g, both, [rel("NATO")]) and sees(g, both, [tlp("green"), rel("IP4")])
    assert sees(g, both, refs)
    assert sees(g, ADMIN, refs)
    assert no_more_releasable(_summary(*refs), _summary(rel("NATO")))


def test_unknown_source_marking_cannot_be_expressed() -> None:
    with pytest.raises(ValueError, match="does not understand"):
        derived_refs([[UNKNOWN], [tlp("clear")]], MARKINGS, COMMUNITIES)


def test_communities_are_named_only_where_every_source_names_them() -> None:
    c = combine([_summary(rel("NATO")), _summary(rel("EU"))])
    # An organization may declare NATO and EU whatever its country: one REL TO listing the
    # countries in both would refuse it, one naming a community would admit others.
    assert rel_to_markings(c, COMMUNITIES) == [["EU"], ["NATO"]]
    fvey = combine([_summary(rel("NATO"), tlp("clear")), _summary(rel("IP4", "NATO"))])
    assert rel_to_markings(fvey, COMMUNITIES) == [["NATO"]]


def test_combine_exercises_union_and_unknown_spreads() -> None:
    c = combine([_summary(EXERCISE_X), _summary(EXERCISE_Y, tlp("clear"))])
    assert c.exercises == {"LOCKED-SHIELDS", "CYBER-COALITION"}
    assert marking_refs_for(c, COMMUNITIES) == sorted([tlp("clear"), EXERCISE_X, EXERCISE_Y])
    assert combine([_summary(UNKNOWN), _summary()]).unknown
    assert not no_more_releasable(_summary(), _summary(UNKNOWN))
    assert not no_more_releasable(_summary(EXERCISE_Y), _summary(EXERCISE_X))


def test_combined_markings_admit_no_one_a_source_denies() -> None:
    """The product's markings, read by the gate, admit a subset of each source's readers."""
    g = gate("red")
    people = [FRA, JPN, AUS, principal("USA-CERT", "USA"), principal("KOR-KISA", "KOR")]
    sources = [
        [tlp("green"), rel("JPN", "NATO")],
        [tlp("amber"), rel("IP4")],
        [rel("NATO")],
        [rel("EU"), STATEMENT],
        [],
        [tlp("clear")],
    ]
    for i, a in enumerate(sources):
        for b in sources[i:]:
            refs = derived_refs([a, b], MARKINGS, COMMUNITIES)
            product = combine([_summary(*a), _summary(*b)])
            extra: dict[str, Marking] = {
                rel(*codes): RelTo(frozenset(codes))
                for codes in rel_to_markings(product, COMMUNITIES)
            }
            g2 = g.with_markings(extra)
            back = summarize(refs, {**MARKINGS, **extra}, COMMUNITIES)
            assert no_more_releasable(back, _summary(*a)), (a, b)
            assert no_more_releasable(back, _summary(*b)), (a, b)
            for p in people:
                if sees(g2, p, refs):
                    assert sees(g, p, a) and sees(g, p, b), (a, b, p.org, refs)


@pytest.mark.parametrize("module", ["kizuna.policy.combine", "kizuna.policy.required"])
def test_doctests(module: str) -> None:
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0
