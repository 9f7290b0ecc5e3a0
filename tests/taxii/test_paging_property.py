"""Paging during concurrent writes: pages add up to exactly the stored set.

Hypothesis generates interleavings of POSTs (new objects and new versions of old ones) and
paged reads over real HTTP; whatever the interleaving, a reader that follows ``next`` sees
each stored version exactly once (``match[version]=all``), with no gaps and no duplicates, and
``added_after`` resumes exactly where a finished read stopped.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Live
from tests.helpers import TAXII, auth, envelope, indicator

step = st.one_of(
    st.tuples(st.just("post"), st.integers(1, 7), st.booleans()),
    st.tuples(st.just("read"), st.integers(1, 5), st.just(False)),
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(steps=st.lists(step, min_size=1, max_size=25))
def test_pages_add_up_to_the_stored_set(live: Live, steps: list[tuple[str, int, bool]]) -> None:
    c = live.node.add_collection(f"paging-{uuid.uuid4()}")
    base = f"/api/collections/{c.id}/objects/"
    stored: list[tuple[str, str]] = []
    ids: list[str] = []
    seen: list[tuple[str, str]] = []
    next_token: str | None = None
    after: str | None = None
    limit = 3
    counter = 0
    with httpx.Client(base_url=live.url, headers=auth(live.token)) as client:
        for kind, n, reuse in steps:
            if kind == "post":
                objs: list[dict[str, Any]] = []
                for _ in range(n):
                    counter += 1
                    stamp = f"2026-01-01T00:00:{counter % 60:02d}.{counter:03d}Z"
                    if reuse and ids:
                        oid = ids[counter % len(ids)]
                        objs.append(
                            indicator(oid=oid, created="2025-01-01T00:00:00.000Z", modified=stamp)
                        )
                    else:
                        obj = indicator(created=stamp)
                        ids.append(obj["id"])
                        objs.append(obj)
                r = client.post(base, headers={"Content-Type": TAXII}, content=envelope(objs))
                assert r.status_code == 202
                status = r.json()
                for ok in status["successes"]:
                    if ok["message"] == "stored":
                        stored.append((ok["id"], ok["version"]))
            else:
                for _ in range(n):
                    next_token, after, done = _read(client, base, limit, next_token, after, seen)
                    if done:
                        break
        # Drain what is left, resuming from wherever the reader stopped.
        while True:
            next_token, after, done = _read(client, base, limit, next_token, after, seen)
            if done:
                break
    assert len(seen) == len(set(seen)), "a version was returned twice"
    assert sorted(seen) == sorted(stored), "pages do not add up to the stored set"


def _read(
    client: httpx.Client,
    base: str,
    limit: int,
    next_token: str | None,
    after: str | None,
    seen: list[tuple[str, str]],
) -> tuple[str | None, str | None, bool]:
    """One page, as a TAXII client reads: follow next, or resume with added_after."""
    params: dict[str, Any] = {"limit": limit, "match[version]": "all"}
    if next_token:
        params["next"] = next_token
    elif after:
        params["added_after"] = after
    r = client.get(base, params=params)
    assert r.status_code == 200, r.text
    page = r.json()
    got = page.get("objects", [])
    assert len(got) <= limit
    seen.extend((o["id"], o["modified"]) for o in got)
    if got:
        after = r.headers["X-TAXII-Date-Added-Last"]
    if page.get("more", False):  # TAXII 2.1: absent means false (an empty page is {})
        assert len(got) == limit
        return page["next"], after, False
    assert "next" not in page
    return None, after, True
