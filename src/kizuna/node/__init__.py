"""A Kizuna node: its directory, settings, database, principals and the policy snapshot.

``Node`` is the service layer every adapter uses (the TAXII API, the CLI, sync, the UI):
operators' actions (organizations, users, collections, grants) and authentication. Data enters
and leaves through the functions exported here, and only through them:

- :func:`ingest` validates and stores objects as a principal (returns :class:`ObjectResult`);
  it is :func:`check_batch` (every pass but the store's, giving a :class:`Batch`) then
  :func:`store_batch` in a store transaction, which a caller may hold itself to commit more
  with the objects (a TAXII status);
- :func:`read_page` reads a page through the access gate (returns a :class:`Page` of
  :class:`Released` versions);
- :meth:`Node.snapshot` takes the policy :class:`Snapshot` both of them are given;
- :func:`read_bundle` reads the objects of a bundle file, as :func:`ingest` takes them;
  :class:`BundleFile` reads them incrementally (a large file, or a gzip bomb);
  :func:`split_objects` finds the objects of a large envelope a mebibyte at a time.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import shutil
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import msgspec

from kizuna import config as config_mod
from kizuna.config import NodeConfig
from kizuna.cyber.values import body_keys
from kizuna.errors import BadRequest, ConfigError, NotFound
from kizuna.node._batch import ObjectResult
from kizuna.node._definitions import marking_ids_in, referenced_definitions
from kizuna.node._definitions import publish as publish_markings
from kizuna.node._files import BundleFile, read_bundle
from kizuna.node._ingest import Batch, check_batch, ingest, store_batch
from kizuna.node._marking_rules import check_marking_definition
from kizuna.node._read import Page, Released, read_page
from kizuna.node._snapshot import COMMUNITIES_SETTING, Snapshot, load_snapshot, make_principal
from kizuna.node._split import split_objects
from kizuna.policy.communities import DEFAULT_COMMUNITIES
from kizuna.policy.countries import is_country
from kizuna.policy.derived import DERIVED_MODES, REFUSE
from kizuna.policy.principal import Kind, Principal
from kizuna.stix.extensions import extension_definitions
from kizuna.stix.ids import derived_id
from kizuna.stix.markings import (
    EXERCISE_EXTENSION,
    builtin_markings,
    exercise_marking,
    releasability_marking,
    tlp_level,
)
from kizuna.stix.timestamps import format_micros, now_micros, to_micros
from kizuna.store.adapters import open_store
from kizuna.store.sql import SqlStore
from kizuna.store.types import Collection, Grant, NewVersion, Org, Peer, User

__all__ = [
    "Batch",
    "BundleFile",
    "Node",
    "ObjectResult",
    "Page",
    "Released",
    "Snapshot",
    "check_batch",
    "ingest",
    "marking_ids_in",
    "read_bundle",
    "read_page",
    "referenced_definitions",
    "split_objects",
    "store_batch",
]

log = logging.getLogger(__name__)

DEFINITIONS_ALIAS = "kizuna-definitions"

#: The TLP ceiling of the grant a new collection gives the node's own organization: TLP 2.0's
#: AMBER+STRICT is "the organization only", so its analysts read everything up to it; TLP:RED
#: is for named recipients, never a whole organization (docs/operators.md).
HOME_MAX_TLP = "amber+strict"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


class Node:
    """One node: open it with :meth:`open`, create one with :meth:`init`."""

    def __init__(self, directory: Path, config: NodeConfig, store: SqlStore) -> None:
        self.directory = directory
        self.config = config
        self.store = store
        self._snapshot: Snapshot | None = None
        self._snapshot_lock = threading.Lock()

    # -- lifecycle ---------------------------------------------------------------------------

    @classmethod
    def open(
        cls, directory: Path | str, database: str | None = None, *, read_only: bool = False
    ) -> Node:
        """The node in *directory*; *read_only*: its database is opened for reading only
        (every write is refused by the database itself: ``kizuna serve --read-only``)."""
        directory = Path(directory)
        cfg = config_mod.load(directory)
        store = open_store(
            database or cfg.database_url(directory),
            sqlite_synchronous=cfg.sqlite_synchronous,
            sqlite_checkpoint_mib=cfg.sqlite_checkpoint_mib,
            read_only=read_only,
        )
        store.value_keys = body_keys if cfg.value_index else None
        if not read_only:
            store.create_schema()
        return cls(directory, cfg, store)

    @classmethod
    def init(
        cls,
        directory: Path | str,
        *,
        name: str,
        org: str,
        country: str,
        communities: list[str] | None = None,
        database: str = "",
    ) -> tuple[Node, str]:
        """Create a node in *directory*; returns the node and the admin's API token."""
        directory = Path(directory)
        if (directory / config_mod.CONFIG_NAME).exists():
            raise ConfigError(f"{directory} already holds a Kizuna node")
        country = _country(country)
        if directory.exists() and not directory.is_dir():
            raise ConfigError(f"{directory} exists and is not a directory")
        existed = directory.exists()
        before = set(directory.iterdir()) if existed else set()
        directory.mkdir(parents=True, exist_ok=True)
        store: SqlStore | None = None
        try:
            cfg = NodeConfig(
                name=name,
                org=org,
                country=country,
                communities=[c.upper() for c in communities or []],
                identity_id=derived_id("identity", f"org:{org}"),
                secret=config_mod.new_secret(),
                database=database,
            )
            config_mod.save(directory, cfg)
            store = open_store(
                cfg.database_url(directory),
                sqlite_synchronous=cfg.sqlite_synchronous,
                sqlite_checkpoint_mib=cfg.sqlite_checkpoint_mib,
            )
            store.value_keys = body_keys if cfg.value_index else None
            store.create_schema()
            node = cls(directory, cfg, store)
            store.set_setting(
                COMMUNITIES_SETTING,
                json.dumps({k: list(v) for k, v in DEFAULT_COMMUNITIES.items()}),
            )
            store.set_setting("identity", json.dumps(node.identity()))
            node.add_org(org, country, cfg.communities)
            token = node.add_user("admin", org, admin=True)
            node._install_definitions()
        except BaseException:
            # A failed init leaves nothing behind: a retry starts afresh.
            if store is not None:
                store.close()
            _remove_new(directory, existed, before)
            raise
        return node, token

    def close(self) -> None:
        self.store.close()

    def identity(self) -> dict[str, Any]:
        """The STIX identity of the node's organization."""
        return {
            "type": "identity",
            "spec_version": "2.1",
            "id": self.config.identity_id,
            "created": "2026-01-01T00:00:00.000Z",
            "modified": "2026-01-01T00:00:00.000Z",
            "name": self.config.org,
            "identity_class": "organization",
            "sectors": ["government-national"],
            "x_kizuna_country": self.config.country,
            "x_kizuna_node": self.config.name,
        }

    def _install_definitions(self) -> None:
        """A read-only collection with Kizuna's extension-definitions and the TLP markings."""
        cid = str(uuid.uuid5(uuid.NAMESPACE_URL, "kizuna:definitions"))
        self.store.add_collection(
            Collection(
                id=cid,
                title="Kizuna definitions",
                description="Extension-definitions and marking-definitions every Kizuna node serves.",
                alias=DEFINITIONS_ALIAS,
                default_markings=(),
                kind="definitions",
            )
        )
        objs = builtin_markings() + extension_definitions()
        items = []
        mds = []
        for obj in objs:
            body = msgspec.json.encode(obj)
            if obj["type"] == "marking-definition":
                mds.append((obj["id"], body))
            items.append(
                NewVersion(
                    stix_id=obj["id"],
                    type=obj["type"],
                    version_us=to_micros(obj.get("modified", obj["created"])),
                    spec_version="2.1",
                    marking_refs=(),
                    needs_redaction=False,
                    body=body,
                )
            )
        self.store.add_versions(cid, items, "computed:kizuna", marking_definitions=mds)

    def warm(self) -> None:
        """Read now what the first request would otherwise wait for: the policy snapshot and
        the store's id index keys (``SqlStore.warm``); for a process about to serve."""
        started = time.perf_counter()
        self.snapshot()
        self.store.warm()
        log.info("ready to serve: policy and id index read in %.2f s", time.perf_counter() - started)

    # -- the policy snapshot -------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        """The current gate; reloaded when anything it depends on has changed."""
        generation = self.store.policy_generation()
        snap = self._snapshot
        if snap is not None and snap.generation == generation:
            return snap
        with self._snapshot_lock:
            if self._snapshot is None or self._snapshot.generation != generation:
                self._snapshot = load_snapshot(self.store, self.config.org)
                # Marking-definitions the snapshot knows first go to kizuna-definitions.
                publish_markings(self.store, self._snapshot)
            return self._snapshot

    # -- organizations, users, communities -----------------------------------------------------

    def add_org(self, name: str, country: str, communities: list[str] | None = None) -> Org:
        if self.store.org(name) is not None:
            raise BadRequest(f"organization {name!r} already exists")
        declared = sorted({c.upper() for c in communities or []})
        countries = [c for c in declared if is_country(c)]
        if countries:
            raise BadRequest(
                f"{', '.join(countries)} is a country, not a community: an organization has one "
                "country (its own) and declares communities (NATO, FVEY ...)"
            )
        org = Org(
            name=name,
            country=_country(country),
            communities=tuple(declared),
            identity_id=derived_id("identity", f"org:{name}"),
        )
        self.store.add_org(org)
        return org

    def add_user(self, username: str, org: str, *, admin: bool = False, peer: bool = False) -> str:
        """Create a user of *org*; returns its API token (only its hash is stored).

        With *peer*, the account is the one a peer node of *org* uses here: what it reads is
        subject to the onward-sharing rules of docs/policy.md (no TLP:RED, TLP:AMBER+STRICT
        only within this node's own organization).
        """
        if self.store.org(org) is None:
            raise NotFound(
                f"no organization {org!r} (create it with: kizuna org add DIR {org} ...)"
            )
        if self.store.user(username) is not None:
            raise BadRequest(f"user {username!r} already exists")
        token = new_token()
        self.store.add_user(username, org, hash_token(token), is_admin=admin, is_peer=peer)
        return token

    def rotate_token(self, username: str) -> str:
        """Give *username* a new API token and return it; the old token stops working.

        A disabled user is enabled again with the new token.
        """
        token = new_token()
        if not self.store.set_token_hash(username, hash_token(token)):
            raise NotFound(f"no user {username!r} (kizuna user list shows them)")
        return token

    def disable_user(self, username: str) -> bool:
        """Destroy *username*'s token (``rotate_token`` gives a new one); False if it was."""
        if self.store.user(username) is None:
            raise NotFound(f"no user {username!r} (kizuna user list shows them)")
        return self.store.disable_user(username)

    def communities(self) -> dict[str, frozenset[str]]:
        return self.snapshot().communities

    def set_community(self, name: str, members: list[str]) -> None:
        if is_country(name.strip().upper()):
            raise BadRequest(
                f"{name!r} is a country code: a community needs a name of its own, or REL TO "
                f"{name.upper()} would admit organizations of other countries"
            )
        current = {k: sorted(v) for k, v in self.communities().items()}
        current[name.upper()] = sorted({_country(m) for m in members})
        self.store.set_setting(COMMUNITIES_SETTING, json.dumps(current))

    def principal_for(self, user: User) -> Principal:
        return self.snapshot().principal_of(user)

    def principal_for_org(
        self,
        org: Org,
        name: str,
        *,
        is_admin: bool = False,
        peer: str | None = None,
        kind: Kind = Kind.ACCOUNT,
    ) -> Principal:
        return make_principal(
            org, name, self.communities(), is_admin=is_admin, peer=peer, kind=kind
        )

    def authenticate(
        self, token: str, username: str | None = None, snap: Snapshot | None = None
    ) -> Principal | None:
        """The principal a token belongs to (and, with Basic auth, that user name), or None.

        Answered from the policy snapshot (*snap*, or the current one), which holds the users.
        """
        snap = snap or self.snapshot()
        user = snap.users.get(hash_token(token))
        if user is None or (username is not None and username != user.name):
            return None
        return snap.principal_of(user)

    # -- collections and grants ----------------------------------------------------------------

    def add_collection(
        self,
        title: str,
        *,
        description: str = "",
        alias: str | None = None,
        kind: str = "real",
        default_markings: tuple[str, ...] = (),
        home_grant: bool = True,
        derived: str = REFUSE,
    ) -> Collection:
        """Create a collection; ``kind="exercise:NAME"`` makes it a collection of that exercise.

        An exercise collection stamps the exercise's marking on everything that enters it
        (its marking-definition is stored here), so exercise data never mixes with real data.
        With *home_grant* (the default), the node's own organization may read and write it up
        to :data:`HOME_MAX_TLP`, granted in the same transaction (``kizuna grant`` changes it).
        *derived* says what becomes of a sighting, note or opinion more releasable than one
        of its sources: ``refuse`` it, or ``restrict`` it to what every source admits.
        """
        if derived not in DERIVED_MODES:
            raise BadRequest(
                f"unknown treatment of derived products {derived!r}: expected "
                f"{' or '.join(DERIVED_MODES)}"
            )
        if kind.startswith("exercise:"):
            try:
                marking = exercise_marking(kind.split(":", 1)[1])
            except ValueError as exc:
                raise BadRequest(str(exc)) from None
            kind = f"exercise:{marking['extensions'][EXERCISE_EXTENSION]['exercise']}"
            self.store.put_marking_definitions([(marking["id"], msgspec.json.encode(marking))])
        elif kind != "real":
            raise BadRequest(f"unknown collection kind {kind!r}: expected real or exercise:NAME")
        stored = self.snapshot().markings
        for mid in default_markings:
            if mid not in stored:
                raise BadRequest(
                    f"default marking {mid!r} is not a marking-definition stored on this node "
                    "(kizuna marking list shows them; kizuna marking rel-to stores a REL TO one)"
                )
        c = Collection(
            id=str(uuid.uuid4()),
            title=title,
            description=description,
            alias=alias,
            default_markings=default_markings,
            kind=kind,
            derived=derived,
        )
        grants = [Grant(c.id, self.config.org, True, True, HOME_MAX_TLP)] if home_grant else []
        self.store.add_collection(c, grants)
        return c

    def collection(self, collection_id: str) -> Collection:
        c = self.snapshot().collection(collection_id)
        if c is None:
            raise NotFound(f"no collection {collection_id!r} on this node")
        return c

    def grant(
        self,
        collection_id: str,
        org: str,
        *,
        read: bool,
        write: bool,
        max_tlp: str = "amber",
    ) -> Grant:
        c = self.collection(collection_id)
        if self.store.org(org) is None:
            raise NotFound(f"no organization {org!r}")
        g = Grant(c.id, org, read, write, tlp_level(max_tlp))
        self.store.set_grant(g)
        return g

    def revoke(self, collection_id: str, org: str) -> Grant:
        """Remove *org*'s grant on a collection; returns the grant that was."""
        c = self.collection(collection_id)
        current = self.grant_of(c.id, org)
        if current is None or not self.store.delete_grant(c.id, org):
            raise NotFound(f"{org!r} holds no grant on collection {c.id}")
        return current

    def grant_of(self, collection_id: str, org: str) -> Grant | None:
        """The grant *org* holds on a collection (by id or alias), if any."""
        c = self.collection(collection_id)
        return next(
            (g for g in self.store.grants() if g.collection_id == c.id and g.org == org), None
        )

    # -- markings ----------------------------------------------------------------------------

    def releasability_marking(self, codes: list[str]) -> dict[str, Any]:
        """Store (if new) and return the ``REL TO`` marking-definition for *codes*.

        Checked as any incoming marking-definition is: known codes, immutable once stored.
        """
        try:
            obj = releasability_marking(codes)
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
        problem = check_marking_definition(self.store, self.snapshot(), obj)
        if problem:
            raise BadRequest(problem)
        self.store.put_marking_definitions([(obj["id"], msgspec.json.encode(obj))])
        return obj

    # -- peers -----------------------------------------------------------------------------

    def add_peer(
        self,
        name: str,
        url: str,
        *,
        org: str,
        token: str,
        pull: list[tuple[str, str]] | None = None,
        push: list[tuple[str, str]] | None = None,
        ca_file: str = "",
    ) -> Peer:
        """Configure (or reconfigure) a peer node; collections may be given by id or alias."""
        if self.store.org(org) is None:
            raise NotFound(f"no organization {org!r}: the peer acts for an organization of this node")
        if not url.startswith(("http://", "https://")):
            raise BadRequest(f"peer URL {url!r} must start with http:// or https://")
        pulls = tuple((remote, self.collection(local).id) for remote, local in pull or [])
        pushes = tuple((self.collection(local).id, remote) for local, remote in push or [])
        peer = Peer(name, url.rstrip("/"), org, token, pulls, pushes, ca_file)
        self.store.add_peer(peer)
        return peer

    def remove_peer(self, name: str) -> None:
        """Forget a peer node and where its syncs had got to."""
        if not self.store.remove_peer(name):
            raise NotFound(f"no peer {name!r} (kizuna peer list shows them)")

    def now(self) -> str:
        return format_micros(now_micros())


def _remove_new(directory: Path, existed: bool, before: set[Path]) -> None:
    """Remove what an ``init`` made in *directory* (all of it, if it made the directory)."""
    if not existed:
        shutil.rmtree(directory, ignore_errors=True)
        return
    for path in set(directory.iterdir()) - before:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def _country(code: str) -> str:
    c = code.strip().upper()
    if not is_country(c):
        raise BadRequest(f"{code!r} is not an ISO 3166 alpha-3 country code (e.g. JPN, FRA, USA)")
    return c
