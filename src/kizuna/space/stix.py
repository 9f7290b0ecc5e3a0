"""Space objects and conjunctions as STIX 2.1 objects of types Kizuna defines.

Two new object types, each defined by a Kizuna extension-definition whose id is fixed (in
:mod:`kizuna.stix.extensions`, with Kizuna's other definitions) so that every node serves the
same definitions:

``x-kizuna-space-object``
    A tracked object: catalog number, international designator, name, owner country, object
    type, and its current SGP4 mean elements (OMM keyword names in lower case). Its id is
    derived from the catalog number and, when known, the international designator, so every
    node names NORAD 25544 the same. A newer element set is a new version of the same object:
    ``modified`` is the element epoch. ``created`` is fixed (1957-10-04T19:28:34Z, the launch of
    Sputnik 1, before any element epoch) so that every node creates the very same object.
``x-kizuna-conjunction``
    A close approach between two space objects: ``space_object_refs`` (object 1 first), TCA,
    miss distance, relative speed, the miss vector in object 1's RTN frame, the collision
    probability and its method when known, and the screening parameters. STIX forbids null,
    so an unknown Pc is an absent ``collision_probability`` (and method). The caller passes
    ``object_marking_refs``: a conjunction must be no more releasable than either object.

>>> from kizuna.space.formats.omm import ElementSet, parse_epoch
>>> es = ElementSet(25544, parse_epoch("2026-05-20T12:00:00"), 15.5, .0007, 51.64, 247.46,
...                 130.54, 325.03, object_name="ISS (ZARYA)", object_id="1998-067A")
>>> obj = space_object(es)
>>> obj["id"] == space_object_id(25544, "1998-067A"), obj["modified"]
(True, '2026-05-20T12:00:00.000000Z')
>>> element_set_of(obj) == es
True
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from kizuna.space.formats.omm import ElementSet, format_epoch, parse_epoch
from kizuna.stix.extensions import (
    CONJUNCTION_EXTENSION,
    CONJUNCTION_TYPE,
    ELEMENT_SET_EXTENSION,
    ELEMENT_SET_TYPE,
    SPACE_OBJECT_EXTENSION,
    SPACE_OBJECT_TYPE,
)
from kizuna.stix.ids import derived_id
from kizuna.stix.markings import KIZUNA_IDENTITY

if TYPE_CHECKING:  # screening (numba) is not needed to map its results
    from kizuna.space.formats.cdm import Cdm
    from kizuna.space.screening import ScreenResult

__all__ = [
    "CONJUNCTION_EXTENSION",
    "CONJUNCTION_TYPE",
    "ELEMENT_SET_EXTENSION",
    "ELEMENT_SET_TYPE",
    "ENCOUNTER_PLANE",
    "SPACE_OBJECT_EXTENSION",
    "SPACE_OBJECT_TYPE",
    "conjunction",
    "element_set",
    "element_set_id",
    "element_set_of",
    "encounter_plane",
    "from_cdm",
    "from_proximity",
    "from_screening",
    "space_object",
    "space_object_id",
]

_SPUTNIK = "1957-10-04T19:28:34.000Z"

_ELEMENT_FIELDS = (
    "epoch",
    "mean_motion",
    "eccentricity",
    "inclination",
    "ra_of_asc_node",
    "arg_of_pericenter",
    "mean_anomaly",
    "bstar",
    "mean_motion_dot",
    "mean_motion_ddot",
    "ephemeris_type",
    "classification_type",
    "element_set_no",
    "rev_at_epoch",
    "center_name",
    "ref_frame",
    "time_system",
    "mean_element_theory",
)


def _timestamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def space_object_id(norad_cat_id: int, international_designator: str = "") -> str:
    """The id every node gives a space object.

    >>> space_object_id(25544, "1998-067A") == space_object_id(25544, "1998-067A")
    True
    >>> space_object_id(25544) != space_object_id(25544, "1998-067A")
    True
    """
    name = f"norad:{norad_cat_id}"
    if international_designator.strip():
        name += f"/{international_designator.strip().upper()}"
    return derived_id(SPACE_OBJECT_TYPE, name)


def space_object(
    es: ElementSet,
    *,
    object_marking_refs: Sequence[str] = (),
    owner_country: str | None = None,
    object_type: str | None = None,
    created_by_ref: str = KIZUNA_IDENTITY,
) -> dict[str, Any]:
    """A space object carrying *es* as its current elements (version = element epoch)."""
    if es.norad_cat_id is None:
        raise ValueError("a space object needs a catalog number (NORAD_CAT_ID)")
    elements: dict[str, Any] = {}
    for name in _ELEMENT_FIELDS:
        value = getattr(es, name)
        elements[name] = format_epoch(value) + "Z" if name == "epoch" else value
    obj: dict[str, Any] = {
        "type": SPACE_OBJECT_TYPE,
        "spec_version": "2.1",
        "id": space_object_id(es.norad_cat_id, es.object_id),
        "created": _SPUTNIK,
        "modified": _timestamp(es.epoch),
        "created_by_ref": created_by_ref,
        "norad_cat_id": es.norad_cat_id,
        "elements": elements,
        "extensions": {SPACE_OBJECT_EXTENSION: {"extension_type": "new-sdo"}},
    }
    if es.object_name:
        obj["name"] = es.object_name
    if es.object_id:
        obj["international_designator"] = es.object_id
    country = owner_country or es.country_code
    if country:
        obj["owner_country"] = country
    kind = object_type or es.object_type
    if kind:
        obj["object_type"] = kind
    if object_marking_refs:
        obj["object_marking_refs"] = list(object_marking_refs)
    return obj


def element_set_id(created_by_ref: str, space_object_ref: str) -> str:
    """The id of one organization's element set of one space object (all its epochs are
    versions of it)."""
    return derived_id(ELEMENT_SET_TYPE, f"{created_by_ref}|{space_object_ref}")


def element_set(
    es: ElementSet, *, created_by_ref: str, object_marking_refs: Sequence[str] = ()
) -> dict[str, Any]:
    """What the organization *created_by_ref* observes of the space object of *es*: an
    ``x-kizuna-element-set`` referencing it, version = element epoch.

    >>> from kizuna.space.formats.omm import parse_epoch
    >>> es = ElementSet(25544, parse_epoch("2026-05-20T12:00:00"), 15.5, .0007, 51.64, 247.46,
    ...                 130.54, 325.03, object_name="ISS (ZARYA)", object_id="1998-067A")
    >>> obj = element_set(es, created_by_ref="identity--" + "0" * 8 + "-0000-4000-8000-" + "0" * 12)
    >>> obj["space_object_ref"] == space_object_id(25544, "1998-067A")
    True
    >>> element_set_of(obj) == es
    True
    """
    if es.norad_cat_id is None:
        raise ValueError("an element set needs a catalog number (NORAD_CAT_ID)")
    ref = space_object_id(es.norad_cat_id, es.object_id)
    carried = space_object(es, created_by_ref=created_by_ref)
    obj: dict[str, Any] = {
        "type": ELEMENT_SET_TYPE,
        "spec_version": "2.1",
        "id": element_set_id(created_by_ref, ref),
        "created": _SPUTNIK,
        "modified": _timestamp(es.epoch),
        "created_by_ref": created_by_ref,
        "space_object_ref": ref,
        "norad_cat_id": es.norad_cat_id,
        "elements": carried["elements"],
        "extensions": {ELEMENT_SET_EXTENSION: {"extension_type": "new-sdo"}},
    }
    for name in ("name", "international_designator"):
        if name in carried:
            obj[name] = carried[name]
    if object_marking_refs:
        obj["object_marking_refs"] = list(object_marking_refs)
    return obj


def element_set_of(obj: Mapping[str, Any]) -> ElementSet:
    """The element set a space object or an element-set object carries (raises ValueError
    when it is not usable)."""
    if obj.get("type") not in (SPACE_OBJECT_TYPE, ELEMENT_SET_TYPE):
        raise ValueError(f"not a {SPACE_OBJECT_TYPE}: {obj.get('type')!r}")
    raw = obj.get("elements")
    if not isinstance(raw, Mapping):
        raise ValueError(f"{obj.get('id')}: no elements")
    try:
        values: dict[str, Any] = {name: raw[name] for name in _ELEMENT_FIELDS if name in raw}
        values["epoch"] = parse_epoch(str(raw["epoch"]))
        for name in _ELEMENT_FIELDS[1:10]:
            values[name] = float(values[name]) if name in values else 0.0
        return ElementSet(
            norad_cat_id=int(obj["norad_cat_id"]),
            object_name=str(obj.get("name", "")),
            object_id=str(obj.get("international_designator", "")),
            object_type=obj.get("object_type"),
            country_code=obj.get("owner_country"),
            **values,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{obj.get('id')}: unusable elements ({exc})") from None


def _sgp4_version() -> str:
    try:
        return importlib.metadata.version("sgp4")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover
        return "unknown"


def conjunction(
    object1_ref: str,
    object2_ref: str,
    *,
    tca: datetime,
    miss_distance_km: float,
    relative_speed_km_s: float | None,
    miss_rtn_km: Sequence[float] | None,
    screening: Mapping[str, Any],
    object_marking_refs: Sequence[str],
    assessed: datetime,
    collision_probability: float | None = None,
    collision_probability_method: str | None = None,
    created_by_ref: str | None = None,
) -> dict[str, Any]:
    """A conjunction object. Its id is derived from both objects and the TCA to the second,
    so screening the same event again makes a new version: ``modified`` is *assessed* (when
    it was screened) and ``created`` is fixed at TCA minus 366 days, the same on every run.

    *screening* holds the parameters (start, stop, threshold_km, ...); the propagator is added.
    """
    if collision_probability is not None and not 0.0 <= collision_probability <= 1.0:
        raise ValueError(f"collision probability {collision_probability!r} is not in [0, 1]")
    second = tca.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    stamp = _timestamp(assessed)
    first = _timestamp(tca - timedelta(days=366))
    if stamp < first:
        raise ValueError("a conjunction is assessed at most 366 days before its TCA")
    obj: dict[str, Any] = {
        "type": CONJUNCTION_TYPE,
        "spec_version": "2.1",
        "id": derived_id(CONJUNCTION_TYPE, f"{object1_ref}|{object2_ref}|{second}"),
        "created": first,
        "modified": stamp,
        "space_object_refs": [object1_ref, object2_ref],
        "tca": tca.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "miss_distance_km": float(miss_distance_km),
        "screening": {"propagator": f"SGP4 (python sgp4 {_sgp4_version()})", **screening},
        "extensions": {CONJUNCTION_EXTENSION: {"extension_type": "new-sdo"}},
    }
    if relative_speed_km_s is not None:
        obj["relative_speed_km_s"] = float(relative_speed_km_s)
    if miss_rtn_km is not None:
        r, t, n = (float(x) for x in miss_rtn_km)
        obj["miss_rtn_km"] = {"radial": r, "transverse": t, "normal": n}
    if collision_probability is not None:
        obj["collision_probability"] = float(collision_probability)
        if collision_probability_method:
            obj["collision_probability_method"] = collision_probability_method
    if created_by_ref:
        obj["created_by_ref"] = created_by_ref
    if object_marking_refs:
        obj["object_marking_refs"] = list(object_marking_refs)
    return obj


def from_screening(
    result: ScreenResult,
    refs: Sequence[str],
    markings: Callable[[str, str], Sequence[str]],
    *,
    assessed: datetime,
    pc: Sequence[float | None] | None = None,
    pc_method: str | None = None,
    created_by_ref: str | None = None,
) -> list[dict[str, Any]]:
    """One conjunction object per screening event.

    *refs* gives the space object id of each catalog row; *markings(ref1, ref2)* returns the
    ``object_marking_refs`` for a conjunction of the two (the caller's policy decides, e.g.
    the most restrictive combination of both objects' markings). *pc*, per event, when known.
    """
    stop = result.start + timedelta(hours=result.hours)
    screening = {
        "start": _timestamp(result.start),
        "stop": _timestamp(stop),
        "threshold_km": result.threshold_km,
        "knot_s": result.knot_s,
        "step_s": result.step_s,
    }
    out = []
    for k in range(len(result)):
        ref1, ref2 = refs[int(result.row1[k])], refs[int(result.row2[k])]
        p = pc[k] if pc is not None else None
        out.append(
            conjunction(
                ref1,
                ref2,
                tca=result.start + timedelta(seconds=float(result.tca_s[k])),
                miss_distance_km=float(result.miss_km[k]),
                relative_speed_km_s=float(result.relative_speed_kms[k]),
                miss_rtn_km=[float(x) for x in result.miss_rtn_km[k]],
                screening=screening,
                object_marking_refs=markings(ref1, ref2),
                assessed=assessed,
                collision_probability=p,
                collision_probability_method=pc_method if p is not None else None,
                created_by_ref=created_by_ref,
            )
        )
    return out


def _rtn(r: Sequence[float], v: Sequence[float], d: Sequence[float]) -> tuple[float, ...]:
    """Vector *d* in the RTN frame of state (r, v)."""
    rr, vv, dd = np.asarray(r, float), np.asarray(v, float), np.asarray(d, float)
    rhat = rr / np.linalg.norm(rr)
    h = np.cross(rr, vv)
    nhat = h / np.linalg.norm(h)
    that = np.cross(nhat, rhat)
    return float(dd @ rhat), float(dd @ that), float(dd @ nhat)


def from_proximity(
    result: ScreenResult,
    refs: Sequence[str],
    markings: Callable[[str, str], Sequence[str]],
    *,
    assessed: datetime,
    created_by_ref: str | None = None,
) -> list[dict[str, Any]]:
    """One conjunction object of ``kind`` ``proximity`` per pair of *result* that stayed
    within the threshold over the whole window (docked modules, formation flyers): ``tca``
    and ``miss_distance_km`` are the time and value of the least distance (with the relative
    speed and the miss vector in object 1's RTN frame there), ``max_distance_km`` and
    ``max_distance_at`` the greatest. Its id is derived from both objects and the window, so
    screening the same window again makes a new version; ``created`` is the window's start
    less 366 days. *refs* and *markings* as for :func:`from_screening`."""
    stop = result.start + timedelta(hours=result.hours)
    screening = {
        "start": _timestamp(result.start),
        "stop": _timestamp(stop),
        "threshold_km": result.threshold_km,
        "knot_s": result.knot_s,
        "step_s": result.step_s,
    }
    near = result.proximity
    rtn = [_rtn(r, v, d) for r, v, d in zip(near.r1, near.v1, near.miss_km, strict=True)]
    first = _timestamp(result.start - timedelta(days=366))
    out = []
    for k in range(len(near)):
        ref1, ref2 = refs[int(near.row1[k])], refs[int(near.row2[k])]
        obj = conjunction(
            ref1,
            ref2,
            tca=result.start + timedelta(seconds=float(near.t_min_s[k])),
            miss_distance_km=float(near.min_km[k]),
            relative_speed_km_s=float(near.relative_speed_kms[k]),
            miss_rtn_km=[float(x) for x in rtn[k]],
            screening=screening,
            object_marking_refs=markings(ref1, ref2),
            assessed=max(assessed, result.start - timedelta(days=366)),
            created_by_ref=created_by_ref,
        )
        window = f"{_timestamp(result.start)[:19]}|{_timestamp(stop)[:19]}"
        obj["id"] = derived_id(CONJUNCTION_TYPE, f"{ref1}|{ref2}|proximity|{window}")
        obj["created"] = first
        obj["kind"] = "proximity"
        obj["max_distance_km"] = float(near.max_km[k])
        when = result.start + timedelta(seconds=float(near.t_max_s[k]))
        obj["max_distance_at"] = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        out.append(obj)
    return out


def from_cdm(cdm: Cdm) -> dict[str, Any]:
    """A conjunction object from a CDM (its Pc and method when the CDM states them).

    Object designators must be catalog numbers; the CDM's own creation date is ``modified``.
    """
    refs = []
    for o in (cdm.object1, cdm.object2):
        if not o.object_designator.strip().isdigit():
            raise ValueError(
                f"OBJECT_DESIGNATOR {o.object_designator!r} is not a catalog number "
                "(expected e.g. OBJECT_DESIGNATOR = 25544)"
            )
        designator = o.international_designator
        designator = "" if designator.upper() in ("", "UNKNOWN") else designator
        refs.append(space_object_id(int(o.object_designator), designator))
    rel = cdm.relative
    rtn = rel.relative_position_rtn_m
    obj = conjunction(
        refs[0],
        refs[1],
        tca=rel.tca,
        miss_distance_km=rel.miss_distance_m / 1000.0,
        relative_speed_km_s=None
        if rel.relative_speed_m_s is None
        else rel.relative_speed_m_s / 1e3,
        miss_rtn_km=None if rtn is None else [x / 1000.0 for x in rtn],
        screening={
            "source": "CDM",
            "originator": cdm.header.originator,
            "message_id": cdm.header.message_id,
            # What the CDM calls each object, in the order of space_object_refs (a page can
            # name an object by it when the object itself is not stored).
            "objects": [_cdm_names(o) for o in (cdm.object1, cdm.object2)],
        },
        object_marking_refs=(),
        assessed=cdm.header.creation_date,
        collision_probability=rel.collision_probability,
        collision_probability_method=rel.collision_probability_method,
    )
    plane = encounter_plane(cdm)
    if plane:
        obj[ENCOUNTER_PLANE] = plane
    return obj


def _cdm_names(o: Any) -> dict[str, str]:
    """OBJECT_DESIGNATOR, and OBJECT_NAME and INTERNATIONAL_DESIGNATOR when the CDM knows them."""
    out = {"object_designator": o.object_designator.strip()}
    for key, value in (
        ("object_name", o.object_name), ("international_designator", o.international_designator)
    ):
        value = value.strip()
        if value and value.upper() not in ("UNKNOWN", "N/A"):
            out[key] = value
    return out


#: The property of a conjunction made from a CDM that holds what its encounter-plane plot
#: draws (``covariance_m2``: the combined covariance projected on the plane, as xx, xz, zz in
#: the (x, z) basis of ``kizuna.space.probability.encounter_frame``, x along the miss;
#: ``hard_body_radius_m``): each only when the CDM gives what it is made from.
ENCOUNTER_PLANE = "x_kizuna_encounter_plane"


def encounter_plane(cdm: Cdm) -> dict[str, Any]:
    """The encounter plane of *cdm* as :data:`ENCOUNTER_PLANE` holds it (empty: nothing known)."""
    import math

    from kizuna.space.probability import pc_2d_from_cdms

    out: dict[str, Any] = {}
    cov = pc_2d_from_cdms([cdm]).cov_plane[0]
    values = [float(cov[0, 0]), float(cov[0, 1]), float(cov[1, 1])]
    if all(math.isfinite(v) for v in values) and values[0] >= 0 and values[2] >= 0:
        out["covariance_m2"] = values
    hbr = cdm.relative.hbr_m
    if hbr is not None and math.isfinite(hbr) and hbr > 0:
        out["hard_body_radius_m"] = float(hbr)
    return out
