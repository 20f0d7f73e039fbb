"""End to end in a real browser: Playwright for Python driving Debian's Chromium against the running service.

Every request to another host is blocked and recorded, so a passing run also proves the UI works offline.
Playwright comes from `pip install '.[test]'` and is imported, never skipped: a missing install fails.
Screenshots of each page go to test-artifacts/ (ignored by git; two of them are docs/screenshots/ in the README).
"""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from conftest import ROOT, RunningServer
from playwright import sync_api

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
# Debian's chromium, as quiet as it gets: no GPU, no QUIC, no background calls home, a fresh profile every run.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 20_000
AXE = ROOT / "tests" / "vendor" / "axe-core" / "axe.min.js"  # vendored by scripts/vendor-assets.sh, test-only


@pytest.fixture(scope="module")
def browser(server: RunningServer) -> Iterator[tuple[object, list[str]]]:
    """One Chromium for the module, with a fresh user-data-dir; returns the context and the blocked requests."""
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: apt-get install chromium (.ci/run does it)")
    ARTIFACTS.mkdir(exist_ok=True)
    profile = tempfile.mkdtemp(prefix="kg-chromium-")
    own = urlparse(server.url).netloc
    blocked: list[str] = []
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, accept_downloads=True,
            viewport={"width": 1280, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)

        def guard(route) -> None:
            url = urlparse(route.request.url)
            if url.scheme in ("http", "https", "ws", "wss") and url.netloc != own:
                blocked.append(route.request.url)
                route.abort()
            else:
                route.continue_()

        context.route("**/*", guard)
        try:
            yield context, blocked
        finally:
            context.close()
            shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(browser, server: RunningServer):
    context, blocked = browser
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    tab.close()
    assert not blocked, f"the page tried to reach another host: {blocked}"
    assert not errors, f"script errors: {errors}"


def shot(tab, name: str) -> None:
    tab.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_pages_follow_the_colour_scheme_and_show_focus(page, server: RunningServer) -> None:
    page.goto(server.url + "/")
    background = "() => getComputedStyle(document.documentElement).backgroundColor"
    page.emulate_media(color_scheme="light")
    light = page.evaluate(background)
    page.emulate_media(color_scheme="dark")
    dark = page.evaluate(background)
    assert light == "rgb(255, 255, 255)" and dark != light
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # past the skip link, onto the first link of the site navigation
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("", "none")
    page.emulate_media(color_scheme="light")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_pages_pass_the_axe_accessibility_checks(page, server: RunningServer, scheme: str) -> None:
    """axe-core's WCAG 2 A/AA and best-practice rules (contrast, names, landmarks, headings...) in both colour
    schemes; the third-party YASGUI and Swagger UI widgets are left out of the scan, their page around them is not."""
    page.emulate_media(color_scheme=scheme)
    for path in ("/", "/entity/knee-synovitis", "/entity/rec-osteoarthritis-rest", "/entities?q=synov", "/sparql",
                 "/docs"):
        page.goto(server.url + path)
        page.locator("main").first.wait_for()  # on /docs, Swagger UI's own, once it has rendered
        page.evaluate(AXE.read_text(encoding="utf-8"))  # through DevTools, so the page's own CSP still holds
        violations = page.evaluate("""async () => (await axe.run({exclude: [['#yasgui'], ['#swagger-ui']]},
            {runOnly: ['wcag2a', 'wcag2aa', 'best-practice']})).violations
            .map(v => v.id + ' (' + v.impact + '): ' + v.nodes.map(n => n.target.join(' ')).slice(0, 3).join(', '))""")
        assert not violations, f"{path} in {scheme}: {violations}"
        slug = path.strip("/").replace("/", "-").replace("?", "-").replace("=", "-") or "home"
        shot(page, f"{scheme}-{slug}")


def test_search_synov_and_reach_knee_synovitis_by_keyboard(page, server: RunningServer) -> None:
    page.goto(server.url + "/")
    search = page.get_by_role("combobox")
    search.focus()
    with page.expect_response(lambda response: response.url.endswith("/api/search?limit=8&q=synov")):
        page.keyboard.type("synov", delay=40)
    options = page.get_by_role("option")
    options.filter(has_text="knee synovitis").wait_for()  # the suggestions for the whole word typed
    shot(page, "home-search")
    for _ in range(options.count()):  # arrow down to the option, as a keyboard user would
        if "knee synovitis" in page.locator('[role=option][aria-selected="true"]').inner_text():
            break
        page.keyboard.press("ArrowDown")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == server.url + "/entity/knee-synovitis"
    assert page.get_by_role("heading", level=1).inner_text() == "knee synovitis"


