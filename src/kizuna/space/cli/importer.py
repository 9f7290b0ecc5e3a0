"""``kizuna space import``: TLE/3LE and OMM files in as space objects, CDMs as conjunctions."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from kizuna.errors import InvalidInput
from kizuna.space import catalog as catalogs
from kizuna.space.cli._console import err, progress
from kizuna.space.cli._node import open_as, organization_identity
from kizuna.space.formats.cdm import parse as parse_cdm
from kizuna.space.stix import element_set, from_cdm, space_object

__all__ = ["import_command", "objects_from_file"]


def objects_from_file(
    path: Path, element_sets_by: str | None = None
) -> tuple[list[dict[str, Any]], list[str]]:
    """STIX objects from one TLE/OMM (space objects; with *element_sets_by*, an identity,
    that organization's element sets of them instead) or CDM (a conjunction) file."""
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
    if element_sets_by is not None:
        return [element_set(es, created_by_ref=element_sets_by) for es in built.records], problems
    return [space_object(es) for es in built.records], problems


@click.command("import")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.argument("collection_id")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--as", "as_user", default="admin", show_default=True, help="Import as this user.")
@click.option("--batch", default=2000, show_default=True, help="Objects per transaction.")
@click.option(
    "--element-sets",
    is_flag=True,
    help="TLE/OMM in as the user's organization's own element sets (x-kizuna-element-set) "
    "of the space objects, not as the space objects.",
)
def import_command(
    directory: Path,
    collection_id: str,
    files: tuple[Path, ...],
    as_user: str,
    batch: int,
    element_sets: bool,
) -> None:
    """Import TLE/3LE and OMM files as space objects, CDMs as conjunctions.

    A space object's id comes from its catalog number, so importing newer elements makes a new
    version of the same object. Records that cannot be read are reported; the rest import.
    """
    from kizuna.node import ingest

    node, principal, collection = open_as(directory, collection_id, as_user)
    stored = duplicates = rejected = 0
    bad_records = 0
    with progress("importing", False) as bar:
        for path in files:
            by = organization_identity(principal.org) if element_sets else None
            objects, problems = objects_from_file(path, by)
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
