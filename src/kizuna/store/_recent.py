"""The recent ids: the versions a SQLite node stored since the id index was last merged.

The id index (``id_index``, keyed by ``store/_keys.py``'s 64-bit id key) finds every version of
an id. STIX ids are random, so each new object's entry would land on a page of that index of its
own: a commit of 100 objects changes about 100 pages of it, which SQLite writes whole to its
log and copies again at the checkpoint, a large part of a POST's time on a large store
(docs/benchmarks.md, 'Figures behind the code's design').

So on SQLite a version that is the only one of its id in its collection (a *fresh* one: what
almost every new object is) is not entered in the index when it is stored. Each process keeps
the keys of those versions in memory, read from the versions table itself: the rows past
``id_index_upto`` (a setting), in ``added_us`` order, which is commit order. Once they number
:data:`MERGE_ROWS`, or a quarter of the merged versions when that is more
(:data:`MERGE_FRACTION`), a writer enters them all in the index, sorted, in one statement: the
index then changes each of its pages about once per merge instead of once per object.

An id with two or more versions in a collection has all of them in the index, always: the
writer that stores the second one (it finds the first while checking for duplicates) enters
both in the same transaction. So ``match[version]``'s question "is there a newer (or older)
version of this id?" is answered by the index alone, in SQL; only lookups by id consult the
recent keys as well.

PostgreSQL keeps its id index as an index of the versions table (``ix_versions_key``), which it
maintains as each version is stored; its store has no recent ids.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = ["MERGE_FRACTION", "MERGE_ROWS", "MERGE_ROWS_MAX", "UPTO", "RecentIds"]

#: Fresh versions kept out of the id index before a writer merges them into it. Each merge
#: rewrites about every leaf page of the index once: at a million stored versions (about
#: 12,000 leaves), 65,536 fresh versions per merge cost a page per 5 versions instead of one
#: per version. The recent keys of a process take about 100 bytes each.
MERGE_ROWS = 65_536

#: A merge rewrites about every leaf page of the index, however few versions it enters (its
#: log frames and the checkpoint that copies them), so on a larger index it waits for more of
#: them: until the recent versions number the merged ones over this (when that is more than
#: MERGE_ROWS). The merges' pages then cost each version about the same at any size, and a
#: process keeps at most about a fifth of the versions as recent ones (about 100 bytes each:
#: 25 MB per process at a million). With a million stored, the time POSTs of 100 objects
#: spent in merges beyond a typical request fell by about half, and their rate was 0.99x to
#: 1.25x that with a merge every 65,536, in three runs (docs/benchmarks.md). Up to
#: MERGE_ROWS_MAX, which bounds the memory (about 55 MB per process) and a merge's pause in
#: the POST that makes it (about 0.7 s for 250,000 at a million stored).
MERGE_FRACTION = 4
MERGE_ROWS_MAX = 524_288

#: The setting that holds the ``added_us`` up to which every version is in the id index.
UPTO = "id_index_upto"


class RecentIds:
    """What one process knows of the id index: the keys of the versions past ``upto`` (the
    recent ones), and the sorted keys of those up to it (the merged ones).

    ``seen`` is the newest ``added_us`` read; rows are committed in ``added_us`` order, so every
    version up to ``seen`` is either recent here or merged. A version deleted since it was read
    may still be here: a lookup then finds no row for it, which is harmless.

    The merged keys spare a POST the index's lookup for its new ids: a key that is in neither
    has no version stored (what that lookup cost: docs/benchmarks.md, 'Figures behind the code's design').
    They take 8 bytes per version.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        # key -> the added_us of its one recent version (nearly every key), or of its several:
        # plain integers are not tracked by the garbage collector, lists are (a process holds
        # up to a fifth of the node's versions here).
        self._one: dict[int, int] = {}
        self._more: dict[int, list[int]] = {}
        self._count = 0
        self.upto = -1  # -1: not read yet
        self.seen = 0
        self._merged: np.ndarray[Any, np.dtype[np.int64]] | None = None
        self._pid = os.getpid()

    def __len__(self) -> int:
        return self._count

    def merge_due(self, adding: int, minimum: int, fraction: int) -> bool:
        """True when *adding* more recent versions make a merge due: they would then number
        *minimum*, or the merged ones over *fraction* when that is more (up to
        :data:`MERGE_ROWS_MAX`).

        >>> recent = RecentIds()
        >>> recent.start(0, range(1_000_000))
        >>> recent.merge_due(65_536, 65_536, 4), recent.merge_due(250_000, 65_536, 4)
        (False, True)
        >>> recent.start(0, range(4_000_000))
        >>> recent.merge_due(524_287, 65_536, 4), recent.merge_due(524_288, 65_536, 4)
        (False, True)
        """
        merged = 0 if self._merged is None else len(self._merged)
        return self._count + adding >= max(minimum, min(merged // fraction, MERGE_ROWS_MAX))

    @property
    def started(self) -> bool:
        """True once the merged keys have been read (:meth:`start`), in this process."""
        return self._merged is not None and self._pid == os.getpid()

    def start(self, upto: int, merged_keys: Iterable[int]) -> None:
        """Begin (again) from the index's keys, read after *upto* (so that they hold at least
        the keys of every version up to it)."""
        self._one, self._more = {}, {}
        self._count = 0
        self.upto = self.seen = upto
        self._merged = np.sort(np.fromiter(merged_keys, dtype=np.int64))
        self._pid = os.getpid()

    def merged(self, upto: int, unseen: Iterable[tuple[int, int]]) -> None:
        """The index now holds every version up to *upto*; *unseen* are the versions
        (added_us, key) past ``seen`` up to *upto*, which this process has not read yet."""
        if upto <= self.upto:
            return
        entered = [k for k, a in self._one.items() if a <= upto]
        entered.extend(k for k, added in self._more.items() for a in added if a <= upto)
        entered.extend(k for a, k in unseen if self.seen < a <= upto)
        if entered:
            assert self._merged is not None
            new = np.sort(np.array(entered, dtype=np.int64))
            self._merged = np.insert(self._merged, np.searchsorted(self._merged, new), new)
        one: dict[int, int] = {}
        more: dict[int, list[int]] = {}
        if upto < self.seen:
            one = {k: a for k, a in self._one.items() if a > upto}
            for key, added in self._more.items():
                later = [a for a in added if a > upto]
                if len(later) == 1:
                    one[key] = later[0]
                elif later:
                    more[key] = later
        self._one, self._more = one, more
        self._count = len(one) + sum(len(a) for a in more.values())
        self.upto = upto
        self.seen = max(self.seen, upto)

    def add(self, rows: Iterable[tuple[int, int]]) -> None:
        """Versions (added_us, key) newer than ``seen``, in ``added_us`` order; older ones
        (already read by another thread of this process) are skipped."""
        one, more = self._one, self._more
        seen = self.seen
        for added, key in rows:
            if added <= seen:
                continue
            if key in more:
                more[key].append(added)
            elif key in one:
                more[key] = [one.pop(key), added]
            else:
                one[key] = added
            self._count += 1
            seen = added
        self.seen = seen

    def lookup(self, keys: list[int]) -> tuple[list[int], list[int]]:
        """For *keys*: the ``added_us`` of their recent versions, and those of the keys that
        the index may hold (the others have no version merged)."""
        one = self._one
        recent = [one[k] for k in keys if k in one]
        if self._more:
            recent.extend(a for k in keys for a in self._more.get(k, ()))
        merged = self._merged
        if merged is None or not len(merged) or not keys:
            return recent, []
        wanted = np.array(keys, dtype=np.int64)
        at = np.searchsorted(merged, wanted).clip(max=len(merged) - 1)
        return recent, wanted[merged[at] == wanted].tolist()
