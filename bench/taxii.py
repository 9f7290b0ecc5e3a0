"""TAXII server throughput and latency: Kizuna against medallion, then Kizuna alone at scale.

In one run, on 127.0.0.1, with real servers in their own processes, driven by one keep-alive
connection of the standard library's ``http.client`` per client (see :class:`Http`):

1. **Comparison.** The same workload against ``kizuna serve`` (SQLite) and the OASIS reference
   server medallion 3.0.0 (memory backend), both starting empty, on the first ``--compare``
   (default 2,000) objects of MITRE ATT&CK Enterprise. medallion's memory backend copies and
   scans the whole collection on every read and every POST, so it is quadratic: it gets at
   most 2,000 objects.
2. **Scale.** Kizuna alone with ``--sizes`` objects stored (default 10,000 and 100,000; add
   1,000,000 with ``--sizes 10000,100000,1000000``), on SQLite, or on PostgreSQL with
   ``--postgres URL`` (a new database per size on that server).
3. **Import.** ``kizuna import`` of ATT&CK Enterprise (24,771 objects) into a fresh node.

The workload, per server and size:

* POST throughput: objects posted in envelopes of 100, then in envelopes of 1,000;
* full paged read: every object of the collection, ``limit=1000`` pages, following ``next``;
* filtered page: p50/p95 of ``match[type]=malware&limit=100&added_after=T`` with T a random
  stored ``date_added`` (200 requests);
* point reads: p50/p95 of 1,000 ``match[id]=ID`` reads of random stored ids.

Data: ATT&CK Enterprise 18.1 (real) up to 24,771 objects; beyond it, synthetic objects
(documented in docs/benchmarks.md): per 20 objects 1 malware, 6 relationships (indicator
indicates malware) and 13 indicators, with the marking mix none / TLP:GREEN / TLP:AMBER /
REL TO JPN, NATO / TLP:CLEAR. In the scale runs the store is preloaded in-process through the
same ingest path a POST uses (validation included), then 40,000 new synthetic objects are
POSTed over HTTP. On SQLite each POST row starts with the write-ahead log copied back into the
database file and ends by copying what it wrote, that copy timed with the row: a row shorter
than the server's checkpoint interval would otherwise leave its copying to whatever comes next
(since 2026-11-29; docs/benchmarks.md). Reads are made as the node's administrator (the gate's cost for a partner is
measured by bench/gate.py).

    .venv/bin/python bench/taxii.py
    .venv/bin/python bench/taxii.py --sizes 10000,100000,1000000

Targets (issue "TAXII server"), 2-core machine: >= 20,000 objects/s POST, >= 50,000 objects/s
paged read, filtered page p95 <= 20 ms, flat from 10k to 1M; ``kizuna import`` of ATT&CK
Enterprise in <= 5 s.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import http.client
import json
import os
import random
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import httpx
import msgspec

from kizuna.node import Node, ingest
from kizuna.policy.principal import Principal
from kizuna.stix.markings import TLP2_IDS, releasability_marking
from kizuna.store.types import Collection

ATTACK = Path("/work/shared/data/stix/enterprise-attack-18.1-from-cti-2.1.json.gz")
TAXII = "application/taxii+json;version=2.1"
REL = releasability_marking(["NATO", "JPN"])
#: New objects POSTed per scale run, half in envelopes of 100, half of 1,000, after a warm-up
#: POST (the first loads the server's policy snapshot and starts its threads). 20,000 per size:
#: with 5,000 (until 2026-11-29) the envelopes of 1,000 were five requests, the first of them
#: cold, and one checkpoint or collection moved the figure by a fifth.
POST_OBJECTS = 40_000
CONCURRENT_OBJECTS = 20_000  # objects per envelope size in the concurrent-clients rows
FILTERED_REQUESTS = 200
POINT_READS = 1000
MEDALLION_FILTERED = 40  # medallion's reads cost ~1 s each at 2,000 objects on this machine
MEDALLION_POINTS = 100


class _Envelope(msgspec.Struct):
    objects: list[msgspec.Raw] = []
    more: bool = False
    next: str | None = None


# -- data ----------------------------------------------------------------------------------


def attack_objects() -> list[bytes]:
    """ATT&CK Enterprise, marking-definitions and identities first (they are referenced)."""
    bundle = json.loads(gzip.decompress(ATTACK.read_bytes()))
    objs = bundle["objects"]
    first = [o for o in objs if o["type"] in ("marking-definition", "identity")]
    rest = [o for o in objs if o["type"] not in ("marking-definition", "identity")]
    return [msgspec.json.encode(o) for o in first + rest]


_MIX: list[list[str]] = [
    [],
    [TLP2_IDS["green"]],
    [TLP2_IDS["amber"]],
    [REL["id"]],
    [TLP2_IDS["clear"]],
]


def object_uuid(i: int, counting: bool | None = None) -> uuid.UUID:
    """The UUID of synthetic object number *i*: version 4 and as scattered as random ones
    (derived from *i*, so runs repeat), as real producers' ids are. Ids in counting order
    (*counting*, or ``KIZUNA_BENCH_COUNTING_IDS=1`` in the environment; the benchmarks of
    2026-11-29 and before) reach the store's id index in order and cost it far less
    than real ids do (docs/benchmarks.md, "Ids in counting order")."""
    if counting is None:
        counting = bool(os.environ.get("KIZUNA_BENCH_COUNTING_IDS"))
    if counting:
        return uuid.UUID(int=i + 1, version=4)
    return uuid.UUID(bytes=hashlib.blake2b(i.to_bytes(8, "big"), digest_size=16).digest(), version=4)


def synthetic(start: int, count: int, counting_ids: bool | None = None) -> Iterator[bytes]:
    """Synthetic objects number start .. start+count-1 (deterministic ids and content; ids
    as :func:`object_uuid` makes them)."""
    for i in range(start, start + count):
        s = f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:{(i // 60) % 60:02d}.{i % 1000:03d}Z"
        slot = i % 20
        oid = object_uuid(i, counting_ids)
        obj: dict[str, object]
        if slot == 0:
            obj = {
                "type": "malware", "spec_version": "2.1", "id": f"malware--{oid}",
                "created": s, "modified": s, "name": f"Backdoor family {i}",
                "description": "A backdoor family seen in intrusion campaigns.",
                "malware_types": ["backdoor"], "is_family": True,
            }
        elif slot <= 6:
            family = object_uuid(i - slot, counting_ids)
            source = object_uuid(i - slot + 7, counting_ids)
            obj = {
                "type": "relationship", "spec_version": "2.1", "id": f"relationship--{oid}",
                "created": s, "modified": s, "relationship_type": "indicates",
                "source_ref": f"indicator--{source}", "target_ref": f"malware--{family}",
            }
        else:
            obj = {
                "type": "indicator", "spec_version": "2.1", "id": f"indicator--{oid}",
                "created": s, "modified": s, "name": f"C2 domain {i}",
                "description": "Command-and-control domain seen in a phishing campaign.",
                "indicator_types": ["malicious-activity"],
                "pattern": f"[domain-name:value = 'c2-{i}.example']", "pattern_type": "stix",
                "valid_from": s, "labels": ["benchmark"],
            }
        marks = _MIX[(i // 20) % len(_MIX)]
        if marks:
            obj["object_marking_refs"] = marks
        yield msgspec.json.encode(obj)


def dataset(size: int) -> Iterator[bytes]:
    """The first *size* objects: ATT&CK, then synthetic ones."""
    real = attack_objects()
    yield msgspec.json.encode(REL)
    yield from real[: size - 1]
    if size - 1 > len(real):
        yield from synthetic(0, size - 1 - len(real))


def chunks(items: list[bytes], n: int) -> list[list[bytes]]:
    return [items[i : i + n] for i in range(0, len(items), n)]


def envelope(objs: list[bytes]) -> bytes:
    return b'{"objects":[' + b",".join(objs) + b"]}"


# -- servers -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(url: str, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(600):
        if proc.poll() is not None:
            raise SystemExit(f"server for {url} exited with {proc.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit(f"server at {url} did not come up")


@dataclass
class Server:
    name: str
    objects_url: str
    headers: dict[str, str]
    proc: subprocess.Popen[bytes]
    ids: list[str] = field(default_factory=list)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait()


#: API processes of the Kizuna server (``--workers``).
WORKERS = 1
#: The PostgreSQL server of the scale runs (``--postgres``); empty: SQLite.
POSTGRES = ""
#: False with --no-settle: POST rows as before 2026-11-29, their log's copy
#: left to whatever comes next (for comparison with the older tables).
SETTLE = True


def fresh_postgres(name: str) -> str:
    """The URL of a new, empty database *name* on the ``--postgres`` server."""
    import psycopg
    from sqlalchemy.engine import make_url

    with psycopg.connect(POSTGRES, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)
#: Clients POSTing at once, and the API processes serving them, for the concurrent rows.
CLIENTS = 2
CONCURRENT_WORKERS = 2


def start_kizuna(
    directory: Path, workers: int | None = None, *, log: Path | None = None, tree: str = ""
) -> Server:
    """``kizuna serve`` of *directory*; with *log*, verbose, its stderr written there; with
    *tree*, that source tree's code (``PYTHONPATH``)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    verbose = ["-v"] if log is not None else []
    env = {**os.environ, "PYTHONPATH": tree} if tree else None
    with open(log or os.devnull, "w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kizuna", *verbose, "serve", str(directory),
             "--port", str(port), "--workers", str(workers or WORKERS)],
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=env,
        )
    wait_up(base + "/taxii2/", proc)
    token = (directory / "bench-token").read_text()
    return Server(
        "kizuna",
        f"{base}/api/collections/bench/objects/",
        {"Authorization": f"Bearer {token}", "Accept": TAXII, "Content-Type": TAXII},
        proc,
    )


