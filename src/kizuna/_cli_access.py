"""Who may do what on a node: ``kizuna user ...`` and ``kizuna grant ...``."""

from __future__ import annotations

from pathlib import Path

import click

from kizuna._cli_common import err, new_name, node_dir
from kizuna.errors import BadRequest
from kizuna.node import Node
from kizuna.stix.markings import TLP_LEVELS, tlp_level
from kizuna.store.types import Grant

_TLP = click.Choice((*TLP_LEVELS, "white"), case_sensitive=False)


@click.group()
def user() -> None:
    """Manage users (each belongs to an organization)."""


@user.command("add")
@node_dir
@click.argument("username", callback=new_name("user"))
@click.option("--org", required=True, help="The user's organization.")
@click.option("--admin", is_flag=True, help="Make the user an administrator (sees everything).")
@click.option("--peer", is_flag=True, help="The account a peer node of ORG uses here (onward-sharing rules apply).")
def user_add(directory: Path, username: str, org: str, admin: bool, peer: bool) -> None:
    """Create a user; print its API token (only its hash is stored).

    Says which collections the user can read, or that it can read none yet and how to
    grant its organization one. USERNAME is 1 to 200 printable characters, without a colon
    or a space at either end.
    """
    node = Node.open(directory)
    token = node.add_user(username, org, admin=admin, peer=peer)
    err.print(f"created user {username!r} of {org}; {_reach(node, org, admin)}", highlight=False)
    if not admin and not _readable(node, org):
        err.print(
            f"grant {org} a collection with: kizuna grant {directory} COLLECTION --org {org} "
            "--read (kizuna collection list shows them)",
            highlight=False,
        )
    click.echo(token)


def _readable(node: Node, org: str) -> list[str]:
    """The titles of the collections *org* may read, Kizuna's definitions aside."""
    titles = {c.id: c.title for c in node.store.collections() if c.kind != "definitions"}
    return [
        titles[g.collection_id]
        for g in node.store.grants()
        if g.org == org and g.can_read and g.collection_id in titles
    ]


def _reach(node: Node, org: str, admin: bool) -> str:
    if admin:
        return "an administrator reads and writes every collection"
    titles = _readable(node, org)
    if not titles:
        return "it can read no collection yet"
    return f"it can read {len(titles)} collection(s): " + ", ".join(sorted(titles))


@user.command("list")
@node_dir
def user_list(directory: Path) -> None:
    """List users: name, organization, role (admin, peer or user), enabled or disabled."""
    node = Node.open(directory)
    for u in node.store.users():
        role = "admin" if u.is_admin else "peer" if u.is_peer else "user"
        click.echo(f"{u.name}\t{u.org}\t{role}\t{'disabled' if u.disabled else 'enabled'}")


@user.command("disable")
@node_dir
@click.argument("username")
def user_disable(directory: Path, username: str) -> None:
    """Destroy the user's token: it stops working at once (kizuna user rotate makes a new one)."""
    changed = Node.open(directory).disable_user(username)
    err.print(f"user {username!r} " + ("disabled" if changed else "was disabled already"))


@user.command("rotate")
@node_dir
@click.argument("username")
def user_rotate(directory: Path, username: str) -> None:
    """Give the user a new API token and print it; the old token stops working at once.

    A disabled user is enabled again, with the new token.
    """
    node = Node.open(directory)
    before = node.store.user(username)
    token = node.rotate_token(username)
    note = " (the user was disabled: this token enables it)" if before and before.disabled else ""
    err.print(f"new token for {username!r}; the old one no longer works{note}", highlight=False)
    click.echo(token)


