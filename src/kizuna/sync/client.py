"""A TAXII 2.1 client for node-to-node sync, over any httpx transport.

It pages with ``added_after`` and ``next`` as TAXII 2.1 says, and retries what can be retried
(connection failures, timeouts, 5xx, 429, answers that are not the JSON they should be) with
exponential backoff and a log line per retry. Anything else (401, 403, 404, 4xx) is a
:class:`SyncError` at once: retrying would not help.

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

from kizuna.taxii.media import TAXII

log = logging.getLogger("kizuna.sync")


class SyncError(Exception):
    """A sync step that failed for good (after retries, or at once when retrying is futile)."""


class _Envelope(msgspec.Struct):
    more: bool = False
    next: str | None = None
    objects: list[msgspec.Raw] = msgspec.field(default_factory=list)


class _Status(msgspec.Struct):
    id: str
    status: str
    success_count: int = 0
    failure_count: int = 0
    pending_count: int = 0
    failures: list[dict[str, Any]] = msgspec.field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Page:
    objects: list[bytes]
    more: bool
    next: str | None
    last_added: str | None


@dataclass(frozen=True, slots=True)
class PushResult:
    status_id: str
    successes: int
    failures: list[dict[str, Any]]


class TaxiiClient:
    """Talks to one peer's TAXII 2.1 API root."""

    def __init__(
        self,
        api_root: str,
        token: str,
        *,
        transport: httpx.BaseTransport | None = None,
        verify: ssl.SSLContext | bool = True,
        timeout: float = 30.0,
        retries: int = 6,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.api_root = api_root.rstrip("/") + "/"
        self._client = httpx.Client(
            transport=transport,
            verify=verify,
            timeout=timeout,
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
        self, method: str, path: str, decode: Callable[[bytes], Any], **kwargs: Any
    ) -> tuple[httpx.Response, Any]:
        url = self.api_root + path
        delay = self._backoff
        for attempt in range(self._retries + 1):
            problem: str
            try:
                response = self._client.request(method, url, **kwargs)
            except httpx.TransportError as exc:
                if _certificate_problem(exc):
                    raise SyncError(
                        f"{method} {url}: the peer's TLS certificate does not verify ({exc}); "
                        "give its CA with: kizuna peer add ... --ca-file PEM"
                    ) from None
                problem = f"{type(exc).__name__}: {exc}"
            else:
                status = response.status_code
                if status < 300:
                    try:
                        return response, decode(response.content)
                    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                        problem = f"answer is not the expected TAXII JSON ({exc})"
                elif status >= 500 or status == 429:
                    problem = f"HTTP {status}"
                else:
                    raise SyncError(f"{method} {url}: HTTP {status}: {_description(response)}")
            if attempt == self._retries:
                raise SyncError(f"{method} {url}: gave up after {attempt + 1} attempts: {problem}")
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

    def get_objects(
        self,
        collection: str,
        *,
        added_after: str | None = None,
        next_token: str | None = None,
        limit: int = 1000,
        ids: list[str] | None = None,
    ) -> Page:
        """One page of every version in *collection*, oldest first (only *ids* if given)."""
        params: dict[str, str | int] = {"limit": limit, "match[version]": "all"}
        if ids:
            params["match[id]"] = ",".join(ids)
        if next_token:
            params["next"] = next_token
        elif added_after:
            params["added_after"] = added_after
        response, env = self._request(
            "GET",
            f"collections/{collection}/objects/",
            lambda b: msgspec.json.decode(b, type=_Envelope),
            params=params,
        )
        return Page(
            objects=[bytes(o) for o in env.objects],
            more=bool(env.more),
            next=env.next,
            last_added=response.headers.get("X-TAXII-Date-Added-Last"),
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


def _description(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict) and isinstance(body.get("description"), str):
        return str(body["description"])
    return response.text[:200]
