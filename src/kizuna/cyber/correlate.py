"""Correlation: what else carries the values an object carries, through the gate.

:func:`related` reads the object as the principal may see it (the latest version visible to
them, in any collection they may read), takes its observables, and asks the store's value
index which stored versions carry the same values: the index answers the coarse gate in SQL
(collections the principal may read, marking sets they may see there), and every candidate
is then read through the fine gate (``kizuna.node.read_page``: the latest visible version,
fields under granular markings removed) and kept only if what the principal receives still
carries the value. So an object the principal may not see is neither found nor counted, and
neither is a value in a field hidden from them.

Relations: ``same value``; ``inside network`` (the other object carries a network that holds
this address or network); ``address in network`` (this object's network holds an IPv4
address the other carries); ``same file under another hash`` (a file-like object that carries
this hash carries another hash too: objects with that other hash relate, through it).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

import msgspec

from kizuna.cyber.benign import Benign
from kizuna.cyber.observables import Observable, observables
from kizuna.cyber.values import holder_keys, network_range, value_key
from kizuna.errors import BadRequest, NotFound
from kizuna.node import Node, read_page
from kizuna.policy.principal import Principal
from kizuna.store.types import ObjectQuery

__all__ = [
    "HASH_LINKS",
    "HOLDS",
    "INSIDE",
    "OTHER_HASH",
    "SAME",
    "Related",
    "RelatedPage",
    "related",
]

SAME: Final = "same value"
INSIDE: Final = "inside network"
HOLDS: Final = "address in network"
OTHER_HASH: Final = "same file under another hash"
#: File-like objects carrying a hash whose other hashes are looked up (at most this many).
HASH_LINKS: Final = 100
_FILE_LIKE: Final = frozenset({"file", "artifact", "x509-certificate"})


@dataclass(frozen=True, slots=True)
class Related:
    """One related object: which of this object's values relates it, and how."""

    object_id: str
    type: str
    collection_id: str
    relation: str
    value: Observable  # this object's value
    theirs: Observable  # the other object's value
    via: str | None = None  # the object that tied the hashes together
    benign: str | None = None  # the known-benign list that holds the value

    def to_json(self) -> dict[str, Any]:
        """The form ``kizuna related --json``, the TAXII extension and the UI give."""
        out: dict[str, Any] = {
            "object": self.object_id,
            "type": self.type,
            "collection": self.collection_id,
            "relation": self.relation,
            "value": {"kind": self.value.kind, "value": self.value.value, "path": self.value.where},
            "theirs": {
                "kind": self.theirs.kind,
                "value": self.theirs.value,
                "path": self.theirs.where,
            },
        }
        if self.via:
            out["via"] = self.via
        if self.benign:
            out["benign"] = self.benign
        return out


@dataclass(frozen=True, slots=True)
class RelatedPage:
    items: list[Related]
    #: The position to ask from for the next page (None: no more).
    next: int | None


@dataclass(frozen=True, slots=True)
class _Want:
    relation: str
    mine: Observable
    via: str | None = None
    #: For HOLDS: the network whose addresses qualify.
    network: Any = None
    #: For SAME / OTHER_HASH / INSIDE: the (kind, value) the other object must carry.
    theirs: tuple[str, str] | None = None


def _visible(node: Node, principal: Principal, ids: Iterable[str]) -> dict[tuple[str, str], Any]:
    """(collection, id) -> the object as *principal* receives its latest visible version."""
    readable = node.snapshot().readable(principal)
    placed = [
        (cid, stix_id)
        for stix_id, cid, _ in node.store.id_placements(sorted(set(ids)))
        if cid in readable
    ]
    return _released(node, principal, placed)


def _released(
    node: Node, principal: Principal, placed: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], Any]:
    """(collection, id) -> the object as *principal* receives its latest visible version
    there, for each (collection, id) of *placed* (those it may not see are left out): the
    fine pass of the gate, through ``read_page``."""
    snap = node.snapshot()
    by_collection: dict[str, set[str]] = {}
    for cid, stix_id in placed:
        by_collection.setdefault(cid, set()).add(stix_id)
    out: dict[tuple[str, str], Any] = {}
    for cid, found_ids in by_collection.items():
        collection = snap.collection(cid)
        if collection is None:
            continue
        found = sorted(found_ids)
        for start in range(0, len(found), 500):
            chunk = tuple(found[start : start + 500])
            page = read_page(
                node.store, snap, principal, collection, ObjectQuery(cid, ids=chunk), len(chunk)
            )
            for item in page.items:
                out[(cid, item.row.stix_id)] = msgspec.json.decode(item.body)
    return out


def _wants(mine: list[Observable]) -> tuple[dict[int, list[_Want]], list[tuple[int, int, _Want]]]:
    keyed: dict[int, list[_Want]] = {}
    ranges: list[tuple[int, int, _Want]] = []
    for o in mine:
        keyed.setdefault(value_key(o.kind, o.value), []).append(
            _Want(SAME, o, theirs=(o.kind, o.value))
        )
        if o.kind.startswith(("ipv4-", "ipv6-")):
            for key, net in zip(holder_keys(o.kind, o.value), _supernets(o), strict=True):
                keyed.setdefault(key, []).append(_Want(INSIDE, o, theirs=net))
        if o.kind == "ipv4-net":
            span = network_range(o.value)
            if span is not None:
                ranges.append((*span, _Want(HOLDS, o, network=ipaddress.ip_network(o.value))))
    return keyed, ranges


