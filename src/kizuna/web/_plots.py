"""A conjunction's two plots as SVG drawn on the server, from the object as released.

No script and no style attribute (the page's Content-Security-Policy allows neither): only
SVG elements with presentation attributes, inline in the page, each with a title and a
description for screen readers. The relative motion near TCA is taken as straight, as
``kizuna.space.plot`` does for its PNG: the distance is ``d(t) = sqrt(miss² + (v t)²)``.

>>> svg = distance_plot({"miss_distance_km": 0.5, "relative_speed_km_s": 10.0})
>>> svg.startswith('<svg') and "time from TCA" in svg and "<script" not in svg
True
>>> encounter_plot({"miss_distance_km": 0.5}) is not None
True
>>> distance_plot({"miss_distance_km": 0.5}) is None  # no relative speed: no motion to draw
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from markupsafe import Markup, escape

from kizuna.space.stix import ENCOUNTER_PLANE

__all__ = ["distance_plot", "encounter_plot", "plane_of"]

WIDTH, HEIGHT = 560, 360
LEFT, RIGHT, TOP, BOTTOM = 72, 20, 20, 52
INK, MUTED, GRID = "#1a1a1a", "#4a4a4a", "#d8d8d8"
BLUE, RED = "#1f5fa8", "#b00020"
STEPS = 121


def _number(x: Any) -> float | None:
    if isinstance(x, bool) or not isinstance(x, int | float):
        return None
    return float(x) if math.isfinite(x) else None


def plane_of(obj: Mapping[str, Any]) -> tuple[list[float] | None, float | None]:
    """The combined covariance on the encounter plane (xx, xz, zz in m²) and the hard-body
    radius (m) that *obj* carries, each None when absent or unusable."""
    plane = obj.get(ENCOUNTER_PLANE)
    if not isinstance(plane, Mapping):
        return None, None
    raw = plane.get("covariance_m2")
    cov = [_number(v) for v in raw] if isinstance(raw, list) and len(raw) == 3 else None
    covariance = None
    if cov is not None and all(v is not None for v in cov):
        xx, xz, zz = (float(v) for v in cov if v is not None)
        if xx >= 0 and zz >= 0 and xx * zz - xz * xz >= -1e-9 * max(xx * zz, 1e-300):
            covariance = [xx, xz, zz]
    hbr = _number(plane.get("hard_body_radius_m"))
    return covariance, hbr if hbr is not None and hbr > 0 else None


def _ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round values between *lo* and *hi* for an axis (about *count* of them)."""
    if not hi > lo:
        return [lo]
    raw = (hi - lo) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    out = []
    v = first
    while v <= hi + step * 1e-9:
        out.append(0.0 if abs(v) < step * 1e-9 else v)
        v += step
    return out


def _label(v: float) -> str:
    text = f"{v:.4g}"
    return text.replace("e-0", "e-").replace("e+0", "e")


def _unit(extent_m: float) -> tuple[str, float]:
    """The unit an axis reaching *extent_m* metres is labelled in, and metres per unit."""
    return ("km", 1000.0) if extent_m >= 2000.0 else ("m", 1.0)


