"""Generated worlds for the gate's property test: a node's whole state, as tests/policy/reference
sees it, and the node that holds it.

Objects of every shape the gate decides on: indicators (a type the fine pass never withholds)
whose versions' markings get stricter and looser, with identifiers among their labels and
as an external id; custom objects with custom ``_ref`` and ``_refs`` properties (of any
shape: a ``_ref`` holding a list or an object, a ``_refs`` holding objects and lists),
dictionaries keyed by identifiers and custom lists holding them, at the top, in lists of objects and under deep nesting (up to 400 levels of
lists, as stored before ingest limited depth); relationships, notes, opinions and sightings whose
references point at any object (relationships at relationships, cycles, ids never stored), so
that the fine pass withholds some and hides them in turn; granular markings on fields, on list
entries and on references; versions of one object in several collections, added out of order,
and a version stored twice under different markings.

Every string a version carries that could leak is planted so that a scan finds it: field values
are ``tok-`` and twelve hex digits, unique per version; timestamps are unique per version; ids
are STIX ids. The property test checks that what a principal receives holds only those of
what it may receive.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
from hypothesis import strategies as st

from kizuna.node import Node, hash_token, name_problem, new_token
from kizuna.policy.refs import needs_redaction, visibility_refs
from kizuna.stix.markings import TLP2_IDS, exercise_marking, releasability_marking
from kizuna.stix.timestamps import to_micros
from kizuna.store.types import Collection, Grant, NewVersion
from tests.policy import reference as ref

COUNTRIES = ["FRA", "DEU", "USA", "JPN", "AUS", "KOR"]
CODESETS = [("NATO",), ("JPN",), ("JPN", "NATO"), ("IP4",), ("AUS", "FRA"), ("EU",), ("KOR",)]
UNKNOWN = "marking-definition--0d2b59a2-5c16-4c52-b4a6-3b1a7d2a0b11"
STATEMENT = "marking-definition--fa42a846-8d90-4e51-bc29-71d5b4802168"
MISSING = "marking-definition--5b0b8ac5-7e40-4b1e-8a8e-6f6a0c5c9f01"  # referenced, never stored
MARKINGS: dict[str, dict[str, Any]] = {}
MODEL: dict[str, ref.MarkingDef] = {}
for _level, _mid in TLP2_IDS.items():
    MARKINGS[_mid] = {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": _mid,
        "created": "2022-10-01T00:00:00.000Z",
        "name": f"TLP:{_level.upper()}",
        "extensions": {
            "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d": {
                "extension_type": "property-extension",
                "tlp_2_0": _level,
            }
        },
    }
    MODEL[_mid] = ref.MarkingDef("tlp", _level)
for _codes in CODESETS:
    _m = releasability_marking(_codes)
    MARKINGS[_m["id"]] = _m
    MODEL[_m["id"]] = ref.MarkingDef("relto", list(_codes))
for _name in ("EXA", "EXB"):
    _m = exercise_marking(_name)
    MARKINGS[_m["id"]] = _m
    MODEL[_m["id"]] = ref.MarkingDef("exercise", _name)
MARKINGS[STATEMENT] = {
    "type": "marking-definition",
    "spec_version": "2.1",
    "id": STATEMENT,
    "created": "2017-06-01T00:00:00.000Z",
    "definition_type": "statement",
    "definition": {"statement": "Copyright MITRE"},
}
MODEL[STATEMENT] = ref.MarkingDef("statement", None)
MARKINGS[UNKNOWN] = {
    "type": "marking-definition",
    "spec_version": "2.1",
    "id": UNKNOWN,
    "created": "2020-01-01T00:00:00.000Z",
    "definition_type": "x-custom",
    "definition": {"level": "secret-ish"},
}
MODEL[UNKNOWN] = ref.MarkingDef("unknown", None)
MARKING_IDS = [*sorted(MARKINGS), MISSING]
COLLECTIONS = {"c-real": "real", "c-other": "real", "c-ex": "exercise:EXA"}
ORGS = ["org-a", "org-b", "org-c"]
#: Ids no version is stored under: references to them stay (the node cannot know them).
ABSENT = [f"indicator--{uuid.UUID(int=9_000_000 + i)}" for i in range(2)]

#: Object kinds, and the granular-marking selectors each may carry (required ones withhold).
SELECTORS = {
    "indicator": [
        "description",
        "name",
        "labels.[0]",
        "labels.[1]",
        "pattern",
        "external_references.[0].url",
        "external_references.[1]",
    ],
    "x-thing": [
        "name",
        "x_related_refs.[0]",
        "x_related_refs.[1]",
        "x_links.[0].note",
        "x_links.[1]",
        "x_target_ref",
        "x_tags.[0]",
        "x_tags.[1]",
    ],
    "relationship": ["description", "created_by_ref", "target_ref"],
    "note": ["content", "abstract"],
    "opinion": ["explanation"],
    "sighting": [
        "description",
        "where_sighted_refs.[0]",
        "where_sighted_refs.[1]",
        "observed_data_refs",
    ],
}
KINDS = list(SELECTORS)
#: Two entries of one list, each under its own granular marking: when the first goes (its
#: marking hidden, or its ref withheld), the second's selector must move down with it (Rule 3).
#: Drawn on purpose, because two independent draws rarely make this shape.
ENTRY_PAIRS = {
    "indicator": [("labels.[0]", "labels.[1]")],
    "x-thing": [("x_related_refs.[0]", "x_related_refs.[1]"), ("x_tags.[0]", "x_tags.[1]")],
    "sighting": [("where_sighted_refs.[0]", "where_sighted_refs.[1]")],
}

marking_lists = st.lists(st.sampled_from(MARKING_IDS), max_size=2, unique=True)


class Planter:
    """Unique tokens and timestamps for one world."""

    def __init__(self) -> None:
        self.n = 0
        self.base = datetime(2025, 1, 1, tzinfo=UTC)

    def token(self) -> str:
        self.n += 1
        return f"tok-{self.n:012x}"

    def stamp(self) -> str:
        self.n += 1
        t = self.base + timedelta(seconds=self.n * 7, milliseconds=self.n % 997)
        return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def _deep(depth: int, leaf: dict[str, Any]) -> Any:
    value: Any = leaf
    for _ in range(depth):
        value = [value]
    return value


@st.composite
def _version(
    draw: st.DrawFn,
    kind: str,
    oid: str,
    created: str,
    modified: str,
    ids: list[str],
    planter: Planter,
) -> dict[str, Any]:
    anyid = st.sampled_from(ids + ABSENT)
    obj: dict[str, Any] = {
        "type": kind,
        "spec_version": "2.1",
        "id": oid,
        "created": created,
        "modified": modified,
    }
    if kind == "indicator":
        obj.update(
            name=planter.token(),
            description=planter.token(),
            pattern="[domain-name:value = 'evil.example']",
            pattern_type="stix",
            valid_from=created,
            labels=[planter.token(), planter.token()],
            external_references=[
                {"source_name": planter.token(), "url": f"https://x.example/{planter.token()}"},
                {"source_name": planter.token(), "external_id": planter.token()},
            ],
        )
        # Identifiers where STIX defines no reference: a list entry, a dictionary's value.
        if draw(st.integers(0, 2)) == 0:
            obj["labels"][draw(st.integers(0, 1))] = draw(anyid)
        if draw(st.integers(0, 2)) == 0:
            obj["external_references"][1]["external_id"] = draw(anyid)
    elif kind == "x-thing":
        obj["name"] = planter.token()
        if draw(st.booleans()):
            obj["x_target_ref"] = draw(anyid)
        obj["x_related_refs"] = draw(st.lists(anyid, min_size=1, max_size=3, unique=True))
        obj["x_links"] = [
            {"x_peer_ref": draw(anyid), "note": planter.token()},
            {"x_peer_ref": draw(anyid), "x_more_refs": [draw(anyid)]},
        ]
        # Custom references of other shapes (validation leaves custom properties to their
        # producer): a _ref holding a list or an object, a _refs holding objects and lists.
        shape = draw(st.sampled_from(["", "list", "object", "entries"]))
        if shape == "list":
            obj["x_shaped_ref"] = [draw(anyid)]
        elif shape == "object":
            obj["x_shaped_ref"] = {"id": draw(anyid), "note": planter.token()}
        elif shape == "entries":
            obj["x_shaped_refs"] = [{"id": draw(anyid)}, [draw(anyid)], draw(anyid)]
        # Identifiers as a dictionary's keys (a map from objects to values) and as entries of
        # a custom list that is not a _refs.
        keys = draw(st.lists(anyid, min_size=0, max_size=2, unique=True))
        if keys:
            obj["x_scores"] = {k: planter.token() for k in keys}
            if draw(st.booleans()):
                obj["x_scores"][keys[0]] = {"by": draw(anyid), "v": planter.token()}
        if draw(st.booleans()):
            obj["x_tags"] = draw(st.permutations([planter.token(), draw(anyid)]))
        depth = draw(st.sampled_from([0, 0, 3, 40, 400]))
        if depth:
            obj["x_deep"] = _deep(depth, {"x_ref": draw(anyid), "v": planter.token()})
    elif kind == "relationship":
        obj.update(
            relationship_type="related-to",
            source_ref=draw(anyid),
            target_ref=draw(anyid),
            description=planter.token(),
        )
        if draw(st.booleans()):
            obj["created_by_ref"] = draw(anyid)
    elif kind in ("note", "opinion"):
        obj["object_refs"] = draw(st.lists(anyid, min_size=1, max_size=3, unique=True))
        if kind == "note":
            obj.update(content=planter.token(), abstract=planter.token())
        else:
            obj.update(opinion="agree", explanation=planter.token())
    else:  # sighting
        obj.update(
            sighting_of_ref=draw(anyid),
            where_sighted_refs=draw(st.lists(anyid, min_size=1, max_size=2, unique=True)),
            observed_data_refs=draw(st.lists(anyid, min_size=1, max_size=2, unique=True)),
            description=planter.token(),
        )
    markings = draw(marking_lists)
    if markings:
        obj["object_marking_refs"] = markings
    granular = draw(st.integers(0, 5))
    pairs = ENTRY_PAIRS.get(kind)
    if granular == 0 and pairs:
        # Two entries of one list, each under its own marking (never merged into one entry).
        obj["granular_markings"] = [
            {"marking_ref": draw(st.sampled_from(MARKING_IDS)), "selectors": [s]}
            for s in draw(st.sampled_from(pairs))
        ]
    elif granular <= 1:
        selectors = draw(
            st.lists(st.sampled_from(SELECTORS[kind]), min_size=1, max_size=2, unique=True)
        )
        obj["granular_markings"] = [
            {"marking_ref": draw(st.sampled_from(MARKING_IDS)), "selectors": [s]} for s in selectors
        ]
        if draw(st.booleans()):
            # One entry that marks two places at once.
            obj["granular_markings"][0]["selectors"] = selectors
    if "x_scores" in obj and draw(st.integers(0, 2)) == 0:
        # A granular marking on one entry of the map: it goes with the entry.
        key = draw(st.sampled_from(sorted(obj["x_scores"])))
        obj.setdefault("granular_markings", []).append(
            {"marking_ref": draw(st.sampled_from(MARKING_IDS)), "selectors": [f"x_scores.{key}"]}
        )
    return obj


@st.composite
def worlds(draw: st.DrawFn) -> ref.World:
    communities = {
        "NATO": set(draw(st.sets(st.sampled_from(["FRA", "DEU", "USA", "KOR"]), min_size=1))),
        "IP4": set(draw(st.sets(st.sampled_from(["JPN", "AUS", "KOR"]), min_size=1))),
        "EU": {"FRA", "DEU"},
    }
    orgs = {
        name: (
            draw(st.sampled_from(COUNTRIES)),
            set(draw(st.sets(st.sampled_from(["NATO", "IP4"]), max_size=1))),
        )
        for name in ORGS
    }
    grants: dict[tuple[str, str], tuple[bool, str]] = {}
    for cid in COLLECTIONS:
        for org in ORGS:
            if draw(st.integers(0, 3)):
                grants[(cid, org)] = (
                    draw(st.integers(0, 4)) > 0,
                    draw(st.sampled_from(ref.TLP_ORDER)),
                )
    world = ref.World(communities, orgs, grants, dict(MODEL), dict(COLLECTIONS), home_org=ORGS[0])
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=3, max_size=10))
    ids = [f"{kind}--{uuid.UUID(int=i + 1)}" for i, kind in enumerate(kinds)]
    planter = Planter()
    stored: dict[str, list[dict[str, Any]]] = {cid: [] for cid in COLLECTIONS}
    home = draw(st.sampled_from(sorted(COLLECTIONS)))
    for oid, kind in zip(ids, kinds, strict=True):
        created = planter.stamp()
        stamps = [created] + [planter.stamp() for _ in range(draw(st.integers(0, 2)))]
        for modified in stamps:
            obj = draw(_version(kind, oid, created, modified, ids, planter))
            cid = home if draw(st.integers(0, 3)) else draw(st.sampled_from(sorted(COLLECTIONS)))
            stored[cid].append(obj)
            if draw(st.integers(0, 9)) == 0:
                # The same version again, under other markings (a writer's own copy).
                twin = json.loads(json.dumps(obj))
                twin["object_marking_refs"] = draw(marking_lists) or [TLP2_IDS["green"]]
                if visibility_refs(twin) != visibility_refs(obj):
                    stored[cid].append(twin)
    for cid in stored:
        # Versions are added in any order (a peer's older version arrives later).
        order = draw(st.permutations(range(len(stored[cid]))))
        stored[cid] = [stored[cid][i] for i in order]
    world.stored = stored
    return world


#: User names that look like other principals' names and keys ({peer}: the sync peer's name).
ADVERSARIAL = ["peer:{peer}", "user:{peer}", "peer:peer:{peer}", "admin ", "user-{org}"]


@st.composite
def accounts(draw: st.DrawFn) -> dict[str, Any]:
    """Who reads: a user per organization, a peer account (``user add --peer``) and the sync
    peer, with names that collide with each other's names and keys where a draw says."""
    peer = draw(st.sampled_from(["aus", "org-b", "x"]))
    names = [draw(st.sampled_from(ADVERSARIAL)).format(peer=peer, org=org) for org in ORGS]
    if len(set(names)) < len(names):
        names = [f"user-{org}" for org in ORGS]
    peer_user = draw(st.sampled_from(["peer:{peer}", "{peer}", "peer-account"])).format(peer=peer)
    if peer_user in names:
        peer_user = "peer-account"
    return {
        "names": names,
        "peer_user": peer_user,
        "peer_org": draw(st.sampled_from(ORGS)),
        "sync_name": peer,
        "sync_org": draw(st.sampled_from(ORGS)),
    }


