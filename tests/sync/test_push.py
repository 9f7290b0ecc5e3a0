"""Push: only what the peer's organization may read leaves, never back to where it came from."""

from __future__ import annotations

from pathlib import Path

from kizuna.node import Node
from kizuna.stix.markings import TLP2_IDS
from kizuna.store.types import ObjectQuery, VersionMatch
from kizuna.sync.engine import sync
from tests.conftest import serve
from tests.helpers import indicator
from tests.sync.federation import REL_NATO, REL_NATO_JPN, load


def _ids(node: Node, collection: str) -> set[str]:
    rows = node.store.query(ObjectQuery(node.collection(collection).id, versions=VersionMatch(all=True), limit=10**6))
    return {r.stix_id for r in rows}


def test_push_is_gated_and_never_returns_to_its_origin(tmp_path: Path) -> None:
    nato, _ = Node.init(tmp_path / "nato", name="nato", org="NATO-CERT", country="BEL", communities=["NATO"])
    jpn, _ = Node.init(tmp_path / "jpn", name="jpn", org="JPN-CERT", country="JPN", communities=["IP4"])
    outbox = nato.add_collection("to JPN", alias="outbox").id
    inbox = jpn.add_collection("from NATO", alias="inbox").id
    # NATO pushes to JPN: on NATO, JPN-CERT may read the outbox (that is what may leave);
    # on JPN, NATO-CERT has an account and may write the inbox.
    nato.add_org("JPN-CERT", "JPN", ["IP4"])
    nato.grant(outbox, "JPN-CERT", read=True, write=True, max_tlp="amber")
    jpn.add_org("NATO-CERT", "BEL", ["NATO"])
    jpn.grant(inbox, "NATO-CERT", read=True, write=True, max_tlp="red")
    nato_account = jpn.add_user("nato-node", "NATO-CERT", peer=True)
    jpn.grant(inbox, "JPN-CERT", read=True, write=True, max_tlp="red")

    shared = indicator(name="shared", markings=[REL_NATO_JPN["id"]])
    nato_only = indicator(name="nato only", markings=[REL_NATO["id"]])
    red = indicator(name="red", markings=[TLP2_IDS["red"]])
    plain = indicator(name="plain")
    load(nato, outbox, [REL_NATO, REL_NATO_JPN, shared, nato_only, red, plain])

    with serve(jpn) as jpn_url, serve(nato) as nato_url:
        nato.add_peer("jpn", jpn_url, org="JPN-CERT", token=nato_account, push=[("outbox", "inbox")])
        reports = sync(nato)
        assert [r.error for r in reports] == [None]
        got = _ids(jpn, inbox)
        assert shared["id"] in got and plain["id"] in got
        assert nato_only["id"] not in got and red["id"] not in got
        assert reports[0].sent == len(got)

        # Provenance on JPN: pushed by NATO-CERT's node account.
        rows = jpn.store.query(ObjectQuery(inbox, versions=VersionMatch(all=True)))
        assert {r.origin for r in rows} == {"peer:NATO-CERT:nato-node"}

        # JPN adds its own object and pushes its inbox to NATO: only that object goes; what
        # came from NATO's node is never pushed back to it.
        jpn_account = nato.add_user("jpn-node", "JPN-CERT", peer=True)
        own = indicator(name="from JPN")
        load(jpn, inbox, [own], origin="user:aiko")
        jpn.add_org("NATO-CERT-READ", "BEL")
        jpn.add_peer("nato", nato_url, org="NATO-CERT", token=jpn_account, push=[("inbox", "outbox")])
        back = sync(jpn)
        assert back[0].error is None and back[0].sent == 1 and back[0].refused == 0
        assert own["id"] in _ids(nato, outbox)
        # Another round in both directions: nothing new anywhere (loops end).
        before = (nato.store.count(outbox), jpn.store.count(inbox))
        again = sync(nato) + sync(jpn)
        assert all(r.error is None for r in again)
        assert (nato.store.count(outbox), jpn.store.count(inbox)) == before


