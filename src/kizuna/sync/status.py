"""What an operator asks about peers: how each link's last round went, and where its cursor is.

``kizuna peer status`` shows :func:`peer_status`; ``kizuna peer reset`` calls
:func:`reset_cursors`. A pull cursor is the peer's ``date_added`` of the last version stored
here; a push cursor is this node's ``date_added`` of the last version the peer confirmed.
"""

from __future__ import annotations

from dataclasses import dataclass

from kizuna.errors import KizunaError, NotFound, TimestampError
from kizuna.node import Node
from kizuna.stix.timestamps import format_micros, to_micros
from kizuna.store.types import Peer, SyncCursor, SyncRejection, SyncRound

__all__ = ["LinkStatus", "PeerStatus", "peer_status", "reset_cursors"]


@dataclass(frozen=True, slots=True)
class LinkStatus:
    direction: str
    #: The local collection: its alias when it has one, else its id.
    local: str
    remote: str
    #: The cursor as a date (``None``: the next round starts from the beginning).
    cursor: str | None
    last_round: SyncRound | None


@dataclass(frozen=True, slots=True)
class PeerStatus:
    peer: Peer
    links: list[LinkStatus]
    #: The newest rejections of this peer's rounds, newest first.
    rejections: list[SyncRejection]


def _peers(node: Node, name: str | None) -> list[Peer]:
    peers = [p for p in node.store.peers() if name is None or p.name == name]
    if name is not None and not peers:
        raise NotFound(f"no peer {name!r} (see: kizuna peer list)")
    return peers


def _links(peer: Peer) -> list[tuple[str, str, str]]:
    """(direction, local, remote) of each link, as configured."""
    return [("pull", local, remote) for remote, local in peer.pull] + [
        ("push", local, remote) for local, remote in peer.push
    ]


def _collection_id(node: Node, local: str) -> str | None:
    try:
        return node.collection(local).id
    except KizunaError:
        return None


def _label(node: Node, local: str) -> str:
    try:
        return node.collection(local).alias or local
    except KizunaError:
        return local


def _shown(direction: str, position: str | None) -> str | None:
    """A cursor as a date: push positions are microseconds of this node's clock."""
    if position is None or direction == "pull" or not position.isdigit():
        return position
    return format_micros(int(position))


def peer_status(node: Node, name: str | None = None, rejections: int = 20) -> list[PeerStatus]:
    """Each peer's (or *name*'s) links, their cursors and last rounds, its newest rejections."""
    out = []
    for peer in _peers(node, name):
        cursors = {
            (c.direction, c.local_collection, c.remote_collection): c.position
            for c in node.store.sync_cursors(peer.name)
        }
        rounds = {
            (r.direction, r.local_collection, r.remote_collection): r
            for r in node.store.sync_rounds(peer.name)
        }
        links = []
        for direction, local, remote in _links(peer):
            cid = _collection_id(node, local)
            position = cursors.get((direction, cid or local, remote))
            links.append(
                LinkStatus(
                    direction,
                    _label(node, local),
                    remote,
                    _shown(direction, position),
                    rounds.get((direction, local, remote)),
                )
            )
        out.append(PeerStatus(peer, links, node.store.sync_rejections(peer.name, rejections)))
    return out


def reset_cursors(
    node: Node, name: str, since: str | None = None, direction: str | None = None
) -> list[tuple[str, str, str, str | None, str | None]]:
    """Set the cursors of peer *name*'s links (only *direction*'s if given) to *since*.

    Without *since*, the cursors go: the next round starts from the beginning (what is
    already stored counts as duplicates). Returns (direction, local, remote, old, new) per
    link, the positions shown as dates.
    """
    micros = None
    if since is not None:
        try:
            micros = to_micros(since)
        except TimestampError as exc:
            raise KizunaError(f"--since: {exc}") from None
    (peer,) = _peers(node, name)
    changed = []
    for link_direction, local, remote in _links(peer):
        if direction is not None and link_direction != direction:
            continue
        cid = _collection_id(node, local)
        if cid is None:
            raise NotFound(f"peer {name}: no local collection {local!r}")
        old = node.store.cursor(peer.name, link_direction, cid, remote)
        if micros is None:
            node.store.delete_cursor(peer.name, link_direction, cid, remote)
            new = None
        else:
            new = format_micros(micros) if link_direction == "pull" else str(micros)
            node.store.set_cursor(SyncCursor(peer.name, link_direction, cid, remote, new))
        changed.append(
            (
                link_direction,
                _label(node, local),
                remote,
                _shown(link_direction, old),
                _shown(link_direction, new),
            )
        )
    return changed
