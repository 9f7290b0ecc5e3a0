"""The one gate: may principal P see this object version, and which of its fields?

Every path by which data leaves the store asks this module. It answers at two grains:

* :meth:`Gate.visible_sets` -- the coarse answer, pushed into SQL: the ids of the marking sets
  whose versions the principal may see in a collection (``None`` for "all", an administrator).
* :meth:`Gate.release` -- the fine answer, per object: the object as the principal may receive
  it (fields under granular markings it may not see removed, references to objects hidden from
  it removed), or ``None`` when a required property would go and the object is withheld.

The rules are written in docs/policy.md; tests compare this module against a small reference
model of that document on generated cases. Deny by default: no grant, no read; an unknown
marking denies.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kizuna.policy.principal import Principal
from kizuna.policy.required import is_required
from kizuna.stix.markings import TLP_LEVELS, Exercise, Marking, RelTo, Statement, Tlp, Unknown

#: TLP ceiling of an administrator and of a collection grant that names none.
NO_ACCESS = "none"


@dataclass(frozen=True, slots=True)
class Access:
    """What a principal may do in one collection."""

    can_read: bool
    can_write: bool
    #: The most restrictive TLP level the principal may read here.
    max_tlp: str

    @property
    def tlp_rank(self) -> int:
        return TLP_LEVELS.index(self.max_tlp) if self.max_tlp in TLP_LEVELS else -1


DENIED = Access(can_read=False, can_write=False, max_tlp=NO_ACCESS)
FULL = Access(can_read=True, can_write=True, max_tlp="red")


@dataclass(frozen=True, slots=True)
class CollectionView:
    """The facts about a collection that the gate needs."""

    id: str
    kind: str  # "real" or "exercise:NAME"


class Gate:
    """The access policy of one node, over a snapshot of its markings, grants and communities."""

    def __init__(
        self,
        markings: Mapping[str, Marking],
        grants: Mapping[tuple[str, str], Access],
        *,
        home_org: str = "",
    ) -> None:
        self._markings = markings
        self._grants = grants
        #: The organization that runs this node (TLP:AMBER+STRICT may reach its peers only).
        self.home_org = home_org

    def with_markings(self, extra: Mapping[str, Marking]) -> Gate:
        """The same gate, knowing some more marking-definitions (e.g. those of a batch)."""
        if not extra:
            return self
        return Gate({**self._markings, **extra}, self._grants, home_org=self.home_org)

    # -- collections -------------------------------------------------------------------------

    def access(self, principal: Principal, collection_id: str) -> Access:
        """Read/write rights and TLP ceiling of *principal* in a collection."""
        if principal.is_admin:
            return FULL
        return self._grants.get((collection_id, principal.org), DENIED)

    # -- markings ------------------------------------------------------------------------------

    def marking(self, marking_id: str) -> Marking:
        return self._markings.get(marking_id) or Unknown(f"{marking_id} is not stored on this node")

    def marking_visible(
        self, principal: Principal, marking_id: str, access: Access, collection: CollectionView
    ) -> bool:
        """May *principal* see what *marking_id* marks, in this collection?"""
        m = self.marking(marking_id)
        if isinstance(m, Tlp):
            if principal.peer is not None and not self._onward(principal, m):
                return False
            return m.rank <= access.tlp_rank
        if isinstance(m, RelTo):
            return not m.codes.isdisjoint(principal.codes)
        if isinstance(m, Exercise):
            return collection.kind == f"exercise:{m.name}"
        if isinstance(m, Statement):
            return True
        return False

    def _onward(self, principal: Principal, m: Tlp) -> bool:
        """May an object of this TLP level go to another node at all (docs/policy.md)?"""
        if m.level == "red":
            return False
        if m.level == "amber+strict":
            return principal.org == self.home_org
        return True

    def set_visible(
        self,
        principal: Principal,
        refs: Iterable[str],
        access: Access,
        collection: CollectionView,
    ) -> bool:
        """May *principal* see an object whose visibility markings are *refs*?"""
        if principal.is_admin:
            return True
        if not access.can_read:
            return False
        return all(self.marking_visible(principal, r, access, collection) for r in refs)

    def explain(
        self,
        principal: Principal,
        refs: Iterable[str],
        collection: CollectionView,
    ) -> str | None:
        """Why *principal* may not see an object marked *refs* here; None when it may."""
        if principal.is_admin:
            return None
        access = self.access(principal, collection.id)
        if not access.can_read:
            return f"{principal.org} has no read grant on this collection"
        for ref in refs:
            if self.marking_visible(principal, ref, access, collection):
                continue
            m = self.marking(ref)
            if isinstance(m, Tlp):
                if principal.peer is not None and not self._onward(principal, m):
                    return f"TLP:{m.level.upper()} may not leave for another organization's node"
                return (
                    f"TLP:{m.level.upper()} is above {principal.org}'s ceiling ({access.max_tlp})"
                )
            if isinstance(m, RelTo):
                codes = ", ".join(sorted(m.codes))
                mine = ", ".join(sorted(principal.codes))
                return f"REL TO {codes}: {principal.org} ({mine}) is not among them"
            if isinstance(m, Exercise):
                return f"exercise {m.name} data stays in that exercise's collections"
            reason = m.reason if isinstance(m, Unknown) else "not understood"
            return f"marking {ref} denies by default ({reason})"
        return None

    def visible_sets(
        self,
        principal: Principal,
        collection: CollectionView,
        sets: Mapping[int, tuple[str, ...]],
    ) -> frozenset[int] | None:
        """The marking-set ids *principal* may see in *collection*; None means all of them."""
        if principal.is_admin:
            return None
        access = self.access(principal, collection.id)
        if not access.can_read:
            return frozenset()
        return frozenset(
            sid
            for sid, refs in sets.items()
            if self.set_visible(principal, refs, access, collection)
        )

    # -- the fine pass -------------------------------------------------------------------------

    def release(
        self,
        principal: Principal,
        collection: CollectionView,
        obj: dict[str, Any],
        hidden: Callable[[Collection[str]], Collection[str]],
    ) -> dict[str, Any] | None:
        """*obj* as *principal* may receive it, or None if it must be withheld.

        *obj* is modified in place and returned. *hidden* answers, for a batch of ids, which
        of them are objects stored on this node that the principal may not see.
        """
        if principal.is_admin:
            return obj
        access = self.access(principal, collection.id)
        otype = str(obj.get("type", ""))
        if not self.set_visible(
            principal, obj.get("object_marking_refs") or (), access, collection
        ):
            return None
        if not _redact_granular(self, principal, access, collection, obj, otype):
            return None
        refs = sorted(referenced_ids(obj))
        if refs:
            gone = set(hidden(refs))
            if gone and not _remove_refs(obj, otype, gone):
                return None
        return obj


def visibility_refs(obj: Mapping[str, Any]) -> tuple[str, ...]:
    """The markings that decide whether *obj* is visible at all (sorted, unique).

    Object-level markings, plus granular markings on a required property: if a principal may
    not see those, the object would lose a required property and is withheld, so the decision
    belongs in the coarse (SQL) filter.
    """
    refs = set(_str_list(obj.get("object_marking_refs")))
    otype = str(obj.get("type", ""))
    for entry in obj.get("granular_markings") or ():
        if not isinstance(entry, dict) or not isinstance(entry.get("marking_ref"), str):
            continue
        for selector in entry.get("selectors") or ():
            if isinstance(selector, str) and is_required(otype, selector.split(".", 1)[0]):
                refs.add(entry["marking_ref"])
    return tuple(sorted(refs))


def needs_redaction(obj: Mapping[str, Any], body: bytes | None = None) -> bool:
    """True when :meth:`Gate.release` may change *obj* for some principal.

    With the object's JSON *body*, most objects are answered from the bytes: no ``_ref`` in
    them but those of ``object_marking_refs`` means no references (a \\u escape could spell a
    key, so any escape takes the full test). A top-level property holding a reference
    answers without walking nested properties.
    """
    if body is not None and _plain(body):
        refs = body.count(b"_ref")
        if refs == 0 or refs == body.count(b"object_marking_refs"):
            return False  # every "_ref" in the bytes is an object_marking_refs
    if obj.get("granular_markings"):
        return True
    for key, value in obj.items():
        if key in _NOT_REFS:
            continue
        if key.endswith("_ref") and isinstance(value, str):
            return True
        if (
            key.endswith("_refs")
            and isinstance(value, list)
            and any(isinstance(v, str) for v in value)
        ):
            return True
    return bool(referenced_ids(obj))


def identifiers_in(body: bytes) -> set[str]:
    """Every STIX identifier written as a JSON string in *body*: a superset of its references.

    An identifier behind a \\u escape is missed; :func:`releases_unchanged` refuses such
    bodies, so the gate then parses the object and asks for it.
    """
    return {m.decode() for m in _ID.findall(body)}


def releases_unchanged(body: bytes, any_hidden: bool) -> bool:
    """True when :meth:`Gate.release` would return the object of *body* as it is.

    For an object that passed the coarse gate (its object markings are visible): without
    granular markings, without escapes, and with none of :func:`identifiers_in` hidden from
    the principal (*any_hidden* False), nothing is removed or withheld, so it can go out as
    stored without being parsed.
    """
    return _plain(body) and not any_hidden


def _plain(body: bytes) -> bool:
    """No granular markings, and no escape that could spell a key or an identifier."""
    return b"granular_markings" not in body and b"\\u" not in body


#: A STIX identifier as a JSON string: "type--UUID".
_ID = re.compile(
    rb'"([a-z0-9][a-z0-9-]*--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-'
    rb'[0-9a-fA-F]{12})"'
)


# -- helpers ---------------------------------------------------------------------------------

_NOT_REFS = frozenset({"object_marking_refs", "marking_ref"})


def _str_list(value: object) -> list[str]:
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def referenced_ids(obj: Any) -> set[str]:
    """Ids in ``*_ref`` and ``*_refs`` properties, at any depth (markings excluded)."""
    found: set[str] = set()
    stack: list[Any] = [obj]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if key in _NOT_REFS or key == "granular_markings":
                    continue
                if key.endswith("_ref") and isinstance(value, str):
                    found.add(value)
                elif key.endswith("_refs") and isinstance(value, list):
                    found.update(v for v in value if isinstance(v, str))
                elif isinstance(value, dict | list):
                    stack.append(value)
        elif isinstance(node, list):
            stack.extend(v for v in node if isinstance(v, dict | list))
    return found


def _remove_refs(obj: dict[str, Any], otype: str, gone: set[str]) -> bool:
    """Remove references to *gone* ids; False when a required reference would go."""

    def walk(node: Any, top: bool) -> bool:
        if isinstance(node, dict):
            for key in list(node):
                value = node[key]
                if key in _NOT_REFS or key == "granular_markings":
                    continue
                required = top and is_required(otype, key)
                if key.endswith("_ref") and isinstance(value, str):
                    if value in gone:
                        if required:
                            return False
                        del node[key]
                elif key.endswith("_refs") and isinstance(value, list):
                    kept = [v for v in value if v not in gone]
                    if len(kept) != len(value):
                        if kept:
                            node[key] = kept
                        elif required:
                            return False
                        else:
                            del node[key]
                elif isinstance(value, dict | list) and not walk(value, False):
                    return False
        elif isinstance(node, list):
            return all(walk(v, False) for v in node if isinstance(v, dict | list))
        return True

    return walk(obj, True)


_REMOVED = object()


def _redact_granular(
    gate: Gate,
    principal: Principal,
    access: Access,
    collection: CollectionView,
    obj: dict[str, Any],
    otype: str,
) -> bool:
    """Remove fields under granular markings the principal may not see; False to withhold."""
    entries = obj.get("granular_markings")
    if not entries:
        return True
    kept_entries = []
    removals: list[str] = []
    for entry in entries:
        ref = entry.get("marking_ref") if isinstance(entry, dict) else None
        if not isinstance(ref, str) or gate.marking_visible(principal, ref, access, collection):
            kept_entries.append(entry)
            continue
        for selector in entry.get("selectors") or ():
            if not isinstance(selector, str):
                return False
            if is_required(otype, selector.split(".", 1)[0]):
                return False
            removals.append(selector)
    for selector in removals:
        _mark_removed(obj, selector)
    # Kept entries follow the list entries they mark (removing [0] makes [1] the new [0]).
    kept_entries = [_reindexed(obj, e) for e in kept_entries] if removals else kept_entries
    _sweep(obj)
    # Entries whose selectors now point at removed fields go too.
    remaining = [e for e in kept_entries if _selectors_resolve(obj, e)]
    if remaining:
        obj["granular_markings"] = remaining
    else:
        obj.pop("granular_markings", None)
    return True


def _steps(selector: str) -> list[str | int]:
    steps: list[str | int] = []
    for part in selector.split("."):
        if part.startswith("[") and part.endswith("]") and part[1:-1].isdigit():
            steps.append(int(part[1:-1]))
        else:
            steps.append(part)
    return steps


def _mark_removed(obj: Any, selector: str) -> None:
    steps = _steps(selector)
    node = obj
    for step in steps[:-1]:
        node = _child(node, step)
        if node is None:
            return
    last = steps[-1]
    if isinstance(last, int):
        if isinstance(node, list) and last < len(node):
            node[last] = _REMOVED
    elif isinstance(node, dict) and last in node:
        node[last] = _REMOVED


def _reindexed(obj: Any, entry: Any) -> Any:
    """*entry* with its selectors' list indexes as they will be once removed items are swept.

    A selector through a removed item is dropped (the entry goes if none is left).
    """
    if not isinstance(entry, dict):
        return entry
    selectors = []
    for selector in entry.get("selectors") or ():
        node = obj
        parts: list[str] = []
        for step in _steps(str(selector)):
            child = _child(node, step)
            if child is None or child is _REMOVED:
                break
            if isinstance(step, int):
                shift = sum(1 for v in node[:step] if v is _REMOVED)
                parts.append(f"[{step - shift}]")
            else:
                parts.append(step)
            node = child
        else:
            selectors.append(".".join(parts))
    return {**entry, "selectors": selectors}


def _child(node: Any, step: str | int) -> Any:
    if isinstance(step, int):
        return node[step] if isinstance(node, list) and step < len(node) else None
    return node.get(step) if isinstance(node, dict) else None


def _sweep(node: Any) -> None:
    if isinstance(node, dict):
        for key in [k for k, v in node.items() if v is _REMOVED]:
            del node[key]
        for value in node.values():
            _sweep(value)
    elif isinstance(node, list):
        node[:] = [v for v in node if v is not _REMOVED]
        for value in node:
            _sweep(value)


def _selectors_resolve(obj: Any, entry: Any) -> bool:
    if not isinstance(entry, dict) or not entry.get("selectors"):
        return False
    for selector in entry.get("selectors") or ():
        node = obj
        for step in _steps(str(selector)):
            node = _child(node, step)
            if node is None:
                return False
    return True
