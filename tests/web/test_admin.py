"""The administrators' pages over HTTP: hidden from everyone else exactly as an absent path,
each form through the node's operations with its CSRF token, tokens shown once, refusals
that say what was expected and store nothing."""

from __future__ import annotations

import html
import re

import httpx
import pytest

from tests.node.test_names import BAD
from tests.web.conftest import csrf_of, sign_in
from tests.web.world import World

ADMIN_PATHS = ["/ui/admin/", "/ui/admin/grants", "/ui/admin/peers", "/ui/admin/markings",
               "/ui/admin/users", "/ui/admin/orgs", "/ui/admin/users/rotate"]


@pytest.fixture(scope="module")
def admin(url: str, world: World) -> httpx.Client:
    return sign_in(url, "admin", world.tokens["admin"])


@pytest.fixture(scope="module")
def analyst(url: str, world: World) -> httpx.Client:
    return sign_in(url, "analyst", world.tokens["analyst"])


def _post(client: httpx.Client, path: str, data: dict[str, str], page: str = "/ui/admin/") -> httpx.Response:
    csrf = csrf_of(client.get(page).text)
    return client.post(path, data={**data, "csrf": csrf})


def _token(html: str) -> str:
    m = re.search(r'id="token" class="token" readonly value="([^"]+)"', html)
    assert m, html
    return m.group(1)


@pytest.mark.parametrize("path", ADMIN_PATHS)
def test_others_get_the_page_of_an_absent_path(analyst: httpx.Client, path: str) -> None:
    absent = analyst.get("/ui/admin-nothing-here")
    assert absent.status_code == 404
    for answer in (analyst.get(path), analyst.post(path, data={"username": "x"}),
                   analyst.post(path, data={"username": "x", "csrf": csrf_of(analyst.get("/ui/").text)})):
        assert answer.status_code == 404
        assert answer.content == absent.content
    assert "/ui/admin/" not in analyst.get("/ui/").text  # no link to it either


def test_admin_sees_the_sections(admin: httpx.Client, world: World) -> None:
    home = admin.get("/ui/admin/")
    assert home.status_code == 200
    assert "CERT-JP" in home.text and "RS-CERT" in home.text and "analyst" in home.text
    assert world.tokens["analyst"] not in home.text and world.tokens["admin"] not in home.text
    grants = admin.get("/ui/admin/grants").text
    assert "Intel 情報" in grants and "read, write up to TLP:AMBER" in grants
    assert "Kizuna definitions" not in grants
    peers = admin.get("/ui/admin/peers").text
    assert "rs-node" in peers and "120 received, 117 stored" in peers
    assert "peer answered 503: try again later" in peers
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in peers and "<script>alert" not in peers
    marks = admin.get("/ui/admin/markings").text
    assert "TLP:RED" in marks and "REL TO JPN" in marks and "NATO" in marks


def test_create_user_shows_the_token_once(url: str, admin: httpx.Client) -> None:
    answer = _post(admin, "/ui/admin/users", {"username": "新人", "org": "RS-CERT"})
    assert answer.status_code == 200
    token = _token(answer.text)
    assert "shown once" in answer.text
    assert token not in admin.get("/ui/admin/").text
    newcomer = sign_in(url, "新人", token)
    assert newcomer.get("/ui/").status_code == 200
    # a second user of that name is refused, and says why
    again = _post(admin, "/ui/admin/users", {"username": "新人", "org": "RS-CERT"})
    assert again.status_code == 400 and "already exists" in again.text
    # rotate: the new token works, the old one and the session made with it do not
    rotated = _post(admin, "/ui/admin/users/rotate", {"username": "新人"})
    fresh = _token(rotated.text)
    assert fresh != token
    assert newcomer.get("/ui/").status_code == 303  # to the sign-in page
    sign_in(url, "新人", fresh)
    # disable: the token signs in no more
    disabled = _post(admin, "/ui/admin/users/disable", {"username": "新人"})
    assert disabled.status_code == 303
    assert "disabled" in admin.get(disabled.headers["location"]).text
    client = httpx.Client(base_url=url)
    form = client.get("/ui/login")
    refused = client.post("/ui/login", data={"username": "新人", "token": fresh, "csrf": csrf_of(form.text)})
    assert refused.status_code != 303


def test_an_admin_cannot_disable_itself(admin: httpx.Client) -> None:
    answer = _post(admin, "/ui/admin/users/disable", {"username": "admin"})
    assert answer.status_code == 400 and "signed in with" in answer.text
    assert admin.get("/ui/admin/").status_code == 200


def test_forms_without_the_csrf_token_change_nothing(admin: httpx.Client, world: World) -> None:
    for path, data in [("/ui/admin/users", {"username": "forged", "org": "CERT-JP"}),
                       ("/ui/admin/orgs", {"name": "FORGED-ORG", "country": "FRA"}),
                       ("/ui/admin/users/disable", {"username": "analyst"})]:
        answer = admin.post(path, data={**data, "csrf": "nope"})
        assert answer.status_code == 403
    assert world.node.store.user("forged") is None
    assert world.node.store.org("FORGED-ORG") is None
    assert not world.node.store.user("analyst").disabled  # type: ignore[union-attr]


