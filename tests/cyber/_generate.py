"""Hypothesis strategies for STIX patterns and observations, and a pattern printer.

The values come from small pools so that generated patterns often match generated data. Each
comparison pairs a path with literals ``stix2-matcher`` can compare there without raising (it
raises, for instance, on a timestamp literal against a string that is no timestamp, or on an
address that is not IPv4 under ISSUBSET), so that the oracle answers every generated case.
"""

from __future__ import annotations

import base64
from typing import Any

from hypothesis import strategies as st

from kizuna.cyber._literals import timestamp_micros
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
    Repeats,
    StartStop,
    Timestamp,
    Within,
)

NAMES = ["x.exe", "a.dll", "X.EXE", "evil", "ab", "a\\b", "it's", "résumé", "", "1"]
NUMBERS: list[Any] = [0, 1, 5, -3, 1.0, 2.5, True, False]
MD5 = ["0275585c3b871405dd299d458724db3d", "0275585C3B871405DD299D458724DB3D", "d41d8"]
TIMES = ["2020-01-01T00:00:00Z", "2020-01-01T00:00:05Z", "2020-01-01T00:01:00.5Z"]
TIMES += ["2020-01-01T01:00:00Z", "2020-01-02T00:00:00.123456789Z"]
HEX = ["6162", "41", "", "7a7a7a"]  # every one UTF-8 text ("ab", "A", "", "zzz")
ADDRESSES = ["198.51.100.7", "198.51.100.0/24", "203.0.113.5", "10.1.2.3", "10.0.0.0/8"]
NETWORKS = ["198.51.100.0/24", "198.51.0.0/16", "10.0.0.0/8", "203.0.113.5/32", "0.0.0.0/1"]
LIKES = ["x%", "%.exe", "_b", "%", "a\\b", "X._XE", "r_sum_", "%7%", "%sume\u0301", "%.dl_"]
LIKES += ["%exe", "a.d%", "%vil"]
REGEXES = ["^x", "exe$", "[0-9]+", ".*", "x\\.exe", "(?i)EVIL", "^$", "a", "sume\u0301$"]
REGEXES += ["^a\\.dl+$", "d41(d8)?"]
WITHIN = [1, 5, 30.5, 3600, 0.25]
REPEATS = [1, 2, 3]

#: Paths by object type, each with the kinds of literal it takes (see _literal_for).
PATHS: dict[str, list[tuple[tuple[Any, ...], str]]] = {
    "file": [
        (("name",), "text"),
        (("size",), "number"),
        (("hashes", "MD5"), "text"),
        (("hashes", "SHA-256"), "text"),
        (("tags", STAR), "text"),
        (("tags", 0), "text"),
        (("tags", 1), "text"),
        (("tags", -1), "text"),
        (("when",), "time"),
        (("data_hex",), "bytes"),
        (("parent_ref", "name"), "text"),
        (("child_refs", STAR, "name"), "text"),
        (("child_refs", 0, "size"), "number"),
        (("meta", "k"), "text"),
        (("meta", "list", STAR, "v"), "number"),
    ],
    "ipv4-addr": [(("value",), "address"), (("net",), "network")],
    "x-thing": [(("name",), "text"), (("size",), "number")],
}


def _timestamp(text: str) -> Timestamp:
    micros = timestamp_micros(text)
    assert micros is not None
    return Timestamp(micros)


def _literals(kind: str, op: str) -> st.SearchStrategy[Literal]:
    """Literals a comparison *op* on a path of *kind* may use without the oracle raising."""
    text = st.sampled_from(NAMES[:3] + MD5[:1]) | st.sampled_from(NAMES + MD5)
    numbers = st.sampled_from(NUMBERS)
    data = st.sampled_from(HEX).map(bytes.fromhex)
    order = op in ("<", "<=", ">", ">=")
    if kind == "time":
        return st.sampled_from(TIMES).map(_timestamp) | numbers.filter(
            lambda v: not order or type(v) is not bool
        )
    options: list[st.SearchStrategy[Any]] = [text, data]
    if kind in ("number", "bytes"):
        options.append(st.sampled_from(TIMES).map(_timestamp))
    if kind == "address":
        options = [st.sampled_from(ADDRESSES + NAMES)]
    if kind == "network":
        options = [st.sampled_from(NETWORKS)]
    options.append(numbers.filter(lambda v: not order or type(v) is not bool))
    return st.one_of(*options)


