"""A node pulling from a misbehaving peer and a good one at once (tests/sync/fakepeer.py).

For each way a peer can misbehave: the bad peer's round ends within its bounds with the
reason in its report and in ``kizuna peer status``, the good peer beside it delivers
everything, nothing the bad peer sent that is not a valid object is stored, and the cursor
only ever holds a date the checks accepted.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from kizuna.node import Node
from kizuna.stix.timestamps import to_micros
from kizuna.sync.engine import Limits, LinkReport, sync
from kizuna.sync.status import peer_status
from tests.conftest import serve
from tests.helpers import indicator
from tests.sync.fakepeer import FakePeer, added, fake_indicator, fake_peer
from tests.sync.federation import ids_in, load

LIMITS = Limits(
    max_pages=30,
    max_bytes=64 * 1024 * 1024,
    max_seconds=10.0,
    max_answer_bytes=256 * 1024,
    request_timeout=2.0,
)
OPTIONS = {"retries": 2, "backoff": 0.05}
PAGE = 10
GOOD_OBJECTS = 60


@dataclass
class Home:
    node: Node
    good_ids: set[str]
    bad: FakePeer


@contextmanager
def home_with(tmp_path: Path, bad: FakePeer) -> Iterator[Home]:
    """A node that pulls "shared" from a real Kizuna node and "c" from the fake *bad* peer."""
    nato, _ = Node.init(tmp_path / "nato", name="nato", org="NATO-CERT", country="BEL")
    shared = nato.add_collection("shared", alias="shared").id
    nato.add_org("JPN-CERT", "JPN", ["IP4"])
    nato.grant(shared, "JPN-CERT", read=True, write=False, max_tlp="amber")
    token = nato.add_user("jpn-node", "JPN-CERT", peer=True)
    good = [indicator(name=f"good {i}") for i in range(GOOD_OBJECTS)]
    load(nato, shared, good)
    home, _ = Node.init(tmp_path / "home", name="home", org="JPN-CERT", country="JPN")
    for alias, org, country in (("from-good", "NATO-CERT", "BEL"), ("from-bad", "BAD-ORG", "PRK")):
        cid = home.add_collection(alias, alias=alias).id
        home.add_org(org, country)
        home.grant(cid, org, read=False, write=True, max_tlp="red")
    with ExitStack() as stack:
        good_url = stack.enter_context(serve(nato))
        bad_url = stack.enter_context(fake_peer(bad))
        home.add_peer("good", good_url, org="NATO-CERT", token=token, pull=[("shared", "from-good")])
        home.add_peer("bad", bad_url, org="BAD-ORG", token="t", pull=[("c", "from-bad")])
        yield Home(home, {o["id"] for o in good}, bad)
    home.close()
    nato.close()


def round_with(home: Home, limits: Limits = LIMITS) -> tuple[LinkReport, LinkReport]:
    reports = sync(home.node, limits=limits, client_options=OPTIONS, page_size=PAGE)
    by = {r.peer: r for r in reports}
    good, bad = by["good"], by["bad"]
    assert good.error is None and good.stopped is None, good
    assert ids_in(home.node, "from-good") == home.good_ids
    return good, bad


#: mode -> (words of the error, or of the stop, in the bad peer's report)
MODES = {
    "loop_next": "repeats next",
    "backwards": "goes back",
    "endless": "sync_round_max_pages = 30",
    "nothing_new": "no progress",
    "more_forever": "goes back",
    "http500": "gave up after 3 attempts: HTTP 500",
    "garbage": "not the expected TAXII JSON",
    "not_envelope": "not the expected TAXII JSON",
    "truncated": "gave up after 3 attempts",
    "bad_dates": "is not a TAXII timestamp",
    "future_dates": "is in the future",
    "first_after_last": "is after",
    "bad_next": "not a usable token",
    "hang": "ReadTimeout",
    "trickle": "deadline",
    "huge": "larger than that",
    "gzip_bomb": "larger than that",
}


@pytest.mark.parametrize("mode", sorted(MODES))
def test_a_bad_peer_ends_its_own_round_and_harms_no_other(tmp_path: Path, mode: str) -> None:
    with home_with(tmp_path, FakePeer(mode)) as home:
        good, bad = round_with(home)
        said = bad.error if mode != "endless" else bad.stopped
        assert said is not None and MODES[mode] in said, (bad.error, bad.stopped)
        if mode == "endless":
            assert bad.error is None and bad.pages == LIMITS.max_pages
        if mode in ("hang", "trickle"):
            # The good peer's round did not wait for the one that hung.
            assert good.finished_us < bad.finished_us
        # Nothing but the fake peer's valid indicators was stored.
        fakes = {fake_indicator(i)["id"] for i in range(LIMITS.max_pages * PAGE)}
        assert ids_in(home.node, "from-bad") <= fakes
        # The cursor holds a date the checks accepted (or nothing).
        cursor = home.node.store.cursor("bad", "pull", home.node.collection("from-bad").id, "c")
        if cursor is not None:
            assert to_micros(cursor) <= to_micros(added(LIMITS.max_pages * PAGE))
        # The operator sees the same reason.
        (status,) = peer_status(home.node, "bad")
        (link,) = status.links
        assert link.last_round is not None
        assert (link.last_round.error or link.last_round.stopped) == said


def test_pages_before_the_misbehaviour_are_kept(tmp_path: Path) -> None:
    with home_with(tmp_path, FakePeer("loop_next")) as home:
        _, bad = round_with(home)
        assert bad.stored == PAGE and bad.pages == 2
        assert ids_in(home.node, "from-bad") == {fake_indicator(i)["id"] for i in range(PAGE)}


def test_a_peer_without_next_tokens_is_paged_by_its_dates(tmp_path: Path) -> None:
    with home_with(tmp_path, FakePeer("dates_only")) as home:
        _, bad = round_with(home)
        assert bad.error is None and bad.stopped is None and bad.pages == 5
        assert ids_in(home.node, "from-bad") == {fake_indicator(i)["id"] for i in range(50)}


def test_a_date_that_cannot_be_a_cursor_is_never_committed(tmp_path: Path) -> None:
    for mode in ("bad_dates", "future_dates", "first_after_last"):
        with home_with(tmp_path / mode, FakePeer(mode)) as home:
            round_with(home)
            cid = home.node.collection("from-bad").id
            assert home.node.store.cursor("bad", "pull", cid, "c") is None


def test_endless_pages_go_on_from_the_cursor_in_the_next_round(tmp_path: Path) -> None:
    with home_with(tmp_path, FakePeer("endless")) as home:
        round_with(home)
        first = ids_in(home.node, "from-bad")
        _, bad = round_with(home)
        assert bad.stored == LIMITS.max_pages * PAGE and bad.duplicates == 0
        assert len(ids_in(home.node, "from-bad") - first) == LIMITS.max_pages * PAGE


def test_a_peer_that_hangs_longer_than_the_round_is_cut_off_at_its_deadline(
    tmp_path: Path,
) -> None:
    patient = Limits(max_seconds=4.0, request_timeout=60.0)
    with home_with(tmp_path, FakePeer("hang")) as home:
        good, bad = round_with(home, patient)
        assert bad.error is not None and "sync_round_max_seconds = 4" in bad.error
        assert good.finished_us < bad.finished_us


def _deep(i: int, depth: int) -> bytes:
    """An indicator with a property nested *depth* deep (too deep for json.dumps)."""
    flat = json.dumps(fake_indicator(i, x_deep="here")).encode()
    return flat.replace(b'"here"', b"[" * depth + b"0" + b"]" * depth)


def _id(obj: object) -> object:
    if isinstance(obj, bytes):
        return json.loads(obj[: obj.index(b'"x_deep"')].rstrip(b", ") + b"}")["id"]
    return obj["id"] if isinstance(obj, dict) else None


#: Objects no node may store, each with the id it is reported under.
BAD_SHAPES: dict[str, object] = {
    "marking refs a string": fake_indicator(
        1000, object_marking_refs="marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"
    ),
    "marking refs a number": fake_indicator(1001, object_marking_refs=5),
    "granular markings a dict": fake_indicator(1002, granular_markings={"marking_ref": 1}),
    "name a number": fake_indicator(1003, name=5),
    "created a number": fake_indicator(1004, created=12, modified=12),
    "labels a string": fake_indicator(1005, labels="bad"),
    "external references a dict": fake_indicator(1006, external_references={"a": 1}),
    "nested 300 deep": _deep(1007, 300),
    "nested 5000 deep": _deep(1008, 5000),
    "pattern nested 5000 deep": fake_indicator(
        1009, pattern="(" * 5000 + "[domain-name:value = 'x']" + ")" * 5000
    ),
    "a million values": fake_indicator(1011, x_many=[0] * 1_100_000),
    "extension types of lists": {
        "type": "extension-definition",
        "spec_version": "2.1",
        "id": "extension-definition--a932fcc6-e032-476c-826f-cb970a5a1ade",
        "created": "2026-02-01T00:00:00.000Z",
        "modified": "2026-02-01T00:00:00.000Z",
        "created_by_ref": "identity--f431f809-377b-45e0-aa1c-6a4751cae5ff",
        "name": "x",
        "schema": "x",
        "version": "1.0",
        "extension_types": [["x"]],
    },
    "extension type null": fake_indicator(
        1012,
        extensions={
            "extension-definition--a932fcc6-e032-476c-826f-cb970a5a1ade": {"extension_type": [None]}
        },
    ),
    "id a number": fake_indicator(1013, id=7),
}
#: Strange but valid: stored like any other.
ODD_BUT_VALID = [
    fake_indicator(2000, pattern=" OR ".join(f"[domain-name:value = 'x{i}']" for i in range(5000))),
    fake_indicator(2001, x_deep=json.loads("[" * 90 + "]" * 90)),
]
NOT_OBJECTS: list[object] = [5, "indicator", None, [], [[]]]


def test_each_bad_object_is_rejected_alone_and_the_cursor_moves_past_it(tmp_path: Path) -> None:
    bad_objects = list(BAD_SHAPES.values()) + NOT_OBJECTS
    good = [fake_indicator(i) for i in range(30)] + ODD_BUT_VALID
    # Bad objects in every page, between good ones.
    served: list[object] = []
    for i, obj in enumerate(bad_objects):
        served += [good[i], obj] if i < len(good) else [obj]
    served += good[len(bad_objects) :]
    roomy = Limits(max_answer_bytes=64 * 1024 * 1024, max_seconds=120.0)
    with home_with(tmp_path, FakePeer("good", served)) as home:
        _, bad = round_with(home, roomy)
        assert bad.error is None and bad.stopped is None, bad.error
        assert ids_in(home.node, "from-bad") == {o["id"] for o in good}
        assert bad.rejected == len(bad_objects) and bad.stored == len(good)
        rejected = {oid for oid, _ in bad.rejections}
        for name, obj in BAD_SHAPES.items():
            if isinstance(_id(obj), str):
                assert _id(obj) in rejected, name
        cid = home.node.collection("from-bad").id
        assert home.node.store.cursor("bad", "pull", cid, "c") == added(len(served) - 1)
        (status,) = peer_status(home.node, "bad", rejections=100)
        assert {j.object_id for j in status.rejections} == rejected
        assert all(j.reason for j in status.rejections)
        # The next round finds nothing new.
        _, again = round_with(home, roomy)
        assert again.received == 0 and again.error is None


def test_a_slice_that_makes_ingest_fail_is_ingested_object_by_object(tmp_path: Path) -> None:
    from kizuna.sync._link import Round
    from kizuna.sync._pull import _Pull
    from kizuna.sync.engine import client_for, peer_principal

    with home_with(tmp_path, FakePeer("good")) as home:
        node = home.node
        (peer,) = [p for p in node.store.peers() if p.name == "bad"]
        with client_for(peer) as client:
            rnd = Round(node, peer, peer_principal(node, peer), client)
            report = LinkReport("bad", "pull", "from-bad", "c")
            puller = _Pull(rnd, node.collection("from-bad"), "c", report)
            # Something ingest cannot take stands for an object its checks fail on (today they
            # judge every JSON value; this is the net under them).
            fine = json.dumps(fake_indicator(8)).encode()
            results = puller._ingest([fine, 5], puller._cursor(added(8)))  # type: ignore[list-item]
        assert [r.ok for r in results] == [True, False]
        assert results[1].message.startswith("could not be checked (AttributeError")
        assert ids_in(node, "from-bad") == {fake_indicator(8)["id"]}
        assert node.store.cursor("bad", "pull", node.collection("from-bad").id, "c") == added(8)


@pytest.mark.parametrize("mode", ["http500", "garbage", "good", "hang"])
def test_a_push_to_a_bad_peer_fails_alone_and_keeps_its_cursor(tmp_path: Path, mode: str) -> None:
    """"good" answers a POST with a page of objects instead of a status: not a confirmation."""
    with home_with(tmp_path, FakePeer(mode)) as home:
        node = home.node
        outbox = node.add_collection("outbox", alias="outbox").id
        node.grant(outbox, "BAD-ORG", read=True, write=False, max_tlp="amber")
        load(node, outbox, [indicator(name="to push")])
        (peer,) = [p for p in node.store.peers() if p.name == "bad"]
        node.add_peer("bad", peer.url, org="BAD-ORG", token="t", push=[("outbox", "c")])
        good, bad = round_with(home)
        assert bad.direction == "push" and bad.error is not None and bad.sent == 0
        assert node.store.cursor("bad", "push", outbox, "c") is None
        assert good.stored == GOOD_OBJECTS
