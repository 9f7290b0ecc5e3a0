"""The ``kizuna`` command: create and run nodes, manage who may see what, move data in and out.

Every command that creates a secret (a token) prints it as the only line on stdout; messages
go to stderr, so scripts can capture tokens and ids with ``$(...)``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kizuna import logs
from kizuna._cli_access import grant, user
from kizuna._cli_admin import collection, community, marking, org
from kizuna._cli_common import err, new_name, new_names, node_dir
from kizuna._cli_data import export, import_
from kizuna._cli_search import search_command
from kizuna.cyber.cli import benign, match, related_command
from kizuna.errors import KizunaError
from kizuna.node import Node
from kizuna.space.cli import space
from kizuna.sync.cli import peer, sync_command

__all__ = ["demo", "init", "main", "serve"]


class _Group(click.Group):
    """Turns Kizuna's errors into one clear line on stderr and exit status 1."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except KizunaError as exc:
            err.print(f"[red]error:[/red] {exc.message}", highlight=False)
            sys.exit(1)
        except Exception as exc:
            # A full disk or a database that cannot serve is said so, not a traceback.
            from kizuna.store.errors import resource_error

            named = resource_error(exc)
            if named is None:
                raise
            err.print(f"[red]error:[/red] {named.message}", highlight=False)
            sys.exit(1)


@click.group(cls=_Group)
@click.version_option(package_name="kizuna")
@click.option("-v", "--verbose", is_flag=True, help="Log what happens (to stderr).")
def main(verbose: bool) -> None:
    """Kizuna: share threat intelligence with allies and partners, under control.

    Each organization runs a node that keeps STIX 2.1 objects and serves them over TAXII 2.1;
    every object's markings (TLP 2.0, REL TO) decide who may receive it, on every path out.
    """
    logs.configure(verbose)


@main.command()
@node_dir
@click.option("--name", required=True, help="The node's name (e.g. nato-hq).")
@click.option(
    "--org",
    required=True,
    callback=new_name("organization"),
    help="The organization that runs the node.",
)
@click.option("--country", required=True, help="That organization's ISO 3166 alpha-3 country.")
@click.option(
    "--community",
    "communities",
    multiple=True,
    callback=new_names("community"),
    help="A community the org belongs to (repeat).",
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
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="API processes (writes stay serialized; validation and reads run in parallel).",
)
@click.option(
    "--access-log/--no-access-log",
    default=True,
    show_default=True,
    help="Log one line per request (client, request, status, time, principal) to stderr.",
)
@click.option(
    "--read-only",
    is_flag=True,
    help="Open the database for reading only: serve reads, refuse writes (403), no sync.",
)
def serve(
    directory: Path,
    host: str,
    port: int,
    database: str | None,
    workers: int,
    access_log: bool,
    read_only: bool,
) -> None:
    """Serve the node's TAXII 2.1 API (and sync with peers in the background)."""
    import os

    import uvicorn

    from kizuna.sync.scheduler import Scheduler
    from kizuna.taxii.app import create_app
    from kizuna.taxii.asgi import serving
    from kizuna.taxii.protocol import Protocol, limits_of
    from kizuna.web import mount

    logs.enable_access_log(access_log)
    node = Node.open(directory, database, read_only=read_only)
    limits, note = limits_of(node.config)
    Protocol.limits = limits
    if note:
        err.print(note)
    _check_port(host, port)
    scheme = "https" if node.config.tls_cert else "http"
    err.print(
        f"serving {node.config.name} at {scheme}://{host}:{port}/taxii2/ "
        f"(the analysts' UI at {scheme}://{host}:{port}/ui/)"
        + (f" with {workers} worker processes" if workers > 1 else "")
        + (", read-only" if read_only else "")
    )
    if workers > 1:
        os.environ["KIZUNA_NODE_DIR"] = str(directory.resolve())
        logs.export()
        if database:
            os.environ["KIZUNA_DATABASE"] = database
        if read_only:
            os.environ["KIZUNA_READ_ONLY"] = "1"
        target: object = "kizuna.taxii.asgi:app"
    else:
        target = serving(mount(create_app(node), node))
    scheduler = None
    if node.config.sync_interval_seconds > 0 and not read_only:
        scheduler = Scheduler(node, node.config.sync_interval_seconds)
        scheduler.start()
        err.print(f"syncing with peers every {node.config.sync_interval_seconds} s")
    try:
        uvicorn.run(
            target,  # type: ignore[arg-type]
            factory=workers > 1,
            workers=workers,
            host=host,
            port=port,
            log_level="info",
            access_log=False,  # kizuna.access logs requests, with their principal
            http=Protocol,  # deadlines, sizes and the connection limit (taxii/protocol.py)
            ws="none",
            timeout_keep_alive=node.config.keep_alive_seconds,
            ssl_certfile=node.config.tls_cert or None,
            ssl_keyfile=node.config.tls_key or None,
        )
    finally:
        if scheduler is not None:
            scheduler.stop()


def _check_port(host: str, port: int) -> None:
    """Refuse, with what to do, an address ``serve`` could not listen on (before it says it
    serves): a port in use, a privileged port, an address of another machine."""
    import errno
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
            sock.bind((host, port))
    except socket.gaierror as exc:
        raise KizunaError(f"cannot listen on {host}: not an address ({exc.strerror})") from None
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise KizunaError(
                f"port {port} on {host} is in use: another server listens there (another "
                "kizuna serve?); stop it, or serve on another port with --port"
            ) from None
        if exc.errno == errno.EACCES:
            raise KizunaError(
                f"may not listen on port {port} as this user (ports below 1024 need "
                "privileges); use --port 8443 or similar, behind a proxy if need be"
            ) from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise KizunaError(
                f"cannot listen on {host}: it is not an address of this machine "
                "(--host 0.0.0.0 listens on all of them)"
            ) from None
        raise KizunaError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


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

    from kizuna.demo import curl_line, run

    err.print(f"building three nodes in {directory}/ (NATO-CERT, JPN-CERT, AUS-ACSC) ...")
    with contextlib.ExitStack() as stack:
        d = run(directory, err, stack, port)
        err.print("query the Japanese node as its analyst aiko (HTTP Basic, token as password):")
        click.echo(curl_line(d))
        if no_serve:
            return
        err.print("serving the three nodes; Ctrl-C to stop")
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)


for command in (collection, user, org, grant, marking, community, import_, export, space, peer):
    main.add_command(command)
main.add_command(sync_command)
for command in (related_command, match, benign, search_command):
    main.add_command(command)
