"""The search page: full-text search through the gate (:func:`kizuna.search.search`)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from kizuna.errors import BadRequest
from kizuna.node import Snapshot
from kizuna.search import Found, SearchResult, lookup, observable_of, search
from kizuna.stix.markings import TLP2_IDS
from kizuna.web import _reads as reads
from kizuna.web import _views as views
from kizuna.web._browse import _date_us
from kizuna.web._sessions import Session
from kizuna.web._ui import Refused, Ui

LIMIT = 100
#: How many objects a search counts; past it the page says "CAP+ found".
CAP = 1000
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
    marking = q.get("marking", "")
    origin = q.get("origin", "").strip()
    added_from, added_to = q.get("from", ""), q.get("to", "")
    start, until = _date_us(added_from), _date_us(added_to, end=True)

    def keep(f: Found) -> bool:
        added = f.released.row.added_us
        return (
            (not marking or marking in views.marking_refs(f.obj))
            and (not origin or f.released.row.origin.startswith(origin))
            and (start is None or added >= start)
            and (until is None or added < until)
        )

    filtered = bool(marking or origin or start is not None or until is not None)
    result: SearchResult | None = None
    exact: SearchResult | None = None
    observable = observable_of(text) if text else None
    if text and wanted and not collections:
        result = SearchResult([], 0, False)
        exact = result if observable else None
    elif text:
        args = {"types": types, "collections": collections, "limit": LIMIT, "cap": CAP,
                "snap": snap, "keep": keep if filtered else None}
        try:
            result = search(ui.node, p, text, **args)  # type: ignore[arg-type]
            if observable is not None and ui.node.store.value_keys is not None:
                exact = lookup(ui.node, p, *observable, **args)  # type: ignore[arg-type]
        except BadRequest as exc:
            raise Refused(400, exc.message) from None
    shown = [f for r in (result, exact) if r for f in r.items]
    tlp = [(TLP2_IDS[k], f"TLP:{k.upper()}") for k in ("clear", "green", "amber", "amber+strict", "red")]
    carried = sorted({m for f in shown for m in views.marking_refs(f.obj)} | ({marking} if marking else set()))
    private = reads.private_markings(ui.node, snap, p, carried)
    markings = tlp + [(m, views.marking_labels(snap, [m], private)[0].text) for m in carried
                      if m not in dict(tlp)]
    return ui.page(
        request, "search.html", session, title=f"Search: {text}" if text else "Search",
        q=text, result=result, exact=exact, observable=observable, types=TYPES,
        chosen_types=set(types), collections=sorted(readable, key=lambda c: c.title),
        chosen=set(collections), markings=markings,
        f={"marking": marking, "origin": origin, "from": added_from, "to": added_to},
    )
