"""From keyword entries (both syntaxes produce them) to the model: the validating builder whose
errors name the keyword, its section and an example of the expected form."""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from kizuna.space.formats._epoch import parse_epoch
from kizuna.space.formats.cdm._keywords import (
    _ALL,
    _COVARIANCE,
    _DATA,
    _FIXED_META,
    _HBR_COMMENT,
    _HEADER,
    _MANDATORY_META,
    _METADATA,
    _OBJECT,
    _REF_FRAMES,
    _REL_POS,
    _REL_VEL,
    _RELATIVE,
    _SECTIONS,
    _STATE,
    _STATE_KEYWORDS,
    _TOLERATED_UNITS,
    COVARIANCE_KEYWORDS,
    NO_COVARIANCE_COMMENT,
    _Kw,
)
from kizuna.space.formats.cdm._model import Cdm, CdmError, CdmHeader, CdmObject, CdmRelative


class _Entry(NamedTuple):
    keyword: str
    value: str
    unit: str | None
    where: str
    line: str
    part: str  # "header" | "relative" | "metadata" | "data"


def _norm_unit(unit: str) -> str:
    return re.sub(r"\s+", "", unit).lower()


def _example(keyword: str, table: Mapping[str, _Kw]) -> str:
    kw = table[keyword]
    return f"{keyword} = {kw.example}" + (f" [{kw.unit}]" if kw.unit else "")


