"""Operator commands: collections, users, organizations, grants, markings, communities."""

from __future__ import annotations

import json
from pathlib import Path

import click

from kizuna._cli_common import err, node_dir
from kizuna.node import Node
from kizuna.stix.markings import TLP_LEVELS


@click.group()
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


@click.group()
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


@click.group()
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


@click.command()
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


@click.group()
def marking() -> None:
    """Create marking-definitions."""


@marking.command("rel-to")
@node_dir
@click.argument("codes", nargs=-1, required=True)
def marking_rel_to(directory: Path, codes: tuple[str, ...]) -> None:
    """Store and print the REL TO marking-definition for these countries/communities."""
    obj = Node.open(directory).releasability_marking(list(codes))
    click.echo(json.dumps(obj, indent=2))


@click.group()
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


