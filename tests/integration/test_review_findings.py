"""Defects a review of the invitations / ended-pacts change found (all fixed), each pinned by a test.

Times: START is Tuesday 5 January 2027, 09:00 UTC (Dublin is UTC in winter). A weekly pact on Tuesdays at
08:30 lapses on Thursday 14 January at 08:30 (the first nudge goes at the nudge hour, 09:00).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from infra import cfn
from infra.local.auth import member_sub
from tests.helpers import call
from tests.integration.invite_harness import World, invite, mutual_pact, signup
from tests.integration.nudge_harness import Mail

ANN, BOB, JEN = "ann@example.org", "bob@example.org", "jen@example.org"
START = datetime(2027, 1, 5, 9, tzinfo=UTC)  # a Tuesday
WEEKLY: dict[str, Any] = {"rhythm": {"weekday": "tuesday", "time": "08:30"}}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# ====================================================================== erasure racing a change


def test_an_erasure_that_races_a_change_by_the_colleague_still_ends_her_view_and_forgets_him(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.pacts import use_cases as pacts

    signup(ANN, "Ann", START)
    signup(BOB, "Bob", START)
    pact_id = mutual_pact(ANN, BOB, START, **WEEKLY)
    moment = START + timedelta(days=1)
    real = pacts.persist_views
    raced: list[int] = []

    def ann_changes_the_pact_first(ctx, views, names, tx=None, events=()):  # type: ignore[no-untyped-def]
        # forget_member_in_pact has read Ann's view; Ann renames the pact's mode at that very moment.
        if not raced and ctx.sub == member_sub(BOB) and tx is None:
            raced.append(call("PATCH", f"/pacts/{pact_id}", email=ANN, body={"mode": "video"}, now=moment).status)
        return real(ctx, views, names, tx, events)

    monkeypatch.setattr(pacts, "persist_views", ann_changes_the_pact_first)
    assert call("DELETE", "/members/me", email=BOB, now=moment).status == 204
    assert raced == [200]
    monkeypatch.setattr(pacts, "persist_views", real)
    # Bob is gone (a retry of the erasure is not possible: his profile is deleted, the DELETE answered 204) ...
    assert call("GET", "/members/me", email=BOB, now=moment).status == 404
    # ... so Ann's view must have ended and must not name him
    view = call("GET", f"/pacts/{pact_id}", email=ANN, now=moment).json()
    assert (view["state"], view["ended_reason"], view["mutual"]) == ("ended", "colleague_erased", False)
    assert view["colleague"]["email"] is None
    assert "Bob" not in str(view["colleague"])


# ====================================================================== more than twenty invitations at signup


def test_invitations_beyond_twenty_are_not_lost_when_one_inviter_changes_a_pact_during_the_signup(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.invitations.use_cases import Claimed

    inviters = [f"colleague{number}@example.org" for number in range(22)]
    pact_ids = []
    for number, inviter in enumerate(inviters):
        signup(inviter, f"Colleague {number}", START)
        created = invite(inviter, JEN, START + timedelta(minutes=number))
        assert created.status == 201
        pact_ids.append(created.json()["id"])
    moment = START + timedelta(days=1)
    real = Claimed.write_rest

    def an_inviter_edits_meanwhile(self: Claimed, first: int) -> None:
        # Between Jen's claim read and the second batch, one of the later inviters edits her pact.
        for invited, owner in self.pairs[first:]:
            email = f"colleague{int(str(invited.colleague_name).split()[-1])}@example.org"
            assert call("PATCH", f"/pacts/{owner.pact_id}", email=email, body={"mode": "video"}, now=moment).status == 200
            break
        real(self, first)

    monkeypatch.setattr(Claimed, "write_rest", an_inviter_edits_meanwhile)
    first = call("PUT", "/members/me", email=JEN, body={"display_name": "Jen", "time_zone": "Europe/Dublin"}, now=moment)
    monkeypatch.setattr(Claimed, "write_rest", real)
    # Whatever the first answer was, Jen (or her app) saves the profile again, as one does after an error
    again = call("PUT", "/members/me", email=JEN, body={"display_name": "Jen", "time_zone": "Europe/Dublin"}, now=moment)
    assert again.status == 200, again.body
    listed = call("GET", "/pacts?limit=100", email=JEN, now=moment).json()["items"]
    assert first.status in (200, 409, 500)
    assert sorted(p["id"] for p in listed) == sorted(pact_ids)


# ====================================================================== Retry-After


def test_waiting_exactly_retry_after_seconds_is_enough(world: World) -> None:
    signup(ANN, "Ann", START)
    moment = at("2027-01-05T23:59:57.500")
    for number in range(20):
        assert invite(ANN, f"someone{number}@example.org", START + timedelta(minutes=number)).status == 201
    refused = invite(ANN, "one-more@example.org", moment)
    assert refused.status == 429
    wait = int(refused.headers["retry-after"])
    retried = invite(ANN, "one-more@example.org", moment + timedelta(seconds=wait))
    assert retried.status == 201, (wait, retried.status)


# ====================================================================== the template


def test_invitation_emails_are_sent_with_the_configuration_set_that_reports_bounces() -> None:
    notify = cfn.functions()["NotifyFunction"]
    assert notify.environment.get("SES_CONFIGURATION_SET") == {"Ref": "NudgeConfigurationSet"}
    statements = [s for p in cfn.resource("NotifyFunction")["Properties"]["Policies"] if "Statement" in p for s in p["Statement"]]
    ses = next(s for s in statements if s.get("Action") == "ses:SendEmail")
    assert "configuration-set" in str(ses["Resource"])


def test_the_sms_sweep_may_delete_the_claims_it_gives_back() -> None:
    statements = [s for p in cfn.resource("SmsSweepFunction")["Properties"]["Policies"] if "Statement" in p for s in p["Statement"]]
    actions = {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert "dynamodb:DeleteItem" in actions


# ====================================================================== away mode and a member's invitation


def test_accepting_while_the_inviter_is_away_pauses_the_new_side_too(world: World) -> None:
    signup(ANN, "Ann", START)
    signup(BOB, "Bob", START)
    pact_id = invite(ANN, BOB, START, **WEEKLY).json()["id"]
    assert call("PUT", "/members/me/away", email=ANN, body={"until": "2027-03-01"}, now=START).status == 200
    assert call("POST", f"/pacts/{pact_id}/accept", email=BOB, now=START + timedelta(hours=1)).status == 200
    later = at("2027-01-20T12:00:00")
    anns = call("GET", f"/pacts/{pact_id}", email=ANN, now=later).json()
    bobs = call("GET", f"/pacts/{pact_id}", email=BOB, now=later).json()
    assert anns["status"] == "paused"
    assert bobs["status"] == "paused"
    sent = world.ticks([at("2027-01-14T09:05:00"), at("2027-01-21T09:05:00")])
    assert [m.to for _, m in sent if isinstance(m, Mail)] == []


# ====================================================================== a member who changed address, invited again


def test_an_invitation_can_be_corrected_to_the_new_address_of_the_member_it_already_reached(world: World) -> None:
    signup(ANN, "Ann", START)
    signup(BOB, "Bob", START)
    pact_id = invite(ANN, BOB, START, **WEEKLY).json()["id"]
    # Bob changes his sign-in address (same account); Ann hears of it and corrects the invitation
    home = "bob@home.example.org"
    moved = call(
        "PUT",
        "/members/me",
        email=home,
        sub=member_sub(BOB),
        body={"display_name": "Bob", "time_zone": "Europe/Dublin"},
        now=START + timedelta(hours=1),
    )
    assert moved.status == 200, moved.body
    resent = call("POST", f"/pacts/{pact_id}/resend-invitation", email=ANN, body={"email": home}, now=START + timedelta(hours=2))
    assert resent.status == 200, resent.body
    assert resent.json()["colleague"]["email"] == home
    listed = call("GET", "/pacts", email=home, sub=member_sub(BOB), now=START + timedelta(hours=2)).json()["items"]
    assert [(p["id"], p["state"]) for p in listed] == [(pact_id, "invited")]
    assert call("POST", f"/pacts/{pact_id}/accept", email=home, sub=member_sub(BOB), now=START + timedelta(hours=2)).status == 200
