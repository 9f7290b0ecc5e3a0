"""Pages under the gate: a principal's pages never hold an id, a field or a count of what is
hidden from it, and what is hidden answers the same 404 as what is absent."""

from __future__ import annotations

import re
import uuid

from kizuna.node import read_page
from kizuna.store.types import ObjectQuery
from tests.web.conftest import csrf_of, sign_in
from tests.web.world import World


def _pages(world: World) -> list[str]:
    paths = ["/ui/", "/ui/space/", "/ui/space/?sort=pc", f"/ui/collections/{world.intel}/",
             f"/ui/collections/{world.intel}/?sort=name", f"/ui/collections/{world.intel}/export"]
    for t in ("malware", "indicator", "relationship", "report"):
        paths.append(f"/ui/collections/{world.intel}/?type={t}")
    paths += [f"/ui/objects/{i}" for i in world.ids.values()]
    paths += [f"/ui/objects/{i}?hops=2" for i in world.ids.values()]  # the neighbourhood
    # Searches for what is hidden (in words that are not the hidden names themselves, which
    # the page repeats as the query), alone and with filters.
    for q in ("implant", "japan-only", "203.0.113.9", "beacon", "exercise", "uses", "e"):
        paths.append(f"/ui/search?q={q}")
        paths.append(f"/ui/search?q={q}&type=malware&type=indicator&collection={world.intel}")
        paths.append(f"/ui/search?q={q}&collection={world.exercise}")
    return paths


def test_search_finds_and_counts_only_what_the_principal_sees(world: World, url: str) -> None:
    partner = sign_in(url, "partner", world.tokens["partner"])
    admin = sign_in(url, "admin", world.tokens["admin"])
    for q in ("implant", "japan-only", "203.0.113.9", "beacon"):
        html = partner.get("/ui/search", params={"q": q}).text
        assert ">0 found<" in html, q
        found = admin.get("/ui/search", params={"q": q}).text
        assert ">1 found<" in found, (q, found)
    # Japanese, Serbian Cyrillic and Latin, each a link to its object page
    for q, name in (("ドメイン", "indicator"), ("софтвер", "malware"), ("t1059.001", "attack_pattern")):
        html = partner.get("/ui/search", params={"q": q}).text
        assert f'href="/ui/objects/{world.ids[name]}"' in html, q
    # the exercise collection is not the partner's: asked for by id, nothing, as for none
    asked = partner.get("/ui/search", params={"q": "beacon", "collection": world.exercise})
    absent = partner.get("/ui/search", params={"q": "beacon", "collection": str(uuid.uuid4())})
    assert asked.status_code == absent.status_code == 200
    assert asked.text.replace(world.exercise, "X") == absent.text.replace(
        re.search(r'collection=([0-9a-f-]{36})', str(absent.url))[1], "X"  # type: ignore[index]
    )
    assert partner.get("/ui/search", params={"q": "x" * 501}).status_code == 400


def test_partner_pages_hold_nothing_hidden(world: World, url: str) -> None:
    client = sign_in(url, "partner", world.tokens["partner"])
    hidden_names = ["SECRET-RED-IMPLANT", "JAPAN-ONLY-INDICATOR", "Exercise beacon", "Blue Sky"]
    seen = 0
    for path in _pages(world):
        answer = client.get(path)
        body = answer.text
        for name, sid in world.hidden.items():
            assert sid not in body, f"{path} shows hidden {name}"
            assert sid.split("--")[1] not in body, f"{path} shows the uuid of hidden {name}"
        for text in hidden_names:
            assert text not in body, f"{path} shows {text!r}"
        if sid_path := re.match(r"/ui/objects/([^?]+)", path):
            expected = 404 if sid_path.group(1) in world.hidden.values() else 200
            assert answer.status_code == expected, path
        seen += answer.status_code == 200
    assert seen > 15
    # the exercise collection is not granted to the partner: the same 404 as none at all
    hidden = client.get(f"/ui/collections/{world.exercise}/")
    absent = client.get(f"/ui/collections/{uuid.uuid4()}/")
    assert hidden.status_code == absent.status_code == 404
    assert hidden.text == absent.text


