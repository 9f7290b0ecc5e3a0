"""Sync with peers: pull what they publish to us, push what we may share with them.

Pull: page through the peer's collection with ``added_after``/``next``; each page is ingested
as the peer's organization (validated like any POST, gated by what that organization may write)
and the cursor (the peer's ``date_added`` of the page's last object) is committed in the same
transaction, so a crash at any moment resumes with no loss and no duplicate.

Push: page through our collection *as the peer's organization* (the same gate as an API read,
field redaction included), skip what came from that peer, POST the rest; the cursor (our
``added_us``) advances only when the peer's status confirms the envelope.

Loops end because a version (id, ``modified``) is never stored twice, and what came from a
peer is never pushed back to it.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
import msgspec

from kizuna.errors import KizunaError
from kizuna.node import Node, ingest, read_page
from kizuna.policy.principal import Kind, Principal
from kizuna.store.types import Collection, ObjectQuery, Peer, SyncCursor, VersionMatch
from kizuna.sync.client import Page as RemotePage
from kizuna.sync.client import SyncError, TaxiiClient

log = logging.getLogger("kizuna.sync")

Progress = Callable[[str, int], None]


@dataclass
class LinkReport:
    """What one pull or push between two collections did."""

    peer: str
    direction: str
    local: str
    remote: str
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    sent: int = 0
    refused: int = 0
    error: str | None = None
    reasons: list[str] = field(default_factory=list)


def peer_principal(node: Node, peer: Peer) -> Principal:
    org = node.store.org(peer.org)
    if org is None:
        raise KizunaError(f"peer {peer.name} acts for organization {peer.org!r}, which is missing")
    # Its own kind of principal: no account of this node, whatever its name, shares its key.
    return node.principal_for_org(org, peer.name, peer=peer.name, kind=Kind.SYNC)


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


def pull(
    node: Node,
    peer: Peer,
    remote: str,
    local: str,
    client: TaxiiClient,
    *,
    page_size: int = 1000,
    progress: Progress | None = None,
) -> LinkReport:
    report = LinkReport(peer.name, "pull", local, remote)
    collection = node.collection(local)
    principal = peer_principal(node, peer)
    if not node.snapshot().gate.access(principal, collection.id).can_write:
        raise KizunaError(
            f"peer {peer.name} acts for {peer.org}, which may not write to {local}: "
            f"kizuna grant DIR {local} --org {peer.org!r} --write"
        )
    after = node.store.cursor(peer.name, "pull", collection.id, remote)
    # The next page is fetched while this one is validated and stored (the peer serves it
    # in its own process); pages are still ingested strictly in order.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="kizuna-prefetch") as prefetch:
        pending = prefetch.submit(client.get_objects, remote, added_after=after, limit=page_size)
        _pull_pages(
            node,
            peer,
            remote,
            collection,
            principal,
            client,
            report,
            prefetch,
            pending,
            after,
            page_size,
            progress,
        )
    log.info(
        "pull %s <- %s:%s: %d received, %d stored, %d duplicates, %d rejected",
        local,
        peer.name,
        remote,
        report.received,
        report.stored,
        report.duplicates,
        report.rejected,
    )
    return report


def _pull_pages(
    node: Node,
    peer: Peer,
    remote: str,
    collection: Collection,
    principal: Principal,
    client: TaxiiClient,
    report: LinkReport,
    prefetch: ThreadPoolExecutor,
    pending: Future[RemotePage],
    after: str | None,
    page_size: int,
    progress: Progress | None,
) -> None:
    local = collection.id
    while True:
        page = pending.result()
        if not page.objects:
            break
        more = page.more and page.next is not None
        if more:
            pending = prefetch.submit(
                client.get_objects, remote, next_token=page.next, limit=page_size
            )
        objects = _with_missing_markings(node, client, remote, page.objects)
        position = page.last_added or after
        cursor = None
        if position is not None:
            cursor = SyncCursor(peer.name, "pull", collection.id, remote, position)
        results = ingest(
            node.store,
            node.snapshot(),
            principal,
            collection,
            objects,
            principal.origin,
            cursor=cursor,
        )
        report.received += len(page.objects)
        for r in results:
            if r.stored:
                report.stored += 1
            elif r.ok:
                report.duplicates += 1
            else:
                report.rejected += 1
                if len(report.reasons) < 20:
                    report.reasons.append(f"{r.id}: {r.message}")
                log.warning("pull %s from %s: rejected %s: %s", local, peer.name, r.id, r.message)
        if progress:
            progress(f"pull {peer.name}:{remote}", len(page.objects))
        after = position
        if not more:
            break


def _with_missing_markings(
    node: Node, client: TaxiiClient, remote: str, objects: list[bytes]
) -> list[bytes]:
    """*objects*, preceded by the marking-definitions they use that this node lacks.

    A publisher may list a marking-definition after the objects it marks, or in an earlier
    page than ours; fetching it from the same remote collection keeps those objects from being
    refused as marked with an unknown marking.
    """
    known = set(node.snapshot().markings)
    wanted: set[str] = set()
    for body in objects:
        obj = msgspec.json.decode(body)
        if not isinstance(obj, dict):
            continue
        if obj.get("type") == "marking-definition" and isinstance(obj.get("id"), str):
            known.add(obj["id"])
        wanted.update(r for r in obj.get("object_marking_refs") or () if isinstance(r, str))
        for entry in obj.get("granular_markings") or ():
            if isinstance(entry, dict) and isinstance(entry.get("marking_ref"), str):
                wanted.add(entry["marking_ref"])
    missing = sorted(wanted - known)
    if not missing:
        return objects
    fetched: list[bytes] = []
    for start in range(0, len(missing), 100):
        page = client.get_objects(remote, ids=missing[start : start + 100], limit=100)
        fetched.extend(page.objects)
    log.info(
        "fetched %d of %d missing marking-definition(s) from %s", len(fetched), len(missing), remote
    )
    return fetched + objects


def push(
    node: Node,
    peer: Peer,
    local: str,
    remote: str,
    client: TaxiiClient,
    *,
    page_size: int = 1000,
    progress: Progress | None = None,
) -> LinkReport:
    report = LinkReport(peer.name, "push", local, remote)
    collection = node.collection(local)
    principal = peer_principal(node, peer)
    if not node.snapshot().gate.access(principal, collection.id).can_read:
        raise KizunaError(
            f"peer {peer.name} acts for {peer.org}, which may not read {local}, so nothing may be "
            f"pushed to it: kizuna grant DIR {local} --org {peer.org!r} --read"
        )
    raw = node.store.cursor(peer.name, "push", collection.id, remote)
    after = int(raw) if raw else None
    back = f"peer:{peer.org}:"
    while True:
        page = read_page(
            node.store,
            node.snapshot(),
            principal,
            collection,
            ObjectQuery(collection.id, after_us=after, versions=VersionMatch(all=True)),
            page_size,
        )
        if not page.items:
            break
        outgoing = [i.body for i in page.items if not i.row.origin.startswith(back)]
        if outgoing:
            result = client.add_objects(remote, outgoing)
            report.sent += len(outgoing) - len(result.failures)
            report.refused += len(result.failures)
            for f in result.failures[:20]:
                report.reasons.append(f"{f.get('id')}: {f.get('message')}")
                log.warning(
                    "push %s to %s: peer refused %s: %s",
                    local,
                    peer.name,
                    f.get("id"),
                    f.get("message"),
                )
        last = page.last_added
        assert last is not None
        node.store.set_cursor(SyncCursor(peer.name, "push", collection.id, remote, str(last)))
        after = last
        if progress:
            progress(f"push {peer.name}:{remote}", len(page.items))
        if not page.more:
            break
    log.info(
        "push %s -> %s:%s: %d sent, %d refused by the peer",
        local,
        peer.name,
        remote,
        report.sent,
        report.refused,
    )
    return report


def sync(
    node: Node,
    *,
    only: str | None = None,
    transport: httpx.BaseTransport | None = None,
    progress: Progress | None = None,
    client_options: dict[str, Any] | None = None,
    page_size: int = 1000,
) -> list[LinkReport]:
    """One sync round with every peer (or just *only*): pulls first, then pushes."""
    reports: list[LinkReport] = []
    peers = [p for p in node.store.peers() if only is None or p.name == only]
    if only is not None and not peers:
        raise KizunaError(f"no peer {only!r} (see: kizuna peer list)")
    for peer in peers:
        with client_for(peer, transport, **(client_options or {})) as client:
            for remote, local in peer.pull:
                reports.append(_guard(pull, node, peer, local, remote, client, progress, page_size))
            for local, remote in peer.push:
                reports.append(_guard(push, node, peer, local, remote, client, progress, page_size))
    return reports


def _guard(
    step: Callable[..., LinkReport],
    node: Node,
    peer: Peer,
    local: str,
    remote: str,
    client: TaxiiClient,
    progress: Progress | None,
    page_size: int,
) -> LinkReport:
    """Run one link; a failure is reported (and logged) without stopping the round."""
    direction = "pull" if step is pull else "push"
    empty = LinkReport(peer.name, direction, local, remote)
    try:
        if step is pull:
            return pull(node, peer, remote, local, client, progress=progress, page_size=page_size)
        return push(node, peer, local, remote, client, progress=progress, page_size=page_size)
    except (SyncError, KizunaError) as exc:
        message = exc.message if isinstance(exc, KizunaError) else str(exc)
        log.error(
            "%s %s %s<->%s failed: %s",
            empty.direction,
            empty.peer,
            empty.local,
            empty.remote,
            message,
        )
        empty.error = message
        return empty
