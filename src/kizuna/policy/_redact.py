"""Editing an object's structure for the gate: removing references and marked fields.

Pure edits of a decoded STIX object, no policy: ``policy.gate`` decides what must go and calls
these to take it out (list entries removed mark-and-sweep, so that later indexes stay valid
until the sweep; granular-marking selectors re-pointed at the entries' new indexes).
"""

from __future__ import annotations

from typing import Any

from kizuna.policy.refs import NOT_REFS
from kizuna.policy.required import is_required


def remove_refs(obj: dict[str, Any], otype: str, gone: set[str]) -> bool:
    """Remove references to *gone* ids; False when a required reference would go."""

    def walk(node: Any, top: bool) -> bool:
        if isinstance(node, dict):
            for key in list(node):
                value = node[key]
                if key in NOT_REFS or key == "granular_markings":
                    continue
                required = top and is_required(otype, key)
                if key.endswith("_ref") and isinstance(value, str):
                    if value in gone:
                        if required:
                            return False
                        del node[key]
                elif key.endswith("_refs") and isinstance(value, list):
                    kept = [v for v in value if v not in gone]
                    if len(kept) != len(value):
                        if kept:
                            node[key] = kept
                        elif required:
                            return False
                        else:
                            del node[key]
                elif isinstance(value, dict | list) and not walk(value, False):
                    return False
        elif isinstance(node, list):
            return all(walk(v, False) for v in node if isinstance(v, dict | list))
        return True

    return walk(obj, True)


_REMOVED = object()


def _steps(selector: str) -> list[str | int]:
    steps: list[str | int] = []
    for part in selector.split("."):
        if part.startswith("[") and part.endswith("]") and part[1:-1].isdigit():
            steps.append(int(part[1:-1]))
        else:
            steps.append(part)
    return steps


def mark_removed(obj: Any, selector: str) -> None:
    steps = _steps(selector)
    node = obj
    for step in steps[:-1]:
        node = _child(node, step)
        if node is None:
            return
    last = steps[-1]
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
        for step in _steps(str(selector)):
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


def sweep(node: Any) -> None:
    if isinstance(node, dict):
        for key in [k for k, v in node.items() if v is _REMOVED]:
            del node[key]
        for value in node.values():
            sweep(value)
    elif isinstance(node, list):
        node[:] = [v for v in node if v is not _REMOVED]
        for value in node:
            sweep(value)


def selectors_resolve(obj: Any, entry: Any) -> bool:
    if not isinstance(entry, dict) or not entry.get("selectors"):
        return False
    for selector in entry.get("selectors") or ():
        node = obj
        for step in _steps(str(selector)):
            node = _child(node, step)
            if node is None:
                return False
    return True
