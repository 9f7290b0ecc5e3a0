"""The UI in a real browser (Debian's chromium, driven by Playwright): sign-in, each page
type with axe-core's WCAG 2.1 AA check and a screenshot, a note posted and shown, an import
with its summary, CSRF refusal, the CSP header, hostile content, sign-out."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import SHOTS
from tests.web.world import GREEN, World

AXE = (Path(__file__).parent / "axe" / "axe.min.js").read_text()
AXE_INSTALL = "(() => { const module = undefined, exports = undefined, define = undefined; " + AXE + "\n; return typeof window.axe; })()"
WIDE, NARROW = {"width": 1280, "height": 900}, {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def page(browser: Any, url: str, world: World) -> Iterator[Any]:
    context = browser.new_context(viewport=WIDE, base_url=url)
    p = context.new_page()
    dialogs: list[str] = []
    p.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    p.dialogs = dialogs
    p.goto("/ui/")
    assert "/ui/login" in p.url  # not signed in: sent to the form
    p.fill("#username", "analyst")
    p.fill("#token", world.tokens["analyst"])
    p.keyboard.press("Enter")  # by keyboard
    p.wait_for_url("**/ui/")
    yield p
    context.close()


def axe_violations(p: Any) -> list[dict[str, Any]]:
    if not p.evaluate("typeof window.axe !== 'undefined'"):
        p.evaluate(AXE_INSTALL)  # through the DevTools protocol: the page's CSP allows no inline script
    result = p.evaluate(
        "async () => (await axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})).violations"
        ".map(v => ({id: v.id, help: v.help, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))"
    )
    return list(result)


def shoot(p: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    p.screenshot(path=str(SHOTS / f"{name}-1280.png"), full_page=True)
    p.set_viewport_size(NARROW)
    p.screenshot(path=str(SHOTS / f"{name}-390.png"), full_page=True)
    width = p.evaluate("document.documentElement.scrollWidth")
    p.set_viewport_size(WIDE)
    assert width <= NARROW["width"] + 1, f"{name}: the page scrolls sideways at 390 px ({width} px)"


PAGES = [
    ("home", lambda w: "/ui/"),
    ("collection", lambda w: f"/ui/collections/{w.intel}/"),
    ("exercise-collection", lambda w: f"/ui/collections/{w.exercise}/"),
    ("space", lambda w: "/ui/space/"),
    ("search", lambda w: "/ui/search?q=%E3%83%89%E3%83%A1%E3%82%A4%E3%83%B3"),
    ("object-two-hops", lambda w: f"/ui/objects/{w.ids['indicator']}?hops=2"),
    *[
        (f"object-{name}", (lambda n: lambda w: f"/ui/objects/{w.ids[n]}")(name))
        for name in ("indicator", "attack_pattern", "malware", "report", "relationship",
                     "sighting", "note", "opinion", "identity", "space_object", "conjunction",
                     "conjunction_cdm", "hostile")
    ],
]


@pytest.mark.parametrize(("name", "path"), PAGES, ids=[n for n, _ in PAGES])
def test_each_page_type_is_accessible(page: Any, world: World, name: str, path: Any) -> None:
    answer = page.goto(path(world))
    assert answer.status == 200
    assert page.locator("main h1").count() == 1
    violations = axe_violations(page)
    shoot(page, name)
    assert violations == [], json.dumps(violations, indent=1)
    assert page.dialogs == []  # no script of the content ran


def test_the_not_found_page_is_accessible(page: Any, world: World) -> None:
    hidden = page.goto(f"/ui/objects/{world.hidden['secret']}")
    hidden_text = page.inner_text("main")
    absent = page.goto(f"/ui/objects/malware--{uuid.uuid4()}")
    assert hidden.status == absent.status == 404
    assert page.inner_text("main") == hidden_text
    assert axe_violations(page) == []
    shoot(page, "not-found")


def test_object_page_reads_as_a_page(page: Any, world: World) -> None:
    page.goto(f"/ui/objects/{world.ids['indicator']}")
    main = page.inner_text("main")
    assert "悪性ドメイン evil.example v2" in main  # the latest version
    assert "[domain-name:value = 'evil.example']" in main
    assert "Заштитни зид блокира домен." in main  # the thread, in Serbian Cyrillic
    assert "indicates" in main and "Злонамерни софтвер" in main
    banner = page.locator(".marking-banner .mark").first
    assert banner.inner_text() == "TLP:GREEN"
    assert banner.evaluate("e => getComputedStyle(e).color") == "rgb(51, 255, 0)"
    assert page.locator(".marking-banner").evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(0, 0, 0)"
    assert "name" in page.inner_text("table.diff")  # what changed between the versions
    page.click("ol.history a")  # the older version
    assert "v2" not in page.inner_text("main h1")
    assert "not the latest" in page.inner_text("main")
    page.goto(f"/ui/objects/{world.ids['attack_pattern']}")
    link = page.locator("a", has_text="T1059.001")
    assert link.get_attribute("href") == "https://attack.mitre.org/techniques/T1059/001/"
    assert "execution" in page.inner_text("main")


def test_exercise_banner(page: Any, world: World) -> None:
    page.goto(f"/ui/collections/{world.exercise}/")
    assert "EXERCISE" in page.inner_text(".exercise-banner")
    page.click("text=Exercise beacon")
    assert "not real data" in page.inner_text(".exercise-banner")


def test_hostile_content_is_text(page: Any, world: World) -> None:
    page.goto(f"/ui/objects/{world.ids['hostile']}")
    assert '<script>alert("x")</script>' in page.inner_text("main h1")
    assert page.locator("main img, main script").count() == 0
    assert page.locator("[onmouseover], [onerror]").count() == 0
    assert page.locator("a[href^='javascript']").count() == 0
    assert page.locator("a[href='https://example.org/report']").count() == 1
    assert page.dialogs == []


def test_note_posted_and_shown(page: Any, world: World) -> None:
    page.goto(f"/ui/objects/{world.ids['malware']}")
    options = page.locator("#n-marking option").all_inner_texts()
    assert options and all("CLEAR" not in o for o in options)  # the target is TLP:GREEN
    text = f"Наш коментар 日本語 {uuid.uuid4().hex[:6]}"
    page.fill("#n-content", text)
    page.select_option("#n-marking", "amber")
    page.click("form.note-form button[type=submit]")
    page.wait_for_url("**#thread")
    note = page.locator("article.note", has_text=text)
    assert note.count() == 1
    assert "TLP:AMBER" in note.inner_text()
    assert "analyst" in note.inner_text()


def test_import_with_summary(page: Any, world: World, tmp_path: Path) -> None:
    good = {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
            "created": "2026-05-03T00:00:00.000Z", "modified": "2026-05-03T00:00:00.000Z",
            "name": "imported 輸入", "pattern_type": "stix", "valid_from": "2026-05-03T00:00:00Z",
            "pattern": "[url:value = 'http://x.example/']", "object_marking_refs": [GREEN]}
    bad = {"type": "indicator", "spec_version": "2.1", "id": "indicator--not-a-uuid"}
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": [good, bad]}))
    page.goto(f"/ui/collections/{world.intel}/")
    page.set_input_files("#file", str(path))
    page.click("form[enctype] button[type=submit]")
    page.wait_for_selector("#summary")
    summary = page.inner_text("#summary")
    assert "Stored\n1" in summary.replace("\t", "\n") and "Rejected\n1" in summary.replace("\t", "\n")
    assert axe_violations(page) == []
    shoot(page, "import-summary")
    page.goto(f"/ui/objects/{good['id']}")
    assert "imported from file bundle.json" in page.inner_text("main")


def test_headers_and_csrf(page: Any, world: World, url: str) -> None:
    answer = page.goto("/ui/")
    csp = answer.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
    # a form posted without the session's token is refused, and nothing is stored
    refused = page.request.post(f"{url}/ui/objects/{world.ids['malware']}/notes",
                                form={"kind": "note", "content": "forged", "marking": "amber",
                                      "collection": world.intel, "csrf": "forged"})
    assert refused.status == 403
    page.goto(f"/ui/objects/{world.ids['malware']}")
    assert "forged" not in page.inner_text("main")


def test_sign_out_ends_the_session(browser: Any, url: str, world: World) -> None:
    context = browser.new_context(viewport=WIDE, base_url=url)
    p = context.new_page()
    p.goto("/ui/login")
    assert axe_violations(p) == []
    shoot(p, "login")
    p.fill("#username", "partner")
    p.fill("#token", world.tokens["partner"])
    p.click("form.stack button[type=submit]")
    p.wait_for_url("**/ui/")
    cookie = next(c for c in context.cookies() if c["name"] == "kizuna_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    p.click("text=Sign out")
    p.wait_for_url("**/ui/login")
    # the old cookie no longer opens anything
    context.add_cookies([{**cookie}])
    p.goto("/ui/")
    assert "/ui/login" in p.url
    context.close()


def test_search_from_the_header(page: Any, world: World) -> None:
    page.goto("/ui/")
    page.fill("#top-q", "ドメイン")
    page.keyboard.press("Enter")  # by keyboard, from any page's header
    page.wait_for_url("**/ui/search?q=*")
    main = page.inner_text("main")
    assert "悪性ドメイン evil.example v2" in main  # the latest version
    assert "Campaign ドメイン report" in main
    page.check("input[name=type][value=report]")
    page.click("main button[type=submit]")
    page.wait_for_url("**type=report**")
    assert "1 found" in page.inner_text("main")
    assert axe_violations(page) == []
    shoot(page, "search-filtered")
    page.click(f"main a[href='/ui/objects/{world.ids['report']}']")
    page.wait_for_url(f"**/ui/objects/{world.ids['report']}")
    assert "Campaign ドメイン report" in page.inner_text("main h1")


@pytest.fixture(scope="module")
def admin_page(browser: Any, url: str, world: World) -> Iterator[Any]:
    context = browser.new_context(viewport=WIDE, base_url=url)
    p = context.new_page()
    p.goto("/ui/login")
    p.fill("#username", "admin")
    p.fill("#token", world.tokens["admin"])
    p.keyboard.press("Enter")
    p.wait_for_url("**/ui/")
    yield p
    context.close()


ADMIN_PAGES = [
    ("home-admin", "/ui/"),
    ("admin-accounts", "/ui/admin/"),
    ("admin-grants", "/ui/admin/grants"),
    ("admin-peers", "/ui/admin/peers"),
    ("admin-markings", "/ui/admin/markings"),
]


@pytest.mark.parametrize(("name", "path"), ADMIN_PAGES, ids=[n for n, _ in ADMIN_PAGES])
def test_each_admin_page_is_accessible(admin_page: Any, name: str, path: str) -> None:
    answer = admin_page.goto(path)
    assert answer.status == 200
    assert admin_page.locator("main h1").count() == 1
    violations = axe_violations(admin_page)
    shoot(admin_page, name)
    assert violations == [], json.dumps(violations, indent=1)


def test_admin_creates_a_user_and_sees_its_token_once(admin_page: Any, browser: Any, url: str) -> None:
    admin_page.goto("/ui/admin/")
    admin_page.fill("#u-name", "liaison")
    admin_page.select_option("#u-org", "RS-CERT")
    admin_page.click("form[action='/ui/admin/users'] button[type=submit]")
    admin_page.wait_for_selector("#token")
    token = admin_page.input_value("#token")
    assert len(token) > 20 and "shown once" in admin_page.inner_text("main")
    assert axe_violations(admin_page) == []
    shoot(admin_page, "admin-token")
    admin_page.goto("/ui/admin/")
    assert token not in admin_page.content()
    context = browser.new_context(viewport=WIDE, base_url=url)
    p = context.new_page()
    p.goto("/ui/login")
    p.fill("#username", "liaison")
    p.fill("#token", token)
    p.keyboard.press("Enter")
    p.wait_for_url("**/ui/")
    assert p.goto("/ui/admin/").status == 404
    context.close()


def test_import_of_a_tle_with_summary(page: Any, world: World, tmp_path: Path) -> None:
    sample = Path(__file__).resolve().parents[1] / "data" / "space" / "tle" / "celestrak-active-2026-05-sample.tle"
    path = tmp_path / "catalog.tle"
    path.write_text("\n".join([*sample.read_text().splitlines()[9:15], "BAD", "1 bad", "2 bad"]))
    page.goto(f"/ui/collections/{world.intel}/")
    page.set_input_files("#file", str(path))
    page.click("form[enctype] button[type=submit]")
    page.wait_for_selector("#summary")
    summary = page.inner_text("#summary").replace("\t", "\n")
    assert "Stored\n2" in summary and "Not read\n1" in summary
    assert "catalog.tle" in page.inner_text("main")
    assert axe_violations(page) == []
    shoot(page, "import-space-summary")
