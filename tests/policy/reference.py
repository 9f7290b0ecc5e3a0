"""A reference model of docs/policy.md: small, slow and obviously correct.

It knows nothing of marking sets, SQL, caches, byte scans or the gate's code. Given the whole
state of a node (organizations, communities, grants, marking-definitions, collections and
every stored version) it says what a principal may receive from a collection: Rules 1 to 5 as
docs/policy.md words them, computed the slow way (every decision from the whole world).

Hidden objects are computed as the document defines them: an object is hidden when the
principal may receive none of its versions in any collection it can read, and a version is
not received when its markings deny it or when it would lose a required reference to a hidden
object. That definition refers to itself; the model takes the least set of hidden ids that
satisfies it, by starting from the ids the markings hide and adding ids until nothing changes.
"""

from __future__ import annotations

import copy
import re
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

#: A place in an object: keys and list indexes from the top.
Place = tuple[Any, ...]


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


def parse_selector(selector: str) -> Place:
    return tuple(
        int(p[1:-1]) if p.startswith("[") and p.endswith("]") else p for p in selector.split(".")
    )


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
        if denied and any(required(obj, parse_selector(s)[0]) for s in g["selectors"]):
            return False
    return True


def _required_refs(obj: dict[str, Any]) -> list[list[str]]:
    """Per required reference property, the ids it names."""
    out = []
    for prop in sorted(REQUIRED.get(obj["type"], set())):
        if not (prop.endswith("_ref") or prop.endswith("_refs")) or prop not in obj:
            continue
        value = obj[prop]
        out.append([value] if isinstance(value, str) else list(value))
    return out


def loses_required_ref(obj: dict[str, Any], hidden: set[str]) -> bool:
    return any(ids and all(i in hidden for i in ids) for ids in _required_refs(obj))


def hidden_ids(world: World, who: Who) -> set[str]:
    """Rule 4's hidden objects: the least set such that an id is hidden exactly when every
    version of it in a readable collection is denied by its markings or loses a required
    reference to a hidden object."""
    stored = {o["id"] for objs in world.stored.values() for o in objs}
    hidden: set[str] = set()
    while True:
        received = {
            o["id"]
            for cid, objs in world.stored.items()
            for o in objs
            if visible(world, who, cid, o) and not loses_required_ref(o, hidden)
        }
        now = stored - received
        if now == hidden:
            return hidden
        hidden = now


def _names(value: Any, hidden: set[str]) -> bool:
    """Does *value* hold a hidden id anywhere (a string, an object's key, at any depth)?"""
    if isinstance(value, str):
        return value in hidden
    if isinstance(value, dict):
        return any(_names(k, hidden) or _names(v, hidden) for k, v in value.items())
    if isinstance(value, list):
        return any(_names(v, hidden) for v in value)
    return False


def _is_id(text: Any) -> bool:
    return isinstance(text, str) and ID_RE.fullmatch(text) is not None


