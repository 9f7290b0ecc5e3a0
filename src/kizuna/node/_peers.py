"""The peer nodes this node syncs with (``kizuna peer add``); kizuna.sync does the syncing."""

from __future__ import annotations

from kizuna.errors import BadRequest, NotFound
from kizuna.node._collections import Collections
from kizuna.node._names import check_name
from kizuna.store.types import Peer


class Peers(Collections):
    """A node's configured peers (what they pull and push names its collections)."""

    def add_peer(
        self,
        name: str,
        url: str,
        *,
        org: str,
        token: str,
        pull: list[tuple[str, str]] | None = None,
        push: list[tuple[str, str]] | None = None,
        ca_file: str = "",
    ) -> Peer:
        """Configure (or reconfigure) a peer node; collections may be given by id or alias.
        Its *name* follows :func:`~kizuna.node.check_name`."""
        check_name("peer", name)
        if self.store.org(org) is None:
            raise NotFound(
                f"no organization {org!r}: the peer acts for an organization of this node"
            )
        if not url.startswith(("http://", "https://")):
            raise BadRequest(f"peer URL {url!r} must start with http:// or https://")
        pulls = tuple((remote, self.collection(local).id) for remote, local in pull or [])
        pushes = tuple((self.collection(local).id, remote) for local, remote in push or [])
        peer = Peer(name, url.rstrip("/"), org, token, pulls, pushes, ca_file)
        self.store.add_peer(peer)
        return peer

    def peers(self) -> list[Peer]:
        """The configured peer nodes, by name."""
        return self.store.peers()

    def remove_peer(self, name: str) -> None:
        """Forget a peer node and where its syncs had got to."""
        if not self.store.remove_peer(name):
            raise NotFound(f"no peer {name!r} (kizuna peer list shows them)")
