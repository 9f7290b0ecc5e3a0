"""Push one local collection to a remote one, within the round's budget.

The local collection is read *as the peer's organization* (the same gate as an API read,
field redaction included); versions that came from a node of that organization are skipped;
the rest are POSTed, and the cursor (our ``added_us``) advances only when the peer's status
confirms the envelope.
"""

from __future__ import annotations

import logging

from kizuna.errors import KizunaError, SyncError
from kizuna.node import read_page
from kizuna.policy.principal import origin_org
from kizuna.store.types import ObjectQuery, SyncCursor, VersionMatch
from kizuna.sync._link import LinkReport, Round

log = logging.getLogger("kizuna.sync")


def push(rnd: Round, report: LinkReport) -> None:
    """Push ``report.local`` to the peer's collection ``report.remote``, counting in *report*."""
    node, peer = rnd.node, rnd.peer
    local, remote = report.local, report.remote
    collection = node.collection(local)
    if not node.snapshot().gate.access(rnd.principal, collection.id).can_read:
        raise KizunaError(
            f"peer {peer.name} acts for {peer.org}, which may not read {local}, so nothing may be "
            f"pushed to it: kizuna grant DIR {local} --org {peer.org!r} --read"
        )
    raw = node.store.cursor(peer.name, "push", collection.id, remote)
    report.cursor = raw
    if raw is not None and not raw.isdigit():
        raise SyncError(
            f"the stored push cursor {raw!r} is not a position of this node: set it with "
            f"kizuna peer reset DIR {peer.name} [--since TIMESTAMP]"
        )
    after = int(raw) if raw else None
    while True:
        page = read_page(
            node.store,
            node.snapshot(),
            rnd.principal,
            collection,
            ObjectQuery(collection.id, after_us=after, versions=VersionMatch(all=True)),
            rnd.page_size,
        )
        if not page.items:
            break
        rnd.budget.spend_page()
        report.pages += 1
        # Never back to a node of the organization a version came from: its whole name
        # compared (a prefix would take organization "A" for "A:B").
        outgoing = [i.body for i in page.items if origin_org(i.row.origin) != peer.org]
        if outgoing:
            result = rnd.client.add_objects(remote, outgoing)
            failures = result.failures[: len(outgoing)]
            report.sent += len(outgoing) - len(failures)
            for f in failures:
                oid = f.get("id")
                report.reject(oid if isinstance(oid, str) else None, str(f.get("message"))[:500])
        last = page.last_added
        assert last is not None
        report.cursor = str(last)
        node.store.set_cursor(SyncCursor(peer.name, "push", collection.id, remote, str(last)))
        after = last
        if rnd.progress:
            rnd.progress(f"push {peer.name}:{remote}", len(page.items))
        if not page.more:
            break
        bound = rnd.budget.exhausted()
        if bound is not None:
            report.stopped = f"the round reached {bound}"
            break
    log.info(
        "push %s -> %s:%s: %d sent, %d refused by the peer",
        local,
        peer.name,
        remote,
        report.sent,
        report.refused,
    )
