"""The emails a group sends outside its meetings: the invitation to a colleague (member or not) and the review prompt."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from shared.groups.scheduling import sweep_groups
from tests.helpers import call, member
from tests.integration.group_harness import create_group, sub
from tests.integration.invite_harness import World, invitation_links, press, signup

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ANN, CARA, BOB = "ann@example.org", "cara@example.org", "bob@example.org"


def test_a_colleague_who_is_not_a_member_gets_one_kind_invitation_email_signs_up_and_joins(world: World) -> None:
    # GIVEN Ann's group
    member(ANN, "Ann")
    group = create_group(ANN, NOW, purpose="Case consultation among peers")
    # WHEN she invites Cara, who has no account
    invited = call("POST", f"/groups/{group['id']}/invitations", email=ANN, body={"email": CARA}, now=NOW)
    assert invited.status == 200, invited.body
    # THEN Cara gets one email naming the group, its rhythm and how to join, and a redelivery sends nothing more
    assert world.deliver_invitations() == ["sent"]
    [mail] = world.mails(CARA)
    assert "Cork peer supervision" in mail.subject
    assert "Ann" in mail.subject
    assert "second Tuesday of the month at 19:00" in mail.text
    assert "Tuesday 8 December 2026 at 19:00" in mail.text
    assert "/u/" in mail.text  # don't email me again
    event = world.events("InvitationSent")[0]
    assert CARA not in str(event)
    assert "cara" not in str(event).lower()
    assert world.notify(event)["outcome"] == "recently-emailed"
    assert len(world.mails(CARA)) == 1
    # WHEN Cara signs up with that address THEN the invitation waits in her GET /groups, and she can join
    signup(CARA, "Cara", NOW + timedelta(days=1))
    mine = call("GET", "/groups", email=CARA, now=NOW + timedelta(days=1)).json()["items"]
    assert [(g["id"], g["my_state"]) for g in mine] == [(group["id"], "invited")]
    joined = call("POST", f"/groups/{group['id']}/accept", email=CARA, now=NOW + timedelta(days=1))
    assert joined.status == 200, joined.body
    names = {m["name"]: m["state"] for m in joined.json()["members"]}
    assert names == {"Ann": "active", "Cara": "active"}


def test_a_colleague_without_an_account_can_say_no_thank_you_from_the_email(world: World) -> None:
    # Found trying it from the invited side: a pact invitation has a page to say no without an account, a group's
    # had none ("simply ignore this email"), so the convener saw Cara "invited" for a month.
    member(ANN, "Ann")
    group = create_group(ANN, NOW)
    assert call("POST", f"/groups/{group['id']}/invitations", email=ANN, body={"email": CARA}, now=NOW).status == 200
    assert world.deliver_invitations() == ["sent"]
    links = invitation_links(world.mails(CARA)[0])
    assert "ignore this email" not in links.mail.text
    later = NOW + timedelta(days=3)
    page = call("GET", links.page, email=None, now=later)
    assert page.status == 200, page.body
    assert b"Ann invites you to the peer supervision group Cork peer supervision" in page.body
    assert b"Tuesday 8 December 2026 at 19:00" in page.body
    assert b"No, thank you" in page.body
    assert call("GET", links.page, email=None, now=later).status == 200  # looking changes nothing
    assert [m["state"] for m in call("GET", f"/groups/{group['id']}", email=ANN, now=later).json()["members"]] == ["active", "invited"]
    done = press(links.page, page, "decline", later)
    assert done.status == 200, done.body
    assert b"Thank you for letting them know" in done.body
    assert [m["state"] for m in call("GET", f"/groups/{group['id']}", email=ANN, now=later).json()["members"]] == ["active"]
    declined = world.events("InvitationDeclined")
    assert [(e["detail"]["group_id"], e["detail"]["member_id"]) for e in declined] == [(group["id"], None)]
    # The page is closed now, and signing up with that address finds no invitation waiting
    again = call("GET", links.page, email=None, now=later)
    assert (again.status, b"no longer open" in again.body) == (410, True)
    assert press(links.page, page, "decline", later).status == 410
    signup(CARA, "Cara", later)
    assert call("GET", "/groups", email=CARA, now=later).json()["items"] == []
    # The convener may invite her again (a new invitation, a new page)
    assert call("POST", f"/groups/{group['id']}/invitations", email=ANN, body={"email": CARA}, now=later).status == 200


def test_a_colleague_who_signed_up_since_can_still_say_no_thank_you_from_the_email(world: World) -> None:
    member(ANN, "Ann")
    group = create_group(ANN, NOW)
    assert call("POST", f"/groups/{group['id']}/invitations", email=ANN, body={"email": CARA}, now=NOW).status == 200
    assert world.deliver_invitations() == ["sent"]
    links = invitation_links(world.mails(CARA)[0])
    later = NOW + timedelta(days=2)
    signup(CARA, "Cara", later)  # the invitation now waits in her GET /groups
    assert [g["my_state"] for g in call("GET", "/groups", email=CARA, now=later).json()["items"]] == ["invited"]
    page = call("GET", links.page, email=None, now=later)
    assert press(links.page, page, "decline", later).status == 200
    assert call("GET", "/groups", email=CARA, now=later).json()["items"] == []
    assert [e["detail"]["member_id"] for e in world.events("InvitationDeclined")] == [sub(CARA)]


def test_the_no_thank_you_page_of_a_group_invitation_that_expired_or_was_withdrawn_says_so(world: World) -> None:
    member(ANN, "Ann")
    group = create_group(ANN, NOW)
    invited = call("POST", f"/groups/{group['id']}/invitations", email=ANN, body={"email": CARA}, now=NOW).json()
    assert world.deliver_invitations() == ["sent"]
    links = invitation_links(world.mails(CARA)[0])
    expired = call("GET", links.page, email=None, now=NOW + timedelta(days=31))
    assert (expired.status, b"has expired" in expired.body) == (410, True)
    entry = next(m for m in invited["members"] if m["state"] == "invited")
    assert call("DELETE", f"/groups/{group['id']}/members/{entry['member_id']}", email=ANN, now=NOW).status == 204
    withdrawn = call("GET", links.page, email=None, now=NOW + timedelta(days=1))
    assert (withdrawn.status, b"no longer open" in withdrawn.body) == (410, True)


def test_an_invitation_to_a_group_that_has_met_already_names_its_next_meeting_not_its_first(world: World) -> None:
    member(ANN, "Ann")
    group = create_group(ANN, NOW)  # second Tuesdays at 19:00, from Tuesday 8 December 2026
    february = datetime(2027, 2, 1, 9, tzinfo=UTC)
    # The February meeting is cancelled: the next one is in March, as the group's calendar says
    meetings = call("GET", f"/groups/{group['id']}/meetings?limit=1", email=ANN, now=february).json()["items"]
    cancelled = call("POST", f"/groups/{group['id']}/meetings/{meetings[0]['id']}/cancel", email=ANN, body={}, now=february)
    assert cancelled.status == 200, cancelled.body
    assert call("POST", f"/groups/{group['id']}/invitations", email=ANN, body={"email": CARA}, now=february).status == 200
    assert world.deliver_invitations() == ["sent"]
    links = invitation_links(world.mails(CARA)[0])
    assert "  Next meeting:    Tuesday 9 March 2027 at 19:00" in links.mail.text
    assert "December 2026" not in links.mail.text
    page = call("GET", links.page, email=None, now=february)
    assert b"Next meeting: Tuesday 9 March 2027 at 19:00." in page.body


def test_a_member_is_invited_with_the_same_answer_and_email_as_anyone(world: World) -> None:
    member(ANN, "Ann")
    member(BOB, "Bob")
    group = create_group(ANN, NOW)
    to_member = call("POST", f"/groups/{group['id']}/invitations", email=ANN, body={"email": BOB}, now=NOW).json()
    to_stranger = call("POST", f"/groups/{group['id']}/invitations", email=ANN, body={"email": CARA}, now=NOW).json()
    invited = [m for m in to_stranger["members"] if m["state"] == "invited"]
    assert sorted(m["name"] for m in invited) == ["bob", "cara"]  # the address's local part for both
    assert all(m["member_id"].startswith("@") for m in invited)
    assert len([m for m in to_member["members"] if m["state"] == "invited"]) == 1
    assert world.deliver_invitations() == ["sent", "sent"]
    assert len(world.mails(BOB)) == 1
    assert len(world.mails(CARA)) == 1


def test_conveners_are_prompted_once_to_review_the_agreement_when_it_is_due(world: World) -> None:
    member(ANN, "Ann")
    group = create_group(ANN, NOW, review_months=1, objectives="One case each; leave with one idea")
    # Nothing is due before the month is out (the first meeting is fixed a week ahead: no review yet).
    sweep_groups(NOW + timedelta(days=2), 8)
    assert world.events("GroupReviewDue") == []
    due = NOW + timedelta(days=32)
    sweep_groups(due, 8)
    sweep_groups(due, 8)  # a second run at the same instant prompts nothing more
    [event] = world.events("GroupReviewDue")
    assert {k: event["detail"][k] for k in ("group_id", "version")} == {"group_id": group["id"], "version": 1}
    assert world.notify(event)["sent"] == 1
    assert world.notify(event)["sent"] == 0  # a redelivered event
    [mail] = world.mails(ANN)
    assert "review" in mail.subject.lower()
    assert "One case each; leave with one idea" in mail.text
    assert "version 1" in mail.text
    got: dict[str, Any] = call("GET", f"/groups/{group['id']}", email=ANN, now=due).json()
    assert got["agreement"]["review_due_at"].startswith("2027-02-02")


def test_an_expired_invitation_frees_its_place_and_the_address_can_be_invited_again(world: World) -> None:
    # GIVEN a group of at most two: Ann, and an invitation to Cara that nobody answers
    member(ANN, "Ann")
    group = create_group(ANN, NOW, size_limit=2)
    assert call("POST", f"/groups/{group['id']}/invitations", email=ANN, body={"email": CARA}, now=NOW).status == 200
    full = call("POST", f"/groups/{group['id']}/invitations", email=ANN, body={"email": BOB}, now=NOW)
    assert full.status == 422
    assert "full" in full.json()["detail"]
    again = call("POST", f"/groups/{group['id']}/invitations", email=ANN, body={"email": CARA}, now=NOW)
    assert again.status == 409
    # WHEN the 30 days pass
    later = NOW + timedelta(days=31)
    # THEN the place is free, and Cara can be invited again (her old entry is replaced, not doubled)
    renewed = call("POST", f"/groups/{group['id']}/invitations", email=ANN, body={"email": CARA}, now=later)
    assert renewed.status == 200, renewed.body
    invited = [m for m in renewed.json()["members"] if m["state"] == "invited"]
    assert len(invited) == 1
    assert invited[0]["invitation_expires_at"].startswith("2027-01-31")
