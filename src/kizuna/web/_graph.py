"""An object's neighbourhood: what its relationships and sightings connect it to, one or two
hops out, as a list and as an SVG drawing, of what the principal may see only.

The edges are the latest visible relationships and sightings that refer to a node
(``_reads.linking``, through the gate); an end the principal may not see is left out with the
edge that leads to it, so nothing of it (not its id, nor that it exists) reaches the page.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from markupsafe import Markup, escape

from kizuna.node import Node, Snapshot
from kizuna.policy.principal import Principal
from kizuna.web import _reads as reads
from kizuna.web import _views as views

__all__ = ["Edge", "Neighbourhood", "neighbourhood", "svg"]

#: The most nodes drawn at each hop (the rest are counted: "and N more").
HOP1_CAP = 40
HOP2_CAP = 80
EDGE_TYPES = ("relationship", "sighting")


@dataclass(frozen=True, slots=True)
class Edge:
    """``source --label--> target`` through the linking object ``via`` (its id)."""

    source: str
    label: str
    target: str
    via: str


@dataclass(slots=True)
class Neighbourhood:
    centre: str
    hops: int
    #: hop -> the ids at that hop, in the order drawn
    rings: dict[int, list[str]] = field(default_factory=dict)
    #: the id each node of hop 2 was reached from
    parent: dict[str, str] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    known: dict[str, reads.Item] = field(default_factory=dict)
    more: dict[int, int] = field(default_factory=dict)  # hop -> nodes not drawn


def _edges_of(item: reads.Item) -> list[Edge]:
    """The edges one relationship or sighting makes."""
    o = item.obj
    sid = str(o.get("id", ""))
    if o.get("type") == "relationship":
        s, t = o.get("source_ref"), o.get("target_ref")
        if isinstance(s, str) and isinstance(t, str):
            return [Edge(s, str(o.get("relationship_type", "related-to")), t, sid)]
        return []
    target = o.get("sighting_of_ref")
    if not isinstance(target, str):
        return []
    out: list[Edge] = []
    for key, label in (("where_sighted_refs", "sighted at"), ("observed_data_refs", "observed in")):
        refs = o.get(key)
        if isinstance(refs, list):
            out.extend(Edge(target, label, r, sid) for r in refs if isinstance(r, str))
    return out


def neighbourhood(
    node: Node, snap: Snapshot, principal: Principal, centre: str, hops: int,
    linked: list[reads.Item] | None = None,
) -> Neighbourhood:
    """The nodes one (or two) hops from *centre* and the edges between them, as *principal*
    sees them; *linked*: what ``_reads.linking`` already gave for the centre."""
    hood = Neighbourhood(centre, hops)
    edges: dict[tuple[str, str, str, str], Edge] = {}

    def around(sid: str, items: list[reads.Item] | None = None) -> list[tuple[str, Edge]]:
        if items is None:
            items, _ = reads.linking(node, snap, principal, sid)
        out = []
        for item in items:
            if item.obj.get("type") not in EDGE_TYPES:
                continue
            for e in _edges_of(item):
                if sid in (e.source, e.target) and e.source != e.target:
                    out.append((e.target if e.source == sid else e.source, e))
        return out

    first = around(centre, linked)
    ring1 = list(dict.fromkeys(other for other, _ in first))
    candidates = {e.via: e for _, e in first}
    second: dict[str, list[tuple[str, Edge]]] = {}
    if hops >= 2:
        for sid in ring1[:HOP1_CAP]:
            second[sid] = around(sid)
    wanted = set(ring1) | {o for pairs in second.values() for o, _ in pairs}
    wanted.discard(centre)
    known = reads.objects_by_id(node, snap, principal, sorted(wanted))
    ring1 = [s for s in ring1 if s in known]
    hood.rings[1] = ring1[:HOP1_CAP]
    hood.more[1] = len(ring1) - len(hood.rings[1])
    drawn = {centre, *hood.rings[1]}
    for e in candidates.values():
        if {e.source, e.target} <= drawn:
            edges[(e.source, e.label, e.target, e.via)] = e
    if hops >= 2:
        ring2: list[str] = []
        extra = 0
        for sid in hood.rings[1]:
            for other, e in second.get(sid, []):
                if other not in known or other == centre:
                    continue
                if other not in drawn:
                    if len(ring2) >= HOP2_CAP:
                        extra += other not in hood.parent
                        hood.parent.setdefault(other, sid)
                        continue
                    ring2.append(other)
                    hood.parent[other] = sid
                    drawn.add(other)
                if {e.source, e.target} <= drawn:
                    edges[(e.source, e.label, e.target, e.via)] = e
        hood.rings[2] = ring2
        hood.more[2] = extra
    hood.edges = sorted(edges.values(), key=lambda e: (e.label, e.source, e.target))
    hood.known = known
    return hood


SIZE = 640
RADII = {1: 170.0, 2: 290.0}


def _short(text: str, n: int = 22) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def svg(hood: Neighbourhood, centre_name: str, url: Callable[[str], str]) -> Markup | None:
    """The neighbourhood drawn as rings around the centre, each node a link to its page."""
    if not hood.rings.get(1):
        return None
    size = SIZE if hood.hops >= 2 and hood.rings.get(2) else 420
    mid = size / 2
    scale = 1.0 if size == SIZE else 0.75
    pos: dict[str, tuple[float, float]] = {hood.centre: (mid, mid)}
    angle: dict[str, float] = {}
    ring1 = hood.rings[1]
    for i, sid in enumerate(ring1):
        a = -math.pi / 2 + 2 * math.pi * i / len(ring1)
        angle[sid] = a
        r = RADII[1] * scale
        pos[sid] = (mid + r * math.cos(a), mid + r * math.sin(a))
    children: dict[str, list[str]] = {}
    for sid in hood.rings.get(2, []):
        children.setdefault(hood.parent[sid], []).append(sid)
    step = 2 * math.pi / max(len(hood.rings.get(2, [])), 1)
    for parent, kids in children.items():
        base = angle[parent] - step * (len(kids) - 1) / 2
        for j, sid in enumerate(kids):
            a = base + step * j
            pos[sid] = (mid + RADII[2] * math.cos(a), mid + RADII[2] * math.sin(a))
    n1, n2 = len(ring1), len(hood.rings.get(2, []))
    desc = (f"{centre_name} and {n1} object{'s' if n1 != 1 else ''} one hop away"
            + (f", {n2} two hops away" if hood.hops >= 2 else "") + "; the list below names them.")
    parts = [
        f'<svg class="graph" viewBox="0 0 {size} {size}" role="group" aria-labelledby="graph-t graph-d" '
        'xmlns="http://www.w3.org/2000/svg" font-family="system-ui, sans-serif" font-size="16">',
        '<title id="graph-t">Neighbourhood</title>',
        f'<desc id="graph-d">{escape(desc)}</desc>',
        f'<rect x="0" y="0" width="{size}" height="{size}" fill="#ffffff"/>',
    ]
    for e in hood.edges:
        if e.source in pos and e.target in pos:
            (x1, y1), (x2, y2) = pos[e.source], pos[e.target]
            parts.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                         'stroke="#8a8a8a" stroke-width="1.2"/>')
            parts.append(f'<text x="{(x1 + x2) / 2:.1f}" y="{(y1 + y2) / 2 - 3:.1f}" '
                         f'text-anchor="middle" fill="#4a4a4a" font-size="13">{escape(e.label)}</text>')
    for sid, (x, y) in pos.items():
        item = hood.known.get(sid)
        centre = sid == hood.centre
        name = centre_name if centre else views.display_name(item.obj) if item else sid
        kind = views.type_name(item.obj.get("type", "")) if item else ""
        colour = "#123e6b" if centre else "#1f5fa8" if sid in angle else "#6b6b6b"
        dot = f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{9 if centre else 6}" fill="{colour}"/>'
        weight = ' font-weight="700"' if centre else ""
        label = (f'<text x="{x:.1f}" y="{y + 20:.1f}" text-anchor="middle" fill="#1a1a1a"'
                 f"{weight}>{escape(_short(name))}</text>")
        if centre:
            parts.append(dot + label)
        else:
            parts.append(f'<a href="{escape(url(sid))}"><title>{escape(name)} ({escape(kind)})</title>'
                         f"{dot}{label}</a>")
    parts.append("</svg>")
    return Markup("".join(parts))  # every text in it is escaped
