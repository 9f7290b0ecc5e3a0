"""OMMs in KVN (``KEYWORD = value [unit]`` lines, one message after another): read and write."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from kizuna.space.formats._epoch import format_epoch
from kizuna.space.formats.omm._keywords import _build, named
from kizuna.space.formats.omm._model import ElementSet, OmmError, OmmResult


def parse_kvn(text: str, *, source: str = "<omm>") -> OmmResult:
    """Read one or more KVN OMMs (each starts with ``CCSDS_OMM_VERS``)."""
    records: list[ElementSet] = []
    errors: list[OmmError] = []
    block: list[tuple[str, str, str]] = []
    comments: list[str] = []
    bad: list[OmmError] = []
    start = 1

    def flush() -> None:
        if not block and not bad:
            return
        if bad:
            errors.append(named(bad[0], block, f"record at line {start}"))
        else:
            try:
                records.append(
                    _build(block, source=source, where=f"record at line {start}", comments=comments)
                )
            except OmmError as exc:
                errors.append(exc)
        block.clear()
        comments.clear()
        bad.clear()

    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("COMMENT"):
            comments.append(stripped[7:].removeprefix(" "))
            continue
        key, sep, value = stripped.partition("=")
        if not sep:
            bad.append(
                OmmError(
                    "not a KEYWORD = value line",
                    source=source,
                    where=f"line {number}",
                    line=stripped,
                    expected="MEAN_MOTION = 15.50103472 [rev/day]",
                )
            )
            continue
        if key.strip().upper() == "CCSDS_OMM_VERS":
            flush()
            start = number
        block.append((key.strip(), value.strip(), f"line {number}"))
    flush()
    return OmmResult(records, errors)


def dumps_kvn(records: Iterable[ElementSet], *, originator: str = "KIZUNA") -> str:
    """Write records as KVN OMMs, one message after another.

    >>> es = ElementSet(25544, parse_epoch("2026-05-20T00:00:00"), 15.5, .0004, 51.6, 10.0,
    ...                 20.0, 30.0, object_name="ISS (ZARYA)", object_id="1998-067A")
    >>> from dataclasses import replace
    >>> back = parse_kvn(dumps_kvn([es])).records[0]
    >>> back.originator, back == replace(es, originator="KIZUNA", creation_date=back.creation_date)
    ('KIZUNA', True)
    """
    out: list[str] = []
    for es in records:
        rows: list[tuple[str, str]] = [
            ("CCSDS_OMM_VERS", "3.0"),
            ("CREATION_DATE", es.creation_date or format_epoch(datetime.now(UTC))),
            ("ORIGINATOR", es.originator or originator),
            ("OBJECT_NAME", es.object_name),
            ("OBJECT_ID", es.object_id),
            ("CENTER_NAME", es.center_name),
            ("REF_FRAME", es.ref_frame),
            ("TIME_SYSTEM", es.time_system),
            ("MEAN_ELEMENT_THEORY", es.mean_element_theory),
            ("EPOCH", format_epoch(es.epoch)),
            ("MEAN_MOTION", f"{es.mean_motion!r} [rev/day]"),
            ("ECCENTRICITY", repr(es.eccentricity)),
            ("INCLINATION", f"{es.inclination!r} [deg]"),
            ("RA_OF_ASC_NODE", f"{es.ra_of_asc_node!r} [deg]"),
            ("ARG_OF_PERICENTER", f"{es.arg_of_pericenter!r} [deg]"),
            ("MEAN_ANOMALY", f"{es.mean_anomaly!r} [deg]"),
            ("EPHEMERIS_TYPE", str(es.ephemeris_type)),
            ("CLASSIFICATION_TYPE", es.classification_type),
            ("NORAD_CAT_ID", str(es.norad_cat_id)),
            ("ELEMENT_SET_NO", str(es.element_set_no)),
            ("REV_AT_EPOCH", str(es.rev_at_epoch)),
            ("BSTAR", f"{es.bstar!r} [1/ER]"),
            ("MEAN_MOTION_DOT", f"{es.mean_motion_dot!r} [rev/day**2]"),
            ("MEAN_MOTION_DDOT", f"{es.mean_motion_ddot!r} [rev/day**3]"),
        ]
        rows += [(f"USER_DEFINED_{k}", v) for k, v in es.user_defined]
        out += [f"{k:<20}= {v}".rstrip() for k, v in rows]
        out.append("")
    return "\n".join(out)