def test_organizations_and_grants(admin: httpx.Client, world: World) -> None:
    bad = _post(admin, "/ui/admin/orgs", {"name": "CERT-FR", "country": "FR"})
    assert bad.status_code == 400 and "ISO 3166 alpha-3" in bad.text
    assert 'value="CERT-FR"' in bad.text  # the form keeps what was typed
    assert world.node.store.org("CERT-FR") is None
    made = _post(admin, "/ui/admin/orgs", {"name": "CERT-FR", "country": "FRA", "communities": "NATO, EU"})
    assert made.status_code == 303
    page = admin.get("/ui/admin/").text
    assert "CERT-FR" in page and "EU, NATO" in page
    granted = _post(admin, "/ui/admin/grants", {"collection": world.intel, "org": "CERT-FR",
                                                "read": "1", "max_tlp": "green"}, "/ui/admin/grants")
    assert granted.status_code == 303
    g = world.node.grant_of(world.intel, "CERT-FR")
    assert g is not None and g.can_read and not g.can_write and g.max_tlp == "green"
    assert "read up to TLP:GREEN" in admin.get("/ui/admin/grants").text
    bad_tlp = _post(admin, "/ui/admin/grants", {"collection": world.intel, "org": "CERT-FR",
                                                "read": "1", "max_tlp": "purple"}, "/ui/admin/grants")
    assert bad_tlp.status_code == 400
    revoked = _post(admin, "/ui/admin/grants", {"collection": world.intel, "org": "CERT-FR"},
                    "/ui/admin/grants")
    assert revoked.status_code == 303
    assert world.node.grant_of(world.intel, "CERT-FR") is None


def test_markings_and_communities(admin: httpx.Client, world: World) -> None:
    made = _post(admin, "/ui/admin/markings", {"codes": "fra nato"}, "/ui/admin/markings")
    assert made.status_code == 303
    assert "REL TO FRA, NATO" in admin.get("/ui/admin/markings").text
    bad = _post(admin, "/ui/admin/communities", {"name": "JPN", "members": "JPN"}, "/ui/admin/markings")
    assert bad.status_code == 400 and "country code" in bad.text
    ok = _post(admin, "/ui/admin/communities", {"name": "quad", "members": "AUS IND JPN USA"},
               "/ui/admin/markings")
    assert ok.status_code == 303
    assert world.node.communities()["QUAD"] == frozenset({"AUS", "IND", "JPN", "USA"})


def test_home_shows_peers_to_administrators(admin: httpx.Client, analyst: httpx.Client) -> None:
    home = admin.get("/ui/").text
    assert "Peers&#39; last sync" in home or "Peers' last sync" in home
    assert "rs-node" in home and "peer answered 503" in home
    assert 'data-label="Received">120</td><td class="num" data-label="Stored">117</td>' in home
    assert "rs-node" not in analyst.get("/ui/").text


@pytest.mark.parametrize(("name", "said"), [b for b in BAD if "\ud800" not in b[0]])
def test_a_bad_user_or_organization_name_is_a_400_on_the_form_and_stores_nothing(
    admin: httpx.Client, world: World, name: str, said: str
) -> None:
    users, orgs = world.node.users(), world.node.orgs()
    user = _post(admin, "/ui/admin/users", {"username": name, "org": "RS-CERT"})
    assert user.status_code == 400
    assert html.escape(said, quote=True) in user.text and "a user" in user.text
    assert 'id="u-name"' in user.text  # on the page of the form, to correct it there
    org = _post(admin, "/ui/admin/orgs", {"name": name, "country": "FRA"})
    assert org.status_code == 400
    assert html.escape(said, quote=True) in org.text and "an organization" in org.text
    assert world.node.users() == users and world.node.orgs() == orgs


def test_the_refusal_of_a_name_escapes_it(admin: httpx.Client, world: World) -> None:
    name = '<script>alert("x")</script> '
    answer = _post(admin, "/ui/admin/users", {"username": name, "org": "RS-CERT"})
    assert answer.status_code == 400 and "ends with a space" in answer.text
    assert "<script>alert" not in answer.text and "&lt;script&gt;alert(&#34;x&#34;)" in answer.text
    assert world.node.store.user(name) is None and world.node.store.user(name.strip()) is None


def test_a_user_name_with_a_colon_could_not_sign_in_with_basic_and_is_refused(
    admin: httpx.Client, world: World
) -> None:
    answer = _post(admin, "/ui/admin/users", {"username": "ai:ko", "org": "RS-CERT"})
    assert answer.status_code == 400 and "HTTP Basic authentication" in answer.text
    assert world.node.store.user("ai:ko") is None


@pytest.mark.parametrize(("name", "said"), [b for b in BAD if "\ud800" not in b[0]]
                         + [("Five Eyes", "cannot name a community"), ("usa", "is a country")])
def test_a_bad_community_name_is_a_400_on_the_form_and_stores_nothing(
    admin: httpx.Client, world: World, name: str, said: str
) -> None:
    before = world.node.communities()
    answer = _post(admin, "/ui/admin/communities", {"name": name, "members": "FRA DEU"},
                   "/ui/admin/markings")
    assert answer.status_code == 400
    assert html.escape(said, quote=True) in answer.text and "a community" in answer.text
    assert 'id="c-name"' in answer.text  # on the page of the form, to correct it there
    assert world.node.communities() == before
    if name.strip() and not any(c.isspace() or c == "," for c in name):  # one word of a list
        declared = _post(admin, "/ui/admin/orgs", {"name": "DECLARES", "country": "DEU",
                                                   "communities": f"NATO, {name}"})
        assert declared.status_code == 400 and html.escape(said, quote=True) in declared.text
        assert "DECLARES" not in {o.name for o in world.node.orgs()}
