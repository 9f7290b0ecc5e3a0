"""``kizuna space screen`` and ``kizuna space import``: catalogs in, conjunctions out.

``screen --catalog FILE...`` reads TLE/3LE or OMM files (KVN, XML, JSON, CSV), screens every pair
over the window and writes one CSV row per event with the header ``CSV_HEADER``: catalog
numbers, TCA in ISO 8601 UTC with milliseconds, distances in km, speed in km/s, ``pc`` empty when
unknown (TLE/OMM elements carry no covariance, so screening from them never has a Pc).
Records that cannot be read are reported on stderr, one per record, and the rest are screened.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

import click
import numpy as np
import numpy.typing as npt
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from kizuna.errors import InvalidInput
from kizuna.space import catalog as catalogs
from kizuna.space.cdm import Cdm, CdmObject, build_cdm, dumps_kvn
from kizuna.space.cdm import parse as parse_cdm
from kizuna.space.omm import ElementSet, format_epoch
from kizuna.space.parallel import screen_parallel
from kizuna.space.screen import STATUS_TEXT, ScreenResult
from kizuna.space.stix import (
    SPACE_OBJECT_TYPE,
    element_set_of,
    from_cdm,
    from_screening,
    space_object,
)

__all__ = [
    "CSV_HEADER",
    "event_cdm",
    "format_tca",
    "import_command",
    "screen_command",
    "teme_to_eme2000",
    "write_csv",
]

#: The CSV header users' scripts rely on; do not change it.
CSV_HEADER = (
    "object1",
    "object2",
    "tca",
    "miss_km",
    "relative_speed_kms",
    "miss_r_km",
    "miss_t_km",
    "miss_n_km",
    "pc",
)

err = Console(stderr=True, soft_wrap=True, highlight=False)


def format_tca(start: datetime, seconds: float) -> str:
    """An instant *seconds* after *start* as ISO 8601 UTC with milliseconds.

    >>> format_tca(datetime(2026, 5, 20, tzinfo=UTC), 11045.1234)
    '2026-05-20T03:04:05.123Z'
    """
    when = start.astimezone(UTC) + timedelta(milliseconds=round(seconds * 1000.0))
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def write_csv(result: ScreenResult, out: TextIO, pc: Sequence[float | None] | None = None) -> None:
    """One row per event under :data:`CSV_HEADER`; *pc* (per event) when known."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for k in range(len(result)):
        p = pc[k] if pc is not None else None
        r, t, n = result.miss_rtn_km[k]
        writer.writerow(
            [
                int(result.object1[k]),
                int(result.object2[k]),
                format_tca(result.start, float(result.tca_s[k])),
                f"{result.miss_km[k]:.6f}",
                f"{result.relative_speed_kms[k]:.6f}",
                f"{r:.6f}",
                f"{t:.6f}",
                f"{n:.6f}",
                "" if p is None else f"{p:.6e}",
            ]
        )


def parse_start(text: str) -> datetime:
    """``--start``: ISO 8601; a time without a zone is UTC.

    >>> parse_start("2026-05-20T00:00:00Z").isoformat()
    '2026-05-20T00:00:00+00:00'
    """
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not ISO 8601 (expected e.g. 2026-05-20T00:00:00Z)"
        ) from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def read_catalog_files(paths: Sequence[Path]) -> tuple[list[ElementSet], list[str]]:
    """Element sets from every file, and one message per record or file that failed."""
    records: list[ElementSet] = []
    problems: list[str] = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{path}: cannot read the file ({exc})")
            continue
        result = catalogs.read(text, source=str(path))
        records += result.records
        problems += [str(e) for e in result.errors]
    return records, problems


@contextmanager
def _progress(label: str, quiet: bool) -> Iterator[Progress | None]:
    if quiet:
        yield None
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>5.1f}%"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
    ) as progress:
        yield progress


