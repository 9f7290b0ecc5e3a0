"""Importing space files from a collection page: TLE (with a bad record), OMM, CDM, and a
file that is none of them; each answered with its summary."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from kizuna.space.formats import omm, tle
from tests.web.conftest import csrf_of, sign_in
from tests.web.world import CDMS, World

TLE = Path(__file__).resolve().parents[1] / "data" / "space" / "tle" / "celestrak-active-2026-05-sample.tle"


def _import(client: httpx.Client, world: World, name: str, data: bytes) -> httpx.Response:
    page = client.get(f"/ui/collections/{world.intel}/")
    return client.post(f"/ui/collections/{world.intel}/import", data={"csrf": csrf_of(page.text)},
                       files={"file": (name, data)})


def _summary(html: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r"<dt>([^<]+)</dt><dd>(\d+)</dd>", html)}


def test_tle_with_a_bad_record(world: World, url: str) -> None:
    client = sign_in(url, "analyst", world.tokens["analyst"])
    lines = TLE.read_text().splitlines()[:9]  # three objects, name lines included
    broken = [*lines, "BROKEN SAT", "1 99999U 98067A   26120.5 garbage", "2 99999 nonsense"]
    answer = _import(client, world, "sample.tle", "\n".join(broken).encode())
    assert answer.status_code == 200, answer.text
    s = _summary(answer.text)
    assert s["Stored"] == 3 and s["Not read"] >= 1 and s["Rejected"] == 0, s
    assert "sample.tle" in answer.text and "/tmp" not in answer.text
    again = _summary(_import(client, world, "sample.tle", "\n".join(lines).encode()).text)
    assert again["Stored"] == 0 and again["Already stored"] == 3


def test_omm_and_cdm(world: World, url: str) -> None:
    client = sign_in(url, "analyst", world.tokens["analyst"])
    records = tle.parse(TLE.read_text()).records[3:5]
    s = _summary(_import(client, world, "two.xml", omm.dumps_xml(records).encode()).text)
    assert s["Stored"] == 2, s
    s = _summary(_import(client, world, "two.json", omm.dumps_json(records).encode()).text)
    assert s["Already stored"] == 2, s
    cdm = (CDMS / "AlfanoTestCase04.cdm").read_bytes()
    answer = _import(client, world, "case4.cdm", cdm)
    assert _summary(answer.text)["Stored"] == 1, answer.text
    none = _import(client, world, "notes.txt", b"nothing to see here\n")
    assert none.status_code == 400
    assert "no TLE, OMM or CDM could be read" in none.text and "got:      nothing to see here" in none.text
