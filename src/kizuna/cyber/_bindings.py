"""Observation expressions over a batch of observations: is there a binding?

A *binding* assigns an observation to each ``[...]`` a match uses. An observation observed
``number_observed`` times can be bound that many times (``[a] AND [a]`` holds on one
observation seen twice, not on one seen once), so a binding is a multiset of observations
within their counts: here a sorted tuple of observation indexes, repeated as often as used.
What the qualifiers and operators ask of a binding depends only on its observations' times:

- ``A AND B``: a binding of each, together within the counts;
- ``A OR B``: a binding of either;
- ``A FOLLOWEDBY B``: as AND, and the latest ``first_observed`` of A's observations is no
  later than the earliest ``last_observed`` of B's;
- ``E WITHIN d SECONDS``: the latest ``first_observed`` is at most ``d`` after the earliest
  ``last_observed`` (some instant of each interval fits in ``d``);
- ``E REPEATS n TIMES``: ``n`` bindings of E together within the counts;
- ``E START s STOP t``: each observation's interval meets ``[s, t)``: it begins before ``t``
  and ends at or after ``s`` (nothing holds when ``s >= t``).

These are ``stix2-matcher``'s rules; it enumerates bindings of single instances, and this
module the distinct multisets, which answers the same question with far fewer candidates.
A search that would try more than a budget of combinations stops with :class:`TooCostly`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from kizuna.cyber.pattern import (
    FollowedBy,
    ObsAnd,
    Observation,
    ObservationExpr,
    ObsOr,
    Repeats,
    StartStop,
    Within,
)

Binding = tuple[int, ...]
BUDGET: Final = 2_000_000


class TooCostly(Exception):
    """The search for a binding would try more combinations than its budget."""


@dataclass(frozen=True, slots=True)
class Times:
    """What a binding's checks read of each observation of the batch."""

    first: Sequence[int]
    last: Sequence[int]
    count: Sequence[int]


def leaves(expr: ObservationExpr) -> list[Observation]:
    """The ``[...]`` of *expr*, each once, in the order written."""
    out: list[Observation] = []

    def visit(node: ObservationExpr) -> None:
        if isinstance(node, Observation):
            if node not in out:
                out.append(node)
        elif isinstance(node, ObsAnd | ObsOr):
            for item in node.items:
                visit(item)
        elif isinstance(node, FollowedBy):
            visit(node.left)
            visit(node.right)
        else:
            visit(node.expr)

    visit(expr)
    return out


class _Search:
    __slots__ = ("budget", "matches", "times")

    def __init__(
        self, matches: Mapping[Observation, Sequence[int]], times: Times, budget: int
    ) -> None:
        self.matches = matches
        self.times = times
        self.budget = budget

    def spend(self, n: int = 1) -> None:
        self.budget -= n
        if self.budget < 0:
            raise TooCostly

    def fits(self, binding: Binding) -> bool:
        count = self.times.count
        run = 0
        for i, o in enumerate(binding):
            run = run + 1 if i and binding[i - 1] == o else 1
            if run > count[o]:
                return False
        return True

    def join(self, left: Iterable[Binding], right: list[Binding]) -> list[Binding]:
        out: dict[Binding, None] = {}
        for a in left:
            for b in right:
                self.spend()
                merged = tuple(sorted(a + b))
                if merged not in out and self.fits(merged):
                    out[merged] = None
        return list(out)

    def bindings(self, node: ObservationExpr) -> list[Binding]:
        t = self.times
        if isinstance(node, Observation):
            return [(o,) for o in self.matches.get(node, ())]
        if isinstance(node, ObsOr):
            out: dict[Binding, None] = {}
            for item in node.items:
                out.update(dict.fromkeys(self.bindings(item)))
            return list(out)
        if isinstance(node, ObsAnd):
            result = self.bindings(node.items[0])
            for item in node.items[1:]:
                if not result:
                    return []
                result = self.join(result, self.bindings(item))
            return result
        if isinstance(node, FollowedBy):
            left = self.bindings(node.left)
            right = self.bindings(node.right) if left else []
            self.spend(len(left) * len(right))
            ordered = [
                (a, b)
                for a in left
                for b in right
                if max(t.first[o] for o in a) <= min(t.last[o] for o in b)
            ]
            out = {}
            for a, b in ordered:
                merged = tuple(sorted(a + b))
                if self.fits(merged):
                    out[merged] = None
            return list(out)
        if isinstance(node, Within):
            return [
                b
                for b in self.bindings(node.expr)
                if max(t.first[o] for o in b) <= min(t.last[o] for o in b) + node.micros
            ]
        if isinstance(node, StartStop):
            if node.start >= node.stop:
                return []
            return [
                b
                for b in self.bindings(node.expr)
                if all(t.first[o] < node.stop and node.start <= t.last[o] for o in b)
            ]
        assert isinstance(node, Repeats)
        return self.repeats(self.bindings(node.expr), node.times)

    def repeats(self, base: list[Binding], times: int) -> list[Binding]:
        """Sums of *times* bindings of *base* (repetition allowed) within the counts."""
        out: dict[Binding, None] = {}

        def extend(start: int, acc: Binding, left: int) -> None:
            if left == 0:
                out[acc] = None
                return
            for i in range(start, len(base)):
                self.spend()
                merged = tuple(sorted(acc + base[i]))
                if self.fits(merged):
                    extend(i, merged, left - 1)

        extend(0, (), times)
        return list(out)


def find_binding(
    expr: ObservationExpr,
    matches: Mapping[Observation, Sequence[int]],
    times: Times,
    budget: int = BUDGET,
) -> Binding | None:
    """A binding of *expr* (the indexes of its observations, as many times as used), or None.

    *matches* gives, for each ``[...]`` of *expr*, the observations that satisfy it.
    """
    found = _Search(matches, times, budget).bindings(expr)
    return found[0] if found else None
