"""The store: object versions, collections, organizations, users, grants, markings, statuses."""

from kizuna.store._search import PENDING_ROWS
from kizuna.store._transaction import Transaction
from kizuna.store.adapters import PostgresStore, SqliteStore, open_store
from kizuna.store.sql import SqlStore

__all__ = ["PENDING_ROWS", "PostgresStore", "SqlStore", "SqliteStore", "Transaction", "open_store"]
