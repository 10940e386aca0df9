"""The one-tap check-in page in a real headless Chromium, from the text the local stack sent."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed: `apt-get install chromium` (Debian) runs the browser tests; .ci/run installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@dataclass
class Phone:
    """A page open on a phone-sized screen, with every URL it requested."""

    page: Any
    response: Any
    requested: list[str]

    def all_from(self, stack: Stack) -> bool:
        """No CDN, font or tracker: everything the page asked for came from the stack itself."""
        return bool(self.requested) and all(urlsplit(r).netloc == urlsplit(stack.url).netloc for r in self.requested)


def open_on_a_phone(browser: Any, url: str) -> Phone:
    page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    response = page.goto(url)
    assert response is not None
    assert response.status == 200
    return Phone(page, response, requested)


def tap(page: Any, name: str, screenshot: Path) -> None:
    """Tap the button `name` (a thumb-sized target: at least 44 px high) after a screenshot, and wait for the answer."""
    button = page.get_by_role("button", name=name)
    assert button.is_visible()
    box = button.bounding_box()
    assert box is not None
    assert box["height"] >= 44
    page.screenshot(path=str(screenshot), full_page=True)
    button.click()
    page.wait_for_load_state()


def test_yes_we_talked_in_a_real_browser(stack: Stack, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    phone = "+353857770001"
    ann = stack.token("ann.browser@example.org")
    stack.request("PUT", "/_local/clock", body={"now": "2026-12-01T09:00:00Z"})
    try:
        profile = {"display_name": "Ann", "time_zone": "Europe/Dublin", "phone": phone, "notifications": {"channels": ["sms"]}}
        assert stack.request("PUT", "/members/me", token=ann, body=profile).status == 200
        body = {
            "colleague": {"name": "Jennifer", "phone": "+353857770002"},
            "rhythm": {"weekday": "tuesday", "time": "08:30"},
            "mode": "phone",
            "time_limit_minutes": 30,
        }
        pact_id = stack.request("POST", "/pacts", token=ann, body=body).json()["id"]
        # Tuesday 8 December, just after the 08:30 call's 30 minutes
        stack.request("PUT", "/_local/clock", body={"now": "2026-12-08T09:06:00Z"})
        assert stack.request("POST", "/_local/invoke/SmsSweep", body={}).status == 200
        text = str(stack.wait_for_message(phone, "Did you talk with")["text"])
        assert len(text) <= 160
        url = re.search(r"(http://\S+/c/[\w-]{22})$", text).group(1)  # type: ignore[union-attr]
        assert urlsplit(url).netloc == urlsplit(stack.url).netloc

        phone_page = open_on_a_phone(browser, url)
        page = phone_page.page
        assert phone_page.response.headers["cache-control"] == "no-store"
        assert phone_page.response.headers["x-robots-tag"].startswith("noindex")
        assert page.locator("h1").inner_text() == "Did you and Jennifer talk?"
        assert "Tuesdays 08:30, by phone, 30 min" in page.locator("main").inner_text()
        assert page.get_by_role("button", name="Not this time").is_visible()
        assert page.get_by_role("button", name="Snooze a week").is_visible()
        tap(page, "Yes, we talked", tmp_path / "check-in-page.png")
        assert page.locator("h1").inner_text() == "Thank you, it is recorded"
        page.screenshot(path=str(tmp_path / "thank-you-page.png"), full_page=True)
        assert stack.request("GET", f"/pacts/{pact_id}", token=ann).json()["status"] == "on_track"

        page.goto(url)
        assert page.locator("h1").inner_text() == "Already done"
        assert "nothing more was recorded" in page.locator("main").inner_text()
        assert phone_page.all_from(stack)
        assert (tmp_path / "check-in-page.png").stat().st_size > 0
        page.close()
    finally:
        stack.request("DELETE", "/_local/clock")


def test_an_invitation_declined_in_a_real_browser_without_an_account(stack: Stack, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # GIVEN Ann invites Dee, who has no account, and the invitation email arrives
    ann = stack.token("ann.invites.browser@example.org")
    dee = "dee.browser@example.org"
    assert stack.request("PUT", "/members/me", token=ann, body={"display_name": "Ann <b>", "time_zone": "Europe/Dublin"}).status == 200
    created = stack.request(
        "POST", "/pacts", token=ann, body={"colleague": {"email": dee}, "rhythm": {"weekday": "friday", "time": "12:00"}}
    )
    pact_id = created.json()["id"]
    mail = stack.wait_for_message(dee, "would like to keep in regular touch")
    url = re.search(r"(http://\S+/i/[\w-]+)", mail["text"]).group(1)  # type: ignore[union-attr]

    # WHEN Dee opens the link on her phone and taps "No, thank you"
    phone_page = open_on_a_phone(browser, url)
    page = phone_page.page
    assert page.locator("h1").inner_text() == "Ann <b> invites you to regular check-ins"  # shown as text, never as markup
    assert "Fridays 12:00" in page.locator("main").inner_text()
    tap(page, "No, thank you", tmp_path / "invitation-page.png")

    # THEN she is thanked, Ann's side reads declined, and the link now says the invitation is closed
    assert page.locator("h1").inner_text() == "Thank you for letting them know"
    view = stack.request("GET", f"/pacts/{pact_id}", token=ann).json()
    assert (view["state"], view["ended_reason"]) == ("ended", "declined")
    page.goto(url)
    assert page.locator("h1").inner_text() == "This invitation is no longer open"
    assert phone_page.all_from(stack)
    page.close()


def test_a_group_invitation_declined_in_a_real_browser_without_an_account(stack: Stack, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # GIVEN Ann's group invites Fay, who has no account, and the invitation email arrives
    ann = stack.token("ann.group.browser@example.org")
    fay = "fay.browser@example.org"
    assert stack.request("PUT", "/members/me", token=ann, body={"display_name": "Ann", "time_zone": "Europe/Dublin"}).status == 200
    body = {
        "name": "Cork <peer> supervision",
        "rhythm": {"rrule": "FREQ=MONTHLY;BYDAY=2TU;BYHOUR=19;BYMINUTE=0", "time_zone": "Europe/Dublin"},
        "duration_minutes": 90,
        "where": {"kind": "place", "venue": "Ann's rooms, Cork"},
        "format": {"preset": "case_slots", "case_slots": 3},
    }
    created = stack.request("POST", "/groups", token=ann, body=body)
    assert created.status == 201, created.body
    group_id = created.json()["id"]
    assert stack.request("POST", f"/groups/{group_id}/invitations", token=ann, body={"email": fay}).status == 200
    mail = stack.wait_for_message(fay, "invites you to the peer supervision group")
    url = re.search(r"(http://\S+/i/[\w-]+)", mail["text"]).group(1)  # type: ignore[union-attr]

    # WHEN Fay opens the link on her phone and taps "No, thank you"
    phone_page = open_on_a_phone(browser, url)
    page = phone_page.page
    assert page.locator("h1").inner_text() == "Ann invites you to the peer supervision group Cork <peer> supervision"  # as text
    assert "second Tuesday of the month at 19:00" in page.locator("main").inner_text()
    tap(page, "No, thank you", tmp_path / "group-invitation-page.png")

    # THEN she is thanked, the group has no invitation for her any more, and the link says it is closed
    assert page.locator("h1").inner_text() == "Thank you for letting them know"
    members = stack.request("GET", f"/groups/{group_id}", token=ann).json()["members"]
    assert [m["state"] for m in members] == ["active"]
    page.goto(url)
    assert page.locator("h1").inner_text() == "This invitation is no longer open"
    assert phone_page.all_from(stack)
    page.close()
