"""Pull one remote collection into a local one, within the round's budget.

Pages are asked for with ``added_after`` (the cursor) and then ``next``; each is ingested as
the peer's organization (validated and gated like a POST) with its cursor, the peer's
``X-TAXII-Date-Added-Last`` once checked (sync/_checks.py), committed in the same transaction.
The next page is fetched while this one is stored when the cursor advanced.

Each object is judged alone: one that is malformed, too deep or too large is rejected,
counted and kept for ``kizuna peer status``, and the cursor moves past it. The pull stops,
with its reason in the report, when the peer loops (a ``next`` seen before), goes backwards,
sends dates that cannot be a cursor, or sends a page that brings nothing new without
advancing; and when the round's budget is spent (the next round resumes).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial

import msgspec
from sqlalchemy.exc import SQLAlchemyError

from kizuna.errors import KizunaError, SyncError
from kizuna.node import ObjectResult, ingest
from kizuna.stix.timestamps import format_micros
from kizuna.store.types import Collection, SyncCursor
from kizuna.sync._checks import next_problem, page_position
from kizuna.sync._envelope import peek_id, weight
from kizuna.sync._link import LinkReport, Round
from kizuna.sync.client import AnswerTooLarge, Page

log = logging.getLogger("kizuna.sync")

#: An object that may hold more JSON values than this is refused undecoded.
MAX_OBJECT_VALUES = 1_000_000
#: Objects are ingested in slices of at most this many values (bounding decoded memory).
SLICE_VALUES = 1_000_000
#: Marking-definitions fetched per page for objects that use ones this node lacks.
MAX_MISSING_MARKINGS = 200
#: Errors that are the node's, not an object's: they end the link, the cursor unmoved.
NODE_ERRORS = (SQLAlchemyError, OSError, KizunaError, MemoryError)

Fetch = Callable[[], Page]


def pull(rnd: Round, report: LinkReport) -> None:
    """Pull the peer's collection ``report.remote`` into ``report.local``, counting in *report*."""
    local, remote = report.local, report.remote
    collection = rnd.node.collection(local)
    if not rnd.node.snapshot().gate.access(rnd.principal, collection.id).can_write:
        raise KizunaError(
            f"peer {rnd.peer.name} acts for {rnd.peer.org}, which may not write to {local}: "
            f"kizuna grant DIR {local} --org {rnd.peer.org!r} --write"
        )
    _Pull(rnd, collection, remote, report).run()
    log.info(
        "pull %s <- %s:%s: %d received, %d stored, %d duplicates, %d rejected",
        local,
        rnd.peer.name,
        remote,
        report.received,
        report.stored,
        report.duplicates,
        report.rejected,
    )


