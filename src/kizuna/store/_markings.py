"""The store's marking-definitions (immutable once stored) and marking sets (the canonical,
sorted lists of marking ids that versions point at, so that the gate filters with ``IN (...)``
over a few dozen sets instead of per object). Both bump the policy generation when they grow.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, insert, select

from kizuna.store import schema as t
from kizuna.store._base import StoreBase


class Markings(StoreBase):
    """Marking-definitions and marking sets (a part of :class:`~kizuna.store.sql.SqlStore`)."""

    def marking_definitions(self) -> dict[str, bytes]:
        with self._read.connect() as conn:
            rows = conn.execute(select(t.marking_definitions)).all()
        return {r[0]: bytes(r[1]) for r in rows}

    def marking_definition(self, marking_id: str) -> bytes | None:
        with self._read.connect() as conn:
            value = conn.execute(
                select(t.marking_definitions.c.body).where(t.marking_definitions.c.id == marking_id)
            ).scalar()
        return None if value is None else bytes(value)

    def put_marking_definitions(self, items: Iterable[tuple[str, bytes]]) -> None:
        """Store marking-definitions that are not stored yet (they are immutable)."""
        with self._writing() as conn:
            self._put_marking_definitions(conn, items)

    def _put_marking_definitions(
        self, conn: Connection, items: Iterable[tuple[str, bytes]]
    ) -> None:
        pending = dict(items)
        if not pending:
            return
        have = set(
            conn.execute(
                select(t.marking_definitions.c.id).where(
                    t.marking_definitions.c.id.in_(list(pending))
                )
            ).scalars()
        )
        rows = [{"id": k, "body": v} for k, v in pending.items() if k not in have]
        if rows:
            conn.execute(insert(t.marking_definitions), rows)
            self._bump(conn)

    def marking_sets(self) -> dict[int, tuple[str, ...]]:
        """Every marking set in use: id -> sorted marking-definition ids."""
        with self._read.connect() as conn:
            rows = conn.execute(select(t.marking_sets.c.id, t.marking_sets.c.key)).all()
        return {r[0]: tuple(k for k in r[1].split(",") if k) for r in rows}

    def _marking_set_id(self, conn: Connection, refs: tuple[str, ...]) -> int:
        key = ",".join(refs)
        cached = self._marking_set_cache.get(key)
        if cached is None:
            cached = self._pending_cache.get(key)
        if cached is not None:
            return cached
        found = conn.execute(
            select(t.marking_sets.c.id).where(t.marking_sets.c.key == key)
        ).scalar()
        if found is None:
            found = conn.execute(
                insert(t.marking_sets).values(key=key).returning(t.marking_sets.c.id)
            ).scalar_one()
            self._bump(conn)
        # Cached only once the transaction commits (see _writing); a rollback forgets it.
        self._pending_cache[key] = int(found)
        return int(found)
