"""SQLite's WAL checkpoints, moved off the request path.

In WAL mode a commit appends the pages it changed to the log (``kizuna.db-wal``), and a
checkpoint copies them back into the database file, with two fsyncs. SQLite runs that
checkpoint inside the commit that takes the log past ``wal_autocheckpoint`` pages, so one POST
in a few pays for everybody's writes, and its client waits. A :class:`Checkpointer` runs it in
a thread of its own instead:

1. after each commit, the writer (still holding the write lock) looks at the log's size on
   disk; once it passes the threshold in use (*threshold* bytes, more on a large database:
   :meth:`Checkpointer.limit`), it wakes the thread, and answers its client;
2. the thread first copies what the log holds without the write lock, beside the writers
   (SQLite checkpoints without holding Python's GIL, so requests go on meanwhile on the other
   core); then it takes the write lock, so that no writer appends, and copies the rest: the
   checkpoint completes and the next writer restarts the log from its beginning (a
   checkpoint beside a writer that never stops would never complete, and the log would only
   grow);
3. writers wait only for that second, short copy (what it gained: docs/benchmarks.md, 'Figures behind the code's design').

``journal_size_limit`` (set to the threshold in use on the writer's connection) makes SQLite
truncate a longer log to that size when it restarts it, so the log on disk is longer than the
threshold only while it holds more than that since the last complete checkpoint (and a
restarted log overwrites space already allocated, which is cheaper than growing a file). A
checkpoint that cannot copy everything (a reader still uses old pages) leaves the log to grow,
and the next one is asked for only after another threshold's worth. SQLite's own automatic
checkpoint stays on as a backstop, at eight times *threshold* (``adapters._sqlite_pragmas``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

#: The log's size that asks for a checkpoint (the node setting ``sqlite_checkpoint_mib``).
#: 16 times SQLite's own default of about 1,000 pages: objects arrive with scattered ids, so
#: nearly every one changes a page of the id index of its own, and a checkpoint copies each
#: changed page once however often it changed since the last one. A longer log lets a page
#: change many times per copy and spaces out the checkpoints' fsyncs (what that gained, and
#: when it was measured: docs/benchmarks.md, 'Figures behind the code's design').
THRESHOLD_MIB = 64
THRESHOLD = THRESHOLD_MIB << 20


class Checkpointer:
    """Checkpoints the WAL of the database at *path* in a thread, under *exclusive*.

    *exclusive* returns a context manager that holds the store's write lock (the lock of its
    own threads and the flock that queues other processes' writers).
    """

    def __init__(
        self,
        path: str,
        exclusive: Callable[[], contextlib.AbstractContextManager[object]],
        threshold: int = THRESHOLD,
    ) -> None:
        self._path = path
        self._wal = path + "-wal"
        self._exclusive = exclusive
        self._threshold = threshold
        #: The threshold in use (see :meth:`limit`), as of the last commit.
        self.limit_now = threshold
        self._base = 0  # the log's size when a checkpoint was last asked for
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._busy = False
        #: Checkpoints run so far (for tests and logs).
        self.runs = 0

    def idle(self) -> bool:
        """True when no checkpoint is asked for or running."""
        return not self._wake.is_set() and not self._busy

    def limit(self, database_bytes: int) -> int:
        """The log's size that asks for a checkpoint of a database of *database_bytes*: the
        threshold, or a quarter of the database when that is more, up to 4 times the threshold.

        A checkpoint copies each page changed since the last one, once. New objects change
        pages of the id index all over it, and the larger the database, the more distinct
        pages a log of a given size touches (what this rule gained, and when it was
        measured: docs/benchmarks.md, 'Figures behind the code's design').

        >>> c = Checkpointer("k.db", contextlib.nullcontext, threshold=64 << 20)
        >>> [c.limit(mib << 20) >> 20 for mib in (10, 256, 600, 1024, 4096)]
        [64, 64, 150, 256, 256]
        """
        return min(max(self._threshold, database_bytes // 4), 4 * self._threshold)

    def committed(self) -> bool:
        """Note a commit (called with the write lock held); wake the thread when it is time.
        True when it did: the caller then keeps its ``journal_size_limit`` at
        :attr:`limit_now`, since the writer that restarts the log truncates it to that."""
        try:
            size = os.stat(self._wal).st_size
            if size > self._threshold:  # the database's size matters only past it
                self.limit_now = self.limit(os.stat(self._path).st_size)
        except FileNotFoundError:
            return False
        if size <= self.limit_now:  # never below the threshold
            self._base = 0  # short, or restarted (and truncated) since the last request
            return False
        if size - self._base < self.limit_now:
            return False
        self._base = size
        if self._thread is None or self._pid != os.getpid():
            # Started on first need, and again in a forked child (threads do not survive fork).
            self._stopping = False
            self._thread = threading.Thread(
                target=self._run, name="kizuna-wal-checkpoint", daemon=True
            )
            self._pid = os.getpid()
            self._thread.start()
        self._wake.set()
        return True

    def close(self) -> None:
        """Stop the thread (after the checkpoint it may be running)."""
        thread = self._thread
        if thread is None or self._pid != os.getpid():
            return
        self._stopping = True
        self._wake.set()
        thread.join()
        self._thread = None

    def _run(self) -> None:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        try:
            while True:
                self._busy = False
                self._wake.wait()
                self._busy = True  # before the event is cleared: idle() is never wrong
                self._wake.clear()
                if self._stopping:
                    return
                started = time.perf_counter()
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()  # beside writers
                with self._exclusive():
                    locked = time.perf_counter()
                    _, frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                done = time.perf_counter()
                self.runs += 1
                log.info(
                    "WAL checkpoint: %d of %d frames copied in %.2f s, %.2f s of it with the "
                    "writers waiting%s",
                    copied,
                    frames,
                    done - started,
                    done - locked,
                    " (a reader still uses the rest: the log grows)" if copied < frames else "",
                )
        except sqlite3.Error as exc:  # the database went away (a test's directory, a disk error)
            log.warning("WAL checkpoints stopped: %s; SQLite's own take over", exc)
        finally:
            with contextlib.suppress(sqlite3.Error):
                conn.close()
