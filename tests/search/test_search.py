"""Search through the gate, on SQLite and PostgreSQL: the index kept by ingest (and deletes),
results equal to a brute-force scan of what the principal may receive, Japanese, Serbian
Cyrillic and Latin text found, and nothing hidden found or counted."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kizuna.errors import BadRequest
from kizuna.node import Node, ingest, matches, object_text, read_page, terms
from kizuna.policy.principal import Principal
from kizuna.search import search
from kizuna.stix.markings import TLP2_IDS
from kizuna.store import PENDING_ROWS
from kizuna.store.types import ObjectQuery
from tests.conftest import postgres_database

TLPS = ["clear", "green", "amber", "red"]
#: Words in three scripts; queries are drawn from their pieces.
WORDS = [
    "東京", "攻撃キャンペーン", "サイバー", "Фанси", "Медвед", "Београд", "ћирилица",
    "PowerShell", "Cozy", "bear", "T1059.001", "CVE-2024-3400", "a_b%c", "x*y?[z",
]
QUERIES = [
    "東京", "キャンペーン", "京", "фанси", "МЕДВЕД", "беог", "ћ", "powershell", "cozy bear",
    "t1059", "cve-2024-3400", "a_b%c", "_", "%", "*", "x*y?[z", "[", "ea", "missing",
]


class World:
    """A node with two collections: one the partner organization may read (up to amber), one
    it may not; objects under every TLP in both."""

    def __init__(self, directory: Path, database: str, pending_rows: int = PENDING_ROWS) -> None:
        self.node, _ = Node.init(
            directory, name="n", org="HOME", country="FRA", communities=["NATO"], database=database
        )
        # SQLite: the pending rows of text move into the FTS5 index past this many.
        self.node.store.search_pending_rows = pending_rows
        self.node.add_org("PARTNER", "DEU", ["NATO"])
        self.node.add_user("analyst", "PARTNER")
        self.open = self.node.add_collection("open", alias="open").id
        self.closed = self.node.add_collection("closed", alias="closed").id
        self.node.grant(self.open, "PARTNER", read=True, write=False, max_tlp="amber")
        snap = self.node.snapshot()
        self.admin = snap.principal_for(self.node.store.user("admin"))  # type: ignore[arg-type]
        self.partner = snap.principal_for(self.node.store.user("analyst"))  # type: ignore[arg-type]

    def put(self, collection: str, objects: list[dict[str, Any]]) -> None:
        snap = self.node.snapshot()
        c = snap.collection(collection)
        assert c is not None
        raw = [msgspec.json.encode(o) for o in objects]
        results = ingest(self.node.store, snap, self.admin, c, raw, "file:test")
        assert all(r.ok for r in results), [r.message for r in results if not r.ok]

    def expected(self, principal: Principal, query: str) -> set[tuple[str, str]]:
        """Brute force: (collection, id) of every latest version *principal* receives whose
        released text holds every term of *query*."""
        snap = self.node.snapshot()
        wanted = terms(query)
        out: set[tuple[str, str]] = set()
        for cid in snap.readable(principal):
            c = snap.collection(cid)
            assert c is not None
            page = read_page(self.node.store, snap, principal, c, ObjectQuery(cid), 10_000)
            for item in page.items:
                if wanted and matches(object_text(msgspec.json.decode(item.body)), wanted):
                    out.add((cid, item.row.stix_id))
        return out


def _attack_pattern(
    name: str, description: str, tlp: str, *, oid: str | None = None, modified: str = "",
    secret: str = "",
) -> dict[str, Any]:
    created = "2026-01-01T00:00:00.000Z"
    obj: dict[str, Any] = {
        "type": "attack-pattern",
        "spec_version": "2.1",
        "id": oid or f"attack-pattern--{uuid.uuid4()}",
        "created": created,
        "modified": modified or created,
        "name": name,
        "description": description,
        "object_marking_refs": [TLP2_IDS[tlp]],
    }
    if secret:
        # The analyst may see the object (its TLP) but not this field, marked TLP:RED.
        obj["labels"] = [secret]
        obj["granular_markings"] = [{"marking_ref": TLP2_IDS["red"], "selectors": ["labels"]}]
    return obj


@contextmanager
def database(backend: str) -> Iterator[str]:
    if backend == "sqlite":
        yield ""
    else:
        with postgres_database() as url:
            yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql":
        with postgres_database():
            pass  # skips when no server is configured
    return str(request.param)


_word = st.sampled_from(WORDS)


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["open", "closed"]),
            st.sampled_from(TLPS),
            st.lists(_word, min_size=1, max_size=3),
            st.lists(_word, max_size=3),
            st.sampled_from(["", "new", "secret"]),  # a newer version; a hidden field
        ),
        min_size=2,
        max_size=12,
    ),
    # SQLite: every text in the FTS5 index at once, some pending and some moved, all pending
    st.sampled_from([1, 3, PENDING_ROWS]),
)
def test_search_equals_a_brute_force_scan_through_the_gate(
    backend: str, tmp_path_factory: pytest.TempPathFactory, plan: list[Any], pending_rows: int
) -> None:
    with database(backend) as url:
        world = World(tmp_path_factory.mktemp("w") / "node", url, pending_rows)
        try:
            _check_world(world, plan)
        finally:
            world.node.close()


def _check_world(world: World, plan: list[Any]) -> None:
    for alias, tlp, name, description, extra in plan:
        collection = world.open if alias == "open" else world.closed
        obj = _attack_pattern(
            " ".join(name), " ".join(description), tlp,
            secret=WORDS[len(name) + len(description)] if extra == "secret" else "",
        )
        world.put(collection, [obj])
        if extra == "new":  # the latest version alone decides: its name replaces the old one
            world.put(collection, [
                _attack_pattern(
                    "renamed " + name[0][::-1], "", tlp, oid=obj["id"],
                    modified="2026-02-01T00:00:00.000Z",
                )
            ])
    for principal in (world.partner, world.admin):
        for query in [*QUERIES, f"{WORDS[0]} {WORDS[8]}", "renamed", "Б"]:
            expected = world.expected(principal, query)
            got = search(world.node, principal, query, limit=1000, cap=1000)
            assert {(f.collection.id, f.released.row.stix_id) for f in got.items} == expected, (
                query
            )
            assert got.total == len(expected) and not got.capped
            # Small caps count to the cap and say there may be more.
            if len(expected) > 1:
                small = search(world.node, principal, query, limit=1, cap=1)
                assert small.total == 1 and small.capped
                assert len(small.items) == 1
            # Filters narrow to a collection and to a type.
            only = search(world.node, principal, query, collections=[world.open], limit=1000)
            assert {(f.collection.id, f.released.row.stix_id) for f in only.items} == {
                e for e in expected if e[0] == world.open
            }
            none = search(world.node, principal, query, types=["indicator"], limit=1000)
            assert none.items == [] and none.total == 0


def test_scripts_and_hidden_objects(backend: str, tmp_path: Path) -> None:
    with database(backend) as url:
        world = World(tmp_path / "node", url)
        try:
            _scripts_and_hidden(world)
        finally:
            world.node.close()


def _scripts_and_hidden(world: World) -> None:
    ja = _attack_pattern("東京での攻撃キャンペーン", "サイバー攻撃", "green")
    sr = _attack_pattern("Фанси Медвед", "Напад на Београд", "clear")
    latin = _attack_pattern("PowerShell", "Command and Scripting Interpreter", "clear")
    latin["external_references"] = [{"source_name": "mitre-attack", "external_id": "T1059.001"}]
    vuln = {
        "type": "vulnerability", "spec_version": "2.1", "id": f"vulnerability--{uuid.uuid4()}",
        "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
        "name": "CVE-2024-3400",
        "external_references": [{"source_name": "cve", "external_id": "CVE-2024-3400"}],
    }
    hidden_red = _attack_pattern("Operation Nightjar", "красный", "red")
    hidden_closed = _attack_pattern("Operation Nightjar closed", "", "clear")
    world.put(world.open, [ja, sr, latin, vuln, hidden_red])
    world.put(world.closed, [hidden_closed])

    def ids(principal: Principal, query: str) -> set[str]:
        return {f.released.row.stix_id for f in search(world.node, principal, query).items}

    p = world.partner
    assert ids(p, "東京") == {ja["id"]}
    assert ids(p, "キャンペーン") == {ja["id"]}
    assert ids(p, "攻撃") == {ja["id"]}
    assert ids(p, "медвед") == {sr["id"]}
    assert ids(p, "БЕОГРАД") == {sr["id"]}
    assert ids(p, "t1059.001") == {latin["id"]}
    assert ids(p, "CVE-2024-3400") == {vuln["id"]}
    assert ids(p, "фанси медвед") == {sr["id"]}
    assert ids(p, "фанси powershell") == set()
    # Hidden by TLP or by the collection: never found, never counted.
    got = search(world.node, p, "nightjar")
    assert got.items == [] and got.total == 0 and not got.capped
    assert search(world.node, p, "красный").total == 0
    assert ids(world.admin, "nightjar") == {hidden_red["id"], hidden_closed["id"]}
    # A collection the partner may not read, asked for by id, finds nothing either.
    assert search(world.node, p, "nightjar", collections=[world.closed]).total == 0
    assert search(world.node, p, "   ").total == 0
    assert search(world.node, p, "\x00").total == 0  # PostgreSQL's text holds no NUL
    assert ids(p, "東\x00京") == {ja["id"]}
    with pytest.raises(BadRequest):
        search(world.node, p, "x", limit=0)


def test_the_index_follows_ingest_and_deletes_and_fills_when_turned_on(
    backend: str, tmp_path: Path
) -> None:
    with database(backend) as url:
        world = World(tmp_path / "node", url)
        _lifecycle(world, tmp_path)


def _lifecycle(world: World, tmp_path: Path) -> None:
    obj = _attack_pattern("Ласица", "", "clear")
    store = world.node.store
    before = store.search_entries()  # the definitions collection's objects
    world.put(world.open, [obj])
    assert store.search_entries() == before + 1
    hits = store.search_hits(["ласица"])
    assert [(h[1], h[2], h[3]) for h in hits] == [(world.open, obj["id"], "attack-pattern")]
    assert store.search_hits(["ласица"], {world.closed: None}) == []
    assert store.search_hits(["ласица"], {world.open: frozenset()}) == []
    store.delete_versions(world.open, [hits[0][0]])
    assert store.search_hits(["ласица"]) == []
    assert store.search_entries() == before
    world.put(world.open, [_attack_pattern("Ласица 2", "", "clear")])
    world.node.close()
    path = tmp_path / "node" / "kizuna.toml"
    config = path.read_text()
    assert "search_index = true" in config
    path.write_text(config.replace("search_index = true", "search_index = false"))
    node = Node.open(tmp_path / "node")
    assert node.store.search_text is None
    with pytest.raises(BadRequest):
        search(node, world.admin, "ласица")
    snap = node.snapshot()
    c = snap.collection(world.open)
    assert c is not None
    raw = [json.dumps(_attack_pattern("ласица 3", "", "clear")).encode()]
    assert all(r.ok for r in ingest(node.store, snap, world.admin, c, raw, "x"))
    node.close()
    path.write_text(config)
    node = Node.open(tmp_path / "node")
    try:
        assert node.store.search_entries() == before + 2  # on again: filled from every version
        assert search(node, world.admin, "ласица").total == 2
    finally:
        node.close()


def test_exact_lookup_of_an_observable(backend: str, tmp_path: Path) -> None:
    """``lookup`` finds the objects carrying a value however it is written, on both stores,
    and only what the principal may see (an indicator of it under TLP:RED is not found)."""
    from kizuna.search import lookup, observable_of

    with database(backend) as url:
        w = World(tmp_path / "node", url)
        ip = {"type": "ipv4-addr", "spec_version": "2.1", "id": f"ipv4-addr--{uuid.uuid4()}",
              "value": "198.51.100.7", "object_marking_refs": [TLP2_IDS["green"]]}
        indicators = [
            {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
             "created": "2026-05-01T00:00:00.000Z", "modified": "2026-05-01T00:00:00.000Z",
             "pattern_type": "stix", "valid_from": "2026-05-01T00:00:00Z",
             "pattern": pattern, "object_marking_refs": [TLP2_IDS[tlp]]}
            for pattern, tlp in (("[ipv4-addr:value = '198.51.100.7']", "green"),
                                 ("[ipv4-addr:value = '198.51.100.7/32']", "red"),
                                 ("[url:value = 'HTTP://Evil.example:80/a']", "amber"))
        ]
        w.put(w.open, [ip, *indicators])
        kind_value = observable_of("198.51.100[.]7")
        assert kind_value == ("ipv4-addr", "198.51.100.7")
        seen = {f.released.row.stix_id for f in lookup(w.node, w.partner, *kind_value).items}
        assert seen == {ip["id"], indicators[0]["id"]}
        everything = lookup(w.node, w.admin, *kind_value)
        assert everything.total == 3 and not everything.capped
        only = lookup(w.node, w.admin, *kind_value, types=["indicator"])
        assert only.total == 2
        url_value = observable_of("hxxp://evil[.]example/a")
        assert url_value == ("url", "http://evil.example/a")
        assert [f.released.row.stix_id for f in lookup(w.node, w.partner, *url_value).items] == [
            indicators[2]["id"]
        ]
        assert lookup(w.node, w.partner, "domain-name", "nothing.example").total == 0
        w.node.close()


def test_on_sqlite_the_search_index_leads_the_query(tmp_path: Path) -> None:
    """SQLite's plan reads the trigram index first, newest first, and each hit's version by
    its key: walking the readable collections' versions instead runs the trigram query once
    per version (seconds on a node of a few thousand objects)."""
    import sqlite3

    from sqlalchemy import event

    w = World(tmp_path / "n", "")
    w.put(w.open, [_attack_pattern(f"Mitigation {i} limited", "not effective", "green")
                   for i in range(30)])
    statements: list[tuple[str, Any]] = []

    def seen(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        statements.append((statement, parameters))

    store = w.node.store
    event.listen(store._read, "before_cursor_execute", seen)
    found = search(w.node, w.partner, "Mitigation Limited Not Effective")
    event.remove(store._read, "before_cursor_execute", seen)
    assert found.total == 30
    statement, parameters = next(
        s for s in statements if "search_index" in s[0] and "versions" in s[0]
    )
    with sqlite3.connect(w.node.directory / "kizuna.db") as conn:
        plan = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + statement, parameters)]
    assert plan[0].startswith("SCAN search_index VIRTUAL TABLE"), plan
    assert any("versions USING INTEGER PRIMARY KEY" in step for step in plan[1:]), plan
    assert not any("TEMP B-TREE" in step for step in plan), plan
    # The pending rows: those after the FTS5 index's last, by their key, newest first.
    statement, parameters = next(s for s in statements if "search_text" in s[0])
    with sqlite3.connect(w.node.directory / "kizuna.db") as conn:
        plan = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + statement, parameters)]
    assert any(
        "SEARCH search_text USING INTEGER PRIMARY KEY (rowid>?)" in step for step in plan
    ), plan
    assert any("versions USING INTEGER PRIMARY KEY" in step for step in plan), plan
    assert not any("TEMP B-TREE" in step for step in plan), plan
    w.node.close()


@pytest.mark.parametrize("pending_rows", [1, PENDING_ROWS])
def test_a_common_term_and_a_rare_one(
    backend: str, tmp_path: Path, pending_rows: int
) -> None:
    """A term in every row and one in few: the same results as a brute-force scan through
    the gate; on SQLite the FTS5 index answers the rare term alone (the common one is
    checked on its rows) unless every term is common."""
    from sqlalchemy import event

    with database(backend) as url:
        w = World(tmp_path / "n", url, pending_rows)
        w.node.store.search_rare_rows = 10  # a term in fewer rows leads
        try:
            for alias in ("open", "closed"):
                w.put(w.open if alias == "open" else w.closed, [
                    _attack_pattern(f"Indicator {i} {'rare-beacon' if i % 7 == 0 else 'plain'}",
                                    "common words", tlp)
                    for i in range(24) for tlp in ("green", "red")
                ])
            statements: list[str] = []

            def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
                statements.append(statement)

            event.listen(w.node.store._read, "before_cursor_execute", seen)
            for principal in (w.partner, w.admin):
                for query in ("indicator rare-beacon", "rare-beacon indicator", "indicator 14",
                              "indicator 21 rare-beacon", "indicator common", "ind rare-beacon",
                              "indicator rare-beacon missing"):
                    expected = w.expected(principal, query)
                    got = search(w.node, principal, query, limit=1000, cap=1000)
                    assert {(f.collection.id, f.released.row.stix_id) for f in got.items} == (
                        expected
                    ), query
                    assert got.total == len(expected), query
            event.remove(w.node.store._read, "before_cursor_execute", seen)
            assert w.expected(w.partner, "indicator rare-beacon")  # the case is not empty
            if backend == "sqlite" and pending_rows == 1:  # every text in the FTS5 index
                main = [s for s in statements if "search_index" in s and "versions" in s]
                # "rare-beacon" leads: one GLOB of the index, the other on the row's text
                assert any(s.count("GLOB") == 2 and s.count("text || ") == 1 for s in main)
                # "indicator common": both common, both answered by the index
                assert any(s.count("GLOB") == 2 and "text || " not in s for s in main)
        finally:
            w.node.close()


def _fts5_terms(directory: Path) -> tuple[dict[str, int], dict[str, int]]:
    """SQLite: the FTS5 index's trigrams with how many rows hold each, and the same counted
    from the rows of text it should hold (those up to ``search_index_upto``)."""
    import sqlite3
    from collections import Counter

    with sqlite3.connect(directory / "kizuna.db") as conn:
        conn.execute("CREATE VIRTUAL TABLE temp.v USING fts5vocab(main, search_index, 'row')")
        held = dict(conn.execute("SELECT term, doc FROM temp.v").fetchall())
        upto = int(conn.execute(
            "SELECT value FROM settings WHERE key = 'search_index_upto'"
        ).fetchone()[0])
        texts = [r[0] for r in conn.execute(
            "SELECT text FROM search_text WHERE added_us <= ?", (upto,)
        )]
    expected = Counter(g for text in texts for g in {text[i : i + 3] for i in range(len(text) - 2)})
    return held, dict(expected)


def _setting(world: World, key: str) -> int:
    return int(world.node.store.setting(key) or 0)


def test_on_sqlite_pending_texts_move_into_the_fts5_index_together(tmp_path: Path) -> None:
    """A POST writes its texts as pending rows, found at once; the POST that takes them to
    ``search_pending_rows`` moves them all into the FTS5 index; deletes remove a text from
    where it is (the index holds exactly the texts up to its last move, checked term by
    term against FTS5's own vocabulary)."""
    w = World(tmp_path / "n", "", pending_rows=1)
    try:
        store = w.node.store
        w.put(w.open, [_attack_pattern("Something else", "", "green")])  # every text moved
        assert _setting(w, "search_index_pending") == 0
        store.search_pending_rows = 3
        first = [_attack_pattern(f"Ласица {i}", "", "green") for i in range(2)]
        for obj in first:
            w.put(w.open, [obj])
        assert _setting(w, "search_index_pending") == 2
        upto = _setting(w, "search_index_upto")
        found = search(w.node, w.partner, "ласица")
        assert {f.released.row.stix_id for f in found.items} == {o["id"] for o in first}
        assert all(f.released.row.added_us > upto for f in found.items)  # pending, found
        w.put(w.open, [third := _attack_pattern("Ласица 2", "東京", "green")])
        assert _setting(w, "search_index_pending") == 0
        hits = store.search_hits(["ласица"])
        assert _setting(w, "search_index_upto") == hits[0][0]  # every text is in FTS5 now
        held, expected = _fts5_terms(w.node.directory)
        assert held == expected and "ласи" not in held and "аси" in held
        # A moved text and a pending one deleted: neither is found, the index stays exact.
        w.put(w.open, [fourth := _attack_pattern("Ласица 4", "", "green")])
        by_id = {h[2]: h[0] for h in store.search_hits(["ласица"])}
        store.delete_versions(w.open, [by_id[third["id"]], by_id[fourth["id"]]])
        assert {h[2] for h in store.search_hits(["ласица"])} == {o["id"] for o in first}
        assert store.search_hits(["東京"]) == []
        held, expected = _fts5_terms(w.node.directory)
        assert held == expected and "東京" not in "".join(held)
        # Every term's hits, pending and moved, newest first, paged by before_us.
        for i in range(4):
            w.put(w.open, [_attack_pattern(f"Ласица {10 + i}", "", "green")])
        every = store.search_hits(["ласица"])
        assert len(every) == 6 and [h[0] for h in every] == sorted((h[0] for h in every), reverse=True)
        assert _setting(w, "search_index_pending") > 0  # some of them are pending
        assert store.search_hits(["ласица"], limit=2) == every[:2]
        assert store.search_hits(["ласица"], before_us=every[2][0], limit=10) == every[3:]
    finally:
        w.node.close()


def test_on_sqlite_a_store_of_the_earlier_layout_is_rebuilt_when_it_opens(tmp_path: Path) -> None:
    """A database whose search index was one FTS5 table holding the text (before pending
    rows, 2026-12-04) gets the current layout, filled from every version, when it opens."""
    import sqlite3

    w = World(tmp_path / "n", "")
    w.put(w.open, [obj := _attack_pattern("Operation Ласица", "", "green")])
    before = w.node.store.search_entries()
    w.node.close()
    with sqlite3.connect(tmp_path / "n" / "kizuna.db") as conn:
        conn.execute("DROP TABLE search_index")
        conn.execute("DROP TABLE search_text")
        conn.execute(
            "CREATE VIRTUAL TABLE search_index USING fts5("
            "text, tokenize = 'trigram case_sensitive 1', detail = 'none')"
        )
        conn.execute("UPDATE settings SET value = 'on' WHERE key = 'search_index'")
    node = Node.open(tmp_path / "n")
    try:
        assert node.store.search_entries() == before
        assert node.store.setting("search_index") == "on, pending rows"
        assert [f.released.row.stix_id for f in search(node, w.partner, "ласица").items] == [
            obj["id"]
        ]
        held, expected = _fts5_terms(tmp_path / "n")
        assert held == expected and held
    finally:
        node.close()


def test_more_is_said_only_of_what_the_principal_may_see(backend: str, tmp_path: Path) -> None:
    """A search that stops at its cap says "more" only when the principal receives more: the
    index's candidates past the cap that the gate refuses (a field under TLP:RED holds the
    term) are not counted, and do not make the count "cap+"."""
    with database(backend) as url:
        world = World(tmp_path / "node", url)
        try:
            # More candidates than one batch of the index (500), the older ones hidden: the
            # term is only in a TLP:RED field of an object the analyst may otherwise see.
            hidden = [_attack_pattern(f"h{i}", "", "green", secret="zebrafinch") for i in range(620)]
            world.put(world.open, hidden)
            seen = [_attack_pattern(f"zebrafinch {i}", "", "green") for i in range(3)]
            world.put(world.open, seen)
            got = search(world.node, world.partner, "zebrafinch", limit=1, cap=3)
            assert (got.total, got.capped, len(got.items)) == (3, False, 1)
            assert got.items[0].released.row.stix_id == seen[-1]["id"]
            # The administrator receives them all: more than the cap, said so.
            every = search(world.node, world.admin, "zebrafinch", limit=1, cap=3)
            assert (every.total, every.capped) == (3, True)
            # One more the analyst may see, older than every hidden one: now there is more.
            world.put(world.open, [_attack_pattern("zebrafinch late", "", "green")])
            more = search(world.node, world.partner, "zebrafinch", limit=1, cap=3)
            assert (more.total, more.capped) == (3, True)
            # Filtered by *keep*: what it refuses is not "more" either.
            kept = search(world.node, world.partner, "zebrafinch", limit=1, cap=4,
                          keep=lambda f: "late" not in str(f.obj.get("name")))
            assert (kept.total, kept.capped) == (3, False)
        finally:
            world.node.close()
