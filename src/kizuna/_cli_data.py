"""Moving data in and out of a node: ``kizuna import`` and ``kizuna export``."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from kizuna._cli_common import err, node_dir
from kizuna.errors import KizunaError
from kizuna.node import (
    Node,
    ingest,
    marking_ids_in,
    read_bundle,
    read_page,
    referenced_definitions,
)
from kizuna.store.types import ObjectQuery, VersionMatch


@click.command("import")
@node_dir
@click.argument("collection_id")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--batch", default=2000, show_default=True, help="Objects per transaction.")
def import_(directory: Path, collection_id: str, files: tuple[Path, ...], batch: int) -> None:
    """Load STIX bundles (.json or .json.gz) into a collection, with a progress bar."""
    node = Node.open(directory)
    admin = node.store.user("admin")
    if admin is None:
        raise KizunaError("this node has no admin user")
    principal = node.principal_for(admin)
    c = node.collection(collection_id)
    stored = duplicates = rejected = 0
    reasons: list[str] = []
    bad_files = 0
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    ) as progress:
        for path in files:
            try:
                objects = read_bundle(path)
            except KizunaError as exc:
                bad_files += 1
                reasons.append(exc.message)
                continue
            task = progress.add_task(path.name, total=len(objects))
            for start in range(0, len(objects), batch):
                chunk = objects[start : start + batch]
                results = ingest(
                    node.store, node.snapshot(), principal, c, chunk, f"file:{path.name}"
                )
                for r in results:
                    if not r.ok:
                        rejected += 1
                        reasons.append(f"{path.name}: {r.id or '(no id)'}: {r.message}")
                    elif r.stored:
                        stored += 1
                    else:
                        duplicates += 1
                progress.advance(task, len(chunk))
    if stored:
        node.store.analyze()  # PostgreSQL plans with fresh statistics from the first request
    err.print(
        f"stored {stored}, duplicates {duplicates}, rejected {rejected}"
        + (f", unreadable files {bad_files}" if bad_files else "")
    )
    for reason in reasons[:50]:
        err.print(f"  rejected: {reason}", highlight=False, markup=False)
    if len(reasons) > 50:
        err.print(f"  ... and {len(reasons) - 50} more")
    if bad_files:
        sys.exit(1)


@click.command()
@node_dir
@click.argument("collection_id")
@click.option(
    "--as", "as_user", default="admin", show_default=True, help="Export what this user may see."
)
@click.option("--all-versions", is_flag=True, help="Every version, not only the latest.")
def export(directory: Path, collection_id: str, as_user: str, all_versions: bool) -> None:
    """Write a collection as a STIX bundle to stdout (through the access gate)."""
    node = Node.open(directory)
    u = node.store.user(as_user)
    if u is None:
        raise KizunaError(f"no user {as_user!r}")
    principal = node.principal_for(u)
    c = node.collection(collection_id)
    if not node.snapshot().gate.access(principal, c.id).can_read:
        raise KizunaError(f"{as_user} may not read collection {c.id}")
    out = sys.stdout.buffer
    out.write(b'{"type":"bundle","id":"bundle--' + str(uuid.uuid4()).encode() + b'","objects":[')
    after = None
    first = True
    count = 0
    versions = VersionMatch(all=True) if all_versions else VersionMatch()
    marks: set[str] = set()  # the markings the exported objects carry
    have: set[str] = set()  # marking-definitions among them
    while True:
        page = read_page(
            node.store,
            node.snapshot(),
            principal,
            c,
            ObjectQuery(c.id, after_us=after, versions=versions),
            2000,
        )
        for item in page.items:
            out.write((b"" if first else b",") + item.body)
            first = False
            count += 1
        for item in page.items:
            if item.row.type == "marking-definition":
                have.add(item.row.stix_id)
            elif b"marking_ref" in item.body:
                marks.update(marking_ids_in(item.body))
        if not page.more or page.last_added is None:
            break
        after = page.last_added
    # The definitions of the markings the objects carry, so that the bundle reads alone.
    extra = referenced_definitions(node.store, node.snapshot(), principal, c, marks - have)
    for body in extra:
        out.write((b"" if first else b",") + body)
        first = False
    out.write(b"]}\n")
    out.flush()
    err.print(f"exported {count} object(s) from {c.id} as {as_user}")


