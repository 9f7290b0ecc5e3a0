"""Matching indicators against a batch of observations.

A :class:`Matcher` is made once for a set of indicators and matches any number of batches.
Each pattern is compiled once (indicators that share a pattern share its compilation):

- a pattern of one ``[...]`` made of equalities joined by OR (``IN`` lists of strings too),
  nearly every pattern of real feeds, becomes hash keys (``_keys.py``) and nothing else: an
  observation matches it when one of the values it carries has one of its keys;
- any other pattern is compiled to functions (``_evaluate.py``) that run only on candidate
  observations: those that fulfil one of the needs of one of its ``[...]`` (``_needs.py``:
  a hash key of an equality it requires, a piece of the text a ``LIKE`` or ``MATCHES``
  requires, a network an ``ISSUBSET`` requires), or, for a ``[...]`` with no need, those
  holding an object of a type it names; a pattern of several ``[...]`` or with qualifiers
  then needs a binding over the batch (``_bindings.py``).

The index of text pieces is built when a batch is matched after indicators were added: each
pattern's piece is the one fewest patterns share, which only the whole set tells.

An indicator is considered for an observation only while it is valid (``valid_from`` at or
before the observation's end, ``valid_until`` after its start). A pattern of one ``[...]``
without qualifiers gives one match per observation; any other pattern, one match per batch
(the observations of the binding found).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kizuna.cyber._bindings import Times, TooCostly, find_binding, leaves
from kizuna.cyber._compare import network_of, predicate
from kizuna.cyber._evaluate import Test, comparisons, compile_expr, walk
from kizuna.cyber._keys import Key, exact_keys, tag, types_of
from kizuna.cyber._needs import GRAM, Inside, Texts, grams, necessary, net_key
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


_Leaf = tuple[int, int]  # (compiled, leaf)


@dataclass(slots=True)
class _PathIndex:
    """What the matcher looks up in the values an observation carries at one path."""

    path: Path
    plain: str | None  # the one key to read, when the path is one plain step
    #: Text piece -> (compiled, leaf) of the patterns that need it (built by _prepare).
    grams: dict[str, list[_Leaf]] | None = None
    #: (version, prefix length) -> the network prefixes of that length -> (compiled, leaf).
    nets: dict[tuple[int, int], dict[int, list[_Leaf]]] | None = None


class Matcher:
    """Indicators compiled for matching; ``refused`` lists (indicator id, why) for patterns
    that cannot be matched (see :class:`kizuna.cyber.pattern.PatternError`)."""

    def __init__(self, indicators: Iterable[Indicator]) -> None:
        self.indicators: list[Indicator] = []
        self.refused: list[tuple[str, str]] = []
        self._exact: dict[Key, list[int]] = {}
        self._candidates: dict[Key, list[_Leaf]] = {}  # key -> (compiled, leaf)
        self._scan: dict[str, list[_Leaf]] = {}  # type -> (compiled, leaf)
        #: type -> the paths to look up in its objects, by their steps
        self._paths: dict[str, dict[tuple[Any, ...], _PathIndex]] = {}
        #: The text needs, to index when the next batch is matched (see _prepare).
        self._texts: list[tuple[Texts, _Leaf]] = []
        self._texts_indexed = 0
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

    def _path(self, otype: str, steps: tuple[Any, ...]) -> _PathIndex:
        paths = self._paths.setdefault(otype, {})
        entry = paths.get(steps)
        if entry is None:
            first = steps[0]
            assert isinstance(first, str)
            plain = first if len(steps) == 1 and not first.endswith(("_ref", "_refs")) else None
            entry = paths[steps] = _PathIndex(Path(otype, steps), plain)
        return entry

    def _compile(self, text: str) -> int | list[Key]:
        tree = parse_pattern(text)
        if isinstance(tree, Observation):
            keys = exact_keys(tree.expr)
            if keys is not None:
                unique = list(dict.fromkeys(keys))
                for key in unique:
                    self._path(key[0], key[1])
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
            needed = necessary(leaf.expr)
            if needed is None:
                for otype in types_of(leaf.expr):
                    self._scan.setdefault(otype, []).append((index, n))
                continue
            for need in dict.fromkeys(needed):
                if type(need) is Texts:
                    self._path(need.object_type, need.steps)
                    self._texts.append((need, (index, n)))
                elif type(need) is Inside:
                    entry = self._path(need.object_type, need.steps)
                    nets = entry.nets if entry.nets is not None else {}
                    entry.nets = nets
                    by_prefix = nets.setdefault((need.version, need.prefixlen), {})
                    by_prefix.setdefault(need.prefix, []).append((index, n))
                else:
                    assert isinstance(need, tuple)
                    self._path(need[0], need[1])
                    self._candidates.setdefault(need, []).append((index, n))
        return index

    def _prepare(self) -> None:
        """Index the text needs: for each, the piece of its texts that the fewest patterns
        of its path need (a piece every pattern shares, such as ``htt``, selects nothing)."""
        if self._texts_indexed == len(self._texts):
            return
        shared: dict[tuple[str, tuple[Any, ...], str], int] = {}
        pieces: list[set[str]] = []
        for need, _ in self._texts:
            mine = set().union(*(grams(t) for t in need.texts))
            pieces.append(mine)
            for piece in mine:
                k = (need.object_type, need.steps, piece)
                shared[k] = shared.get(k, 0) + 1
        for entry in (e for paths in self._paths.values() for e in paths.values()):
            entry.grams = None
        for (need, leaf), mine in zip(self._texts, pieces, strict=True):
            entry = self._path(need.object_type, need.steps)
            best = min(sorted(mine), key=lambda p: shared[(need.object_type, need.steps, p)])
            if entry.grams is None:
                entry.grams = {}
            entry.grams.setdefault(best, []).append(leaf)
        self._texts_indexed = len(self._texts)

    # -- matching ------------------------------------------------------------------------

    def match(self, batch: Sequence[Observed], *, budget: int | None = None) -> list[Match]:
        """Every match of the indicators in *batch*; patterns whose binding search would be
        too costly are listed in ``self.too_costly`` (indicator ids) instead."""
        self.too_costly: list[str] = []
        self._prepare()
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

    def _lookup(self, obs: Observed) -> tuple[dict[int, list[Found]], set[_Leaf]]:
        exact: dict[int, list[Found]] = {}
        candidates: set[_Leaf] = set()
        for otype, roots in obs.by_type.items():
            paths = self._paths.get(otype)
            if not paths:
                continue
            for steps, entry in paths.items():
                plain = entry.plain
                for oid, root in roots:
                    if plain is not None:
                        value = root.get(plain, _MISSING)
                        values: Sequence[Any] = () if value is _MISSING else (value,)
                    else:
                        values = walk(entry.path, root, obs.objects)
                    for value in values:
                        t = tag(value)
                        if t is None:
                            continue
                        key = (otype, steps, t, value)
                        hit = self._exact.get(key)
                        if hit is not None:
                            for index in hit:
                                exact.setdefault(index, []).append(Found(oid, entry.path, value))
                        more = self._candidates.get(key)
                        if more is not None:
                            candidates.update(more)
                        if t == "s":
                            if entry.grams is not None:
                                _by_text(entry.grams, value, candidates)
                            if entry.nets is not None:
                                _by_network(entry.nets, value, candidates)
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


def _by_text(index: dict[str, list[_Leaf]], value: str, out: set[_Leaf]) -> None:
    """The leaves that need a piece of *value* (NFC-normalized, as LIKE and MATCHES see it)."""
    if not value.isascii():
        value = unicodedata.normalize("NFC", value)
    for i in range(len(value) - GRAM + 1):
        found = index.get(value[i : i + GRAM])
        if found is not None:
            out.update(found)


def _by_network(
    index: dict[tuple[int, int], dict[int, list[_Leaf]]], value: str, out: set[_Leaf]
) -> None:
    """The leaves that need a network holding *value* (an address or a network)."""
    inner = network_of(value, strict_cidr=False)
    if inner is None:
        return
    address = int(inner.network_address)
    for (version, prefixlen), by_prefix in index.items():
        if version == inner.version and prefixlen <= inner.prefixlen:
            found = by_prefix.get(net_key(version, address, prefixlen))
            if found is not None:
                out.update(found)


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
