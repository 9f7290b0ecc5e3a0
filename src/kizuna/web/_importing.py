"""Importing a file into a collection from its page, stored through the node's ingest as the
signed-in user: a STIX bundle or TAXII envelope (.json or .json.gz), or a space file (TLE/3LE
or OMM: space objects; a CDM: a conjunction), read as ``kizuna space import`` reads it."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

from kizuna.errors import KizunaError
from kizuna.node import BundleFile, Snapshot, ingest
from kizuna.space.cli.importer import objects_from_file
from kizuna.web._browse import collection_of
from kizuna.web._sessions import Session
from kizuna.web._ui import Refused, Ui

BATCH = 2000
MAX_REASONS = 50
#: The most a STIX file imported here may hold once decompressed (its objects are held in
#: memory while they are stored; ``kizuna import`` reads larger files a chunk at a time).
MAX_DECOMPRESSED = 256 * 1024 * 1024


@dataclass(slots=True)
class Summary:
    filename: str
    total: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    reasons: list[str] = field(default_factory=list)
    #: Records of a space file that could not be read (each also among the reasons).
    unread: int = 0
    kind: str = "STIX"


def _is_stix(name: str, data: bytes) -> bool:
    """Whether the upload is STIX JSON (a bundle or an envelope) rather than a space file
    (an OMM in JSON is a list of element sets; a TLE, an OMM or a CDM in KVN or XML is text)."""
    if data[:2] == b"\x1f\x8b" or name.endswith(".gz"):
        return True
    text = data[:65536].lstrip(b"\xef\xbb\xbf \t\r\n")
    return text.startswith(b"{")


def import_file(ui: Ui, request: Request, snap: Snapshot, session: Session) -> Response:
    c = collection_of(ui, snap, session, request.path_params["cid"])
    if c is None:
        return ui.not_found(request, session)
    p = session.principal
    if not snap.gate.access(p, c.id).can_write or c.kind == "definitions":
        raise Refused(403, f"You may read but not write collection {c.title}.")
    upload = (request.state.form or {}).get("file")
    if not isinstance(upload, tuple) or not upload[1]:
        raise Refused(400, "Choose a file to import: a STIX bundle or TAXII envelope (.json or "
                      ".json.gz), or a TLE, OMM or CDM file.")
    filename, data = upload
    name = Path(str(filename)).name[:200] or "upload"
    summary = Summary(name)
    with tempfile.TemporaryDirectory() as tmp:
        if _is_stix(name, data):
            path = Path(tmp) / ("upload.json.gz" if data[:2] == b"\x1f\x8b" else "upload.json")
            path.write_bytes(data)
            try:
                objects = list(BundleFile(path, max_bytes=MAX_DECOMPRESSED))
            except KizunaError as exc:
                raise Refused(400, f"{name}: {exc.message.split(': ', 1)[-1]}") from None
        else:
            path = Path(tmp) / "upload"  # read by its content, not its name
            path.write_bytes(data)
            found, problems = objects_from_file(path)
            problems = [p.replace(str(path), name) for p in problems]
            if not found:
                detail = problems[0] if problems else f"{name}: no record in it"
                raise Refused(400, "Nothing was imported: the file is no STIX bundle or envelope, "
                              f"and no TLE, OMM or CDM could be read from it.\n{detail}")
            summary.kind = "space"
            summary.unread = len(problems)
            summary.reasons = problems[:MAX_REASONS]
            objects = [json.dumps(o).encode() for o in found]
    summary.total = len(objects) + summary.unread
    for start in range(0, len(objects), BATCH):
        chunk = objects[start : start + BATCH]
        try:
            results = ingest(ui.node.store, ui.node.snapshot(), p, c, chunk, f"file:{name}")
        except KizunaError as exc:
            raise Refused(exc.status, exc.message) from None
        for r in results:
            if not r.ok:
                summary.rejected += 1
                if len(summary.reasons) < MAX_REASONS:
                    summary.reasons.append(f"{r.id or '(no id)'}: {r.message}")
            elif r.stored:
                summary.stored += 1
            else:
                summary.duplicates += 1
    return ui.page(request, "imported.html", session, title="Import summary", collection=c,
                   summary=summary)
