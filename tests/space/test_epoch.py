"""OMM and CDM read epochs with one parser: the same instant from the same text, everywhere."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kizuna.space.formats import cdm, omm
from kizuna.space.formats._epoch import format_epoch, parse_epoch

CDM = (
    Path(__file__).parent.parent
    / "data/space/cdm/PcTestCaseCDMs/000025994_conj_000037558_20210324_151047_20210323_154356.cdm"
)


def test_omm_and_cdm_share_the_parser() -> None:
    assert omm.parse_epoch is parse_epoch
    assert cdm.parse_epoch is parse_epoch


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("2026-05-20T06:49:59.9999996", datetime(2026, 5, 20, 6, 50, 0, tzinfo=UTC)),
        ("2026-05-20T06:49:59.9999994", datetime(2026, 5, 20, 6, 49, 59, 999999, tzinfo=UTC)),
        ("2026-12-31T23:59:59.99999951Z", datetime(2027, 1, 1, tzinfo=UTC)),
        ("2016-12-31T23:59:60", datetime(2017, 1, 1, tzinfo=UTC)),
        ("2016-366T23:59:60.25", datetime(2017, 1, 1, 0, 0, 0, 250000, tzinfo=UTC)),
        ("2024-060T00:00:00", datetime(2024, 2, 29, tzinfo=UTC)),
    ],
)
def test_fractions_round_and_a_leap_second_carries(text: str, want: datetime) -> None:
    assert parse_epoch(text) == want


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2026-05-20T12:00:60", "only possible at 23:59"),
        ("2026-05-20T24:00:00", "time of day out of range"),
        ("2026-05-20T23:60:00", "time of day out of range"),
        ("2026-02-30T00:00:00", "date out of range"),
        ("2025-366T00:00:00", "day of year out of range"),
        ("2025-000T00:00:00", "day of year out of range"),
        ("2026-05-20T12:00:00+00:00", "not a CCSDS epoch"),
    ],
)
def test_impossible_epochs_are_refused(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_epoch(text)


def test_a_leap_second_reads_the_same_in_an_omm_and_a_cdm() -> None:
    kvn = (
        "CCSDS_OMM_VERS = 3.0\nCREATION_DATE = 2016-12-31T00:00:00\nORIGINATOR = X\n"
        "OBJECT_NAME = A\nOBJECT_ID = 2000-001A\nCENTER_NAME = EARTH\nREF_FRAME = TEME\n"
        "TIME_SYSTEM = UTC\nMEAN_ELEMENT_THEORY = SGP4\nEPOCH = 2016-12-31T23:59:60.125\n"
        "MEAN_MOTION = 15\nECCENTRICITY = 0.001\nINCLINATION = 51\nRA_OF_ASC_NODE = 1\n"
        "ARG_OF_PERICENTER = 2\nMEAN_ANOMALY = 3\nNORAD_CAT_ID = 1\n"
    )
    es = omm.parse_kvn(kvn).records[0]
    text = CDM.read_text(encoding="utf-8")
    tca_line = next(line for line in text.splitlines() if line.startswith("TCA"))
    message = cdm.parse_kvn(text.replace(tca_line, "TCA = 2016-12-31T23:59:60.125"))
    assert es.epoch == message.relative.tca == datetime(2017, 1, 1, 0, 0, 0, 125000, tzinfo=UTC)


@given(st.datetimes(min_value=datetime(1957, 1, 1), max_value=datetime(2199, 12, 31)))
def test_format_then_parse_is_exact(when: datetime) -> None:
    aware = when.replace(tzinfo=UTC)
    assert parse_epoch(format_epoch(aware)) == aware
    assert parse_epoch(format_epoch(aware, digits=3)) == aware
    assert parse_epoch(format_epoch(aware)[:-7] + "Z") == aware.replace(microsecond=0)