def _supernets(o: Observable) -> list[tuple[str, str]]:
    net = ipaddress.ip_network(o.value, strict=False)
    family = f"ipv{net.version}-net"
    return [(family, net.supernet(new_prefix=p).with_prefixlen) for p in range(net.prefixlen)]


def _hash_links(
    node: Node, principal: Principal, object_id: str, mine: list[Observable]
) -> dict[int, list[_Want]]:
    """Wants for the other hashes of file-like objects that carry one of *mine*'s hashes."""
    hashes = [o for o in mine if o.kind.startswith("hash:")]
    if not hashes:
        return {}
    snap = node.snapshot()
    entries = node.store.value_entries(
        [value_key(o.kind, o.value) for o in hashes], snap.readable(principal), limit=HASH_LINKS * 4
    )
    ids = {e[3] for e in entries if e[3] != object_id and e[3].split("--")[0] in _FILE_LIKE}
    have = {(o.kind, o.value) for o in mine}
    out: dict[int, list[_Want]] = {}
    for (_, link_id), obj in sorted(_visible(node, principal, sorted(ids)[:HASH_LINKS]).items()):
        theirs = observables(obj)
        shared = [o for o in hashes if any((t.kind, t.value) == (o.kind, o.value) for t in theirs)]
        if not shared:
            continue
        for t in theirs:
            if t.kind.startswith("hash:") and (t.kind, t.value) not in have:
                want = _Want(OTHER_HASH, shared[0], via=link_id, theirs=(t.kind, t.value))
                out.setdefault(value_key(t.kind, t.value), []).append(want)
    return out


def _matches(want: _Want, theirs: list[Observable]) -> Observable | None:
    for t in theirs:
        if want.network is not None:
            if t.kind == "ipv4-addr" and ipaddress.ip_address(t.value) in want.network:
                return t
        elif want.theirs == (t.kind, t.value):
            return t
    return None


def related(
    node: Node,
    principal: Principal,
    object_id: str,
    *,
    limit: int = 100,
    after: int = -1,
    benign: Benign | None = None,
) -> RelatedPage:
    """A page of the objects related to *object_id*, in the order they were stored.

    NotFound when the principal may see no version of the object (as when there is none).
    """
    if node.store.value_keys is None:
        raise BadRequest(
            "this node does not keep the value index (value_index = false in kizuna.toml): "
            "set it to true; the index is filled when the node next opens"
        )
    found = _visible(node, principal, [object_id])
    if not found:
        raise NotFound(f"no object {object_id!r} on this node")
    mine = list(dict.fromkeys(o for obj in found.values() for o in observables(obj)))
    keyed, ranges = _wants(mine)
    for key, wants in _hash_links(node, principal, object_id, mine).items():
        keyed.setdefault(key, []).extend(wants)
    readable = node.snapshot().readable(principal)
    items: list[Related] = []
    position = after
    # Where the page ends, once it holds `limit` items: (position, how many). The page says
    # there is more only once a related object past it is found, so that `next` counts only
    # what the principal may see (an entry of an old version, or of a value the fine gate
    # removed, is no reason to say so).
    cut: tuple[int, int] | None = None
    # A little more than a page: the object itself and the candidates the fine pass drops
    # would otherwise cost a second round for most pages.
    fetch = max(limit + limit // 4 + 2, 64)
    while True:
        entries = node.store.value_entries(list(keyed), readable, after_us=position, limit=fetch)
        spans = {}
        for lo, hi, want in ranges:
            for e in node.store.value_entries(
                key_range=(lo, hi), readable=readable, after_us=position, limit=fetch
            ):
                entries.append(e)
                spans[e[1]] = want
        if not entries:
            break
        entries.sort(key=lambda e: e[1])
        entries = entries[:fetch]
        # The entries passed the coarse gate in SQL; only this page's candidates go
        # through the fine pass.
        objects = _released(node, principal, {(e[2], e[3]) for e in entries if e[3] != object_id})
        for n, (key, added, cid, stix_id) in enumerate(entries):
            position = added
            obj = objects.get((cid, stix_id))
            if obj is not None:
                theirs = observables(obj)
                wants = [spans[added]] if added in spans else keyed.get(key, [])
                for want in wants:
                    if want.via == stix_id:
                        continue  # the object that tied the hashes relates by the same value
                    hit = _matches(want, theirs)
                    if hit is not None:
                        mark = benign.check(want.mine) if benign is not None else None
                        items.append(
                            Related(
                                stix_id,
                                str(obj.get("type")),
                                cid,
                                want.relation,
                                want.mine,
                                hit,
                                want.via,
                                mark,
                            )
                        )
            if cut is not None and len(items) > cut[1]:
                return RelatedPage(_unique(items[: cut[1]]), cut[0])
            last_of_version = n + 1 == len(entries) or entries[n + 1][1] != added
            if cut is None and len(items) >= limit and last_of_version:
                cut = (position, len(items))
        if len(entries) < fetch:
            break
    return RelatedPage(_unique(items if cut is None else items[: cut[1]]), None)


def _unique(items: list[Related]) -> list[Related]:
    return list(dict.fromkeys(items))
