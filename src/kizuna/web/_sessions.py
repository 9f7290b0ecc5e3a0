"""Signed-in sessions of the UI: a signed cookie, bound to the user's current token.

The cookie holds the user's name, a fingerprint of the token the user signed in with, a
session id, and its expiry, signed with the node's secret (HMAC-SHA256), so every worker
process of ``kizuna serve`` reads it the same and nothing is stored per session. A session
ends when it expires, when its user signs out (its id is revoked in this process and the
cookie cleared), or when the user's token is rotated or disabled (the fingerprint no longer
matches a user of the policy snapshot). The CSRF token of a session is derived from its id.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass

from kizuna.node import Snapshot
from kizuna.policy.principal import Principal

COOKIE = "kizuna_session"
PRE_COOKIE = "kizuna_login"
#: How long a session lasts after sign-in.
LIFETIME_SECONDS = 8 * 3600
#: Failed sign-ins allowed per user name, and per client address, in WINDOW_SECONDS.
MAX_FAILURES = 5
MAX_FAILURES_PER_ADDRESS = 20
WINDOW_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class Session:
    sid: str
    username: str
    expires: int
    principal: Principal

    @property
    def is_admin(self) -> bool:
        return self.principal.is_admin


class Sessions:
    """Makes, reads and ends sessions with the node's *secret*."""

    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"kizuna-ui:" + secret.encode()).digest()
        self._revoked: dict[str, int] = {}
        self._lock = threading.Lock()

    def _sign(self, data: bytes) -> str:
        return hmac.new(self._key, data, hashlib.sha256).hexdigest()

    def fingerprint(self, users_key: str) -> str:
        """A fingerprint of the snapshot's key of a user (its token's hash), safe to send."""
        return self._sign(b"user:" + users_key.encode())[:32]

    def issue(self, snap: Snapshot, username: str) -> str:
        """The cookie value of a new session of *username* (who has just signed in)."""
        key = next(k for k, u in snap.users.items() if u.name == username)
        payload = {
            "u": username,
            "f": self.fingerprint(key),
            "s": secrets.token_urlsafe(16),
            "e": int(time.time()) + LIFETIME_SECONDS,
        }
        data = base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode())
        return data.decode() + "." + self._sign(data)

    def read(self, snap: Snapshot, cookie: str | None) -> Session | None:
        """The session *cookie* carries, or None (absent, forged, expired, ended, stale)."""
        if not cookie or "." not in cookie:
            return None
        data, _, mac = cookie.rpartition(".")
        if not hmac.compare_digest(mac, self._sign(data.encode())):
            return None
        try:
            payload = json.loads(base64.urlsafe_b64decode(data.encode()))
            username, fp, sid, expires = (
                str(payload["u"]), str(payload["f"]), str(payload["s"]), int(payload["e"])
            )
        except (ValueError, KeyError, TypeError):
            return None
        if expires < time.time() or sid in self._revoked:
            return None
        for key, user in snap.users.items():
            if user.name == username and not user.disabled and hmac.compare_digest(
                self.fingerprint(key), fp
            ):
                return Session(sid, username, expires, snap.principal_for(user))
        return None

    def end(self, session: Session) -> None:
        now = int(time.time())
        with self._lock:
            self._revoked = {s: e for s, e in self._revoked.items() if e > now}
            self._revoked[session.sid] = session.expires

    def csrf(self, sid: str) -> str:
        return self._sign(b"csrf:" + sid.encode())[:40]

    def check_csrf(self, sid: str, given: str) -> bool:
        return bool(given) and hmac.compare_digest(self.csrf(sid), given)


class RateLimit:
    """At most MAX_FAILURES failed sign-ins per key (address or user name) per window."""

    def __init__(self, limit: int = MAX_FAILURES, window: float = WINDOW_SECONDS) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._failures.setdefault(key, deque())
        while q and q[0] < now - self.window:
            q.popleft()
        return q

    def blocked(self, *keys: str) -> bool:
        now = time.monotonic()
        with self._lock:
            return any(len(self._recent(k, now)) >= self.limit for k in keys)

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for k in keys:
                self._recent(k, now).append(now)
            if len(self._failures) > 10_000:  # forget keys with no recent failure
                self._failures = {k: q for k, q in self._failures.items() if q}
