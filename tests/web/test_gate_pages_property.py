"""The gate's property over the UI's pages, on the generated worlds of the policy tests.

For each world (tests/policy/worlds.py: organizations, communities, grants, markings and
versions of every shape the gate decides on) and each of its principals (a user of each
organization under names that look like other principals', and a peer node's account),
signed in to the UI, every page is rendered: the home page, each collection's page (and by
type, and its export), every stored id's object page (one hop and two), a search, the space
page. Checked against the reference model (tests/policy/reference.py), independently of the
gate:

- no byte of any page, HTML entities decoded, holds an id or a planted field value (a
  ``tok-`` token) that the principal may not receive; ids its request named excepted;
- an object page answers 200 exactly when the principal receives a version of that id, and
  otherwise the absent id's 404, byte for byte (the id replaced);
- a collection it may not read answers an absent collection's 404; one it may read counts
  exactly the versions it receives.

Kept quick (a few worlds; KIZUNA_GATE_PAGE_EXAMPLES for more).
"""

from __future__ import annotations

import asyncio
import html
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import httpx
from hypothesis import HealthCheck, Phase, given, settings
from starlette.routing import Mount

from kizuna.node import Node, read_page
from kizuna.stix.markings import TLP2_IDS
from kizuna.store.types import ObjectQuery
from kizuna.taxii.app import create_app
from kizuna.web import mount
from kizuna.web._sessions import COOKIE
from tests.policy import reference as ref
from tests.policy.oracle import Allowed
from tests.policy.test_gate_property import Expect, stored_dates
from tests.policy.worlds import ABSENT, COLLECTIONS, accounts, build_node, worlds

ABSENT_COLLECTION = "c-absent"


def _public_ids(node: Node) -> set[str]:
    """Ids every principal may see on a page: the definitions collection's objects, the TLP
    markings the search page offers, the node's identity."""
    snap = node.snapshot()
    out = set(TLP2_IDS.values()) | {node.config.identity_id}
    for c in snap.collections.values():
        if c.kind == "definitions":
            admin = next(u for u in snap.users.values() if u.is_admin)
            page = read_page(node.store, snap, node.principal_for(admin), c, ObjectQuery(c.id), 10_000)
            out.update(r.row.stix_id for r in page.items)
    return out


def _leaks(body: str, allowed: Allowed, extra: set[str]) -> list[str]:
    text = html.unescape(body)
    found = [f"id {i}" for i in ref.ID_RE.findall(text) if i not in allowed.ids and i not in extra]
    found += [f"value {t}" for t in ref.TOKEN_RE.findall(text) if t not in allowed.tokens]
    return found


async def _check(client: httpx.AsyncClient, path: str, allowed: Allowed, public: set[str],
                 what: str, named: tuple[str, ...] = ()) -> Any:
    answer = await client.get(path)
    assert answer.status_code in (200, 404), (what, path, answer.status_code, answer.text[:500])
    found = _leaks(answer.text, allowed, public | set(named))
    assert not found, f"{what} {path}: {sorted(set(found))[:5]}"
    return answer


def _count(html_text: str) -> int:
    m = re.search(r'>All</a> <span class="num">(\d+)\+?</span>', html_text)
    assert m, html_text[:2000]
    return int(m.group(1))


def check_pages(world: ref.World, acc: dict[str, Any]) -> None:
    root = Path(tempfile.mkdtemp())
    node, users = build_node(root, world, acc)
    try:
        asyncio.run(_pages(node, users, world))
    finally:
        node.close()
        shutil.rmtree(root, ignore_errors=True)


async def _pages(node: Node, users: dict[str, tuple[str, ref.Who]], world: ref.World) -> None:
    app = mount(create_app(node), node)
    ui = next(r.app for r in app.routes if isinstance(r, Mount) and r.path == "/ui").state.ui
    dates = stored_dates(node)
    public = _public_ids(node)
    ids = sorted({o["id"] for objs in world.stored.values() for o in objs})
    snap = node.snapshot()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://node") as client:
        for username, (_, who) in users.items():
            client.cookies.set(COOKIE, ui.sessions.issue(snap, username))
            what = f"{username} {who}"
            expects = {cid: Expect(world, who, cid, dates) for cid in COLLECTIONS}
            allowed = Allowed()
            for exp in expects.values():
                allowed = Allowed(allowed.ids | exp.allowed.ids, allowed.tokens | exp.allowed.tokens)
            for path in ("/ui/", "/ui/space/", "/ui/search?q=tok", "/ui/search?q=--",
                         f"/ui/search?q=tok&collection={sorted(COLLECTIONS)[0]}"):
                assert (await _check(client, path, allowed, public, what)).status_code == 200
            absent = await _check(client, f"/ui/collections/{ABSENT_COLLECTION}/", allowed, public,
                                  what, (ABSENT_COLLECTION,))
            for cid, exp in expects.items():
                page = await _check(client, f"/ui/collections/{cid}/", allowed, public, what, (cid,))
                if not exp.readable:
                    assert page.status_code == 404, (what, cid)
                    assert page.text.replace(cid, "C") == absent.text.replace(
                        ABSENT_COLLECTION, "C"), (what, cid)
                    continue
                assert page.status_code == 200, (what, cid)
                received = sum(len(vs) for vs in exp.picks["last"].values())
                assert _count(page.text) == received, (what, cid)
                for extra in ("?type=indicator", "?sort=name"):
                    await _check(client, f"/ui/collections/{cid}/{extra}", allowed, public, what,
                                 (cid,))
                export = await client.get(f"/ui/collections/{cid}/export")
                bundle = re.match(r'\{"type":"bundle","id":"(bundle--[0-9a-f-]{36})"', export.text)
                assert bundle, export.text[:200]
                found = _leaks(export.text, allowed, public | {bundle.group(1)})
                assert not found, f"{what} export of {cid}: {sorted(set(found))[:5]}"
            gone = await client.get(f"/ui/objects/{ABSENT[1]}")
            assert gone.status_code == 404
            for oid in [*ids, ABSENT[0]]:
                sees = any(exp.views("all", oid) for exp in expects.values())
                for suffix in ("", "?hops=2"):
                    answer = await _check(client, f"/ui/objects/{oid}{suffix}", allowed, public,
                                          what, (oid,))
                    if sees:
                        assert answer.status_code == 200, (what, oid)
                    else:
                        assert answer.status_code == 404, (what, oid)
                        if not suffix:
                            assert answer.text.replace(oid, "ID") == gone.text.replace(
                                ABSENT[1], "ID"), (what, oid)


test_pages_release_nothing_hidden = settings(
    max_examples=int(os.environ.get("KIZUNA_GATE_PAGE_EXAMPLES", "10")),
    deadline=None,
    # KIZUNA_GATE_SHRINK=0: report the first failing world as found, as the policy test does.
    phases=[p for p in Phase if os.environ.get("KIZUNA_GATE_SHRINK") != "0" or p != Phase.shrink],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)(given(world=worlds(), acc=accounts())(check_pages))