class _Builder:
    def __init__(self, source: str) -> None:
        self.source = source
        self.notes: list[str] = []

    def error(self, problem: str, entry: _Entry | None = None, expected: str = "") -> CdmError:
        where, line = (entry.where, entry.line) if entry else ("", "")
        return CdmError(problem, source=self.source, where=where, line=line, expected=expected)

    def values(
        self, entries: list[_Entry], table: Mapping[str, _Kw], section: str
    ) -> tuple[dict[str, str], dict[str, _Entry], list[_Entry]]:
        out: dict[str, str] = {}
        seen: dict[str, _Entry] = {}
        comments: list[_Entry] = []
        for e in entries:
            if e.keyword == "COMMENT":
                comments.append(e)
                continue
            kw = table.get(e.keyword)
            if kw is None:
                close = difflib.get_close_matches(e.keyword, list(table), n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                owner = next((n for n, t in _SECTIONS if e.keyword in t), None)
                problem = (
                    f"keyword {e.keyword} belongs to the {owner} section, not the {section} section"
                    if owner
                    else f"unknown keyword {e.keyword!r} in the {section} section{hint}"
                )
                sample = close[0] if close else next(iter(table))
                raise self.error(problem, e, _example(sample, table))
            if e.keyword in seen:
                raise self.error(
                    f"{e.keyword} given twice in the {section} section "
                    f"(first at {seen[e.keyword].where})",
                    e,
                )
            self.check_unit(e, kw)
            self.check_value(e, kw)
            seen[e.keyword] = e
            out[e.keyword] = e.value
        return out, seen, comments

    def check_unit(self, e: _Entry, kw: _Kw) -> None:
        if e.unit is None:
            return
        if kw.unit is None:
            raise self.error(f"{e.keyword} takes no unit", e, _example(e.keyword, _ALL))
        if _norm_unit(e.unit) == _norm_unit(kw.unit):
            return
        if _TOLERATED_UNITS.get((e.keyword, _norm_unit(e.unit))) == kw.unit:
            self.notes.append(
                f"{e.where}: {e.keyword} given in [{e.unit}], read as "
                f"[{kw.unit}] (a known producer quirk)"
            )
            return
        raise self.error(f"wrong unit [{e.unit}] for {e.keyword}", e, _example(e.keyword, _ALL))

    def check_value(self, e: _Entry, kw: _Kw) -> None:
        try:
            if kw.kind == "float":
                if not math.isfinite(float(e.value)):
                    raise ValueError
            elif kw.kind == "real":
                float(e.value)
            elif kw.kind == "int":
                int(e.value)
            elif kw.kind == "time":
                parse_epoch(e.value)
            elif not e.value:
                raise ValueError
        except ValueError:
            what = {
                "float": "a finite number",
                "real": "a number",
                "int": "an integer",
                "time": "a UTC epoch YYYY-MM-DDThh:mm:ss[.fff] or YYYY-DDDThh:mm:ss[.fff]",
                "str": "a value",
            }[kw.kind]
            raise self.error(f"{e.keyword} needs {what}", e, _example(e.keyword, _ALL)) from None

    def require(
        self,
        values: Mapping[str, str],
        names: Sequence[str],
        section: str,
        table: Mapping[str, _Kw],
        last: _Entry | None,
    ) -> None:
        missing = [n for n in names if n not in values]
        if missing:
            raise self.error(
                f"{section} section is missing {', '.join(missing)} (truncated or incomplete "
                f"message?)",
                last,
                _example(missing[0], table),
            )

    def lift_hbr(self, sections: dict[str, list[_Entry]]) -> None:
        """Move an HBR comment found outside the relative section into it. CARA writes
        ``COMMENT HBR = ...`` there in KVN; a comment before ``OBJECT = OBJECT1`` belongs to
        OBJECT1's metadata in XML, which is where ccsds-ndm's KVN-to-XML writes it."""

        def is_hbr(e: _Entry) -> bool:
            return e.keyword == "COMMENT" and _HBR_COMMENT.match(e.value) is not None

        if any(is_hbr(e) for e in sections.get("relative", [])):
            return
        for name in ("header", "OBJECT1", "OBJECT2"):
            found = next((e for e in sections.get(name, []) if is_hbr(e)), None)
            if found is not None:
                sections[name].remove(found)
                sections.setdefault("relative", []).insert(0, found)
                self.notes.append(f"{found.where}: the HBR comment read from the {name} section")
                return

    def build(self, sections: dict[str, list[_Entry]]) -> Cdm:
        self.lift_hbr(sections)
        last_entry = next((s[-1] for s in reversed(list(sections.values())) if s), None)
        hv, _, hc = self.values(sections.get("header", []), _HEADER, "header")
        self.require(
            hv,
            ("CCSDS_CDM_VERS", "CREATION_DATE", "ORIGINATOR", "MESSAGE_ID"),
            "header",
            _HEADER,
            last_entry,
        )
        header = CdmHeader(
            parse_epoch(hv["CREATION_DATE"]),
            hv["ORIGINATOR"],
            hv["MESSAGE_ID"],
            hv.get("MESSAGE_FOR"),
            hv["CCSDS_CDM_VERS"],
            tuple(c.value for c in hc),
        )
        relative = self.relative(sections.get("relative", []), last_entry)
        objs = []
        for name in ("OBJECT1", "OBJECT2"):
            if name not in sections:
                raise self.error(
                    f"no {name} section (truncated message?)", last_entry, f"OBJECT = {name}"
                )
            objs.append(self.obj(name, sections[name], last_entry))
        return Cdm(header, relative, objs[0], objs[1], tuple(self.notes))

    def relative(self, entries: list[_Entry], last: _Entry | None) -> CdmRelative:
        rv, seen, rc = self.values(entries, _RELATIVE, "relative metadata/data")
        self.require(rv, ("TCA", "MISS_DISTANCE"), "relative metadata/data", _RELATIVE, last)
        hbr: float | None = None
        comments = []
        for c in rc:
            m = _HBR_COMMENT.match(c.value)
            if m and hbr is None:
                try:
                    value = float(m.group(1))
                except ValueError:
                    value = math.nan
                if math.isfinite(value) and value >= 0:
                    hbr = value
                    continue
                self.notes.append(
                    f"{c.where}: {c.value!r} is no hard-body radius (a finite number of metres, "
                    "0 or more, is): kept as a comment"
                )
            comments.append(c.value)
        vecs = []
        for names in (_REL_POS, _REL_VEL):
            given = [n for n in names if n in rv]
            if given and len(given) < 3:
                self.require(rv, names, "relative metadata/data", _RELATIVE, seen[given[-1]])
            vecs.append(
                (float(rv[names[0]]), float(rv[names[1]]), float(rv[names[2]])) if given else None
            )
        fixed = {
            "TCA",
            "MISS_DISTANCE",
            "RELATIVE_SPEED",
            "COLLISION_PROBABILITY",
            "COLLISION_PROBABILITY_METHOD",
            *_REL_POS,
            *_REL_VEL,
        }

        def opt(name: str) -> float | None:
            return float(rv[name]) if name in rv else None

        for name, low, high in (
            ("MISS_DISTANCE", 0.0, math.inf),
            ("RELATIVE_SPEED", 0.0, math.inf),
            ("COLLISION_PROBABILITY", 0.0, 1.0),
        ):
            if name in rv and not low <= float(rv[name]) <= high:
                span = "0 or more" if high == math.inf else f"from {low:g} to {high:g}"
                raise self.error(
                    f"{name} needs a number {span}", seen[name], _example(name, _RELATIVE)
                )

        return CdmRelative(
            tca=parse_epoch(rv["TCA"]),
            miss_distance_m=float(rv["MISS_DISTANCE"]),
            relative_speed_m_s=opt("RELATIVE_SPEED"),
            relative_position_rtn_m=vecs[0],
            relative_velocity_rtn_m_s=vecs[1],
            collision_probability=opt("COLLISION_PROBABILITY"),
            collision_probability_method=rv.get("COLLISION_PROBABILITY_METHOD"),
            hbr_m=hbr,
            extra={k: v for k, v in rv.items() if k not in fixed},
            comments=tuple(comments),
        )

    def obj(self, name: str, entries: list[_Entry], last: _Entry | None) -> CdmObject:
        section = f"{name} "
        ov, seen, oc = self.values(entries, _OBJECT, f"{name} metadata/data")
        last = entries[-1] if entries else last
        self.require(ov, _MANDATORY_META, section + "metadata", _METADATA, last)
        self.require(ov, _STATE_KEYWORDS, section + "state vector", _STATE, last)
        frame = ov.get("REF_FRAME", "EME2000")
        if frame not in _REF_FRAMES:
            raise self.error(
                f"unsupported REF_FRAME {frame!r}",
                seen["REF_FRAME"],
                "REF_FRAME = " + " | ".join(_REF_FRAMES),
            )
        cov: tuple[float, ...] | None = None
        given = [k for k in COVARIANCE_KEYWORDS if k in ov]
        data_comments = [c.value for c in oc if c.part == "data"]
        if given:
            self.require(ov, COVARIANCE_KEYWORDS, section + "covariance", _COVARIANCE, last)
            cov = tuple(float(ov[k]) for k in COVARIANCE_KEYWORDS)
        placeholder = (
            ov.get("COVARIANCE_METHOD") == "DEFAULT" and NO_COVARIANCE_COMMENT in data_comments
        )
        if placeholder:  # Kizuna's own stand-in for "no covariance" (see NO_COVARIANCE_COMMENT)
            cov = None
            data_comments.remove(NO_COVARIANCE_COMMENT)
        fixed = {*_FIXED_META, *_STATE_KEYWORDS, *COVARIANCE_KEYWORDS}
        s = [float(ov[k]) for k in _STATE_KEYWORDS]
        return CdmObject(
            object=name,
            object_designator=ov["OBJECT_DESIGNATOR"],
            object_name=ov["OBJECT_NAME"],
            international_designator=ov["INTERNATIONAL_DESIGNATOR"],
            position_km=(s[0], s[1], s[2]),
            velocity_km_s=(s[3], s[4], s[5]),
            covariance=cov,
            catalog_name=ov.get("CATALOG_NAME", "SATCAT"),
            ephemeris_name=ov.get("EPHEMERIS_NAME", "NONE"),
            covariance_method=ov.get("COVARIANCE_METHOD", "CALCULATED"),
            maneuverable=ov.get("MANEUVERABLE", "N/A"),
            ref_frame=frame,
            metadata={k: v for k, v in ov.items() if k in _METADATA and k not in fixed},
            data={k: v for k, v in ov.items() if k in _DATA and k not in fixed},
            metadata_comments=tuple(c.value for c in oc if c.part == "metadata"),
            data_comments=tuple(data_comments),
        )
