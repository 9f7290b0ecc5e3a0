"""OMMs as JSON and CSV (CelesTrak / Space-Track GP): flat rows of OMM keywords, read and
written."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import fields
from typing import Any

from kizuna.space.formats._epoch import format_epoch
from kizuna.space.formats.omm._keywords import _KEYWORDS, _build
from kizuna.space.formats.omm._model import ElementSet, OmmError, OmmResult


def _from_rows(rows: Iterable[tuple[str, Mapping[str, Any]]], source: str) -> OmmResult:
    records: list[ElementSet] = []
    errors: list[OmmError] = []
    for where, row in rows:
        items = [
            (str(k), "" if v is None else _scalar(v), where)
            for k, v in row.items()
            if k is not None
        ]
        try:
            records.append(_build(items, source=source, where=where))
        except OmmError as exc:
            errors.append(exc)
    return OmmResult(records, errors)


def _scalar(value: object) -> str:
    if isinstance(value, float):
        return repr(value)
    return str(value)


def parse_json(text: str, *, source: str = "<omm>") -> OmmResult:
    """Read a JSON array of GP records (CelesTrak or Space-Track), or a single record.

    A file cut short keeps the records that are complete:

    >>> r = parse_json('[{"NORAD_CAT_ID": 5, "EPOCH": "2026-05-20T00:00:00", "MEAN_MOTION": 15,'
    ...   ' "ECCENTRICITY": 0, "INCLINATION": 1, "RA_OF_ASC_NODE": 2, "ARG_OF_PERICENTER": 3,'
    ...   ' "MEAN_ANOMALY": 4}, {"NORAD_CAT_ID": 6, "EPO')
    >>> [e.norad_cat_id for e in r.records], r.errors[0].problem
    ([5], 'the file ends inside record 2 (cut short?)')
    """
    try:
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            return _salvage_json(text, source)
    except RecursionError:  # arrays nested thousands deep: no GP record is
        return OmmResult([], [OmmError("arrays or objects nest too deep for a JSON array of GP "
                                       "records", source=source,
                                       expected='[{"OBJECT_NAME": "ISS (ZARYA)", ...}]')])
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        return OmmResult(
            [],
            [
                OmmError(
                    "expected a JSON array of GP records",
                    source=source,
                    expected='[{"OBJECT_NAME": "ISS (ZARYA)", ...}]',
                )
            ],
        )
    rows: list[tuple[str, Mapping[str, Any]]] = []
    bad: list[OmmError] = []
    for i, item in enumerate(data, start=1):
        if isinstance(item, dict):
            rows.append((f"record {i}", item))
        else:
            bad.append(
                OmmError(
                    f"record {i} is not a JSON object",
                    source=source,
                    line=json.dumps(item)[:80],
                    expected='{"NORAD_CAT_ID": 25544, ...}',
                )
            )
    result = _from_rows(rows, source)
    return OmmResult(result.records, bad + result.errors)


def _salvage_json(text: str, source: str) -> OmmResult:
    decoder = json.JSONDecoder()
    pos = text.find("[")
    if pos < 0:
        return OmmResult(
            [],
            [OmmError("not JSON", source=source, expected='[{"OBJECT_NAME": "ISS (ZARYA)", ...}]')],
        )
    pos += 1
    rows: list[tuple[str, Mapping[str, Any]]] = []
    index = 0
    problem = ""
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(text):
            problem = "the file ends before the closing ']' (cut short?)"
            break
        if text[pos] == "]":
            problem = "text after the closing ']'"
            break
        index += 1
        try:
            item, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError:
            problem = f"the file ends inside record {index} (cut short?)"
            break
        if isinstance(item, dict):
            rows.append((f"record {index}", item))
    result = _from_rows(rows, source)
    err = OmmError(problem, source=source, expected="[{...}, {...}]")
    return OmmResult(result.records, [*result.errors, err])


def parse_csv(text: str, *, source: str = "<omm>") -> OmmResult:
    """Read CSV GP records with a header row of OMM keywords (CelesTrak / Space-Track)."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        return OmmResult(
            [], [OmmError("empty CSV", source=source, expected="OBJECT_NAME,OBJECT_ID,EPOCH,...")]
        )
    header = [h.strip() for h in header]
    rows: list[tuple[str, Mapping[str, Any]]] = []
    bad: list[OmmError] = []
    for number, row in enumerate(reader, start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(header):
            bad.append(
                OmmError(
                    f"row has {len(row)} fields, the header has {len(header)} (cut short?)",
                    source=source,
                    where=f"line {number}",
                    line=",".join(row)[:100],
                    expected=",".join(header)[:100],
                )
            )
            continue
        rows.append((f"line {number}", dict(zip(header, row, strict=True))))
    result = _from_rows(rows, source)
    return OmmResult(result.records, bad + result.errors)


_CSV_COLUMNS = [
    "OBJECT_NAME",
    "OBJECT_ID",
    "EPOCH",
    "MEAN_MOTION",
    "ECCENTRICITY",
    "INCLINATION",
    "RA_OF_ASC_NODE",
    "ARG_OF_PERICENTER",
    "MEAN_ANOMALY",
    "EPHEMERIS_TYPE",
    "CLASSIFICATION_TYPE",
    "NORAD_CAT_ID",
    "ELEMENT_SET_NO",
    "REV_AT_EPOCH",
    "BSTAR",
    "MEAN_MOTION_DOT",
    "MEAN_MOTION_DDOT",
]


def _row(es: ElementSet) -> dict[str, Any]:
    by_attr = {spec[1]: key for key, spec in _KEYWORDS.items() if spec[1]}
    values = {f.name: getattr(es, f.name) for f in fields(es)}
    row = {by_attr[name]: values[name] for name in by_attr if name in values}
    row["EPOCH"] = format_epoch(es.epoch)
    return {k: row[k] for k in _CSV_COLUMNS}


def dumps_json(records: Iterable[ElementSet]) -> str:
    """Write records as a CelesTrak-style JSON array.

    >>> es = ElementSet(25544, parse_epoch("2026-05-20T00:00:00"), 15.5, .0004, 51.6, 10.0,
    ...                 20.0, 30.0)
    >>> parse_json(dumps_json([es])).records == [es]
    True
    """
    return json.dumps([_row(es) for es in records])


def dumps_csv(records: Iterable[ElementSet]) -> str:
    """Write records as CelesTrak-style CSV."""
    out = io.StringIO()
    writer = csv.DictWriter(out, _CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for es in records:
        writer.writerow({k: repr(v) if isinstance(v, float) else v for k, v in _row(es).items()})
    return out.getvalue()
