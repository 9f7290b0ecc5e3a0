"""Status resources are kept for ``status_retention_days``, then deleted after a POST."""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest
from sqlalchemy import text

from kizuna.errors import ConfigError
from kizuna.node import Node
from kizuna.stix.timestamps import now_micros
from kizuna.taxii.app import create_app
from kizuna.taxii.media import TAXII

from ..conftest import serve_app
from ..helpers import auth, envelope, indicator

DAY_US = 86_400_000_000


def _post(url: str, token: str, cid: str) -> str:
    answer = httpx.post(
        f"{url}/api/collections/{cid}/objects/",
        content=envelope([indicator()]),
        headers={**auth(token), "Content-Type": TAXII},
        timeout=30,
    )
    assert answer.status_code == 202, answer.text
    return str(answer.json()["id"])


def _age(node: Node, status_id: str, days: int) -> None:
    """Make a stored status look *days* old."""
    with node.store._writing() as conn:
        conn.execute(
            text("UPDATE statuses SET created_us = :t WHERE id = :id"),
            {"t": now_micros() - days * DAY_US, "id": status_id},
        )


def test_statuses_past_retention_go_and_younger_ones_stay(
    node_and_token: tuple[Node, str],
) -> None:
    node, token = node_and_token
    node.config = replace(node.config, status_retention_days=7)
    cid = node.add_collection("shared").id
    with serve_app(create_app(node)) as url:
        old, young = _post(url, token, cid), _post(url, token, cid)
    _age(node, old, 8)
    _age(node, young, 6)
    # A new app (a restarted server) prunes after its first POST.
    with serve_app(create_app(node)) as url:
        newest = _post(url, token, cid)
        codes = {
            sid: httpx.get(f"{url}/api/status/{sid}/", headers=auth(token), timeout=30)
            for sid in (old, young, newest)
        }
    assert codes[young].status_code == 200 and codes[newest].status_code == 200
    gone = codes[old]
    assert gone.status_code == 404
    assert gone.headers["content-type"] == TAXII
    assert "kept for 7 days" in gone.json()["description"]


def test_retention_zero_keeps_statuses_for_ever(node_and_token: tuple[Node, str]) -> None:
    node, token = node_and_token
    node.config = replace(node.config, status_retention_days=0)
    cid = node.add_collection("shared").id
    with serve_app(create_app(node)) as url:
        old = _post(url, token, cid)
        _age(node, old, 10_000)
        _post(url, token, cid)
        kept = httpx.get(f"{url}/api/status/{old}/", headers=auth(token), timeout=30)
    assert kept.status_code == 200
    assert kept.json()["id"] == old


def test_a_negative_retention_is_refused(node: Node) -> None:
    node.config = replace(node.config, status_retention_days=-1)
    with pytest.raises(ConfigError, match="status_retention_days is -1"):
        create_app(node)


def test_the_store_prunes_by_age_in_batches(node: Node) -> None:
    for n in range(5):
        node.store.put_status(f"s-old-{n}", "c", "user:x", b"{}")
        _age(node, f"s-old-{n}", 2)
    node.store.put_status("s-new", "c", "user:x", b"{}")
    assert node.store.prune_statuses(now_micros() - DAY_US, batch=2) == 5
    assert all(node.store.status(f"s-old-{n}") is None for n in range(5))
    assert node.store.status("s-new") is not None
    assert node.store.prune_statuses(now_micros() - DAY_US, batch=2) == 0
