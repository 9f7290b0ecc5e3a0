"""The ``kizuna`` command: create and run nodes, manage who may see what, move data in and out.

Every command that creates a secret (a token) prints it as the only line on stdout; messages
go to stderr, so scripts can capture tokens and ids with ``$(...)``.
"""

from __future__ import annotations

import json
import logging
import sys
import uuid
from pathlib import Path

import click
import msgspec
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from kizuna.errors import KizunaError
from kizuna.node import Node
from kizuna.node._files import read_bundle
from kizuna.node._ingest import ingest
from kizuna.node._read import read_page
from kizuna.space.cli import space
from kizuna.stix.markings import TLP_LEVELS, releasability_marking
from kizuna.store.types import ObjectQuery, VersionMatch
from kizuna.sync.cli import peer, sync_command

err = Console(stderr=True, soft_wrap=True)
node_dir = click.argument("directory", type=click.Path(file_okay=False, path_type=Path))


class _Group(click.Group):
    """Turns Kizuna's errors into one clear line on stderr and exit status 1."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except KizunaError as exc:
            err.print(f"[red]error:[/red] {exc.message}", highlight=False)
            sys.exit(1)


@click.group(cls=_Group)
@click.version_option(package_name="kizuna")
@click.option("-v", "--verbose", is_flag=True, help="Log what happens (to stderr).")
def main(verbose: bool) -> None:
    """Kizuna: share threat intelligence with allies and partners, under control.

    Each organization runs a node that keeps STIX 2.1 objects and serves them over TAXII 2.1;
    every object's markings (TLP 2.0, REL TO) decide who may receive it, on every path out.
    """
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


@main.command()
@node_dir
@click.option("--name", required=True, help="The node's name (e.g. nato-hq).")
@click.option("--org", required=True, help="The organization that runs the node.")
@click.option("--country", required=True, help="That organization's ISO 3166 alpha-3 country.")
@click.option(
    "--community", "communities", multiple=True, help="A community the org belongs to (repeat)."
)
@click.option("--database", default="", help="Database URL; default: SQLite in DIRECTORY.")
def init(
    directory: Path, name: str, org: str, country: str, communities: tuple[str, ...], database: str
) -> None:
    """Create a node in DIRECTORY; print the admin's API token (the only line on stdout)."""
    node, token = Node.init(
        directory,
        name=name,
        org=org,
        country=country,
        communities=list(communities),
        database=database,
    )
    node.close()
    err.print(
        f"created node {name!r} for {org} ({country.upper()}) in {directory}; admin user: admin"
    )
    click.echo(token)


@main.command()
@node_dir
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--database", default=None, help="Database URL (postgresql://...); default: the node's."
)
def serve(directory: Path, host: str, port: int, database: str | None) -> None:
    """Serve the node's TAXII 2.1 API."""
    import uvicorn

    from kizuna.sync.scheduler import Scheduler
    from kizuna.taxii.app import create_app

    node = Node.open(directory, database)
    app = create_app(node)
    scheme = "https" if node.config.tls_cert else "http"
    err.print(f"serving {node.config.name} at {scheme}://{host}:{port}/taxii2/")
    scheduler = None
    if node.config.sync_interval_seconds > 0:
        scheduler = Scheduler(node, node.config.sync_interval_seconds)
        scheduler.start()
        err.print(f"syncing with peers every {node.config.sync_interval_seconds} s")
    try:
        uvicorn.run(
            app,
            host=host,
            port=port,
            log_level="info",
            ssl_certfile=node.config.tls_cert or None,
            ssl_keyfile=node.config.tls_key or None,
        )
    finally:
        if scheduler is not None:
            scheduler.stop()


@main.group()
def collection() -> None:
    """Create and list TAXII collections."""


@collection.command("add")
@node_dir
@click.argument("title")
@click.option("--description", default="", help="What the collection holds.")
@click.option("--alias", default=None, help="A short name usable instead of the id.")
@click.option("--exercise", default=None, help="Make it a collection of the named exercise.")
@click.option(
    "--default-marking",
    "defaults",
    multiple=True,
    help="Marking-definition id stamped on unmarked objects (repeat).",
)
def collection_add(
    directory: Path,
    title: str,
    description: str,
    alias: str | None,
    exercise: str | None,
    defaults: tuple[str, ...],
) -> None:
    """Create a collection; print its id."""
    node = Node.open(directory)
    kind = f"exercise:{exercise.upper()}" if exercise else "real"
    c = node.add_collection(
        title, description=description, alias=alias, kind=kind, default_markings=tuple(defaults)
    )
    err.print(f"created collection {title!r} ({kind})")
    click.echo(c.id)


@collection.command("list")
@node_dir
def collection_list(directory: Path) -> None:
    """List collections: id, objects, kind, title."""
    node = Node.open(directory)
    for c in node.store.collections():
        click.echo(f"{c.id}\t{node.store.count(c.id)}\t{c.kind}\t{c.title}")


@main.group()
def user() -> None:
    """Manage users (each belongs to an organization)."""