def test_push_cursor_advances_only_when_the_peer_confirms(tmp_path: Path) -> None:
    import httpx

    nato, _ = Node.init(tmp_path / "nato", name="nato", org="NATO-CERT", country="BEL", communities=["NATO"])
    jpn, _ = Node.init(tmp_path / "jpn", name="jpn", org="JPN-CERT", country="JPN")
    outbox = nato.add_collection("outbox", alias="outbox").id
    inbox = jpn.add_collection("inbox", alias="inbox").id
    nato.add_org("JPN-CERT", "JPN")
    nato.grant(outbox, "JPN-CERT", read=True, write=False, max_tlp="amber")
    jpn.add_org("NATO-CERT", "BEL")
    jpn.grant(inbox, "NATO-CERT", read=False, write=True, max_tlp="red")
    account = jpn.add_user("nato-node", "NATO-CERT", peer=True)
    load(nato, outbox, [indicator(name=f"i{i}") for i in range(30)])

    class FailPosts(httpx.BaseTransport):
        def __init__(self) -> None:
            self.inner = httpx.HTTPTransport()

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if request.method == "POST":
                return httpx.Response(503, json={"title": "down", "description": "maintenance", "http_status": "503"})
            return self.inner.handle_request(request)

    with serve(jpn) as url:
        nato.add_peer("jpn", url, org="JPN-CERT", token=account, push=[("outbox", "inbox")])
        failed = sync(nato, transport=FailPosts(), client_options={"sleep": lambda s: None, "retries": 1}, page_size=10)
        assert failed[0].error is not None
        assert nato.store.cursor("jpn", "push", outbox, "inbox") is None
        assert jpn.store.count(inbox) == 0
        ok = sync(nato, page_size=10)
        assert ok[0].error is None and ok[0].sent == 30
        assert jpn.store.count(inbox) == 30
        assert nato.store.cursor("jpn", "push", outbox, "inbox") == str(nato.store.latest_added(outbox))


def test_a_peer_given_another_organization_pushes_what_that_one_may_read(
    tmp_path: Path, database: str
) -> None:
    """``kizuna peer add`` of a configured peer with another organization changes whom the
    sync engine acts for at once, in the process that already pushed for the first one (its
    policy snapshot caches principals): the next push is gated for the new organization."""
    nato, _ = Node.init(tmp_path / "nato", name="nato", org="NATO-CERT", country="BEL",
                        communities=["NATO"], database=database)
    jpn, _ = Node.init(tmp_path / "jpn", name="jpn", org="JPN-CERT", country="JPN")
    outbox = nato.add_collection("outbox", alias="outbox").id
    first, second = (jpn.add_collection(a, alias=a).id for a in ("first", "second"))
    nato.add_org("JPN-CERT", "JPN", ["IP4"])
    nato.add_org("RS-CERT", "SRB")
    nato.grant(outbox, "JPN-CERT", read=True, write=False, max_tlp="amber")
    nato.grant(outbox, "RS-CERT", read=True, write=False, max_tlp="amber")
    jpn.add_org("NATO-CERT", "BEL", ["NATO"])
    account = jpn.add_user("nato-node", "NATO-CERT", peer=True)
    for inbox in (first, second):
        jpn.grant(inbox, "NATO-CERT", read=True, write=True, max_tlp="red")
    for_jpn = indicator(name="for JPN", markings=[REL_NATO_JPN["id"]])
    plain = indicator(name="plain")
    load(nato, outbox, [REL_NATO_JPN, for_jpn, plain])
    try:
        with serve(jpn) as jpn_url:
            nato.add_peer("p", jpn_url, org="JPN-CERT", token=account, push=[("outbox", "first")])
            assert [r.error for r in sync(nato)] == [None]
            assert for_jpn["id"] in _ids(jpn, first)
            nato.add_peer("p", jpn_url, org="RS-CERT", token=account, push=[("outbox", "second")])
            assert [r.error for r in sync(nato)] == [None]
            got = _ids(jpn, second)
            assert plain["id"] in got
            assert for_jpn["id"] not in got  # REL TO NATO, JPN: not Serbia's
    finally:
        nato.close()
        jpn.close()
