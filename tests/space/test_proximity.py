"""Pairs that stay together (docked modules, formation flyers) against a brute-force oracle.

The catalog is real: the 40 objects of CelesTrak's "active" catalog of 2026-05 that stay within
5 km of another over a day (the ISS and its visiting vehicles, the Chinese station, MEV-2 on
Intelsat 10-02, which share element sets, and formation flyers such as TerraSAR-X/TanDEM-X).
The oracle samples every pair's exact SGP4 distance every second: a pair whose greatest sampled
distance is below the threshold is together, and its least and greatest distances are the
sampled extremes refined as in the conjunction oracle.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from kizuna.space import catalog, screening
from kizuna.space.formats import tle
from kizuna.space.screening.report import CSV_COLUMNS, write_csv, write_json
from tests.space.test_screen import _match, _oracle

TOGETHER = (
    Path(__file__).parent.parent
    / "data"
    / "space"
    / "tle"
    / "celestrak-active-2026-05-together.tle"
)
START = datetime(2026, 5, 20, tzinfo=UTC)
HOURS = 6.0


@cache
def _catalog() -> catalog.Catalog:
    return catalog.build(tle.parse(TOGETHER.read_text()).records).catalog


@cache
def _brute(threshold: float) -> dict[tuple[int, int], tuple[float, float]]:
    """(row1, row2) -> (least, greatest) distance of each pair that stays below *threshold*
    over the window, from exact SGP4 every second."""
    cat = _catalog()
    sats, status = catalog.satrecs(cat)
    assert not status.any()
    jd0, fr0 = catalog.julian(START)
    t = np.arange(0.0, HOURS * 3600.0 + 1.0)
    _, r, _ = screening.propagate(sats, jd0, fr0, t)
    out = {}
    for i in range(len(cat) - 1):
        d = np.linalg.norm(r[i + 1 :] - r[i], axis=2)
        for jj in np.flatnonzero(d.max(axis=1) < threshold).tolist():
            out[(i, i + 1 + jj)] = (float(d[jj].min()), float(d[jj].max()))
    return out


@pytest.mark.parametrize("threshold", [5.0, 2.0])
def test_pairs_that_stay_together_are_reported_once_as_the_oracle_finds_them(
    threshold: float,
) -> None:
    cat = _catalog()
    want = _brute(threshold)
    got = screening.screen(cat, START, HOURS, threshold)
    near = got.proximity
    keys = {
        (min(a, b), max(a, b)) for a, b in zip(near.row1.tolist(), near.row2.tolist(), strict=True)
    }
    assert keys == set(want)
    if threshold == 5.0:
        # 66 ISS pairs, 10 of the Chinese station, MEV-2 + Intelsat 10-02: identical elements.
        assert sum(1 for k in range(len(near)) if near.max_km[k] == 0.0) == 77
        assert len(near) == 93
    for k, key in enumerate(zip(near.row1.tolist(), near.row2.tolist(), strict=True)):
        lo, hi = want[(min(key), max(key))]
        # The oracle's extremes are sampled every second; ours are refined (worse by < 1 mm).
        assert near.min_km[k] <= lo + 1e-6 and lo - near.min_km[k] <= 0.010
        assert near.max_km[k] >= hi - 1e-6 and near.max_km[k] - hi <= 0.010
        assert near.max_km[k] < threshold
        assert 0.0 <= near.t_min_s[k] <= HOURS * 3600.0
        assert 0.0 <= near.t_max_s[k] <= HOURS * 3600.0
        assert near.object1[k] == cat.norad[near.row1[k]] < near.object2[k]
    # No conjunction rows for those pairs: reported once, never once per sample.
    events = set(zip(got.row1.tolist(), got.row2.tolist(), strict=True))
    assert not {(min(a, b), max(a, b)) for a, b in events} & keys
    # Everything else is found as the conjunction oracle finds it.
    minima = [
        e for e in _oracle(cat, START, int(HOURS * 3600), threshold) if (e[0], e[1]) not in keys
    ]
    if threshold == 2.0:
        assert len(minima) >= 10  # pairs that come within 2 km only part of the time
    hits, errors = _match(got, minima)
    assert hits == len(minima) and len(got) <= len(minima) + 2
    if errors:
        assert max(e[0] for e in errors) <= 0.010 and max(e[1] for e in errors) <= 0.010


def test_chunked_and_parallel_runs_report_the_same_pairs() -> None:
    """A pair together in one chunk but not in another is no proximity pair: chunks of 20
    minutes at 2 km, where some formation pairs drift apart and back within the window."""
    cat = _catalog()
    whole = screening.screen(cat, START, HOURS, 2.0)
    for workers in (1, 2):
        got = screening.screen_parallel(cat, START, HOURS, 2.0, workers=workers, chunk_hours=1 / 3)
        assert got.proximity.pairs() == whole.proximity.pairs()
        np.testing.assert_allclose(got.proximity.min_km, whole.proximity.min_km, atol=1e-9)
        np.testing.assert_allclose(got.proximity.max_km, whole.proximity.max_km, atol=1e-9)
        np.testing.assert_array_equal(got.object1, whole.object1)
        np.testing.assert_array_equal(got.object2, whole.object2)
        np.testing.assert_allclose(got.tca_s, whole.tca_s, atol=1e-6)
        assert got.cpu_s > 0.0


def test_the_csv_and_json_give_each_pair_one_proximity_row() -> None:
    cat = _catalog()
    got = screening.screen(cat, START, 1.0, 5.0)
    out = io.StringIO()
    write_csv(got, out, names=cat.names)
    rows = out.getvalue().splitlines()
    assert rows[0].split(",") == list(CSV_COLUMNS)
    assert CSV_COLUMNS[-1] == "max_km"
    kinds = [r.split(",")[CSV_COLUMNS.index("kind")] for r in rows[1:]]
    assert kinds.count("proximity") == len(got.proximity) == 93
    assert kinds.count("conjunction") == len(got)
    tandem = next(r for r in rows if r.startswith("31698,36605,"))
    cells = dict(zip(CSV_COLUMNS, tandem.split(","), strict=True))
    assert cells["kind"] == "proximity" and cells["object2_name"] == "TANDEM-X"
    assert 0.0 < float(cells["miss_km"]) < float(cells["max_km"]) < 5.0
    assert cells["pc"] == ""
    out = io.StringIO()
    write_json(got, out, names=cat.names)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    near = [e for e in lines if e["kind"] == "proximity"]
    assert len(near) == 93 and all(e["max_at"].endswith("Z") for e in near)
    assert all(e["max_km"] is None for e in lines if e["kind"] == "conjunction")
