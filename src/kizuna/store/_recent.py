"""The recent ids: the versions a SQLite node stored since the id index was last merged.

The id index (``id_index``, keyed by ``store/_keys.py``'s 64-bit id key) finds every version of
an id. STIX ids are random, so each new object's entry would land on a page of that index of its
own: at a million stored objects, a commit of 100 objects changed about 100 pages of it, which
SQLite writes whole to its log and copies again at the checkpoint. That cost POSTs a third of
their speed (``bench/post_ab.py``, docs/benchmarks.md).

So on SQLite a version that is the only one of its id in its collection (a *fresh* one: what
almost every new object is) is not entered in the index when it is stored. Each process keeps
the keys of those versions in memory, read from the versions table itself: the rows past
``id_index_upto`` (a setting), in ``added_us`` order, which is commit order. Once they number
:data:`MERGE_ROWS`, a writer enters them all in the index, sorted, in one statement: the index
then changes each of its pages about once per merge instead of once per object.

An id with two or more versions in a collection has all of them in the index, always: the
writer that stores the second one (it finds the first while checking for duplicates) enters
both in the same transaction. So ``match[version]``'s question "is there a newer (or older)
version of this id?" is answered by the index alone, in SQL; only lookups by id consult the
recent keys as well.

PostgreSQL enters every version in the index as it is stored (its store has no recent ids).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable

__all__ = ["MERGE_ROWS", "UPTO", "RecentIds"]

#: Fresh versions kept out of the id index before a writer merges them into it. Each merge
#: rewrites about every leaf page of the index once: at a million stored versions (about
#: 12,000 leaves), 65,536 fresh versions per merge cost a page per 5 versions instead of one
#: per version. The recent keys of a process take about 100 bytes each.
MERGE_ROWS = 65_536

#: The setting that holds the ``added_us`` up to which every version is in the id index.
UPTO = "id_index_upto"


class RecentIds:
    """The keys of the versions past ``id_index_upto``, as one process last read them.

    ``seen`` is the newest ``added_us`` read; rows are committed in ``added_us`` order, so every
    version up to ``seen`` is either here or in the index. A version deleted since it was read
    may still be here: a lookup then finds no row for it, which is harmless.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._by_key: dict[int, list[int]] = {}
        self._count = 0
        self.upto = -1  # -1: not read yet
        self.seen = 0
        self._pid = os.getpid()

    def __len__(self) -> int:
        return self._count

    def stale(self) -> bool:
        """True in a forked child that inherited its parent's keys: they are read again."""
        return self._pid != os.getpid()

    def reset(self) -> None:
        self._by_key = {}
        self._count = 0
        self.upto = -1
        self.seen = 0
        self._pid = os.getpid()

    def merged(self, upto: int) -> None:
        """The index now holds every version up to *upto*: forget the keys it holds."""
        if upto <= self.upto:
            return
        self.upto = upto
        if upto >= self.seen:
            self._by_key = {}
            self._count = 0
        else:
            kept: dict[int, list[int]] = {}
            for key, added in self._by_key.items():
                later = [a for a in added if a > upto]
                if later:
                    kept[key] = later
            self._by_key = kept
            self._count = sum(len(a) for a in kept.values())
        self.seen = max(self.seen, upto)

    def add(self, rows: Iterable[tuple[int, int]]) -> None:
        """Versions (added_us, key) newer than ``seen``, in ``added_us`` order; older ones
        (already read by another thread of this process) are skipped."""
        by_key = self._by_key
        seen = self.seen
        for added, key in rows:
            if added <= seen:
                continue
            found = by_key.get(key)
            if found is None:
                by_key[key] = [added]
            else:
                found.append(added)
            self._count += 1
            seen = added
        self.seen = seen

    def added(self, keys: Iterable[int]) -> list[int]:
        """The ``added_us`` of the recent versions whose key is one of *keys*."""
        by_key = self._by_key
        return [a for k in keys for a in by_key.get(k, ())]