def test_cause_page_shows_interventions_grouped_and_evidence_marked(page, server: RunningServer,
                                                                    source_text: str) -> None:
    page.goto(server.url + "/entity/knee-synovitis")
    advice = page.locator("section.interventions")
    kinds = advice.locator("h3").all_inner_texts()
    assert kinds == ["joint protection", "lifestyle intervention", "physical therapy"]
    physical = advice.locator("section.kind-group", has=page.get_by_role("heading", name="physical therapy"))
    assert "needs a physician" in physical.locator("li", has=page.get_by_role("link", name="acupuncture", exact=True)).inner_text()
    marks = page.locator(".evidence mark")
    assert marks.count() >= 1
    for text in marks.all_inner_texts():
        assert text in source_text
    assert marks.first.is_visible() and page.locator("svg.diagram").is_visible()
    shot(page, "entity-knee-synovitis")
    page.goto(server.url + "/")
    page.locator("svg.diagram").wait_for()
    shot(page, "home")


def test_editor_runs_a_stored_example_shows_the_table_and_downloads_csv(page, server: RunningServer,
                                                                      tmp_path: Path) -> None:
    page.goto(server.url + "/sparql")
    example = page.locator('button.example[data-query="interventions_for_cause"]')
    example.click()
    cells = page.locator(".yasr table.dataTable tbody tr")
    cells.first.wait_for()
    # the example binds the query's parameter to its documented example (cause=osteoarthritis)
    assert "VALUES (?cause) { (<https://w3id.org/knee-soreness/osteoarthritis>) }" in page.evaluate(
        "() => window.kgEditor.getTab().getYasqe().getValue()")
    assert cells.count() >= 5
    entity_link = page.locator('.yasr a.iri[href="/entity/ibuprofen-sustained-release-capsules"]').first
    assert entity_link.get_attribute("title") == "https://w3id.org/knee-soreness/ibuprofen-sustained-release-capsules"
    assert "ibuprofen sustained-release capsules" in page.locator(".yasr").inner_text()  # labels beside the IRIs
    shot(page, "sparql-editor")
    with page.expect_download() as download:
        page.locator("#download-csv").click()
    saved = tmp_path / "results.csv"
    download.value.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8"))))
    assert len(rows) >= cells.count() and {"cause", "entity", "label", "quote"} <= set(rows[0])


def test_editor_completes_the_service_prefixes(page, server: RunningServer) -> None:
    page.goto(server.url + "/sparql")
    page.locator(".CodeMirror").first.wait_for()
    page.evaluate("() => window.kgEditor.getTab().getYasqe().setValue('')")
    page.locator(".CodeMirror").first.click()
    page.keyboard.type("PREFIX k", delay=30)
    page.keyboard.press("Control+Space")
    hint = page.locator(".CodeMirror-hints")
    hint.wait_for()
    assert "ks: <https://w3id.org/knee-soreness/>" in hint.inner_text()  # ours, from /prefixes.json
    page.keyboard.press("Escape")
    page.evaluate("() => window.kgEditor.getTab().getYasqe().setValue("
                  "'PREFIX ks: <https://w3id.org/knee-soreness/>\\nSELECT * WHERE {\\n  ?x a ks:Cau')")
    page.evaluate("() => { const y = window.kgEditor.getTab().getYasqe(); y.focus(); y.setCursor(y.lineCount(), 0); }")
    page.keyboard.press("Control+Space")
    hint.wait_for()
    assert "ks:Cause" in hint.inner_text().split()  # the graph's own classes, from the stored query vocabulary


def test_editor_shows_a_syntax_error_at_its_line_and_column(page, server: RunningServer) -> None:
    page.goto(server.url + "/sparql")
    page.locator(".CodeMirror").first.wait_for()
    page.evaluate("() => window.kgEditor.getTab().getYasqe().setValue('SELECT * WHERE {\\n  ?s ?p\\n}')")
    page.locator(".CodeMirror").first.click()
    page.keyboard.press("Control+Enter")  # run, as the page says
    alert = page.get_by_role("alert")
    alert.wait_for()
    # the triple is cut short on line 2; Oxigraph reports where it notices, at the brace on line 3
    assert "line 2, column" in alert.inner_text() or "line 3, column" in alert.inner_text()
    assert page.locator(".CodeMirror .error-line").count() == 1


def test_docs_render_their_operations_offline(page, server: RunningServer) -> None:
    page.goto(server.url + "/docs")
    operations = page.locator(".opblock")
    operations.first.wait_for()
    assert operations.count() > 20
    assert page.locator(".opblock-summary-path", has_text="/api/causes/{cause_id}/interventions").count() == 1
    shot(page, "docs")
