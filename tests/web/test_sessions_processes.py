"""A session ends in every process of the node at once: signing out, disabling the user and
rotating its token through one process makes the same cookie useless in another.

Two UIs of one node, each with the node opened on its own (as two processes of
``kizuna serve --workers 2`` are: their own store, snapshot and sessions), on SQLite and
PostgreSQL; a cookie made by A is presented to B."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from kizuna.node import Node
from kizuna.store import schema
from kizuna.taxii.app import create_app
from kizuna.web import mount
from kizuna.web._sessions import COOKIE, ENDED_MARGIN_SECONDS, LIFETIME_SECONDS, Sessions
from tests.conftest import free_port, serve_app
from tests.web.conftest import csrf_of, sign_in


@dataclass
class Two:
    a: Node
    b: Node
    urls: tuple[str, str]
    tokens: dict[str, str]


@pytest.fixture
def two(tmp_path: Path, database: str) -> Iterator[Two]:
    with ExitStack() as stack:
        a, admin = Node.init(tmp_path / "n", name="n", org="CERT", country="FRA",
                             database=database)
        stack.callback(a.close)
        tokens = {"admin": admin, "aiko": a.add_user("aiko", "CERT")}
        b = Node.open(tmp_path / "n")
        stack.callback(b.close)
        url_a = stack.enter_context(serve_app(mount(create_app(a), a)))
        url_b = stack.enter_context(serve_app(mount(create_app(b), b)))
        yield Two(a, b, (url_a, url_b), tokens)


def _in(url: str, cookie: str) -> httpx.Client:
    """A browser holding *cookie*, at *url*."""
    return httpx.Client(base_url=url, cookies={COOKIE: cookie}, follow_redirects=False)


def _signed_in(client: httpx.Client) -> bool:
    answer = client.get("/ui/")
    assert answer.status_code in (200, 303), answer.text
    return answer.status_code == 200


def _session(two: Two, user: str = "aiko") -> tuple[httpx.Client, str, httpx.Client]:
    at_a = sign_in(two.urls[0], user, two.tokens[user])
    cookie = at_a.cookies[COOKIE]
    at_b = _in(two.urls[1], cookie)
    assert _signed_in(at_a) and _signed_in(at_b)
    return at_a, cookie, at_b


def test_signing_out_in_one_process_ends_the_session_in_the_other(two: Two) -> None:
    at_a, cookie, at_b = _session(two)
    csrf = csrf_of(at_b.get("/ui/").text)  # a form of B, posted later
    signed_out = at_a.post("/ui/logout", data={"csrf": csrf_of(at_a.get("/ui/").text)})
    assert signed_out.status_code == 303
    assert not _signed_in(at_b)  # the next request, no waiting
    assert at_b.post("/ui/logout", data={"csrf": csrf}).status_code == 401
    assert not _signed_in(_in(two.urls[0], cookie))  # the cookie kept by hand, at A too
    # an ended session is refused even by a process opened after it ended
    c = Node.open(two.a.directory)
    try:
        with serve_app(mount(create_app(c), c)) as url_c:
            assert not _signed_in(_in(url_c, cookie))
    finally:
        c.close()
    # a new sign-in is a new session, good everywhere
    _session(two)


def test_a_replayed_cookie_with_another_expiry_is_refused(two: Two) -> None:
    at_a, cookie, at_b = _session(two)
    at_a.post("/ui/logout", data={"csrf": csrf_of(at_a.get("/ui/").text)})
    assert not _signed_in(at_b)
    data, _, mac = cookie.rpartition(".")
    payload = json.loads(base64.urlsafe_b64decode(data))
    for changed in ({**payload, "e": payload["e"] + 3600}, {**payload, "s": payload["s"] + "x"}):
        forged = base64.urlsafe_b64encode(json.dumps(changed, separators=(",", ":")).encode())
        for url in two.urls:
            assert not _signed_in(_in(url, forged.decode() + "." + mac))  # the MAC fails
    # signed with the node's secret (what only the node holds), a new expiry does not
    # revive the ended session either: the id is what is ended
    key = hashlib.sha256(b"kizuna-ui:" + two.a.config.secret.encode()).digest()
    longer = base64.urlsafe_b64encode(
        json.dumps({**payload, "e": payload["e"] + 3600}, separators=(",", ":")).encode())
    resigned = longer.decode() + "." + hmac.new(key, longer, hashlib.sha256).hexdigest()
    assert not _signed_in(_in(two.urls[1], resigned))


def test_disabling_the_user_in_one_process_ends_its_sessions_in_the_other(two: Two) -> None:
    admin = sign_in(two.urls[0], "admin", two.tokens["admin"])
    _, _, at_b = _session(two)
    page = admin.get("/ui/admin/")
    disabled = admin.post("/ui/admin/users/disable", data={"username": "aiko",
                                                           "csrf": csrf_of(page.text)})
    assert disabled.status_code == 303
    assert not _signed_in(at_b)


def test_rotating_the_token_in_one_process_ends_its_sessions_in_the_other(two: Two) -> None:
    _, _, at_b = _session(two)
    fresh = two.a.rotate_token("aiko")
    assert not _signed_in(at_b)
    at_b2 = sign_in(two.urls[1], "aiko", fresh)  # the new token signs in, at either
    assert _signed_in(at_b2)


def test_ended_sessions_are_kept_until_their_cookies_expire_then_forgotten(two: Two) -> None:
    sessions = Sessions(two.a.config.secret, two.a.store)
    snap = two.a.snapshot()
    now = int(time.time())
    old = sessions.read(snap, sessions.issue(snap, "aiko"))
    assert old is not None and now + LIFETIME_SECONDS - 5 <= old.expires <= now + LIFETIME_SECONDS + 5
    sessions.end(old)
    assert two.b.store.session_ended(old.sid)
    e = schema.ended_sessions.c
    with two.a.store._read.connect() as conn:
        kept = conn.execute(schema.ended_sessions.select().where(e.sid == old.sid)).one()
    assert kept.expires == old.expires + ENDED_MARGIN_SECONDS
    # a row whose time has passed goes when the next session ends
    with two.a.store._writing() as conn:
        conn.execute(schema.ended_sessions.update().where(e.sid == old.sid).values(expires=now - 1))
    later = sessions.read(snap, sessions.issue(snap, "aiko"))
    assert later is not None
    sessions.end(later)
    assert not two.b.store.session_ended(old.sid) and two.b.store.session_ended(later.sid)
    with two.a.store._read.connect() as conn:
        assert [r.sid for r in conn.execute(schema.ended_sessions.select())] == [later.sid]


def test_kizuna_serve_with_two_workers_ends_a_session_in_both(tmp_path: Path, database: str) -> None:
    """The real thing: ``kizuna serve --workers 2``, each request on a connection of its own
    (so the kernel spreads them over both worker processes)."""
    node, _ = Node.init(tmp_path / "n", name="n", org="CERT", country="FRA", database=database)
    token = node.add_user("aiko", "CERT")
    node.close()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "kizuna", "serve", str(tmp_path / "n"), "--port", str(port),
         "--workers", "2"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/ui/login", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.1)
        client = sign_in(base, "aiko", token)
        cookie = client.cookies[COOKIE]

        def answers() -> set[int]:
            codes = set()
            for _ in range(24):
                with _in(base, cookie) as fresh:  # a new connection each time
                    codes.add(fresh.get("/ui/").status_code)
            return codes

        assert answers() == {200}
        assert client.post("/ui/logout", data={"csrf": csrf_of(client.get("/ui/").text)}).status_code == 303
        assert answers() == {303}  # to the sign-in page, from either worker
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_a_read_only_node_ends_a_session_in_its_own_process(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """``serve --read-only`` cannot write the table: a sign-out ends the session in the
    process that served it, and says so in the log; over a database made before the table,
    sessions are read without it."""
    node, _ = Node.init(tmp_path / "n", name="n", org="CERT", country="FRA")
    token = node.add_user("aiko", "CERT")
    node.close()
    for drop in (False, True):
        if drop:
            rw = Node.open(tmp_path / "n")
            with rw.store._writing() as conn:
                conn.exec_driver_sql("DROP TABLE ended_sessions")
            rw.close()
        ro = Node.open(tmp_path / "n", read_only=True)
        try:
            with serve_app(mount(create_app(ro), ro)) as url:
                client = sign_in(url, "aiko", token)
                cookie = client.cookies[COOKIE]
                out = client.post("/ui/logout", data={"csrf": csrf_of(client.get("/ui/").text)})
                assert out.status_code == 303
                assert not _signed_in(_in(url, cookie))
        finally:
            ro.close()
    assert "a read-only node cannot record that a session ended" in caplog.text
