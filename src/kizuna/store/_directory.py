"""The node's directory tables: collections, organizations, users, grants, peers, cursors, statuses."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    Connection,
    and_,
    delete,
    insert,
    inspect,
    or_,
    select,
    update,
)

from kizuna.stix.timestamps import now_micros
from kizuna.store import schema as t
from kizuna.store._base import StoreBase
from kizuna.store.types import (
    Collection,
    Grant,
    Org,
    Peer,
    SyncCursor,
    User,
)

#: Starts the token hash of a disabled user: no SHA-256 hex digest does.
DISABLED = "!"


class Directory(StoreBase):
    """Everything in the store that is not an object version."""

    # -- collections -------------------------------------------------------------------------

    def add_collection(self, c: Collection, grants: Sequence[Grant] = ()) -> None:
        """Store a collection and its first *grants*, in one transaction."""
        with self._writing() as conn:
            conn.execute(
                insert(t.collections).values(
                    id=c.id,
                    title=c.title,
                    description=c.description,
                    alias=c.alias,
                    default_markings=json.dumps(list(c.default_markings)),
                    kind=c.kind,
                    created_us=now_micros(),
                    derived=c.derived,
                )
            )
            for g in grants:
                conn.execute(insert(t.grants).values(**_grant_row(g)))
            self._bump(conn)

    def _add_collection_columns(self, conn: Connection) -> None:
        """Give a collections table made before a column its column (create_all skips
        tables that exist)."""
        have = {c["name"] for c in inspect(conn).get_columns("collections")}
        if "derived" not in have:
            conn.exec_driver_sql(
                "ALTER TABLE collections ADD COLUMN derived VARCHAR(20) NOT NULL DEFAULT 'refuse'"
            )
        if "changes" not in have:
            conn.exec_driver_sql(
                "ALTER TABLE collections ADD COLUMN changes BIGINT NOT NULL DEFAULT 0"
            )

    def changes(self, collection_id: str) -> tuple[int, int]:
        """The change counter of a collection and the sum of every collection's: the first
        moves in the transaction of each write to the collection's versions, the second on
        each write to any collection's (collections are never deleted, so it only grows).

        Read in one query of the small collections table, on any process of the node: a
        cache of what a reader sees of a collection keyed by them is stale by no write.
        (0, sum) for an unknown collection.
        """
        with self._read.connect() as conn:
            rows = self._query(
                conn,
                "SELECT (SELECT changes FROM collections WHERE id = ?), "
                "(SELECT coalesce(sum(changes), 0) FROM collections)",
                (collection_id,),
            )
        own, every = rows[0]
        return int(own or 0), int(every or 0)

    def set_collection_defaults(self, collection_id: str, markings: Sequence[str]) -> None:
        with self._writing() as conn:
            conn.execute(
                update(t.collections)
                .where(t.collections.c.id == collection_id)
                .values(default_markings=json.dumps(list(markings)))
            )
            self._bump(conn)

    def collections(self) -> list[Collection]:
        with self._read.connect() as conn:
            rows = conn.execute(select(t.collections).order_by(t.collections.c.created_us)).all()
        return [_collection(r._mapping) for r in rows]

    # -- organizations, users, grants ----------------------------------------------------------

    def add_org(self, org: Org) -> None:
        with self._writing() as conn:
            conn.execute(
                insert(t.orgs).values(
                    name=org.name,
                    country=org.country,
                    communities=json.dumps(list(org.communities)),
                    identity_id=org.identity_id,
                )
            )
            self._bump(conn)

    def org(self, name: str) -> Org | None:
        with self._read.connect() as conn:
            row = conn.execute(select(t.orgs).where(t.orgs.c.name == name)).first()
        return None if row is None else _org(row._mapping)

    def orgs(self) -> list[Org]:
        with self._read.connect() as conn:
            rows = conn.execute(select(t.orgs).order_by(t.orgs.c.name)).all()
        return [_org(r._mapping) for r in rows]

    def add_user(
        self, name: str, org: str, token_hash: str, *, is_admin: bool = False, is_peer: bool = False
    ) -> None:
        with self._writing() as conn:
            conn.execute(
                insert(t.users).values(
                    name=name,
                    org=org,
                    token_hash=token_hash,
                    is_admin=is_admin,
                    is_peer=is_peer,
                    created_us=now_micros(),
                )
            )
            self._bump(conn)  # the policy snapshot caches users (authentication)

    def users_by_token_hash(self) -> dict[str, User]:
        """Every enabled user, by the hash of its API token."""
        with self._read.connect() as conn:
            rows = conn.execute(select(t.users)).all()
        return {
            r._mapping["token_hash"]: _user(r._mapping)
            for r in rows
            if not r._mapping["token_hash"].startswith(DISABLED)
        }

    def set_token_hash(self, name: str, token_hash: str) -> bool:
        """Give user *name* a new token (its hash), enabled; False if there is no such user.

        The old token stops working; a disabled user is enabled again with the new one.
        """
        with self._writing() as conn:
            changed = conn.execute(
                update(t.users).where(t.users.c.name == name).values(token_hash=token_hash)
            ).rowcount
            if changed:
                self._bump(conn)
        return bool(changed)

    def disable_user(self, name: str) -> bool:
        """Destroy user *name*'s token; False if there is no such user or it was disabled.

        The hash is replaced by :data:`DISABLED` and random characters (no SHA-256 hex digest
        starts with it), so no token authenticates as the user until
        :meth:`set_token_hash` gives it a new one.
        """
        with self._writing() as conn:
            row = conn.execute(select(t.users.c.token_hash).where(t.users.c.name == name)).first()
            if row is None or row[0].startswith(DISABLED):
                return False
            value = DISABLED + secrets.token_hex(32)[: len(row[0]) - len(DISABLED)]
            conn.execute(update(t.users).where(t.users.c.name == name).values(token_hash=value))
            self._bump(conn)
        return True

    def user(self, name: str) -> User | None:
        with self._read.connect() as conn:
            row = conn.execute(select(t.users).where(t.users.c.name == name)).first()
        return None if row is None else _user(row._mapping)

    def users(self) -> list[User]:
        with self._read.connect() as conn:
            rows = conn.execute(select(t.users).order_by(t.users.c.name)).all()
        return [_user(r._mapping) for r in rows]

    def set_grant(self, g: Grant) -> None:
        with self._writing() as conn:
            conn.execute(
                delete(t.grants).where(
                    and_(t.grants.c.collection_id == g.collection_id, t.grants.c.org == g.org)
                )
            )
            conn.execute(insert(t.grants).values(**_grant_row(g)))
            self._bump(conn)

    def delete_grant(self, collection_id: str, org: str) -> bool:
        """Remove *org*'s grant on a collection; False if it held none."""
        g = t.grants.c
        with self._writing() as conn:
            gone = conn.execute(
                delete(t.grants).where(and_(g.collection_id == collection_id, g.org == org))
            ).rowcount
            if gone:
                self._bump(conn)
        return bool(gone)

    def grants(self) -> list[Grant]:
        with self._read.connect() as conn:
            rows = conn.execute(
                select(t.grants).order_by(t.grants.c.collection_id, t.grants.c.org)
            ).all()
        return [_grant(r._mapping) for r in rows]

    # -- ended UI sessions ---------------------------------------------------------------------

    def end_session(self, sid: str, keep_until: int) -> None:
        """Record that the UI session *sid* has ended, to refuse its cookie in every process
        until *keep_until* (Unix seconds); those kept past their time go in the same
        transaction, so the table holds only sessions whose cookies could still be shown."""
        e = t.ended_sessions.c
        with self._writing() as conn:
            conn.execute(
                delete(t.ended_sessions).where(
                    or_(e.expires < int(time.time()), e.sid == sid)
                )
            )
            conn.execute(insert(t.ended_sessions).values(sid=sid, expires=keep_until))

    def session_ended(self, sid: str) -> bool:
        """Has the UI session *sid* ended (signed out)? One lookup of the table's key."""
        with self._read.connect() as conn:
            return bool(self._query(conn, "SELECT 1 FROM ended_sessions WHERE sid = ?", (sid,)))

    def holds_ended_sessions(self) -> bool:
        """Does the database have the table of ended sessions? (A read-only node over a
        database made before it cannot make it.)"""
        with self._read.connect() as conn:
            return inspect(conn).has_table("ended_sessions")

    # -- peers and sync cursors ---------------------------------------------------------------

    def add_peer(self, peer: Peer) -> None:
        with self._writing() as conn:
            conn.execute(delete(t.peers).where(t.peers.c.name == peer.name))
            conn.execute(
                insert(t.peers).values(
                    name=peer.name,
                    url=peer.url,
                    org=peer.org,
                    token=peer.token,
                    pull=json.dumps([list(p) for p in peer.pull]),
                    push=json.dumps([list(p) for p in peer.push]),
                    ca_file=peer.ca_file,
                    created_us=now_micros(),
                )
            )

    def remove_peer(self, name: str) -> bool:
        """Forget peer *name*, its sync cursors and what its rounds recorded, in one
        transaction; False if unknown."""
        with self._writing() as conn:
            gone = conn.execute(delete(t.peers).where(t.peers.c.name == name)).rowcount
            for table in (t.sync_cursors, t.sync_rounds, t.sync_rejections):
                conn.execute(delete(table).where(table.c.peer == name))
        return bool(gone)

    def peers(self) -> list[Peer]:
        with self._read.connect() as conn:
            rows = conn.execute(select(t.peers).order_by(t.peers.c.name)).all()
        return [
            Peer(
                name=m["name"],
                url=m["url"],
                org=m["org"],
                token=m["token"],
                pull=tuple((a, b) for a, b in json.loads(m["pull"])),
                push=tuple((a, b) for a, b in json.loads(m["push"])),
                ca_file=m["ca_file"],
            )
            for m in (r._mapping for r in rows)
        ]

    def cursor(self, peer: str, direction: str, local: str, remote: str) -> str | None:
        c = t.sync_cursors.c
        with self._read.connect() as conn:
            return conn.execute(
                select(c.position).where(
                    c.peer == peer,
                    c.direction == direction,
                    c.local_collection == local,
                    c.remote_collection == remote,
                )
            ).scalar()

    def set_cursor(self, cursor: SyncCursor) -> None:
        with self._writing() as conn:
            self._set_cursor(conn, cursor)

    def _set_cursor(self, conn: Connection, cur: SyncCursor) -> None:
        c = t.sync_cursors.c
        conn.execute(
            delete(t.sync_cursors).where(
                c.peer == cur.peer,
                c.direction == cur.direction,
                c.local_collection == cur.local_collection,
                c.remote_collection == cur.remote_collection,
            )
        )
        conn.execute(
            insert(t.sync_cursors).values(
                peer=cur.peer,
                direction=cur.direction,
                local_collection=cur.local_collection,
                remote_collection=cur.remote_collection,
                position=cur.position,
                updated_us=now_micros(),
            )
        )

    # -- status resources ----------------------------------------------------------------------

    def put_status(self, status_id: str, collection_id: str, principal: str, body: bytes) -> None:
        with self._writing() as conn:
            self._insert_status(conn, status_id, collection_id, principal, body)

    def _insert_status(
        self, conn: Connection, status_id: str, collection_id: str, principal: str, body: bytes
    ) -> None:
        self._query(
            conn,
            "INSERT INTO statuses (id, collection_id, principal, created_us, body) "
            "VALUES (?, ?, ?, ?, ?)",
            (status_id, collection_id, principal, now_micros(), body),
        )

    def prune_statuses(self, before_us: int, batch: int = 10_000) -> int:
        """Delete the status resources made before *before_us*; how many went.

        In transactions of *batch* statuses, so that a long backlog (the first pruning of a
        node that kept them all) holds the write lock for short spells only.
        """
        s = t.statuses.c
        gone = 0
        while True:
            oldest = select(s.id).where(s.created_us < before_us).limit(batch).scalar_subquery()
            with self._writing() as conn:
                count = int(conn.execute(delete(t.statuses).where(s.id.in_(oldest))).rowcount)
            gone += count
            if count < batch:
                return gone

    def status(self, status_id: str) -> tuple[str, str, bytes] | None:
        with self._read.connect() as conn:
            row = conn.execute(
                select(t.statuses.c.collection_id, t.statuses.c.principal, t.statuses.c.body).where(
                    t.statuses.c.id == status_id
                )
            ).first()
        return None if row is None else (row[0], row[1], bytes(row[2]))


def _collection(m: Any) -> Collection:
    return Collection(
        id=m["id"],
        title=m["title"],
        description=m["description"],
        alias=m["alias"],
        default_markings=tuple(json.loads(m["default_markings"])),
        kind=m["kind"],
        derived=m["derived"],
    )


def _user(m: Any) -> User:
    return User(
        name=m["name"],
        org=m["org"],
        is_admin=bool(m["is_admin"]),
        is_peer=bool(m["is_peer"]),
        disabled=m["token_hash"].startswith(DISABLED),
    )


def _org(m: Any) -> Org:
    return Org(
        name=m["name"],
        country=m["country"],
        communities=tuple(json.loads(m["communities"])),
        identity_id=m["identity_id"],
    )


def _grant_row(g: Grant) -> dict[str, Any]:
    return {
        "collection_id": g.collection_id,
        "org": g.org,
        "can_read": g.can_read,
        "can_write": g.can_write,
        "max_tlp": g.max_tlp,
    }


def _grant(m: Any) -> Grant:
    return Grant(
        collection_id=m["collection_id"],
        org=m["org"],
        can_read=bool(m["can_read"]),
        can_write=bool(m["can_write"]),
        max_tlp=m["max_tlp"],
    )


