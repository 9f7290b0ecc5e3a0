"""``kizuna space screen``: a catalog in, conjunctions out.

``screen --catalog FILE...`` reads TLE/3LE or OMM files (KVN, XML, JSON, CSV), screens every pair
over the window and writes one CSV row per event under ``CSV_COLUMNS``: catalog numbers, TCA in
ISO 8601 UTC with milliseconds, distances in km, speed in km/s, ``pc`` empty when unknown
(TLE/OMM elements carry no covariance, so screening from them never has a Pc), then ``pc_max``
(the largest Pc any covariance could give, for ``--hbr-m``), ``kind`` and both names;
``--json`` writes the same events as JSON lines at full precision.
Records that cannot be read are reported on stderr, one per record, and the rest are screened.
"""

from __future__ import annotations

import io
import sys
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import click
import numpy as np

from kizuna.errors import InvalidInput
from kizuna.space import catalog as catalogs
from kizuna.space.cli._console import err, progress
from kizuna.space.cli._node import open_as, read_catalog, store_conjunctions
from kizuna.space.formats.oem import parse_kvn as parse_oem
from kizuna.space.formats.omm import ElementSet
from kizuna.space.screening import (
    STATUS_TEXT,
    Ephemeris,
    ScreenResult,
    is_cached,
    screen_parallel,
)
from kizuna.space.screening.events import write_cdms
from kizuna.space.screening.report import DEFAULT_HBR_M, write_csv, write_json

__all__ = [
    "parse_primaries",
    "parse_start",
    "read_catalog_files",
    "screen_command",
    "with_ephemerides",
]


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


def with_ephemerides(
    cat: catalogs.Catalog, records: Sequence[ElementSet], paths: Sequence[Path]
) -> tuple[catalogs.Catalog, dict[int, Ephemeris], list[int]]:
    """The catalog with one row per OEM (its elements NaN, its states from the ephemeris) in
    place of the row of the same object, the rows' ephemerides, and their catalog numbers.

    An OEM names its object by ``OBJECT_ID``: an international designator (``1998-067A``)
    or a catalog number; an object not in the catalog is numbered 0 (one such OEM at most).
    """
    by_designator = {es.object_id: es.norad_cat_id for es in records if es.object_id}
    rows: list[catalogs.Catalog] = []
    numbers: list[int] = []
    ephemerides: list[Ephemeris] = []
    for path in paths:
        try:
            oem = parse_oem(path.read_text(encoding="utf-8-sig"), source=str(path))
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"{path}: cannot read the file ({exc})") from None
        ident = oem.segments[0].object_id.strip()
        number = int(ident) if ident.isdigit() else by_designator.get(ident) or 0
        if number in numbers:
            raise InvalidInput(f"{path}: a second ephemeris of object {number or ident}")
        for note in oem.notes:
            err.print(f"{path}: {note}", markup=False)
        if number == 0:
            err.print(f"{path}: OBJECT_ID {ident} is not in the catalog: reported as object 0")
        numbers.append(number)
        ephemerides.append(Ephemeris(oem))
        nan = np.full((1, 9), np.nan)
        rows.append(
            catalogs.Catalog(
                np.array([number], dtype=np.int64),
                np.array([np.nan]),
                np.array([np.nan]),
                nan,
                (oem.segments[0].object_name,),
            )
        )
    keep = ~np.isin(cat.norad, np.array(numbers, dtype=np.int64))
    rest = cat.take(keep)
    combined = catalogs.Catalog.concat([rest, *rows])
    trajectories = {len(rest) + k: e for k, e in enumerate(ephemerides)}
    return combined, trajectories, numbers


