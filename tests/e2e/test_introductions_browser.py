"""An introduction accepted from its email's Accept link in a real headless Chromium, on the local stack."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.conftest import Stack
from tests.e2e.test_browser import browser, open_on_a_phone, tap  # noqa: F401 - the module's Chromium fixture

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def test_an_introduction_accepted_in_a_real_browser(stack: Stack, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    ann = stack.token("ann.intro.browser@example.org")
    bob_email = "bob.intro.browser@example.org"
    bob = stack.token(bob_email)
    stack.request("PUT", "/_local/clock", body={"now": "2026-12-01T09:00:00Z"})
    try:
        hostile = {"display_name": "Ann <b>", "time_zone": "Europe/Dublin", "specialties": ["Grief & Loss"]}
        assert stack.request("PUT", "/members/me", token=ann, body=hostile).status == 200
        listed = {"display_name": "Bob", "time_zone": "Europe/Dublin", "in_directory": True}
        assert stack.request("PUT", "/members/me", token=bob, body=listed).status == 200
        bob_id = stack.request("GET", "/members/me", token=bob).json()["id"]
        asked = stack.request("POST", "/introductions", token=ann, body={"to": bob_id, "message": "Could we talk <i>grief</i> work?"})
        assert asked.status == 201, asked.body
        intro_id = asked.json()["id"]
        text = str(stack.wait_for_message(bob_email, "would like to be introduced to you")["text"])
        accept = re.search(r"Accept:\s+(http://\S+/i/[\w-]+)", text)
        assert accept, text
        url = accept.group(1)

        phone_page = open_on_a_phone(browser, url)
        page = phone_page.page
        assert page.locator("h1").inner_text() == "Ann <b> would like to be introduced to you"  # text, never markup
        assert "Could we talk <i>grief</i> work?" in page.locator("main").inner_text()
        tap(page, "Yes, introduce us", tmp_path / "introduction-page.png")
        assert page.locator("h1").inner_text() == "You and Ann <b> are introduced"
        seen = stack.request("GET", f"/introductions/{intro_id}", token=ann).json()
        assert seen["state"] == "accepted"
        assert seen["contact"]["email"] == bob_email
        page.goto(url)
        assert page.locator("h1").inner_text() == "Already done"
        assert phone_page.all_from(stack)
        page.close()
    finally:
        stack.request("DELETE", "/_local/clock")
