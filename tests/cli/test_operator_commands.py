"""Listing and undoing: grants, users, peers, markings; what each change says it changed.

In-process through click's runner (the same command tree ``kizuna`` runs); a node served over
real HTTP checks that a rotated or disabled token stops working at once.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result

from kizuna.cli import main
from kizuna.node import Node
from kizuna.stix.markings import TLP2_IDS, releasability_id
from kizuna.store.types import SyncCursor
from tests.conftest import POSTGRES_URL, free_port, postgres_database, serve

ACCEPT = {"Accept": "application/taxii+json;version=2.1"}


def kizuna(*args: str | Path, code: int = 0, stdin: str | None = None) -> Result:
    """Run a kizuna command; check its exit status (1: an error, 2: a usage error)."""
    result = CliRunner().invoke(main, [str(a) for a in args], input=stdin)
    assert result.exit_code == code, result.output + repr(result.exception)
    return result


@pytest.fixture
def d(tmp_path: Path) -> Path:
    d = tmp_path / "n"
    kizuna("init", d, "--name", "nato", "--org", "NATO-CERT", "--country", "BEL", "--community", "NATO")
    kizuna("org", "add", d, "JPN-CERT", "--country", "JPN", "--community", "IP4")
    return d


def test_a_new_collection_is_the_home_organizations_and_no_one_elses(d: Path) -> None:
    added = kizuna("collection", "add", d, "Shared", "--alias", "shared")
    cid = added.stdout.strip()
    assert "NATO-CERT (this node's organization) may read and write it up to TLP:AMBER+STRICT" in added.stderr
    assert kizuna("grant", "list", d).stdout == f"{cid}\tshared\tNATO-CERT\tread,write\tamber+strict\tShared\n"
    home = kizuna("user", "add", d, "bob", "--org", "NATO-CERT")
    assert "it can read 1 collection(s): Shared" in home.stderr
    other = kizuna("user", "add", d, "aiko", "--org", "JPN-CERT")
    assert "it can read no collection yet" in other.stderr
    assert f"kizuna grant {d} COLLECTION --org JPN-CERT --read" in other.stderr
    private = kizuna("collection", "add", d, "Private", "--no-home-grant")
    assert "no organization may read it yet" in private.stderr
    assert private.stdout.strip() not in kizuna("grant", "list", d).stdout
    admin = kizuna("user", "add", d, "ops", "--org", "JPN-CERT", "--admin")
    assert "an administrator reads and writes every collection" in admin.stderr


def test_grant_says_what_changes_and_never_revokes_silently(d: Path) -> None:
    cid = kizuna("collection", "add", d, "Shared").stdout.strip()
    refused = kizuna("grant", d, cid, "--org", "JPN-CERT", code=1)
    assert "say what JPN-CERT may do: --read and/or --write" in refused.stderr
    first = kizuna("grant", d, cid, "--org", "JPN-CERT", "--read")
    assert f"granted JPN-CERT on 'Shared' ({cid}): read, up to TLP:AMBER" in first.stderr
    same = kizuna("grant", "set", d, cid, "--org", "JPN-CERT", "--max-tlp", "amber")
    assert "unchanged: JPN-CERT" in same.stderr
    changed = kizuna("grant", d, cid, "--org", "JPN-CERT", "--write", "--max-tlp", "green")
    assert "changed JPN-CERT" in changed.stderr
    assert "write no -> yes, max TLP amber -> green" in changed.stderr
    assert "read" not in changed.stderr.split("): ", 1)[1]  # read stays as it was, unmentioned
    listed = kizuna("grant", "list", d, "--org", "JPN-CERT").stdout
    assert listed == f"{cid}\t-\tJPN-CERT\tread,write\tgreen\tShared\n"
    nothing = kizuna("grant", d, cid, "--org", "JPN-CERT", "--no-read", "--no-write", code=1)
    assert f"kizuna grant revoke {d} {cid} --org JPN-CERT" in nothing.stderr
    assert "JPN-CERT" in kizuna("grant", "list", d).stdout  # the refused change changed nothing
    revoked = kizuna("grant", "revoke", d, cid, "--org", "JPN-CERT")
    assert "revoked JPN-CERT's grant" in revoked.stderr and "read and write, up to TLP:GREEN" in revoked.stderr
    assert kizuna("grant", "list", d, "--org", "JPN-CERT").stdout == ""
    again = kizuna("grant", "revoke", d, cid, "--org", "JPN-CERT", code=1)
    assert "'JPN-CERT' holds no grant" in again.stderr
    unknown = kizuna("grant", "list", d, "--collection", "nope", code=1)
    assert "no collection 'nope'" in unknown.stderr


def test_a_rotated_or_disabled_token_stops_working_at_once(d: Path) -> None:
    cid = kizuna("collection", "add", d, "Shared").stdout.strip()
    kizuna("grant", d, cid, "--org", "JPN-CERT", "--read")
    old = kizuna("user", "add", d, "aiko", "--org", "JPN-CERT").stdout.strip()
    node = Node.open(d)
    with serve(node) as url:
        objects = f"{url}/api/collections/{cid}/objects/"

        def status(token: str) -> int:
            return httpx.get(objects, auth=("aiko", token), headers=ACCEPT).status_code

        assert status(old) == 200
        new = kizuna("user", "rotate", d, "aiko").stdout.strip()
        assert len(new) >= 40 and new != old
        assert status(old) == 401 and status(new) == 200
        assert "disabled" in kizuna("user", "disable", d, "aiko").stderr
        assert status(new) == 401
        assert "was disabled already" in kizuna("user", "disable", d, "aiko").stderr
        assert kizuna("user", "list", d).stdout.splitlines() == [
            "admin\tNATO-CERT\tadmin\tenabled",
            "aiko\tJPN-CERT\tuser\tdisabled",
        ]
        rotated = kizuna("user", "rotate", d, "aiko")
        assert "the user was disabled: this token enables it" in rotated.stderr
        newest = rotated.stdout.strip()
        assert status(newest) == 200 and status(new) == 401
    node.close()
    assert "no user 'nobody'" in kizuna("user", "rotate", d, "nobody", code=1).stderr
    assert "no user 'nobody'" in kizuna("user", "disable", d, "nobody", code=1).stderr


def test_marking_list_says_what_each_definition_means(d: Path) -> None:
    kizuna("marking", "rel-to", d, "JPN", "NATO")
    lines = kizuna("marking", "list", d).stdout.splitlines()
    assert f"{TLP2_IDS['amber+strict']}\tTLP:AMBER+STRICT\tTLP:AMBER+STRICT" in lines
    assert f"{releasability_id(['JPN', 'NATO'])}\tREL TO JPN, NATO\tREL TO JPN, NATO" in lines
    # TLP 1.0's WHITE is read as TLP 2.0's CLEAR (docs/policy.md)
    assert "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9\tTLP:CLEAR\tTLP:WHITE" in lines
    assert len(lines) == 10


def test_default_markings_must_be_stored(d: Path) -> None:
    missing = releasability_id(["JPN"])
    refused = kizuna("collection", "add", d, "JPN only", "--default-marking", missing, code=1)
    assert f"default marking {missing!r} is not a marking-definition stored on this node" in refused.stderr
    assert "JPN only" not in kizuna("collection", "list", d).stdout
    kizuna("marking", "rel-to", d, "JPN")
    kizuna("collection", "add", d, "JPN only", "--default-marking", missing)
    assert "JPN only" in kizuna("collection", "list", d).stdout


def test_peer_token_from_a_file_or_stdin_and_peer_remove(d: Path, tmp_path: Path) -> None:
    cid = kizuna("collection", "add", d, "From JPN", "--alias", "from-jpn").stdout.strip()
    none = kizuna("sync", d, code=1)
    assert "this node has no peers: add one with kizuna peer add" in none.stderr
    secret = tmp_path / "jpn.token"
    secret.write_text("s3cret-token\n")
    kizuna("peer", "add", d, "jpn", "http://127.0.0.1:9", "--org", "JPN-CERT",
           "--token-file", secret, "--pull", "shared:from-jpn")
    kizuna("peer", "add", d, "jpn2", "http://127.0.0.1:9", "--org", "JPN-CERT",
           "--token-file", "-", stdin="other-token\n")
    node = Node.open(d)
    assert {p.name: p.token for p in node.store.peers()} == {"jpn": "s3cret-token", "jpn2": "other-token"}
    node.store.set_cursor(SyncCursor("jpn", "pull", cid, "shared", "2026-01-01T00:00:00.000Z"))
    neither = kizuna("peer", "add", d, "x", "http://127.0.0.1:9", "--org", "JPN-CERT", code=2)
    both = kizuna("peer", "add", d, "x", "http://127.0.0.1:9", "--org", "JPN-CERT", "--token", "t",
                  "--token-file", secret, code=2)
    for r in (neither, both):
        assert "give the peer's token with --token-file FILE (or -), or --token" in r.stderr
    empty = kizuna("peer", "add", d, "x", "http://127.0.0.1:9", "--org", "JPN-CERT",
                   "--token-file", "-", stdin="\n", code=2)
    assert "expected one line holding the token" in empty.stderr
    assert "removed peer jpn" in kizuna("peer", "remove", d, "jpn").stderr
    assert [p.name for p in node.store.peers()] == ["jpn2"]
    assert node.store.cursor("jpn", "pull", cid, "shared") is None
    assert "no peer 'jpn'" in kizuna("peer", "remove", d, "jpn", code=1).stderr
    assert "nothing to sync" in kizuna("sync", d).stderr  # jpn2 neither pulls nor pushes
    node.close()


def _init(d: Path, database: str, code: int = 1) -> Result:
    return kizuna("init", d, "--name", "n", "--org", "NATO-CERT", "--country", "BEL",
                  "--database", database, code=code)


def test_a_postgresql_url_that_cannot_work_fails_in_one_line_and_leaves_nothing(tmp_path: Path) -> None:
    d = tmp_path / "n"
    refused = _init(d, f"postgresql://kizuna:s3cret@127.0.0.1:{free_port()}/kizuna")
    assert "refused the connection: start the server, or fix the URL's host and port" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1 and "s3cret" not in refused.stderr
    assert not d.exists()  # a failed init leaves nothing behind
    unknown = _init(d, "postgresql://kizuna@no-such-host.invalid/kizuna")
    assert "cannot find the PostgreSQL host 'no-such-host.invalid'" in unknown.stderr
    garbage = _init(d, "postgresql://kizuna:s3cret@127.0.0.1:notaport/kizuna")
    assert "not a database URL" in garbage.stderr and "s3cret" not in garbage.stderr
    other = _init(d, "mysql://kizuna:s3cret@127.0.0.1/kizuna")
    assert "unsupported database 'mysql'" in other.stderr and "s3cret" not in other.stderr
    assert not d.exists()
    d.mkdir()
    (d / "notes.txt").write_text("mine")
    _init(d, f"postgresql://kizuna@127.0.0.1:{free_port()}/kizuna")
    assert [p.name for p in d.iterdir()] == ["notes.txt"]  # what was there before stays
    _init(d, "", code=0)  # and a retry works


def test_postgresql_that_answers_but_cannot_be_used(tmp_path: Path) -> None:
    if not POSTGRES_URL:
        pytest.skip("KIZUNA_TEST_POSTGRES_URL is not set (scripts/test starts PostgreSQL)")
    base = POSTGRES_URL.rsplit("/", 1)[0]
    d = tmp_path / "n"
    missing = _init(d, f"{base}/no_such_database")
    assert "has no database 'no_such_database': create it (createdb -h" in missing.stderr
    who = base.split("//", 1)[1].split("@", 1)[1]
    nobody = _init(d, f"postgresql://nobody-here@{who}/postgres")
    assert "refused user 'nobody-here': fix the URL's user name or password" in nobody.stderr
    assert not d.exists()
    with postgres_database() as url:
        _init(d, url, code=0)
        assert "'kizuna-definitions'" not in kizuna("collection", "list", d).stdout
        assert "\tdefinitions\tKizuna definitions" in kizuna("collection", "list", d).stdout


def _tables(url: str) -> list[str]:
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        ).fetchall()
    return [r[0] for r in rows]


def test_a_failed_init_on_postgresql_drops_the_tables_it_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import psycopg

    def broken(self: Node) -> None:
        raise RuntimeError("the disk went away")

    with postgres_database() as url:
        with psycopg.connect(url, autocommit=True) as conn:  # a table of someone else's
            conn.execute("CREATE TABLE theirs (x int)")
        with monkeypatch.context() as m:
            m.setattr(Node, "_install_definitions", broken)
            with pytest.raises(RuntimeError, match="the disk went away"):
                Node.init(tmp_path / "n", name="n", org="NATO-CERT", country="BEL", database=url)
        assert _tables(url) == ["theirs"]  # what init made went; what was there stays
        assert not (tmp_path / "n").exists()
        node, _ = Node.init(tmp_path / "n", name="n", org="NATO-CERT", country="BEL", database=url)
        assert "versions" in _tables(url)  # and a retry works
        node.close()


def test_init_refuses_a_postgresql_database_that_holds_a_node(tmp_path: Path) -> None:
    with postgres_database() as url:
        node, _ = Node.init(tmp_path / "a", name="a", org="NATO-CERT", country="BEL", database=url)
        node.close()
        r = _init(tmp_path / "b", url)
        assert "the database already holds a Kizuna node: give --database an empty" in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1
        assert not (tmp_path / "b").exists()
        again = Node.open(tmp_path / "a")  # the node that was there lost nothing
        assert again.store.setting("identity") is not None
        assert [u.name for u in again.store.users()] == ["admin"]
        again.close()