class _Pull:
    def __init__(self, rnd: Round, collection: Collection, remote: str, report: LinkReport) -> None:
        self.rnd = rnd
        self.collection = collection
        self.remote = remote
        self.report = report
        self.cursor = rnd.node.store.cursor(rnd.peer.name, "pull", collection.id, remote)
        report.cursor = self.cursor
        self.after_us = None
        if self.cursor is not None:
            position = page_position(None, self.cursor, None)
            if position.problem or position.cursor_us is None:
                raise SyncError(
                    f"the stored cursor {self.cursor!r} is not a timestamp: set it with "
                    f"kizuna peer reset DIR {rnd.peer.name} [--since TIMESTAMP]"
                )
            self.after_us = position.cursor_us
        self.seen: set[str] = set()

    def _fetch(self, *, after: str | None = None, token: str | None = None, limit: int) -> Fetch:
        client = self.rnd.client
        if token is not None:
            return partial(client.get_objects, self.remote, next_token=token, limit=limit)
        return partial(client.get_objects, self.remote, added_after=after, limit=limit)

    def run(self) -> None:
        prefetch = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kizuna-prefetch")
        try:
            pending: Future[Page] | None = prefetch.submit(
                self._fetch(after=self.cursor, limit=self.rnd.page_size)
            )
            while pending is not None:
                try:
                    page = pending.result()
                except AnswerTooLarge as exc:
                    pending = prefetch.submit(self._skip(exc))
                    continue
                pending = self._page(page, prefetch)
        finally:
            # A prefetch still running ends by the round's deadline; nothing waits for it.
            prefetch.shutdown(wait=False, cancel_futures=True)

    def _page(self, page: Page, prefetch: ThreadPoolExecutor) -> Future[Page] | None:
        """Store *page*; the request for the next one, or None when the pull ends here."""
        rnd, report = self.rnd, self.report
        rnd.budget.spend_page()
        report.pages += 1
        if not page.objects:
            return None
        position = page_position(page.first_added, page.last_added, self.after_us)
        problem = position.problem
        advanced = position.cursor_us is not None
        token = page.next if page.more else None
        if token is not None and problem is None:
            problem = next_problem(token, self.seen)
            self.seen.add(token)
        bound = rnd.budget.exhausted()
        follow: Fetch | None = None
        if problem is None and bound is None and page.more:
            if token is not None:
                follow = self._fetch(token=token, limit=page.limit)
            elif position.cursor_us is not None:  # TAXII's other way: added_after the last date
                follow = self._fetch(after=format_micros(position.cursor_us), limit=page.limit)
        # The next page is fetched while this one is stored only when the cursor advanced:
        # whether a page that did not advance brought anything new is known once stored.
        pending = prefetch.submit(follow) if follow is not None and advanced else None
        cursor = None
        if advanced:
            assert position.cursor_us is not None
            cursor = format_micros(position.cursor_us)
        stored = self._store(page, cursor)
        if problem is None and not advanced and stored == 0:
            problem = (
                "no progress: a page brought nothing new and its X-TAXII-Date-Added-Last "
                f"({page.last_added or 'missing'}) did not advance past the cursor "
                f"({format_micros(self.after_us) if self.after_us is not None else 'none'})"
            )
        if rnd.progress:
            rnd.progress(f"pull {rnd.peer.name}:{self.remote}", len(page.objects))
        if position.cursor_us is not None:
            self.after_us = position.cursor_us
            self.cursor = report.cursor = cursor
        if problem is not None:
            report.error = problem
            return None
        if bound is not None and page.more:
            report.stopped = f"the round reached {bound}"
            return None
        if page.more and follow is None:
            log.warning(
                "pull %s from %s: the peer says more but gives no next token and no date to "
                "go on from; the pull ends here",
                self.remote,
                rnd.peer.name,
            )
        return pending if pending is not None or follow is None else prefetch.submit(follow)

    def _skip(self, exc: AnswerTooLarge) -> Fetch:
        """Refuse the one object whose answer is too large and move the cursor past it."""
        position = page_position(exc.first_added, exc.last_added, self.after_us)
        if position.cursor_us is None:
            raise SyncError(
                f"{exc}; one object is larger than that, and the answer gives no usable "
                "X-TAXII-Date-Added-Last to move past it: raise sync_max_answer_bytes, or "
                f"skip it with kizuna peer reset DIR {self.rnd.peer.name} --since TIMESTAMP"
            )
        self.rnd.budget.spend_page()
        self.report.pages += 1
        self.report.received += 1
        limit = self.rnd.budget.limits.max_answer_bytes
        self.report.reject(peek_id(exc.peek), f"larger than sync_max_answer_bytes ({limit})")
        self.after_us = position.cursor_us
        self.cursor = self.report.cursor = format_micros(position.cursor_us)
        self.rnd.node.store.set_cursor(self._cursor(self.cursor))
        return self._fetch(after=self.cursor, limit=self.rnd.page_size)

    def _cursor(self, position: str) -> SyncCursor:
        return SyncCursor(self.rnd.peer.name, "pull", self.collection.id, self.remote, position)

    def _store(self, page: Page, cursor: str | None) -> int:
        """Ingest *page* in slices, the cursor with the last; how many versions were new."""
        report = self.report
        report.received += len(page.objects)
        weighed: list[tuple[bytes, int]] = []
        for raw in page.objects:
            values = weight(raw)
            if values > MAX_OBJECT_VALUES:
                report.reject(peek_id(raw), f"holds more than {MAX_OBJECT_VALUES} JSON values")
            else:
                weighed.append((raw, values))
        fetched = self._missing_markings([raw for raw, _ in weighed])
        weighed[:0] = [(raw, weight(raw)) for raw in fetched]
        slices = _slices(weighed, self.rnd.page_size)
        before = report.stored
        for i, part in enumerate(slices):
            last = i == len(slices) - 1
            results = self._ingest(part, self._cursor(cursor) if cursor and last else None)
            self._tally(part, results)
        if cursor is not None and not slices:
            self.rnd.node.store.set_cursor(self._cursor(cursor))
        return report.stored - before

    def _ingest(self, objects: list[bytes], cursor: SyncCursor | None) -> list[ObjectResult]:
        """Ingest *objects*; when that fails for a reason of theirs, each on its own."""
        node, principal = self.rnd.node, self.rnd.principal
        try:
            return ingest(
                node.store,
                node.snapshot(),
                principal,
                self.collection,
                objects,
                principal.origin,
                cursor=cursor,
            )
        except NODE_ERRORS:
            raise
        except Exception as exc:  # an object the checks could not judge
            log.warning(
                "pull %s from %s: ingest failed on a slice (%s: %s); ingesting its %d objects "
                "one by one",
                self.remote,
                self.rnd.peer.name,
                type(exc).__name__,
                exc,
                len(objects),
            )
        results: list[ObjectResult] = []
        for raw in objects:
            try:
                results.extend(
                    ingest(
                        node.store,
                        node.snapshot(),
                        principal,
                        self.collection,
                        [raw],
                        principal.origin,
                    )
                )
            except NODE_ERRORS:
                raise
            except Exception as exc:
                reason = f"could not be checked ({type(exc).__name__}: {str(exc)[:200]})"
                results.append(ObjectResult(False, peek_id(raw), None, reason))
        if cursor is not None:
            node.store.set_cursor(cursor)
        return results

    def _tally(self, objects: list[bytes], results: Sequence[ObjectResult]) -> None:
        """Count *results* (one per object, in order); a rejection without an id (an object
        refused before it was decoded) is named by the id its bytes show."""
        report = self.report
        aligned = len(objects) == len(results)
        for i, r in enumerate(results):
            if r.stored:
                report.stored += 1
            elif r.ok:
                report.duplicates += 1
            else:
                oid = r.id if r.id is not None or not aligned else peek_id(objects[i])
                report.reject(oid, r.message)

    def _missing_markings(self, objects: list[bytes]) -> list[bytes]:
        """The marking-definitions *objects* use that this node lacks, from the peer.

        A publisher may list a marking-definition after the objects it marks, or in an earlier
        page than ours; fetching it from the same remote collection keeps those objects from
        being refused as marked with an unknown marking.
        """
        known = set(self.rnd.node.snapshot().markings)
        wanted: set[str] = set()
        for raw in objects:
            if b"marking" not in raw:
                continue
            try:
                obj = msgspec.json.decode(raw)
            except (msgspec.DecodeError, RecursionError):
                continue  # ingest rejects it
            if not isinstance(obj, dict):
                continue
            if obj.get("type") == "marking-definition" and isinstance(obj.get("id"), str):
                known.add(obj["id"])
            wanted.update(_marking_refs(obj))
        missing = sorted(wanted - known)
        if not missing:
            return []
        if len(missing) > MAX_MISSING_MARKINGS:
            log.warning(
                "pull %s from %s: a page uses %d unknown marking-definitions; fetching the "
                "first %d (objects marked with the others are rejected)",
                self.remote,
                self.rnd.peer.name,
                len(missing),
                MAX_MISSING_MARKINGS,
            )
            missing = missing[:MAX_MISSING_MARKINGS]
        fetched: list[bytes] = []
        for start in range(0, len(missing), 100):
            page = self.rnd.client.get_objects(
                self.remote, ids=missing[start : start + 100], limit=100
            )
            fetched.extend(page.objects)
        log.info(
            "fetched %d of %d missing marking-definition(s) from %s",
            len(fetched),
            len(missing),
            self.remote,
        )
        return fetched


def _marking_refs(obj: dict[str, object]) -> set[str]:
    """The marking-definition ids *obj* names, whatever the shape of its properties."""
    out: set[str] = set()
    refs = obj.get("object_marking_refs")
    if isinstance(refs, list):
        out.update(r for r in refs if isinstance(r, str) and _is_marking_id(r))
    entries = obj.get("granular_markings")
    if isinstance(entries, list):
        for entry in entries:
            if isinstance(entry, dict):
                ref = entry.get("marking_ref")
                if isinstance(ref, str) and _is_marking_id(ref):
                    out.add(ref)
    return out


def _is_marking_id(ref: str) -> bool:
    return ref.startswith("marking-definition--") and len(ref) == 56


def _slices(weighed: list[tuple[bytes, int]], size: int) -> list[list[bytes]]:
    """The objects of *weighed* (bytes, weight) in order, in slices of at most *size* objects
    and SLICE_VALUES values."""
    out: list[list[bytes]] = []
    current: list[bytes] = []
    values = 0
    for raw, w in weighed:
        if current and (len(current) >= size or values + w > SLICE_VALUES):
            out.append(current)
            current, values = [], 0
        current.append(raw)
        values += w
    if current:
        out.append(current)
    return out
