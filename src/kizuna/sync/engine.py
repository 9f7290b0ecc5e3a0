"""Sync with peers: pull what they publish to us, push what we may share with them.

A round gives each peer a thread of its own and a :class:`Budget` of its own (pages, bytes,
seconds: the ``sync_round_*`` settings), so a peer that loops, hangs, errors or sends garbage
ends its own round and delays no other. Within a peer's round its links run in order, pulls
first: :func:`pull` (sync/_pull.py) and :func:`push` (sync/_push.py), both ``(round,
report)``. A link that fails is reported and logged; the next link goes on. What each link did
is kept in the store for ``kizuna peer status``.

Loops between nodes end because a version (id, ``modified``) is never stored twice, and what
came from a peer is never pushed back to it.
"""

from __future__ import annotations

import logging
import ssl
import threading
from collections.abc import Callable
from typing import Any

import httpx

from kizuna.errors import KizunaError
from kizuna.node import Node
from kizuna.policy.principal import Principal
from kizuna.stix.timestamps import now_micros
from kizuna.store.types import Peer, SyncRound
from kizuna.sync._limits import Budget, Limits
from kizuna.sync._link import LinkReport, Progress, Round
from kizuna.sync._pull import pull
from kizuna.sync._push import push
from kizuna.sync.client import TaxiiClient

log = logging.getLogger("kizuna.sync")

__all__ = ["STEPS", "Limits", "LinkReport", "client_for", "peer_principal", "peer_round", "sync"]

#: Each direction's step: fills the report of one link of a round.
STEPS: dict[str, Callable[[Round, LinkReport], None]] = {"pull": pull, "push": push}


def peer_principal(node: Node, peer: Peer) -> Principal:
    org = node.store.org(peer.org)
    if org is None:
        raise KizunaError(f"peer {peer.name} acts for organization {peer.org!r}, which is missing")
    # Its own kind of principal: no account of this node, whatever its name, shares its key.
    return node.principal_for(peer)


def client_for(
    peer: Peer, transport: httpx.BaseTransport | None = None, **kwargs: Any
) -> TaxiiClient:
    """A client for *peer*; TLS verified against its CA file when one is configured."""
    verify: ssl.SSLContext | bool = True
    if peer.ca_file:
        try:
            verify = ssl.create_default_context(cafile=peer.ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise KizunaError(
                f"peer {peer.name}: cannot read CA file {peer.ca_file}: {exc}"
            ) from None
    return TaxiiClient(
        _api_root(peer.url), peer.token, transport=transport, verify=verify, **kwargs
    )


def _api_root(url: str) -> str:
    url = url.rstrip("/")
    return url if url.endswith("/api") else url + "/api"


def sync(
    node: Node,
    *,
    only: str | None = None,
    transport: httpx.BaseTransport | None = None,
    progress: Progress | None = None,
    client_options: dict[str, Any] | None = None,
    page_size: int = 1000,
    limits: Limits | None = None,
) -> list[LinkReport]:
    """One sync round with every peer (or just *only*), each peer in its own thread."""
    peers = [p for p in node.store.peers() if only is None or p.name == only]
    if only is not None and not peers:
        raise KizunaError(f"no peer {only!r} (see: kizuna peer list)")
    results: dict[str, list[LinkReport]] = {}

    def run(peer: Peer) -> None:
        results[peer.name] = peer_round(
            node,
            peer,
            transport=transport,
            progress=progress,
            client_options=client_options,
            page_size=page_size,
            limits=limits,
        )

    threads = [
        threading.Thread(target=run, args=(p,), name=f"kizuna-sync-{p.name}") for p in peers[1:]
    ]
    for thread in threads:
        thread.start()
    if peers:
        run(peers[0])
    for thread in threads:
        thread.join()  # each ends by its own round's deadline
    return [r for p in peers for r in results.get(p.name, [])]


def peer_round(
    node: Node,
    peer: Peer,
    *,
    transport: httpx.BaseTransport | None = None,
    progress: Progress | None = None,
    client_options: dict[str, Any] | None = None,
    page_size: int = 1000,
    limits: Limits | None = None,
) -> list[LinkReport]:
    """One round with *peer*: its pulls, then its pushes, within one budget."""
    links = [("pull", local, remote) for remote, local in peer.pull]
    links += [("push", local, remote) for local, remote in peer.push]
    reports = [LinkReport(peer.name, d, local, remote) for d, local, remote in links]
    budget = Budget(limits or Limits.of(node.config))
    try:
        principal = peer_principal(node, peer)
        client = client_for(peer, transport, budget=budget, **(client_options or {}))
    except KizunaError as exc:
        for report in reports:
            _finish(node, report, exc)
        return reports
    with client:
        rnd = Round(node, peer, principal, client, page_size, progress)
        for report in reports:
            bound = budget.exhausted()
            if bound is not None:
                report.stopped = f"the round reached {bound} before this link"
                _finish(node, report)
                continue
            try:
                STEPS[report.direction](rnd, report)
            except Exception as exc:  # the link fails, the round goes on
                _finish(node, report, exc)
            else:
                _finish(node, report)
    return reports


def _finish(node: Node, report: LinkReport, exc: Exception | None = None) -> None:
    """Log how the link ended and keep its report for ``kizuna peer status``."""
    link = f"{report.direction} {report.peer} {report.local}<->{report.remote}"
    if exc is not None:
        if isinstance(exc, KizunaError):  # SyncError among them: the peer's failure, worded
            report.error = exc.message
        else:
            report.error = f"{type(exc).__name__}: {exc}"
            log.error("%s: unexpected failure", link, exc_info=exc)
    if report.error is not None:
        log.error("%s failed: %s", link, report.error)
    elif report.stopped is not None:
        log.warning("%s stopped: %s; the next round goes on from the cursor", link, report.stopped)
    report.finished_us = now_micros()
    try:
        node.store.record_sync_round(
            SyncRound(
                peer=report.peer,
                direction=report.direction,
                local_collection=report.local,
                remote_collection=report.remote,
                started_us=report.started_us,
                finished_us=report.finished_us,
                pages=report.pages,
                received=report.received,
                stored=report.stored,
                duplicates=report.duplicates,
                rejected=report.rejected,
                sent=report.sent,
                refused=report.refused,
                error=report.error,
                stopped=report.stopped,
            ),
            report.rejections,
        )
    except Exception:  # the report is still returned and logged
        log.exception("%s: could not record the round", link)
