"""Conjunction plots: the PNG is written, valid, and of a sensible size."""

from __future__ import annotations

import doctest
import struct
from pathlib import Path

import numpy as np

from kizuna.space import plot as plot_module
from kizuna.space.formats.cdm import parse_kvn
from kizuna.space.plot import linear_distance, plot_cdm, plot_conjunction
from kizuna.space.probability import pc_2d_from_cdms

DATA = Path(__file__).parent.parent / "data" / "space" / "cdm"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == PNG_MAGIC and head[12:16] == b"IHDR"
    width, height = struct.unpack(">II", head[16:24])
    return int(width), int(height)


def test_doctests() -> None:
    result = doctest.testmod(plot_module)
    assert result.attempted > 0 and result.failed == 0


def test_linear_distance_has_its_minimum_at_tca() -> None:
    t, d = linear_distance([30.0, 40.0, 0.0], [0.0, 0.0, 7000.0], span_s=1.0, steps=201)
    assert t[np.argmin(d)] == 0.0 and d.min() == 50.0


def test_plot_from_a_cdm(tmp_path: Path) -> None:
    path = DATA / "PcTestCaseCDMs" / "000025994_conj_000037558_20210324_151047_20210323_154356.cdm"
    cdm = parse_kvn(path.read_text())
    res = pc_2d_from_cdms([cdm])
    out = plot_cdm(cdm, res, 0, tmp_path / "terra.png")
    assert out.exists() and out.stat().st_size > 10_000
    assert _png_size(out) == (1100, 480)


def test_plot_without_covariance_or_hbr(tmp_path: Path) -> None:
    t, d = linear_distance([500.0, 0.0, 0.0], [0.0, 7000.0, 0.0], span_s=0.5)
    out = plot_conjunction(tmp_path / "bare.png", t_s=t, distance_m=d, miss_xz_m=(500.0, 0.0),
                           cov_plane_m2=np.full((2, 2), np.nan), hbr_m=None)
    width, height = _png_size(out)
    assert 500 < width < 3000 and 300 < height < 2000
