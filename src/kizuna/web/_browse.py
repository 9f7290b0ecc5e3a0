"""The home page and the collection pages: what is new, lists, filters, counts, export."""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from kizuna.node import Snapshot
from kizuna.policy.principal import Principal
from kizuna.policy.required import WITHHOLDABLE_TYPES
from kizuna.store.types import Collection
from kizuna.sync.status import peer_status
from kizuna.web import _reads as reads
from kizuna.web import _views as views
from kizuna.web._sessions import Session
from kizuna.web._ui import PREFIX, Refused, Ui

SEEN_COOKIE = "kizuna_seen"
DAY_US = 86_400_000_000
PAGE_SIZE = 50
SORTS = {
    "added": "date added",
    "name": "name",
    "type": "type",
    "modified": "last modified",
}
CONJUNCTION = "x-kizuna-conjunction"


def _now_us() -> int:
    return int(time.time() * 1e6)


def home(ui: Ui, request: Request, snap: Snapshot, session: Session) -> Response:
    p = session.principal
    try:
        last = int(request.cookies.get(SEEN_COOKIE, "0"))
    except ValueError:
        last = 0
    since = last or _now_us() - 7 * DAY_US
    collections = []
    reports: list[reads.Item] = []
    conjunctions: list[reads.Item] = []
    for c in reads.readable_collections(snap, p):
        new = Counter(i.obj.get("type", "?") for i in reads.scan(ui.node, snap, p, c, after_us=since, cap=1000))
        collections.append((c, sum(new.values()), new.most_common(5)))
        reports.extend(reads.scan(ui.node, snap, p, c, types=("report",), after_us=_now_us() - 90 * DAY_US, cap=200))
        conjunctions.extend(
            reads.scan(ui.node, snap, p, c, types=(CONJUNCTION,), after_us=_now_us() - 30 * DAY_US, cap=500)
        )
    reports.sort(key=lambda i: i.added_us, reverse=True)

    def risk(i: reads.Item) -> tuple[float, float]:
        pc = i.obj.get("collision_probability")
        miss = i.obj.get("miss_distance_km")
        return (-float(pc) if isinstance(pc, int | float) else 0.0,
                float(miss) if isinstance(miss, int | float) else 1e12)

    conjunctions.sort(key=risk)
    conjunctions = conjunctions[:10]
    refs = {str(r) for i in conjunctions for r in i.obj.get("space_object_refs") or []}
    names = {k: views.display_name(v.obj) for k, v in reads.objects_by_id(ui.node, snap, p, sorted(refs)).items()}
    response = ui.page(
        request,
        "home.html",
        session,
        title="Home",
        since=views.iso(since),
        collections=collections,
        reports=reports[:10],
        conjunctions=conjunctions,
        names=names,
        peers=peer_summaries(ui) if session.is_admin else [],
    )
    response.set_cookie(SEEN_COOKIE, str(_now_us()), max_age=400 * 86400, httponly=True,
                        samesite="strict", secure=ui.secure(request), path=PREFIX + "/")
    return response


@dataclass(frozen=True, slots=True)
class PeerSummary:
    """A peer's last sync as the home page shows it: its links' last rounds added up."""

    name: str
    org: str
    last_us: int | None  # when its latest round started
    received: int
    stored: int
    rejected: int  # pulled objects refused here, and pushed ones the peer refused
    sent: int
    errors: list[str]
    links: int


def peer_summaries(ui: Ui) -> list[PeerSummary]:
    """Each configured peer's last sync (``kizuna peer status``, summed over its links)."""
    out = []
    for status in peer_status(ui.node, None, 0):
        rounds = [link.last_round for link in status.links if link.last_round is not None]
        errors = [f"{r.direction} {r.remote_collection}: {r.error}" for r in rounds if r.error]
        out.append(PeerSummary(
            name=status.peer.name,
            org=status.peer.org,
            last_us=max((r.started_us for r in rounds), default=None),
            received=sum(r.received for r in rounds),
            stored=sum(r.stored for r in rounds),
            rejected=sum(r.rejected + r.refused for r in rounds),
            sent=sum(r.sent for r in rounds),
            errors=errors,
            links=len(status.links),
        ))
    return out


