"""A conjunction's plots: SVG in the page, drawn from what the gate releases, no script."""

from __future__ import annotations

import math
import re

import pytest

from kizuna.web._plots import _ellipse, _ticks, distance_plot, encounter_plot, plane_of
from tests.web.conftest import sign_in
from tests.web.world import World


def test_both_plots_are_in_the_conjunction_page(world: World, url: str) -> None:
    client = sign_in(url, "analyst", world.tokens["analyst"])
    cdm = client.get(f"/ui/objects/{world.ids['conjunction_cdm']}").text
    svgs = re.findall(r"<svg class=\"plot\".*?</svg>", cdm, re.S)
    assert len(svgs) == 2
    for svg in svgs:
        assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
        assert "<script" not in svg and "style=" not in svg and not re.search(r"\son\w+=", svg)
    distance, plane = svgs
    assert "hard-body radius 15 m" in distance
    assert plane.count("<ellipse") == 3 and "hard body 15 m" in plane
    screened = client.get(f"/ui/objects/{world.ids['conjunction']}").text
    assert "no covariance" in screened and "<ellipse" not in screened
    assert "miss 0.42 km" in screened
    assert '<svg class="plot"' not in client.get(f"/ui/objects/{world.ids['malware']}").text


def test_distance_is_straight_line_motion() -> None:
    svg = distance_plot({"miss_distance_km": 1.0, "relative_speed_km_s": 1.0})
    assert svg is not None
    points = re.search(r'<polyline points="([^"]+)"', svg)
    assert points
    ys = [float(p.split(",")[1]) for p in points.group(1).split()]
    assert max(ys) == ys[len(ys) // 2]  # the closest point (lowest on the page) is at TCA
    assert ys[0] == pytest.approx(ys[-1])  # symmetric about it
    assert distance_plot({"miss_distance_km": "1", "relative_speed_km_s": 1.0}) is None
    assert distance_plot({"miss_distance_km": 1.0, "relative_speed_km_s": 0.0}) is None


def test_ellipse_axes_and_angle() -> None:
    major, minor, angle = _ellipse([4.0, 0.0, 1.0])
    assert (major, minor, angle) == (2.0, 1.0, 0.0)
    major, minor, angle = _ellipse([1.0, 0.0, 9.0])
    assert (major, minor) == (3.0, 1.0) and abs(angle) == 90.0
    major, minor, angle = _ellipse([2.0, 1.0, 2.0])  # the major axis along x = z
    assert major == pytest.approx(math.sqrt(3)) and minor == pytest.approx(1.0)
    assert angle == pytest.approx(45.0)


def test_unusable_planes_draw_nothing_of_them() -> None:
    for plane in ({"covariance_m2": [1.0, 5.0, 1.0]},  # not positive semi-definite
                  {"covariance_m2": [1.0, float("nan"), 1.0]},
                  {"covariance_m2": "big"}, {"hard_body_radius_m": -1}, "x"):
        obj = {"miss_distance_km": 0.1, "x_kizuna_encounter_plane": plane}
        cov, hbr = plane_of(obj)
        assert cov is None and hbr is None
        svg = encounter_plot(obj)
        assert svg is not None and "<ellipse" not in svg and "no covariance" in svg
    assert encounter_plot({"miss_distance_km": -1.0}) is None


def test_ticks_are_round() -> None:
    assert [round(t, 9) for t in _ticks(0.0, 1.0)] == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert [round(t, 9) for t in _ticks(-450.0, 450.0)] == [-400.0, -200.0, 0.0, 200.0, 400.0]
