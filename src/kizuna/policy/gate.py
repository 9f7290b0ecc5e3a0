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

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kizuna.policy._redact import (
    mark_removed,
    ref_removals,
    reindexed,
    resolving,
    steps,
    sweep,
)
from kizuna.policy.principal import Principal
from kizuna.policy.refs import Path, referenced_ids, required_slots
from kizuna.policy.required import is_required
from kizuna.stix.markings import (
    TLP_LEVELS,
    Exercise,
    Marking,
    RelTo,
    Statement,
    Tlp,
    Unknown,
    meaning_is_public,
)

__all__ = ["DENIED", "FULL", "NO_ACCESS", "Access", "CollectionView", "Gate", "withheld_by_refs"]

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

    def definition_visible(
        self, principal: Principal, marking_id: str, readable: Iterable[CollectionView]
    ) -> bool:
        """May *principal* receive the definition of *marking_id* from the definitions
        collection, having read access to the *readable* collections (docs/policy.md, Rule 7)?

        A definition whose id says all it means (``stix.markings.meaning_is_public``: TLP,
        REL TO and exercise markings with derived ids) goes to every principal it could
        admit somewhere: any TLP level, a REL TO naming one of its codes, an exercise whose
        collection it reads. Any other (a statement) is read where it was posted, under its
        own markings, and not here: its text could say what the principal may not learn.
        """
        if principal.is_admin:
            return True
        m = self.marking(marking_id)
        if not meaning_is_public(marking_id, m):
            return False
        if isinstance(m, RelTo):
            return not m.codes.isdisjoint(principal.codes)
        if isinstance(m, Exercise):
            return any(c.kind == f"exercise:{m.name}" for c in readable)
        return isinstance(m, Tlp)

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
        of them are objects stored on this node that the principal may not receive (hidden
        by their markings, or withheld by this pass: ``node/_hidden.py``).
        """
        if principal.is_admin:
            return obj
        access = self.access(principal, collection.id)
        if not self.set_visible(
            principal, obj.get("object_marking_refs") or (), access, collection
        ):
            return None
        otype = str(obj.get("type", ""))
        granular = _granular_removals(self, principal, access, collection, obj, otype)
        if granular is None:
            return None
        kept, removals = granular
        refs = referenced_ids(obj)
        if refs:
            gone = set(hidden(sorted(refs)))
            if gone:
                if withheld_by_refs(obj, gone):
                    return None
                removals += ref_removals(obj, gone)
        if removals:
            for path in removals:
                mark_removed(obj, path)
            # Kept entries follow the list entries they mark (removing [0] makes [1] the new
            # [0]); a selector through a removed place goes.
            kept = [reindexed(obj, e) for e in kept]
            sweep(obj)
        if "granular_markings" in obj:
            # Selectors that now point at nothing go, and entries left with none.
            remaining = [e for e in (resolving(obj, e) for e in kept) if e is not None]
            if remaining:
                obj["granular_markings"] = remaining
            else:
                del obj["granular_markings"]
        return obj


def withheld_by_refs(obj: dict[str, Any], gone: Collection[str]) -> bool:
    """Would *obj* lose a required reference, every id it names being in *gone*?"""
    return any(all(i in gone for i in slot) for slot in required_slots(obj))


# -- helpers ---------------------------------------------------------------------------------


def _granular_removals(
    gate: Gate,
    principal: Principal,
    access: Access,
    collection: CollectionView,
    obj: dict[str, Any],
    otype: str,
) -> tuple[list[Any], list[Path]] | None:
    """The granular-marking entries that stay, and the places of the fields the others mark;
    None to withhold (a required property would go)."""
    entries = obj.get("granular_markings")
    if not entries:
        return [], []
    kept_entries = []
    removals: list[Path] = []
    for entry in entries:
        ref = entry.get("marking_ref") if isinstance(entry, dict) else None
        if not isinstance(ref, str) or gate.marking_visible(principal, ref, access, collection):
            kept_entries.append(entry)
            continue
        for selector in entry.get("selectors") or ():
            if not isinstance(selector, str):
                return None
            if is_required(otype, selector.split(".", 1)[0]):
                return None
            removals.append(steps(selector))
    return kept_entries, removals
