"""``--primary-oem``: a primary's own ephemeris (CCSDS OEM) against the catalog.

The ephemerides are written here from exact SGP4 states of a real object of the oracle's
catalog (test_screen), every 60 s, in TEME and in EME2000: screening with the ephemeris as
the primary must find the brute-force oracle's events of that object (recall, TCA within
10 ms, miss within 10 m), as the same object's elements do.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from kizuna.cli import main
from kizuna.space import catalog, screening
from kizuna.space.formats.oem import OemError, parse_kvn
from kizuna.space.screening.events import teme_to_eme2000
from tests.space.test_screen import SAMPLE, THRESHOLD, _catalog, _match, _together, _want

START = datetime(2026, 5, 20, tzinfo=UTC)
SECONDS = 45 * 60


def _oem(
    cat: catalog.Catalog,
    row: int,
    *,
    frame: str = "TEME",
    method: str = "LAGRANGE",
    degree: int = 7,
    step: float = 60.0,
) -> str:
    """An OEM of catalog row *row* from SGP4, 10 minutes beyond the window on both sides."""
    sats, _ = catalog.satrecs(cat)
    jd0, fr0 = catalog.julian(START)
    t = np.arange(-600.0, SECONDS + 600.0 + step, step)
    _, r, v = screening.propagate([sats[row]], jd0, fr0, t)
    lines = [
        "CCSDS_OEM_VERS = 3.0",
        "CREATION_DATE = 2026-05-19T00:00:00",
        "ORIGINATOR = OPERATOR",
        "META_START",
        f"OBJECT_NAME = {cat.names[row] or 'SAT'}",
        f"OBJECT_ID = {int(cat.norad[row])}",
        "CENTER_NAME = EARTH",
        f"REF_FRAME = {frame}",
        "TIME_SYSTEM = UTC",
        f"START_TIME = {(START + timedelta(seconds=float(t[0]))).isoformat()[:19]}",
        f"STOP_TIME = {(START + timedelta(seconds=float(t[-1]))).isoformat()[:19]}",
        f"INTERPOLATION = {method}",
        f"INTERPOLATION_DEGREE = {degree}",
        "META_STOP",
    ]
    for k, when in enumerate(t):
        at = START + timedelta(seconds=float(when))
        pos, vel = r[0, k], v[0, k]
        if frame == "EME2000":
            rot = teme_to_eme2000(at)
            pos, vel = rot @ pos, rot @ vel
        numbers = " ".join(f"{x:.9f}" for x in (*pos, *vel))
        lines.append(f"{at.strftime('%Y-%m-%dT%H:%M:%S.%f')} {numbers}")
    return "\n".join(lines) + "\n"


def _busy_row(cat: catalog.Catalog) -> int:
    whole = screening.screen(cat, START, SECONDS / 3600.0, THRESHOLD)
    return int(np.bincount(np.concatenate([whole.row1, whole.row2])).argmax())


@pytest.mark.parametrize(
    ("method", "degree", "tolerance_km"),
    # Hermite trusts the velocities, and SGP4's are not quite the derivative of its positions
    # (their short-period terms are approximated): 0.2 m off here, against 1 cm for Lagrange.
    [("LAGRANGE", 7, 1e-5), ("HERMITE", 5, 1e-3), ("LINEAR", 1, 5.0)],
)
def test_interpolation_follows_the_metadata(method: str, degree: int, tolerance_km: float) -> None:
    cat = _catalog()
    row = _busy_row(cat)
    oem = parse_kvn(_oem(cat, row, method=method, degree=degree))
    seg = oem.segments[0]
    assert (seg.interpolation, seg.degree) == (method, degree)
    t = np.random.default_rng(3).uniform(0.0, SECONDS, 50)
    r, _ = oem.states(START, t)
    sats, _ = catalog.satrecs(cat)
    jd0, fr0 = catalog.julian(START)
    _, want_r, _ = screening.propagate([sats[row]], jd0, fr0, t)
    error = np.linalg.norm(r - want_r[0], axis=1).max()
    assert error < tolerance_km
    if method == "LINEAR":
        assert error > 0.01  # a straight chord across 60 s of orbit is visibly off
    # Outside the ephemeris: no state.
    outside, _ = oem.states(START, np.array([-3600.0, SECONDS + 3600.0]))
    assert np.isnan(outside).all()


def test_hermite_and_lagrange_are_exact_on_polynomials() -> None:
    """A trajectory that is a cubic in time: Hermite of degree 3 (two points, positions and
    velocities) and Lagrange of degree 3 (four points) give it back exactly."""
    t = np.arange(0.0, 600.0, 60.0)
    c = np.array([7000.0, -2.0, 3e-3, -1e-6])
    r = np.stack([c[0] + c[1] * t + c[2] * t**2 + c[3] * t**3] * 3, axis=1)
    v = np.stack([c[1] + 2 * c[2] * t + 3 * c[3] * t**2] * 3, axis=1)
    body = "\n".join(
        f"{(START + timedelta(seconds=float(x))).isoformat()[:19]} "
        + " ".join(f"{y:.12f}" for y in (*r[k], *v[k]))
        for k, x in enumerate(t)
    )
    for method in ("HERMITE", "LAGRANGE"):
        text = _oem(_catalog(), 0, method=method, degree=3)
        head = text.split("META_STOP")[0] + "META_STOP\n"
        oem = parse_kvn(head + body + "\n")
        at = np.array([30.0, 95.5, 401.25])
        got_r, got_v = oem.states(START, at)
        np.testing.assert_allclose(got_r[:, 0], c[0] + c[1] * at + c[2] * at**2 + c[3] * at**3)
        np.testing.assert_allclose(got_v[:, 0], c[1] + 2 * c[2] * at + 3 * c[3] * at**2)


@pytest.mark.parametrize("frame", ["TEME", "EME2000"])
def test_an_ephemeris_primary_finds_the_oracles_events(frame: str) -> None:
    cat = _catalog()
    row = _busy_row(cat)
    number = int(cat.norad[row])
    oem = parse_kvn(_oem(cat, row, frame=frame))
    # The object's row gets its states from the ephemeris; its elements are not used.
    nan = catalog.Catalog(
        cat.norad[[row]], np.array([np.nan]), np.array([np.nan]), np.full((1, 9), np.nan), ("X",)
    )
    rest = cat.take(np.arange(len(cat)) != row)
    mixed = catalog.Catalog.concat([rest, nan])
    eph = {len(rest): screening.Ephemeris(oem)}
    got = screening.screen_parallel(
        mixed, START, SECONDS / 3600.0, THRESHOLD, workers=1, primaries=[number], trajectories=eph
    )
    # Rows of the oracle's catalog -> rows of the mixed one.
    to_mixed = {k: (k if k < row else k - 1) for k in range(len(cat)) if k != row}
    to_mixed[row] = len(rest)
    oracle = [
        (to_mixed[a], to_mixed[b], t, m)
        for a, b, t, m in _want(SECONDS)
        if row in (a, b) and (a, b) not in _together(SECONDS)
    ]
    assert len(oracle) >= 3
    mapped = [tuple(sorted(p)) for p in oracle]
    assert len(got) == len(oracle)
    hits, errors = _match(got, [(*sorted(p[:2]), p[2], p[3]) for p in oracle])  # type: ignore[misc]
    assert hits == len(oracle), mapped
    assert max(e[0] for e in errors) <= 0.010 and max(e[1] for e in errors) <= 0.010
    assert got.cpu_s > 0.0
    # The same on two workers (the ephemeris travels to them).
    two = screening.screen_parallel(
        mixed, START, SECONDS / 3600.0, THRESHOLD, workers=2, primaries=[number], trajectories=eph
    )
    np.testing.assert_allclose(two.tca_s, got.tca_s, atol=1e-6)


def test_oem_errors_name_the_line() -> None:
    cat = _catalog()
    good = _oem(cat, 0)
    cases = {
        "REF_FRAME = TEME": ("REF_FRAME = ITRF", "REF_FRAME 'ITRF'"),
        "TIME_SYSTEM = UTC": ("TIME_SYSTEM = TAI", "only UTC"),
        "INTERPOLATION = LAGRANGE": ("INTERPOLATION = SPLINE", "INTERPOLATION 'SPLINE'"),
        "OBJECT_NAME": ("OBJECT_NAMEX", "unknown metadata keyword"),
    }
    for old, (new, message) in cases.items():
        with pytest.raises(OemError, match=message):
            parse_kvn(good.replace(old, new, 1), source="x.oem")
    lines = good.splitlines()
    lines[20] = lines[20].rsplit(" ", 1)[0]
    with pytest.raises(OemError) as info:
        parse_kvn("\n".join(lines), source="x.oem")
    assert str(info.value).startswith("x.oem line 21: an ephemeris line has an epoch and 6 or 9")
    assert "expected: 2026-05-20T00:00:00.000 6778.137" in str(info.value)
    lines = good.splitlines()
    lines[20], lines[21] = lines[21], lines[20]
    with pytest.raises(OemError, match="line 22: ephemeris epochs must increase"):
        parse_kvn("\n".join(lines), source="x.oem")
    with pytest.raises(OemError, match="not an OEM"):
        parse_kvn("META_START\n", source="x.oem")


def test_cli_primary_oem(tmp_path: Path) -> None:
    cat = catalog.build(catalog.read(SAMPLE.read_text()).records).catalog
    whole = screening.screen(cat, START, 0.25, THRESHOLD)
    row = int(np.bincount(np.concatenate([whole.row1, whole.row2])).argmax())
    path = tmp_path / "mine.oem"
    path.write_text(_oem(cat, row))
    common = ["space", "screen", "--catalog", str(SAMPLE), "--start", "2026-05-20T00:00Z"]
    args = [*common, "--hours", "0.25", "--quiet", "--csv", "-"]
    result = CliRunner().invoke(main, [*args, "--primary-oem", str(path)])
    assert result.exit_code == 0, result.output
    by_elements = CliRunner().invoke(main, [*args, "--primary", str(int(cat.norad[row]))])
    pairs = [r.split(",")[:2] for r in result.stdout.splitlines()[1:]]
    assert pairs == [r.split(",")[:2] for r in by_elements.stdout.splitlines()[1:]]
    assert len(pairs) >= 2 and all(str(int(cat.norad[row])) in p for p in pairs)
    refused = CliRunner().invoke(main, [*args, "--primary-oem", str(path), "--cdm-dir", "x"])
    assert refused.exit_code == 2 and "--primary-oem works with --catalog" in refused.output
