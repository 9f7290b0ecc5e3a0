"""Operator commands: collections, organizations, markings, communities."""

from __future__ import annotations

import json
from pathlib import Path

import click

from kizuna._cli_common import err, new_name, new_names, node_dir
from kizuna.node import HOME_MAX_TLP, Node
from kizuna.stix.markings import Exercise, RelTo, Statement, Tlp, parse_marking


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
@click.option(
    "--derived",
    type=click.Choice(["refuse", "restrict"]),
    default="refuse",
    show_default=True,
    help="A sighting, note or opinion more releasable than a source it names: refuse it, or "
    "store it restricted to what every source admits.",
)
@click.option(
    "--home-grant/--no-home-grant",
    default=True,
    show_default=True,
    help="Let the node's own organization read and write it, up to TLP:AMBER+STRICT.",
)
def collection_add(
    directory: Path,
    title: str,
    description: str,
    alias: str | None,
    exercise: str | None,
    defaults: tuple[str, ...],
    derived: str,
    home_grant: bool,
) -> None:
    """Create a collection; print its id.

    The node's own organization may read and write it up to TLP:AMBER+STRICT (its analysts
    see what it holds), unless --no-home-grant; other organizations need `kizuna grant`.
    """
    node = Node.open(directory)
    kind = f"exercise:{exercise.upper()}" if exercise else "real"
    c = node.add_collection(
        title,
        description=description,
        alias=alias,
        kind=kind,
        default_markings=tuple(defaults),
        home_grant=home_grant,
        derived=derived,
    )
    home = node.config.org
    err.print(
        f"created collection {title!r} ({kind}); "
        + (
            f"{home} (this node's organization) may read and write it up to TLP:{HOME_MAX_TLP.upper()}"
            if home_grant
            else f"no organization may read it yet (kizuna grant {directory} {c.id} --org ORG --read)"
        ),
        highlight=False,
    )
    click.echo(c.id)


@collection.command("list")
@node_dir
def collection_list(directory: Path) -> None:
    """List collections: id, objects, kind, title."""
    node = Node.open(directory)
    for c in node.store.collections():
        click.echo(f"{c.id}\t{node.store.count(c.id)}\t{c.kind}\t{c.title}")


@click.group()
def org() -> None:
    """Manage organizations."""


@org.command("add")
@node_dir
@click.argument("name", callback=new_name("organization"))
@click.option("--country", required=True, help="ISO 3166 alpha-3 country code.")
@click.option(
    "--community",
    "communities",
    multiple=True,
    callback=new_names("community"),
    help="A community it belongs to (repeat).",
)
def org_add(directory: Path, name: str, country: str, communities: tuple[str, ...]) -> None:
    """Create an organization.

    NAME is 1 to 200 printable characters, without a space at either end.
    """
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


@click.group()
def marking() -> None:
    """Create and list marking-definitions."""


@marking.command("list")
@node_dir
def marking_list(directory: Path) -> None:
    """List the marking-definitions stored on the node: id, what it means to the gate, name."""
    node = Node.open(directory)
    for mid, body in sorted(node.store.marking_definitions().items()):
        m = parse_marking(body)
        if isinstance(m, Tlp):
            meaning = f"TLP:{m.level.upper()}"
        elif isinstance(m, RelTo):
            meaning = "REL TO " + ", ".join(sorted(m.codes))
        elif isinstance(m, Exercise):
            meaning = f"EXERCISE {m.name}"
        elif isinstance(m, Statement):
            meaning = "statement"
        else:
            meaning = f"unknown, denies: {m.reason}"
        obj = json.loads(body)
        name = obj.get("name") if isinstance(obj, dict) else None
        click.echo(f"{mid}\t{meaning}\t{name if isinstance(name, str) else ''}")


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
@click.argument("name", callback=new_name("community"))
@click.argument("members", nargs=-1, required=True)
def community_set(directory: Path, name: str, members: tuple[str, ...]) -> None:
    """Create or replace a community with these member countries.

    NAME is the code REL TO markings name it by: a letter, then 1 to 49 letters, digits,
    _, + or - (stored upper-case), and no country's code.
    """
    node = Node.open(directory)
    node.set_community(name, list(members))
    err.print(f"community {name.upper()}: {len(members)} member(s)")


