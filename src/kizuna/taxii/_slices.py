"""A POST of a very large envelope, ingested in slices so that other requests go on.

An envelope of 100,000 objects takes seconds to validate and store. Done in one step, it held
the database's write lock for all of it (every other writer waited), one msgspec call decoded
the whole body (no other thread of the process ran meanwhile), and alone on the server it ran
on the event loop's thread (no request was even read). A body larger than
:data:`LARGE_BODY` is therefore

- split into its objects a mebibyte at a time (``node.split_objects``), in a worker thread;
- ordered: marking- and extension-definitions first (objects of later slices may be marked
  with them), then the objects, then notes and opinions (so that what they annotate is stored
  before they are judged against it); the status lists every object as its envelope did;
- ingested :data:`SLICE` objects at a time, each slice in a transaction of its own, in a
  worker thread, with a pause between slices for the other writers and requests: while other
  requests are in flight, as long as the slice took (they get half of the time), and threads
  take turns of 1 ms instead of 5 ms meanwhile.

The status resource is stored with the last slice. Each object is stored whole or not at all,
as ever; the envelope no longer is: if the node fails midway (a full disk), the slices before
are stored, the error says how many objects that was, and sending the envelope again stores the
rest (what is stored already is recognized).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import Callable, Iterator

import msgspec

from kizuna.errors import BadRequest, InvalidInput, KizunaError
from kizuna.node import Node, ObjectResult, check_batch, split_objects, store_batch
from kizuna.policy.principal import Principal
from kizuna.store.errors import resource_error
from kizuna.store.types import Collection, StatusRow
from kizuna.taxii._context import in_thread
from kizuna.taxii._resources import status_resource

#: A body larger than this (bytes) is ingested in slices; a smaller one in one transaction.
LARGE_BODY = 4 << 20
#: Objects per slice.
SLICE = 500
#: Seconds between two slices: the other writers take the write lock, other requests the
#: interpreter.
PAUSE = 0.005
#: The interpreter's switch interval while a large envelope is ingested (CPython's is 5 ms).
TURN = 0.001

_FIRST = frozenset({"marking-definition", "extension-definition"})
_LAST = frozenset({"note", "opinion"})


class _Typed(msgspec.Struct):
    type: str = ""


def _split(body: bytes, max_object_bytes: int) -> list[bytes]:
    try:
        return split_objects(body, "the request body", max_object_bytes)
    except InvalidInput as exc:
        raise BadRequest(f"{exc.message}; expected a TAXII 2.1 envelope {{\"objects\": [...]}}") from None


def _order(raw: list[bytes]) -> list[int]:
    """The objects' positions: definitions first, annotations last, the rest in order."""
    first: list[int] = []
    middle: list[int] = []
    last: list[int] = []
    for i, item in enumerate(raw):
        try:
            kind = msgspec.json.decode(item, type=_Typed).type
        except (msgspec.DecodeError, msgspec.ValidationError):
            kind = ""
        (first if kind in _FIRST else last if kind in _LAST else middle).append(i)
    return first + middle + last


async def ingest_in_slices(
    node: Node,
    principal: Principal,
    collection: Collection,
    body: bytes,
    status_id: str,
    request_us: int,
    busy_now: Callable[[], bool],
) -> tuple[list[ObjectResult], bytes]:
    """Ingest the envelope *body* slice by slice; every object's result (in the envelope's
    order) and the status resource, stored with the last slice. *busy_now* says whether other
    requests are in flight (then they get half the time)."""
    raw = await in_thread(_split, body, node.config.max_body_bytes)
    order = await in_thread(_order, raw)
    results: list[ObjectResult | None] = [None] * len(raw)
    stored = 0
    encoded = b""

    def one_slice(positions: list[int], last: bool) -> int:
        """Ingest the objects at *positions*; how many were stored."""
        nonlocal encoded
        store = node.store
        # A new snapshot per slice: it holds the marking-definitions the slices before stored.
        snap = node.snapshot()
        batch = check_batch(
            store, snap, principal, collection, [raw[i] for i in positions], principal.origin
        )
        if not batch.accepted and not last:
            part = batch.finished([])
            for i, result in zip(positions, part, strict=True):
                results[i] = result
            return 0
        with store.transaction() as tx:
            part = store_batch(tx, batch)
            for i, result in zip(positions, part, strict=True):
                results[i] = result
            if last:
                done = [r for r in results if r is not None]
                encoded = msgspec.json.encode(status_resource(status_id, request_us, done))
                tx.put_status(StatusRow(status_id, collection.id, str(principal.key), encoded))
        return sum(1 for r in part if r.stored)

    slices = [order[i : i + SLICE] for i in range(0, len(order), SLICE)] or [[]]
    with _short_turns():
        for n, positions in enumerate(slices):
            began = time.monotonic()
            try:
                stored += await in_thread(one_slice, positions, n == len(slices) - 1)
            except Exception as exc:
                raise _midway(exc, stored, n) from exc
            if n < len(slices) - 1:
                # While other requests are in flight, they get as much time as the slice took.
                busy = busy_now()
                await asyncio.sleep(time.monotonic() - began if busy else PAUSE)
    return [r for r in results if r is not None], encoded


_turns = [0, sys.getswitchinterval()]


@contextlib.contextmanager
def _short_turns() -> Iterator[None]:
    """While a large envelope is ingested, threads take the interpreter in turns of
    :data:`TURN` seconds instead of 5 ms: a request waits less for the thread that ingests
    (each of its steps waits for a turn to end)."""
    if _turns[0] == 0:
        _turns[1] = sys.getswitchinterval()
        sys.setswitchinterval(TURN)
    _turns[0] += 1
    try:
        yield
    finally:
        _turns[0] -= 1
        if _turns[0] == 0:
            sys.setswitchinterval(_turns[1])


def _midway(exc: Exception, stored: int, slices_done: int) -> BaseException:
    """*exc*, named (a full disk ...) and saying what the slices before it stored."""
    named = exc if isinstance(exc, KizunaError) else resource_error(exc)
    if named is None or not slices_done:
        return exc
    said = (
        f"{stored} object(s) of the first {slices_done * SLICE} of the envelope were stored "
        f"before (it is stored in slices of {SLICE}); send it again to store the rest"
    )
    message = named.message.replace("nothing of this request was stored", said)
    named.message = message if message != named.message else f"{named.message} ({said})"
    return named
