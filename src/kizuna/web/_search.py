"""The search page: full-text search through the gate (:func:`kizuna.search.search`)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from kizuna.errors import BadRequest
from kizuna.node import Snapshot
from kizuna.search import SearchResult, search
from kizuna.web import _reads as reads
from kizuna.web._sessions import Session
from kizuna.web._ui import Refused, Ui

LIMIT = 100
#: The longest query the page takes.
MAX_QUERY = 500
#: The types offered as filters (any other STIX type may still be asked for by ?type=).
TYPES = (
    "attack-pattern", "campaign", "identity", "indicator", "intrusion-set", "malware",
    "note", "observed-data", "report", "threat-actor", "tool", "vulnerability",
    "x-kizuna-space-object", "x-kizuna-conjunction",
)


def search_page(ui: Ui, request: Request, snap: Snapshot, session: Session) -> Response:
    q = request.query_params
    text = q.get("q", "").strip()
    if len(text) > MAX_QUERY:
        raise Refused(400, f"A search is at most {MAX_QUERY} characters long; this one has {len(text)}.")
    types = [t for t in q.getlist("type") if t]
    p = session.principal
    readable = reads.readable_collections(snap, p)
    # A collection the user may not read is dropped, as an unknown one is: nothing to tell.
    wanted = [c for c in q.getlist("collection") if c]
    collections = [c.id for c in readable if c.id in wanted]
    result: SearchResult | None = None
    if text and wanted and not collections:
        result = SearchResult([], 0, False)
    elif text:
        try:
            result = search(
                ui.node, p, text, types=types, collections=collections, limit=LIMIT,
                cap=1000, snap=snap,
            )
        except BadRequest as exc:
            raise Refused(400, exc.message) from None
    return ui.page(
        request, "search.html", session, title=f"Search: {text}" if text else "Search",
        q=text, result=result, types=TYPES, chosen_types=set(types),
        collections=sorted(readable, key=lambda c: c.title), chosen=set(collections),
    )
