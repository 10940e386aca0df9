"""Invitations at their edges: a corrected address that is a member's, refusals, a failed send, a long history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from infra.local.auth import member_sub
from shared.adapters.models import PactView
from shared.invitations.emails import InvitationNotSent
from shared.nudges.sending import pact_line
from tests.helpers import call
from tests.integration.invite_harness import World, every, invitation_links, invite, signup
from tests.integration.nudge_harness import Mail

START = datetime(2027, 1, 5, 9, tzinfo=UTC)  # a Tuesday
ANN, BOB, CARA, JEN, DORA = "ann@example.org", "bob@example.org", "cara@example.org", "jen@example.org", "dora@example.org"


def test_a_corrected_address_that_is_a_members_moves_the_invitation_to_them(world: World) -> None:
    # GIVEN Ann invited Bob (a member) by mistake; she meant Cara, also a member
    signup(ANN, "Ann", START)
    signup(BOB, "Bob", START)
    signup(CARA, "Cara", START)
    pact_id = invite(ANN, BOB, START).json()["id"]
    assert world.deliver_invitations() == ["sent"]
    # WHEN she sends it again to Cara's address
    moment = START + timedelta(hours=1)
    reply = call("POST", f"/pacts/{pact_id}/resend-invitation", email=ANN, body={"email": CARA}, now=moment)
    assert reply.status == 200, reply.body
    assert reply.json()["colleague"]["email"] == CARA
    # THEN Bob's invitation is gone, Cara's is there to accept, and each got one email
    assert call("GET", "/pacts", email=BOB, now=moment).json()["items"] == []
    assert [p["state"] for p in call("GET", "/pacts", email=CARA, now=moment).json()["items"]] == ["invited"]
    assert world.deliver_invitations() == ["sent"]
    assert [m.to for m in world.mails()] == [BOB, CARA]
    assert call("POST", f"/pacts/{pact_id}/accept", email=CARA, now=moment).status == 200
    assert call("GET", f"/pacts/{pact_id}", email=ANN, now=moment).json()["colleague"]["name"] == "Cara"


def test_who_may_resend_and_to_whom(world: World) -> None:
    signup(ANN, "Ann", START)
    signup(BOB, "Bob", START)
    pact_id = invite(ANN, BOB, START).json()["id"]
    # Only the inviter re-sends; not to her own address; not once it was accepted
    assert call("POST", f"/pacts/{pact_id}/resend-invitation", email=BOB, now=START).status == 409
    own = call("POST", f"/pacts/{pact_id}/resend-invitation", email=ANN, body={"email": ANN}, now=START)
    assert (own.status, own.json()["errors"][0]["field"]) == (422, "email")
    assert call("POST", f"/pacts/{pact_id}/decline", email=ANN, now=START).status == 409  # nothing for her to decline
    assert call("POST", f"/pacts/{pact_id}/accept", email=BOB, now=START).status == 200
    assert call("POST", f"/pacts/{pact_id}/resend-invitation", email=ANN, now=START).status == 409
    assert call("POST", f"/pacts/{pact_id}/decline", email=BOB, now=START).status == 409  # accepted: leaving is DELETE
    # An outside colleague by phone has no invitation at all
    outside = call("POST", "/pacts", email=ANN, body={"colleague": {"name": "Evelyn", "phone": "+353851111111"}}, now=START).json()
    assert outside["invitation"] is None
    assert call("POST", f"/pacts/{outside['id']}/resend-invitation", email=ANN, now=START).status == 409


def test_a_failed_invitation_email_is_retried_not_lost_and_names_nobody(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from shared.adapters.mail import Mailer

    signup(ANN, "Ann", START)
    invite(ANN, JEN, START)
    [event] = world.events("InvitationSent")
    real, attempts = Mailer.send, {"n": 0}

    def flaky(self: Mailer, to: str, *args: Any, **kwargs: Any) -> str:
        attempts["n"] += 1
        if attempts["n"] == 1:
            raise RuntimeError(f"Throttling: sending to {to}")
        return real(self, to, *args, **kwargs)

    monkeypatch.setattr(Mailer, "send", flaky)
    with pytest.raises(InvitationNotSent) as failure:
        world.notify(event)
    assert "@" not in str(failure.value)  # the provider's message may name the address: it goes nowhere
    # EventBridge's retry delivers the same event again: one email in the end, and only one
    assert world.notify(event)["outcome"] == "sent"
    assert world.notify(event)["outcome"] == "recently-emailed"
    assert [m.to for m in world.mails()] == [JEN]


def test_an_invitation_event_after_the_end_of_the_invitation_sends_nothing(world: World) -> None:
    signup(ANN, "Ann", START)
    expired_id = invite(ANN, JEN, START).json()["id"]
    withdrawn_id = invite(ANN, CARA, START).json()["id"]
    late, withdrawn = world.events("InvitationSent")
    assert call("DELETE", f"/pacts/{withdrawn_id}", email=ANN, now=START).status == 204
    assert world.notify(withdrawn)["outcome"] == "gone"  # the pact went with the withdrawal
    assert world.notify({**late, "time": (START + timedelta(days=31)).isoformat()})["outcome"] == "expired"
    assert world.mails() == []
    assert call("GET", f"/pacts/{expired_id}", email=ANN, now=START + timedelta(days=31)).json()["invitation"]["state"] == "expired"


def test_a_long_history_before_the_acceptance_all_reaches_the_new_member(world: World) -> None:
    # GIVEN Ann recorded 120 daily check-ins with Jen before Jen joined (more than one transaction holds)
    signup(ANN, "Ann", START)
    begun = START - timedelta(days=130)
    pact_id = call("POST", "/pacts", email=ANN, body={"colleague": {"email": JEN}, "starts_at": begun.isoformat()}, now=START).json()["id"]
    for day in range(120):
        moment = begun + timedelta(days=day, hours=1)
        assert call("POST", f"/pacts/{pact_id}/check-ins", email=ANN, body={"occurred_at": moment.isoformat()}, now=START).status == 201
    # WHEN Jen signs up and accepts
    signup(JEN, "Jen", START)
    assert call("POST", f"/pacts/{pact_id}/accept", email=JEN, now=START).status == 200
    # THEN her own history holds all 120, the same as the pact's
    mine, cursor = [], None
    while True:
        page = call("GET", "/check-ins?limit=100" + (f"&next={cursor}" if cursor else ""), email=JEN, now=START).json()
        mine += page["items"]
        cursor = page["next"]
        if not cursor:
            break
    assert len(mine) == 120
    assert {c["id"] for c in mine} == {f"{pact_id}.{(begun + timedelta(days=d, hours=1)):%Y%m%dT%H%M}" for d in range(120)}
    assert not any(c["recorded_by_me"] or c["note"] for c in mine)


def test_the_invitation_page_after_the_invitee_accepted_says_it_is_closed(world: World) -> None:
    signup(ANN, "Ann", START)
    signup(BOB, "Bob", START)
    pact_id = invite(ANN, BOB, START).json()["id"]
    world.deliver_invitations()
    page = invitation_links(world.mails(BOB)[0]).page
    assert call("GET", page, email=None, now=START).status == 200
    assert call("POST", f"/pacts/{pact_id}/accept", email=BOB, now=START).status == 200
    closed = call("GET", page, email=None, now=START)
    assert closed.status == 410
    assert b"no longer open" in closed.body


def test_a_rejected_address_is_never_invited_by_email_again(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.exceptions import ClientError

    from shared.adapters.mail import Mailer

    signup(ANN, "Ann", START)
    signup(BOB, "Bob", START)
    invite(ANN, JEN, START)

    def rejected(self: Mailer, to: str, *args: Any, **kwargs: Any) -> str:
        raise ClientError({"Error": {"Code": "MessageRejected", "Message": f"Address blacklisted: {to}"}}, "SendEmail")

    monkeypatch.setattr(Mailer, "send", rejected)
    assert world.deliver_invitations() == ["rejected"]  # not retried: the address itself is refused
    monkeypatch.undo()
    # A week later Bob invites the same address: the same 201, and no email at all
    later = START + timedelta(days=8)
    assert invite(BOB, JEN, later).status == 201
    assert world.deliver_invitations() == ["suppressed"]
    assert world.mails() == []


def test_a_claim_left_by_a_crash_is_retaken_after_its_lease_not_after_a_week(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from functions.notify import app
    from shared.adapters.mail import Mailer
    from shared.invitations.emails import InvitationMail, send_invitation_email

    signup(ANN, "Ann", START)
    pact_id = invite(ANN, JEN, START).json()["id"]
    wall = [datetime(2026, 12, 1, 12, tzinfo=UTC)]

    class Crash(BaseException):  # the function dies between the claim and SES's answer
        pass

    def crash(self: Mailer, *args: Any, **kwargs: Any) -> str:
        raise Crash

    mail = InvitationMail(app._mailer(), "https://peer.test", clock=lambda: wall[0])
    monkeypatch.setattr(Mailer, "send", crash)
    with pytest.raises(Crash):
        send_invitation_email(pact_id, app_member(ANN), START, mail)
    monkeypatch.undo()
    # A redelivery within the lease sends nothing (the first attempt may still be on its way)
    wall[0] += timedelta(minutes=5)
    assert send_invitation_email(pact_id, app_member(ANN), START, mail) == "recently-emailed"
    # After the lease, the redelivery sends the one email
    wall[0] += timedelta(minutes=15)
    assert send_invitation_email(pact_id, app_member(ANN), START, mail) == "sent"
    assert [m.to for m in world.mails()] == [JEN]


def app_member(email: str) -> str:
    from infra.local.auth import member_sub

    return member_sub(email)


def test_saying_yes_after_the_first_slot_starts_the_pact_then_and_tells_nobody_it_lapsed(world: World) -> None:
    # GIVEN Ann (Dublin) invites Bob, who has no account, to Tuesdays 08:30: the first one Tuesday 12 January
    signup(ANN, "Ann", START)
    created = invite(ANN, BOB, START, rhythm={"weekday": "tuesday", "time": "08:30"}, mode="phone")
    assert created.status == 201, created.body
    pact_id = created.json()["id"]
    assert created.json()["next_due_at"] == "2027-01-12T08:30:00Z"
    assert world.deliver_invitations() == ["sent"]
    assert "First one:  Tuesday 12 January at 08:30" in world.mails(BOB)[0].text
    # WHEN that Tuesday passes unanswered, Ann re-sends it on Thursday 14th
    thursday = datetime(2027, 1, 14, 9, tzinfo=UTC)
    assert call("POST", f"/pacts/{pact_id}/resend-invitation", email=ANN, now=thursday).status == 200
    assert world.deliver_invitations() == ["sent"]
    # THEN the new email offers the next Tuesday, not the one that has passed
    assert "First one:  Tuesday 19 January at 08:30" in world.mails(BOB)[-1].text
    # WHEN Bob signs up on Friday 15th: his invitation is not "lapsed" before he has said yes
    friday = datetime(2027, 1, 15, 12, tzinfo=UTC)
    signup(BOB, "Bob", friday)
    waiting = call("GET", f"/pacts/{pact_id}", email=BOB, now=friday).json()
    assert (waiting["state"], waiting["status"], waiting["next_due_at"]) == ("invited", "on_track", "2027-01-19T08:30:00Z")
    # AND he accepts: the pact starts now for both, its first check-in the coming Tuesday
    accepted = call("POST", f"/pacts/{pact_id}/accept", email=BOB, now=friday)
    assert accepted.status == 200, accepted.body
    assert (accepted.json()["status"], accepted.json()["next_due_at"]) == ("on_track", "2027-01-19T08:30:00Z")
    ann_view = call("GET", f"/pacts/{pact_id}", email=ANN, now=friday).json()
    expected = ("on_track", "2027-01-19T08:30:00Z", "2027-01-15T12:00:00Z")
    assert (ann_view["status"], ann_view["next_due_at"], ann_view["starts_at"]) == expected
    # AND the next days' sweeps tell neither of them to catch up before that first Tuesday has come and gone
    sent = world.ticks(every(friday + timedelta(hours=6), datetime(2027, 1, 19, 12, tzinfo=UTC), timedelta(hours=6)))
    assert not [m for _, m in sent if isinstance(m, Mail) and "catch up" in m.subject.lower()], [m for _, m in sent]


def test_the_inviter_of_someone_who_never_answered_is_not_told_they_last_talked(world: World) -> None:
    # Found trying it: Ann's nudge about Sile, who never answered her invitation, said "since you and Sile last
    # talked". It is still her pact (she may call Sile all the same), so the nudge comes, saying how things stand.
    signup(ANN, "Ann", START)
    pact_id = invite(ANN, "sile@example.org", START, name="Sile", rhythm={"every_days": 7}, mode="video").json()["id"]
    assert world.deliver_invitations() == ["sent"]
    sent = world.ticks(every(START, START + timedelta(days=40), timedelta(hours=12)))
    nudges = [(at, m) for at, m in sent if isinstance(m, Mail) and m.to == ANN and "catch up with Sile" in m.subject]
    assert [m.subject for _, m in nudges] == ["Time to catch up with Sile?", "A gentle reminder: time to catch up with Sile"]
    first, second = (m for _, m in nudges)
    assert "It is time for a first check-in with Sile." in first.text
    assert "Sile has not answered your invitation (open until Thursday 4 February)." in first.text
    assert "last talked" not in first.text + first.html
    assert "A gentle second note: it is time for a first check-in with Sile." in second.text
    assert nudges[1][0] < START + timedelta(days=30)  # the reminder came while the invitation was open
    assert "expired" not in second.text
    # Once it has expired (30 days), the line says so: as a nudge would put it on day 31
    later = START + timedelta(days=31)
    assert call("GET", f"/pacts/{pact_id}", email=ANN, now=later).json()["invitation"]["state"] == "expired"
    view = PactView.get(*PactView.key(pact_id, member_sub(ANN)))
    line = pact_line(view, later, ZoneInfo("Europe/Dublin"))
    assert line == "No check-in recorded yet; your invitation to Sile expired: you can send it again in the app."


def test_a_start_dated_back_is_kept_and_calls_before_a_restart_can_still_be_recorded(world: World) -> None:
    signup(ANN, "Ann", START)
    signup(BOB, "Bob", START)
    signup(CARA, "Cara", START)
    # Ann dates a pact with Bob back on purpose ("we have talked on Tuesdays since December"): kept as she gave it
    began = "2026-12-01T08:30:00Z"
    back = invite(ANN, BOB, START, rhythm={"weekday": "tuesday", "time": "08:30"}, starts_at=began).json()["id"]
    friday = datetime(2027, 1, 15, 12, tzinfo=UTC)
    assert call("POST", f"/pacts/{back}/accept", email=BOB, now=friday).json()["starts_at"] == began
    # A pact restarted when Cara said yes: the call they had while it waited can still be recorded
    waited = invite(ANN, CARA, START, rhythm={"weekday": "tuesday", "time": "08:30"}).json()["id"]
    assert call("POST", f"/pacts/{waited}/accept", email=CARA, now=friday).json()["starts_at"] == "2027-01-15T12:00:00Z"
    talked = call("POST", f"/pacts/{waited}/check-ins", email=ANN, body={"occurred_at": "2027-01-12T08:30:00Z"}, now=friday)
    assert talked.status == 201, talked.body
    before = call("POST", f"/pacts/{waited}/check-ins", email=ANN, body={"occurred_at": "2027-01-05T08:00:00Z"}, now=friday)
    assert (before.status, before.json()["field"]) == (422, "occurred_at")  # before it was even proposed


def test_a_second_open_pact_with_the_same_colleague_is_a_409_that_points_at_the_first(world: World) -> None:
    # Found trying it: Ann invited Bob twice (she had forgotten the first); both went through, two emails' worth of
    # pacts with one colleague, nudged as two. One open pact a colleague: change its rhythm instead.
    signup(ANN, "Ann", START)
    signup(BOB, "Bob", START)
    first = invite(ANN, BOB, START, rhythm={"weekday": "tuesday", "time": "08:30"})
    again = invite(ANN, BOB.upper(), START)  # the same address, typed otherwise
    assert again.status == 409, again.body
    assert first.json()["id"] in again.json()["detail"]
    # Nor when she types the address of someone who invited her: she can accept theirs
    signup(CARA, "Cara", START)
    assert invite(CARA, ANN, START).status == 201
    back = invite(ANN, CARA, START)
    assert back.status == 409
    assert "accept" in back.json()["detail"]
    # An invitation to her that has expired does not stand in the way (she could no longer accept it)
    signup(DORA, "Dora", START)
    assert invite(DORA, ANN, START).status == 201
    assert invite(ANN, DORA, START + timedelta(days=31)).status == 201
    # Accepted or not, still one: and once it has ended, a new one is welcome
    assert call("POST", f"/pacts/{first.json()['id']}/accept", email=BOB, now=START).status == 200
    assert invite(ANN, BOB, START).status == 409
    assert invite(BOB, ANN, START).status == 409
    assert call("POST", f"/pacts/{first.json()['id']}/end", email=BOB, now=START).status == 200
    assert invite(ANN, BOB, START).status == 201
    # An outside colleague by name and phone has no address to compare: Ann may have two Jennifers
    for _ in range(2):
        assert (
            call("POST", "/pacts", email=ANN, body={"colleague": {"name": "Jennifer", "phone": "+353851234567"}}, now=START).status == 201
        )
