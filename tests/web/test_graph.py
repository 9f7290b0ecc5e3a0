"""The neighbourhood of an object page: one or two hops, links, nothing hidden."""

from __future__ import annotations

import re

from tests.web.conftest import sign_in
from tests.web.world import World


def _section(html: str) -> str:
    start = html.index('id="hood"')
    return html[start:html.index("</section>", start)]


def test_one_and_two_hops(world: World, url: str) -> None:
    client = sign_in(url, "analyst", world.tokens["analyst"])
    one = _section(client.get(f"/ui/objects/{world.ids['indicator']}").text)
    two = _section(client.get(f"/ui/objects/{world.ids['indicator']}?hops=2").text)
    malware, attack, identity = (f'/ui/objects/{world.ids[n]}' for n in ("malware", "attack_pattern", "identity"))
    assert malware in one and identity in one and attack not in one
    assert attack in two and "via Злонамерни софтвер" in two
    svg = re.search(r"<svg class=\"graph\".*?</svg>", two, re.S)
    assert svg and "<script" not in svg.group(0) and "style=" not in svg.group(0)
    assert svg.group(0).count("<a href=") == 3 and ">indicates<" in svg.group(0) and ">uses<" in svg.group(0)
    assert ">sighted at<" in svg.group(0)


def test_hidden_ends_are_left_out(world: World, url: str) -> None:
    # the malware uses a TLP:RED implant through a TLP:RED relationship: neither is drawn
    for user in ("analyst", "partner"):
        client = sign_in(url, user, world.tokens[user])
        html = client.get(f"/ui/objects/{world.ids['attack_pattern']}?hops=2").text
        assert world.ids["malware"] in html and world.ids["indicator"] in html
        assert world.hidden["secret"] not in html and "SECRET-RED-IMPLANT" not in html
        assert world.hidden["secret_rel"] not in html
    # the admin sees no more of RED through a grant capped at AMBER+STRICT either; an object
    # with nothing linked has no neighbourhood section at all
    client = sign_in(url, "analyst", world.tokens["analyst"])
    assert 'id="hood"' not in client.get(f"/ui/objects/{world.ids['hostile']}?hops=2").text
