"""A gated page read set by set (store/_set_rows.py) gives the rows the walk in ``added_us``
order gives, whatever the query: the plan is chosen by an estimate, never the answer. On
both adapters, on both sides of SQLite's id index merges."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from kizuna.store import SqlStore, open_store
from kizuna.store import _set_rows as set_rows
from kizuna.store.types import Collection, NewVersion, ObjectQuery, VersionMatch

MARKS = [(), ("marking-definition--00000000-0000-4000-8000-00000000000a",)] + [
    (f"marking-definition--00000000-0000-4000-8000-0000000000{n:02d}",) for n in range(10, 16)
]


@pytest.fixture(params=["keys", "merge-often"])
def store(request: pytest.FixtureRequest, database: str, tmp_path: Path) -> Iterator[SqlStore]:
    s = open_store(database or f"sqlite:///{tmp_path / 'store.db'}")
    if request.param == "merge-often":
        s.merge_rows = 7
    s.create_schema()
    s.add_collection(Collection("c1", "One", "", None, (), "real"))
    s.add_collection(Collection("c2", "Two", "", None, (), "real"))
    rng = random.Random(7)
    types = ["indicator", "relationship", "malware", "note"]
    for batch in range(12):
        items = []
        for n in range(40):
            oid = f"{rng.choice(types)}--00000000-0000-4000-8000-{rng.randrange(120):012d}"
            items.append(
                NewVersion(
                    oid, oid.split("--")[0], 1000 + rng.randrange(6), rng.choice(["2.1", "2.0"]),
                    rng.choice(MARKS), False, f'{{"id":"{oid}","b":{batch},"n":{n}}}'.encode(),
                )
            )  # fmt: skip
        s.add_versions(rng.choice(["c1", "c1", "c2"]), items, "user:x")
    yield s
    s.close()


def test_set_by_set_reads_what_the_walk_reads(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    sets = sorted(store.marking_sets())
    matches = [
        VersionMatch(),
        VersionMatch(first=True, last=False),
        VersionMatch(first=True, last=True),
        VersionMatch(all=True),
        VersionMatch(last=False, at=(1002, 1004)),
        VersionMatch(every_version_of=("relationship", "note")),
    ]
    queries = [
        ObjectQuery("c1", after_us=after, spec_versions=spec, versions=m, marking_sets=vis, limit=n)
        for m, vis, n, spec, after in itertools.product(
            matches,
            [frozenset(sets[:1]), frozenset(sets[1:4]), frozenset(sets)],
            [1, 7, 1000],
            [(), ("2.1",)],
            [None, "middle"],
        )
    ]
    everything = store.query(ObjectQuery("c1", versions=VersionMatch(all=True), limit=10**6))
    middle = everything[len(everything) // 2].added_us
    for q in queries:
        if q.after_us == "middle":  # type: ignore[comparison-overlap]
            q = ObjectQuery(**{**_fields(q), "after_us": middle})
        monkeypatch.setattr(set_rows, "SMALL", 10**9)
        walked = store.query(q)
        monkeypatch.setattr(set_rows, "SMALL", 0)
        monkeypatch.setattr(SqlStore, "sparse", lambda self, cid, sets: True)
        by_set = store.query(q)
        monkeypatch.undo()
        assert by_set == walked, q
    assert any(store.query(q) for q in queries)


def test_the_estimate_follows_writes_and_deletes(store: SqlStore) -> None:
    counts = store._counts("c1")
    total = sum(counts.values())
    assert total == store.count("c1")
    oid = "indicator--00000000-0000-4000-8000-999999999999"
    item = NewVersion(oid, "indicator", 1, "2.1", MARKS[3], False, b"{}")
    [(_, added)] = store.add_versions("c1", [item], "user:x")
    assert sum(store._counts("c1").values()) == total + 1
    store.delete_versions("c1", [added])
    assert sum(store._counts("c1").values()) == total


def _fields(q: ObjectQuery) -> dict[str, object]:
    return {f: getattr(q, f) for f in q.__dataclass_fields__}
