"""The one rule for the names of new organizations and users (``kizuna.node.check_name``):
what it refuses is refused by every path with a message saying why, and stores nothing; what
it accepts is stored and read back as given, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kizuna.errors import BadRequest
from kizuna.node import Node, check_name, name_problem

#: Names refused for users and organizations alike, with a word of the message.
BAD = [
    ("", "needs a name"),
    (" ", "only white space"),
    ("\t \n", "only white space"),
    (" aiko", "begins with a space"),
    ("aiko ", "ends with a space"),
    ("ai\x00ko", "U+0000 (a control character) at position 3"),
    ("ai\nko", "U+000A (a control character)"),
    ("ai\tko", "U+0009 (a control character)"),
    ("ai\x7fko", "U+007F (a control character)"),
    ("ai\x85ko", "U+0085 (a control character)"),
    ("ai\u200bko", "U+200B ZERO WIDTH SPACE"),
    ("ai\u202eko", "U+202E RIGHT-TO-LEFT OVERRIDE"),
    ("ai\u00a0ko", "U+00A0 NO-BREAK SPACE (a space other than U+0020)"),
    ("ai\u2028ko", "U+2028 LINE SEPARATOR"),
    ("ai\ud800ko", "U+D800"),
    ("e\u0301", "not in Unicode normal form NFC"),
    ("x" * 201, "at most 200 characters; this one has 201"),
]
GOOD = ["aiko", "新人", "J. Smith", "ops@cert.example", "x" * 200, "𝔘" * 200, "a-b_c.d"]


@pytest.fixture
def node(database: str, tmp_path: Path) -> Iterator[Node]:
    n, _ = Node.init(tmp_path / "n", name="n", org="CERT", country="FRA", database=database)
    yield n
    n.close()


@pytest.mark.parametrize(("name", "said"), BAD)
def test_a_bad_name_is_refused_and_nothing_is_stored(node: Node, name: str, said: str) -> None:
    users, orgs = node.users(), node.orgs()
    with pytest.raises(BadRequest, match="user") as user_refused:
        node.add_user(name, "CERT")
    with pytest.raises(BadRequest, match="organization") as org_refused:
        node.add_org(name, "DEU")
    assert said in user_refused.value.message and said in org_refused.value.message
    assert user_refused.value.status == 400
    assert node.users() == users and node.orgs() == orgs


def test_a_user_name_holds_no_colon(node: Node) -> None:
    with pytest.raises(BadRequest, match="HTTP Basic authentication separates"):
        node.add_user("ai:ko", "CERT")
    assert node.store.user("ai:ko") is None
    assert node.add_org("CERT: Lyon", "FRA").name == "CERT: Lyon"  # an organization may


@pytest.mark.parametrize("name", GOOD)
def test_a_good_name_round_trips(node: Node, name: str) -> None:
    org = node.add_org(name, "DEU")
    assert node.store.org(name) == org
    token = node.add_user(name, name)
    user = node.store.user(name)
    assert user is not None and user.name == name and user.org == name
    principal = node.authenticate(token, name)
    assert principal is not None and principal.org == name


def test_init_refuses_a_bad_organization_name_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(BadRequest, match=r"U\+000A"):
        Node.init(tmp_path / "n", name="n", org="CERT\nFR", country="FRA")
    assert not (tmp_path / "n").exists()


@pytest.fixture(scope="module")
def one_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    n, _ = Node.init(tmp_path_factory.mktemp("names") / "n", name="n", org="CERT", country="FRA")
    yield n
    n.close()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.one_of(
    st.text(max_size=210),
    st.text(st.characters(codec="utf-8"), min_size=1, max_size=8).map(lambda s: f" {s} "),
    st.sampled_from([b for b, _ in BAD] + GOOD),
))
def test_what_the_rule_accepts_round_trips_and_what_it_refuses_stores_nothing(
    one_node: Node, name: str
) -> None:
    node = one_node
    problem = name_problem("user", name)
    known = {u.name for u in node.users()}
    if problem is None:
        check_name("user", name)
        if name in known:
            return
        token = node.add_user(name, "CERT")
        user = node.store.user(name)
        assert user is not None and user.name == name
        assert name in {u.name for u in node.users()}
        principal = node.authenticate(token, name)
        assert principal is not None and principal.name == name
    else:
        assert problem  # a sentence
        with pytest.raises(BadRequest) as refused:
            node.add_user(name, "CERT")
        assert refused.value.message == problem
        assert {u.name for u in node.users()} == known
        if not any("\ud800" <= c <= "\udfff" for c in name):  # a database can look it up
            assert node.store.user(name) is None


def _settings(node: Node) -> tuple[object, ...]:
    return (node.store.peers(), node.communities(), node.orgs())


@pytest.mark.parametrize(("name", "said"), BAD)
def test_a_bad_peer_or_community_name_is_refused_and_nothing_is_stored(
    node: Node, name: str, said: str
) -> None:
    before = _settings(node)
    with pytest.raises(BadRequest, match="a peer") as peer_refused:
        node.add_peer(name, "https://peer.example", org="CERT", token="t")
    with pytest.raises(BadRequest, match="a community") as community_refused:
        node.set_community(name, ["FRA"])
    with pytest.raises(BadRequest, match="a community") as declared_refused:
        node.add_org("DECLARES", "DEU", ["NATO", name])
    for refused in (peer_refused, community_refused, declared_refused):
        assert said in refused.value.message and refused.value.status == 400
    assert _settings(node) == before


#: Names a community cannot have although the rule for every name accepts them: REL TO names
#: it by a releasability code (stix.markings.is_releasability_code), or it is a country's.
NOT_CODES = [("Five Eyes", "cannot name a community"), ("X", "cannot name a community"),
             ("Nordiska-ä", "cannot name a community"), ("N" * 51, "cannot name a community"),
             ("1NATO", "cannot name a community"), ("jpn", "is a country code"),
             ("straße", "cannot name a community"), ("ﬀ", "cannot name a community")]


@pytest.mark.parametrize(("name", "said"), NOT_CODES)
def test_a_community_is_named_by_a_code_rel_to_can_name(node: Node, name: str, said: str) -> None:
    before = _settings(node)
    with pytest.raises(BadRequest, match=said):
        node.set_community(name, ["FRA"])
    with pytest.raises(BadRequest, match=said if "country" not in said else "is a country"):
        node.add_org("DECLARES", "DEU", [name])
    assert _settings(node) == before


@pytest.mark.parametrize("name", ["nato", "EU-27", "IP4", "A+B", "NORDEFCO", "N" * 50, "x_y"])
def test_a_community_name_is_stored_upper_case_and_named_by_rel_to(node: Node, name: str) -> None:
    node.set_community(name, ["FRA", "DEU"])
    assert node.communities()[name.upper()] == frozenset({"FRA", "DEU"})
    assert node.add_org("MEMBER", "DEU", [name]).communities == (name.upper(),)
    assert node.releasability_marking([name])["name"] == f"REL TO {name.upper()}"
    principal = node.authenticate(node.add_user("m", "MEMBER"))
    assert principal is not None and name.upper() in principal.codes


@pytest.mark.parametrize("name", GOOD)
def test_a_good_peer_name_round_trips(node: Node, name: str) -> None:
    peer = node.add_peer(name, "https://peer.example", org="CERT", token="t")
    assert peer.name == name and [p.name for p in node.store.peers()] == [name]
    assert node.principal_for(peer).name == name


def test_init_refuses_a_bad_community_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(BadRequest, match="cannot name a community"):
        Node.init(tmp_path / "n", name="n", org="CERT", country="FRA", communities=["Five Eyes"])
    assert not (tmp_path / "n").exists()
