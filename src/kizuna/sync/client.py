"""A TAXII 2.1 client for node-to-node sync, over any httpx transport.

It pages with ``added_after`` and ``next`` as TAXII 2.1 says, and retries what can be retried
(connection failures, timeouts, 5xx, 429, answers that are not the JSON they should be) with
exponential backoff and a log line per retry. Anything else (401, 403, 404, 4xx) is a
:class:`SyncError` at once: retrying would not help.

Whatever the peer sends is read incrementally, counted against the round's :class:`Budget`
and refused past ``max_answer_bytes`` (a page too large is asked for again with half the
page size); no request, retry or wait outlives the round's deadline.

Tests pass a transport that injects faults; production uses httpx's default (TLS verified
against the peer's CA file when one is configured).
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import msgspec

from kizuna.errors import SyncError
from kizuna.sync._envelope import decode_envelope
from kizuna.sync._limits import Budget, Limits
from kizuna.taxii.media import TAXII

__all__ = ["AnswerTooLarge", "DeadlineReached", "Page", "PushResult", "TaxiiClient"]

log = logging.getLogger("kizuna.sync")


class AnswerTooLarge(SyncError):
    """An answer larger than ``sync_max_answer_bytes``: refused while it was being read.

    It keeps the answer's date headers and first bytes: when the answer was one object, the
    pull can refuse that object alone and move its cursor past it.
    """

    def __init__(self, message: str, headers: httpx.Headers, peek: bytes) -> None:
        super().__init__(message)
        self.first_added = headers.get("X-TAXII-Date-Added-First")
        self.last_added = headers.get("X-TAXII-Date-Added-Last")
        self.peek = peek


class DeadlineReached(SyncError):
    """The round's ``sync_round_max_seconds`` passed while waiting for the peer."""


class _Status(msgspec.Struct):
    id: str
    status: str
    success_count: int = 0
    failure_count: int = 0
    pending_count: int = 0
    failures: list[dict[str, Any]] = msgspec.field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a peer's collection, as received (the headers not yet checked)."""

    objects: list[bytes]
    more: bool
    next: str | None
    first_added: str | None
    last_added: str | None
    #: The page size that was asked for (smaller than requested after a too-large answer).
    limit: int


@dataclass(frozen=True, slots=True)
class PushResult:
    status_id: str
    successes: int
    failures: list[dict[str, Any]]


