"""A member who takes texts and not email hears that a pact ended by one text, once, out of quiet hours."""

from __future__ import annotations

from datetime import timedelta

from tests.helpers import call, member, pact
from tests.integration.test_texts import SLOT, START, at, sweep, texts

ANN, BOB = "ann@example.org", "bob@example.org"
TEXTS_ONLY = {
    "phone": "+353851234567",
    "notifications": {"channels": ["sms"], "quiet_hours": [{"weekday": "wednesday", "start": "09:00", "end": "13:00"}]},
}


def test_one_text_when_the_colleague_leaves_then_nothing_for_a_month(aws) -> None:
    # GIVEN Ann takes texts only (no email) and has a weekly slot with Bob
    member(ANN, **TEXTS_ONLY)
    member(BOB)
    created = pact(ANN, BOB, now=START, **SLOT)
    # WHEN Bob leaves on Tuesday 8 December at 22:00 (too late in the evening for a text)
    assert call("DELETE", f"/pacts/{created['id']}", email=BOB, now=at("2026-12-08T22:00:00")).status == 204
    assert sweep(at("2026-12-08T22:05:00"))["sent"] == 0
    # THEN Wednesday 09:00-13:00 is quiet for her: the text waits until 13:00, and comes once
    assert sweep(at("2026-12-09T12:55:00"))["sent"] == 0
    assert sweep(at("2026-12-09T13:00:00"))["sent"] == 1
    assert sweep(at("2026-12-09T13:00:00"))["sent"] == 0
    [(phone, text)] = texts()
    assert (phone, text) == (
        "+353851234567",
        "Your regular check-ins with Bob have ended. Nothing more will come about them. - Peer support",
    )
    # AND no check-in text about the ended pact for the month after, slot after slot
    moment = at("2026-12-09T13:05:00")
    while moment < at("2027-01-10T00:00:00"):
        sweep(moment)
        moment += timedelta(hours=6)
    assert len(texts()) == 1
    view = call("GET", f"/pacts/{created['id']}", now=moment).json()
    assert (view["state"], view["ended_reason"]) == ("ended", "colleague_left")


def test_after_an_erasure_the_text_names_nobody(aws) -> None:
    member(ANN, **TEXTS_ONLY)
    member(BOB, name="Robert Secretname")
    created = pact(ANN, BOB, now=START, **SLOT)
    assert call("DELETE", "/members/me", email=BOB, now=at("2026-12-10T10:00:00")).status == 204
    assert sweep(at("2026-12-10T10:00:00"))["sent"] == 1
    [(_, text)] = texts()
    assert "Secretname" not in text
    assert "closed their account" in text
    assert call("GET", f"/pacts/{created['id']}", now=at("2026-12-10T10:05:00")).json()["ended_reason"] == "colleague_erased"
