"""The adapter that runs medallion 3.0.0's own test suite against a real Kizuna server.

``test_backends.py`` beside this file is the OASIS TAXII reference server's
``medallion/test/test_backends.py`` at tag v3.0.0, unchanged (README.md, LICENSE). It imports
``TaxiiTest`` from ``.base_test``: upstream, the class that starts medallion's Flask app; here,
this one, which builds a Kizuna node from medallion's fixture (``data/default_data.json``) and
serves it over HTTP on 127.0.0.1:

- the fixture's collections of API root ``trustgroup1``, with their ids and titles, as Kizuna
  collections; its user is ``analyst`` of the organization ``MRG``, granted read and write as
  each collection's ``can_read``/``can_write`` say (Kizuna's administrator would see all);
- its objects, each version loaded through Kizuna's ingest (the checks of a POST) with the
  ``date_added`` of the fixture's manifest: the store's clock is set to it while loading, the
  way the store tests set ``id_key``; afterwards the clock is the real one;
- its status resources, as the analyst's;
- requests to ``/trustgroup1/...`` go to Kizuna's API root, ``/api/...``; others unchanged.

``backend.client`` speaks HTTP (httpx) to the server and answers what Flask's test client
does (``status_code``, ``content_type``, ``headers``, ``json``).

What differs, and why (conftest.py marks each of these tests ``xfail(strict=True)``, so one that
starts passing fails the suite until it moves to the passing list; ``MEDALLION_ITSELF`` are
deselected):
"""

from __future__ import annotations

import base64
import contextlib
import json
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import httpx

from kizuna.node import Node, ingest
from kizuna.stix.timestamps import to_micros
from kizuna.store.types import Collection, Grant
from tests.conftest import serve

DATA = Path(__file__).parent / "data" / "default_data.json"
ROOT = "trustgroup1"
TAXII = "application/taxii+json;version=2.1"

#: Tests about medallion itself: its configuration, its fixture's names, its Flask app.
MEDALLION_ITSELF = {
    "test_server_discovery": "asserts medallion's configured API root names "
    "(http://localhost:5000/api1/); Kizuna's discovery names its own, /api/",
    "test_get_api_root_information": "asserts the title medallion's fixture gives its API root "
    "('Malware Research Group'); Kizuna's API root is titled after the node",
    "test_default_userpass_no_config": "medallion's default users when it has no configuration",
    "test_default_backend_no_config": "medallion's default backend when it has no configuration",
    "test_default_taxii_config_no_config": "medallion's default max_page_size (100)",
    "test_default_taxii_no_taxii_section": "medallion's default max_page_size (100)",
    "test_default_userpass_no_auth_section": "medallion's default users without an auth section",
    "test_default_backend_no_backend_section": "medallion's default backend without a backend section",
    "test_get_or_add_objects_422": "a body that is one STIX object, not an envelope: medallion "
    "answers 422 with its error title 'ProcessingError' and its wording, which the test "
    "asserts; Kizuna answers 400, 'expected a TAXII 2.1 envelope ... with an \"objects\" list' "
    "(TAXII 2.1 lists both 400 and 422 among the errors of a POST)",
    "test_object_pagination_changing_params_400": "Kizuna answers 400 too (a next cursor is "
    "bound to its filters), but the test also asserts medallion's error title 'ProcessingError' "
    "(Kizuna's is 'Invalid next cursor')",
}

#: Tests about TAXII behaviour where Kizuna differs by design.
BY_DESIGN = {
    "test_get_collections": "the fixture's 'Secret Indicators' (can_read and can_write false) "
    "is not listed: a collection a principal may neither read nor write does not exist for it "
    "(docs/policy.md, Rule 1); Kizuna's kizuna-definitions is listed instead, so the count is "
    "5 but one id differs",
    "test_get_object_manifest_403": "404, not 403, for that collection, for the same reason: "
    "Kizuna does not tell a caller which collections exist that it cannot see",
    "test_get_object_403": "404, not 403, for that collection (as above)",
    "test_get_objects_spec_version": "Kizuna stores STIX 2.1 only; the fixture's STIX 2.0 "
    "version of the malware is refused at the door, so match[spec_version]=2.0 finds nothing",
    "test_get_object_spec_version": "STIX 2.1 only (as above)",
    "test_get_manifest_spec_version": "STIX 2.1 only (as above)",
    "test_get_version_spec_version": "STIX 2.1 only (as above)",
    "test_delete_objects_spec_version": "STIX 2.1 only: the posted STIX 2.0 version fails, so a "
    "DELETE with match[spec_version]=2.0 finds no version (404)",
}

__doc__ = (__doc__ or "") + "".join(
    f"\n- ``{name}``: {why}." for name, why in {**MEDALLION_ITSELF, **BY_DESIGN}.items()
)


