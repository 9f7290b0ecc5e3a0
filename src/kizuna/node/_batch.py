"""An object of a batch between the passes of ingest, and the result each object gets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class ObjectResult:
    """The outcome for one object of a batch (not frozen, as :class:`NewVersion`)."""

    ok: bool
    id: str | None
    version: str | None
    message: str
    added_us: int | None = None
    stored: bool = False


@dataclass(slots=True)
class Candidate:
    """One object of a batch still in the running, between passes."""

    index: int
    obj: dict[str, Any]
    body: bytes
    #: Its visibility marking refs, once :func:`stamp` has given it its defaults.
    visibility: tuple[str, ...] = ()


#: An object a pass refuses: its position in the batch and why.
Refusal = tuple[int, ObjectResult]


def refusal(c: Candidate, message: str) -> Refusal:
    """*c* refused for *message* (its id and version as it gave them)."""
    return c.index, ObjectResult(False, c.obj["id"], version_text(c.obj), message)


def version_text(obj: dict[str, Any]) -> str | None:
    """The object's ``modified``, else its ``created``, as written (None without either)."""
    value = obj.get("modified") or obj.get("created")
    return value if isinstance(value, str) else None


def str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None
