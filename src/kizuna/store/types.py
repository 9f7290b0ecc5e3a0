"""Values that cross the store interface: what goes in, what comes out, how to ask."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

__all__ = [
    "Collection",
    "Grant",
    "NewVersion",
    "ObjectQuery",
    "Org",
    "Outcome",
    "Peer",
    "StatusRow",
    "StoredVersion",
    "SyncCursor",
    "SyncRejection",
    "SyncRound",
    "User",
    "VersionBatch",
    "VersionMatch",
]


@dataclass(slots=True)
class NewVersion:
    """One validated object version, ready to store.

    Not frozen: one is made per object stored, and a frozen dataclass takes longer to make
    (``bench/post_cost.py``). Nothing changes it after it is made.
    """

    stix_id: str
    type: str
    version_us: int
    spec_version: str
    #: Canonical (sorted, unique) marking-definition ids that decide visibility.
    marking_refs: tuple[str, ...]
    needs_redaction: bool
    body: bytes
    #: The object *body* decodes to, when the writer has it already (ingest does): the
    #: store's index hooks read it instead of decoding the body again. Nothing changes it.
    parsed: Any = None


@dataclass(slots=True)
class VersionBatch:
    """Versions to store in one collection, as one ``Transaction.add_versions``; make one
    with ``SqlStore.version_batch``, which computes the id keys before the write lock.

    *visible* are the marking sets the writer may see (None: all).
    """

    collection_id: str
    items: Sequence[NewVersion]
    origin: str
    marking_definitions: Iterable[tuple[str, bytes]]
    visible: frozenset[int] | None
    #: Each item's id key (store/_keys.py), by id.
    keys: dict[str, int]
    #: Each item's keys in the value index (store/_values.py), when the store keeps one.
    values: list[Sequence[int]] | None = None
    #: Each item's text in the search index (store/_search.py), when the store keeps one.
    texts: list[str] | None = None


@dataclass(frozen=True, slots=True)
class StatusRow:
    """A TAXII status resource as the store keeps it: its body is the resource's JSON."""

    id: str
    collection_id: str
    principal: str
    body: bytes


class Outcome(Enum):
    STORED = "stored"
    DUPLICATE = "duplicate"


@dataclass(frozen=True, slots=True)
class StoredVersion:
    """A row of the ``versions`` table."""

    added_us: int
    collection_id: str
    stix_id: str
    type: str
    version_us: int
    spec_version: str
    marking_set: int
    needs_redaction: bool
    origin: str
    body: bytes


@dataclass(frozen=True, slots=True)
class VersionMatch:
    """TAXII ``match[version]``: any of first, last, all, or explicit timestamps."""

    first: bool = False
    last: bool = True
    all: bool = False
    at: tuple[int, ...] = ()
    #: Object types whose every version matches besides: the gate's read picks their first
    #: and last itself, among the versions the fine pass does not withhold (node/_read.py).
    every_version_of: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ObjectQuery:
    """What a TAXII read asks the store for; ``marking_sets`` is the gate's coarse filter.

    ``marking_sets=None`` means every version is visible (an administrator); an empty set
    means nothing is.
    """

    collection_id: str
    after_us: int | None = None
    types: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()
    spec_versions: tuple[str, ...] = ()
    versions: VersionMatch = field(default_factory=VersionMatch)
    marking_sets: frozenset[int] | None = None
    limit: int = 1000


@dataclass(frozen=True, slots=True)
class Collection:
    id: str
    title: str
    description: str
    alias: str | None
    default_markings: tuple[str, ...]
    kind: str
    #: A sighting, note or opinion more releasable than a source: "refuse" it, or "restrict"
    #: it to the combination of its markings and its sources' (docs/policy.md).
    derived: str = "refuse"


@dataclass(frozen=True, slots=True)
class Org:
    name: str
    country: str
    communities: tuple[str, ...]
    identity_id: str


@dataclass(frozen=True, slots=True)
class User:
    name: str
    org: str
    is_admin: bool
    is_peer: bool = False
    disabled: bool = False  # its token authenticates nothing (kizuna user disable)


@dataclass(frozen=True, slots=True)
class Grant:
    collection_id: str
    org: str
    can_read: bool
    can_write: bool
    max_tlp: str


@dataclass(frozen=True, slots=True)
class SyncCursor:
    """Where a pull or push between a local and a remote collection has got to."""

    peer: str
    direction: str  # "pull" or "push"
    local_collection: str
    remote_collection: str
    position: str


@dataclass(frozen=True, slots=True)
class Peer:
    name: str
    url: str
    org: str
    token: str
    pull: tuple[tuple[str, str], ...]  # (remote, local)
    push: tuple[tuple[str, str], ...]  # (local, remote)
    ca_file: str = ""


@dataclass(frozen=True, slots=True)
class SyncRound:
    """The last round of one sync link, as ``kizuna peer status`` shows it."""

    peer: str
    direction: str  # "pull" or "push"
    local_collection: str
    remote_collection: str
    started_us: int
    finished_us: int
    pages: int = 0
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    sent: int = 0
    refused: int = 0
    error: str | None = None
    stopped: str | None = None


@dataclass(frozen=True, slots=True)
class SyncRejection:
    """An object a pull rejected or a peer refused in a push, and why."""

    peer: str
    direction: str
    local_collection: str
    remote_collection: str
    at_us: int
    object_id: str | None
    reason: str
