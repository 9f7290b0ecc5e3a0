"""Three real nodes over HTTP on 127.0.0.1: after sync each holds exactly what policy allows."""

from __future__ import annotations

from pathlib import Path

from kizuna.sync.engine import sync
from tests.sync.federation import CATEGORIES, federation, ids_in


def test_chain_nato_jpn_aus_holds_exactly_its_share(tmp_path: Path) -> None:
    with federation(tmp_path) as fed:
        jpn_reports = sync(fed.jpn)
        assert [r.error for r in jpn_reports] == [None]
        aus_reports = sync(fed.aus)
        assert [r.error for r in aus_reports] == [None]

        objects = {oid for oid in fed.marked}
        want_jpn = {oid for oid, cat in fed.marked.items() if CATEGORIES[cat][1]}
        want_aus = {oid for oid, cat in fed.marked.items() if CATEGORIES[cat][2]}
        got_jpn = ids_in(fed.jpn, fed.from_nato) & objects
        got_aus = ids_in(fed.aus, fed.from_jpn) & objects
        assert got_jpn == want_jpn
        assert got_aus == want_aus
        # Nothing NATO-only reaches the third partner through JPN.
        nato_only = {
            oid
            for oid, cat in fed.marked.items()
            if cat in ("rel-nato", "rel-nato-jpn", "rel-nato-jpn-green")
        }
        assert not (ids_in(fed.aus, fed.from_jpn) & nato_only)

        # Relationships travel only when both ends may: otherwise a required ref would leak.
        rels_jpn = {i for i in ids_in(fed.jpn, fed.from_nato) if i.startswith("relationship--")}
        rels_aus = {i for i in ids_in(fed.aus, fed.from_jpn) if i.startswith("relationship--")}
        assert rels_aus <= rels_jpn
        for node, coll, allowed in (
            (fed.jpn, fed.from_nato, want_jpn),
            (fed.aus, fed.from_jpn, want_aus),
        ):
            for row in _rows(node, coll):
                body = row.body.decode()
                for hidden in objects - allowed:
                    assert hidden not in body, f"{hidden} leaked into {row.stix_id}"

        # Provenance: what JPN stored came from the peer "nato", a node of NATO-CERT.
        assert {r.origin for r in _rows(fed.jpn, fed.from_nato)} == {"peer:NATO-CERT:nato"}

        # A second round changes nothing and stores nothing twice (loops end).
        again = sync(fed.jpn) + sync(fed.aus)
        assert sum(r.stored for r in again) == 0
        assert ids_in(fed.jpn, fed.from_nato) & objects == want_jpn


def _rows(node, collection):  # type: ignore[no-untyped-def]
    from kizuna.store.types import ObjectQuery, VersionMatch

    return node.store.query(
        ObjectQuery(node.collection(collection).id, versions=VersionMatch(all=True), limit=100_000)
    )


def test_provenance_endpoint_shows_where_versions_came_from(tmp_path: Path) -> None:
    import httpx

    with federation(tmp_path) as fed:
        sync(fed.jpn)
        analyst = fed.jpn.add_user("aiko", "JPN-CERT")
        visible = next(oid for oid, cat in fed.marked.items() if cat == "clear")
        hidden = next(oid for oid, cat in fed.marked.items() if cat == "rel-nato")
        headers = {"Authorization": f"Bearer {analyst}", "Accept": "application/taxii+json;version=2.1"}
        fed.jpn.grant(fed.from_nato, "JPN-CERT", read=True, write=False, max_tlp="amber")
        base = f"{fed.urls['jpn']}/api/collections/from-nato/objects"
        r = httpx.get(f"{base}/{visible}/provenance/", headers=headers)
        assert r.status_code == 200, r.text
        assert [v["origin"] for v in r.json()["versions"]] == ["peer:NATO-CERT:nato"]
        assert httpx.get(f"{base}/{hidden}/provenance/", headers=headers).status_code == 404
