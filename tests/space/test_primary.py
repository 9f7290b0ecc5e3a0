"""``--primary``: the events of the all-vs-all run that involve the primaries, and the oracle's.

The catalog is the oracle's of test_screen (the real sample and synthetic crossings) and the
real objects that stay together (test_proximity).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from click.testing import CliRunner

from kizuna.cli import main
from kizuna.space import catalog, screening
from kizuna.space.formats import tle
from kizuna.space.screening._primary import near_primaries, radius_range
from tests.space.test_proximity import TOGETHER
from tests.space.test_screen import THRESHOLD, _catalog, _match, _together, _want

START = datetime(2026, 5, 20, tzinfo=UTC)
SECONDS = 45 * 60


def _pairs(result: screening.ScreenResult, rows: set[int]) -> list[tuple[int, int, float, float]]:
    return [
        (int(a), int(b), float(t), float(m))
        for a, b, t, m in zip(result.row1, result.row2, result.tca_s, result.miss_km, strict=True)
        if a in rows or b in rows
    ]


def test_primaries_give_the_all_vs_all_events_that_involve_them() -> None:
    cat = _catalog()
    whole = screening.screen(cat, START, SECONDS / 3600.0, THRESHOLD)
    # Primaries with events, one synthetic crossing partner, one deep-space object.
    busy = np.bincount(np.concatenate([whole.row1, whole.row2]), minlength=len(cat))
    geo = int(np.flatnonzero(cat.elements[:, 0] < 0.01)[0])  # mean motion < 2.3 rev/day
    chosen = [
        *np.argsort(busy)[::-1][:3].tolist(),
        int(np.flatnonzero(cat.norad >= 900_000)[5]),
        geo,
    ]
    for rows in ([chosen[0]], chosen):
        numbers = [int(cat.norad[r]) for r in rows]
        kept, flags = near_primaries(cat, numbers, START, SECONDS / 3600.0, THRESHOLD)
        assert flags.sum() == len(rows) and len(kept) < len(cat)  # most of the catalog left out
        for workers in (1, 2):
            got = screening.screen_parallel(
                cat, START, SECONDS / 3600.0, THRESHOLD, workers=workers, primaries=numbers
            )
            want = _pairs(whole, set(rows))
            mine = _pairs(got, set(rows))
            assert len(want) >= 2 and len(got) == len(mine) == len(want)
            assert [(a, b) for a, b, _, _ in mine] == [(a, b) for a, b, _, _ in want]
            np.testing.assert_allclose([e[2] for e in mine], [e[2] for e in want], atol=1e-6)
            np.testing.assert_allclose([e[3] for e in mine], [e[3] for e in want], atol=1e-9)
            near = {k for k in whole.proximity.pairs() if k[0] in rows or k[1] in rows}
            assert got.proximity.pairs() == near
            assert got.status.shape == whole.status.shape
        # And against the oracle itself.
        oracle = [
            e
            for e in _want(SECONDS)
            if (e[0] in rows or e[1] in rows) and (e[0], e[1]) not in _together(SECONDS)
        ]
        hits, errors = _match(got, oracle)
        assert hits == len(oracle) > 0
        assert max(e[0] for e in errors) <= 0.010 and max(e[1] for e in errors) <= 0.010


def test_a_station_as_primary_gets_its_docked_vehicles_once_each() -> None:
    cat = catalog.build(tle.parse(TOGETHER.read_text()).records).catalog
    got = screening.screen_parallel(cat, START, 6.0, 5.0, workers=1, primaries=[25544])
    partners = sorted(
        int(b if a == 25544 else a)
        for a, b in zip(got.proximity.object1, got.proximity.object2, strict=True)
    )
    assert partners == [25575, 26400, 26700, 36086, 49044, 66664, 67796, 68319, 68689, 68837, 69103]
    assert len(got) == 0


def test_radius_range_holds_the_osculating_radius() -> None:
    cat = _catalog()
    span = radius_range(cat, START, 6.0)
    sats, _ = catalog.satrecs(cat)
    jd0, fr0 = catalog.julian(START)
    _, r, _ = screening.propagate(sats, jd0, fr0, np.arange(0.0, 6 * 3600.0 + 1.0, 30.0))
    radius = np.linalg.norm(r, axis=2)
    assert (radius.min(axis=1) >= span[:, 0]).all() and (radius.max(axis=1) <= span[:, 1]).all()
    # ... and is narrow enough to leave most of a LEO catalog out: within 100 km of the radii.
    leo = cat.elements[:, 0] > 0.05
    assert (radius.min(axis=1)[leo] - span[leo, 0]).max() < 100.0


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["space", "screen", *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_cli_primary_and_primary_file(tmp_path: Path) -> None:
    listed = tmp_path / "primaries.txt"
    listed.write_text("# our satellites\n25544\n48274, 28358\n")
    common = ["--catalog", str(TOGETHER), "--start", "2026-05-20T00:00Z", "--hours", "1", "--quiet"]
    code, out, err = _run(*common, "--primary", "25544,48274,28358", "--csv", "-")
    assert code == 0, err
    code2, out2, _ = _run(*common, "--primary-file", str(listed), "--csv", "-")
    assert code2 == 0 and out2 == out
    rows = [r.split(",") for r in out.splitlines()[1:]]
    assert len(rows) == 11 + 4 + 1  # the ISS's, the Chinese station's, MEV-2
    assert all({"25544", "48274", "28358"} & {r[0], r[1]} for r in rows)
    assert "16 pair(s) within it throughout" in err and "s CPU in 1 process(es)" in err
    code, _, err = _run(*common, "--primary", "99999")
    assert code == 1 and "primary not in the catalog: 99999" in err
    code, _, err = _run(*common, "--primary", "ISS")
    assert code == 2 and "'ISS' is not a catalog number" in err


def test_time_filter_keeps_every_moment_an_object_is_near_a_primarys_plane() -> None:
    """The time filter (screening._windows) against exact SGP4 every 5 s: wherever an
    object is within the threshold of a primary's osculating plane (a necessary condition for
    being within it of the primary), its knot interval is kept; and most of the time is not."""
    from kizuna.space.screening._trajectory import sgp4_states
    from kizuna.space.screening._windows import near_times

    cat = _catalog()
    sats, _ = catalog.satrecs(cat)
    jd0, fr0 = catalog.julian(START)
    hours = 6.0
    knots = np.arange(-120.0, hours * 3600.0 + 240.0, 120.0)
    leo = np.flatnonzero(cat.elements[:, 0] > 0.05)
    for row in (int(leo[0]), int(leo[len(leo) // 2]), int(np.flatnonzero(cat.norad >= 900_000)[5])):
        flags = np.zeros(len(cat), dtype=bool)
        flags[row] = True
        need = near_times(sats, jd0, fr0, knots, flags, THRESHOLD, cat.elements[:, 1])
        assert need[row].all()
        t = np.arange(knots[0], knots[-1], 5.0)
        _, r, v = sgp4_states(sats, np.full(t.shape, jd0), fr0 + t / 86400.0)
        h = np.cross(r[row], v[row])
        h /= np.linalg.norm(h, axis=1)[:, None]
        z = np.abs(np.einsum("stk,tk->st", r, h))
        interval = np.minimum(((t - knots[0]) // 120.0).astype(int), need.shape[1] - 1)
        close = z < THRESHOLD
        assert close[~flags].any()
        assert not (close & ~need[:, interval]).any()
        low_e = ~flags & (cat.elements[:, 1] < 0.05)
        assert need[low_e].mean() < 0.5
