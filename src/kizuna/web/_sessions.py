"""Signed-in sessions of the UI: a signed cookie, bound to the user's current token.

The cookie holds the user's name, a fingerprint of the token the user signed in with, a
session id, and its expiry, signed with the node's secret (HMAC-SHA256), so every worker
process of ``kizuna serve`` reads it the same. A session ends when it expires; when its user
signs out (its id goes into the store's table of ended sessions, which every process of the
node asks on each request, and the cookie is cleared); or when the user's token is rotated or
the user disabled (the fingerprint no longer matches a user of the policy snapshot, which
every process reloads when the policy generation moves). Changing the expiry or any other
part of a cookie breaks its signature. The CSRF token of a session is derived from its id.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass

from kizuna.errors import Forbidden
from kizuna.node import Snapshot
from kizuna.policy.principal import Principal
from kizuna.store.errors import resource_error
from kizuna.store.sql import SqlStore

log = logging.getLogger(__name__)

COOKIE = "kizuna_session"
PRE_COOKIE = "kizuna_login"
#: How long a session lasts after sign-in.
LIFETIME_SECONDS = 8 * 3600
#: How long after its expiry an ended session is still refused (clocks of the processes of a
#: node on several machines may differ).
ENDED_MARGIN_SECONDS = 24 * 3600
#: How long a process goes on without asking again whether the table of ended sessions
#: exists, when it did not (a read-only node over a database made before it).
_TABLE_RECHECK_SECONDS = 60.0
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
    """Makes, reads and ends sessions with the node's *secret*; the sessions signed out are
    kept in *store*, where every process of the node finds them."""

    def __init__(self, secret: str, store: SqlStore) -> None:
        self._key = hashlib.sha256(b"kizuna-ui:" + secret.encode()).digest()
        self._store = store
        #: Sessions this process ended, by id: their expiry (refused without a query, and
        #: the only record on a node that cannot write its database).
        self._ended: dict[str, int] = {}
        self._lock = threading.Lock()
        self._table: tuple[float, bool] | None = None

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
        if expires < time.time() or self._has_ended(sid):
            return None
        for key, user in snap.users.items():
            if user.name == username and not user.disabled and hmac.compare_digest(
                self.fingerprint(key), fp
            ):
                return Session(sid, username, expires, snap.principal_for(user))
        return None

    def _has_ended(self, sid: str) -> bool:
        if sid in self._ended:
            return True
        return self._shared() and self._store.session_ended(sid)

    def _shared(self) -> bool:
        """Does the store keep ended sessions? (Asked once, or again after a while if not.)"""
        known = self._table
        if known is None or (not known[1] and time.monotonic() - known[0] > _TABLE_RECHECK_SECONDS):
            known = self._table = (time.monotonic(), self._store.holds_ended_sessions())
        return known[1]

    def end(self, session: Session) -> None:
        """End *session* in every process of the node (signed out)."""
        now = int(time.time())
        with self._lock:
            self._ended = {s: e for s, e in self._ended.items() if e > now}
            self._ended[session.sid] = session.expires
        try:
            if self._shared():
                self._store.end_session(session.sid, session.expires + ENDED_MARGIN_SECONDS)
                return
        except Exception as exc:
            if not isinstance(resource_error(exc), Forbidden):
                raise
        log.warning("a read-only node cannot record that a session ended: it ends in this "
                    "process only (sign-out of %r)", session.username)

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
