"""A node's life cycle: made in a directory (:meth:`Node.init`), opened, warmed, closed."""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

import msgspec

from kizuna import config as config_mod
from kizuna.config import NodeConfig
from kizuna.cyber.values import KEY_VERSION, body_keys
from kizuna.errors import ConfigError
from kizuna.node._accounts import Accounts
from kizuna.node._base import country_code
from kizuna.node._collections import Collections
from kizuna.node._markings import Markings
from kizuna.node._names import check_name
from kizuna.node._peers import Peers
from kizuna.node._snapshot import COMMUNITIES_SETTING
from kizuna.node._text import search_text
from kizuna.policy.communities import DEFAULT_COMMUNITIES
from kizuna.policy.refs import needs_redaction
from kizuna.stix.extensions import extension_definitions
from kizuna.stix.ids import derived_id
from kizuna.stix.markings import builtin_markings
from kizuna.stix.timestamps import to_micros
from kizuna.store.adapters import open_store
from kizuna.store.sql import SqlStore
from kizuna.store.types import Collection, NewVersion

log = logging.getLogger(__name__)

DEFINITIONS_ALIAS = "kizuna-definitions"


class Node(Accounts, Peers, Collections, Markings):
    """One node: open it with :meth:`open`, create one with :meth:`init`.

    Its operations come from the parts it is made of: :class:`Accounts` (organizations,
    users, communities, principals, authentication), :class:`Peers` (peer nodes),
    :class:`Collections` (collections and grants), :class:`Markings` (REL TO markings).
    """

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
        store.value_keys_version = KEY_VERSION
        store.search_text = search_text if cfg.search_index else None
        if not read_only:
            store.create_schema()
            recheck_redaction(store)
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
        country = country_code(country)
        check_name("organization", org)
        for community in communities or []:
            check_name("community", community)
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
            if store.holds_node():
                held = store
                store = None  # not this init's to undo
                held.close()
                raise ConfigError(
                    "the database already holds a Kizuna node: give --database an empty"
                    " database (each node has its own)"
                )
            store.value_keys = body_keys if cfg.value_index else None
            store.value_keys_version = KEY_VERSION
            store.search_text = search_text if cfg.search_index else None
            store.create_schema()
            node = cls(directory, cfg, store)
            store.set_setting(
                COMMUNITIES_SETTING,
                json.dumps({k: list(v) for k, v in DEFAULT_COMMUNITIES.items()}),
            )
            store.set_setting("identity", json.dumps(node.identity()))
            store.set_setting(*_REDACTION_RULE)  # every version is stored under the rule
            node.add_org(org, country, cfg.communities)
            token = node.add_user("admin", org, admin=True)
            node._install_definitions()
        except BaseException:
            # A failed init leaves nothing behind: a retry starts afresh.
            if store is not None:
                # On PostgreSQL the tables live outside the directory: drop what was made.
                with contextlib.suppress(Exception):
                    store.drop_schema()
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
        log.info(
            "ready to serve: policy and id index read in %.2f s", time.perf_counter() - started
        )


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


#: The setting that says the stored versions' ``needs_redaction`` was decided by the rule of
#: 2026-12-05: a ``*_ref`` or ``*_refs`` property of any shape refers to every string in it
#: (2026-12-04), and an identifier that keys a dictionary or is a value or list entry where
#: STIX defines no reference refers to that object (docs/policy.md, Rule 4).
_REDACTION_RULE = ("needs_redaction_rule", "2026-12-05")


def recheck_redaction(store: SqlStore) -> None:
    """Once per database: mark the versions stored before that rule whose references it now
    sees (a custom ``x_..._ref`` holding a list, a dictionary keyed by identifiers), so that
    the gate's field-level pass reads them; before, a hidden id there went out. Only bodies
    with a ``_ref`` beside those of ``object_marking_refs``, or an identifier beside their
    own, are decoded."""
    key, value = _REDACTION_RULE
    if store.setting(key) == value:
        return
    after = 0
    marked = 0
    while True:
        rows = store.unredacted(after, 5000)
        if not rows:
            break
        after = rows[-1][0]
        found = [a for a, body in rows if _needs_redaction_now(body)]
        if found:
            store.mark_needs_redaction(found)
            marked += len(found)
    store.set_setting(key, value)
    if marked:
        log.info("%d stored version(s) now take the gate's field-level pass", marked)


def _needs_redaction_now(body: bytes) -> bool:
    if (
        b"\\u" not in body
        and body.count(b"_ref") == body.count(b"object_marking_refs")
        and body.count(b"--") <= 1
    ):
        return False  # no reference, and no identifier but its own
    try:
        obj = msgspec.json.decode(body)
    except (msgspec.DecodeError, RecursionError):
        return True
    return isinstance(obj, dict) and needs_redaction(obj, body)