@st.composite
def comparisons(draw: st.DrawFn, otype: str) -> Comparison:
    steps, kind = draw(st.sampled_from(PATHS[otype]))
    path = Path(otype, steps)
    ops = ["=", "!=", "<", "<=", ">", ">=", "IN", "LIKE", "MATCHES"]
    if kind == "address":
        ops.append("ISSUBSET")
    if kind == "network":
        ops += ["ISSUBSET", "ISSUPERSET"]
    op = draw(st.sampled_from(ops))
    negated = draw(st.booleans())
    value: Any
    if op == "LIKE":
        value = draw(st.sampled_from(LIKES))
    elif op == "MATCHES":
        value = draw(st.sampled_from(REGEXES))
    elif op == "ISSUBSET":
        value = draw(st.sampled_from(NETWORKS))
    elif op == "ISSUPERSET":
        value = draw(st.sampled_from(ADDRESSES))
    elif op == "IN":
        first = draw(_literals(kind, op))
        same = _literals(kind, op).filter(lambda v: _same_kind(v, first))
        value = tuple(dict.fromkeys([first, *draw(st.lists(same, max_size=3))]))
    else:
        value = draw(_literals(kind, op))
    return Comparison(path, op, value, negated)


def _same_kind(a: Any, b: Any) -> bool:
    def kind(v: Any) -> str:
        if isinstance(v, bool):
            return "bool"
        return "number" if isinstance(v, int | float) else type(v).__name__

    return kind(a) == kind(b)


@st.composite
def comparison_exprs(draw: st.DrawFn, depth: int = 2) -> ComparisonExpr:
    otype = draw(st.sampled_from(sorted(PATHS)))
    if depth == 0 or draw(st.integers(0, 3)) > 0:
        if draw(st.integers(0, 9)) == 0:
            steps, _ = draw(st.sampled_from(PATHS[otype]))
            return Comparison(Path(otype, steps), "EXISTS", None, False)
        return draw(comparisons(otype))
    items = draw(st.lists(_no_exists(depth - 1, otype), min_size=2, max_size=3))
    cls = draw(st.sampled_from([And, Or]))
    return cls(tuple(_flatten(cls, items)))


@st.composite
def _no_exists(draw: st.DrawFn, depth: int, otype: str) -> ComparisonExpr:
    if depth == 0 or draw(st.integers(0, 2)) > 0:
        return draw(comparisons(otype))
    items = draw(st.lists(_no_exists(depth - 1, otype), min_size=2, max_size=2))
    cls = draw(st.sampled_from([And, Or]))
    return cls(tuple(_flatten(cls, items)))


def _flatten(cls: type, items: list[Any]) -> list[Any]:
    out: list[Any] = []
    for item in items:
        out.extend(item.items if isinstance(item, cls) else [item])
    return out


@st.composite
def patterns(draw: st.DrawFn, depth: int = 2) -> ObservationExpr:
    if depth == 0 or draw(st.integers(0, 1)) == 0:
        return Observation(draw(comparison_exprs()))
    choice = draw(st.sampled_from(["and", "or", "followedby", "within", "repeats", "startstop"]))
    if choice in ("and", "or"):
        cls = ObsAnd if choice == "and" else ObsOr
        items = draw(st.lists(patterns(depth - 1), min_size=2, max_size=3))
        return cls(tuple(_flatten(cls, items)))
    if choice == "followedby":
        return FollowedBy(draw(patterns(depth - 1)), draw(patterns(depth - 1)))
    inner = draw(patterns(depth - 1))
    if choice == "within":
        seconds = draw(st.sampled_from(WITHIN))
        return Within(inner, round(seconds * 1_000_000))
    if choice == "repeats":
        return Repeats(inner, draw(st.sampled_from(REPEATS)))
    start, stop = draw(st.lists(st.sampled_from(TIMES), min_size=2, max_size=2))
    return StartStop(inner, _timestamp(start).micros, _timestamp(stop).micros)


# -- printing --------------------------------------------------------------------------------

_TEXT_OF_MICROS = {_timestamp(t).micros: t for t in TIMES}


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def literal_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return _quote(value)
    if isinstance(value, bytes):
        return (
            "h'" + value.hex() + "'"
            if len(value) != 2
            else "b'" + base64.b64encode(value).decode() + "'"
        )
    assert isinstance(value, Timestamp)
    return "t'" + _TEXT_OF_MICROS[value.micros] + "'"


def path_text(path: Path) -> str:
    out = [path.object_type, ":"]
    for i, step in enumerate(path.steps):
        if step is STAR:
            out.append("[*]")
        elif isinstance(step, int):
            out.append(f"[{step}]")
        elif step.isidentifier() and "-" not in step:
            out.append(("." if i else "") + step)
        else:
            out.append(("." if i else "") + _quote(step))
    return "".join(out)


