"""Moving data in and out of a node: ``kizuna import`` and ``kizuna export``."""

from __future__ import annotations

import contextlib
import signal
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from kizuna._cli_common import err, node_dir
from kizuna.errors import InvalidInput, KizunaError
from kizuna.node import (
    BundleFile,
    Node,
    ingest,
    marking_ids_in,
    read_page,
    referenced_definitions,
)
from kizuna.policy.principal import Principal
from kizuna.store.types import Collection, ObjectQuery, VersionMatch


@click.command("import")
@node_dir
@click.argument("collection_id")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--batch", default=2000, show_default=True, help="Objects per transaction.")
@click.option(
    "--strict", is_flag=True, help="Exit 1 when any object is rejected (not only all of them)."
)
@click.option(
    "--max-bytes",
    type=click.IntRange(1),
    default=None,
    help="Refuse a file larger than this once decompressed (default: import_max_bytes).",
)
def import_(
    directory: Path,
    collection_id: str,
    files: tuple[Path, ...],
    batch: int,
    strict: bool,
    max_bytes: int | None,
) -> None:
    """Load STIX bundles (.json or .json.gz) into a collection, with a progress bar.

    Files are read incrementally (a large one, or a gzip bomb, is not held in memory) and
    objects are stored in transactions of --batch. Interrupted (Ctrl-C), it says how many
    objects were committed; run it again to go on: what is stored already is recognized and
    counted apart from what the input itself repeats. It exits 1 when a file cannot be read,
    when every object was rejected, or with --strict when any was.
    """
    node = Node.open(directory)
    admin = node.store.user("admin")
    if admin is None:
        raise KizunaError("this node has no admin user")
    principal = node.principal_for(admin)
    c = node.collection(collection_id)
    limit = max_bytes or node.config.import_max_bytes
    # Versions stored before this run have an added time up to this one; an object "already
    # stored" with a later one was stored by this run: the input repeats it.
    before = node.store.latest_added(c.id)
    tally = _Tally()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    ) as progress:
        try:
            for path in files:
                _import_file(node, principal, c, path, batch, limit, before, tally, progress)
        except KeyboardInterrupt:
            progress.stop()
            err.print(
                f"interrupted: {tally.stored} object(s) stored and committed ({tally.summary()}); "
                "the transaction in progress was rolled back. Run the same command again to "
                "go on: what is stored already is recognized.",
                highlight=False,
            )
            sys.exit(130)
    if tally.stored:
        node.store.analyze()  # PostgreSQL plans with fresh statistics from the first request
    err.print(f"stored {tally.stored}, {tally.summary()}", highlight=False)
    for reason in tally.reasons[:50]:
        err.print(f"  rejected: {reason}", highlight=False, markup=False)
    if len(tally.reasons) > 50:
        err.print(f"  ... and {len(tally.reasons) - 50} more")
    accepted = tally.stored + tally.before + tally.repeated
    if tally.bad_files:
        sys.exit(1)
    if tally.rejected and not accepted:
        err.print("error: every object was rejected", highlight=False)
        sys.exit(1)
    if strict and tally.rejected:
        err.print(f"error: {tally.rejected} object(s) rejected (--strict)", highlight=False)
        sys.exit(1)


class _Tally:
    """What an import did, so far."""

    def __init__(self) -> None:
        self.stored = self.before = self.repeated = self.rejected = self.bad_files = 0
        self.reasons: list[str] = []

    def summary(self) -> str:
        return (
            f"already stored before this run {self.before}, repeated in the input "
            f"{self.repeated}, rejected {self.rejected}"
            + (f", unreadable files {self.bad_files}" if self.bad_files else "")
        )


@contextlib.contextmanager
def _sigint_deferred() -> Iterator[None]:
    """Hold an interrupt until the block ends, so a batch's commit and its count go together."""
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt


def _import_file(
    node: Node,
    principal: Principal,
    c: Collection,
    path: Path,
    batch: int,
    max_bytes: int,
    before: int,
    tally: _Tally,
    progress: Progress,
) -> None:
    """Import one file in batches; a file that cannot be read counts as unreadable."""
    bundle = BundleFile(path, max_bytes=max_bytes, max_object_bytes=node.config.max_body_bytes)
    task = progress.add_task(path.name, total=None)
    chunk: list[bytes] = []
    done = 0

    def store() -> None:
        with _sigint_deferred():
            _store()

    def _store() -> None:
        results = ingest(node.store, node.snapshot(), principal, c, chunk, f"file:{path.name}")
        for r in results:
            if not r.ok:
                tally.rejected += 1
                if len(tally.reasons) < 1000:
                    tally.reasons.append(f"{path.name}: {r.id or '(no id)'}: {r.message}")
            elif r.stored:
                tally.stored += 1
            elif r.added_us is not None and r.added_us > before:
                tally.repeated += 1
            else:
                tally.before += 1
        nonlocal done
        done += len(chunk)
        progress.update(task, completed=done)
        chunk.clear()

    try:
        for raw in bundle:
            chunk.append(raw)
            if len(chunk) >= batch:
                store()
        if chunk:
            store()
    except KizunaError as exc:
        if not isinstance(exc, InvalidInput):
            raise
        tally.bad_files += 1
        tally.reasons.append(exc.message)
    progress.update(task, total=done)


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


