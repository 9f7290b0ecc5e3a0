"""The store's two adapters: SQLite (embedded, the default) and PostgreSQL (for scale).

Both are :class:`~kizuna.store.sql.SqlStore` with engines and a write lock of their own:
SQLite takes ``BEGIN IMMEDIATE`` behind an flock that queues the writers of several
processes; PostgreSQL takes an advisory transaction lock. :func:`open_store` picks one by URL.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import threading
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import Connection, MetaData, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.schema import CreateTable

from kizuna.errors import ConfigError
from kizuna.store import schema as t
from kizuna.store._base import GENERATION, GENERATION_SQL
from kizuna.store._checkpoint import THRESHOLD, THRESHOLD_MIB, Checkpointer
from kizuna.store._keys import id_key
from kizuna.store._recent import RecentIds
from kizuna.store.sql import SqlStore

__all__ = ["PostgresStore", "SqliteStore", "open_store"]

_WRITE_LOCK_KEY = 0x6B697A75  # "kizu": the PostgreSQL advisory lock all writers share


class SqliteStore(SqlStore):
    """The embedded default: one file, WAL journal.

    ``synchronous`` is NORMAL by default: in WAL mode a committed transaction is in the log
    (the operating system's cache) when the commit returns, so it survives the process being
    killed; only a power cut or kernel crash may roll back the last transactions. FULL also
    fsyncs every commit (its cost: docs/benchmarks.md).

    The log is checkpointed by a thread of the store once it holds *checkpoint_bytes*, not
    inside a writer's commit (``store/_checkpoint.py``).

    A new object enters the id index later, with many others (``store/_recent.py``).
    """

    dialect = "sqlite"
    _keep_write_connection = True

    def __init__(
        self,
        url: str,
        *,
        synchronous: str = "normal",
        checkpoint_bytes: int = THRESHOLD,
        read_only: bool = False,
    ) -> None:
        if synchronous.lower() not in ("normal", "full"):
            raise ConfigError(f"sqlite_synchronous is {synchronous!r}; expected normal or full")
        database = make_url(url).database or ""
        on_disk = database not in ("", ":memory:") and not database.startswith("file:")
        if on_disk and read_only:
            url = _read_only_url(database)
        elif on_disk:
            _check_writable(database)
        args: dict[str, Any] = {"check_same_thread": False, "timeout": 60}
        read = create_engine(url, connect_args=args, pool_size=8, max_overflow=8)
        write = create_engine(url, connect_args=args, pool_size=1, max_overflow=0)
        pragmas = _sqlite_pragmas(synchronous.upper(), checkpoint_bytes, read_only)
        for engine in (read, write):
            event.listen(engine, "connect", pragmas)
        event.listen(write, "connect", _sqlite_autocommit)
        event.listen(write, "begin", _sqlite_begin_immediate)
        super().__init__(read, write)
        self._recent_ids = RecentIds()
        # Writers of several processes (``serve --workers``, a CLI import beside a server)
        # queue on an flock beside the database: a waiter wakes when the lock is released,
        # where SQLite's own busy handler polls with sleeps of up to 100 ms.
        self._flock_path: str | None = None
        self._flock_fd: int | None = None
        self._flock_pid = 0
        self._checkpointer: Checkpointer | None = None
        self._generation_lock = threading.Lock()
        self._generation_conn: PoolProxiedConnection | None = None
        self._generation_pid = 0
        if on_disk and not read_only:
            self._flock_path = f"{database}-writer.lock"
            self._checkpointer = Checkpointer(database, self._exclusive, checkpoint_bytes)

    def policy_generation(self) -> int:
        """The policy generation (see :meth:`StoreBase.policy_generation`), read on a
        connection of its own that stays open.

        Every request reads it first. Right after another connection's commit (every POST's),
        a connection from the pool took about 100 us for this one-row read here, against about
        35 us for the kept one (SQLite's page cache of a connection is dropped when the log
        changes; the pool adds its checkout and check-in; ``bench/post_cost.py``). The read
        opens no transaction, so the next one sees the latest commit.
        """
        with self._generation_lock:
            proxied = self._generation_conn
            if proxied is None or self._generation_pid != os.getpid():
                proxied = self._generation_conn = self._read.raw_connection()
                self._generation_pid = os.getpid()
            conn = proxied.driver_connection
            assert conn is not None
            try:
                rows = conn.execute(GENERATION_SQL, (GENERATION,)).fetchall()
            except BaseException:
                self._generation_conn = None
                proxied.invalidate()
                raise
        return int(rows[0][0]) if rows else 0

    def _add_id_keys(self, conn: Connection) -> None:
        """The versions table rebuilt with its id keys, and without the unique index of
        (stix_id, collection_id, ...) that SQLite cannot drop; its indexes follow in
        ``create_schema``."""
        rebuilt = t.versions.to_metadata(MetaData(), name="versions_rebuilt")
        conn.execute(CreateTable(rebuilt))
        driver = conn.connection.driver_connection
        assert driver is not None
        driver.create_function("kizuna_id_key", 1, id_key, deterministic=True)
        old = ", ".join(c.name for c in t.versions.columns if c.name != "id_key")
        conn.exec_driver_sql(
            f"INSERT INTO versions_rebuilt ({old}, id_key) "
            f"SELECT {old}, kizuna_id_key(stix_id) FROM versions"
        )
        conn.exec_driver_sql("DROP TABLE versions")
        conn.exec_driver_sql("ALTER TABLE versions_rebuilt RENAME TO versions")

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        """Hold the write lock without a transaction (for the WAL checkpointer)."""
        with self._lock:
            self._lock_writers()
            try:
                yield
            finally:
                self._unlock_writers()

    def _committed(self, conn: Connection) -> None:
        checkpointer = self._checkpointer
        if checkpointer is not None and checkpointer.committed():
            # A checkpoint is coming, after which this writer restarts the log, truncated to
            # journal_size_limit: the threshold in use, which grows with the database.
            driver = conn.connection.driver_connection
            if driver is not None:
                driver.execute(f"PRAGMA journal_size_limit={checkpointer.limit_now}")

    def _lock_writers(self) -> None:
        if self._flock_path is None:
            return
        if self._flock_fd is None or self._flock_pid != os.getpid():
            # Opened per process: a forked child must not share its parent's open file (an
            # flock belongs to the open file, so the two would not exclude each other).
            self._flock_fd = os.open(self._flock_path, os.O_RDWR | os.O_CREAT, 0o600)
            self._flock_pid = os.getpid()
        fcntl.flock(self._flock_fd, fcntl.LOCK_EX)

    def _unlock_writers(self) -> None:
        if self._flock_fd is not None:
            fcntl.flock(self._flock_fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.close()
        with self._generation_lock:
            if self._generation_conn is not None and self._generation_pid == os.getpid():
                self._generation_conn.close()
            self._generation_conn = None
        super().close()
        if self._flock_fd is not None and self._flock_pid == os.getpid():
            os.close(self._flock_fd)
        self._flock_fd = None


def _check_writable(database: str) -> None:
    """Refuse, saying what to do, a database this process could not write: a read-only
    directory or file (SQLite writes its log, shared memory and writers' lock beside it)."""
    directory = os.path.dirname(os.path.abspath(database))
    for path, flags in (
        (f"{database}-writer.lock", os.O_RDWR | os.O_CREAT),
        (database, os.O_RDWR),
    ):
        if flags == os.O_RDWR and not os.path.exists(path):
            continue
        try:
            os.close(os.open(path, flags, 0o600))
        except OSError as exc:
            if exc.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
                raise
            raise ConfigError(
                f"{path} cannot be written by this user (uid {os.getuid()}): {exc.strerror}. "
                f"A node writes its database and the files beside it in {directory}; make "
                "them writable by the user that runs kizuna, or serve the node read-only: "
                "kizuna serve DIRECTORY --read-only"
            ) from None


def _read_only_url(database: str) -> str:
    """A URL that opens *database* for reading only. In a directory this process may not
    write, SQLite could not make its shared-memory file: the database is opened immutable,
    which is safe only while nothing writes it, and only once its log is folded in."""
    directory = os.path.dirname(os.path.abspath(database))
    if os.access(directory, os.W_OK):
        return f"sqlite:///file:{database}?mode=ro&uri=true"
    wal = f"{database}-wal"
    if os.path.exists(wal) and os.path.getsize(wal) > 0:
        raise ConfigError(
            f"{wal} holds changes not yet in the database, and {directory} cannot be written: "
            "open the node once where it can be written (any kizuna command folds the log in), "
            "then serve it read-only"
        )
    return f"sqlite:///file:{database}?mode=ro&immutable=1&uri=true"


def _sqlite_pragmas(
    synchronous: str, checkpoint_bytes: int, read_only: bool = False
) -> Callable[[Any, Any], None]:
    def connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        if read_only:
            cur.execute("PRAGMA busy_timeout=60000")
            cur.execute("PRAGMA cache_size=-65536")
            cur.close()
            return
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=60000")
        cur.execute("PRAGMA cache_size=-65536")
        # Checkpoints run in the store's own thread (store/_checkpoint.py), once the log
        # holds up to 4 times checkpoint_bytes on a large database: SQLite's, inside a commit,
        # only if that thread falls far behind; a restarted log is truncated.
        cur.execute(f"PRAGMA wal_autocheckpoint={8 * checkpoint_bytes // 4096}")
        cur.execute(f"PRAGMA journal_size_limit={checkpoint_bytes}")
        cur.close()

    return connect


def _sqlite_autocommit(dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event emit BEGIN IMMEDIATE instead of pysqlite's implicit BEGIN.
    dbapi_conn.isolation_level = None


def _sqlite_begin_immediate(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


class PostgresStore(SqlStore):
    """PostgreSQL for scale: several stateless API processes can share one database."""

    dialect = "postgresql"
    _mark = "%s"

    def __init__(self, url: str, *, read_only: bool = False) -> None:
        # Read-only: every transaction is, so PostgreSQL itself refuses a write (25006).
        args = {"options": "-c default_transaction_read_only=on"} if read_only else {}
        read = create_engine(
            url, pool_size=10, max_overflow=10, pool_pre_ping=True, connect_args=args
        )
        write = create_engine(url, pool_size=2, max_overflow=2, pool_pre_ping=True, connect_args=args)
        super().__init__(read, write)

    def _begin_write(self, conn: Connection) -> None:
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_WRITE_LOCK_KEY})")

    def analyze(self) -> None:
        """``ANALYZE`` the stored versions. Until autovacuum's next pass (up to a minute and
        more), a table just filled from empty keeps the statistics of an empty one, and the
        planner would look for a POST's ids by walking the whole collection."""
        with self._write.connect() as conn:
            conn.exec_driver_sql("ANALYZE versions")
            conn.commit()


def open_store(
    url: str,
    *,
    sqlite_synchronous: str = "normal",
    sqlite_checkpoint_mib: int = THRESHOLD_MIB,
    read_only: bool = False,
) -> SqlStore:
    """The store adapter for a database URL (``sqlite:///PATH`` or ``postgresql://...``);
    *read_only*: every write is refused by the database itself."""
    try:
        parsed = make_url(url)
    except Exception as exc:  # SQLAlchemy raises ArgumentError with a terse text
        raise ConfigError(f"not a database URL: {_masked(url)!r} ({exc})") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if sqlite_checkpoint_mib < 1:
            raise ConfigError(
                f"sqlite_checkpoint_mib is {sqlite_checkpoint_mib}; expected a whole number of "
                "MiB, at least 1 (64 by default)"
            )
        return SqliteStore(
            url,
            synchronous=sqlite_synchronous,
            checkpoint_bytes=sqlite_checkpoint_mib << 20,
            read_only=read_only,
        )
    if backend in ("postgresql", "postgres"):
        fixed = parsed.set(drivername="postgresql+psycopg")
        if "connect_timeout" not in fixed.query:  # an unreachable host fails in seconds
            fixed = fixed.update_query_dict({"connect_timeout": "10"})
        store = PostgresStore(fixed.render_as_string(hide_password=False), read_only=read_only)
        try:
            with store._read.connect():
                pass
        except OperationalError as exc:
            store.close()
            raise ConfigError(_postgres_problem(parsed, exc)) from None
        return store
    raise ConfigError(
        f"unsupported database {backend!r} in {_masked(url)!r}: use sqlite:///PATH or "
        "postgresql://..."
    )


def _masked(url: str) -> str:
    """*url* without its password, for messages."""
    return re.sub(r"(://[^/@:]*:)[^/@]*@", r"\1***@", url)


def _postgres_problem(url: URL, exc: OperationalError) -> str:
    """One line saying why PostgreSQL at *url* cannot be used, and what to do."""
    text = str(exc.orig or exc)
    where = f"PostgreSQL at {url.host or 'localhost'}:{url.port or 5432}"
    if "database" in text and "does not exist" in text:
        return (
            f"{where} has no database {url.database!r}: create it (createdb -h "
            f"{url.host or 'localhost'} -p {url.port or 5432} -U {url.username or 'USER'} "
            f"{url.database}) or name an existing one in the URL"
        )
    if "Connection refused" in text:
        return f"{where} refused the connection: start the server, or fix the URL's host and port"
    if "resolve host" in text or "translate host name" in text:
        return f"cannot find the PostgreSQL host {url.host!r}: fix the URL's host"
    if "authentication failed" in text or ("role" in text and "does not exist" in text):
        return f"{where} refused user {url.username!r}: fix the URL's user name or password"
    if "timeout" in text:
        return f"{where} did not answer within 10 s: check the URL's host and port, and the network"
    last = text.strip().splitlines()[-1].strip() if text.strip() else type(exc.orig).__name__
    return f"cannot connect to {where}: {last}"