class TaxiiClient:
    """Talks to one peer's TAXII 2.1 API root, within one round's :class:`Budget`."""

    def __init__(
        self,
        api_root: str,
        token: str,
        *,
        transport: httpx.BaseTransport | None = None,
        verify: ssl.SSLContext | bool = True,
        budget: Budget | None = None,
        retries: int = 6,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.api_root = api_root.rstrip("/") + "/"
        self.budget = budget or Budget(Limits())
        self._client = httpx.Client(
            transport=transport,
            verify=verify,
            headers={"Authorization": f"Bearer {token}", "Accept": TAXII},
        )
        self._retries = retries
        self._backoff = backoff
        self._sleep = sleep

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> TaxiiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(
        self, method: str, path: str, decode: Callable[[bytearray], Any], **kwargs: Any
    ) -> tuple[httpx.Headers, Any]:
        url = self.api_root + path
        delay = self._backoff
        for attempt in range(self._retries + 1):
            problem: str
            try:
                status, headers, body = self._read(method, url, **kwargs)
            except httpx.RequestError as exc:
                if _certificate_problem(exc):
                    raise SyncError(
                        f"{method} {url}: the peer's TLS certificate does not verify ({exc}); "
                        "give its CA with: kizuna peer add ... --ca-file PEM"
                    ) from None
                problem = f"{type(exc).__name__}: {exc}"
            else:
                if status < 300:
                    try:
                        return headers, decode(body)
                    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                        problem = f"answer is not the expected TAXII JSON ({exc})"
                elif status >= 500 or status == 429:
                    problem = f"HTTP {status}"
                else:
                    raise SyncError(f"{method} {url}: HTTP {status}: {_description(body)}")
            if attempt == self._retries:
                raise SyncError(f"{method} {url}: gave up after {attempt + 1} attempts: {problem}")
            if self.budget.remaining() < delay:
                raise DeadlineReached(
                    f"{method} {url}: {problem}; the round's deadline "
                    f"(sync_round_max_seconds = {self.budget.limits.max_seconds:g}) comes before "
                    "another attempt"
                )
            log.warning(
                "%s %s: %s; retrying in %.1f s (attempt %d of %d)",
                method,
                url,
                problem,
                delay,
                attempt + 1,
                self._retries,
            )
            self._sleep(delay)
            delay = min(delay * 2, 30.0)
        raise AssertionError("unreachable")  # pragma: no cover

    def _read(self, method: str, url: str, **kwargs: Any) -> tuple[int, httpx.Headers, bytearray]:
        """Status, headers and body of one request, the body read chunk by chunk."""
        budget = self.budget
        limit = budget.limits.max_answer_bytes
        remaining = budget.remaining()
        if remaining <= 0:
            raise DeadlineReached(
                f"{method} {url}: not sent, the round's deadline (sync_round_max_seconds = "
                f"{budget.limits.max_seconds:g}) has passed"
            )
        timeout = httpx.Timeout(min(budget.limits.request_timeout, remaining))
        with self._client.stream(method, url, timeout=timeout, **kwargs) as response:
            declared = response.headers.get("Content-Length", "")
            if declared.isascii() and declared.isdigit() and int(declared) > limit:
                raise AnswerTooLarge(
                    f"{method} {url}: the answer announces {int(declared)} bytes, more than "
                    f"sync_max_answer_bytes ({limit})",
                    response.headers,
                    b"",
                )
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                budget.spend_bytes(len(chunk))
                if len(body) > limit:
                    raise AnswerTooLarge(
                        f"{method} {url}: the answer passed sync_max_answer_bytes ({limit}) "
                        "and was refused there",
                        response.headers,
                        bytes(body[:65536]),
                    )
                if budget.remaining() <= 0:
                    raise DeadlineReached(
                        f"{method} {url}: the round's deadline (sync_round_max_seconds = "
                        f"{budget.limits.max_seconds:g}) passed while the answer was read "
                        f"({len(body)} bytes so far)"
                    )
            return response.status_code, response.headers, body

    def get_objects(
        self,
        collection: str,
        *,
        added_after: str | None = None,
        next_token: str | None = None,
        limit: int = 1000,
        ids: list[str] | None = None,
    ) -> Page:
        """One page of every version in *collection*, oldest first (only *ids* if given).

        An answer too large is asked for again with half the page size, down to one object.
        """
        params: dict[str, str | int] = {"match[version]": "all"}
        if ids:
            params["match[id]"] = ",".join(ids)
        if next_token:
            params["next"] = next_token
        elif added_after:
            params["added_after"] = added_after
        while True:
            try:
                headers, env = self._request(
                    "GET",
                    f"collections/{collection}/objects/",
                    decode_envelope,
                    params={**params, "limit": limit},
                )
            except AnswerTooLarge as exc:
                if limit <= 1:
                    raise
                limit = max(1, limit // 2)
                log.warning("%s; asking again for %d objects per page", exc, limit)
                continue
            return Page(
                objects=env.objects,
                more=env.more,
                next=env.next,
                first_added=headers.get("X-TAXII-Date-Added-First"),
                last_added=headers.get("X-TAXII-Date-Added-Last"),
                limit=limit,
            )

    def add_objects(self, collection: str, objects: list[bytes]) -> PushResult:
        body = b'{"objects":[' + b",".join(objects) + b"]}"
        _, status = self._request(
            "POST",
            f"collections/{collection}/objects/",
            lambda b: msgspec.json.decode(b, type=_Status),
            content=body,
            headers={"Content-Type": TAXII},
        )
        if status.status != "complete" or status.pending_count:
            raise SyncError(
                f"peer answered status {status.status} with {status.pending_count} pending"
            )
        return PushResult(status.id, status.success_count, list(status.failures))


def _certificate_problem(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return "CERTIFICATE_VERIFY_FAILED" in str(exc)


def _description(body: bytes | bytearray) -> str:
    try:
        parsed = msgspec.json.decode(body)
    except (msgspec.DecodeError, RecursionError):
        parsed = None
    if isinstance(parsed, dict) and isinstance(parsed.get("description"), str):
        return str(parsed["description"])[:500]
    return bytes(body[:200]).decode("utf-8", "replace")
