"""Editing an object's structure for the gate: removing references and marked fields.

Pure edits of a decoded STIX object, no policy: ``policy.gate`` decides what must go and calls
these to take it out. Removal is mark-and-sweep: every place to remove is first replaced by a
marker, so that the indexes of the places still to be marked, and of the granular-marking
selectors that stay, keep meaning what they meant; the selectors are then re-pointed at the
entries' new indexes, and one sweep takes the markers out.

No function here recurses: a stored object may nest hundreds of levels deep (it was stored
before ingest limited depth, ``stix/limits.py``), and redacting it must not fail. Each walk
keeps its own stack.
"""

from __future__ import annotations

from typing import Any

from kizuna.policy.refs import Path, reference_places

_REMOVED = object()


def ref_removals(obj: dict[str, Any], gone: set[str]) -> list[Path]:
    """The places of *obj* that name an id in *gone* (``policy.refs.reference_places``): a
    ``*_ref`` property, an entry of a ``*_refs`` list, a dictionary entry or a list entry
    that is an identifier. A list they empty goes with it (:func:`sweep`)."""
    return [path for path, names in reference_places(obj) if not names.isdisjoint(gone)]


def steps(selector: str) -> Path:
    """A granular-marking selector (``external_references.[1].url``) as a path."""
    out: list[str | int] = []
    for part in selector.split("."):
        if part.startswith("[") and part.endswith("]") and part[1:-1].isdigit():
            out.append(int(part[1:-1]))
        else:
            out.append(part)
    return tuple(out)


def mark_removed(obj: Any, path: Path) -> None:
    """Put the removal marker at *path* (nothing when the place is gone or absent)."""
    node = obj
    for step in path[:-1]:
        node = _child(node, step)
        if node is None or node is _REMOVED:
            return
    last = path[-1]
    if isinstance(last, int):
        if isinstance(node, list) and last < len(node):
            node[last] = _REMOVED
    elif isinstance(node, dict) and last in node:
        node[last] = _REMOVED


def reindexed(obj: Any, entry: Any) -> Any:
    """*entry* with its selectors' list indexes as they will be once removed items are swept.

    A selector through a removed item is dropped (the entry goes if none is left).
    """
    if not isinstance(entry, dict):
        return entry
    selectors = []
    for selector in entry.get("selectors") or ():
        node = obj
        parts: list[str] = []
        for step in steps(str(selector)):
            child = _child(node, step)
            if child is None or child is _REMOVED:
                break
            if isinstance(step, int):
                shift = sum(1 for v in node[:step] if v is _REMOVED)
                parts.append(f"[{step - shift}]")
            else:
                parts.append(step)
            node = child
        else:
            selectors.append(".".join(parts))
    return {**entry, "selectors": selectors}


def _child(node: Any, step: str | int) -> Any:
    if isinstance(step, int):
        return node[step] if isinstance(node, list) and step < len(node) else None
    return node.get(step) if isinstance(node, dict) else None


def sweep(obj: Any) -> None:
    """Take the removal markers out of *obj*. A list that loses every entry goes from the
    object that holds it (STIX has no empty lists); one held by a list stays, so that the
    indexes :func:`reindexed` computed stay true."""
    order: list[tuple[Any, Any, str | int | None]] = []  # (node, parent, key in parent)
    stack: list[tuple[Any, Any, str | int | None]] = [(obj, None, None)]
    while stack:
        item = stack.pop()
        order.append(item)
        node = item[0]
        if isinstance(node, dict):
            stack.extend((v, node, k) for k, v in node.items() if isinstance(v, dict | list))
        elif isinstance(node, list):
            stack.extend((v, node, i) for i, v in enumerate(node) if isinstance(v, dict | list))
    # Children before their parents: a parent sweeps the marker an emptied child left.
    for node, parent, key in reversed(order):
        if isinstance(node, dict):
            for k in [k for k, v in node.items() if v is _REMOVED]:
                del node[k]
        else:
            before = len(node)
            node[:] = [v for v in node if v is not _REMOVED]
            if before and not node and isinstance(parent, dict):
                parent[key] = _REMOVED


def resolving(obj: Any, entry: Any) -> Any:
    """*entry* with only the selectors that name a place of *obj*; None when none does."""
    if not isinstance(entry, dict):
        return None
    selectors = []
    for selector in entry.get("selectors") or ():
        node = obj
        for step in steps(str(selector)):
            node = _child(node, step)
            if node is None:
                break
        else:
            selectors.append(selector)
    if not selectors:
        return None
    return (
        entry
        if len(selectors) == len(entry.get("selectors") or ())
        else {
            **entry,
            "selectors": selectors,
        }
    )
