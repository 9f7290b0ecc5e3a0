"""A serving process: garbage is collected once a request has been answered, not inside it."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kizuna.node import Node
from kizuna.taxii.app import create_app
from kizuna.taxii.asgi import BACKSTOP, YOUNG, CollectBetweenRequests, collect_if_due, serving


def _cycles(n: int) -> int:
    """Make *n* lists that refer to themselves: garbage that reference counts cannot free."""
    for _ in range(n):
        cycle: list[Any] = []
        cycle.append(cycle)
    return n


@pytest.fixture
def collector_events() -> Iterator[list[str]]:
    """What happened, in order: the app's own events and the collections that ran."""
    events: list[str] = []

    def seen(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            events.append(f"collect {info['generation']}")

    thresholds = gc.get_threshold()
    gc.callbacks.append(seen)
    gc.disable()  # no automatic collection gets in the way of what is measured
    try:
        yield events
    finally:
        gc.enable()
        gc.callbacks.remove(seen)
        gc.set_threshold(*thresholds)


def test_a_request_that_made_garbage_is_followed_by_one_young_collection(
    collector_events: list[str],
) -> None:
    async def busy(scope: Any, receive: Any, send: Any) -> None:
        made = _cycles(5 * YOUNG)  # garbage that only the collector can free
        collector_events.append("answered")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": str(made).encode()})

    async def two_requests() -> None:
        transport = httpx.ASGITransport(app=CollectBetweenRequests(busy))
        async with httpx.AsyncClient(transport=transport, base_url="http://k") as client:
            for _ in range(2):
                assert (await client.get("/")).text == str(5 * YOUNG)

    gc.collect()
    collector_events.clear()
    asyncio.run(two_requests())
    answered = [i for i, e in enumerate(collector_events) if e == "answered"]
    assert len(answered) == 2
    # Nothing collected while a request ran; a young collection after each answer.
    assert collector_events[answered[0] + 1] == "collect 0"
    assert collector_events[answered[1] + 1].startswith("collect ")


def test_collect_if_due_keeps_the_generations_as_cpython_does(
    collector_events: list[str],
) -> None:
    gc.collect()
    assert collect_if_due() is None  # nothing made since: nothing to do
    _, every_middle, every_old = gc.get_threshold()
    collected = []
    for _ in range(4 * (every_middle + 1) * (every_old + 1)):
        _cycles(YOUNG + 1)  # (what a collection frees counts too: not every call collects)
        generation = collect_if_due()
        if generation is not None:
            collected.append(generation)
    # The middle generation after every_middle collections of the youngest, the oldest after
    # every_old of the middle one.
    assert collected[: every_middle + 1] == [0] * every_middle + [1]
    assert 2 in collected
    assert collected[: collected.index(2)].count(1) == every_old


def test_serving_freezes_what_lives_long_and_moves_automatic_collection_out_of_the_way(
    node: Node, tmp_path: Path
) -> None:
    thresholds = gc.get_threshold()
    node.close()
    node = Node.open(tmp_path / "node")  # as `kizuna serve` opens it: nothing read yet
    recent = node.store._recent_ids
    assert recent is not None and not recent.started
    try:
        served = serving(create_app(node))
        # What the first request would wait for was read before it: the id index's keys.
        assert recent.started
        assert isinstance(served, CollectBetweenRequests)
        assert gc.get_threshold() == (BACKSTOP, *thresholds[1:])
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
        node.close()
