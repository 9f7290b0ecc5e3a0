"""``kizuna search``: full-text search from the command line, as a user of the node (``--as``),
through the gate (:func:`kizuna.search.search`)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from kizuna._cli_common import err, node_dir
from kizuna.errors import NotFound
from kizuna.node import Node
from kizuna.search import search
from kizuna.stix.timestamps import format_micros

__all__ = ["search_command"]


@click.command("search")
@node_dir
@click.argument("query")
@click.option("--as", "as_user", default="admin", show_default=True, help="Search as this user.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.option("--type", "types", multiple=True, help="Only objects of this STIX type (repeatable).")
@click.option(
    "--collection", "collections", multiple=True,
    help="Only in this collection, by id or alias (repeatable).",
)
@click.option(
    "--limit", default=50, show_default=True, type=click.IntRange(1, 10_000),
    help="Print at most this many objects.",
)
def search_command(
    directory: Path,
    query: str,
    as_user: str,
    as_json: bool,
    types: tuple[str, ...],
    collections: tuple[str, ...],
    limit: int,
) -> None:
    """Print the objects this user may see whose text holds every word of QUERY.

    Names, descriptions, aliases, labels, external ids (T1059.001, CVE-2024-3400), patterns,
    observable values, catalog numbers and satellite names are searched, by substring and
    without regard to case, in any script (Japanese, Cyrillic, Latin). The latest version of
    each object the user may receive decides; newest first.
    """
    node = Node.open(directory)
    try:
        user = node.store.user(as_user)
        if user is None:
            raise NotFound(f"no user {as_user!r} (create one with: kizuna user add DIR NAME ORG)")
        snap = node.snapshot()
        principal = snap.principal_for(user)
        ids = []
        for ref in collections:
            c = snap.collection(ref)
            if c is None or not snap.gate.access(principal, c.id).can_read:
                raise NotFound(f"no collection {ref!r} that {as_user} may read")
            ids.append(c.id)
        result = search(
            node, principal, query, types=types, collections=ids, limit=limit,
            cap=max(limit, 1000), snap=snap,
        )
        for f in result.items:
            row = f.released.row
            name = f.obj.get("name")
            if as_json:
                out = {
                    "id": row.stix_id,
                    "type": row.type,
                    "collection": f.collection.id,
                    "name": name if isinstance(name, str) else None,
                    "date_added": format_micros(row.added_us),
                }
                click.echo(json.dumps(out, sort_keys=True, ensure_ascii=False))
            else:
                # A name may hold tabs, new lines or a terminal's escape sequences.
                shown = "".join(
                    ch if ch.isprintable() else " " for ch in (name if isinstance(name, str) else "")
                )
                click.echo(f"{row.stix_id}\t{f.collection.alias or f.collection.id}\t{shown}")
        count = f"{result.total}+" if result.capped else str(result.total)
        err.print(f"{count} object(s) found, {len(result.items)} shown", markup=False)
    finally:
        node.close()