@user.command("add")
@node_dir
@click.argument("username")
@click.option("--org", required=True, help="The user's organization.")
@click.option("--admin", is_flag=True, help="Make the user an administrator (sees everything).")
@click.option("--peer", is_flag=True, help="The account a peer node of ORG uses here (onward-sharing rules apply).")
def user_add(directory: Path, username: str, org: str, admin: bool, peer: bool) -> None:
    """Create a user; print its API token (only its hash is stored)."""
    node = Node.open(directory)
    token = node.add_user(username, org, admin=admin, peer=peer)
    err.print(f"created user {username!r} of {org}")
    click.echo(token)


@main.group()
def org() -> None:
    """Manage organizations."""


@org.command("add")
@node_dir
@click.argument("name")
@click.option("--country", required=True, help="ISO 3166 alpha-3 country code.")
@click.option(
    "--community", "communities", multiple=True, help="A community it belongs to (repeat)."
)
def org_add(directory: Path, name: str, country: str, communities: tuple[str, ...]) -> None:
    """Create an organization."""
    node = Node.open(directory)
    o = node.add_org(name, country, list(communities))
    err.print(f"created organization {o.name} ({o.country}) {', '.join(o.communities)}")
    click.echo(o.identity_id)


@org.command("list")
@node_dir
def org_list(directory: Path) -> None:
    """List organizations: name, country, communities."""
    node = Node.open(directory)
    for o in node.store.orgs():
        click.echo(f"{o.name}\t{o.country}\t{','.join(o.communities)}")


@main.command()
@node_dir
@click.argument("collection_id")
@click.option("--org", "org_name", required=True, help="The organization granted access.")
@click.option("--read", is_flag=True, help="May read.")
@click.option("--write", is_flag=True, help="May write.")
@click.option(
    "--max-tlp",
    default="amber",
    show_default=True,
    type=click.Choice((*TLP_LEVELS, "white"), case_sensitive=False),
    help="Most restrictive TLP it may read.",
)
def grant(
    directory: Path, collection_id: str, org_name: str, read: bool, write: bool, max_tlp: str
) -> None:
    """Grant an organization access to a collection (replaces an earlier grant)."""
    node = Node.open(directory)
    g = node.grant(collection_id, org_name, read=read, write=write, max_tlp=max_tlp)
    err.print(
        f"{g.org} on {g.collection_id}: read={g.can_read} write={g.can_write} max TLP={g.max_tlp}"
    )


@main.group()
def marking() -> None:
    """Create marking-definitions."""


@marking.command("rel-to")
@node_dir
@click.argument("codes", nargs=-1, required=True)
def marking_rel_to(directory: Path, codes: tuple[str, ...]) -> None:
    """Store and print the REL TO marking-definition for these countries/communities."""
    from kizuna.policy.countries import is_country

    node = Node.open(directory)
    obj = releasability_marking(codes)
    known = node.communities()
    unknown = [
        c
        for c in obj["extensions"][next(iter(obj["extensions"]))]["rel_to"]
        if not is_country(c) and c not in known
    ]
    if unknown:
        raise KizunaError(
            f"unknown code(s) {', '.join(unknown)}: expected ISO 3166 alpha-3 countries or communities ({', '.join(sorted(known))})"
        )
    node.store.put_marking_definitions([(obj["id"], msgspec.json.encode(obj))])
    click.echo(json.dumps(obj, indent=2))


@main.group()
def community() -> None:
    """Show and change communities (named sets of countries)."""


@community.command("list")
@node_dir
def community_list(directory: Path) -> None:
    """List communities and their member countries."""
    node = Node.open(directory)
    for name, members in sorted(node.communities().items()):
        click.echo(f"{name}\t{' '.join(sorted(members))}")


@community.command("set")
@node_dir
@click.argument("name")
@click.argument("members", nargs=-1, required=True)
def community_set(directory: Path, name: str, members: tuple[str, ...]) -> None:
    """Create or replace a community with these member countries."""
    node = Node.open(directory)
    node.set_community(name, list(members))
    err.print(f"community {name.upper()}: {len(members)} member(s)")


@main.command("import")
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


@main.command()
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
        if not page.more or page.last_added is None:
            break
        after = page.last_added
    out.write(b"]}\n")
    out.flush()
    err.print(f"exported {count} object(s) from {c.id} as {as_user}")


@main.command()
@click.option(
    "--dir",
    "directory",
    default="demo-nodes",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the demo nodes live (replaced each run).",
)
@click.option("--port", default=8000, show_default=True, help="First of three ports on 127.0.0.1.")
@click.option("--no-serve", is_flag=True, help="Run the sync round, print the summary and exit.")
def demo(directory: Path, port: int, no_serve: bool) -> None:
    """Run the demo federation: NATO, Japanese and partner nodes sharing real ATT&CK data."""
    import contextlib
    import time

    from kizuna.demo import run

    err.print(f"building three nodes in {directory}/ (NATO-CERT, JPN-CERT, AUS-ACSC) ...")
    with contextlib.ExitStack() as stack:
        d = run(directory, err, stack, port)
        jpn = d.urls["jpn"]
        err.print("query the Japanese node as its analyst aiko (HTTP Basic, token as password):")
        click.echo(
            f'curl -s -u "aiko:{d.tokens["aiko"]}" -H "Accept: application/taxii+json;version=2.1" '
            f'"{jpn}/api/collections/from-nato/objects/?limit=3&match[type]=malware"'
        )
        if no_serve:
            return
        err.print("serving the three nodes; Ctrl-C to stop")
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)


main.add_command(space)
main.add_command(peer)
main.add_command(sync_command)
