"""The tree of ``pattern.py`` from the ANTLR parse tree of ``stix2-patterns``.

Used for what the fast parser (``_grammar.py``) leaves alone, and as its reference in the
tests: both give equal trees for the same pattern. Its errors are ``stix2-patterns``' own.
"""

from __future__ import annotations

from typing import Any

from antlr4 import TerminalNode  # type: ignore[import-untyped]
from stix2patterns.exceptions import ParseException
from stix2patterns.v21.grammars.STIXPatternParser import STIXPatternParser as P
from stix2patterns.v21.pattern import Pattern

from kizuna.cyber import _literals
from kizuna.cyber._grammar import flat as _flat
from kizuna.cyber.pattern import (
    STAR,
    And,
    Comparison,
    ComparisonExpr,
    FollowedBy,
    Literal,
    ObsAnd,
    Observation,
    ObservationExpr,
    ObsOr,
    Or,
    Path,
    PatternError,
    Repeats,
    StartStop,
    Step,
    Within,
)

_KINDS = {
    P.IntPosLiteral: "ipos",
    P.IntNegLiteral: "ineg",
    P.FloatPosLiteral: "fpos",
    P.FloatNegLiteral: "fneg",
    P.StringLiteral: "str",
    P.BoolLiteral: "bool",
    P.HexLiteral: "hex",
    P.BinaryLiteral: "bin",
    P.TimestampLiteral: "ts",
}
_OPS = {
    P.EQ: "=",
    P.NEQ: "!=",
    P.LT: "<",
    P.LE: "<=",
    P.GT: ">",
    P.GE: ">=",
    P.IN: "IN",
    P.LIKE: "LIKE",
    P.MATCHES: "MATCHES",
    P.ISSUBSET: "ISSUBSET",
    P.ISSUPERSET: "ISSUPERSET",
}


def parse(text: str) -> ObservationExpr:
    try:
        tree = Pattern(text)._Pattern__parse_tree
    except ParseException as exc:
        raise PatternError(f"not a STIX 2.1 pattern: {exc}") from None
    return _observations(tree.observationExpressions())


def _tokens(ctx: Any) -> list[Any]:
    return [c.getSymbol() for c in ctx.getChildren() if isinstance(c, TerminalNode)]


def _observations(ctx: Any) -> ObservationExpr:
    if isinstance(ctx, P.ObservationExpressionsContext):
        if ctx.FOLLOWEDBY() is not None:
            left, right = ctx.observationExpressions()
            return FollowedBy(_observations(left), _observations(right))
        return _observations(ctx.observationExpressionOr())
    if isinstance(ctx, P.ObservationExpressionOrContext):
        if ctx.OR() is not None:
            return ObsOr(_flat(ObsOr, [_observations(c) for c in ctx.observationExpressionOr()]))
        return _observations(ctx.observationExpressionAnd())
    if isinstance(ctx, P.ObservationExpressionAndContext):
        if ctx.AND() is not None:
            parts = [_observations(c) for c in ctx.observationExpressionAnd()]
            return ObsAnd(_flat(ObsAnd, parts))
        return _observations(ctx.observationExpression())
    if isinstance(ctx, P.ObservationExpressionSimpleContext):
        return Observation(_comparisons(ctx.comparisonExpression()))
    if isinstance(ctx, P.ObservationExpressionCompoundContext):
        return _observations(ctx.observationExpressions())
    inner = _observations(ctx.observationExpression())
    if isinstance(ctx, P.ObservationExpressionWithinContext):
        token = ctx.withinQualifier().getChild(1).getSymbol()
        number = int(token.text) if token.type == P.IntPosLiteral else float(token.text)
        return Within(inner, _literals.checked_within(number))
    if isinstance(ctx, P.ObservationExpressionRepeatedContext):
        times = int(ctx.repeatedQualifier().IntPosLiteral().getText())
        return Repeats(inner, _literals.checked_repeats(times))
    assert isinstance(ctx, P.ObservationExpressionStartStopContext)
    start, stop = ctx.startStopQualifier().TimestampLiteral()
    return StartStop(
        inner,
        _literals.timestamp(start.getText()).micros,
        _literals.timestamp(stop.getText()).micros,
    )


def _comparisons(ctx: Any) -> ComparisonExpr:
    if isinstance(ctx, P.ComparisonExpressionContext):
        if ctx.OR() is not None:
            return Or(_flat(Or, [_comparisons(c) for c in ctx.comparisonExpression()]))
        return _comparisons(ctx.comparisonExpressionAnd())
    if isinstance(ctx, P.ComparisonExpressionAndContext):
        if ctx.AND() is not None:
            return And(_flat(And, [_comparisons(c) for c in ctx.comparisonExpressionAnd()]))
        return _comparisons(ctx.propTest())
    if isinstance(ctx, P.PropTestParenContext):
        return _comparisons(ctx.comparisonExpression())
    negated = ctx.NOT() is not None
    path = _path(ctx.objectPath())
    if isinstance(ctx, P.PropTestExistsContext):
        return Comparison(path, "EXISTS", None, negated)
    op = next(_OPS[t.type] for t in _tokens(ctx) if t.type in _OPS)
    value: Literal | tuple[Literal, ...]
    if isinstance(ctx, P.PropTestSetContext):
        values = [_literal(c) for c in ctx.setLiteral().primitiveLiteral()]
        value = _literals.checked_set(values, ctx.setLiteral().getText())
    elif op in ("=", "!="):
        value = _literal(ctx.primitiveLiteral())
    elif op in ("<", "<=", ">", ">="):
        value = _literal(ctx.orderableLiteral())
    else:
        value = _literals.string(ctx.StringLiteral().getText())
        _literals.checked_comparison(op, value)
    return Comparison(path, op, value, negated)


def _literal(ctx: Any) -> Literal:
    while not isinstance(ctx, TerminalNode):
        ctx = ctx.getChild(0)
    token = ctx.getSymbol()
    return _literals.literal(_KINDS[token.type], token.text)


def _path(ctx: Any) -> Path:
    otype = ctx.objectType().getText()
    first = ctx.firstPathComponent()
    steps: list[Step] = [_key(first)]
    component = ctx.objectPathComponent()
    if component is not None:
        _components(component, steps)
    return Path(otype, tuple(steps))


def _key(ctx: Any) -> str:
    ident = ctx.IdentifierWithoutHyphen()
    if ident is not None:
        return str(ident.getText())
    return _literals.string(ctx.StringLiteral().getText())


def _components(ctx: Any, steps: list[Step]) -> None:
    if isinstance(ctx, P.PathStepContext):
        for child in ctx.objectPathComponent():
            _components(child, steps)
    elif isinstance(ctx, P.KeyPathStepContext):
        steps.append(_key(ctx))
    else:
        assert isinstance(ctx, P.IndexPathStepContext)
        if ctx.ASTERISK() is not None:
            steps.append(STAR)
        else:
            steps.append(int((ctx.IntPosLiteral() or ctx.IntNegLiteral()).getText()))
