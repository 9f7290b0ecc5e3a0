"""The UI's forms read a body only for a signed-in user allowed on the path, and only up to
MAX_FORM_BYTES: a stranger's POST of any size is answered at once without reading it (it
had been read whole into memory, 300 MiB for a 300 MiB upload, before the session was
checked), and a larger body is refused with 413, declared or streamed."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from kizuna.taxii.app import create_app
from kizuna.web import mount
from kizuna.web._ui import MAX_FORM_BYTES
from tests.conftest import serve_app
from tests.web.conftest import csrf_of, sign_in
from tests.web.world import World


def _raw(url: str, head: str, body: bytes, timeout: float = 5.0) -> bytes:
    """Send *head* and the start of a body over a socket; what the server answers before the
    rest of the body is sent (b"" if it waits for it)."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as s:
        s.sendall(head.encode() + b"\r\n\r\n" + body)
        try:
            return s.recv(65536)
        except TimeoutError:
            return b""


@pytest.fixture(scope="module")
def base(world: World) -> Iterator[str]:
    with serve_app(mount(create_app(world.node), world.node)) as url:
        yield url


HUGE = 10 * MAX_FORM_BYTES


def test_a_strangers_post_is_answered_without_reading_its_body(base: str) -> None:
    for path in ("/ui/logout", "/ui/collections/x/import", "/ui/objects/x/notes", "/ui/admin/users"):
        head = (f"POST {path} HTTP/1.1\r\nHost: {urlsplit(base).netloc}\r\n"
                "Content-Type: multipart/form-data; boundary=XX\r\n"
                f"Content-Length: {HUGE}")
        answer = _raw(base, head, b"--XX\r\n")
        assert answer.startswith(b"HTTP/1.1 401"), (path, answer[:200])


def test_a_body_past_the_limit_is_refused(world: World, base: str) -> None:
    client = sign_in(base, "partner", world.tokens["partner"])
    cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    head = (f"POST /ui/collections/{world.intel}/import HTTP/1.1\r\nHost: {urlsplit(base).netloc}\r\n"
            f"Cookie: {cookie}\r\nContent-Type: multipart/form-data; boundary=XX\r\n"
            f"Content-Length: {HUGE}")
    answer = _raw(base, head, b"--XX\r\n")
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    # a non-administrator's POST to an administrators' page: the 404 of an absent path, unread
    head = head.replace(f"/ui/collections/{world.intel}/import", "/ui/admin/users")
    assert _raw(base, head, b"--XX\r\n").startswith(b"HTTP/1.1 404")
    # streamed without a length: read up to the limit, then refused
    page = client.get(f"/ui/collections/{world.intel}/")
    csrf = csrf_of(page.text)

    def body() -> Iterator[bytes]:
        yield (f'--XX\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n{csrf}\r\n'
               '--XX\r\nContent-Disposition: form-data; name="file"; filename="big.json"\r\n'
               "Content-Type: application/json\r\n\r\n").encode()
        chunk = b" " * 2**20
        for _ in range(MAX_FORM_BYTES // len(chunk) + 2):
            yield chunk
        yield b"\r\n--XX--\r\n"

    answer = client.post(f"/ui/collections/{world.intel}/import", content=body(),
                         headers={"content-type": "multipart/form-data; boundary=XX"})
    assert answer.status_code == 413, answer.text[:300]
    assert "at most 65 MiB" in answer.text
    # a file under the limit is still imported
    small = client.post(f"/ui/collections/{world.intel}/import", data={"csrf": csrf},
                        files={"file": ("one.json", b'{"type": "bundle", "id": '
                               b'"bundle--6f3c8a55-9a55-4c55-8c55-1c55b55a5c55", "objects": []}')})
    assert small.status_code == 200, small.text[:300]
    assert "Import summary" in small.text
    assert "at most 65 MiB" not in small.text
