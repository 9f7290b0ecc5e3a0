"""``kizuna related``, ``kizuna match`` and ``kizuna benign ...``: correlation and matching
from the command line, as a user of the node (``--as``), through the gate."""

from __future__ import annotations

import json
from pathlib import Path

import click

from kizuna._cli_common import err, node_dir
from kizuna.cyber.benign import (
    LISTS_SETTING,
    Benign,
    BenignList,
    operator_lists,
    parse_list,
    stored_benign,
)
from kizuna.cyber.correlate import related
from kizuna.cyber.matcher import Matcher
from kizuna.cyber.matching import load_indicators, match_batch, read_objects
from kizuna.cyber.observations import ObservationError, observations
from kizuna.cyber.sightings import record_sightings
from kizuna.errors import InvalidInput, KizunaError, NotFound
from kizuna.node import Node
from kizuna.policy.principal import Principal
from kizuna.stix.timestamps import now_micros

__all__ = [
    "benign",
    "benign_add",
    "benign_list",
    "benign_remove",
    "match",
    "node_benign",
    "related_command",
]



def _principal(node: Node, username: str) -> Principal:
    user = node.store.user(username)
    if user is None:
        raise NotFound(f"no user {username!r} (create one with: kizuna user add DIR NAME ORG)")
    return node.principal_for(user)


def _operator_lists(node: Node) -> dict[str, BenignList]:
    return operator_lists(node.store)


def node_benign(node: Node) -> Benign:
    return stored_benign(node.store)


@click.command("related")
@node_dir
@click.argument("object_id")
@click.option("--as", "as_user", default="admin", show_default=True, help="Answer as this user.")
@click.option("--limit", default=1000, show_default=True, help="At most this many related objects.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def related_command(
    directory: Path, object_id: str, as_user: str, limit: int, as_json: bool
) -> None:
    """Print the objects that carry the values OBJECT_ID carries (what this user may see).

    Each line gives the related object, how it relates (same value, inside network, address
    in network, same file under another hash) and the value; values on a known-benign list
    say so.
    """
    node = Node.open(directory)
    try:
        principal = _principal(node, as_user)
        page = related(node, principal, object_id, limit=limit, benign=node_benign(node))
        for r in page.items:
            if as_json:
                click.echo(json.dumps(r.to_json(), sort_keys=True))
            else:
                note = f" (via {r.via})" if r.via else ""
                mark = f" [benign: {r.benign}]" if r.benign else ""
                click.echo(
                    f"{r.object_id}\t{r.relation}\t{r.value.kind} {r.value.value}{note}{mark}"
                )
        more = " (more: raise --limit)" if page.next is not None else ""
        err.print(f"{len(page.items)} related object(s){more}")
    finally:
        node.close()


@click.command("match")
@node_dir
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--as", "as_user", default="admin", show_default=True, help="Match as this user.")
@click.option(
    "--collection",
    "collections",
    multiple=True,
    help="Indicators of this collection (repeat); default: every readable one.",
)
@click.option(
    "--sightings", default=None, help="Record each match as a sighting in this collection."
)
@click.option(
    "--benign", "include_benign", is_flag=True, help="Keep matches on known-benign values."
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per match.")
def match(
    directory: Path,
    files: tuple[Path, ...],
    as_user: str,
    collections: tuple[str, ...],
    sightings: str | None,
    include_benign: bool,
    as_json: bool,
) -> None:
    """Match FILES of observations against the indicators this user may see.

    A FILE holds a STIX bundle or envelope of observed-data and cyber-observables, or one
    object per line; an observable that no observed-data names is an observation of its own
    (at its first_observed/last_observed, else now). Indicators count while valid
    (valid_from, valid_until), revoked ones never.
    """
    node = Node.open(directory)
    try:
        principal = _principal(node, as_user)
        matcher = Matcher(load_indicators(node, principal, collections))
        for indicator_id, why in matcher.refused:
            err.print(f"indicator {indicator_id} not matched: {why}", markup=False)
        benign = node_benign(node)
        total = 0
        for path in files:
            try:
                batch = observations(read_objects(path), now_us=now_micros())
            except ObservationError as exc:
                raise InvalidInput(f"{path}: {exc}") from None
            hits = match_batch(matcher, batch, benign, include_benign=include_benign)
            for indicator_id in matcher.too_costly:
                err.print(f"{path}: indicator {indicator_id} skipped: too many combinations")
            for hit in hits:
                if as_json:
                    click.echo(json.dumps(hit.to_json(), sort_keys=True))
                else:
                    mark = f" [benign: {hit.benign}]" if hit.benign else ""
                    click.echo(
                        f"{hit.observations[0].id}\t{hit.match.indicator.id}\t{hit.match.indicator.pattern}{mark}"
                    )
            total += len(hits)
            if sightings is not None and hits:
                for result in record_sightings(node, principal, sightings, hits):
                    state = "recorded" if result.ok else f"refused: {result.message}"
                    err.print(f"sighting {result.id} (count {result.count}) {state}", markup=False)
        err.print(f"{total} match(es) against {len(matcher)} indicator(s)")
    finally:
        node.close()


@click.group()
def benign() -> None:
    """Known-benign lists: values shown as such and left out of matching."""


@benign.command("add")
@node_dir
@click.argument("name")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def benign_add(directory: Path, name: str, file: Path) -> None:
    """Add (or replace) the list NAME from FILE: one entry per line (an address or network,
    a host name, any other value), or a MISP warninglist (JSON)."""
    try:
        lst = parse_list(name, file.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{file}: {exc}") from None
    node = Node.open(directory)
    try:
        lists = {n: b.to_json() for n, b in _operator_lists(node).items()}
        lists[name] = lst.to_json()
        node.store.set_setting(LISTS_SETTING, json.dumps(lists, sort_keys=True))
    finally:
        node.close()
    err.print(f"benign list {name!r}: {len(lst)} entr{'y' if len(lst) == 1 else 'ies'}")


@benign.command("list")
@node_dir
def benign_list(directory: Path) -> None:
    """Print the lists (built-in ones first) and how many entries each holds."""
    node = Node.open(directory)
    try:
        for lst in node_benign(node).lists:
            click.echo(f"{lst.name}\t{len(lst)}")
    finally:
        node.close()


@benign.command("remove")
@node_dir
@click.argument("name")
def benign_remove(directory: Path, name: str) -> None:
    """Remove the operator's list NAME (built-in lists stay)."""
    node = Node.open(directory)
    try:
        lists = {n: b.to_json() for n, b in _operator_lists(node).items()}
        if name not in lists:
            raise KizunaError(f"no benign list {name!r} (see: kizuna benign list DIR)")
        del lists[name]
        node.store.set_setting(LISTS_SETTING, json.dumps(lists, sort_keys=True))
    finally:
        node.close()
