"""Matching indicators against a batch of observations.

A :class:`Matcher` is made once for a set of indicators and matches any number of batches.
Each pattern is compiled once (indicators that share a pattern share its compilation):

- a pattern of one ``[...]`` made of equalities joined by OR (``IN`` lists of strings too),
  nearly every pattern of real feeds, becomes hash keys (``_keys.py``) and nothing else: an
  observation matches it when one of the values it carries has one of its keys;
- any other pattern is compiled to functions (``_evaluate.py``) that run only on candidate
  observations: those carrying one of its necessary keys, or else holding an object of a
  type it names; a pattern of several ``[...]`` or with qualifiers then needs a binding over
  the batch (``_bindings.py``).

An indicator is considered for an observation only while it is valid (``valid_from`` at or
before the observation's end, ``valid_until`` after its start). A pattern of one ``[...]``
without qualifiers gives one match per observation; any other pattern, one match per batch
(the observations of the binding found).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kizuna.cyber._bindings import Times, TooCostly, find_binding, leaves
from kizuna.cyber._compare import predicate
from kizuna.cyber._evaluate import Test, comparisons, compile_expr, walk
from kizuna.cyber._keys import Key, exact_keys, necessary_keys, tag, types_of
from kizuna.cyber.observations import Observed
from kizuna.cyber.pattern import Observation, ObservationExpr, Path, PatternError, parse_pattern

__all__ = ["Found", "Indicator", "Match", "Matcher"]


@dataclass(frozen=True, slots=True)
class Indicator:
    """What matching needs of an indicator; *ref* is the caller's own (a stored row ...)."""

    id: str
    pattern: str
    valid_from: int | None = None
    valid_until: int | None = None
    ref: Any = None


@dataclass(frozen=True, slots=True)
class Found:
    """One value that made a comparison hold: on which object, at which path."""

    object_id: str
    path: Path
    value: Any


@dataclass(frozen=True, slots=True)
class Match:
    indicator: Indicator
    #: Indexes into the batch: one observation, or those of the binding found.
    observations: tuple[int, ...]
    found: tuple[Found, ...]


@dataclass(slots=True)
class _Compiled:
    """A pattern that needs evaluation; its leaves are its ``[...]``."""

    text: str
    tree: ObservationExpr
    leaves: list[Observation]
    tests: list[Test]
    single: bool  # one [...] and no qualifier: a match per observation
    indicators: list[int] = field(default_factory=list)


