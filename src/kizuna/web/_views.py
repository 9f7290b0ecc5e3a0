"""How the UI shows things: markings banners, times, links, orbits and changes between
versions. Pure functions over released objects and the policy snapshot; no reads."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from kizuna.node import Snapshot
from kizuna.policy.principal import origin_org, origin_peer
from kizuna.stix.markings import Exercise, RelTo, Statement, Tlp

#: FIRST's TLP 2.0 colours (text on black).
TLP_COLOURS = {
    "red": "#FF2B2B",
    "amber": "#FFC000",
    "amber+strict": "#FFC000",
    "green": "#33FF00",
    "clear": "#FFFFFF",
    "white": "#FFFFFF",
}
MU_KM3_S2 = 398600.4418
EARTH_RADIUS_KM = 6378.137


@dataclass(frozen=True, slots=True)
class Label:
    """One marking as the banner shows it."""

    kind: str  # tlp, relto, exercise, statement, unknown
    text: str
    detail: str = ""
    css: str = ""


def marking_labels(snap: Snapshot, refs: Iterable[str], private: frozenset[str]) -> list[Label]:
    """The banner's labels of markings *refs*. *private*: those whose meaning the reader may
    not learn (``kizuna.node.unseen_definitions``: a statement's text, an exercise marking's
    name under an id of its own, docs/policy.md Rule 6), shown by kind only."""
    out: list[Label] = []
    for ref in refs:
        m = snap.gate.marking(ref)
        if ref in private:
            if isinstance(m, Exercise):
                out.append(Label("exercise", "EXERCISE", "Exercise data: not real"))
            else:
                out.append(Label("statement" if isinstance(m, Statement) else "unknown",
                                 "Statement" if isinstance(m, Statement) else "Marking"))
            continue
        if isinstance(m, Tlp):
            out.append(Label("tlp", f"TLP:{m.level.upper()}", css="tlp-" + m.level.replace("+", "-")))
        elif isinstance(m, RelTo):
            codes = sorted(m.codes)
            parts = []
            for code in codes:
                members = snap.communities.get(code)
                if members:
                    parts.append(f"{code} (community: {', '.join(sorted(members))})")
                else:
                    parts.append(f"{code} (country)")
            out.append(Label("relto", "REL TO " + ", ".join(codes), "Releasable to " + "; ".join(parts)))
        elif isinstance(m, Exercise):
            out.append(Label("exercise", f"EXERCISE {m.name.upper()}", "Exercise data: not real"))
        elif isinstance(m, Statement):
            out.append(Label("statement", "Statement", m.text))
        else:
            out.append(Label("unknown", "Unknown marking", ref))
    return out


def marking_refs(obj: Mapping[str, Any]) -> list[str]:
    refs = obj.get("object_marking_refs")
    return [r for r in refs if isinstance(r, str)] if isinstance(refs, list) else []


def is_exercise(labels: Iterable[Label]) -> bool:
    return any(label.kind == "exercise" for label in labels)


def tlp_of(labels: Iterable[Label]) -> str:
    return next((label.text for label in labels if label.kind == "tlp"), "")


def iso(us: int | None) -> str:
    """Microseconds since the epoch as ISO 8601 UTC, to the second."""
    if not us:
        return ""
    return datetime.fromtimestamp(us / 1e6, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_text(value: object) -> str:
    """A STIX timestamp as the UI shows it (to the second, UTC)."""
    text = str(value or "")
    m = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)", text)
    return m.group(1) + "Z" if m else text


def safe_url(url: object) -> str | None:
    """*url* when it may be a link (http or https with a host), else None."""
    if not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() in ("http", "https") and parts.netloc:
        return url.strip()
    return None


def attack_url(external_id: str) -> str | None:
    """The MITRE ATT&CK page of a technique, tactic, group or software id."""
    m = re.fullmatch(r"(T\d{4})(?:\.(\d{3}))?", external_id)
    if m:
        tail = f"/{m.group(2)}" if m.group(2) else ""
        return f"https://attack.mitre.org/techniques/{m.group(1)}{tail}/"
    for prefix, path in (("TA", "tactics"), ("G", "groups"), ("S", "software"), ("M", "mitigations")):
        if re.fullmatch(prefix + r"\d{4}", external_id):
            return f"https://attack.mitre.org/{path}/{external_id}/"
    return None


TYPE_NAMES = {
    "x-kizuna-space-object": "space object",
    "x-kizuna-conjunction": "conjunction",
    "attack-pattern": "attack pattern",
    "course-of-action": "course of action",
    "observed-data": "observed data",
    "marking-definition": "marking definition",
    "extension-definition": "extension definition",
}


def type_name(stix_type: object) -> str:
    """A STIX type as a person reads it."""
    return TYPE_NAMES.get(str(stix_type), str(stix_type))


def display_name(obj: Mapping[str, Any]) -> str:
    if obj.get("type") == "x-kizuna-conjunction" and obj.get("tca"):
        return f"Conjunction at {iso_text(obj['tca'])}"
    if obj.get("type") == "sighting":
        return f"Sighting, {obj.get('count', 1)} time(s), last {iso_text(obj.get('last_seen') or obj.get('created'))}"
    for key in ("name", "value", "abstract", "pattern", "opinion", "relationship_type"):
        value = obj.get(key)
        if isinstance(value, str) and value:
            return value if len(value) <= 120 else value[:117] + "..."
    if obj.get("type") == "x-kizuna-space-object" and "norad_cat_id" in obj:
        return f"NORAD {obj['norad_cat_id']}"
    return str(obj.get("id", ""))


def carried_names(obj: Mapping[str, Any]) -> dict[str, str]:
    """space_object_ref -> the name a conjunction made from a CDM gives it (OBJECT_NAME and
    the catalog number, or the designators alone), from the object as released."""
    refs = obj.get("space_object_refs")
    screening = obj.get("screening")
    carried = screening.get("objects") if isinstance(screening, Mapping) else None
    if not isinstance(refs, list) or not isinstance(carried, list):
        return {}
    out: dict[str, str] = {}
    for ref, names in zip(refs, carried, strict=False):
        if not isinstance(ref, str) or not isinstance(names, Mapping):
            continue
        parts = [str(names[k]) for k in ("object_designator", "international_designator")
                 if isinstance(names.get(k), str | int) and str(names[k])]
        name = names.get("object_name")
        if isinstance(name, str) and name:
            out[ref] = f"{name} ({', '.join(parts)})" if parts else name
        elif parts:
            out[ref] = ", ".join(parts)
    return out


def orbit_summary(obj: Mapping[str, Any], now: datetime | None = None) -> dict[str, str]:
    """Perigee, apogee, inclination, period and epoch age of a space object's elements."""
    el = obj.get("elements")
    if not isinstance(el, Mapping):
        return {}
    try:
        n = float(el["mean_motion"])  # revolutions per day
        e = float(el["eccentricity"])
        inc = float(el["inclination"])
    except (KeyError, TypeError, ValueError):
        return {}
    if n <= 0:
        return {}
    rad_s = n * 2 * math.pi / 86400
    a = (MU_KM3_S2 / rad_s**2) ** (1 / 3)
    out = {
        "Perigee": f"{a * (1 - e) - EARTH_RADIUS_KM:,.1f} km",
        "Apogee": f"{a * (1 + e) - EARTH_RADIUS_KM:,.1f} km",
        "Inclination": f"{inc:.3f}°",
        "Period": f"{1440 / n:.2f} min",
        "Eccentricity": f"{e:.7f}",
    }
    epoch = str(el.get("epoch", ""))
    out["Epoch"] = iso_text(epoch)
    try:
        when = datetime.fromisoformat(epoch.rstrip("Z")).replace(tzinfo=UTC)
        age = ((now or datetime.now(UTC)) - when).total_seconds() / 86400
        out["Epoch age"] = f"{age:.1f} days"
    except ValueError:
        pass
    return out


