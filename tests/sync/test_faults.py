"""Faults between nodes: a peer that is down, answers 500 or garbage, or closes mid-page.

The sync client retries with backoff (sleep replaced by a recorder here) and the end state is
identical to an undisturbed run: no loss, no duplicate, no stuck cursor.
"""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest

from kizuna.sync.engine import sync
from tests.sync.federation import CATEGORIES, federation, ids_in


class Faulty(httpx.BaseTransport):
    """Real HTTP, except that requests number n in *faults* get the fault named there."""

    def __init__(self, faults: dict[int, str]) -> None:
        self.inner = httpx.HTTPTransport()
        self.faults = faults
        self.count = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.count += 1
        fault = self.faults.get(self.count)
        if fault == "down":
            raise httpx.ConnectError("connection refused (injected)", request=request)
        if fault == "timeout":
            raise httpx.ReadTimeout("peer too slow (injected)", request=request)
        if fault == "closed":
            # The peer answers, then the connection drops in the middle of the page.
            real = self.inner.handle_request(request)
            real.read()
            raise httpx.RemoteProtocolError(
                "peer closed connection mid-body (injected)", request=request
            )
        if fault == "500":
            return httpx.Response(
                500,
                json={"title": "Internal error", "description": "injected", "http_status": "500"},
            )
        if fault == "garbage":
            return httpx.Response(
                200,
                content=b'{"more": tru',
                headers={"Content-Type": "application/taxii+json;version=2.1"},
            )
        return self.inner.handle_request(request)


@pytest.mark.parametrize(
    "faults",
    [
        {1: "down", 2: "down", 3: "500"},
        {2: "garbage", 3: "500", 4: "timeout"},
        {1: "closed", 3: "closed"},
    ],
    ids=["down-then-500", "garbage-500-timeout", "closed-mid-page"],
)
def test_sync_recovers_from_a_misbehaving_peer(
    tmp_path: Path, faults: dict[int, str], caplog: pytest.LogCaptureFixture
) -> None:
    waits: list[float] = []
    options = {"sleep": waits.append, "retries": 5}
    with federation(tmp_path) as fed:
        transport = Faulty(faults)
        caplog.set_level(logging.WARNING, logger="kizuna.sync")
        # Small pages, so faults land between pages as well as on the first one.
        reports = sync(fed.jpn, transport=transport, client_options=options, page_size=40)
        assert [r.error for r in reports] == [None]
        want = {oid for oid, cat in fed.marked.items() if CATEGORIES[cat][1]}
        assert ids_in(fed.jpn, fed.from_nato) & set(fed.marked) == want
        assert len(waits) == len(faults) and waits == sorted(waits)  # backoff grows
        assert any("retrying in" in r.message for r in caplog.records)
        # A second round finds nothing new: the cursor is where it should be.
        again = sync(fed.jpn)
        assert again[0].received == 0 and again[0].stored == 0


def test_a_peer_that_stays_down_is_reported_and_resumed_later(tmp_path: Path) -> None:
    with federation(tmp_path) as fed:
        always_down = Faulty({n: "down" for n in range(1, 100)})
        reports = sync(
            fed.jpn, transport=always_down, client_options={"sleep": lambda s: None, "retries": 2}
        )
        assert reports[0].error is not None and "gave up after 3 attempts" in reports[0].error
        assert ids_in(fed.jpn, fed.from_nato) == set()
        reports = sync(fed.jpn)
        assert reports[0].error is None
        want = {oid for oid, cat in fed.marked.items() if CATEGORIES[cat][1]}
        assert ids_in(fed.jpn, fed.from_nato) & set(fed.marked) == want


def test_forbidden_is_not_retried(tmp_path: Path) -> None:
    with federation(tmp_path) as fed:
        fed.jpn.add_peer(
            "nato",
            fed.urls["nato"],
            org="NATO-CERT",
            token="wrong-token",
            pull=[("shared", "from-nato")],
        )
        waits: list[float] = []
        reports = sync(fed.jpn, client_options={"sleep": waits.append})
        assert reports[0].error is not None and "HTTP 401" in reports[0].error
        assert waits == []