def comparison_text(expr: ComparisonExpr) -> str:
    if isinstance(expr, Comparison):
        if expr.op == "EXISTS":
            return ("NOT " if expr.negated else "") + "EXISTS " + path_text(expr.path)
        value = expr.value
        if expr.op == "IN":
            assert isinstance(value, tuple)
            rendered = "(" + ", ".join(literal_text(v) for v in value) + ")"
        else:
            rendered = literal_text(value)
        neg = "NOT " if expr.negated else ""
        return f"{path_text(expr.path)} {neg}{expr.op} {rendered}"
    joiner = " AND " if isinstance(expr, And) else " OR "
    return joiner.join(
        f"({comparison_text(i)})" if not isinstance(i, Comparison) else comparison_text(i)
        for i in expr.items
    )


def pattern_text(expr: ObservationExpr) -> str:
    if isinstance(expr, Observation):
        return f"[{comparison_text(expr.expr)}]"
    if isinstance(expr, ObsAnd | ObsOr):
        joiner = " AND " if isinstance(expr, ObsAnd) else " OR "
        return joiner.join(f"({pattern_text(i)})" for i in expr.items)
    if isinstance(expr, FollowedBy):
        return f"({pattern_text(expr.left)}) FOLLOWEDBY ({pattern_text(expr.right)})"
    inner = f"({pattern_text(expr.expr)})"
    if isinstance(expr, Within):
        seconds = expr.micros / 1_000_000
        return f"{inner} WITHIN {int(seconds) if seconds.is_integer() else seconds} SECONDS"
    if isinstance(expr, Repeats):
        return f"{inner} REPEATS {expr.times} TIMES"
    assert isinstance(expr, StartStop)
    return f"{inner} START t'{_TEXT_OF_MICROS[expr.start]}' STOP t'{_TEXT_OF_MICROS[expr.stop]}'"


# -- observations ----------------------------------------------------------------------------


@st.composite
def _sco(draw: st.DrawFn, otype: str, oid: str, others: list[str]) -> dict[str, Any]:
    obj: dict[str, Any] = {"type": otype, "id": oid}
    maybe = st.integers(0, 3).map(bool)  # mostly present: more cases that match
    if otype == "ipv4-addr":
        obj["value"] = draw(st.sampled_from(ADDRESSES))
        if draw(maybe):
            obj["net"] = draw(st.sampled_from(NETWORKS))
        return obj
    if draw(maybe):
        obj["name"] = draw(st.sampled_from(NAMES[:3]) | st.sampled_from(NAMES))
    if draw(maybe):
        obj["size"] = draw(st.sampled_from(NUMBERS))
    if otype == "x-thing":
        return obj
    if draw(maybe):
        obj["hashes"] = draw(
            st.dictionaries(st.sampled_from(["MD5", "SHA-256"]), st.sampled_from(MD5), max_size=2)
        )
    if draw(maybe):
        obj["tags"] = draw(st.lists(st.sampled_from(NAMES), max_size=3))
    if draw(maybe):
        obj["when"] = draw(st.sampled_from(TIMES))
    if draw(maybe):
        obj["data_hex"] = draw(st.sampled_from(HEX))
    if others and draw(maybe):
        obj["parent_ref"] = draw(st.sampled_from([*others, "file--missing"]))
    if others and draw(maybe):
        obj["child_refs"] = draw(st.lists(st.sampled_from([*others, "file--missing"]), max_size=3))
    if draw(maybe):
        obj["meta"] = {
            "k": draw(st.sampled_from(NAMES)),
            "list": [{"v": draw(st.sampled_from(NUMBERS))} for _ in range(draw(st.integers(0, 2)))],
        }
    return obj


@st.composite
def batches(draw: st.DrawFn) -> list[dict[str, Any]]:
    """A batch of observed-data and their objects (as one STIX 2.1 bundle's objects)."""
    objects: list[dict[str, Any]] = []
    for n in range(draw(st.integers(1, 4))):
        ids: list[str] = []
        for k in range(draw(st.integers(1, 3))):
            otype = draw(st.sampled_from(["file", "file", "ipv4-addr", "x-thing"]))
            oid = f"{otype}--{n}-{k}"
            objects.append(draw(_sco(otype, oid, ids)))
            ids.append(oid)
        first, last = sorted(
            draw(st.lists(st.sampled_from(TIMES), min_size=2, max_size=2)), key=_timestamp_key
        )
        objects.append(
            {
                "type": "observed-data",
                "id": f"observed-data--{n}",
                "first_observed": first,
                "last_observed": last,
                "number_observed": draw(st.integers(1, 3)),
                "object_refs": ids,
            }
        )
    return objects


def _timestamp_key(text: str) -> int:
    return _timestamp(text).micros
