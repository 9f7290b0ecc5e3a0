"""A principal's identity cannot collide with another's, whatever the names (docs/policy.md).

The sync engine's principal for a configured peer and every account of the node are keys of
different kinds; the caches of what a principal may see are keyed by the whole principal.
Each case runs over real HTTP on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kizuna.errors import BadRequest
from kizuna.node import hash_token, new_token, read_page
from kizuna.policy.principal import Kind, Principal, PrincipalKey, releasability_codes
from kizuna.stix.markings import releasability_marking
from kizuna.store.types import ObjectQuery
from kizuna.sync.engine import peer_principal
from tests.helpers import indicator
from tests.policy.ingress import World, add_collection, failures, rel, world

REL_FRA = releasability_marking(["FRA"])


def _account(w: World, name: str, org: str, *, peer: bool) -> str:
    """An account named *name*, stored as a database made before user names were checked
    may hold it (``Node.add_user`` now refuses a colon in a name); its token."""
    token = new_token()
    w.node.store.add_user(name, org, hash_token(token), is_peer=peer)
    return token


@pytest.mark.parametrize("peer_account", [True, False])
def test_an_account_named_like_a_peer_never_shares_its_visibility(
    tmp_path: Path, database: str, peer_account: bool
) -> None:
    with world(tmp_path, database) as w:
        cid = add_collection(w, "intel", write=())
        w.node.add_org("EVIL", "BRA")
        w.node.grant(cid, "EVIL", read=True, write=False)
        # The account "peer:aus" (of EVIL) and the configured peer "aus" (of AUS-ACSC).
        token = _account(w, "peer:aus", "EVIL", peer=peer_account)
        w.tokens["peer:aus"] = token
        peer = w.node.add_peer(
            "aus", "http://127.0.0.1:9", org="AUS-ACSC", token="x", push=[(cid, cid)]
        )
        secret = indicator(name="for Australia only", markings=[rel("AUS")])
        assert w.post("admin", "intel", secret)["success_count"] == 1

        # The sync engine reads as the peer first (a push): its visibility is cached.
        sync = peer_principal(w.node, peer)
        assert sync.key == PrincipalKey(Kind.SYNC, "aus")
        snap = w.node.snapshot()
        page = read_page(w.node.store, snap, sync, snap.collections[cid], ObjectQuery(cid), 10)
        assert [i.row.stix_id for i in page.items] == [secret["id"]]

        # The account named like it sees nothing, by id or by listing.
        assert w.objects("peer:aus", "intel") == []
        r = w.get("peer:aus", f"collections/{cid}/objects/{secret['id']}/")
        absent = "indicator--00000000-0000-4000-8000-000000000000"
        a = w.get("peer:aus", f"collections/{cid}/objects/{absent}/")
        assert (r.status_code, r.text.replace(secret["id"], absent)) == (404, a.text)
        account = w.node.authenticate(token)
        assert account is not None and account.key != sync.key
        assert str(account.key) != str(sync.key)


def test_a_peer_named_like_a_user_is_not_that_user(tmp_path: Path, database: str) -> None:
    with world(tmp_path, database) as w:
        cid = add_collection(w, "intel", write=())
        w.node.add_org("EVIL", "BRA")
        w.node.grant(cid, "EVIL", read=True, write=False)
        # The peer "olivia" acts for EVIL; olivia the analyst is of AUS-ACSC.
        peer = w.node.add_peer("olivia", "http://127.0.0.1:9", org="EVIL", token="x")
        secret = indicator(markings=[rel("AUS")])
        w.post("admin", "intel", secret)
        assert [o["id"] for o in w.objects("olivia", "intel")] == [secret["id"]]
        sync = peer_principal(w.node, peer)
        snap = w.node.snapshot()
        page = read_page(w.node.store, snap, sync, snap.collections[cid], ObjectQuery(cid), 10)
        assert page.items == []


def test_keys_of_different_kinds_differ_as_values_and_as_text() -> None:
    codes = frozenset({"AUS"})
    account = Principal("peer:aus", "AUS-ACSC", "AUS", codes, peer="peer:aus")
    sync = Principal("aus", "AUS-ACSC", "AUS", codes, peer="aus", kind=Kind.SYNC)
    user = Principal("aus", "AUS-ACSC", "AUS", codes)
    assert len({account.key, sync.key, user.key}) == 3
    assert len({str(account.key), str(sync.key), str(user.key)}) == 3
    with pytest.raises(ValueError, match="acts for a peer"):
        Principal("aus", "AUS-ACSC", "AUS", codes, kind=Kind.SYNC)


def test_a_country_is_neither_declared_nor_a_community(tmp_path: Path) -> None:
    from kizuna.node import Node

    node, _ = Node.init(tmp_path / "n", name="n", org="O", country="BEL")
    with pytest.raises(BadRequest, match="is a country, not a community"):
        node.add_org("SNEAKY", "JPN", ["USA"])
    with pytest.raises(BadRequest, match="is a country code"):
        node.set_community("usa", ["FRA"])
    # Whatever a database holds, a declared country is not one of the principal's codes.
    assert releasability_codes("JPN", ["USA", "FVEY"], {}) == {"JPN", "FVEY"}
    assert releasability_codes("FRA", [], {"USA": frozenset({"FRA"})}) == {"FRA"}
    node.close()


def test_organization_names_with_colons_do_not_share_what_a_writer_sent(
    tmp_path: Path, database: str
) -> None:
    """Provenance names a peer's organization and name (``peer:ORG:NAME``); organization
    ``A`` with the peer account ``B:c`` and organization ``A:B`` with ``c`` must not be one
    writer, or the second would count the first's private marking-definition as one it sent
    itself (Rule 6: a right guess and a wrong one get the same answer)."""
    with world(tmp_path, database) as w:
        w.node.add_org("A", "FRA")
        w.node.add_org("A:B", "JPN")
        cid = add_collection(w, "x", read=("A", "A:B"), write=("A", "A:B"))
        w.tokens["B:c"] = _account(w, "B:c", "A", peer=True)
        w.tokens["c"] = w.node.add_user("c", "A:B", peer=True)
        first = w.node.authenticate(w.tokens["B:c"])
        second = w.node.authenticate(w.tokens["c"])
        assert first is not None and second is not None
        assert first.origin != second.origin
        statement = {
            "type": "marking-definition",
            "spec_version": "2.1",
            "id": "marking-definition--8f3b1a52-3a0e-4a55-9d2f-6c1e8f0b7a11",
            "created": "2026-05-01T00:00:00.000Z",
            "definition_type": "statement",
            "definition": {"statement": "Property of A; do not share"},
            "object_marking_refs": [str(REL_FRA["id"])],
        }
        status = w.post("B:c", "x", REL_FRA, statement)
        assert status["success_count"] == 2, status
        wrong = {**statement, "definition": {"statement": "a guess"}}
        answers = [failures(w.post("c", "x", d))[statement["id"]] for d in (statement, wrong)]
        assert answers[0] == answers[1] and "taken" in answers[0]
        marked = indicator(markings=[statement["id"]])
        message = failures(w.post("c", "x", marked))[marked["id"]]
        assert "not one you may use" in message
        assert w.node.store.count(cid) == 2
