"""Screening against an independent oracle: all pairs, exact SGP4 every second, Brent refinement.

The oracle knows nothing of knots, interpolation or KD-trees: it propagates every object at 1 s
steps, takes every local minimum of every pair's distance, and refines it with a bounded Brent
search on exact SGP4. The catalog is a real sample (with real close approaches) plus synthetic
partners that cross their base object's orbit at relative speeds from metres to kilometres per
second, so misses spread over the whole 0-5 km range.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from scipy.optimize import brentq
from sgp4.api import Satrec

from kizuna.space import catalog, screening
from kizuna.space.formats import tle
from kizuna.space.formats.omm import ElementSet

SAMPLE = (
    Path(__file__).parent.parent / "data" / "space" / "tle" / "celestrak-active-2026-05-sample.tle"
)
START = datetime(2026, 5, 20, tzinfo=UTC)
THRESHOLD = 5.0


def _partners(base: list[ElementSet], rng: np.random.Generator) -> list[ElementSet]:
    """For each base object, two that share its node line and cross it with a small phase
    offset: inclination offsets from 0.02 to 150 degrees, phase offsets of a few km."""
    out = []
    offsets = [0.02, 0.2, 1.0, 5.0, 20.0, 45.0, 90.0, 150.0]
    for k, es in enumerate(base):
        for copy in range(2):
            di = offsets[(k + 3 * copy) % len(offsets)]
            inc = es.inclination + di if es.inclination + di < 180.0 else es.inclination - di
            out.append(
                replace(
                    es,
                    norad_cat_id=900_000 + 2 * k + copy,
                    object_name=f"SYNTHETIC {k}/{copy}",
                    object_id="",
                    inclination=inc,
                    mean_anomaly=(es.mean_anomaly + rng.uniform(-0.03, 0.03)) % 360.0,
                )
            )
    return out


@cache
def _catalog() -> catalog.Catalog:
    records = tle.parse(SAMPLE.read_text()).records
    rng = np.random.default_rng(7)
    leo = [es for es in records if 14.0 < es.mean_motion < 16.2 and es.eccentricity < 0.01]
    base = [leo[k] for k in rng.choice(len(leo), size=64, replace=False)]
    return catalog.build([*records, *_partners(base, rng)]).catalog


def _oracle(
    cat: catalog.Catalog, start: datetime, seconds: int, threshold: float
) -> list[tuple[int, int, float, float]]:
    """(row1, row2, tca_s, miss_km) of every local minimum below *threshold*, brute force.

    Minima of the distance sampled every second are bracketed by their neighbours and refined
    with Brent's root finder on the range rate (exact SGP4 states, no accelerations).
    """
    sats, status = catalog.satrecs(cat)
    assert not status.any()
    jd0, fr0 = catalog.julian(start)
    t = np.arange(0.0, seconds + 1.0)
    _, r, _ = screening.propagate(sats, jd0, fr0, t)

    def relative(a: Satrec, b: Satrec, when: float) -> tuple[float, float]:
        _, ra, va = a.sgp4(jd0, fr0 + when / 86400.0)
        _, rb, vb = b.sgp4(jd0, fr0 + when / 86400.0)
        dr, dv = np.subtract(rb, ra), np.subtract(vb, va)
        return float(np.dot(dr, dv)), float(np.linalg.norm(dr))

    events = []
    for i in range(len(sats) - 1):
        diff = r[i + 1 :] - r[i]
        d2: npt.NDArray[np.float64] = np.einsum("ijk,ijk->ij", diff, diff)  # (others, T)
        mid = d2[:, 1:-1]
        inner = (mid < d2[:, :-2]) & (mid <= d2[:, 2:]) & (mid < (2 * threshold) ** 2)
        for jj, kk in zip(*np.nonzero(inner), strict=True):
            j, k = i + 1 + int(jj), int(kk) + 1
            a, b = sats[i], sats[j]
            lo, hi = t[k - 1], t[k + 1]
            if relative(a, b, lo)[0] >= 0.0 or relative(a, b, hi)[0] <= 0.0:
                continue  # not a sign change of the range rate: no minimum inside
            when = brentq(lambda x, a=a, b=b: relative(a, b, x)[0], lo, hi, xtol=1e-9)
            miss = relative(a, b, when)[1]
            if miss < threshold:
                events.append((i, j, float(when), miss))
    return events


def _match(
    got: screening.ScreenResult, want: list[tuple[int, int, float, float]]
) -> tuple[int, list[tuple[float, float]]]:
    found: dict[tuple[int, int], list[tuple[float, float]]] = {}
    for a, b, t, m in zip(got.row1, got.row2, got.tca_s, got.miss_km, strict=True):
        found.setdefault((min(a, b), max(a, b)), []).append((float(t), float(m)))
    hits = 0
    errors = []
    for i, j, t, m in want:
        near = [(abs(tt - t), abs(mm - m)) for tt, mm in found.get((i, j), []) if abs(tt - t) < 1.0]
        if near:
            hits += 1
            errors.append(min(near))
    return hits, errors


@cache
def _want(seconds: int) -> list[tuple[int, int, float, float]]:
    return _oracle(_catalog(), START, seconds, THRESHOLD)


@cache
def _together(seconds: int) -> frozenset[tuple[int, int]]:
    """The pairs (rows) whose distance, sampled every second on exact SGP4, stays below the
    threshold for the whole window: proximity pairs, not conjunctions."""
    cat = _catalog()
    sats, _ = catalog.satrecs(cat)
    jd0, fr0 = catalog.julian(START)
    _, r, _ = screening.propagate(sats, jd0, fr0, np.arange(0.0, seconds + 1.0))
    out = set()
    for i in range(len(cat) - 1):
        d = np.linalg.norm(r[i + 1 :] - r[i], axis=2).max(axis=1)
        out |= {(i, i + 1 + int(j)) for j in np.flatnonzero(d < THRESHOLD)}
    return frozenset(out)


@pytest.mark.parametrize(
    ("knot_s", "step_s"),
    [(120.0, 60.0), (120.0, 30.0), (60.0, 20.0), (180.0, 60.0), (240.0, 120.0), (300.0, 60.0)],
)
def test_screening_equals_brute_force_on_a_real_sample_with_synthetic_crossings(
    knot_s: float, step_s: float
) -> None:
    cat = _catalog()
    seconds = 45 * 60
    want = _want(seconds)
    got = screening.screen(cat, START, seconds / 3600.0, THRESHOLD, knot_s=knot_s, step_s=step_s)
    assert len(want) >= 100  # the sample really has conjunctions to find
    assert sum(1 for _, j, _, _ in want if cat.norad[j] >= 900_000) >= 30
    # Pairs that stay within the threshold all along (slow synthetic crossings, over 45
    # minutes) are reported once as proximity pairs, not as their minima.
    together = _together(seconds)
    assert 5 <= len(together) <= 40
    assert got.proximity.pairs() == together
    want = [e for e in want if (e[0], e[1]) not in together]
    hits, errors = _match(got, want)
    assert hits / len(want) >= 0.999
    dt = np.array([e[0] for e in errors])
    dm = np.array([e[1] for e in errors])
    assert dt.max() <= 0.010  # TCA within 10 ms
    assert dm.max() <= 0.010  # miss within 10 m
    # Nothing the oracle does not know, except minima within a second of the window's ends.
    oracle_keys = {(i, j) for i, j, _, _ in want}
    for a, b, t in zip(got.row1, got.row2, got.tca_s, strict=True):
        assert (min(a, b), max(a, b)) in oracle_keys or t < 1.0 or t > seconds - 1.0
    assert len(got) <= len(want) + 2


def test_events_carry_consistent_geometry() -> None:
    cat = _catalog()
    got = screening.screen(cat, START, 0.25, THRESHOLD)
    assert len(got) > 10
    assert (got.object1 < got.object2).all()
    assert np.all(np.diff(got.tca_s) >= 0)
    np.testing.assert_allclose(np.linalg.norm(got.miss_rtn_km, axis=1), got.miss_km, rtol=1e-9)
    np.testing.assert_allclose(np.linalg.norm(got.r2 - got.r1, axis=1), got.miss_km, rtol=1e-12)
    # At TCA the relative velocity is perpendicular to the miss vector.
    cosine = np.einsum("ij,ij->i", got.r2 - got.r1, got.v2 - got.v1) / (
        got.miss_km * got.relative_speed_kms
    )
    assert np.abs(cosine).max() < 1e-4
    assert (got.status == 0).all()


def test_objects_that_fail_get_a_status_and_the_rest_are_screened() -> None:
    cat = _catalog()
    records = tle.parse(SAMPLE.read_text()).records
    broken = [
        replace(records[0], norad_cat_id=990_001, eccentricity=0.999),  # perigee far underground
        replace(records[1], norad_cat_id=990_002, mean_motion=float("nan")),
        replace(records[2], norad_cat_id=990_003, mean_motion=16.5, bstar=0.5),  # decays soon
    ]
    extra = catalog.build(broken).catalog
    both = catalog.Catalog.concat([cat, extra])
    clean = screening.screen(cat, START, 0.25, THRESHOLD)
    mixed = screening.screen(both, START, 0.25, THRESHOLD)
    assert mixed.status[: len(cat)].tolist() == [0] * len(cat)
    codes = mixed.status[len(cat) :].tolist()
    assert codes[1] == catalog.STATUS_BAD_ELEMENTS
    assert all(c != 0 for c in codes)
    assert all(c in screening.STATUS_TEXT for c in codes)
    real = mixed.row2 < len(cat)
    np.testing.assert_array_equal(mixed.object1[real], clean.object1)
    np.testing.assert_allclose(mixed.tca_s[real], clean.tca_s, atol=1e-6)


def test_window_edges_and_arguments() -> None:
    cat = _catalog()
    whole = screening.screen(cat, START, 0.5, THRESHOLD)
    first = screening.screen(cat, START, 0.25, THRESHOLD)
    second = screening.screen(cat, START + timedelta(minutes=15), 0.25, THRESHOLD)
    # A pair that stays together over one window is no event there: leave such pairs out.
    apart = first.proximity.pairs() | second.proximity.pairs() | whole.proximity.pairs()
    first, second, whole = (_without(r, apart) for r in (first, second, whole))
    joined = sorted(
        [
            (int(a), int(b), round(float(t), 4))
            for a, b, t in zip(first.object1, first.object2, first.tca_s, strict=True)
        ]
        + [
            (int(a), int(b), round(float(t) + 900.0, 4))
            for a, b, t in zip(second.object1, second.object2, second.tca_s, strict=True)
        ]
    )
    assert joined == sorted(
        (int(a), int(b), round(float(t), 4))
        for a, b, t in zip(whole.object1, whole.object2, whole.tca_s, strict=True)
    )
    for bad in ({"knot_s": 60.0, "step_s": 25.0}, {"knot_s": -1.0}):
        try:
            screening.screen(cat, START, 0.1, THRESHOLD, **bad)  # type: ignore[arg-type]
        except ValueError as exc:
            assert "must" in str(exc)
        else:
            raise AssertionError(f"no error for {bad}")


def _without(result: screening.ScreenResult, pairs: set[tuple[int, int]]) -> screening.ScreenResult:
    keep = np.array(
        [(int(a), int(b)) not in pairs for a, b in zip(result.row1, result.row2, strict=True)],
        dtype=bool,
    )
    return replace(
        result, object1=result.object1[keep], object2=result.object2[keep], tca_s=result.tca_s[keep]
    )


def test_parallel_chunks_on_processes_and_dask_equal_one_process() -> None:
    """Many chunk boundaries (every 3 minutes) and two executors: the same events."""
    import distributed

    cat = _catalog()
    want = screening.screen(cat, START, 0.5, THRESHOLD)
    local = screening.screen_parallel(cat, START, 0.5, THRESHOLD, workers=2, chunk_hours=0.05)
    inline = screening.screen_parallel(cat, START, 0.5, THRESHOLD, workers=1, chunk_hours=0.05)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        dask = screening.screen_parallel(
            cat, START, 0.5, THRESHOLD, scheduler=cluster.scheduler_address, chunk_hours=0.05
        )
    assert len(want) > 50
    for got in (local, inline, dask):
        np.testing.assert_array_equal(got.object1, want.object1)
        np.testing.assert_array_equal(got.object2, want.object2)
        np.testing.assert_allclose(got.tca_s, want.tca_s, atol=1e-6)
        np.testing.assert_allclose(got.miss_km, want.miss_km, atol=1e-9)
        np.testing.assert_array_equal(got.status, want.status)
        assert got.proximity.pairs() == want.proximity.pairs() != set()


def test_merge_drops_events_claimed_twice() -> None:
    cat = _catalog()
    part = screening.screen(cat, START, 0.25, THRESHOLD)
    merged = screening.merge([part, part], START, 0.25, THRESHOLD)
    np.testing.assert_array_equal(merged.tca_s, part.tca_s)


def test_tiny_catalogs() -> None:
    cat = _catalog()
    for rows in ([], [0]):
        result = screening.screen(cat.take(rows), START, 0.1, THRESHOLD)
        assert len(result) == 0 and result.status.tolist() == [0] * len(rows)


def test_states_at_many_rows_equal_one_sgp4_call_per_row() -> None:
    from kizuna.space.screening._trajectory import states_at

    cat = _catalog()
    sats, _ = catalog.satrecs(cat)
    jd0, fr0 = catalog.julian(START)
    rng = np.random.default_rng(3)
    rows = rng.integers(0, len(sats), 500)  # unsorted, with repeats
    t = rng.uniform(-600.0, 3000.0, 500)
    err, r, v = states_at(sats, jd0, fr0, rows, t)
    for k in range(len(rows)):
        e1, r1, v1 = sats[rows[k]].sgp4(jd0, fr0 + t[k] / 86400.0)
        assert err[k] == e1
        assert r[k].tolist() == list(r1) and v[k].tolist() == list(v1)
    empty = states_at(sats, jd0, fr0, np.zeros(0, dtype=np.int64), np.zeros(0))
    assert [a.shape for a in empty] == [(0,), (0, 3), (0, 3)]


SLOW_PAIR = """STARLINK-37527
1 68895U 26097A   26140.25002315 -.02227222  00000+0 -39548-1 0  9991
2 68895  97.2857 335.9522 0002242  91.5935 153.6838 15.53652447  4434
STARLINK-37493
1 68910U 26097R   26140.25002315 -.02613665  00000+0 -50873-1 0  9993
2 68910  97.2852 335.9773 0002368 100.0407 210.5422 15.51103871  4414
"""


@pytest.mark.parametrize("knot_s", [180.0, 300.0])
def test_a_minimum_of_a_pair_at_3_m_per_s_is_found_where_newton_gives_up(knot_s: float) -> None:
    # Two objects 3.5 m/s apart pass 3.92 km from each other; the range rate from SGP4's
    # velocities turns where Newton's two-body derivative misleads it, so from these seeds
    # (samples 27.8 s before and 32.2 s after TCA) only the bisection fallback finds the event.
    cat = catalog.build(tle.parse(SLOW_PAIR).records).catalog
    start = START + timedelta(seconds=555_900.0)
    result = screening.screen(cat, start, 0.5, THRESHOLD, knot_s=knot_s, step_s=60.0)
    assert len(result) == 1
    tca, miss = float(result.tca_s[0]), float(result.miss_km[0])
    assert abs(tca - 657.82) < 0.01 and abs(miss - 3.9225) < 1e-4
    sats, _ = catalog.satrecs(cat)
    jd0, fr0 = catalog.julian(start)
    rates = []
    for dt in (-0.01, 0.01):
        _, ra, va = sats[0].sgp4(jd0, fr0 + (tca + dt) / 86400.0)
        _, rb, vb = sats[1].sgp4(jd0, fr0 + (tca + dt) / 86400.0)
        rates.append(float(np.dot(np.subtract(rb, ra), np.subtract(vb, va))))
    assert rates[0] < 0.0 < rates[1]  # the range rate crosses zero from below: a minimum