def _ref_places(
    node: Any, place: Place, hidden: set[str], out: list[Place], otype: str, bare: bool = True
) -> None:
    """Places of references to hidden ids (markings are not references): ``_ref`` and
    ``_refs`` properties of any shape; elsewhere (while *bare*) a dictionary entry whose key
    or value is a hidden id and a list entry that is one, except in the object's own id and
    the text of its required properties, where only ``_ref`` and ``_refs`` properties
    refer."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("object_marking_refs", "granular_markings", "marking_ref"):
                continue
            if key.endswith("_refs") and isinstance(value, list):
                gone = [i for i, v in enumerate(value) if _names(v, hidden)]
                if gone and len(gone) == len(value):
                    out.append((*place, key))
                else:
                    out.extend((*place, key, i) for i in gone)
            elif key.endswith(("_ref", "_refs")):
                # Whatever its shape (a custom property may hold a list or an object).
                if _names(value, hidden):
                    out.append((*place, key))
            else:
                text = place == () and required({"type": otype}, key)  # "id" is required
                here = bare and not text
                if here and ((_is_id(key) and key in hidden) or (_is_id(value) and value in hidden)):
                    out.append((*place, key))
                else:
                    _ref_places(value, (*place, key), hidden, out, otype, here)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            if bare and _is_id(value) and value in hidden:
                out.append((*place, i))
            else:
                _ref_places(value, (*place, i), hidden, out, otype, bare)


def _rebuild(
    node: Any, place: Place, removed: set[Place], moved: dict[Place, Place], new: Place
) -> Any:
    """*node* without the removed places; *moved* maps each kept place to where it ends up."""
    moved[place] = new
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            if (*place, key) in removed:
                continue
            child = _rebuild(value, (*place, key), removed, moved, (*new, key))
            if isinstance(value, list) and value and not child:
                # A list emptied by removals goes (STIX has no empty lists).
                continue
            out[key] = child
        return out
    if isinstance(node, list):
        items = []
        for i, value in enumerate(node):
            if (*place, i) in removed:
                continue
            items.append(_rebuild(value, (*place, i), removed, moved, (*new, len(items))))
        return items
    return node


def _resolves(obj: Any, place: Place) -> bool:
    node = obj
    for step in place:
        if isinstance(step, int):
            if not isinstance(node, list) or step >= len(node):
                return False
        elif not isinstance(node, dict) or step not in node:
            return False
        node = node[step]
    return True


def _selector(place: Place) -> str:
    return ".".join(f"[{s}]" if isinstance(s, int) else s for s in place)


def view(
    world: World,
    who: Who,
    collection: str,
    obj: dict[str, Any],
    hidden: set[str] | None = None,
) -> dict[str, Any] | None:
    """The version *obj* as *who* may receive it from *collection*, or None (withheld)."""
    if not visible(world, who, collection, obj):
        return None
    if who.admin:
        return obj
    if hidden is None:
        hidden = hidden_ids(world, who)
    if loses_required_ref(obj, hidden):
        return None
    removed: set[Place] = set()
    kept = []
    # Rule 3: fields under granular markings that do not admit go, with their entries.
    for g in obj.get("granular_markings", []):
        if "marking_ref" in g and not admits(world, who, collection, g["marking_ref"]):
            removed.update(parse_selector(s) for s in g["selectors"])
        else:
            kept.append(g)
    # Rule 4: references to hidden objects go.
    places: list[Place] = []
    _ref_places(obj, (), hidden, places, obj["type"])
    removed.update(places)
    moved: dict[Place, Place] = {}
    out = _rebuild(copy.deepcopy(obj), (), removed, moved, ())
    # Kept entries keep marking what they marked: at its new place; gone when it is gone.
    entries = []
    for g in kept:
        selectors = []
        for s in g["selectors"]:
            place = parse_selector(s)
            if place in moved and _resolves(out, moved[place]):
                selectors.append(_selector(moved[place]))
        if selectors:
            entries.append({**g, "selectors": selectors})
    out.pop("granular_markings", None)
    if entries:
        out["granular_markings"] = entries
    return out


def received_versions(
    world: World, who: Who, collection: str, hidden: set[str] | None = None
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(stored version, its view) of every version *who* receives from *collection*."""
    if hidden is None:
        hidden = set() if who.admin else hidden_ids(world, who)
    out = []
    for obj in world.stored.get(collection, []):
        v = view(world, who, collection, obj, hidden)
        if v is not None:
            out.append((obj, v))
    return out


def picked_views(
    world: World, who: Who, collection: str, which: str = "last", hidden: set[str] | None = None
) -> dict[str, list[dict[str, Any]]]:
    """``match[version]`` (last, first or all): per id, the views of the versions *who*
    receives that it picks, among the received ones only (Rule 5)."""
    by_id: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = {}
    for obj, v in received_versions(world, who, collection, hidden):
        by_id.setdefault(obj["id"], []).append((obj, v))
    out: dict[str, list[dict[str, Any]]] = {}
    for oid, pairs in by_id.items():
        stamps = [o["modified"] for o, _ in pairs]
        if which == "all":
            out[oid] = [v for _, v in pairs]
            continue
        # Timestamps as written sort as instants here (one format, milliseconds, Z).
        target = max(stamps) if which == "last" else min(stamps)
        out[oid] = [v for o, v in pairs if o["modified"] == target]
    return out


def latest_views(world: World, who: Who, collection: str) -> dict[str, dict[str, Any]]:
    """For ``match[version]=last``: per id, the view of the latest version *who* receives."""
    return {oid: vs[-1] for oid, vs in picked_views(world, who, collection, "last").items()}


#: Identifiers and the planted tokens (see test_gate_property) in text.
ID_RE = re.compile(
    r"[a-z0-9][a-z0-9-]*--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
TOKEN_RE = re.compile(r"tok-[0-9a-f]{12}")
STAMP_RE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z")


def strings_in(value: Any) -> list[str]:
    """Every string of a JSON value (keys too), at any depth."""
    out: list[str] = []
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, dict):
            out.extend(node)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return out


def definitions_served(world: World, who: Who) -> set[str]:
    """Rule 7: the marking-definitions of the world served to *who* in kizuna-definitions
    (those whose id says all they mean, to whom they could admit)."""
    def admits_somewhere(m: MarkingDef) -> bool:
        if m.kind == "tlp":
            return True
        if m.kind == "relto":
            return bool(set(m.value) & codes_of(world, who))
        if m.kind == "exercise":
            return any(
                kind == f"exercise:{m.value}" and can_read(world, who, cid)
                for cid, kind in world.collections.items()
            )
        return False

    return {mid for mid, m in world.markings.items() if admits_somewhere(m)}
