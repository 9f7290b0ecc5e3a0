"""Two writers post a marking-definition of one id at the same moment (docs/policy.md,
Rule 6: marking-definitions are immutable). Each envelope is judged before the write lock,
so both may be judged against a node that holds neither; whatever the order, one is stored
and the other refused, with what its envelope marked with it, and nothing of the refused one
is stored (not among the node's markings, not as a version). Over real HTTP on both stores,
and in a fixed interleaving at the node.
"""

from __future__ import annotations

import copy
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from kizuna.node import Node, check_batch, store_batch
from kizuna.stix.markings import releasability_id, releasability_marking
from kizuna.store.types import ObjectQuery, VersionMatch
from tests.conftest import postgres_database, serve
from tests.helpers import TAXII, envelope, indicator


@dataclass
class Racing:
    node: Node
    #: Two servers of the node, each with the node opened on its own (as two processes of
    #: ``kizuna serve --workers 2`` would be): camille posts to the first, aiko the second.
    urls: dict[str, str]
    cid: str
    tokens: dict[str, str]

    def post(self, who: str, objects: list[dict[str, Any]]) -> dict[str, Any]:
        r = httpx.post(
            f"{self.urls[who]}/api/collections/{self.cid}/objects/",
            content=envelope(objects),
            headers={
                "Authorization": f"Bearer {self.tokens[who]}",
                "Accept": TAXII,
                "Content-Type": TAXII,
            },
            timeout=60,
        )
        assert r.status_code == 202, r.text
        status: dict[str, Any] = r.json()
        return status


@pytest.fixture(params=["sqlite", "postgresql"])
def racing(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Racing]:
    with ExitStack() as stack:
        database = "" if request.param == "sqlite" else stack.enter_context(postgres_database())
        node, admin = Node.init(
            tmp_path / "node", name="race", org="NATO-CERT", country="BEL",
            communities=["NATO"], database=database,
        )  # fmt: skip
        stack.callback(node.close)
        node.add_org("FRA-CERT", "FRA")
        node.add_org("JPN-CERT", "JPN")
        c = node.add_collection("Shared")
        tokens = {"admin": admin}
        for user, org in (("camille", "FRA-CERT"), ("aiko", "JPN-CERT")):
            node.grant(c.id, org, read=True, write=True, max_tlp="amber")
            tokens[user] = node.add_user(user, org)
        other = Node.open(tmp_path / "node", database or None)
        stack.callback(other.close)
        urls = {"camille": stack.enter_context(serve(node)), "aiko": stack.enter_context(serve(other))}
        yield Racing(node, urls, c.id, tokens)


def statement(mid: str, text: str, rel: list[str]) -> dict[str, Any]:
    """A statement each writer marks REL TO its own country: neither sees the other's."""
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": mid,
        "created": "2026-05-01T00:00:00.000Z",
        "definition_type": "statement",
        "definition": {"statement": text},
        "object_marking_refs": [releasability_id(rel)] if rel else [],
    }


def envelope_of(who: str, mid: str, text: str) -> list[dict[str, Any]]:
    country = {"camille": "FRA", "aiko": "JPN"}[who]
    marked = indicator(name=f"marked by {who}")
    marked["object_marking_refs"] = [mid, releasability_id([country])]
    return [releasability_marking([country]), statement(mid, text, [country]), marked]


def versions_of(node: Node, cid: str, oid: str) -> list[bytes]:
    rows = node.store.query(ObjectQuery(cid, ids=(oid,), versions=VersionMatch(all=True)))
    return [r.body for r in rows]


def held_write_lock(node: Node, seconds: float) -> threading.Thread:
    """Hold the store's write lock for *seconds* in a thread of its own: POSTs sent
    meanwhile are judged, then wait to store (so both are judged before either stores,
    unless a server is slower than that to judge; in any order, the outcome below holds)."""
    started = threading.Event()

    def hold() -> None:
        with node.store.transaction():
            started.set()
            time.sleep(seconds)

    thread = threading.Thread(target=hold)
    thread.start()
    assert started.wait(10)
    return thread


