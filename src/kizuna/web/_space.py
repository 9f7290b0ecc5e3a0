"""The space page: the catalog and the conjunctions, sortable and filterable."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from kizuna.node import Snapshot
from kizuna.web import _reads as reads
from kizuna.web import _views as views
from kizuna.web._sessions import Session
from kizuna.web._ui import Refused, Ui

SPACE_OBJECT = "x-kizuna-space-object"
CONJUNCTION = "x-kizuna-conjunction"
LIMIT = 200
CONJ_SORTS = ("tca", "miss", "pc")


def _float(text: str, what: str) -> float | None:
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise Refused(400, f"{what} is a number; got {text!r}") from None


def space(ui: Ui, request: Request, snap: Snapshot, session: Session) -> Response:
    q = request.query_params
    name = q.get("q", "").strip().casefold()
    obj_filter = q.get("object", "").strip().casefold()
    max_miss = _float(q.get("max_miss", ""), "The largest miss distance (km)")
    min_pc = _float(q.get("min_pc", ""), "The smallest Pc")
    sort = q.get("sort", "tca") if q.get("sort", "tca") in CONJ_SORTS else "tca"
    p = session.principal
    catalog: list[reads.Item] = []
    conjunctions: list[reads.Item] = []
    for c in reads.readable_collections(snap, p):
        for item in reads.scan(ui.node, snap, p, c, types=(SPACE_OBJECT,)):
            text = f"{item.obj.get('name', '')} {item.obj.get('norad_cat_id', '')} {item.obj.get('international_designator', '')}"
            if not name or name in text.casefold():
                catalog.append(item)
        conjunctions.extend(reads.scan(ui.node, snap, p, c, types=(CONJUNCTION,)))
    names = {i.obj.get("id"): views.display_name(i.obj) for i in catalog}
    refs = [r for i in conjunctions for r in i.obj.get("space_object_refs", []) if r not in names]
    names.update({k: views.display_name(v.obj) for k, v in reads.objects_by_id(ui.node, snap, p, refs).items()})

    def keep(i: reads.Item) -> bool:
        miss = i.obj.get("miss_distance_km")
        pc = i.obj.get("collision_probability")
        if max_miss is not None and not (isinstance(miss, int | float) and miss <= max_miss):
            return False
        if min_pc is not None and not (isinstance(pc, int | float) and pc >= min_pc):
            return False
        if obj_filter:
            carried = views.carried_names(i.obj)
            text = " ".join(
                str(names.get(r) or carried.get(r, r)) for r in i.obj.get("space_object_refs", [])
            )
            return obj_filter in text.casefold()
        return True

    shown = [i for i in conjunctions if keep(i)]
    if sort == "tca":
        shown.sort(key=lambda i: str(i.obj.get("tca", "")))
    elif sort == "miss":
        shown.sort(key=lambda i: float(i.obj.get("miss_distance_km", 1e12)))
    else:
        shown.sort(key=lambda i: -float(i.obj.get("collision_probability", -1.0)))
    catalog.sort(key=lambda i: int(i.obj.get("norad_cat_id", 0)))
    return ui.page(
        request, "space.html", session, title="Space",
        catalog=[(i, views.orbit_summary(i.obj)) for i in catalog[:LIMIT]],
        catalog_total=len(catalog),
        conjunctions=shown[:LIMIT], conjunctions_total=len(shown), names=names,
        f={"q": q.get("q", ""), "object": q.get("object", ""), "max_miss": q.get("max_miss", ""),
           "min_pc": q.get("min_pc", ""), "sort": sort},
    )