def _report_status(result: ScreenResult, cat: catalogs.Catalog) -> None:
    counts = Counter(int(s) for s in result.status if s)
    for code, count in sorted(counts.items()):
        numbers = [int(n) for n, s in zip(cat.norad, result.status, strict=True) if s == code]
        shown = ", ".join(map(str, numbers[:10])) + (" ..." if len(numbers) > 10 else "")
        err.print(f"  {count} object(s) not screened throughout: {STATUS_TEXT[code]} ({shown})")


@click.command("screen")
@click.argument("args", nargs=-1, metavar="(DIR COLLECTION_ID | --catalog FILE...)")
@click.option(
    "--catalog",
    "catalog_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TLE/3LE or OMM (KVN, XML, JSON, CSV) file; repeat, or list files after it.",
)
@click.option("--start", required=True, help="Window start, ISO 8601 UTC (2026-05-20T00:00Z).")
@click.option(
    "--hours", type=click.FloatRange(min=0, min_open=True), default=24.0, show_default=True
)
@click.option(
    "--threshold-km", type=click.FloatRange(min=0, min_open=True), default=5.0, show_default=True
)
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Processes [CPU count].")
@click.option("--scheduler", default=None, help="Dask scheduler address, e.g. tcp://host:8786.")
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the events as CSV here ('-' for stdout).",
)
@click.option(
    "--cdm-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write one CCSDS CDM (KVN) per event into this directory.",
)
@click.option(
    "--knot-s", type=float, default=120.0, show_default=True, help="SGP4 knot spacing (s)."
)
@click.option("--step-s", type=float, default=60.0, show_default=True, help="Search step (s).")
@click.option(
    "--as",
    "as_user",
    default="admin",
    show_default=True,
    help="Node mode: screen what this user may see.",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
def screen_command(
    args: tuple[str, ...],
    catalog_files: tuple[Path, ...],
    start: str,
    hours: float,
    threshold_km: float,
    workers: int | None,
    scheduler: str | None,
    csv_path: Path | None,
    cdm_dir: Path | None,
    knot_s: float,
    step_s: float,
    as_user: str,
    quiet: bool,
) -> None:
    """Screen a catalog for close approaches (all pairs) over a time window.

    From files: ``--catalog FILE...`` (no node needed). From a node: ``DIR COLLECTION_ID`` reads
    the space objects the requesting user may see and writes conjunction objects back.
    """
    when = parse_start(start)
    if catalog_files:
        extra = [Path(a) for a in args]
        missing = [str(p) for p in extra if not p.is_file()]
        if missing:
            raise click.UsageError(f"not a file: {', '.join(missing)} (after --catalog)")
        records, problems = read_catalog_files([*catalog_files, *extra])
        from_node = None
    elif len(args) == 2:
        node, principal, collection = _open_as(Path(args[0]), args[1], as_user)
        from_node = _read_node(node, principal, collection)
        records, problems = from_node.records, from_node.problems
    else:
        raise click.UsageError("give DIR COLLECTION_ID, or --catalog FILE...")
    for problem in problems:
        err.print(problem, markup=False)
    built = catalogs.build(records)
    for error in built.errors:
        err.print(str(error), markup=False)
    cat = built.catalog
    if len(cat) < 2:
        raise InvalidInput(f"nothing to screen: {len(cat)} usable element set(s)")
    err.print(
        f"screening {len(cat)} objects, {when.isoformat()} + {hours:g} h, {threshold_km:g} km"
        + (f" ({len(problems) + len(built.errors)} record(s) not read)" if problems else "")
    )
    t0, c0 = time.perf_counter(), time.process_time()
    with _progress("screening", quiet) as bar:
        task = bar.add_task("screening", total=1.0) if bar is not None else None

        def advance(fraction: float) -> None:
            if bar is not None and task is not None:
                bar.update(task, completed=fraction)

        result = screen_parallel(
            cat,
            when,
            hours,
            threshold_km,
            workers=workers or os.cpu_count() or 1,
            scheduler=scheduler,
            knot_s=knot_s,
            step_s=step_s,
            progress=advance,
        )
    err.print(
        f"{len(result)} event(s) below {threshold_km:g} km in {time.perf_counter() - t0:.1f} s"
        f" (this process {time.process_time() - c0:.1f} s CPU)"
    )
    _report_status(result, cat)
    if csv_path is not None:
        if str(csv_path) == "-":
            write_csv(result, sys.stdout)
        else:
            with csv_path.open("w", encoding="utf-8", newline="") as fh:
                write_csv(result, fh)
            err.print(f"wrote {csv_path}")
    else:
        buffer = io.StringIO()
        write_csv(result, buffer)
        lines = buffer.getvalue().splitlines()
        for line in lines[:21]:
            click.echo(line)
        if len(lines) > 21:
            err.print(f"... {len(lines) - 21} more (use --csv PATH)")
    if cdm_dir is not None:
        written = _write_cdms(result, built.records, cdm_dir)
        err.print(f"wrote {written} CDM(s) to {cdm_dir}")
    if from_node is not None:
        stored, refused = _store_conjunctions(
            node, principal, collection, result, built.records, from_node.refs
        )
        err.print(f"stored {stored} conjunction object(s) in {collection.id}")
        for line in refused[:20]:
            err.print(f"  refused: {line}", markup=False)


def _rot(axis: int, angle: float) -> npt.NDArray[np.float64]:
    """The frame rotation R_axis(angle) (axis 1, 2 or 3), as in Vallado."""
    c, s = math.cos(angle), math.sin(angle)
    if axis == 1:
        return np.array([[1.0, 0.0, 0.0], [0.0, c, s], [0.0, -s, c]])
    if axis == 2:
        return np.array([[c, 0.0, -s], [0.0, 1.0, 0.0], [s, 0.0, c]])
    return np.array([[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0]])


# The largest IAU-1980 nutation terms: multipliers of (l, l', F, D, Omega), then
# dpsi = (A + B T) sin(arg), deps = (C + D T) cos(arg), in 0.0001 arcsec. The terms left out
# add up to a few 0.01 arcsec (about a metre at LEO radius).
_NUTATION = (
    (0, 0, 0, 0, 1, -171996.0, -174.2, 92025.0, 8.9),
    (0, 0, 2, -2, 2, -13187.0, -1.6, 5736.0, -3.1),
    (0, 0, 2, 0, 2, -2274.0, -0.2, 977.0, -0.5),
    (0, 0, 0, 0, 2, 2062.0, 0.2, -895.0, 0.5),
    (0, 1, 0, 0, 0, 1426.0, -3.4, 54.0, -0.1),
    (1, 0, 0, 0, 0, 712.0, 0.1, -7.0, 0.0),
    (0, 1, 2, -2, 2, -517.0, 1.2, 224.0, -0.6),
    (0, 0, 2, 0, 1, -386.0, -0.4, 200.0, 0.0),
    (1, 0, 2, 0, 2, -301.0, 0.0, 129.0, -0.1),
    (0, -1, 2, -2, 2, 217.0, -0.5, -95.0, 0.3),
    (1, 0, 0, -2, 0, -158.0, 0.0, -1.0, 0.0),
    (0, 0, 2, -2, 1, 129.0, 0.1, -70.0, 0.0),
    (-1, 0, 2, 0, 2, 123.0, 0.0, -53.0, 0.0),
    (1, 0, 0, 0, 1, 63.0, 0.1, -33.0, 0.0),
    (0, 0, 0, 2, 0, 63.0, 0.0, -2.0, 0.0),
    (-1, 0, 2, 2, 2, -59.0, 0.0, 26.0, 0.0),
    (-1, 0, 0, 0, 1, -58.0, -0.1, 32.0, 0.0),
    (1, 0, 2, 0, 1, -51.0, 0.0, 27.0, 0.0),
)
_ARCSEC = math.pi / (180.0 * 3600.0)


def teme_to_eme2000(when: datetime) -> npt.NDArray[np.float64]:
    """The rotation from SGP4's TEME to EME2000 at *when* (IAU-76 precession, IAU-80 nutation
    with its largest terms, UTC taken for UT1); apply it to positions and velocities alike.

    Vallado et al. (2006), "Revisiting Spacetrack Report #3", TEME example at
    2004-04-06T07:51:28.386009Z, gives J2000 (5102.508958, 6123.011401, 6378.136928) km:

    >>> r = teme_to_eme2000(datetime(2004, 4, 6, 7, 51, 28, 386009, tzinfo=UTC)) @ np.array(
    ...     [5094.18016210, 6127.64465950, 6380.34453270])
    >>> bool(np.abs(r - [5102.508958, 6123.011401, 6378.136928]).max() < 0.002)
    True
    """
    jd, fr = catalogs.julian(when)
    t = ((jd - 2451545.0) + fr + 69.184 / 86400.0) / 36525.0  # TT centuries since J2000
    deg = math.pi / 180.0
    l_ = (134.96298139 + (1717915922.6330 * t + 31.310 * t * t) / 3600.0) * deg
    lp = (357.52772333 + (129596581.2240 * t - 0.577 * t * t) / 3600.0) * deg
    f = (93.27191028 + (1739527263.1370 * t - 13.257 * t * t) / 3600.0) * deg
    d = (297.85036306 + (1602961601.3280 * t - 6.891 * t * t) / 3600.0) * deg
    om = (125.04452222 + (-6962890.5390 * t + 7.455 * t * t) / 3600.0) * deg
    dpsi = deps = 0.0
    for a, b, c, e, g, s0, s1, c0, c1 in _NUTATION:
        arg = a * l_ + b * lp + c * f + e * d + g * om
        dpsi += (s0 + s1 * t) * math.sin(arg)
        deps += (c0 + c1 * t) * math.cos(arg)
    dpsi *= 1e-4 * _ARCSEC
    deps *= 1e-4 * _ARCSEC
    eps = (84381.448 - 46.8150 * t - 0.00059 * t * t + 0.001813 * t**3) * _ARCSEC
    zeta = (2306.2181 * t + 0.30188 * t * t + 0.017998 * t**3) * _ARCSEC
    theta = (2004.3109 * t - 0.42665 * t * t - 0.041833 * t**3) * _ARCSEC
    z = (2306.2181 * t + 1.09468 * t * t + 0.018203 * t**3) * _ARCSEC
    precession = _rot(3, -z) @ _rot(2, theta) @ _rot(3, -zeta)  # J2000 -> mean of date
    nutation = _rot(1, -(eps + deps)) @ _rot(3, -dpsi) @ _rot(1, eps)  # mean -> true of date
    equinoxes = _rot(3, dpsi * math.cos(eps))  # true of date -> TEME
    teme_from_j2000 = equinoxes @ nutation @ precession
    return teme_from_j2000.T


def event_cdm(result: ScreenResult, k: int, records: Sequence[ElementSet]) -> Cdm:
    """A CCSDS CDM for event *k*: states at TCA in EME2000, no covariance (elements carry
    none), relative state in object 1's RTN frame (the same numbers as the CSV)."""
    tca = result.start + timedelta(seconds=float(result.tca_s[k]))
    rot = teme_to_eme2000(tca)
    sections = []
    for row, r, v in (
        (result.row1[k], result.r1[k], result.v1[k]),
        (result.row2[k], result.r2[k], result.v2[k]),
    ):
        es = records[int(row)]
        rr, vv = rot @ r, rot @ v
        sections.append(
            CdmObject(
                object="OBJECT1",
                object_designator=str(es.norad_cat_id),
                object_name=es.object_name or "UNKNOWN",
                international_designator=es.object_id or "UNKNOWN",
                position_km=(float(rr[0]), float(rr[1]), float(rr[2])),
                velocity_km_s=(float(vv[0]), float(vv[1]), float(vv[2])),
                covariance=None,
                covariance_method="DEFAULT",
                ref_frame="EME2000",
                data_comments=(f"SGP4 from mean elements of epoch {format_epoch(es.epoch)}Z",),
            )
        )
    stop = result.start + timedelta(hours=result.hours)
    a, b = int(result.object1[k]), int(result.object2[k])
    return build_cdm(
        tca=tca,
        originator="KIZUNA",
        message_id=f"KIZUNA-{a}-{b}-{tca.strftime('%Y%m%dT%H%M%S')}",
        object1=sections[0],
        object2=sections[1],
        comments=(
            f"Kizuna screening {format_epoch(result.start)}Z to {format_epoch(stop)}Z, "
            f"threshold {result.threshold_km:g} km; TEME states rotated to EME2000 "
            "(IAU-76/80, UT1 = UTC); no covariance, so no collision probability",
        ),
    )


def _write_cdms(result: ScreenResult, records: list[ElementSet], directory: Path) -> int:
    directory.mkdir(parents=True, exist_ok=True)
    for k in range(len(result)):
        cdm = event_cdm(result, k, records)
        stamp = (
            cdm.relative.tca.strftime("%Y%m%dT%H%M%S")
            + f"{cdm.relative.tca.microsecond // 1000:03d}"
        )
        name = f"{int(result.object1[k])}_{int(result.object2[k])}_{stamp}.cdm"
        (directory / name).write_text(dumps_kvn(cdm), encoding="utf-8")
    return len(result)


# ---------------------------------------------------------------------------------------------
# Node mode: read the catalog through the gate as the requesting user, write conjunctions back.


@dataclass
class _NodeCatalog:
    records: list[ElementSet]
    problems: list[str]
    refs: dict[int, tuple[str, tuple[str, ...]]]  # catalog number -> (STIX id, marking refs)


def _open_as(directory: Path, collection_id: str, as_user: str) -> tuple[Any, Any, Any]:
    from kizuna.node import Node

    node = Node.open(directory)
    user = node.store.user(as_user)
    if user is None:
        raise InvalidInput(f"no user {as_user!r} on the node in {directory}")
    return node, node.principal_for(user), node.collection(collection_id)


def _read_node(node: Any, principal: Any, collection: Any) -> _NodeCatalog:
    """The newest version of every space object *principal* may see in *collection*."""
    from kizuna.node._read import read_page
    from kizuna.store.types import ObjectQuery

    snap = node.snapshot()
    if not snap.gate.access(principal, collection.id).can_read:
        raise InvalidInput(f"{principal.name} may not read collection {collection.id}")
    out = _NodeCatalog([], [], {})
    after = None
    while True:
        query = ObjectQuery(collection.id, after_us=after, types=(SPACE_OBJECT_TYPE,))
        page = read_page(node.store, snap, principal, collection, query, 2000)
        for item in page.items:
            obj = json.loads(item.body)
            try:
                es = element_set_of(obj)
            except ValueError as exc:
                out.problems.append(f"{collection.id}: {exc}")
                continue
            out.records.append(es)
            marks = tuple(str(m) for m in obj.get("object_marking_refs", ()))
            if es.norad_cat_id is not None:
                out.refs[es.norad_cat_id] = (str(obj["id"]), marks)
        if not page.more or page.last_added is None:
            return out
        after = page.last_added


def _derived_marking_definitions(
    sources: Sequence[Sequence[str]], refs: Sequence[str], snap: Any
) -> list[dict[str, Any]]:
    """Definitions of the REL TO / exercise markings in *refs* the node does not have yet."""
    from kizuna.policy.combine import combine, rel_to_codes, summarize
    from kizuna.stix.markings import exercise_marking, releasability_marking

    combined = combine(summarize(m, snap.markings, snap.communities) for m in sources)
    candidates = [exercise_marking(name) for name in sorted(combined.exercises)]
    codes = rel_to_codes(combined, snap.communities)
    if codes:
        candidates.append(releasability_marking(codes))
    return [d for d in candidates if d["id"] in refs and d["id"] not in snap.markings]


def _store_conjunctions(
    node: Any,
    principal: Any,
    collection: Any,
    result: ScreenResult,
    records: Sequence[ElementSet],
    catalog_refs: dict[int, tuple[str, tuple[str, ...]]],
) -> tuple[int, list[str]]:
    """Conjunction objects for every event, each marked no more releasable than either of its
    two space objects (kizuna.policy.combine.derived_refs), ingested as *principal*."""
    from kizuna.node._ingest import ingest
    from kizuna.policy.combine import derived_refs

    snap = node.snapshot()
    marks = dict(catalog_refs.values())
    row_refs = [catalog_refs[int(es.norad_cat_id or -1)][0] for es in records]
    definitions: dict[str, dict[str, Any]] = {}

    def markings(a: str, b: str) -> list[str]:
        sources = [list(marks[a]), list(marks[b])]
        refs = derived_refs(sources, snap.markings, snap.communities)
        for d in _derived_marking_definitions(sources, refs, snap):
            definitions[d["id"]] = d
        return refs

    objects = from_screening(
        result, row_refs, markings, assessed=datetime.now(UTC), created_by_ref=None
    )
    raw = [json.dumps(o).encode() for o in [*definitions.values(), *objects]]
    results = ingest(node.store, snap, principal, collection, raw, "computed:screening")
    stored = sum(1 for r in results if r.ok and r.stored)
    problems = [f"{r.id}: {r.message}" for r in results if not r.ok]
    return stored, problems


def _objects_from_file(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """STIX objects from one TLE/OMM (space objects) or CDM (a conjunction) file."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        return [], [f"{path}: cannot read the file ({exc})"]
    head = text[:4096]
    if "CCSDS_CDM_VERS" in head or "<cdm" in head:
        try:
            return [from_cdm(parse_cdm(text, source=str(path)))], []
        except (InvalidInput, ValueError) as exc:
            return [], [str(exc) if str(exc).startswith(str(path)) else f"{path}: {exc}"]
    result = catalogs.read(text, source=str(path))
    built = catalogs.build(result.records, source=str(path))
    problems = [str(e) for e in [*result.errors, *built.errors]]
    return [space_object(es) for es in built.records], problems


@click.command("import")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.argument("collection_id")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--as", "as_user", default="admin", show_default=True, help="Import as this user.")
@click.option("--batch", default=2000, show_default=True, help="Objects per transaction.")
def import_command(
    directory: Path, collection_id: str, files: tuple[Path, ...], as_user: str, batch: int
) -> None:
    """Import TLE/3LE and OMM files as space objects, CDMs as conjunctions.

    A space object's id comes from its catalog number, so importing newer elements makes a new
    version of the same object. Records that cannot be read are reported; the rest import.
    """
    from kizuna.node._ingest import ingest

    node, principal, collection = _open_as(directory, collection_id, as_user)
    stored = duplicates = rejected = 0
    bad_records = 0
    with _progress("importing", False) as bar:
        for path in files:
            objects, problems = _objects_from_file(path)
            bad_records += len(problems)
            for problem in problems:
                err.print(problem, markup=False)
            task = bar.add_task(path.name, total=len(objects)) if bar is not None else None
            for first in range(0, len(objects), batch):
                chunk = [json.dumps(o).encode() for o in objects[first : first + batch]]
                for r in ingest(node.store, node.snapshot(), principal, collection, chunk,
                                f"file:{path.name}"):  # fmt: skip
                    if not r.ok:
                        rejected += 1
                        err.print(f"  rejected {r.id}: {r.message}", markup=False)
                    elif r.stored:
                        stored += 1
                    else:
                        duplicates += 1
                if bar is not None and task is not None:
                    bar.advance(task, len(chunk))
    err.print(
        f"stored {stored}, duplicates {duplicates}, rejected {rejected}, "
        f"records not read {bad_records}"
    )
    if rejected:
        sys.exit(1)
