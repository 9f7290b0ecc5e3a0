"""Which stored objects are hidden from a principal: the gate's question about references.

An object is **hidden** from a principal when it is stored on this node and the principal may
receive no version of it in any collection it can read (docs/policy.md, Rule 4). A version is
received when its markings admit the principal (the coarse gate, marking sets) and the fine
pass does not withhold it; the fine pass withholds a version whose required reference names
only hidden objects (a relationship whose target is hidden, a note all of whose objects are).
So "hidden" feeds on itself: a relationship to a relationship to a hidden indicator is
withheld, and so is the first relationship, and a note on it.

The answer is the least set of hidden ids that is consistent with the rules (a cycle of
relationships that otherwise admit the principal stays visible): start from the ids whose
markings hide every version, then add, until nothing changes, the ids whose every admitted
version names only hidden ids in one of its required references. Only objects of the types
with a required reference (``policy.required.WITHHOLDABLE_TYPES``) can be withheld, so for
every other id one lookup of where it is stored answers.

One :class:`Hidden` serves one read (a page, an export's page, a sync push's page): what it
learnt is kept for the read's later questions, and forgotten after, since writes go on.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

import msgspec

from kizuna.node._snapshot import Snapshot
from kizuna.policy import gate  # its withheld_by_refs: the rule lives there alone
from kizuna.policy.principal import Principal
from kizuna.policy.refs import required_slots
from kizuna.policy.required import WITHHOLDABLE_TYPES, type_of
from kizuna.store.sql import SqlStore
from kizuna.store.types import ObjectQuery, VersionMatch

#: How many versions one query of the versions of withholdable objects reads at a time.
_BATCH = 1000


class _Refs(msgspec.Struct):
    """The required references of a withholdable object (``policy.required``)."""

    type: str = ""
    source_ref: str | None = None
    target_ref: str | None = None
    sighting_of_ref: str | None = None
    object_refs: list[str] | None = None

    def as_object(self) -> dict[str, object]:
        return {k: v for k in self.__struct_fields__ if (v := getattr(self, k)) is not None}


_DECODE = msgspec.json.Decoder(_Refs)


def required_refs_of(body: bytes) -> dict[str, object]:
    """The type and required references of a stored object, from its bytes."""
    try:
        return _DECODE.decode(body).as_object()
    except msgspec.ValidationError:
        # A stored object whose reference properties are not strings (stored before
        # validation held them to it): read it whole.
        decoded = msgspec.json.decode(body)
        return decoded if isinstance(decoded, dict) else {}


class Hidden:
    """The hidden ids of one principal, learnt as a read asks (see the module's text)."""

    def __init__(self, store: SqlStore, snap: Snapshot, principal: Principal) -> None:
        self._store = store
        self._readable = snap.readable(principal)
        self._decided: dict[str, bool] = {}
        #: How many times the store was asked where ids are stored.
        self.lookups = 0

    def received(self, ids: Iterable[str]) -> None:
        """The principal receives a version of each of *ids*: known not hidden (ids of a type
        the fine pass may withhold are not taken on this word)."""
        for i in ids:
            if type_of(i) not in WITHHOLDABLE_TYPES:
                self._decided.setdefault(i, False)

    def __call__(self, ids: Collection[str]) -> set[str]:
        """Which of *ids* are hidden."""
        self.learn(ids)
        return {i for i in ids if self._decided[i]}

    def is_hidden(self, stix_id: str) -> bool:
        self.learn((stix_id,))
        return self._decided[stix_id]

    def withholds(self, obj: dict[str, object]) -> bool:
        """Does the fine pass withhold *obj* (a version whose markings admit the principal)
        for its required references? (*obj* needs only its type and those references.)"""
        return self.withheld([obj])[0]

    def withheld(self, objs: Sequence[dict[str, object]]) -> list[bool]:
        """:meth:`withholds` for each of *objs*, their references learnt in one go (one
        lookup for a page's relationships, not one per relationship)."""
        slots = [required_slots(obj) for obj in objs]
        self.learn({i for each in slots for slot in each for i in slot})
        return [
            bool(each)
            and gate.withheld_by_refs(obj, {i for slot in each for i in slot if self._decided[i]})
            for obj, each in zip(objs, slots, strict=True)
        ]

    def learn(self, ids: Iterable[str]) -> None:
        """Decide every id of *ids* not decided yet (and whatever that depends on)."""
        todo = {i for i in ids if i not in self._decided}
        if not todo:
            return
        # Withholdable ids with an admitted version: (their versions' required slots).
        pending: dict[str, list[list[tuple[str, ...]]]] = {}
        while todo:
            placed = self.placements(todo)
            known: set[str] = set()
            where: dict[str, set[str]] = {}  # collection -> ids admitted there
            for i, cid, mset in placed:
                known.add(i)
                sets = self._readable.get(cid)
                if cid in self._readable and (sets is None or mset in sets):
                    where.setdefault(cid, set()).add(i)
            admitted = set().union(*where.values()) if where else set()
            for i in todo:
                if i not in known:
                    self._decided[i] = False  # never stored here: the node cannot hide it
                elif i not in admitted:
                    self._decided[i] = True
                elif type_of(i) not in WITHHOLDABLE_TYPES:
                    self._decided[i] = False
                else:
                    pending[i] = []
            following: set[str] = set()
            for cid, found in where.items():
                withholdable = sorted(i for i in found if i in pending)
                for slots in self._slots(cid, withholdable):
                    pending[slots[0]].append(slots[1])
                    following.update(i for slot in slots[1] for i in slot)
            todo = {i for i in following if i not in self._decided and i not in pending}
        self._settle(pending)

    def placements(self, ids: Iterable[str]) -> set[tuple[str, str, int]]:
        """(id, collection, marking set) of every stored version of *ids*."""
        self.lookups += 1
        return self._store.id_placements(sorted(ids))

    def _slots(self, cid: str, ids: list[str]) -> Iterable[tuple[str, list[tuple[str, ...]]]]:
        """(id, required slots) of every version of *ids* admitted in collection *cid*."""
        sets = self._readable.get(cid)
        for start in range(0, len(ids), 500):
            chunk = tuple(ids[start : start + 500])
            after = None
            while True:
                rows = self._store.query(
                    ObjectQuery(
                        cid,
                        after_us=after,
                        ids=chunk,
                        versions=VersionMatch(all=True),
                        marking_sets=sets,
                        limit=_BATCH,
                    )
                )
                for row in rows:
                    yield row.stix_id, required_slots(required_refs_of(row.body))
                if len(rows) < _BATCH:
                    break
                after = rows[-1].added_us

    def _settle(self, pending: dict[str, list[list[tuple[str, ...]]]]) -> None:
        """Decide the withholdable ids of *pending*: hidden once every admitted version has a
        required slot naming only hidden ids, repeated until nothing changes (ids still
        undecided count as visible meanwhile, which gives the least hidden set)."""
        hidden: set[str] = set()

        def gone(i: str) -> bool:
            return i in hidden or self._decided.get(i, False)

        changed = True
        while changed:
            changed = False
            for i, versions in pending.items():
                if i in hidden:
                    continue
                if all(any(all(gone(r) for r in slot) for slot in v) for v in versions):
                    hidden.add(i)
                    changed = True
        for i in pending:
            self._decided[i] = i in hidden