def parse_primaries(listed: str | None, path: Path | None) -> list[int] | None:
    """The catalog numbers of ``--primary`` and ``--primary-file``, or None when neither.

    >>> parse_primaries("25544, 48274", None)
    [25544, 48274]
    """
    if listed is None and path is None:
        return None
    texts = [] if listed is None else [("--primary", listed)]
    if path is not None:
        try:
            texts.append((str(path), path.read_text(encoding="utf-8-sig")))
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"{path}: cannot read the file ({exc})") from None
    out: list[int] = []
    for source, text in texts:
        for number, line in enumerate(text.splitlines(), start=1):
            for item in line.split("#", 1)[0].replace(",", " ").split():
                if not item.isdigit() or not 0 < int(item) < 1_000_000_000:
                    where = "" if source == "--primary" else f" line {number}"
                    raise click.BadParameter(
                        f"{source}{where}: {item!r} is not a catalog number "
                        "(expected e.g. 25544 or 25544,48274)"
                    )
                if int(item) not in out:
                    out.append(int(item))
    if not out:
        raise click.BadParameter("no primary given (expected e.g. --primary 25544)")
    return out


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
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Processes [by the job's size: 1 below 150,000 object-hours, else the idle CPUs].",
)
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
    "--knot-s", type=float, default=300.0, show_default=True, help="SGP4 knot spacing (s)."
)
@click.option("--step-s", type=float, default=60.0, show_default=True, help="Search step (s).")
@click.option(
    "--as",
    "as_user",
    default="admin",
    show_default=True,
    help="Node mode: screen what this user may see.",
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the events as JSON lines here ('-' for stdout), full precision.",
)
@click.option(
    "--hbr-m",
    type=click.FloatRange(min=0, max=1e6),
    default=DEFAULT_HBR_M,
    show_default=True,
    help="Combined hard-body radius (m) of pc_max, the largest Pc any covariance could give.",
)
@click.option(
    "--primary",
    "primary_list",
    default=None,
    metavar="NORAD[,NORAD...]",
    help="Screen only the pairs with one of these catalog numbers (against the whole catalog).",
)
@click.option(
    "--primary-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Primaries' catalog numbers, one per line or separated by commas ('#' comments).",
)
@click.option(
    "--primary-oem",
    "primary_oems",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A primary's own ephemeris, CCSDS OEM (KVN), interpolated as its metadata says; "
    "it replaces the catalog's elements of that object (matched by OBJECT_ID). Repeatable.",
)
@click.option(
    "--elements-from",
    default=None,
    metavar="ORG[,ORG...]",
    help="Node mode: per object, the element set of the first of these organizations that "
    "has one the user may see, else the newest visible.",
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
    json_path: Path | None,
    hbr_m: float,
    primary_list: str | None,
    primary_file: Path | None,
    primary_oems: tuple[Path, ...],
    elements_from: str | None,
    quiet: bool,
) -> None:
    """Screen a catalog for close approaches (all pairs) over a time window.

    From files: ``--catalog FILE...`` (no node needed). From a node: ``DIR COLLECTION_ID`` reads
    the space objects the requesting user may see and writes conjunction objects back.
    """
    when = parse_start(start)
    primaries = parse_primaries(primary_list, primary_file)
    if primary_oems and (cdm_dir is not None or not catalog_files):
        raise click.UsageError(
            "--primary-oem works with --catalog files and CSV/JSON output (not yet with "
            "--cdm-dir or a node)"
        )
    trusted = [o.strip() for o in (elements_from or "").split(",") if o.strip()]
    if elements_from is not None and (catalog_files or not trusted):
        raise click.UsageError(
            "--elements-from ORG[,ORG...] works in node mode (DIR COLLECTION_ID)"
        )
    if catalog_files:
        extra = [Path(a) for a in args]
        missing = [str(p) for p in extra if not p.is_file()]
        if missing:
            raise click.UsageError(f"not a file: {', '.join(missing)} (after --catalog)")
        records, problems = read_catalog_files([*catalog_files, *extra])
        from_node = None
    elif len(args) == 2:
        node, principal, collection = open_as(Path(args[0]), args[1], as_user)
        from_node = read_catalog(node, principal, collection, trusted)
        records, problems = from_node.records, from_node.problems
    else:
        raise click.UsageError("give DIR COLLECTION_ID, or --catalog FILE...")
    for problem in problems:
        err.print(problem, markup=False)
    built = catalogs.build(records)
    for error in built.errors:
        err.print(str(error), markup=False)
    cat = built.catalog
    trajectories: dict[int, Ephemeris] = {}
    if primary_oems:
        cat, trajectories, numbers = with_ephemerides(cat, built.records, primary_oems)
        primaries = [*(primaries or []), *(n for n in numbers if n not in (primaries or []))]
    if len(cat) < 2:
        raise InvalidInput(f"nothing to screen: {len(cat)} usable element set(s)")
    if primaries is not None:
        absent = sorted(set(primaries) - set(cat.norad.tolist()))
        if absent:
            raise InvalidInput(
                "primary not in the catalog: " + ", ".join(map(str, absent)),
                details={"absent": absent},
            )
    against = "" if primaries is None else f" ({len(primaries)} primary, against all)"
    err.print(
        f"screening {len(cat)} objects{against}, {when.isoformat()} + {hours:g} h, "
        f"{threshold_km:g} km"
        + (f" ({len(problems) + len(built.errors)} record(s) not read)" if problems else "")
    )
    if not is_cached():
        err.print("compiling the screening kernel (first run here: about 10 s, then cached)")
    t0 = time.perf_counter()
    with progress("screening", quiet) as bar:
        task = bar.add_task("screening", total=1.0) if bar is not None else None

        def advance(fraction: float) -> None:
            if bar is not None and task is not None:
                bar.update(task, completed=fraction)

        result = screen_parallel(
            cat,
            when,
            hours,
            threshold_km,
            workers=workers,
            scheduler=scheduler,
            knot_s=knot_s,
            step_s=step_s,
            progress=advance,
            primaries=primaries,
            trajectories=trajectories or None,
        )
    wall = time.perf_counter() - t0
    cpu = result.cpu_s  # this process during the call, and every worker process
    err.print(
        f"{len(result)} event(s) below {threshold_km:g} km and {len(result.proximity)} pair(s) "
        f"within it throughout (kind=proximity) in {wall:.1f} s ({cpu:.1f} s CPU in "
        f"{len(result.process_cpu)} process(es))"
    )
    _report_status(result, cat)
    names = cat.names
    if json_path is not None:
        if str(json_path) == "-":
            write_json(result, sys.stdout, names=names, hbr_m=hbr_m)
        else:
            with json_path.open("w", encoding="utf-8") as fh:
                write_json(result, fh, names=names, hbr_m=hbr_m)
            err.print(f"wrote {json_path}")
    if csv_path is not None:
        if str(csv_path) == "-":
            write_csv(result, sys.stdout, names=names, hbr_m=hbr_m)
        else:
            with csv_path.open("w", encoding="utf-8", newline="") as fh:
                write_csv(result, fh, names=names, hbr_m=hbr_m)
            err.print(f"wrote {csv_path}")
    elif json_path is None:
        buffer = io.StringIO()
        write_csv(result, buffer, names=names, hbr_m=hbr_m)
        lines = buffer.getvalue().splitlines()
        for line in lines[:21]:
            click.echo(line)
        if len(lines) > 21:
            err.print(f"... {len(lines) - 21} more (use --csv PATH)")
    if cdm_dir is not None:
        written = write_cdms(result, built.records, cdm_dir)
        err.print(f"wrote {written} CDM(s) to {cdm_dir}")
    if from_node is not None:
        stored, refused = store_conjunctions(
            node, principal, collection, result, built.records, from_node.refs, from_node.sources
        )
        err.print(
            f"stored {stored} conjunction object(s) in {collection.id} (events and proximity "
            "pairs)"
        )
        for line in refused[:20]:
            err.print(f"  refused: {line}", markup=False)
