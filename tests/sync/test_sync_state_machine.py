"""A state machine over two real nodes: random writes, syncs and crashes in any order.

NATO's node publishes "shared", which JPN's node pulls; JPN's node publishes "outbox", which it
pushes to NATO's "from-jpn". A crash is a sync that dies after a random number of requests
(the transport raises, nothing is retried); the node is then reopened from its directory, as
after a restart. Whatever happened, after a final sync each side holds exactly the reference:
the versions written on the other side that its organization may receive (docs/policy.md).
"""

from __future__ import annotations

import shutil
import tempfile
from contextlib import ExitStack
from pathlib import Path

import httpx
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from kizuna.node import Node
from kizuna.stix.timestamps import format_micros
from kizuna.store.types import ObjectQuery, VersionMatch
from kizuna.sync.engine import sync
from tests.conftest import serve
from tests.helpers import indicator
from tests.sync.federation import CATEGORIES, REL_NATO, REL_NATO_JPN, REL_NATO_JPN_AUS, load

REACHES_JPN = {name: spec[1] for name, spec in CATEGORIES.items()}


class Crash(httpx.BaseTransport):
    """Real HTTP for *budget* requests, then the process 'dies' (every request fails)."""

    def __init__(self, budget: int) -> None:
        self.inner = httpx.HTTPTransport()
        self.budget = budget

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.budget <= 0:
            raise httpx.ConnectError("crashed (injected)", request=request)
        self.budget -= 1
        return self.inner.handle_request(request)


class Federation(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="kizuna-sm-"))
        self.stack = ExitStack()
        nato, _ = Node.init(self.tmp / "nato", name="nato", org="NATO-CERT", country="BEL", communities=["NATO"])
        jpn, _ = Node.init(self.tmp / "jpn", name="jpn", org="JPN-CERT", country="JPN", communities=["IP4"])
        self.shared = nato.add_collection("shared", alias="shared").id
        self.from_jpn = nato.add_collection("from JPN", alias="from-jpn").id
        self.from_nato = jpn.add_collection("from NATO", alias="from-nato").id
        self.outbox = jpn.add_collection("outbox", alias="outbox").id
        nato.add_org("JPN-CERT", "JPN", ["IP4"])
        nato.grant(self.shared, "JPN-CERT", read=True, write=False, max_tlp="amber")
        nato.grant(self.from_jpn, "JPN-CERT", read=False, write=True, max_tlp="amber")
        jpn_account = nato.add_user("jpn-node", "JPN-CERT", peer=True)
        jpn.add_org("NATO-CERT", "BEL", ["NATO"])
        jpn.grant(self.from_nato, "NATO-CERT", read=False, write=True, max_tlp="red")
        jpn.grant(self.outbox, "NATO-CERT", read=True, write=False, max_tlp="amber")
        load(nato, self.shared, [REL_NATO, REL_NATO_JPN, REL_NATO_JPN_AUS])
        load(jpn, self.outbox, [REL_NATO_JPN, REL_NATO_JPN_AUS])
        nato_url = self.stack.enter_context(serve(nato))
        jpn.add_peer("nato", nato_url, org="NATO-CERT", token=jpn_account,
                     pull=[("shared", "from-nato")], push=[("outbox", "from-jpn")])
        self.nato, self.jpn = nato, jpn
        self.written: dict[str, set[tuple[str, str]]] = {"nato": set(), "jpn": set()}
        self.ids: dict[str, list[str]] = {"nato": [], "jpn": []}
        self.clock = 0

    def teardown(self) -> None:
        self.stack.close()
        self.jpn.close()
        self.nato.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _stamp(self) -> str:
        self.clock += 1
        return f"2026-03-01T00:{self.clock // 60:02d}:{self.clock % 60:02d}.000Z"

    @rule(side=st.sampled_from(["nato", "jpn"]), category=st.sampled_from(sorted(CATEGORIES)),
          new_version=st.booleans())
    def write(self, side: str, category: str, new_version: bool) -> None:
        if side == "jpn" and category in ("rel-nato", "amber+strict", "red"):
            category = "rel-nato-jpn"  # JPN-CERT's admin writes what JPN may read
        markings = CATEGORIES[category][0] or None
        stamp = self._stamp()
        if new_version and self.ids[side]:
            oid = self.ids[side][self.clock % len(self.ids[side])]
            obj = indicator(oid=oid, created="2026-01-01T00:00:00.000Z", modified=stamp, markings=markings)
        else:
            obj = indicator(created=stamp, markings=markings)
            self.ids[side].append(obj["id"])
        node, coll = (self.nato, self.shared) if side == "nato" else (self.jpn, self.outbox)
        load(node, coll, [obj])
        if REACHES_JPN[category]:
            self.written[side].add((obj["id"], obj["modified"]))

    @rule(page=st.integers(1, 7))
    def sync_round(self, page: int) -> None:
        reports = sync(self.jpn, page_size=page)
        assert [r.error for r in reports] == [None, None]

    @rule(budget=st.integers(0, 6), page=st.integers(1, 5))
    def crash_mid_sync(self, budget: int, page: int) -> None:
        sync(self.jpn, transport=Crash(budget), page_size=page, client_options={"retries": 0})
        # Restart: a fresh process opens the node directory again.
        self.jpn.close()
        self.jpn = Node.open(self.tmp / "jpn")

    @invariant()
    def never_more_than_allowed(self) -> None:
        allowed_nato = self.written["nato"]
        got = _versions(self.jpn, "from-nato")
        assert got <= allowed_nato, got - allowed_nato
        assert _versions(self.nato, "from-jpn") <= self.written["jpn"]

    def check_final(self) -> None:
        reports = sync(self.jpn, page_size=50)
        assert [r.error for r in reports] == [None, None]
        assert _versions(self.jpn, "from-nato") == self.written["nato"]
        assert _versions(self.nato, "from-jpn") == self.written["jpn"]


def _versions(node: Node, alias: str) -> set[tuple[str, str]]:
    rows = node.store.query(ObjectQuery(node.collection(alias).id, versions=VersionMatch(all=True), limit=10**6))
    out = set()
    for r in rows:
        if r.type == "indicator":
            out.add((r.stix_id, format_micros(r.version_us)))
    return out


class FederationWithFinalSync(Federation):
    def teardown(self) -> None:
        try:
            self.check_final()
        finally:
            super().teardown()


TestFederation = FederationWithFinalSync.TestCase
TestFederation.settings = settings(
    max_examples=25, stateful_step_count=12, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
