"""Where a request touches the store: on the event loop's thread when it is alone, in a worker
thread while others are in flight (so that they go on meanwhile)."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx

from kizuna.node import Node
from kizuna.taxii._context import Context
from kizuna.taxii.app import create_app
from kizuna.taxii.media import TAXII

from ..conftest import serve_app


def test_a_lone_request_runs_on_the_loop_and_one_among_others_in_a_worker(node: Node) -> None:
    ctx = Context(node)

    async def where(active: int) -> str:
        ctx.active = active
        try:
            return await ctx.run(lambda: threading.current_thread().name)
        finally:
            ctx.active = 0

    loop_thread = threading.current_thread().name
    assert asyncio.run(where(1)) == loop_thread
    assert asyncio.run(where(2)).startswith("kizuna-api")


def test_requests_at_once_are_all_answered_and_the_count_returns_to_zero(
    node_and_token: tuple[Node, str],
) -> None:
    node, token = node_and_token
    app = create_app(node)
    headers = {"Authorization": f"Bearer {token}", "Accept": TAXII}
    with serve_app(app) as url:

        def get(_: int) -> int:
            return httpx.get(url + "/api/collections/", headers=headers, timeout=30).status_code

        with ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(get, range(64)))
        assert codes == [200] * 64
        # Error paths (no credentials; a POST that is not an envelope) leave the count right.
        assert httpx.get(url + "/api/collections/", timeout=30).status_code == 401
        bad = httpx.post(
            url + "/api/collections/nope/objects/",
            headers={**headers, "Content-Type": TAXII},
            content=b"{}",
            timeout=30,
        )
        assert bad.status_code == 404
    assert app.state.context.active == 0