class _Response:
    """An httpx response as the tests read a Flask test client's."""

    def __init__(self, r: httpx.Response) -> None:
        self.status_code = r.status_code
        self.headers = r.headers
        self.content_type = r.headers.get("content-type")
        self._r = r

    @property
    def json(self) -> Any:
        try:
            return self._r.json()
        except ValueError:
            return None


class _Client:
    """Medallion's requests, sent over HTTP to the Kizuna server."""

    def __init__(self, url: str) -> None:
        self._http = httpx.Client(base_url=url, timeout=30)

    def _send(self, method: str, path: str, headers: dict[str, str] | None = None,
              data: str | None = None, follow_redirects: bool = False) -> _Response:
        if path.startswith(f"/{ROOT}/"):
            path = "/api/" + path[len(ROOT) + 2:]
        r = self._http.request(method, path, headers=headers, content=data,
                               follow_redirects=follow_redirects)
        return _Response(r)

    def get(self, path: str, **kw: Any) -> _Response:
        return self._send("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> _Response:
        return self._send("POST", path, **kw)

    def delete(self, path: str, **kw: Any) -> _Response:
        return self._send("DELETE", path, **kw)

    def close(self) -> None:
        self._http.close()


@contextlib.contextmanager
def _clock(micros: int) -> Iterator[None]:
    """The store's clock reads *micros* (a fixture's date_added) while a version is stored:
    every module of kizuna.store that reads the clock, wherever the write path lives."""
    modules = [m for name, m in list(sys.modules.items())
               if name.startswith("kizuna.store") and hasattr(m, "now_micros")]
    assert modules, "no module of kizuna.store reads now_micros: the adapter needs updating"
    real = [m.now_micros for m in modules]
    for m in modules:
        m.now_micros = lambda: micros
    try:
        yield
    finally:
        for m, f in zip(modules, real, strict=True):
            m.now_micros = f


def load_fixture(directory: Path) -> tuple[Node, str, list[str]]:
    """A node holding medallion's fixture; the analyst's token; the versions it refused."""
    fixture = json.loads(DATA.read_text())[ROOT]
    with _clock(to_micros("2000-01-01T00:00:00Z")):  # the definitions every node serves, first
        node, _ = Node.init(directory, name="medallion-fixture", org="KIZUNA-TEST", country="BEL")
    node.add_org("MRG", "USA")
    token = node.add_user("analyst", "MRG")
    admin = node.store.user("admin")
    assert admin is not None
    as_admin = node.principal_for(admin)
    refused: list[str] = []
    loads: list[tuple[int, str, bytes]] = []
    for c in fixture["collections"]:
        node.store.add_collection(
            Collection(c["id"], c["title"], c.get("description", ""), None, (), "real"),
            [Grant(c["id"], "MRG", c["can_read"], c["can_write"], "red")]
            if c["can_read"] or c["can_write"] else [],
        )
        by_version = {(o["id"], o.get("modified", o["created"])): o for o in c.get("objects", [])}
        for m in c.get("manifest", []):
            body = json.dumps(by_version[(m["id"], m["version"])]).encode()
            loads.append((to_micros(m["date_added"]), c["id"], body))
    for added, cid, body in sorted(loads):
        with _clock(added):
            [result] = ingest(node.store, node.snapshot(), as_admin, node.collection(cid), [body],
                              "file:default_data.json")
        if not result.ok:
            refused.append(f"{result.id} {result.version}: {result.message}")
    analyst = node.authenticate(token)
    assert analyst is not None
    for status in fixture["status"]:
        node.store.put_status(status["id"], "", str(analyst.key), json.dumps(status).encode())
    return node, token, refused


class TaxiiTest:
    """What medallion's tests take as ``backend``: a client, its headers, the test object."""

    type: str | None = None
    TEST_OBJECT: ClassVar[dict[str, Any]] = {  # as upstream's base_test.py
        "objects": [
            {
                "type": "course-of-action",
                "spec_version": "2.1",
                "id": "course-of-action--68794cd5-28db-429d-ab1e-1256704ef906",
                "created": "2017-01-27T13:49:53.935Z",
                "modified": "2017-01-27T13:49:53.935Z",
                "name": "Test object",
            }
        ]
    }

    def setUp(self) -> None:  # upstream's name
        if self.type != "memory":
            raise RuntimeError(f"the Kizuna adapter runs the memory tests only, not {self.type!r}")
        self._dir = Path(tempfile.mkdtemp(prefix="kizuna-medallion-"))
        self._stack = contextlib.ExitStack()
        self.node, token, self.refused = load_fixture(self._dir / "node")
        url = self._stack.enter_context(serve(self.node))
        self.client = _Client(url)
        basic = "Basic " + base64.b64encode(f"analyst:{token}".encode()).decode("ascii")
        self.headers = {"Accept": TAXII, "Authorization": basic}
        self.post_headers = {**self.headers, "Content-Type": TAXII}

    def tearDown(self) -> None:
        self.client.close()
        self._stack.close()
        self.node.close()
        shutil.rmtree(self._dir, ignore_errors=True)
