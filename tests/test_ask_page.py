"""The home page's question box, in a real browser (Playwright driving Debian's Chromium) against the live server:
ask, see the items with their evidence and the stored query; a declined question offers questions that answer."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest
from conftest import RunningServer
from playwright import sync_api

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def page(server: RunningServer) -> Iterator[object]:
    own = urlparse(server.url).netloc
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--headless", "--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        page.set_default_timeout(20_000)
        # Nothing leaves the machine: any request to another host fails the page.
        page.route("**/*", lambda route: route.continue_() if urlparse(route.request.url).netloc == own
                   else route.abort())
        page.goto(server.url + "/")
        try:
            yield page
        finally:
            browser.close()


def test_the_question_box_shows_the_items_with_their_evidence(page) -> None:
    page.fill("#ask-input", "osteoartritis medication")
    page.click("#ask-form button[type=submit]")
    page.wait_for_selector("#ask-answer ol li")
    answer = page.inner_text("#ask-answer")
    assert "ibuprofen sustained-release capsules" in answer and "follow medical advice" in answer
    assert "needs a physician" in answer
    assert "“Patients should follow medical advice to take oral medications" in answer
    assert "Stored query recommendations" in answer


def test_a_declined_question_offers_questions_it_answers(page) -> None:
    page.fill("#ask-input", "What is the weather tomorrow?")
    page.click("#ask-form button[type=submit]")
    page.wait_for_selector("#ask-answer button")
    assert "does not mention 'tomorrow'" in page.inner_text("#ask-answer")
    first = page.locator("#ask-answer button").first
    suggestion = first.inner_text()
    first.click()
    page.wait_for_selector("#ask-answer ol li")
    assert page.input_value("#ask-input") == suggestion