class _GrantGroup(click.Group):
    """``kizuna grant DIR COLLECTION ...`` is ``kizuna grant set DIR COLLECTION ...``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["set", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_GrantGroup)
def grant() -> None:
    """Grant organizations access to collections, list and revoke grants.

    `kizuna grant DIR COLLECTION --org ORG --read` is short for `kizuna grant set ...`.
    """


def _describe(g: Grant) -> str:
    rights = [r for r, on in (("read", g.can_read), ("write", g.can_write)) if on]
    return f"{' and '.join(rights) or 'no access'}, up to TLP:{g.max_tlp.upper()}"


@grant.command("set")
@node_dir
@click.argument("collection_id")
@click.option("--org", "org_name", required=True, help="The organization granted access.")
@click.option("--read/--no-read", default=None, help="May read (default: as before; no for a new grant).")
@click.option("--write/--no-write", default=None, help="May write (default: as before; no for a new grant).")
@click.option(
    "--max-tlp",
    default=None,
    type=_TLP,
    help="Most restrictive TLP it may read (default: as before; amber for a new grant).",
)
def grant_set(
    directory: Path,
    collection_id: str,
    org_name: str,
    read: bool | None,
    write: bool | None,
    max_tlp: str | None,
) -> None:
    """Grant an organization access to a collection, or change its grant; say what changes.

    What the options do not name stays as it was. A grant with neither read nor write is
    refused: `kizuna grant revoke` removes a grant.
    """
    node = Node.open(directory)
    c = node.collection(collection_id)
    before = node.grant_of(c.id, org_name)
    new = Grant(
        c.id,
        org_name,
        read if read is not None else bool(before and before.can_read),
        write if write is not None else bool(before and before.can_write),
        tlp_level(max_tlp) if max_tlp else (before.max_tlp if before else "amber"),
    )
    if not new.can_read and not new.can_write:
        hint = f"kizuna grant revoke {directory} {collection_id} --org {org_name}"
        raise BadRequest(
            f"a grant needs --read and/or --write (to remove {org_name}'s grant: {hint})"
            if before
            else f"say what {org_name} may do: --read and/or --write"
        )
    g = node.grant(c.id, org_name, read=new.can_read, write=new.can_write, max_tlp=new.max_tlp)
    where = f"{c.title!r} ({c.id})"
    if before is None:
        err.print(f"granted {g.org} on {where}: {_describe(g)}", highlight=False)
        return
    changes = [
        f"{label} {old} -> {now}"
        for label, old, now in (
            ("read", _yes(before.can_read), _yes(g.can_read)),
            ("write", _yes(before.can_write), _yes(g.can_write)),
            ("max TLP", before.max_tlp, g.max_tlp),
        )
        if old != now
    ]
    if changes:
        err.print(f"changed {g.org} on {where}: {', '.join(changes)}", highlight=False)
    else:
        err.print(f"unchanged: {g.org} on {where}: {_describe(g)}", highlight=False)


def _yes(value: bool) -> str:
    return "yes" if value else "no"


@grant.command("list")
@node_dir
@click.option("--collection", "collection_id", default=None, help="Only this collection (id or alias).")
@click.option("--org", "org_name", default=None, help="Only this organization.")
def grant_list(directory: Path, collection_id: str | None, org_name: str | None) -> None:
    """List grants: collection id, alias, organization, rights, TLP ceiling, title."""
    node = Node.open(directory)
    only = node.collection(collection_id).id if collection_id else None
    collections = {c.id: c for c in node.store.collections()}
    for g in node.store.grants():
        if (only and g.collection_id != only) or (org_name and g.org != org_name):
            continue
        c = collections[g.collection_id]
        rights = ",".join(r for r, on in (("read", g.can_read), ("write", g.can_write)) if on)
        click.echo(f"{c.id}\t{c.alias or '-'}\t{g.org}\t{rights}\t{g.max_tlp}\t{c.title}")
    err.print(
        "every organization may also read kizuna-definitions (TLP:CLEAR); administrators "
        "read and write everything",
        highlight=False,
    )


@grant.command("revoke")
@node_dir
@click.argument("collection_id")
@click.option("--org", "org_name", required=True, help="The organization whose grant goes.")
def grant_revoke(directory: Path, collection_id: str, org_name: str) -> None:
    """Remove an organization's grant on a collection: its users no longer see the collection."""
    node = Node.open(directory)
    g = node.revoke(collection_id, org_name)
    err.print(f"revoked {g.org}'s grant on {g.collection_id} (was: {_describe(g)})", highlight=False)