def number(value: object, fmt: str) -> str:
    """*value* formatted, or "" when it is no number (absent from the object: a template's
    undefined, which float() would raise on)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return ""
    try:
        return format(float(value), fmt)
    except (TypeError, ValueError):
        return ""


@dataclass(frozen=True, slots=True)
class Change:
    field: str
    kind: str  # added, removed, changed
    before: str
    after: str


def _short(value: object) -> str:
    import json

    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 200 else text[:197] + "..."


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[Change]:
    """What changed from one version to the next, property by property (not ``modified``)."""
    out: list[Change] = []
    for key in sorted(set(before) | set(after)):
        if key == "modified":
            continue
        if key not in before:
            out.append(Change(key, "added", "", _short(after[key])))
        elif key not in after:
            out.append(Change(key, "removed", _short(before[key]), ""))
        elif before[key] != after[key]:
            out.append(Change(key, "changed", _short(before[key]), _short(after[key])))
    return out


def origin_text(origin: str) -> str:
    """A version's origin (``user:NAME``, ``peer:ORG:NAME``, ``file:NAME``, ``computed:X``)."""
    kind, _, rest = origin.partition(":")
    if kind == "user":
        return f"posted by user {rest}"
    if kind == "peer":
        org, name = origin_org(origin) or "", origin_peer(origin) or ""
        return f"received from peer {name or org} ({org})"
    if kind == "file":
        return f"imported from file {rest}"
    if kind == "computed":
        return f"computed by {rest}"
    return origin
