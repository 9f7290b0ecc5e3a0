"""``kizuna peer ...`` and ``kizuna sync``: configure peer nodes and run sync rounds."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

import click
from rich.progress import Progress, TaskID, TextColumn, TimeElapsedColumn

from kizuna._cli_common import err, new_name, node_dir
from kizuna.node import Node
from kizuna.stix.timestamps import format_micros

__all__ = [
    "peer",
    "peer_add",
    "peer_list",
    "peer_remove",
    "peer_reset",
    "peer_status_command",
    "sync_command",
]


@click.group()
def peer() -> None:
    """Configure peer nodes to pull from and push to."""


def _pairs(values: tuple[str, ...], option: str) -> list[tuple[str, str]]:
    out = []
    for value in values:
        a, sep, b = value.partition(":")
        if not sep or not a or not b:
            raise click.BadParameter(
                f"{value!r}: expected FROM:TO (two collection ids or aliases)", param_hint=option
            )
        out.append((a, b))
    return out


@peer.command("add")
@node_dir
@click.argument("name", callback=new_name("peer"))
@click.argument("url")
@click.option("--org", "org_name", required=True, help="The organization the peer node acts for (gated as it).")
@click.option("--token", default=None, help="The API token this node presents to the peer (prefer --token-file).")
@click.option(
    "--token-file",
    type=click.File("r"),
    default=None,
    help="Read that token from this file (- for stdin): kept off the command line.",
)
@click.option("--pull", "pulls", multiple=True, help="REMOTE_COLLECTION:LOCAL_COLLECTION to pull (repeat).")
@click.option("--push", "pushes", multiple=True, help="LOCAL_COLLECTION:REMOTE_COLLECTION to push (repeat).")
@click.option("--ca-file", default="", help="PEM certificate(s) that verify the peer's TLS certificate.")
def peer_add(
    directory: Path,
    name: str,
    url: str,
    org_name: str,
    token: str | None,
    token_file: TextIO | None,
    pulls: tuple[str, ...],
    pushes: tuple[str, ...],
    ca_file: str,
) -> None:
    """Add (or replace) a peer node.

    NAME is 1 to 200 printable characters, without a space at either end.

    Give the token with --token-file (or - for stdin) rather than --token: a command line
    is visible to every user of the machine while it runs (ps, /proc/PID/cmdline) and stays
    in shell history afterwards.
    """
    if token_file is not None and token is None:
        token = token_file.read().strip()
        if not token or "\n" in token:
            raise click.BadParameter("expected one line holding the token", param_hint="--token-file")
    elif token is None or token_file is not None:
        raise click.UsageError("give the peer's token with --token-file FILE (or -), or --token")
    node = Node.open(directory)
    p = node.add_peer(
        name,
        url,
        org=org_name,
        token=token,
        pull=_pairs(pulls, "--pull"),
        push=_pairs(pushes, "--push"),
        ca_file=ca_file,
    )
    err.print(f"peer {p.name} at {p.url} acts for {p.org}: {len(p.pull)} pull(s), {len(p.push)} push(es)")


@peer.command("list")
@node_dir
def peer_list(directory: Path) -> None:
    """List peers: name, URL, organization, pulls and pushes."""
    node = Node.open(directory)
    for p in node.store.peers():
        pulls = ",".join(f"{remote}:{local}" for remote, local in p.pull) or "-"
        pushes = ",".join(f"{local}:{remote}" for local, remote in p.push) or "-"
        click.echo(f"{p.name}\t{p.url}\t{p.org}\tpull={pulls}\tpush={pushes}")


@peer.command("remove")
@node_dir
@click.argument("name")
def peer_remove(directory: Path, name: str) -> None:
    """Forget a peer node and its sync cursors (its users here stay: kizuna user disable)."""
    Node.open(directory).remove_peer(name)
    err.print(f"removed peer {name} and its sync cursors")


def _labels(node: Node) -> dict[str, str]:
    """Collection id -> its alias (or id), as the operator names collections."""
    return {c.id: c.alias or c.id for c in node.store.collections()}


@peer.command("status")
@node_dir
@click.argument("name", required=False)
@click.option(
    "--rejections", "shown", default=20, show_default=True, help="Newest rejections to show per peer."
)
def peer_status_command(directory: Path, name: str | None, shown: int) -> None:
    """How each link with a peer (or with NAME) last went: counts, errors, cursor, rejections."""
    from kizuna.sync.status import peer_status

    node = Node.open(directory)
    labels = _labels(node)
    for status in peer_status(node, name, max(0, shown)):
        p = status.peer
        click.echo(f"peer {p.name} at {p.url}, acting for {p.org}")
        for link in status.links:
            arrow = f"{link.remote} -> {link.local}" if link.direction == "pull" else (
                f"{link.local} -> {link.remote}"
            )
            click.echo(f"  {link.direction} {arrow}: cursor {link.cursor or 'none (from the beginning)'}")
            r = link.last_round
            if r is None:
                click.echo("    no round yet")
                continue
            seconds = (r.finished_us - r.started_us) / 1e6
            click.echo(f"    last round {format_micros(r.started_us)} ({seconds:.1f} s, {r.pages} pages)")
            if r.direction == "pull":
                click.echo(
                    f"    {r.received} received, {r.stored} stored, {r.duplicates} duplicates, "
                    f"{r.rejected} rejected"
                )
            else:
                click.echo(f"    {r.sent} sent, {r.refused} refused by the peer")
            if r.error:
                click.echo(f"    FAILED: {r.error}")
            if r.stopped:
                click.echo(f"    stopped early: {r.stopped}")
        if status.rejections:
            click.echo(f"  newest rejections (of up to {node.store.kept_rejections} kept):")
            for j in status.rejections:
                local = labels.get(j.local_collection, j.local_collection)
                click.echo(
                    f"    {format_micros(j.at_us)} {j.direction} {local}<->"
                    f"{j.remote_collection} {j.object_id or '(no id)'}: {j.reason}"
                )


@peer.command("reset")
@node_dir
@click.argument("name")
@click.option(
    "--since",
    default=None,
    help="Set the cursors to this TIMESTAMP (YYYY-MM-DDTHH:MM:SS[.s]Z), back or forward; "
    "without it the next round starts from the beginning.",
)
@click.option(
    "--direction", type=click.Choice(["pull", "push"]), default=None, help="Only these links."
)
def peer_reset(directory: Path, name: str, since: str | None, direction: str | None) -> None:
    """Set the sync cursors of peer NAME deliberately (back to resend, forward to skip)."""
    from kizuna.sync.status import reset_cursors

    node = Node.open(directory)
    changed = reset_cursors(node, name, since, direction)
    for link_direction, local, remote, old, new in changed:
        err.print(
            f"{link_direction} {local}<->{remote}: cursor {old or 'none'} -> "
            f"{new or 'none (from the beginning)'}",
            markup=False,
        )
    if not changed:
        err.print(f"peer {name} has no {direction or ''} links".replace("  ", " "), markup=False)


@click.command("sync")
@node_dir
@click.option("--peer", "only", default=None, help="Only this peer.")
@click.option("--page-size", default=1000, show_default=True, help="Objects per page and per transaction.")
def sync_command(directory: Path, only: str | None, page_size: int) -> None:
    """Run one sync round with the peers (pull, then push), with progress."""
    from kizuna.sync.engine import sync

    node = Node.open(directory)
    if not node.store.peers():
        err.print(
            f"[red]error:[/red] this node has no peers: add one with kizuna peer add {directory} "
            "NAME URL --org ORG --token-file FILE --pull REMOTE:LOCAL",
            highlight=False,
        )
        sys.exit(1)
    columns = (TextColumn("{task.description}"), TextColumn("{task.completed} objects"), TimeElapsedColumn())
    with Progress(*columns, console=err) as progress:
        tasks: dict[str, TaskID] = {}

        def advance(label: str, n: int) -> None:
            if label not in tasks:
                tasks[label] = progress.add_task(label, total=None)
            progress.advance(tasks[label], n)

        reports = sync(node, only=only, progress=advance, page_size=page_size)
    labels = _labels(node)
    if not reports:
        err.print("nothing to sync: no peer has a --pull or --push (kizuna peer list)")
    failed = False
    for r in reports:
        if r.direction == "pull":
            err.print(
                f"pull {r.peer}:{r.remote} -> {labels.get(r.local, r.local)}: {r.received} received, "
                f"{r.stored} stored, "
                f"{r.duplicates} duplicates, {r.rejected} rejected",
                markup=False,
            )
        else:
            err.print(
                f"push {labels.get(r.local, r.local)} -> {r.peer}:{r.remote}: {r.sent} sent, "
                f"{r.refused} refused by the peer",
                markup=False,
            )
        if r.error:
            failed = True
            err.print(f"    FAILED: {r.error}", markup=False)
        if r.stopped:
            err.print(f"    stopped early: {r.stopped}; the next round goes on", markup=False)
        for reason in r.reasons[:5]:
            err.print(f"    {reason}", markup=False, highlight=False)
    if failed:
        sys.exit(1)