def _date_us(text: str, end: bool = False) -> int | None:
    if not text:
        return None
    try:
        day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise Refused(400, f"dates are YYYY-MM-DD (UTC), such as 2026-05-20; got {text!r}") from None
    return int(day.timestamp() * 1e6) + (DAY_US if end else 0)


def collection_of(ui: Ui, snap: Snapshot, session: Session, cid: str) -> Collection | None:
    c = snap.collection(cid)
    if c is None or not snap.gate.access(session.principal, c.id).can_read:
        return None
    return c


#: The key of a collection's counts: node, principal, collection, snapshot generation and
#: the store's change counters the counts depend on (:func:`_changes`).
_Key = tuple[str, Principal, str, int, int, int]
#: Counts by type per key; keyed by the whole principal, as every cache of what one may see
#: (policy/principal.py). A write the counts depend on moves a counter of the key, in the
#: transaction of the write and in every process of the node, so no request is answered with
#: counts made before it. Made on the first request that needs them; after COUNTS_SECONDS a
#: request is answered with the counts it has while a thread makes them again.
_COUNTS: dict[_Key, tuple[float, Counter[str], bool]] = {}
_COUNTING: set[_Key] = set()
_COUNTS_LOCK = threading.Lock()
COUNTS_SECONDS = 30.0
#: Whether a collection holds versions the fine pass may withhold, per (node, collection):
#: (the collection's change counter when asked, the answer).
_WITHHOLDABLE: dict[tuple[str, str], tuple[int, bool]] = {}


def _changes(ui: Ui, c: Collection) -> tuple[int, int]:
    """The change counters *c*'s counts depend on: its own (a version stored in it, deleted,
    its redaction flag set), and, when it holds a relationship, sighting, note, report or any
    other type with a required reference, every collection's. Such a version is withheld when
    what it refers to is hidden (node/_hidden.py), which a write to another collection the
    principal reads decides: a new version of the target, more restricted."""
    own, every = ui.node.store.changes(c.id)
    where = (str(ui.node.directory), c.id)
    known = _WITHHOLDABLE.get(where)
    if known is None or known[0] != own:
        known = (own, ui.node.store.holds_types(c.id, sorted(WITHHOLDABLE_TYPES)))
        with _COUNTS_LOCK:
            if len(_WITHHOLDABLE) > 1000:
                _WITHHOLDABLE.clear()
            _WITHHOLDABLE[where] = known
    return own, every if known[1] else 0


def _count(ui: Ui, snap: Snapshot, principal: Principal, c: Collection) -> tuple[Counter[str], bool]:
    """The visible versions of *c* by type, read through the gate (rows only, not decoded)."""
    counts: Counter[str] = Counter()
    total = 0
    for released in reads.scan_released(ui.node, snap, principal, c, batch=2000):
        counts[released.row.type] += 1
        total += 1
    return counts, total >= reads.SCAN_CAP


def _keep(key: _Key, made: tuple[Counter[str], bool]) -> None:
    with _COUNTS_LOCK:
        if len(_COUNTS) > 1000:
            _COUNTS.clear()
        _COUNTS[key] = (time.monotonic() + COUNTS_SECONDS, *made)
        _COUNTING.discard(key)


def _recount(ui: Ui, snap: Snapshot, principal: Principal, c: Collection, key: _Key) -> None:
    try:
        _keep(key, _count(ui, snap, principal, c))
    except Exception:  # the next request counts again (the store may have been closed)
        with _COUNTS_LOCK:
            _COUNTING.discard(key)


def _counts(ui: Ui, snap: Snapshot, session: Session, c: Collection) -> tuple[Counter[str], bool]:
    # The counters are read before the versions are counted: a write between the two makes
    # counts that hold it, under a key no later request asks for (it reads the moved one).
    key = (str(ui.node.directory), session.principal, c.id, snap.generation, *_changes(ui, c))
    with _COUNTS_LOCK:
        hit = _COUNTS.get(key)
        stale = hit is not None and hit[0] <= time.monotonic()
        refresh = stale and key not in _COUNTING
        if refresh:
            _COUNTING.add(key)
    if hit is not None:
        if refresh:
            threading.Thread(target=_recount, args=(ui, snap, session.principal, c, key),
                             name="kizuna-ui-counts", daemon=True).start()
        return hit[1], hit[2]
    made = _count(ui, snap, session.principal, c)
    _keep(key, made)
    return made


