"""Importing a file into a collection from its page: a STIX bundle or TAXII envelope
(.json or .json.gz), stored through the node's ingest as the signed-in user."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

from kizuna.errors import KizunaError
from kizuna.node import Snapshot, ingest, read_bundle
from kizuna.web._browse import collection_of
from kizuna.web._sessions import Session
from kizuna.web._ui import Refused, Ui

BATCH = 2000
MAX_REASONS = 50


@dataclass(slots=True)
class Summary:
    filename: str
    total: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    reasons: list[str] = field(default_factory=list)


def import_file(ui: Ui, request: Request, snap: Snapshot, session: Session) -> Response:
    c = collection_of(ui, snap, session, request.path_params["cid"])
    if c is None:
        return ui.not_found(request, session)
    p = session.principal
    if not snap.gate.access(p, c.id).can_write or c.kind == "definitions":
        raise Refused(403, f"You may read but not write collection {c.title}.")
    upload = (request.state.form or {}).get("file")
    if not isinstance(upload, tuple) or not upload[1]:
        raise Refused(400, "Choose a file to import (a STIX bundle or TAXII envelope, .json or .json.gz).")
    filename, data = upload
    name = Path(str(filename)).name[:200] or "upload"
    summary = Summary(name)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ("upload.json.gz" if name.endswith(".gz") else "upload.json")
        path.write_bytes(data)
        try:
            objects = read_bundle(path)
        except KizunaError as exc:
            raise Refused(400, f"{name}: {exc.message.split(': ', 1)[-1]}") from None
    summary.total = len(objects)
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