def _account(node: Node, username: str, org: str, *, peer: bool = False) -> str:
    """The token of a new account *username*. Through the store, as a database made before
    names were checked may hold it: ``Node.add_user`` refuses the names of :data:`ADVERSARIAL`
    (a colon, a space at the end), and the gate must hold for those it holds all the same."""
    if name_problem("user", username) is None:
        return node.add_user(username, org, peer=peer)
    token = new_token()
    node.store.add_user(username, org, hash_token(token), is_peer=peer)
    return token


def build_node(
    root: Path, world: ref.World, acc: dict[str, Any]
) -> tuple[Node, dict[str, tuple[str, ref.Who]]]:
    """A node run by the world's home organization holding the world, with the *acc* accounts
    (see :func:`accounts`) and a configured sync peer. Returns the node and, per user name,
    its token and who it is for the reference model."""
    home = world.home_org
    country, declared = world.orgs[home]
    node, _ = Node.init(
        root / uuid.uuid4().hex, name="n", org=home, country=country, communities=sorted(declared)
    )
    node.store.set_setting(
        "communities", json.dumps({k: sorted(v) for k, v in world.communities.items()})
    )
    node.store.put_marking_definitions(
        [(mid, msgspec.json.encode(body)) for mid, body in MARKINGS.items()]
    )
    for name, (country, declared) in world.orgs.items():
        if name != home:
            node.add_org(name, country, sorted(declared))
    users: dict[str, tuple[str, ref.Who]] = {}
    for name, username in zip(world.orgs, acc["names"], strict=True):
        users[username] = (_account(node, username, name), ref.Who(name))
    peer_org = acc["peer_org"]
    users[acc["peer_user"]] = (
        _account(node, acc["peer_user"], peer_org, peer=True),
        ref.Who(peer_org, peer=True),
    )
    for cid, kind in COLLECTIONS.items():
        node.store.add_collection(Collection(cid, cid, "", None, (), kind))
    node.add_peer(
        acc["sync_name"],
        "http://peer.invalid",
        org=acc["sync_org"],
        token="t",
        push=[(cid, cid) for cid in COLLECTIONS],
    )
    for (cid, org), (read, tlp) in world.grants.items():
        node.store.set_grant(Grant(cid, org, read, False, tlp))
    for cid, objs in world.stored.items():
        items = [
            NewVersion(
                o["id"],
                o["type"],
                to_micros(o["modified"]),
                "2.1",
                visibility_refs(o),
                needs_redaction(o),
                msgspec.json.encode(o),
            )
            for o in objs
        ]
        # A version is a duplicate only under the same marking set (twins are stored).
        node.store.add_versions(cid, items, "test", visible=frozenset())
    return node, users
