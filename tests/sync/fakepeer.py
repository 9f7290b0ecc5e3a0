"""A fake peer: a TAXII 2.1 objects endpoint on 127.0.0.1 that misbehaves on purpose.

Real HTTP (``http.server``), so that what reaches the sync client is exactly the bytes a
hostile or broken peer would send: truncated bodies, headers that cannot be a cursor, answers
that never end. Each mode is a method ``mode_NAME(query) -> Answer`` (or ``stream_NAME``,
which writes to the socket itself). The objects it serves by default are ``count`` valid
indicators, the i-th added at ``BASE + i`` seconds.

Also a program, for the benchmark: ``python -m tests.sync.fakepeer MODE PORT``.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import uuid
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from kizuna.stix.timestamps import format_micros, to_micros

BASE_US = to_micros("2026-03-01T00:00:00.000Z")
TAXII = "application/taxii+json;version=2.1"


def added(i: int) -> str:
    """The date_added of object *i*."""
    return format_micros(BASE_US + i * 1_000_000)


def fake_indicator(i: int, **extra: Any) -> dict[str, Any]:
    stamp = "2026-02-01T00:00:00.000Z"
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.UUID(int=i + 1, version=4)}",
        "created": stamp,
        "modified": stamp,
        "name": f"fake {i}",
        "pattern": f"[domain-name:value = 'fake-{i}.example']",
        "pattern_type": "stix",
        "valid_from": stamp,
    }
    obj.update(extra)
    return obj


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


class FakePeer:
    """The behaviour of the fake peer (one *mode*) over its *objects* (JSON values, or bytes
    sent as they are)."""

    def __init__(self, mode: str, objects: list[Any] | None = None, count: int = 50) -> None:
        self.mode = mode
        self.count = count
        self.objects: list[Any] = (
            objects if objects is not None else [fake_indicator(i) for i in range(count)]
        )
        self.requests = 0
        self.released = threading.Event()  # ends the hanging answers at shutdown

    # -- the honest behaviour the modes start from ---------------------------------------------

    def _start(self, query: dict[str, str]) -> int:
        token = query.get("next")
        if token is not None:
            return int(token[1:]) if token[1:].isdigit() else 0
        after = query.get("added_after")
        if after is None:
            return 0
        return max(0, (to_micros(after) - BASE_US) // 1_000_000 + 1)

    def page(self, start: int, query: dict[str, str], *, more: bool | None = None) -> Answer:
        limit = int(query.get("limit", "1000"))
        chunk = self.objects[start : start + limit]
        end = start + len(chunk)
        more = end < len(self.objects) if more is None else more
        envelope: dict[str, Any] = {"more": more}
        if more:
            envelope["next"] = f"n{end}"
        # Objects given as bytes are sent as they are (too deep for any encoder, say).
        objects = b",".join(o if isinstance(o, bytes) else json.dumps(o).encode() for o in chunk)
        body = json.dumps(envelope).encode()[:-1] + b', "objects": [' + objects + b"]}"
        headers = {}
        if chunk:
            headers = {
                "X-TAXII-Date-Added-First": added(start),
                "X-TAXII-Date-Added-Last": added(end - 1),
            }
        return Answer(200, body, headers)

    def mode_good(self, query: dict[str, str]) -> Answer:
        if "match[id]" in query:  # marking-definitions asked for by id: none here
            return Answer(200, b'{"more": false, "objects": []}')
        return self.page(self._start(query), query)

    # -- pages that loop, go back, or never end ------------------------------------------------

    def mode_loop_next(self, query: dict[str, str]) -> Answer:
        """Every page says more, with the same next token (the first page's objects again),
        and no date headers (so only the token shows the loop)."""
        answer = _edit(self.page(0, query, more=True), next="loop")
        answer.headers = {}
        return answer

    def mode_backwards(self, query: dict[str, str]) -> Answer:
        """next goes forward, but each page after the first is an earlier one again."""
        start = self._start(query)
        return _edit(self.page(max(0, start - 20), query, more=True), next=f"n{start + 10}")

    def mode_endless(self, query: dict[str, str]) -> Answer:
        """New objects on every page, dates advancing, more: true for ever."""
        start = self._start(query)
        limit = int(query.get("limit", "1000"))
        chunk = [fake_indicator(start + k) for k in range(limit)]
        body = {"more": True, "next": f"n{start + limit}", "objects": chunk}
        headers = {
            "X-TAXII-Date-Added-First": added(start),
            "X-TAXII-Date-Added-Last": added(start + limit - 1),
        }
        return Answer(200, json.dumps(body).encode(), headers)

    def mode_nothing_new(self, query: dict[str, str]) -> Answer:
        """The same objects on every page, a fresh next token each time, no date headers."""
        answer = _edit(self.page(0, query, more=True), next=f"n{uuid.uuid4().hex}")
        answer.headers = {}
        return answer

    def mode_dates_only(self, query: dict[str, str]) -> Answer:
        """Honest pages without next tokens: the client goes on with added_after."""
        return _edit(self.page(self._start(query), query), next=None)

    def mode_more_forever(self, query: dict[str, str]) -> Answer:
        """more: true, no next token, and the same date headers on every page."""
        return _edit(self.page(0, query, more=True), next=None)

    def mode_fat(self, query: dict[str, str]) -> Answer:
        """``count`` indicators of about 1 KiB each, made as they are asked for (a large
        honest collection: the benchmark's 1 GiB sync)."""
        start = self._start(query)
        limit = int(query.get("limit", "1000"))
        end = min(start + limit, self.count)
        chunk = [fake_indicator(i, description=_FILLER) for i in range(start, end)]
        body: dict[str, Any] = {"more": end < self.count, "objects": chunk}
        if end < self.count:
            body["next"] = f"n{end}"
        headers = {}
        if chunk:
            headers = {
                "X-TAXII-Date-Added-First": added(start),
                "X-TAXII-Date-Added-Last": added(end - 1),
            }
        return Answer(200, json.dumps(body).encode(), headers)

    # -- errors and garbage --------------------------------------------------------------------

    def mode_http500(self, query: dict[str, str]) -> Answer:
        return Answer(500, b'{"title": "Internal error", "http_status": "500"}')

    def mode_garbage(self, query: dict[str, str]) -> Answer:
        return Answer(200, b'{"more": tru\x00\xff not json', {})

    def mode_not_envelope(self, query: dict[str, str]) -> Answer:
        return Answer(200, b'{"more": "yes", "objects": {"a": 1}, "next": 5}', {})

    def mode_bad_dates(self, query: dict[str, str]) -> Answer:
        answer = self.mode_good(query)
        answer.headers = {"X-TAXII-Date-Added-Last": "yesterday; DROP TABLE sync_cursors"}
        return answer

    def mode_future_dates(self, query: dict[str, str]) -> Answer:
        answer = self.mode_good(query)
        answer.headers = {"X-TAXII-Date-Added-Last": "2999-01-01T00:00:00.000Z"}
        return answer

    def mode_first_after_last(self, query: dict[str, str]) -> Answer:
        answer = self.mode_good(query)
        answer.headers = {
            "X-TAXII-Date-Added-First": added(len(self.objects) + 5),
            "X-TAXII-Date-Added-Last": added(1),
        }
        return answer

    def mode_bad_next(self, query: dict[str, str]) -> Answer:
        return _edit(self.page(0, query, more=True), next="x" * 5000)

    # -- modes that write the answer themselves ------------------------------------------------

    def stream_truncated(self, handler: BaseHTTPRequestHandler, query: dict[str, str]) -> None:
        """Announces a whole page, sends half of it, closes the connection."""
        body = self.mode_good(query).body
        handler.send_response(200)
        handler.send_header("Content-Type", TAXII)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body[: len(body) // 2])
        handler.wfile.flush()
        handler.close_connection = True

    def stream_hang(self, handler: BaseHTTPRequestHandler, query: dict[str, str]) -> None:
        """Reads the request, answers nothing until the server stops."""
        self.released.wait(300)
        handler.close_connection = True

    def stream_trickle(self, handler: BaseHTTPRequestHandler, query: dict[str, str]) -> None:
        """Sends the headers, then one byte of the body every 0.2 s, for ever."""
        handler.send_response(200)
        handler.send_header("Content-Type", TAXII)
        handler.end_headers()
        handler.close_connection = True
        try:
            handler.wfile.write(b'{"objects": [')
            while not self.released.wait(0.2):
                handler.wfile.write(b" ")
                handler.wfile.flush()
        except OSError:
            pass

    def stream_huge(self, handler: BaseHTTPRequestHandler, query: dict[str, str]) -> None:
        """An answer of 1 GiB of indicators (no Content-Length), whatever the limit."""
        _stream(handler, _huge_body(1 << 30), gzipped=False)

    def stream_gzip_bomb(self, handler: BaseHTTPRequestHandler, query: dict[str, str]) -> None:
        """1 GiB of JSON whitespace, gzip-compressed to about a megabyte."""
        _stream(handler, _spaces(1 << 30), gzipped=True)


_FILLER = "Seen in a phishing campaign against ministries. " * 14


def _edit(answer: Answer, **changes: Any) -> Answer:
    """*answer* with members of its envelope changed (None removes one)."""
    body = json.loads(answer.body)
    for key, value in changes.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return Answer(answer.status, json.dumps(body).encode(), dict(answer.headers))


def _huge_body(size: int) -> Iterator[bytes]:
    yield b'{"more": false, "objects": ['
    sent, i = 0, 0
    while sent < size:
        chunk = b",".join(json.dumps(fake_indicator(i + k)).encode() for k in range(1000))
        yield (b"," if i else b"") + chunk
        sent += len(chunk)
        i += 1000
    yield b"]}"


def _spaces(size: int) -> Iterator[bytes]:
    yield b'{"objects": ['
    block = b" " * (1 << 20)
    for _ in range(size >> 20):
        yield block
    yield b"]}"


def _stream(handler: BaseHTTPRequestHandler, parts: Iterator[bytes], *, gzipped: bool) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", TAXII)
    if gzipped:
        handler.send_header("Content-Encoding", "gzip")
    handler.end_headers()
    handler.close_connection = True
    packer = zlib.compressobj(9, zlib.DEFLATED, 31) if gzipped else None
    try:
        for part in parts:
            handler.wfile.write(packer.compress(part) if packer else part)
        if packer:
            handler.wfile.write(packer.flush())
    except OSError:
        pass  # the client refused the rest: what it should do


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    peer: FakePeer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self) -> None:
        peer = self.server.peer  # type: ignore[attr-defined]
        peer.requests += 1
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
        stream = getattr(peer, f"stream_{peer.mode}", None)
        if stream is not None:
            stream(self, query)
            return
        answer: Answer = getattr(peer, f"mode_{peer.mode}")(query)
        self.send_response(answer.status)
        self.send_header("Content-Type", TAXII)
        self.send_header("Content-Length", str(len(answer.body)))
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(answer.body)

    do_GET = _answer
    do_POST = _answer


@contextmanager
def fake_peer(peer: FakePeer, port: int = 0) -> Iterator[str]:
    """Serve *peer* on 127.0.0.1; yield its base URL (the API root is URL/api/)."""
    server = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
    server.daemon_threads = True
    server.peer = peer  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        peer.released.set()
        server.shutdown()
        server.server_close()
        thread.join(10)


def main() -> None:
    mode, port = sys.argv[1], int(sys.argv[2])
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 50
    with fake_peer(FakePeer(mode, count=count), port) as url:
        print(url, flush=True)
        while True:
            time.sleep(3600)


if __name__ == "__main__":
    main()


__all__ = ["Answer", "FakePeer", "added", "fake_indicator", "fake_peer"]