def collection(ui: Ui, request: Request, snap: Snapshot, session: Session) -> Response:
    c = collection_of(ui, snap, session, request.path_params["cid"])
    if c is None:
        return ui.not_found(request, session)
    q = request.query_params
    want_type = q.get("type", "")
    want_marking = q.get("marking", "")
    want_origin = q.get("origin", "").strip()
    added_from, added_to = q.get("from", ""), q.get("to", "")
    sort = q.get("sort", "added") if q.get("sort", "added") in SORTS else "added"
    try:
        after = int(q["after"]) if q.get("after") else None
    except ValueError:
        raise Refused(400, "after= is the position a Next link gives") from None
    start = after if after is not None else _date_us(added_from)
    if start is not None:
        start -= 0 if after is not None else 1
    until = _date_us(added_to, end=True)
    items: list[reads.Item] = []
    more = False
    for item in reads.scan(
        ui.node, snap, session.principal, c, types=(want_type,) if want_type else (), after_us=start
    ):
        if until is not None and item.added_us >= until:
            break
        if want_marking and want_marking not in views.marking_refs(item.obj):
            continue
        if want_origin and not item.origin.startswith(want_origin):
            continue
        if len(items) == PAGE_SIZE:
            more = True
            break
        items.append(item)
    next_after = items[-1].added_us if more and items else None
    if sort == "name":
        items.sort(key=lambda i: views.display_name(i.obj).casefold())
    elif sort == "type":
        items.sort(key=lambda i: (str(i.obj.get("type")), views.display_name(i.obj).casefold()))
    elif sort == "modified":
        items.sort(key=lambda i: str(i.obj.get("modified", "")), reverse=True)
    counts, capped = _counts(ui, snap, session, c)
    markings = sorted(
        {r for i in items for r in views.marking_refs(i.obj)} | ({want_marking} if want_marking else set())
    )
    private = reads.private_markings(ui.node, snap, session.principal, markings)
    rows = [(i, views.marking_labels(snap, views.marking_refs(i.obj), private)) for i in items]
    params = {k: v for k, v in q.items() if k != "after" and v}
    can_write = snap.gate.access(session.principal, c.id).can_write and c.kind != "definitions"
    return ui.page(
        request,
        "collection.html",
        session,
        title=c.title,
        collection=c,
        rows=rows,
        counts=counts.most_common(),
        counts_capped=capped,
        total=sum(counts.values()),
        markings=[(m, views.marking_labels(snap, [m], private)[0].text) for m in markings],
        f={"type": want_type, "marking": want_marking, "origin": want_origin,
           "from": added_from, "to": added_to, "sort": sort},
        sorts=SORTS,
        next_query=_query({**params, "after": str(next_after)}) if next_after else "",
        can_write=can_write,
        exercise=c.kind.startswith("exercise:"),
        summary=None,
    )


def _query(params: dict[str, Any]) -> str:
    from urllib.parse import urlencode

    return urlencode(params)


def export(ui: Ui, request: Request, snap: Snapshot, session: Session) -> Response:
    """The collection as a STIX bundle of what the user may see (latest versions)."""
    c = collection_of(ui, snap, session, request.path_params["cid"])
    if c is None:
        return ui.not_found(request, session)
    principal = session.principal

    def body() -> Iterator[bytes]:
        yield b'{"type":"bundle","id":"bundle--' + _uuid().encode() + b'","objects":['
        first = True
        for item in reads.scan(ui.node, snap, principal, c, cap=10**9, batch=2000):
            yield (b"" if first else b",") + item.released.body
            first = False
        yield b"]}\n"

    name = re.sub(r"[^A-Za-z0-9._-]", "_", c.alias or c.id) + ".json"
    return StreamingResponse(
        body(),
        media_type="application/stix+json;version=2.1",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


def _uuid() -> str:
    import uuid

    return str(uuid.uuid4())
