"""What sync rounds did, for the operator: the last round of each link, recent rejections,
and the cursors set by hand (``kizuna peer status`` and ``kizuna peer reset``)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, insert, select

from kizuna.store import schema as t
from kizuna.store._base import StoreBase
from kizuna.store.types import SyncCursor, SyncRejection, SyncRound

#: Rejections kept per peer (the newest).
KEEP_REJECTIONS = 1000


class SyncLog(StoreBase):
    #: Rejections kept per peer (the newest).
    kept_rejections = KEEP_REJECTIONS

    def record_sync_round(
        self, sync_round: SyncRound, rejections: Sequence[tuple[str | None, str]]
    ) -> None:
        """Replace the link's last round with *sync_round*; keep its *rejections*."""
        r = sync_round
        c = t.sync_rounds.c
        with self._writing() as conn:
            conn.execute(
                delete(t.sync_rounds).where(
                    c.peer == r.peer,
                    c.direction == r.direction,
                    c.local_collection == r.local_collection,
                    c.remote_collection == r.remote_collection,
                )
            )
            conn.execute(
                insert(t.sync_rounds).values(
                    peer=r.peer,
                    direction=r.direction,
                    local_collection=r.local_collection,
                    remote_collection=r.remote_collection,
                    started_us=r.started_us,
                    finished_us=r.finished_us,
                    pages=r.pages,
                    received=r.received,
                    stored=r.stored,
                    duplicates=r.duplicates,
                    rejected=r.rejected,
                    sent=r.sent,
                    refused=r.refused,
                    error=r.error,
                    stopped=r.stopped,
                )
            )
            kept = list(rejections)[-KEEP_REJECTIONS:]
            if not kept:
                return
            conn.execute(
                insert(t.sync_rejections),
                [
                    {
                        "peer": r.peer,
                        "direction": r.direction,
                        "local_collection": r.local_collection,
                        "remote_collection": r.remote_collection,
                        "at_us": r.finished_us,
                        "object_id": oid,
                        "reason": reason,
                    }
                    for oid, reason in kept
                ],
            )
            s = t.sync_rejections.c
            newest = (
                select(s.seq)
                .where(s.peer == r.peer)
                .order_by(s.seq.desc())
                .offset(KEEP_REJECTIONS - 1)
                .limit(1)
                .scalar_subquery()
            )
            conn.execute(delete(t.sync_rejections).where(s.peer == r.peer, s.seq < newest))

    def sync_rounds(self, peer: str | None = None) -> list[SyncRound]:
        c = t.sync_rounds.c
        query = select(t.sync_rounds).order_by(c.peer, c.direction, c.local_collection)
        if peer is not None:
            query = query.where(c.peer == peer)
        with self._read.connect() as conn:
            rows = conn.execute(query).all()
        return [SyncRound(**r._mapping) for r in rows]

    def sync_rejections(self, peer: str, limit: int = 20) -> list[SyncRejection]:
        """The newest *limit* rejections of *peer*'s rounds, newest first."""
        s = t.sync_rejections.c
        query = (
            select(
                s.peer,
                s.direction,
                s.local_collection,
                s.remote_collection,
                s.at_us,
                s.object_id,
                s.reason,
            )
            .where(s.peer == peer)
            .order_by(s.seq.desc())
            .limit(limit)
        )
        with self._read.connect() as conn:
            rows = conn.execute(query).all()
        return [SyncRejection(**r._mapping) for r in rows]

    def sync_cursors(self, peer: str) -> list[SyncCursor]:
        c = t.sync_cursors.c
        with self._read.connect() as conn:
            rows = conn.execute(
                select(c.peer, c.direction, c.local_collection, c.remote_collection, c.position)
                .where(c.peer == peer)
                .order_by(c.direction, c.local_collection, c.remote_collection)
            ).all()
        return [SyncCursor(*r) for r in rows]

    def delete_cursor(self, peer: str, direction: str, local: str, remote: str) -> None:
        """Forget a link's cursor: its next round starts from the beginning."""
        c = t.sync_cursors.c
        with self._writing() as conn:
            conn.execute(
                delete(t.sync_cursors).where(
                    c.peer == peer,
                    c.direction == direction,
                    c.local_collection == local,
                    c.remote_collection == remote,
                )
            )