class _Canvas:
    """An SVG drawing with a plot area mapping data (x, y) to pixels."""

    def __init__(self, name: str, title: str, desc: str, x: tuple[float, float],
                 y: tuple[float, float], width: int = WIDTH, height: int = HEIGHT) -> None:
        self.name, self.width, self.height = name, width, height
        self.x0, self.x1 = x
        self.y0, self.y1 = y
        self.parts: list[str] = [
            f'<svg class="plot" viewBox="0 0 {width} {height}" role="img" '
            f'aria-labelledby="{name}-t {name}-d" xmlns="http://www.w3.org/2000/svg" '
            f'font-family="system-ui, sans-serif" font-size="15">',
            f'<title id="{name}-t">{escape(title)}</title>',
            f'<desc id="{name}-d">{escape(desc)}</desc>',
            f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
        ]

    def px(self, x: float) -> float:
        span = self.x1 - self.x0 or 1.0
        return LEFT + (x - self.x0) / span * (self.width - LEFT - RIGHT)

    def py(self, y: float) -> float:
        span = self.y1 - self.y0 or 1.0
        return self.height - BOTTOM - (y - self.y0) / span * (self.height - TOP - BOTTOM)

    def scale(self, dx: float) -> float:
        return dx / ((self.x1 - self.x0) or 1.0) * (self.width - LEFT - RIGHT)

    def add(self, element: str) -> None:
        self.parts.append(element)

    def text(self, x: float, y: float, text: str, anchor: str = "middle", fill: str = INK,
             extra: str = "") -> None:
        self.add(f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}"{extra}>'
                 f"{escape(text)}</text>")

    def axes(self, x_label: str, y_label: str, x_scale: float = 1.0, y_scale: float = 1.0) -> None:
        """Grid lines, ticks in the axis units (data / scale) and the labels."""
        left, right = LEFT, self.width - RIGHT
        top, bottom = TOP, self.height - BOTTOM
        for v in _ticks(self.x0 / x_scale, self.x1 / x_scale):
            x = self.px(v * x_scale)
            self.add(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom}" stroke="{GRID}"/>')
            self.text(x, bottom + 17, _label(v), fill=MUTED)
        for v in _ticks(self.y0 / y_scale, self.y1 / y_scale):
            y = self.py(v * y_scale)
            self.add(f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="{GRID}"/>')
            self.text(left - 6, y + 4, _label(v), anchor="end", fill=MUTED)
        self.add(f'<rect x="{left}" y="{top}" width="{right - left}" height="{bottom - top}" '
                 f'fill="none" stroke="{MUTED}"/>')
        self.text((left + right) / 2, self.height - 10, x_label)
        cy = (top + bottom) / 2
        self.text(16, cy, y_label, extra=f' transform="rotate(-90 16 {cy:.1f})"')

    def legend(self, entries: Sequence[tuple[str, str, str]]) -> None:
        """(colour, dash pattern or "", text) at the plot's top right."""
        x = self.width - RIGHT - 8
        y = TOP + 18
        self.add(f'<rect x="{x - 198:.1f}" y="{TOP + 4}" width="196" height="{18 * len(entries) + 6}" '
                 f'fill="#ffffff" fill-opacity="0.9" stroke="{GRID}"/>')
        for colour, dash, text in entries:
            dashes = f' stroke-dasharray="{dash}"' if dash else ""
            self.add(f'<line x1="{x - 190:.1f}" y1="{y - 4}" x2="{x - 166:.1f}" y2="{y - 4}" '
                     f'stroke="{colour}" stroke-width="2"{dashes}/>')
            self.text(x - 160, y, text, anchor="start")
            y += 18

    def done(self) -> Markup:
        return Markup("".join([*self.parts, "</svg>"]))  # every text in it is escaped


def distance_plot(obj: Mapping[str, Any]) -> Markup | None:
    """Relative distance over time around TCA (straight-line relative motion), with the
    hard-body radius when known; None without a miss distance and a relative speed."""
    miss_km, speed = _number(obj.get("miss_distance_km")), _number(obj.get("relative_speed_km_s"))
    if miss_km is None or speed is None or miss_km < 0 or speed <= 0:
        return None
    _, hbr = plane_of(obj)
    miss, v = miss_km * 1000.0, speed * 1000.0
    span = min(max(10.0 * max(miss, hbr or 0.0, 1.0) / v, 1e-3), 3600.0)
    times = [-span + 2 * span * i / (STEPS - 1) for i in range(STEPS)]
    dist = [math.hypot(miss, v * t) for t in times]
    top = max(max(dist), hbr or 0.0) * 1.08
    unit, per = _unit(top)
    c = _Canvas("plot-distance", "Relative distance around TCA",
                f"The two objects are {_label(miss / per)} {unit} apart at TCA, approaching and "
                f"separating at {_label(speed)} km/s; the plot spans {_label(span)} s either side"
                + (f"; the hard-body radius is {_label(hbr)} m." if hbr else "."),
                (-span, span), (0.0, top))
    c.axes("time from TCA (s)", f"relative distance ({unit})", y_scale=per)
    points = " ".join(f"{c.px(t):.1f},{c.py(d):.1f}" for t, d in zip(times, dist, strict=True))
    c.add(f'<line x1="{c.px(0):.1f}" y1="{TOP}" x2="{c.px(0):.1f}" y2="{HEIGHT - BOTTOM}" '
          f'stroke="{MUTED}" stroke-dasharray="4 3"/>')
    entries = [(BLUE, "", "distance"), (MUTED, "4 3", "TCA")]
    if hbr:
        y = c.py(hbr)
        c.add(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="{RED}" '
              f'stroke-width="1.5" stroke-dasharray="6 3"/>')
        entries.append((RED, "6 3", f"hard-body radius {_label(hbr)} m"))
    c.add(f'<polyline points="{points}" fill="none" stroke="{BLUE}" stroke-width="2"/>')
    c.add(f'<circle cx="{c.px(0):.1f}" cy="{c.py(miss):.1f}" r="3.5" fill="{INK}"/>')
    c.text(c.px(0) + 8, c.py(miss) - 8, f"miss {_label(miss / per)} {unit}", anchor="start")
    c.legend(entries)
    return c.done()


def _ellipse(cov: Sequence[float]) -> tuple[float, float, float]:
    """Semi-axes (1 sigma) and the angle (degrees, from x towards z) of the major one."""
    xx, xz, zz = cov
    mean, diff = (xx + zz) / 2, (xx - zz) / 2
    root = math.hypot(diff, xz)
    major, minor = math.sqrt(max(mean + root, 0.0)), math.sqrt(max(mean - root, 0.0))
    angle = math.degrees(0.5 * math.atan2(2 * xz, xx - zz))
    return major, minor, angle


def encounter_plot(obj: Mapping[str, Any]) -> Markup | None:
    """The encounter plane: the miss vector from the combined-uncertainty centre, the 1, 2
    and 3 sigma ellipses of the combined covariance and the hard-body circle around the
    miss point, each when the object carries it; None without a miss distance."""
    miss_km = _number(obj.get("miss_distance_km"))
    if miss_km is None or miss_km < 0:
        return None
    cov, hbr = plane_of(obj)
    miss = miss_km * 1000.0
    extent = max(miss + (hbr or 0.0), 1.0)
    ellipse = _ellipse(cov) if cov else None
    if ellipse:
        extent = max(extent, 3 * ellipse[0])
    extent *= 1.15
    unit, per = _unit(extent)
    side = WIDTH - LEFT - RIGHT
    height = side + TOP + BOTTOM
    parts = [f"The miss vector is {_label(miss / per)} {unit} along x."]
    parts.append(
        f"The combined covariance's 1-sigma ellipse has semi-axes {_label(ellipse[0])} m and "
        f"{_label(ellipse[1])} m." if ellipse else "This conjunction carries no covariance."
    )
    parts.append(f"The hard-body radius is {_label(hbr)} m." if hbr else
                 "Its hard-body radius is not known.")
    c = _Canvas("plot-plane", "Encounter plane", " ".join(parts), (-extent, extent),
                (-extent, extent), WIDTH, height)
    c.axes(f"encounter plane x, along the miss ({unit})", f"encounter plane z ({unit})",
           per, per)
    entries = [(INK, "", "miss vector")]
    if ellipse:
        major, minor, angle = ellipse
        cx, cy = c.px(0), c.py(0)
        for k, opacity in ((1, "1"), (2, "0.75"), (3, "0.5")):
            c.add(f'<ellipse cx="{cx:.1f}" cy="{cy:.1f}" rx="{c.scale(k * major):.2f}" '
                  f'ry="{c.scale(k * minor):.2f}" transform="rotate({-angle:.3f} {cx:.1f} {cy:.1f})" '
                  f'fill="none" stroke="{BLUE}" stroke-width="1.5" stroke-opacity="{opacity}"/>')
        entries.append((BLUE, "", "1, 2, 3 sigma"))
    else:
        c.text(LEFT + 8, TOP + 18, "no covariance", anchor="start", fill=MUTED)
    c.add(f'<line x1="{c.px(0):.1f}" y1="{c.py(0):.1f}" x2="{c.px(miss):.1f}" y2="{c.py(0):.1f}" '
          f'stroke="{INK}" stroke-width="2"/>')
    x, y = c.px(miss), c.py(0)
    c.add(f'<path d="M{x - 5:.1f},{y - 5:.1f} L{x + 5:.1f},{y + 5:.1f} M{x - 5:.1f},{y + 5:.1f} '
          f'L{x + 5:.1f},{y - 5:.1f}" stroke="{INK}" stroke-width="2"/>')
    if hbr:
        c.add(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{max(c.scale(hbr), 1.0):.2f}" fill="none" '
              f'stroke="{RED}" stroke-width="2"/>')
        entries.append((RED, "", f"hard body {_label(hbr)} m"))
    c.legend(entries)
    return c.done()