def test_counts_are_of_what_the_principal_sees(world: World, url: str) -> None:
    node = world.node
    snap = node.snapshot()
    for username in ("partner", "analyst"):
        user = next(u for u in snap.users.values() if u.name == username)
        principal = node.principal_for(user)
        c = snap.collection(world.intel)
        assert c is not None
        visible = read_page(node.store, snap, principal, c, ObjectQuery(c.id), 10_000).items
        html = sign_in(url, username, world.tokens[username]).get(f"/ui/collections/{world.intel}/").text
        m = re.search(r'>All</a> <span class="num">(\d+)</span>', html)
        assert m, html
        # notes posted by other tests of the module may add to both: compare at the same moment
        assert int(m.group(1)) == len(visible), username


def test_note_marking_picker_is_no_more_releasable_than_the_target(world: World, url: str) -> None:
    client = sign_in(url, "analyst", world.tokens["analyst"])
    html = client.get(f"/ui/objects/{world.ids['opinion']}").text  # TLP:AMBER
    offered = re.findall(r'<option value="([a-z+]+)"[^>]*>TLP:', html)
    assert offered and "clear" not in offered and "green" not in offered and "amber" in offered
    # a forged choice is refused: the node stores nothing more releasable than the target
    answer = client.post(
        f"/ui/objects/{world.ids['opinion']}/notes",
        data={"csrf": csrf_of(html), "kind": "note", "content": "too open", "marking": "clear",
              "collection": world.intel},
    )
    assert answer.status_code == 422
    assert "too open" in answer.text  # the form keeps the text
    assert "Choose one of the markings offered." in answer.text
    # the session's token from another site's page is refused too
    other = client.post(
        f"/ui/objects/{world.ids['opinion']}/notes", headers={"origin": "https://evil.example"},
        data={"csrf": csrf_of(html), "kind": "note", "content": "cross-site", "marking": "amber",
              "collection": world.intel},
    )
    assert other.status_code == 403


def test_signed_out_and_forged_sessions(world: World, url: str) -> None:
    import httpx

    anonymous = httpx.Client(base_url=url)
    answer = anonymous.get(f"/ui/objects/{world.ids['indicator']}", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/ui/login?next=")
    forged = httpx.Client(base_url=url, cookies={"kizuna_session": "eyJ1IjoiYWRtaW4ifQ==.00"})
    assert forged.get("/ui/", follow_redirects=False).status_code == 303
    assert anonymous.get("/", follow_redirects=False).headers["location"] == "/ui/"
    # sign-in is rate-limited: after 5 failures even the right token waits
    client = httpx.Client(base_url=url)
    for _ in range(5):
        form = client.get("/ui/login").text
        bad = client.post("/ui/login", data={"username": "ratelimited", "token": "wrong",
                                             "csrf": csrf_of(form)})
        assert bad.status_code == 401
        assert "wrong" not in bad.text
    form = client.get("/ui/login").text
    assert client.post("/ui/login", data={"username": "ratelimited", "token": "wrong",
                                          "csrf": csrf_of(form)}).status_code == 429
    # a sign-in without the form's token is refused
    assert httpx.post(f"{url}/ui/login", data={"username": "analyst",
                      "token": world.tokens["analyst"]}).status_code == 403


def test_a_rotated_token_ends_the_session(world: World, url: str) -> None:
    user = "rotated-" + uuid.uuid4().hex[:6]
    token = world.node.add_user(user, "CERT-JP")
    client = sign_in(url, user, token)
    assert client.get("/ui/").status_code == 200
    world.node.rotate_token(user)
    assert client.get("/ui/", follow_redirects=False).status_code == 303
