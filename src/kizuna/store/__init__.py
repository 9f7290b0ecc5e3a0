"""The store: object versions, collections, organizations, users, grants, markings, statuses."""

from kizuna.store.sql import PostgresStore, SqliteStore, SqlStore, open_store

__all__ = ["PostgresStore", "SqlStore", "SqliteStore", "open_store"]
