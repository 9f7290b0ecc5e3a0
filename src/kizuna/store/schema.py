"""The tables of a node's database, as SQLAlchemy Core metadata shared by both adapters.

``versions`` is the heart: one row per stored object version, ordered by ``added_us``, a
node-wide, strictly increasing microsecond timestamp assigned under the write lock. It is the
TAXII ``date_added`` and the paging cursor at once, so pages never skip or repeat a row even
while writers are busy. ``marking_set`` names the canonical set of markings that decides the
version's visibility, which lets the access gate filter in SQL with ``IN (...)``.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

__all__ = [
    "collections",
    "ended_sessions",
    "grants",
    "id_index",
    "marking_definitions",
    "marking_sets",
    "metadata",
    "orgs",
    "peers",
    "settings",
    "statuses",
    "sync_cursors",
    "sync_rejections",
    "sync_rounds",
    "users",
    "value_index",
    "value_index_1",
    "value_index_recent",
    "versions",
]

metadata = MetaData()

collections = Table(
    "collections",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("title", Text, nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("alias", String(200), nullable=True, unique=True),
    # JSON list of marking-definition ids stamped on objects that arrive without markings.
    Column("default_markings", Text, nullable=False, default="[]"),
    # "real" or "exercise:<NAME>": exercise collections never mix with real-world data.
    Column("kind", String(200), nullable=False, default="real"),
    Column("created_us", BigInteger, nullable=False),
    # "refuse" or "restrict": a derived product more releasable than a source (policy.md).
    Column("derived", String(20), nullable=False, default="refuse"),
    # Moves (+1) in the transaction of every write to the collection's versions: a store,
    # a deletion, a change of their redaction flag (StoreBase._changed).
    Column("changes", BigInteger, nullable=False, default=0),
)

orgs = Table(
    "orgs",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("country", String(3), nullable=False),
    Column("communities", Text, nullable=False, default="[]"),
    Column("identity_id", String(100), nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("org", String(200), ForeignKey("orgs.name"), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("is_admin", Boolean, nullable=False, default=False),
    # True for the account a peer node uses here: onward-sharing rules apply to it.
    Column("is_peer", Boolean, nullable=False, default=False),
    Column("created_us", BigInteger, nullable=False),
)

#: The UI sessions signed out before their cookie expires, until it has (and a margin): every
#: process of a node refuses their cookies (web/_sessions.py).
ended_sessions = Table(
    "ended_sessions",
    metadata,
    Column("sid", String(64), primary_key=True),
    Column("expires", BigInteger, nullable=False),  # Unix seconds: forgotten after
    Index("ix_ended_sessions_expires", "expires"),
)

grants = Table(
    "grants",
    metadata,
    Column("collection_id", String(64), ForeignKey("collections.id"), primary_key=True),
    Column("org", String(200), ForeignKey("orgs.name"), primary_key=True),
    Column("can_read", Boolean, nullable=False),
    Column("can_write", Boolean, nullable=False),
    Column("max_tlp", String(20), nullable=False),
)

marking_definitions = Table(
    "marking_definitions",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("body", LargeBinary, nullable=False),
)

marking_sets = Table(
    "marking_sets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # The sorted marking-definition ids joined by ","; "" is the unmarked set.
    Column("key", Text, nullable=False, unique=True),
)

versions = Table(
    "versions",
    metadata,
    # On SQLite an INTEGER PRIMARY KEY is the rowid itself: one B-tree less per insert.
    Column(
        "added_us",
        BigInteger().with_variant(Integer, "sqlite"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("collection_id", String(64), nullable=False),
    Column("stix_id", String(300), nullable=False),
    Column("type", String(250), nullable=False),
    Column("version_us", BigInteger, nullable=False),
    Column("spec_version", String(10), nullable=False),
    Column("marking_set", Integer, nullable=False),
    # True when the object carries granular markings or references that need the gate's
    # field-level pass before it leaves the node.
    Column("needs_redaction", Boolean, nullable=False),
    # Where this version came from: "user:NAME", "peer:NAME", "file:NAME", "computed:WHAT".
    Column("origin", Text, nullable=False),
    # stix_id as a 64-bit hash (store/_keys.py): what the id index holds instead of the id.
    # Before the body: reading the recent versions' keys (store/_recent.py) reads each row
    # only up to here.
    Column("id_key", BigInteger, nullable=False),
    Column("body", LargeBinary, nullable=False),
    # One row per version and marking set (a writer's copy of a version that exists only
    # under markings hidden from it is kept beside that one): SqlStore.add_versions checks
    # that under the write lock, as a key may be shared by two ids.
    #
    # Paging in added_us order; marking_set in the index lets the gate's IN (...) filter skip
    # hidden rows without reading them.
    Index("ix_versions_collection_added_set", "collection_id", "added_us", "marking_set"),
    # A page of a principal who may see few of a collection's versions: the first rows of
    # each visible set, merged (store/_set_rows.py), instead of a walk past the hidden ones.
    Index("ix_versions_collection_set_added", "collection_id", "marking_set", "added_us"),
    # match[type] pages: a sparse type is found without scanning the collection.
    Index("ix_versions_collection_type_added", "collection_id", "type", "added_us"),
    # PostgreSQL's id index: an index of the versions (it has no tables ordered by their key,
    # so a table of its own costs a heap and an index: POSTs 0.8x). SQLite's is id_index.
    Index("ix_versions_key", "id_key", "version_us", "marking_set").ddl_if(dialect="postgresql"),
)

# SQLite's id index: every read by id (match[id], an object's versions, the gate's
# hidden-reference lookups, a POST's duplicate check) finds its versions' added_us here, and
# match[version]'s "is there a newer (older) version" is answered from its entries. A table of
# its own rather than an index of versions, so that SQLite can enter fresh versions later, many
# at once (store/_recent.py); its entries are small (about 30 bytes: four integers), so that few
# pages change per merge and it stays in the page cache at a million objects. PostgreSQL enters
# every version as it is stored, in ix_versions_key, and has no such table.
id_index = Table(
    "id_index",
    metadata,
    Column("id_key", BigInteger, primary_key=True, autoincrement=False),
    Column("version_us", BigInteger, primary_key=True, autoincrement=False),
    Column("marking_set", Integer, primary_key=True, autoincrement=False),
    Column("added_us", BigInteger, primary_key=True, autoincrement=False),
    sqlite_with_rowid=False,
)

# The value index (store/_values.py, kizuna.cyber): an observable value's 64-bit key -> the
# versions that carry it; one entry per value and version, never one per pair of objects.
# Entered in the transaction that stores the version; about 25 bytes an entry on SQLite.
# Three levels of one index: entries enter value_index_recent, in the order they were
# stored (a batch's entries go on its last pages; read by scanning it, it is small), and
# move on to the larger levels, ordered by key, in sorted batches (value_index is the last,
# the largest). Stores made before 2026-12-07 have a level 0 ordered by key instead
# (value_index_0): its entries move into level 1 when they open.
def _value_level(name: str, *, by_key: bool = True) -> Table:
    key = Column("value_key", BigInteger, primary_key=True, autoincrement=False)
    added = Column("added_us", BigInteger, primary_key=True, autoincrement=False)
    columns = (key, added) if by_key else (added, key)
    return Table(name, metadata, *columns, sqlite_with_rowid=False)


value_index_recent = _value_level("value_index_recent", by_key=False)
value_index_1 = _value_level("value_index_1")
value_index = _value_level("value_index")

statuses = Table(
    "statuses",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("collection_id", String(64), nullable=False),
    Column("principal", String(200), nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("body", LargeBinary, nullable=False),
    # Statuses past the node's status_retention_days are deleted by age.
    Index("ix_statuses_created", "created_us"),
)

peers = Table(
    "peers",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("url", Text, nullable=False),
    Column("org", String(200), ForeignKey("orgs.name"), nullable=False),
    # The token this node presents to the peer (the peer's user for us).
    Column("token", Text, nullable=False),
    # JSON lists of [remote, local] (pull) and [local, remote] (push) collection pairs.
    Column("pull", Text, nullable=False, default="[]"),
    Column("push", Text, nullable=False, default="[]"),
    # PEM file of the CA (or self-signed certificate) that verifies the peer's TLS certificate.
    Column("ca_file", Text, nullable=False, default=""),
    Column("created_us", BigInteger, nullable=False),
)

sync_cursors = Table(
    "sync_cursors",
    metadata,
    Column("peer", String(200), primary_key=True),
    Column("direction", String(4), primary_key=True),  # "pull" or "push"
    Column("local_collection", String(64), primary_key=True),
    Column("remote_collection", String(200), primary_key=True),
    # pull: the remote's date_added of the last version stored here (a TAXII timestamp);
    # push: the local added_us of the last version the peer confirmed.
    Column("position", Text, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
)

# The last round of each sync link (kizuna peer status): what it did and how it ended.
sync_rounds = Table(
    "sync_rounds",
    metadata,
    Column("peer", String(200), primary_key=True),
    Column("direction", String(4), primary_key=True),
    Column("local_collection", String(200), primary_key=True),
    Column("remote_collection", String(200), primary_key=True),
    Column("started_us", BigInteger, nullable=False),
    Column("finished_us", BigInteger, nullable=False),
    Column("pages", Integer, nullable=False),
    Column("received", Integer, nullable=False),
    Column("stored", Integer, nullable=False),
    Column("duplicates", Integer, nullable=False),
    Column("rejected", Integer, nullable=False),
    Column("sent", Integer, nullable=False),
    Column("refused", Integer, nullable=False),
    Column("error", Text, nullable=True),
    Column("stopped", Text, nullable=True),
)

# Objects a sync rejected (pull) or the peer refused (push), with the reason; the newest
# ones per peer are kept (store/_sync_log.py).
sync_rejections = Table(
    "sync_rejections",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("peer", String(200), nullable=False),
    Column("direction", String(4), nullable=False),
    Column("local_collection", String(200), nullable=False),
    Column("remote_collection", String(200), nullable=False),
    Column("at_us", BigInteger, nullable=False),
    Column("object_id", Text, nullable=True),
    Column("reason", Text, nullable=False),
    Index("ix_sync_rejections_peer", "peer", "seq"),
)

settings = Table(
    "settings",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("value", Text, nullable=False),
)
