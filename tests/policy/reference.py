"""A reference model of docs/policy.md: small, slow and obviously correct.

It knows nothing of marking sets, SQL or caches. Given the whole state of a node (organizations,
communities, grants, marking-definitions, collections and every stored version) it says what a
principal may receive from a collection. The property-based tests compare the gate against it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

TLP_ORDER = ["clear", "green", "amber", "amber+strict", "red"]

REQUIRED_COMMON = {"type", "id", "spec_version", "created", "modified"}
REQUIRED = {
    "indicator": {"pattern", "pattern_type", "valid_from"},
    "malware": {"is_family"},
    "relationship": {"relationship_type", "source_ref", "target_ref"},
    "sighting": {"sighting_of_ref"},
    "note": {"content", "object_refs"},
    "opinion": {"opinion", "object_refs"},
    "report": {"name", "published", "object_refs"},
    "grouping": {"context", "object_refs"},
    "attack-pattern": {"name"},
    "intrusion-set": {"name"},
    "tool": {"name"},
    "campaign": {"name"},
    "identity": {"name"},
}


@dataclass
class MarkingDef:
    """What a marking-definition means: kind is tlp, relto, exercise, statement or unknown."""

    kind: str
    value: Any = None


@dataclass
class World:
    communities: dict[str, set[str]]
    orgs: dict[str, tuple[str, set[str]]]  # name -> (country, declared communities)
    grants: dict[tuple[str, str], tuple[bool, str]]  # (collection, org) -> (read, max_tlp)
    markings: dict[str, MarkingDef]
    collections: dict[str, str]  # id -> kind
    # collection -> list of stored versions (objects), in the order they were added
    stored: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: The organization that runs the node (its peers may receive TLP:AMBER+STRICT).
    home_org: str = ""


@dataclass(frozen=True)
class Who:
    org: str
    admin: bool = False
    #: A peer node's account: the onward-sharing rules apply.
    peer: bool = False


def codes_of(world: World, who: Who) -> set[str]:
    country, declared = world.orgs[who.org]
    out = {country} | set(declared)
    for name, members in world.communities.items():
        if country in members:
            out.add(name)
    return out


def can_read(world: World, who: Who, collection: str) -> bool:
    if who.admin:
        return True
    if world.collections[collection] == "definitions":
        return True
    grant = world.grants.get((collection, who.org))
    return bool(grant and grant[0])


def ceiling(world: World, who: Who, collection: str) -> int:
    if who.admin:
        return len(TLP_ORDER) - 1
    if world.collections[collection] == "definitions":
        return 0
    grant = world.grants.get((collection, who.org))
    if not grant or not grant[0]:
        return -1
    return TLP_ORDER.index(grant[1])


def admits(world: World, who: Who, collection: str, marking_id: str) -> bool:
    """Rule 2's table for one marking."""
    m = world.markings.get(marking_id)
    if m is None:
        return False
    if m.kind == "tlp":
        # Onward sharing: TLP:RED never leaves for another node, TLP:AMBER+STRICT only for a
        # node of this node's own organization.
        if who.peer and m.value == "red":
            return False
        if who.peer and m.value == "amber+strict" and who.org != world.home_org:
            return False
        return TLP_ORDER.index(m.value) <= ceiling(world, who, collection)
    if m.kind == "relto":
        return bool(set(m.value) & codes_of(world, who))
    if m.kind == "exercise":
        return world.collections[collection] == f"exercise:{m.value}"
    if m.kind == "statement":
        return True
    return False


def required(obj: dict[str, Any], prop: str) -> bool:
    return prop in REQUIRED_COMMON or prop in REQUIRED.get(obj["type"], set())


def visible(world: World, who: Who, collection: str, obj: dict[str, Any]) -> bool:
    """Rules 1, 2 and the required-field half of Rule 3."""
    if who.admin:
        return True
    if not can_read(world, who, collection):
        return False
    if not all(admits(world, who, collection, m) for m in obj.get("object_marking_refs", [])):
        return False
    for g in obj.get("granular_markings", []):
        denied = "marking_ref" in g and not admits(world, who, collection, g["marking_ref"])
        if denied and any(required(obj, s.split(".")[0]) for s in g["selectors"]):
            return False
    return True


def hidden_ids(world: World, who: Who) -> set[str]:
    """Rule 4: stored on the node, and no visible version in any readable collection."""
    stored = {o["id"] for objs in world.stored.values() for o in objs}
    seen = set()
    for cid, objs in world.stored.items():
        for o in objs:
            if visible(world, who, cid, o):
                seen.add(o["id"])
    return stored - seen


def view(world: World, who: Who, collection: str, obj: dict[str, Any]) -> dict[str, Any] | None:
    """The object as *who* may receive it from *collection*, or None."""
    if not visible(world, who, collection, obj):
        return None
    if who.admin:
        return obj
    out = copy.deepcopy(obj)
    # Rule 3: remove fields under granular markings that do not admit.
    kept = []
    for g in obj.get("granular_markings", []):
        if "marking_ref" in g and not admits(world, who, collection, g["marking_ref"]):
            for s in g["selectors"]:
                out.pop(s, None)  # the generated selectors are top-level properties
        else:
            kept.append(g)
    # Kept entries lose selectors that name a removed field; an entry left with none goes.
    kept = [{**g, "selectors": [s for s in g["selectors"] if s in out]} for g in kept]
    kept = [g for g in kept if g["selectors"]]
    if kept:
        out["granular_markings"] = kept
    else:
        out.pop("granular_markings", None)
    # Rule 4: references to hidden objects.
    hidden = hidden_ids(world, who)
    for key in list(out):
        value = out[key]
        if key.endswith("_ref") and isinstance(value, str) and value in hidden:
            if required(out, key):
                return None
            del out[key]
        elif key.endswith("_refs") and key != "object_marking_refs" and isinstance(value, list):
            left = [v for v in value if v not in hidden]
            if len(left) != len(value):
                if left:
                    out[key] = left
                elif required(out, key):
                    return None
                else:
                    del out[key]
    return out


def latest_views(world: World, who: Who, collection: str) -> dict[str, dict[str, Any]]:
    """For ``match[version]=last``: per id, the view of the latest version *who* may see."""
    best: dict[str, dict[str, Any]] = {}
    for obj in world.stored.get(collection, []):
        if not visible(world, who, collection, obj):
            continue
        current = best.get(obj["id"])
        if current is None or obj["modified"] > current["modified"]:
            best[obj["id"]] = obj
    out = {}
    for oid, obj in best.items():
        v = view(world, who, collection, obj)
        if v is not None:
            out[oid] = v
    return out
