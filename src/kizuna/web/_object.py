"""The object page: one object as it reads, its markings, links, history and thread."""

from __future__ import annotations

from collections import defaultdict
from itertools import pairwise
from typing import Any
from urllib.parse import quote

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response

from kizuna.cyber.benign import stored_benign
from kizuna.cyber.correlate import Related, related
from kizuna.errors import BadRequest
from kizuna.node import Snapshot
from kizuna.web import _graph as graph
from kizuna.web import _plots as plots
from kizuna.web import _reads as reads
from kizuna.web import _views as views
from kizuna.web._notes import marking_choices
from kizuna.web._sessions import Session
from kizuna.web._ui import PREFIX, Ui

#: Properties the page shows in its own sections, not in the table of other properties.
SHOWN = frozenset(
    {
        "type", "id", "spec_version", "created", "modified", "name", "description",
        "object_marking_refs", "external_references", "kill_chain_phases", "pattern",
        "pattern_type", "valid_from", "valid_until", "object_refs", "source_ref", "target_ref",
        "relationship_type", "sighting_of_ref", "where_sighted_refs", "observed_data_refs",
        "content", "abstract", "authors", "opinion", "explanation", "elements", "extensions",
        "created_by_ref", "labels", "aliases", "tca", "miss_distance_km",
        "relative_speed_km_s", "collision_probability", "collision_probability_method",
        "space_object_refs", "miss_rtn_km", "norad_cat_id", "international_designator",
        "count", "first_seen", "last_seen", "identity_class", "sectors", "published",
        "granular_markings", "report_types",
    }
)


def object_page(ui: Ui, request: Request, snap: Snapshot, session: Session, *,
                status: int = 200, note_error: str = "") -> Response:
    sid = request.path_params["sid"]
    p = session.principal
    history = reads.versions_of(ui.node, snap, p, sid)
    if not history:
        return ui.not_found(request, session)
    wanted = request.query_params.get("version", "")
    current = history[0]
    if wanted:
        match = [h for h in history if str(h.obj.get("modified", "")) == wanted or str(h.version_us) == wanted]
        if not match:
            return ui.not_found(request, session)
        current = match[0]
    obj = current.obj
    labels = views.marking_labels(snap, views.marking_refs(obj), reads.private_markings(
        ui.node, snap, p, views.marking_refs(obj)))
    exercise = views.is_exercise(labels) or current.collection.kind.startswith("exercise:")

    out_refs = reads.refs_of(obj)
    linked, capped = reads.linking(ui.node, snap, p, sid)
    names_needed = [i for _, i in out_refs]
    for item in linked:
        names_needed.extend(v for _, v in reads.refs_of(item.obj))
    known = reads.objects_by_id(ui.node, snap, p, names_needed)
    if isinstance(obj.get("created_by_ref"), str):
        known.update(reads.objects_by_id(ui.node, snap, p, [obj["created_by_ref"]]))

    rel_out: dict[str, list[reads.Item]] = defaultdict(list)
    rel_in: dict[str, list[reads.Item]] = defaultdict(list)
    sightings, thread, reports = [], [], []
    for item in linked:
        t = item.obj.get("type")
        if t == "relationship":
            kind = str(item.obj.get("relationship_type", "related-to"))
            if item.obj.get("source_ref") == sid:
                rel_out[kind].append(item)
            if item.obj.get("target_ref") == sid:
                rel_in[kind].append(item)
        elif t == "sighting":
            sightings.append(item)
        elif t in ("note", "opinion"):
            thread.append(item)
        else:
            reports.append(item)
    thread.sort(key=lambda i: str(i.obj.get("created", "")))
    thread_private = reads.private_markings(
        ui.node, snap, p, {r for n in thread for r in views.marking_refs(n.obj)})
    # What the relationships and sightings of this object connect it to, one or two hops out.
    hops = 2 if request.query_params.get("hops") == "2" else 1
    hood = graph.neighbourhood(ui.node, snap, p, sid, hops, linked)

    shared_values, shared_more = _related(ui, session, sid)
    tied = [i for r in shared_values for i in (r.object_id, r.via) if i]
    known.update(reads.objects_by_id(ui.node, snap, p, tied))

    steps = []
    for newer, older in pairwise(history):
        steps.append((newer, views.changes(older.obj, newer.obj)))
    steps.append((history[-1], []))

    choices, target_collections = marking_choices(ui.node, snap, p, current)
    others = {k: v for k, v in obj.items() if k not in SHOWN and not k.startswith("x_kizuna_")}
    return ui.page(
        request,
        "object.html",
        session,
        status,
        title=_title(obj, known),
        obj=obj,
        item=current,
        t=str(obj.get("type", "")),
        labels=labels,
        tlp=views.tlp_of(labels),
        exercise=exercise,
        history=steps,
        latest=history[0],
        out_refs=out_refs,
        known=known,
        rel_out=sorted(rel_out.items()),
        rel_in=sorted(rel_in.items()),
        sightings=sightings,
        thread=thread,
        reports=reports,
        hood=hood,
        hood_svg=graph.svg(hood, _title(obj, known), lambda i: f"{PREFIX}/objects/{quote(i, safe='')}"),
        links_capped=capped,
        shared_values=shared_values,
        shared_more=shared_more,
        orbit=views.orbit_summary(obj),
        plots=_plots_of(obj),
        others=sorted(others.items()),
        choices=choices,
        note_collections=target_collections,
        note_error=note_error,
        form=_form_defaults(request),
        label_of=lambda refs: views.marking_labels(snap, refs, thread_private),
        marking_refs=views.marking_refs,
    )


#: Related objects the page lists at most (the rest: ``kizuna related``, the TAXII extension).
RELATED_SHOWN = 50


def _related(ui: Ui, session: Session, sid: str) -> tuple[list[Related], bool]:
    """Objects that share an observable value with *sid*, as the principal may see them
    (the function behind ``kizuna related``); none when the node keeps no value index."""
    try:
        page = related(ui.node, session.principal, sid, limit=RELATED_SHOWN,
                       benign=stored_benign(ui.node.store))
    except BadRequest:  # value_index = false
        return [], False
    return page.items, page.next is not None


def _plots_of(obj: dict[str, Any]) -> list[tuple[str, Markup]]:
    """A conjunction's plots (caption, SVG), drawn from the object as released."""
    if obj.get("type") != "x-kizuna-conjunction":
        return []
    out = []
    distance = plots.distance_plot(obj)
    if distance is not None:
        out.append(("Relative distance over time around TCA (straight-line relative motion)",
                    distance))
    plane = plots.encounter_plot(obj)
    if plane is not None:
        out.append(("Encounter plane: the miss vector, the combined covariance's ellipses and "
                    "the hard-body circle", plane))
    return out


def _form_defaults(request: Request) -> dict[str, Any]:
    form = getattr(request.state, "form", None) or {}
    return {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf"}


def _title(obj: dict[str, Any], known: dict[str, reads.Item]) -> str:
    """The page's heading: a conjunction is named by its two objects."""
    refs = obj.get("space_object_refs")
    if obj.get("type") == "x-kizuna-conjunction" and isinstance(refs, list):
        carried = views.carried_names(obj)
        names = [
            views.display_name(known[r].obj) if r in known else carried.get(str(r), str(r))
            for r in refs
        ]
        return " × ".join(names)
    return views.display_name(obj)
