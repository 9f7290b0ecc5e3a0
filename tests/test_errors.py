"""The error tree of kizuna.errors: drawn in its docstring, each class documented with its status."""

from __future__ import annotations

import re

import pytest

from kizuna import errors
from kizuna.errors import KizunaError, RecordError

CLASSES = [getattr(errors, name) for name in errors.__all__]


def _drawn() -> list[tuple[int, str]]:
    """(column, class name) of each node of the tree drawn in the module's docstring."""
    tree = (errors.__doc__ or "").split("::")[1].split("\n\n")[1]
    out = []
    for line in tree.splitlines():
        m = re.match(r"^([\s├└│─]*)(\w+)", line)
        assert m, line
        out.append((len(m.group(1)), m.group(2)))
    return out


def test_every_class_is_in_the_tree_and_the_tree_names_only_them() -> None:
    assert sorted(name for _, name in _drawn()) == sorted(c.__name__ for c in CLASSES)
    assert all(issubclass(c, KizunaError) for c in CLASSES)


def test_the_tree_draws_each_class_under_its_parent() -> None:
    stack: list[tuple[int, str]] = []
    for column, name in _drawn():
        while stack and stack[-1][0] >= column:
            stack.pop()
        cls = getattr(errors, name)
        if stack:
            parent = getattr(errors, stack[-1][1])
            assert cls.__bases__[0] is parent, f"{name} is drawn under {parent.__name__}"
        else:
            assert cls is KizunaError
        stack.append((column, name))


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_each_class_has_a_docstring_of_its_own_and_a_status(cls: type[KizunaError]) -> None:
    doc = cls.__dict__.get("__doc__")
    assert doc, f"{cls.__name__} has no docstring of its own"
    first = doc.strip().splitlines()[0]
    assert first.endswith((".", ")")), f"{cls.__name__}: the first line is one sentence"
    named = re.search(r"\((\d{3})\)\.?$", first)
    if named:
        assert cls.status == int(named.group(1)), cls.__name__
    assert 400 <= cls.status <= 599
    assert cls.__dict__.get("title") or cls is not KizunaError


def test_a_class_carries_its_status_without_an_instance_being_changed() -> None:
    assert errors.MethodNotAllowed("x").status == 405
    assert errors.HTTPStatusError("x", 418).status == 418
    assert errors.HTTPStatusError.status == 500  # the class itself is not changed
    assert errors.SyncError("peer down").status == 502
    assert isinstance(errors.TimestampError("x"), ValueError)
    assert errors.TimestampError("x").status == 400


def test_a_record_error_prints_expected_above_given() -> None:
    exc = RecordError(
        "bad checksum",
        source="iss.tle",
        where="line 2",
        expected="2 NNNNN ...",
        line="2 25544 51.64",
        columns=(3, 7),
    )
    assert str(exc).splitlines() == [
        "iss.tle line 2: bad checksum",
        "    expected: 2 NNNNN ...",
        "    got:      2 25544 51.64",
        "                ^^^^^",
    ]
    assert exc.status == 422 and isinstance(exc, ValueError)
    assert exc.details == {"source": "iss.tle", "where": "line 2"}

    class TleLike(RecordError):
        """A subclass names its format's default source."""

        default_source = "<tle>"

    assert str(TleLike("empty")) == "<tle>: empty"
