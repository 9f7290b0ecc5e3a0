"""CDMs in KVN (``KEYWORD = value [unit]`` lines): read and write."""

from __future__ import annotations

import re

from kizuna.space.formats.cdm._builder import _Builder, _Entry
from kizuna.space.formats.cdm._keywords import (
    _ALL,
    _DATA,
    _HEADER,
    _RELATIVE,
    _data_blocks,
    _fmt,
    _metadata_items,
    _relative_items,
    _unit,
)
from kizuna.space.formats.cdm._model import Cdm, CdmError, format_epoch

_KVN_LINE = re.compile(r"^([A-Za-z0-9_]+)\s*=\s*(.*?)\s*(?:\[([^\]]*)\])?\s*$")


def parse_kvn(text: str, *, source: str = "<cdm>") -> Cdm:
    """Parse a CDM in KVN (``KEYWORD = value [unit]``) form; raise :class:`CdmError`."""
    sections: dict[str, list[_Entry]] = {}
    current = "header"
    pending: list[tuple[int, str]] = []

    def flush(part_section: str, part: str) -> None:
        for no, raw in pending:
            body = raw.strip()[7:].strip()
            sections.setdefault(part_section, []).append(
                _Entry("COMMENT", body, None, f"line {no}", raw.strip(), part)
            )
        pending.clear()

    part = "header"
    quirks: list[str] = []
    for no, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if line == "COMMENT" or line.startswith("COMMENT ") or line.startswith("COMMENT\t"):
            pending.append((no, raw))
            continue
        m = _KVN_LINE.match(line)
        if m is None:
            raise CdmError(
                "not a KVN line",
                source=source,
                where=f"line {no}",
                line=line,
                expected="KEYWORD = value [unit]   e.g.  MISS_DISTANCE = 715 [m]",
            )
        key, value, unit = m.group(1), m.group(2), m.group(3)
        known = _ALL.get(key.upper())
        if unit is not None and known is not None and known.unit is None and known.kind == "str":
            value = line.partition("=")[2].strip()  # a name such as STARLINK-11735 [DTC]
            unit = None
        takes_unit = known is None or known.unit is not None
        if unit is None and value.endswith("[") and takes_unit:
            value = value[:-1].rstrip()
            quirks.append(f"line {no}: {key} has an unclosed unit bracket, read without a unit")
        if key == "OBJECT":
            flush(current, part)
            if value not in ("OBJECT1", "OBJECT2"):
                raise CdmError(
                    f"OBJECT must be OBJECT1 or OBJECT2, not {value!r}",
                    source=source,
                    where=f"line {no}",
                    line=line,
                    expected="OBJECT = OBJECT1",
                )
            if value in sections or (value == "OBJECT2" and "OBJECT1" not in sections):
                raise CdmError(
                    f"{value} section out of order or repeated",
                    source=source,
                    where=f"line {no}",
                    line=line,
                    expected="one OBJECT = OBJECT1 section, then OBJECT = OBJECT2",
                )
            current, part = value, "metadata"
        elif current == "header" and key not in _HEADER:
            current = part = "relative"
        elif current.startswith("OBJECT"):
            part = "data" if key in _DATA else ("metadata" if part == "metadata" else "data")
        flush(current, part)
        sections.setdefault(current, []).append(
            _Entry(key.upper(), value, unit, f"line {no}", line, part)
        )
    flush(current, part)
    builder = _Builder(source)
    builder.notes.extend(quirks)
    return builder.build(sections)


def _kvn_lines(cdm: Cdm) -> list[tuple[str, str, str | None]]:
    out: list[tuple[str, str, str | None]] = []
    h, r = cdm.header, cdm.relative
    out.append(("CCSDS_CDM_VERS", h.version, None))
    out += [("COMMENT", c, None) for c in h.comments]
    out.append(("CREATION_DATE", format_epoch(h.creation_date), None))
    out.append(("ORIGINATOR", h.originator, None))
    if h.message_for is not None:
        out.append(("MESSAGE_FOR", h.message_for, None))
    out.append(("MESSAGE_ID", h.message_id, None))
    out += [("COMMENT", c, None) for c in r.comments]
    for k, v in _relative_items(r):
        out.append((k, v, _RELATIVE[k].unit))
    if r.hbr_m is not None:
        out.append(("COMMENT", f"HBR = {_fmt(r.hbr_m)} [m]", None))
    for o in (cdm.object1, cdm.object2):
        out.append(("OBJECT", o.object, None))
        out += [("COMMENT", c, None) for c in o.metadata_comments]
        out += [(k, v, None) for k, v in _metadata_items(o)[1:]]
        out += [("COMMENT", c, None) for c in o.data_comments]
        out += [(k, v, _unit(k)) for _, items in _data_blocks(o) for k, v in items]
    return out


def dumps_kvn(cdm: Cdm) -> str:
    """Write a CDM in KVN form (units in brackets, comments at the start of each section)."""
    lines = []
    for key, value, unit in _kvn_lines(cdm):
        if key == "COMMENT":
            lines.append(f"COMMENT {value}".rstrip())
        else:
            lines.append(f"{key:<36}= {value}" + (f" [{unit}]" if unit else ""))
    return "\n".join(lines) + "\n"