class Matcher:
    """Indicators compiled for matching; ``refused`` lists (indicator id, why) for patterns
    that cannot be matched (see :class:`kizuna.cyber.pattern.PatternError`)."""

    def __init__(self, indicators: Iterable[Indicator]) -> None:
        self.indicators: list[Indicator] = []
        self.refused: list[tuple[str, str]] = []
        self._exact: dict[Key, list[int]] = {}
        self._candidates: dict[Key, list[tuple[int, int]]] = {}  # key -> (compiled, leaf)
        self._scan: dict[str, list[tuple[int, int]]] = {}  # type -> (compiled, leaf)
        #: type -> the paths to look up in its objects: steps -> (path, its one key or None)
        self._paths: dict[str, dict[tuple[Any, ...], tuple[Path, str | None]]] = {}
        self._compiled: list[_Compiled] = []
        self._by_text: dict[str, int | list[Key]] = {}
        for indicator in indicators:
            self.add(indicator)

    def __len__(self) -> int:
        return len(self.indicators)

    def add(self, indicator: Indicator) -> None:
        known = self._by_text.get(indicator.pattern)
        if known is None:
            try:
                known = self._compile(indicator.pattern)
            except PatternError as exc:
                self.refused.append((indicator.id, str(exc)))
                return
            self._by_text[indicator.pattern] = known
        index = len(self.indicators)
        self.indicators.append(indicator)
        if isinstance(known, int):
            self._compiled[known].indicators.append(index)
        else:
            for key in known:
                self._exact.setdefault(key, []).append(index)

    def _path(self, key: Key) -> None:
        steps = key[1]
        first = steps[0]
        assert isinstance(first, str)
        plain = first if len(steps) == 1 and not first.endswith(("_ref", "_refs")) else None
        entry = (Path(key[0], steps), plain)
        self._paths.setdefault(key[0], {}).setdefault(steps, entry)

    def _compile(self, text: str) -> int | list[Key]:
        tree = parse_pattern(text)
        if isinstance(tree, Observation):
            keys = exact_keys(tree.expr)
            if keys is not None:
                unique = list(dict.fromkeys(keys))
                for key in unique:
                    self._path(key)
                return unique
        parts = leaves(tree)
        index = len(self._compiled)
        compiled = _Compiled(
            text,
            tree,
            parts,
            [compile_expr(leaf.expr) for leaf in parts],
            single=isinstance(tree, Observation),
        )
        self._compiled.append(compiled)
        for n, leaf in enumerate(parts):
            needed = necessary_keys(leaf.expr)
            if needed is None:
                for otype in types_of(leaf.expr):
                    self._scan.setdefault(otype, []).append((index, n))
            else:
                for key in dict.fromkeys(needed):
                    self._path(key)
                    self._candidates.setdefault(key, []).append((index, n))
        return index

    # -- matching ------------------------------------------------------------------------

    def match(self, batch: Sequence[Observed], *, budget: int | None = None) -> list[Match]:
        """Every match of the indicators in *batch*; patterns whose binding search would be
        too costly are listed in ``self.too_costly`` (indicator ids) instead."""
        self.too_costly: list[str] = []
        out: list[Match] = []
        leaf_hits: dict[int, dict[int, set[int]]] = {}  # compiled -> leaf -> observations
        for o, obs in enumerate(batch):
            found_exact, candidates = self._lookup(obs)
            for index, found in found_exact.items():
                indicator = self.indicators[index]
                if _valid(indicator, obs):
                    out.append(Match(indicator, (o,), tuple(found)))
            for otype in obs.by_type:
                candidates.update(self._scan.get(otype, ()))
            for ci, leaf in candidates:
                compiled = self._compiled[ci]
                if compiled.tests[leaf](obs.objects, obs.by_type):
                    leaf_hits.setdefault(ci, {}).setdefault(leaf, set()).add(o)
        times = Times(
            [o.first_us for o in batch], [o.last_us for o in batch], [o.count for o in batch]
        )
        for ci, hits in leaf_hits.items():
            out.extend(self._complete(self._compiled[ci], hits, batch, times, budget))
        return out

    def _lookup(self, obs: Observed) -> tuple[dict[int, list[Found]], set[tuple[int, int]]]:
        exact: dict[int, list[Found]] = {}
        candidates: set[tuple[int, int]] = set()
        for otype, roots in obs.by_type.items():
            paths = self._paths.get(otype)
            if not paths:
                continue
            for steps, (path, plain) in paths.items():
                for oid, root in roots:
                    if plain is not None:
                        value = root.get(plain, _MISSING)
                        values: Sequence[Any] = () if value is _MISSING else (value,)
                    else:
                        values = walk(path, root, obs.objects)
                    for value in values:
                        t = tag(value)
                        if t is None:
                            continue
                        key = (otype, steps, t, value)
                        hit = self._exact.get(key)
                        if hit is not None:
                            for index in hit:
                                exact.setdefault(index, []).append(Found(oid, path, value))
                        more = self._candidates.get(key)
                        if more is not None:
                            candidates.update(more)
        return exact, candidates

    def _complete(
        self,
        compiled: _Compiled,
        hits: dict[int, set[int]],
        batch: Sequence[Observed],
        times: Times,
        budget: int | None,
    ) -> list[Match]:
        out: list[Match] = []
        if compiled.single:
            for o in sorted(hits.get(0, ())):
                found = _found(compiled, 0, batch[o])
                for index in compiled.indicators:
                    indicator = self.indicators[index]
                    if _valid(indicator, batch[o]):
                        out.append(Match(indicator, (o,), found))
            return out
        for index in compiled.indicators:
            indicator = self.indicators[index]
            matches = {
                compiled.leaves[n]: sorted(o for o in seen if _valid(indicator, batch[o]))
                for n, seen in hits.items()
            }
            try:
                binding = find_binding(compiled.tree, matches, times, **_budget(budget))
            except TooCostly:
                self.too_costly.append(indicator.id)
                continue
            if binding is None:
                continue
            bound = tuple(dict.fromkeys(binding))
            values: list[Found] = []
            for o in bound:
                for n, leaf_seen in hits.items():
                    if o in leaf_seen:
                        values.extend(_found(compiled, n, batch[o]))
            out.append(Match(indicator, bound, tuple(dict.fromkeys(values))))
        return out


_MISSING = object()


def _budget(budget: int | None) -> dict[str, int]:
    return {} if budget is None else {"budget": budget}


def _valid(indicator: Indicator, obs: Observed) -> bool:
    if indicator.valid_from is not None and obs.last_us < indicator.valid_from:
        return False
    return indicator.valid_until is None or obs.first_us < indicator.valid_until


def _found(compiled: _Compiled, leaf: int, obs: Observed) -> tuple[Found, ...]:
    """The values that make the leaf's positive comparisons hold in *obs*."""
    out: list[Found] = []
    for c in comparisons(compiled.leaves[leaf].expr):
        if c.negated or c.op in ("!=", "EXISTS"):
            continue
        test = predicate(c)
        for oid, root in obs.by_type.get(c.path.object_type, ()):
            out.extend(Found(oid, c.path, v) for v in walk(c.path, root, obs.objects) if test(v))
    return tuple(out)
