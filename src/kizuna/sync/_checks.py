"""What a peer's page says about where it is, checked before it can become a cursor.

A pull's cursor is the peer's ``X-TAXII-Date-Added-Last``: it is committed only when it is a
well-formed TAXII timestamp, not in the future, not before ``X-TAXII-Date-Added-First``, and
later than the cursor so far. A ``next`` token is sent back only when it is short, printable
ASCII and not one the peer already gave in this round (a loop).
"""

from __future__ import annotations

from dataclasses import dataclass

from kizuna.errors import TimestampError
from kizuna.stix.timestamps import format_micros, now_micros, to_micros

#: A peer's clock may run ahead of ours by this much before its dates count as the future.
CLOCK_SKEW_US = 3600 * 1_000_000
#: The longest ``next`` token or date header taken from a peer.
MAX_NEXT = 2048
_MAX_DATE = 64


@dataclass(frozen=True, slots=True)
class Position:
    """Where a page leaves the pull: the new cursor (None: unchanged) and what was wrong."""

    cursor_us: int | None
    #: Why the pull must stop after this page (the peer misbehaves), or None.
    problem: str | None = None


def page_position(
    first: str | None, last: str | None, after_us: int | None, now_us: int | None = None
) -> Position:
    """Check a page's date headers against the cursor *after_us* it was asked from."""
    if last is None:
        return Position(None)
    first_us = None
    for name, value in (("First", first), ("Last", last)):
        if value is None:
            continue
        micros = _timestamp(value)
        if micros is None:
            return Position(
                None,
                f"X-TAXII-Date-Added-{name} {_show(value)} is not a TAXII timestamp "
                "(expected YYYY-MM-DDTHH:MM:SS[.fraction]Z)",
            )
        if name == "First":
            first_us = micros
        else:
            last_us = micros
    now = now_micros() if now_us is None else now_us
    if last_us > now + CLOCK_SKEW_US:
        return Position(
            None,
            f"X-TAXII-Date-Added-Last {_show(last)} is in the future (this node's clock says "
            f"{format_micros(now)})",
        )
    if first_us is not None and first_us > last_us:
        return Position(
            None, f"X-TAXII-Date-Added-First {_show(first)} is after -Last {_show(last)}"
        )
    if after_us is not None:
        earliest = last_us if first_us is None else first_us
        if earliest < after_us:
            return Position(
                None,
                f"the page goes back to date_added {_show(first or last)}, before the cursor "
                f"{format_micros(after_us)} it was asked from",
            )
        if last_us == after_us:
            return Position(None)  # no advance: judged by whether it brought anything new
    return Position(last_us)


def next_problem(token: str, seen: set[str]) -> str | None:
    """Why *token* cannot be sent back to the peer, or None."""
    if not token or len(token) > MAX_NEXT or not (token.isascii() and token.isprintable()):
        return (
            f"next {_show(token)} is not a usable token (1..{MAX_NEXT} printable ASCII characters)"
        )
    if token in seen:
        return f"the peer repeats next {_show(token)}: its pages loop"
    return None


def _timestamp(value: str) -> int | None:
    if len(value) > _MAX_DATE:
        return None
    try:
        return to_micros(value)
    except TimestampError:
        return None


def _show(value: str | None) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
