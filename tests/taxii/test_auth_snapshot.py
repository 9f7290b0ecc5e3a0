"""Authentication answered from the policy snapshot still sees every change to users and grants,
including changes made by another process (here: another Node on the same directory, as the
``kizuna user add`` and ``kizuna grant`` commands are)."""

from __future__ import annotations

import base64

import httpx

from kizuna.node import Node
from kizuna.taxii.media import TAXII

from ..conftest import Live


def _get(url: str, token: str, user: str | None = None) -> httpx.Response:
    if user is None:
        auth = f"Bearer {token}"
    else:
        auth = "Basic " + base64.b64encode(f"{user}:{token}".encode()).decode()
    return httpx.get(url, headers={"Authorization": auth, "Accept": TAXII}, timeout=30)


def test_users_and_grants_added_elsewhere_take_effect_on_the_next_request(live: Live) -> None:
    collections = live.api + "collections/"
    assert _get(collections, live.token).status_code == 200  # the snapshot is cached now

    other = Node.open(live.node.directory)  # another process's view of the node
    try:
        other.add_org("JPN-CERT", "JPN")
        token = other.add_user("analyst", "JPN-CERT")
        c = other.add_collection("shared with JPN")
        # The new user authenticates at once (Bearer and Basic) but sees no collection yet.
        first = _get(collections, token)
        assert first.status_code == 200
        assert c.id not in first.text
        assert _get(collections, token, "analyst").status_code == 200
        # The wrong user name with a valid token, and an unknown token, are refused.
        assert _get(collections, token, "admin").status_code == 401
        assert _get(collections, token + "x").status_code == 401
        # A grant made elsewhere shows on the next request.
        other.grant(c.id, "JPN-CERT", read=True, write=False)
        listed = _get(collections, token).json()["collections"]
        assert [x["id"] for x in listed if x["id"] == c.id] == [c.id]
        objects = _get(f"{collections}{c.id}/objects/", token)
        assert objects.status_code == 200
    finally:
        other.close()
