"""What a database error means for whoever made the request: a full disk (507), a database
that cannot be reached or is busy for too long (503, retry later), a database the node may not
write (403, a read-only node) -- or none of those (a bug: 500).

>>> import sqlite3
>>> full = sqlite3.OperationalError("database or disk is full")
>>> full.sqlite_errorcode = sqlite3.SQLITE_FULL
>>> resource_error(full).status
507
>>> resource_error(ValueError("x")) is None
True
"""

from __future__ import annotations

import errno
import sqlite3

from kizuna.errors import Forbidden, InsufficientStorage, KizunaError, ServiceUnavailable

__all__ = ["resource_error"]

#: PostgreSQL error classes (SQLSTATE's first two characters) and codes that mean the
#: database could not be reached or cannot serve now.
_PG_UNAVAILABLE_CLASSES = ("08",)  # connection exception
_PG_UNAVAILABLE = frozenset({"57P01", "57P02", "57P03", "53300", "55P03", "40P01"})
_PG_DISK_FULL = "53100"
_PG_READ_ONLY = "25006"  # read_only_sql_transaction
_SQLITE_BUSY = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}
_SQLITE_READONLY = sqlite3.SQLITE_READONLY
_SQLITE_CANTOPEN = sqlite3.SQLITE_CANTOPEN


def resource_error(exc: BaseException) -> KizunaError | None:
    """The error to answer for *exc* (a SQLAlchemy or driver error), or None when it is not
    about the database's resources."""
    orig = getattr(exc, "orig", None) or exc  # SQLAlchemy wraps the driver's error
    text = str(orig).lower()
    code = getattr(orig, "sqlite_errorcode", None)
    if isinstance(orig, sqlite3.Error) and code is not None:
        primary = code & 0xFF
        if primary == sqlite3.SQLITE_FULL or (
            primary == sqlite3.SQLITE_IOERR and "disk is full" in text
        ):
            return _disk_full()
        if primary in _SQLITE_BUSY:
            return ServiceUnavailable(
                "the database stayed locked by another writer for too long; retry in a few "
                "seconds"
            )
        if primary == _SQLITE_READONLY:
            return _read_only()
        if primary == _SQLITE_CANTOPEN:
            return ServiceUnavailable(
                "this node's database file cannot be opened (was the node directory moved, or "
                "made unreadable?)"
            )
        return None
    if isinstance(orig, OSError) and orig.errno == errno.ENOSPC:
        return _disk_full()
    sqlstate = getattr(orig, "sqlstate", None)
    if type(orig).__module__.startswith("psycopg"):
        if sqlstate == _PG_DISK_FULL:
            return _disk_full()
        if sqlstate == _PG_READ_ONLY:
            return _read_only()
        # No SQLSTATE on an OperationalError: the connection itself failed (refused, reset).
        unreachable = sqlstate is None and type(orig).__name__ in (
            "OperationalError",
            "InterfaceError",
        )
        if unreachable or (
            sqlstate is not None
            and (sqlstate[:2] in _PG_UNAVAILABLE_CLASSES or sqlstate in _PG_UNAVAILABLE)
        ):
            return ServiceUnavailable(
                "the node's PostgreSQL database cannot be reached or cannot serve now; "
                "nothing of this request was stored; retry in a few seconds"
            )
    if getattr(exc, "connection_invalidated", False):
        return ServiceUnavailable(
            "the connection to the node's database was lost; nothing of this request was "
            "stored; retry in a few seconds"
        )
    return None


def _read_only() -> Forbidden:
    return Forbidden(
        "this node serves read-only (kizuna serve --read-only, or a database it may not "
        "write): nothing was stored"
    )


def _disk_full() -> InsufficientStorage:
    return InsufficientStorage(
        "the node's disk is full: nothing of this request was stored; an operator must free "
        "space on the node's disk (or move its database), then retry"
    )