def cpu_seconds(pid: int) -> float:
    """The CPU time process *pid*'s live threads have used, in seconds (from the nanoseconds
    of ``/proc/PID/task/*/schedstat``; ``stat`` counts in clock ticks of 10 ms, too coarse for
    a few hundred requests)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            continue  # a thread that ended meanwhile
    return total / 1e9


def init_kizuna(directory: Path, database: str = "") -> Node:
    """A new bench node in *directory* (SQLite there, or the PostgreSQL *database* URL)."""
    node, token = Node.init(
        directory,
        name="bench",
        org="NATO-CERT",
        country="BEL",
        communities=["NATO"],
        database=database,
    )
    node.add_collection("bench", alias="bench")
    (directory / "bench-token").write_text(token)
    return node


@dataclass
class Loaded:
    """A bench node opened in process, with its administrator and its collection."""

    node: Node
    admin: Principal
    collection: Collection

    def ingest(self, objs: list[bytes], batch: int) -> None:
        """Store *objs* through the ingest a POST uses, *batch* at a time."""
        for i in range(0, len(objs), batch):
            ingest(
                self.node.store,
                self.node.snapshot(),
                self.admin,
                self.collection,
                objs[i : i + batch],
                "file:bench",
            )


def loaded_kizuna(directory: Path, preload: list[bytes], batch: int = 1000) -> Loaded:
    """A new bench node holding the REL TO marking-definition, then *preload*."""
    node = init_kizuna(directory)
    user = node.store.user("admin")
    assert user is not None
    loaded = Loaded(node, node.principal_for(user), node.collection("bench"))
    loaded.ingest([msgspec.json.encode(REL)], 1)
    loaded.ingest(preload, batch)
    return loaded


def start_medallion(directory: Path) -> Server:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    collection = str(uuid.uuid4())
    data = {
        "/discovery": {
            "title": "medallion bench",
            "default": f"{base}/api1/",
            "api_roots": [f"{base}/api1/"],
        },
        "api1": {
            "information": {
                "title": "api1",
                "versions": [TAXII],
                "max_content_length": 100_000_000,
            },
            "status": [],
            "collections": [
                {
                    "id": collection,
                    "title": "bench",
                    "can_read": True,
                    "can_write": True,
                    "media_types": ["application/stix+json;version=2.1"],
                    "objects": [],
                    "manifest": [],
                }
            ],
        },
    }
    (directory / "data.json").write_text(json.dumps(data))
    config = {
        "backend": {
            "module": "medallion.backends.memory_backend",
            "module_class": "MemoryBackend",
            "filename": str(directory / "data.json"),
        },
        "users": {"bench": "secret"},
        "taxii": {"max_page_size": 1000},
    }
    (directory / "config.json").write_text(json.dumps(config))
    exe = Path(sys.executable).parent / "medallion"
    proc = subprocess.Popen(
        [str(exe), "--port", str(port), str(directory / "config.json")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    auth = httpx.BasicAuth("bench", "secret")
    for _ in range(600):
        try:
            httpx.get(f"{base}/api1/", auth=auth, headers={"Accept": TAXII}, timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.1)
    import base64

    basic = base64.b64encode(b"bench:secret").decode()
    return Server(
        "medallion",
        f"{base}/api1/collections/{collection}/objects/",
        {"Authorization": f"Basic {basic}", "Accept": TAXII, "Content-Type": TAXII},
        proc,
    )


# -- the workload --------------------------------------------------------------------------


class Http:
    """One keep-alive HTTP/1.1 connection to a server, with its headers on every request.

    The client shares the machine's two cores with the server it measures, and one request at
    a time means its CPU time adds to every figure. ``http.client`` costs about a third of the
    CPU of httpx per request (httpx lowered the POST rates by about 10 %).
    """

    def __init__(self, server: Server) -> None:
        url = urlsplit(server.objects_url)
        self.conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=600)
        self.headers = server.headers

    def request(
        self, method: str, url: str, params: dict[str, str | int] | None = None, body: bytes = b""
    ) -> tuple[int, http.client.HTTPResponse, bytes]:
        path = urlsplit(url).path + ("?" + urlencode(params) if params else "")
        self.conn.request(method, path, body=body or None, headers=self.headers)
        response = self.conn.getresponse()
        return response.status, response, response.read()

    def close(self) -> None:
        self.conn.close()


@dataclass
class Result:
    post100: float = 0.0  # objects/s
    post1000: float = 0.0
    post100_concurrent: float = 0.0  # CLIENTS clients against CONCURRENT_WORKERS processes
    post1000_concurrent: float = 0.0
    read: float = 0.0  # objects/s
    read_objects: int = 0
    filtered_p50: float = 0.0  # ms
    filtered_p95: float = 0.0
    point_p50: float = 0.0
    point_p95: float = 0.0


def post_all(client: Http, server: Server, objs: list[bytes], size: int) -> float:
    bodies = [envelope(c) for c in chunks(objs, size)]
    t0 = time.perf_counter()
    for body in bodies:
        post_one(client, server, body)
    return len(objs) / (time.perf_counter() - t0)


def post_one(client: Http, server: Server, body: bytes) -> None:
    code, _, answer = client.request("POST", server.objects_url, body=body)
    if code != 202:
        raise SystemExit(f"{server.name}: POST answered {code}: {answer[:300]!r}")
    status = json.loads(answer)
    if status.get("failure_count"):
        raise SystemExit(f"{server.name}: POST failures: {status['failures'][:3]}")


def post_concurrent(server: Server, objs: list[bytes], size: int, clients: int) -> float:
    """POST *objs* in envelopes of *size* from *clients* threads, each with its connection."""
    bodies = [envelope(c) for c in chunks(objs, size)]
    local = threading.local()
    opened: list[Http] = []

    def post(body: bytes) -> None:
        if not hasattr(local, "client"):
            local.client = Http(server)
            opened.append(local.client)
        post_one(local.client, server, body)

    t0 = time.perf_counter()
    try:
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(post, bodies))
    finally:
        for client in opened:
            client.close()
    return len(objs) / (time.perf_counter() - t0)


def paged_read(client: Http, server: Server) -> tuple[float, int, list[str]]:
    """Read every object with limit=1000; returns objects/s, count, page start positions."""
    params: dict[str, str | int] = {"limit": 1000}
    count = 0
    positions: list[str] = []
    t0 = time.perf_counter()
    while True:
        code, response, body = client.request("GET", server.objects_url, params)
        if code != 200:
            raise SystemExit(f"{server.name}: GET answered {code}: {body[:300]!r}")
        env = msgspec.json.decode(body, type=_Envelope)
        count += len(env.objects)
        first = response.getheader("X-TAXII-Date-Added-First")
        if first:
            positions.append(first)
        if not env.more or not env.next:
            break
        params = {"limit": 1000, "next": env.next}
    return count / (time.perf_counter() - t0), count, positions


def latencies(client: Http, url: str, requests: list[dict[str, str | int]]) -> list[float]:
    out = []
    for params in requests:
        t0 = time.perf_counter()
        code, _, body = client.request("GET", url, params)
        out.append((time.perf_counter() - t0) * 1000)
        if code != 200:
            raise SystemExit(f"GET {params} answered {code}: {body[:300]!r}")
    return out


def p50_p95(values: list[float]) -> tuple[float, float]:
    qs = statistics.quantiles(values, n=20)
    return statistics.median(values), qs[18]


def read_workload(
    server: Server, ids: list[str], rng: random.Random, filtered_n: int, points_n: int
) -> Result:
    res = Result()
    client = Http(server)
    try:
        client.request("GET", server.objects_url, {"limit": 1})  # warm up
        res.read, res.read_objects, positions = paged_read(client, server)
        filtered: list[dict[str, str | int]] = [
            {"match[type]": "malware", "limit": 100, "added_after": rng.choice(positions)}
            for _ in range(filtered_n)
        ]
        res.filtered_p50, res.filtered_p95 = p50_p95(latencies(client, server.objects_url, filtered))
        points: list[dict[str, str | int]] = [
            {"match[id]": rng.choice(ids)} for _ in range(points_n)
        ]
        res.point_p50, res.point_p95 = p50_p95(latencies(client, server.objects_url, points))
    finally:
        client.close()
    return res


def ids_of(objs: list[bytes]) -> list[str]:
    return [str(msgspec.json.decode(o)["id"]) for o in objs]


def compare(root: Path, n: int, rng: random.Random) -> dict[str, Result]:
    """The same workload on empty Kizuna and medallion servers, n ATT&CK objects."""
    objs = list(dataset(n))
    half = len(objs) // 2
    ids = ids_of(objs)
    out: dict[str, Result] = {}
    for name in ("kizuna", "medallion"):
        directory = root / f"compare-{name}"
        directory.mkdir()
        if name == "kizuna":
            init_kizuna(directory).close()
            server = start_kizuna(directory)
        else:
            server = start_medallion(directory)
        try:
            client = Http(server)
            try:
                # The REL TO marking-definition goes first, alone (objects reference it).
                post_all(client, server, objs[:1], 1)
                p100 = post_all(client, server, objs[1:half], 100)
                p1000 = post_all(client, server, objs[half:], 1000)
            finally:
                client.close()
            # medallion deep-copies and scans the whole collection per read: fewer samples.
            if name == "kizuna":
                res = read_workload(server, ids, rng, FILTERED_REQUESTS, POINT_READS)
            else:
                res = read_workload(server, ids, rng, MEDALLION_FILTERED, MEDALLION_POINTS)
            res.post100, res.post1000 = p100, p1000
            out[name] = res
        finally:
            server.stop()
        print(f"  {name}: done", file=sys.stderr)
    return out


def settle_log(directory: Path) -> float:
    """Seconds to copy the node's SQLite log back into its database file and empty it (run
    from this process while the server is idle; 0 on PostgreSQL)."""
    if POSTGRES:
        return 0.0
    t0 = time.perf_counter()
    conn = sqlite3.connect(directory / "kizuna.db", timeout=600)
    try:
        # Busy while the server's own checkpoint thread copies (that time counts too).
        while conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]:
            if time.perf_counter() - t0 > 600:
                raise SystemExit(f"{directory}: the log could not be emptied in 10 minutes")
            time.sleep(0.01)
    finally:
        conn.close()
    return time.perf_counter() - t0


def settled(directory: Path, count: int, run: Callable[[], float]) -> float:
    """objects/s of *run* (which POSTs *count* objects and returns its own objects/s), with the
    copy of the log it wrote counted: the log is emptied before it (untimed) and after it."""
    if not SETTLE:
        return run()
    settle_log(directory)
    rate = run()
    return count / (count / rate + settle_log(directory))


def scale(root: Path, size: int, rng: random.Random) -> tuple[Result, float]:
    """Kizuna with *size* objects preloaded in-process, then the workload over HTTP."""
    directory = root / f"scale-{size}"
    node = init_kizuna(directory, fresh_postgres(f"kizuna_bench_{size}") if POSTGRES else "")
    admin = node.principal_for(node.store.user("admin"))  # type: ignore[arg-type]
    collection = node.collection("bench")
    ids: list[str] = []
    batch: list[bytes] = []
    t0 = time.perf_counter()
    loaded = 0

    def flush() -> None:
        nonlocal loaded
        results = ingest(node.store, node.snapshot(), admin, collection, batch, "file:bench")
        bad = [r for r in results if not r.ok]
        if bad:
            raise SystemExit(f"preload: {bad[0].id}: {bad[0].message}")
        loaded += len(batch)
        batch.clear()

    for raw in dataset(size):
        batch.append(raw)
        if len(batch) == 5000:
            ids.extend(ids_of(batch))
            flush()
            if loaded % 100_000 == 0:
                print(f"    preloaded {loaded:,}", file=sys.stderr)
    ids.extend(ids_of(batch))
    flush()
    preload = loaded / (time.perf_counter() - t0)
    node.store.analyze()  # as `kizuna import` does after a bulk load
    node.close()
    new = list(synthetic(10_000_000, POST_OBJECTS + 10))
    server = start_kizuna(directory)
    try:
        client = Http(server)
        try:
            post_one(client, server, envelope(new[POST_OBJECTS:]))  # the warm-up
            half = POST_OBJECTS // 2
            p100 = settled(
                directory, half, lambda: post_all(client, server, new[:half], 100)
            )
            p1000 = settled(
                directory, half, lambda: post_all(client, server, new[half:POST_OBJECTS], 1000)
            )
        finally:
            client.close()
        res = read_workload(server, ids, rng, FILTERED_REQUESTS, POINT_READS)
        res.post100, res.post1000 = p100, p1000
    finally:
        server.stop()
    # The same POSTs from several clients at once, against CONCURRENT_WORKERS processes.
    # Each run is long enough (CONCURRENT_OBJECTS) for every client to keep its process busy,
    # after a warm-up that lets every process load its policy snapshot.
    new = list(synthetic(11_000_000, 2 * CONCURRENT_OBJECTS + 20 * CLIENTS))
    server = start_kizuna(directory, CONCURRENT_WORKERS)
    try:
        warm, new = new[: 20 * CLIENTS], new[20 * CLIENTS :]
        post_concurrent(server, warm, 10, CLIENTS)
        n = CONCURRENT_OBJECTS
        res.post100_concurrent = settled(
            directory, n, lambda: post_concurrent(server, new[:n], 100, CLIENTS)
        )
        res.post1000_concurrent = settled(
            directory, n, lambda: post_concurrent(server, new[n:], 1000, CLIENTS)
        )
    finally:
        server.stop()
    shutil.rmtree(directory)
    return res, preload


def time_import(root: Path) -> tuple[float, str]:
    directory = root / "import"
    init_kizuna(directory).close()
    cmd = [sys.executable, "-m", "kizuna", "import", str(directory), "bench", str(ATTACK)]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - t0
    summary = next((ln for ln in done.stderr.splitlines() if ln.startswith("stored")), "?")
    return elapsed, summary


# -- report --------------------------------------------------------------------------------

_ROWS = [
    ("POST, envelopes of 100 (objects/s)", "post100", True),
    ("POST, envelopes of 1,000 (objects/s)", "post1000", True),
    ("POST, envelopes of 100, concurrent clients (objects/s)", "post100_concurrent", True),
    ("POST, envelopes of 1,000, concurrent clients (objects/s)", "post1000_concurrent", True),
    ("paged read, limit 1,000 (objects/s)", "read", True),
    ("filtered page p50 (ms)", "filtered_p50", False),
    ("filtered page p95 (ms)", "filtered_p95", False),
    ("match[id] read p50 (ms)", "point_p50", False),
    ("match[id] read p95 (ms)", "point_p95", False),
]


def fmt(v: float, rate: bool) -> str:
    return f"{v:,.0f}" if rate else f"{v:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,100000", help="stored objects, comma-separated")
    parser.add_argument("--compare", type=int, default=2000, help="objects for the comparison")
    parser.add_argument("--skip-compare", action="store_true")
    parser.add_argument("--skip-import", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1, help="kizuna serve --workers")
    parser.add_argument(
        "--clients", type=int, default=2, help="clients POSTing at once (the concurrent rows)"
    )
    parser.add_argument(
        "--postgres",
        default="",
        metavar="URL",
        help="scale runs on PostgreSQL: a new database per size on this server (e.g. "
        "postgresql://kizuna@127.0.0.1:55432/postgres, which scripts/postgres starts)",
    )
    parser.add_argument(
        "--concurrent-workers", type=int, default=2, help="kizuna serve --workers (concurrent rows)"
    )
    parser.add_argument(
        "--no-settle",
        action="store_true",
        help="POST rows without emptying the SQLite log before and after each (as before "
        "2026-11-29: a short row leaves its log's copy to what follows)",
    )
    args = parser.parse_args()
    global WORKERS, CLIENTS, CONCURRENT_WORKERS, POSTGRES, SETTLE
    WORKERS, CLIENTS, CONCURRENT_WORKERS = args.workers, args.clients, args.concurrent_workers
    POSTGRES, SETTLE = args.postgres, not args.no_settle
    if args.compare > 2000:
        parser.error("medallion's memory backend is quadratic: --compare must be <= 2000")
    sizes = [int(s) for s in args.sizes.split(",") if s]
    rng = random.Random(args.seed)
    root = Path(tempfile.mkdtemp(prefix="kizuna-bench-taxii-"))
    try:
        if not args.skip_compare:
            print(f"comparison at {args.compare} objects ...", file=sys.stderr)
            cmp = compare(root, args.compare, rng)
            k, m = cmp["kizuna"], cmp["medallion"]
            print(f"\n## Kizuna vs medallion 3.0.0 (memory backend), {args.compare:,} ATT&CK objects")
            print("| measure | Kizuna | medallion | Kizuna / medallion |")
            print("| --- | ---: | ---: | ---: |")
            for label, attr, rate in _ROWS:
                if attr.endswith("_concurrent"):
                    continue  # measured in the scale runs only
                kv, mv = getattr(k, attr), getattr(m, attr)
                ratio = kv / mv if rate else mv / kv
                better = "faster" if ratio >= 1 else "slower"
                print(f"| {label} | {fmt(kv, rate)} | {fmt(mv, rate)} | {ratio:.1f}x {better} |")
            print(
                f"(objects read: Kizuna {k.read_objects}, medallion {m.read_objects}; latency "
                f"samples: Kizuna {FILTERED_REQUESTS} filtered, {POINT_READS} match[id]; medallion "
                f"{MEDALLION_FILTERED} and {MEDALLION_POINTS})"
            )
        results: dict[int, Result] = {}
        preloads: dict[int, float] = {}
        for size in sizes:
            print(f"scale run at {size:,} objects ...", file=sys.stderr)
            results[size], preloads[size] = scale(root, size, rng)
        if results:
            store = "PostgreSQL" if POSTGRES else "SQLite"
            print(f"\n## Kizuna alone ({store}), by objects stored")
            print("| measure | " + " | ".join(f"{s:,}" for s in sizes) + " | target |")
            print("| --- |" + " ---: |" * (len(sizes) + 1))
            targets = {
                "post100": ">= 20,000",
                "post1000": ">= 20,000",
                "post100_concurrent": ">= 20,000",
                "post1000_concurrent": ">= 20,000",
                "read": ">= 50,000",
                "filtered_p95": "<= 20",
            }
            for label, attr, rate in _ROWS:
                cells = " | ".join(fmt(getattr(results[s], attr), rate) for s in sizes)
                print(f"| {label} | {cells} | {targets.get(attr, '')} |")
            cells = " | ".join(f"{preloads[s]:,.0f}" for s in sizes)
            print(f"| in-process ingest preload (objects/s) | {cells} | |")
            if len(sizes) > 1:
                lo, hi = results[sizes[0]], results[sizes[-1]]
                print(f"\nflatness, {sizes[-1]:,} vs {sizes[0]:,} objects:")
                for label, attr, rate in _ROWS:
                    a, b = getattr(lo, attr), getattr(hi, attr)
                    ratio = a / b if rate else b / a
                    print(f"  {label}: {ratio:.2f}x slower" if ratio >= 1 else f"  {label}: {1 / ratio:.2f}x faster")
        if not args.skip_import:
            elapsed, summary = time_import(root)
            print(f"\n`kizuna import` of ATT&CK Enterprise: {elapsed:.2f} s (target <= 5 s); {summary}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