@pytest.mark.parametrize("same_content", [True, False])
def test_two_posts_of_one_definition_at_once_store_one(
    racing: Racing, same_content: bool
) -> None:
    mid = f"marking-definition--{uuid.uuid4()}"
    texts = {"camille": "Copyright 2026 CERT-FR", "aiko": "Copyright 2026 CERT-FR"}
    if not same_content:
        texts["aiko"] = "Copyright 2026 JPCERT/CC"
    envelopes = {who: envelope_of(who, mid, text) for who, text in texts.items()}
    statuses: dict[str, dict[str, Any]] = {}

    def post(who: str) -> None:
        statuses[who] = racing.post(who, envelopes[who])

    lock = held_write_lock(racing.node, 3.0)
    threads = [threading.Thread(target=post, args=(who,)) for who in envelopes]
    for t in threads:
        t.start()
    lock.join()
    for t in threads:
        t.join(60)
    assert set(statuses) == {"camille", "aiko"}
    won = [who for who, s in statuses.items() if any(o["id"] == mid for o in s["successes"])]
    assert len(won) == 1, statuses
    [winner] = won
    [loser] = [who for who in statuses if who != winner]
    lost = statuses[loser]
    assert [f["id"] for f in lost["failures"]] == [mid, envelopes[loser][2]["id"]], lost
    assert "marking-definitions are immutable" in lost["failures"][0]["message"] or (
        "taken" in lost["failures"][0]["message"]
    )
    # What is stored is the winner's, once: among the markings and as the only version.
    node = racing.node
    winning = envelopes[winner][1]
    stored = node.store.marking_definition(mid)
    assert stored is not None and msgspec.json.decode(stored) == winning
    [version] = versions_of(node, racing.cid, mid)
    assert msgspec.json.decode(version) == winning
    assert versions_of(node, racing.cid, envelopes[loser][2]["id"]) == []
    assert len(versions_of(node, racing.cid, envelopes[winner][2]["id"])) == 1
    # The loser, sending its envelope again, gets the answer of one sent after the other.
    again = racing.post(loser, envelopes[loser])
    assert [f["id"] for f in again["failures"]] == [mid, envelopes[loser][2]["id"]]
    assert "taken" in again["failures"][0]["message"]
    assert [version] == versions_of(node, racing.cid, mid)


def test_a_definition_stored_while_an_envelope_was_judged_refuses_it(racing: Racing) -> None:
    """The interleaving fixed: both judged, then stored one after the other."""
    node = racing.node
    mid = f"marking-definition--{uuid.uuid4()}"
    snap = node.snapshot()
    c = node.collection(racing.cid)
    batches = {}
    for who, text in (("camille", "one"), ("aiko", "two")):
        user = node.store.user(who)
        assert user is not None
        principal = node.principal_for(user)
        raw = [msgspec.json.encode(o) for o in envelope_of(who, mid, text)]
        # A definition marked with the raced one is refused down the chain too.
        chained = copy.deepcopy(statement(f"marking-definition--{uuid.uuid4()}", "x", []))
        chained["object_marking_refs"] = [mid]
        raw.append(msgspec.json.encode(chained))
        batches[who] = check_batch(node.store, snap, principal, c, raw, principal.origin)
        assert len(batches[who].accepted) == 4
    results = {}
    for who in ("camille", "aiko"):
        with node.store.transaction() as tx:
            results[who] = store_batch(tx, batches[who])
    assert all(r.ok for r in results["camille"]), results["camille"]
    assert results["aiko"][0].ok  # the REL TO JPN definition is stored
    first, second = results["aiko"][1:3]
    assert not first.ok and "while this envelope was being judged" in first.message
    assert not second.ok and f"marking {mid} was refused" in second.message
    third = results["aiko"][3]
    assert not third.ok and f"marking {mid} was refused" in third.message
    stored = node.store.marking_definition(mid)
    assert stored is not None and msgspec.json.decode(stored)["definition"] == {"statement": "one"}
    chained_id = msgspec.json.decode(batches["aiko"].versions.items[-1].body)["id"]
    assert node.store.marking_definition(chained_id) is None
    assert versions_of(node, racing.cid, chained_id) == []


def test_a_releasability_definition_raced_by_its_twin_is_stored_as_a_version(
    racing: Racing,
) -> None:
    """A REL TO definition's id says its meaning: two copies of it mean the same, and the
    second is stored as one sent after the first would be (Rule 6: compared by meaning)."""
    node = racing.node
    snap = node.snapshot()
    c = node.collection(racing.cid)
    admin = node.store.user("admin")
    assert admin is not None
    principal = node.principal_for(admin)
    twin = releasability_marking(["FRA", "JPN"])
    other = {**twin, "created": "2026-06-01T00:00:00.000Z"}
    batches = [
        check_batch(node.store, snap, principal, c, [msgspec.json.encode(d)], principal.origin)
        for d in (twin, other)
    ]
    for batch in batches:
        with node.store.transaction() as tx:
            [result] = store_batch(tx, batch)
        assert result.ok and result.stored, result
    assert len(versions_of(node, racing.cid, twin["id"])) == 2
