"""How many versions each marking set holds in a collection: an estimate that picks the plan
of a gated page (``SqlStore.query``), never an answer.

A page of a principal who may see most of a collection is read best by walking the
collection in ``added_us`` order and skipping the hidden rows in the index
(``ix_versions_collection_added_set``): a few index entries per row returned. A principal who
may see 1 % of a million versions would skip a hundred entries per row returned that way;
its page is read instead as the first rows of each visible set
(``ix_versions_collection_set_added``), merged: about one entry per row returned per set,
however many are hidden. Which of the two is cheaper depends on the share of the collection
the visible sets hold, which these counts estimate.

Counted once per process and collection (one pass over its index), then kept up to date by
this process's writes; other processes' writes are counted again after ``REFRESH_SECONDS``.
An estimate that is off only costs time: both plans give the same rows.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable

from sqlalchemy import func, select

from kizuna.store import schema as t
from kizuna.store._base import StoreBase

#: How long a count may ignore other processes' writes before it is made again.
REFRESH_SECONDS = 600.0
#: Below this many versions in a collection, the walk in ``added_us`` order is always read.
SMALL = 20_000


class SetRows(StoreBase):
    """Versions per marking set and collection (a part of :class:`~kizuna.store.sql.SqlStore`)."""

    def sparse(self, collection_id: str, sets: frozenset[int]) -> bool:
        """Is a page of these visible *sets* read best set by set? When the versions they
        hold are fewer than the collection's, divided by twice the number of sets (each set's
        first rows are read, and the walk would read every row in between)."""
        counts = self._counts(collection_id)
        with self._set_rows_lock:  # this process's writes add to it meanwhile
            total = sum(counts.values())
            visible = sum(counts.get(s, 0) for s in sets)
        return total >= SMALL and visible * len(sets) * 2 < total

    def _counts(self, collection_id: str) -> Counter[int]:
        with self._set_rows_lock:
            found = self._set_rows.get(collection_id)
        if found is not None and time.monotonic() - found[0] < REFRESH_SECONDS:
            return found[1]
        v = t.versions.c
        with self._read.connect() as conn:
            rows = conn.execute(
                select(v.marking_set, func.count())
                .where(v.collection_id == collection_id)
                .group_by(v.marking_set)
            ).all()
        counts = Counter({int(r[0]): int(r[1]) for r in rows})
        with self._set_rows_lock:
            self._set_rows[collection_id] = (time.monotonic(), counts)
        return counts

    def _counted(self, collection_id: str, sets: Iterable[int]) -> None:
        """This process committed versions of *sets* (one per entry) in a collection."""
        with self._set_rows_lock:
            found = self._set_rows.get(collection_id)
            if found is not None:
                found[1].update(sets)

    def _uncounted(self, collection_id: str) -> None:
        """Versions were deleted from a collection: count it again when next asked."""
        with self._set_rows_lock:
            self._set_rows.pop(collection_id, None)
