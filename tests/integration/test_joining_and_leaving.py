"""Joining and leaving, from every side: the inviter, the invited non-member who signs up later, the invited
member, the colleague who stays, and the one who never answers. Everything through the deployed handlers on
moto: the API, the bus's own InvitationSent events handed to NotifyFunction, the link pages, SES and SNS, and
the nudge and SMS sweeps run on a schedule for a month.

Times: START is Tuesday 5 January 2027, 09:00 UTC (Dublin is UTC in winter). A weekly pact on Tuesdays at
08:30 has its first slot on Tuesday 12 January (the check-in text goes at 09:05) and lapses on Thursday
14 January at 08:30 (the first nudge goes at the nudge hour, 09:00).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from infra.lambdas import invoke
from infra.local.auth import member_sub
from tests.helpers import call
from tests.integration.invite_harness import (
    World,
    address_hash,
    check_in_link,
    due_index_entries,
    every,
    holding,
    invitation_links,
    invite,
    is_outbox,
    mutual_pact,
    of_kind,
    press,
    raw_view,
    signup,
    table_items,
)
from tests.integration.nudge_harness import Mail

ANN, BOB, JEN, EVE, KIM = "ann@example.org", "bob@example.org", "jen@example.org", "eve@example.org", "kim@example.org"
ANN_PHONE, BOB_PHONE, JEN_PHONE, CAROL_PHONE = "+353851234567", "+353851234568", "+353851234569", "+353852222222"
START = datetime(2027, 1, 5, 9, tzinfo=UTC)  # a Tuesday
WEEKLY: dict[str, Any] = {"rhythm": {"weekday": "tuesday", "time": "08:30"}}
WITH_SMS: dict[str, Any] = {"notifications": {"channels": ["email", "sms"]}}
INVITATION_SUBJECT = "Ann would like to keep in regular touch with you"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def ses_notification(kind: str, address: str) -> dict[str, Any]:
    """An SES bounce (permanent) or complaint about `address`, as SNS delivers it to SuppressionFunction."""
    notification = json.loads((Path(__file__).parent.parent / "events" / "ses_bounce_sns.json").read_text())
    message = json.loads(notification["Records"][0]["Sns"]["Message"])
    if kind == "bounce":
        message["bounce"]["bouncedRecipients"][0]["emailAddress"] = address
        message["mail"]["destination"] = [address]
    else:
        message = {"eventType": "Complaint", "complaint": {"complainedRecipients": [{"emailAddress": address}]}}
    notification["Records"][0]["Sns"]["Message"] = json.dumps(message)
    return dict(notification)


def digest_links(mail: Mail, colleague: str) -> dict[str, str]:
    """The one-tap links of one pact in a nudge digest (each pact has its block: name, then three links)."""
    block = re.search(
        rf"\* {re.escape(colleague)}: .*?\n\s+We talked:\s+https://peer\.test(\S+)\n\s+Snooze a week:\s+https://peer\.test(\S+)\n"
        r"\s+Pause this pact:\s+https://peer\.test(\S+)",
        mail.text,
    )
    assert block, mail.text
    return {"check_in": block.group(1), "snooze": block.group(2), "pause": block.group(3)}


def texts_about(texts: list[tuple[str, str]], name: str) -> list[tuple[str, str]]:
    return [t for t in texts if f"Did you talk with {name} today?" in t[1]]


def mentions(mail: Mail, text: str) -> bool:
    return text in mail.subject or text in mail.text or text in mail.html


# ====================================================================== the inviter


def test_an_invitation_by_email_keeps_the_address_on_the_invitation_alone(world: World, aws: dict[str, Any]) -> None:
    # GIVEN Ann, a member
    signup(ANN, "Ann", START)
    # WHEN she proposes check-ins to an address that belongs to nobody yet
    reply = invite(ANN, JEN, START, **WEEKLY)
    # THEN the answer carries the open invitation and its 30 days
    assert reply.status == 201, reply.body
    body = reply.json()
    pact_id = body["id"]
    assert body["state"] == "active"
    assert body["invitation"] == {"state": "pending", "expires_at": "2027-02-04T09:00:00Z"}
    assert body["colleague"] == {"member_id": None, "name": "jen", "email": JEN, "phone": None}
    # AND the address is kept on one item only: the invitation, under the SHA-256 of the address
    key = address_hash(JEN)
    [invitation] = of_kind(aws, "invitation")
    assert (invitation["pk"]["S"], invitation["sk"]["S"]) == (f"INVITE#{key}", f"PACT#{pact_id}")
    assert invitation["email"]["S"] == JEN
    assert invitation["valid_until"]["S"].startswith("2027-02-04T09:00:00")
    assert int(invitation["expires_at"]["N"]) == int(at("2027-02-04T09:00:00").timestamp())  # the TTL
    assert holding(aws, JEN) == {(f"INVITE#{key}", f"PACT#{pact_id}")}
    # AND the owner's view points at it
    view = raw_view(aws, pact_id, member_sub(ANN))
    assert view is not None
    assert view["invite_key"]["S"] == key
    assert view["invitation_state"]["S"] == "pending"
    assert view["invitation_expires_at"]["S"].startswith("2027-02-04T09:00:00")
    # AND the bus hears of it with ids only
    sent = world.events("InvitationSent")
    assert [e["detail"].pop("event_id") != "" for e in sent] == [True]  # each event has its own id, for consumers to dedupe
    assert [e["detail"] for e in sent] == [
        {"occurred_at": "2027-01-05T09:00:00+00:00", "pact_id": pact_id, "owner_id": member_sub(ANN), "resent": False}
    ]
    assert "jen" not in json.dumps(world.events()).lower()
    # AND the owner sees it as pending, with the address she typed
    shown = call("GET", f"/pacts/{pact_id}", email=ANN, now=START + timedelta(days=1)).json()
    assert shown["invitation"] == {"state": "pending", "expires_at": "2027-02-04T09:00:00Z"}
    assert shown["colleague"]["email"] == JEN


def test_the_answer_is_the_same_for_a_members_a_strangers_a_suppressed_or_an_already_invited_address(
    world: World, aws: dict[str, Any], aws_calls: Counter[str]
) -> None:
    # GIVEN four addresses with the same local part: a member's, nobody's, one that bounced, one Eve invited already
    member_address, nobody, bounced, invited = "jen@member.example", "jen@nobody.example", "jen@bounced.example", "jen@invited.example"
    signup(ANN, "Ann", START)
    signup(EVE, "Eve", START)
    signup(member_address, "Jennifer", START)
    assert invoke("SuppressionFunction", ses_notification("bounce", bounced)) == {"suppressed": 0}  # nobody's profile to mark
    assert invite(EVE, invited, START).status == 201
    assert world.deliver_invitations() == ["sent"]
    # WHEN Ann invites each of them at the same moment
    moment = START + timedelta(hours=1)
    replies, calls = {}, {}
    for address in (member_address, nobody, bounced, invited):
        aws_calls.clear()
        replies[address] = invite(ANN, address, moment, **WEEKLY)
        calls[address] = Counter(aws_calls)
    # THEN every answer is the same 201, apart from the id and the address itself
    shapes = []
    for address, reply in replies.items():
        assert reply.status == 201, reply.body
        body = reply.json()
        assert reply.headers["location"] == f"/pacts/{body['id']}"
        assert body["colleague"]["email"] == address
        del body["id"]
        del body["colleague"]["email"]
        shapes.append((reply.status, sorted(reply.headers), body))
    assert all(shape == shapes[0] for shape in shapes), shapes
    assert shapes[0][2]["colleague"] == {"member_id": None, "name": "jen", "phone": None}
    # AND the same AWS calls were made for each (nothing to tell them apart by, not even the work done)
    assert all(c == calls[nobody] for c in calls.values()), calls
    # AND what happens next differs only out of sight: the member sees it at once; emails go where they may
    listed = call("GET", "/pacts", email=member_address, now=moment).json()["items"]
    assert [(p["state"], p["colleague"]["name"]) for p in listed] == [("invited", "Ann")]
    assert world.deliver_invitations() == ["sent", "sent", "suppressed", "recently-emailed"]
    assert sorted(m.to for m in world.mails() if m.subject == INVITATION_SUBJECT) == [member_address, nobody]


def test_the_21st_invitation_of_a_utc_day_is_a_429_with_retry_after_and_writes_nothing(world: World, aws: dict[str, Any]) -> None:
    signup(ANN, "Ann", START)
    moment = at("2027-01-05T15:30:00")  # 8.5 hours before midnight UTC
    # GIVEN 19 invitations and one re-sent invitation today: 20, the day's limit
    first = None
    for number in range(19):
        reply = invite(ANN, f"colleague{number}@example.org", moment)
        assert reply.status == 201, (number, reply.body)
        first = first or reply.json()["id"]
    assert call("POST", f"/pacts/{first}/resend-invitation", email=ANN, now=moment).status == 200
    signup(BOB, "Bob", START)
    seen = len(world.events())
    before = sorted(map(str, table_items(aws)))
    # WHEN she invites a 21st colleague (a member's address or not)
    for address in ("colleague19@example.org", BOB):
        refused = invite(ANN, address, moment)
        # THEN it is a 429 problem saying when to try again (at midnight UTC)
        assert refused.status == 429, refused.body
        assert refused.headers["retry-after"] == str(int(timedelta(hours=8, minutes=30).total_seconds()))
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["status"] == 429
        assert refused.json()["retry_after"] == 30600
    # AND re-sending counts too
    again = call("POST", f"/pacts/{first}/resend-invitation", email=ANN, now=moment)
    assert again.status == 429
    assert again.headers["retry-after"] == "30600"
    # AND nothing at all was written: no pact, no invitation, no invited view, no event
    assert sorted(map(str, table_items(aws))) == before
    assert len(call("GET", "/pacts?limit=100", email=ANN, now=moment).json()["items"]) == 19
    assert call("GET", "/pacts", email=BOB, now=moment).json()["items"] == []
    assert world.events()[seen:] == []
    assert [e["detail-type"] for e in world.log].count("InvitationSent") == 20
    # AND the next UTC day she may invite again
    assert invite(ANN, "colleague19@example.org", at("2027-01-06T00:00:00")).status == 201


def test_withdrawing_a_pending_invitation_removes_it_everywhere(world: World, aws: dict[str, Any]) -> None:
    # GIVEN Ann invited Bob (a member) and Jen (nobody yet); both got the invitation email
    signup(ANN, "Ann", START)
    signup(BOB, "Bob", START)
    to_bob = invite(ANN, BOB, START, **WEEKLY).json()["id"]
    to_jen = invite(ANN, JEN, START, **WEEKLY).json()["id"]
    assert world.deliver_invitations() == ["sent", "sent"]
    pages = {m.to: invitation_links(m).page for m in world.mails()}
    later = START + timedelta(days=1)
    opened = {who: call("GET", url, email=None, now=later) for who, url in pages.items()}
    assert {who: page.status for who, page in opened.items()} == {BOB: 200, JEN: 200}
    # WHEN Ann deletes both pacts
    for pact_id in (to_bob, to_jen):
        assert call("DELETE", f"/pacts/{pact_id}", email=ANN, now=later).status == 204
    # THEN Bob's invited view and both invitations are gone, and no address is left in clear
    assert call("GET", "/pacts", email=BOB, now=later).json()["items"] == []
    assert call("POST", f"/pacts/{to_bob}/accept", email=BOB, now=later).status == 404
    assert of_kind(aws, "invitation") == []
    assert holding(aws, JEN) == set()
    assert holding(aws, BOB) == {(f"MEMBER#{member_sub(BOB)}", "PROFILE"), (f"EMAIL#{BOB}", "EMAIL")}
    # AND the invitation pages say it is no longer open; declining there now changes nothing
    for who, url in pages.items():
        page = call("GET", url, email=None, now=later)
        assert page.status == 410
        assert b"This invitation is no longer open" in page.body
        assert b"Ann" not in page.body
        assert press(url, opened[who], "decline", later).status == 410
    assert world.events("InvitationDeclined") == []
    # AND Jen, signing up later, finds nothing waiting
    signup(JEN, "Jen", later)
    assert call("GET", "/pacts", email=JEN, now=later).json()["items"] == []


def test_an_expired_invitation_is_410_to_accept_and_can_be_sent_again(world: World, aws: dict[str, Any]) -> None:
    # GIVEN Ann invited Jen, who signed up two days later but did not answer
    signup(ANN, "Ann", START)
    pact_id = invite(ANN, JEN, START, **WEEKLY).json()["id"]
    assert world.deliver_invitations() == ["sent"]
    signup(JEN, "Jen", START + timedelta(days=2))
    assert call("GET", "/pacts", email=JEN, now=START + timedelta(days=2)).json()["items"][0]["invitation"]["state"] == "pending"
    # WHEN 30 days have passed
    expired = START + timedelta(days=30)
    # THEN both see it expired, and accepting is 410
    owner = call("GET", f"/pacts/{pact_id}", email=ANN, now=expired).json()
    assert owner["invitation"] == {"state": "expired", "expires_at": "2027-02-04T09:00:00Z"}
    assert call("GET", f"/pacts/{pact_id}", email=JEN, now=expired).json()["invitation"]["state"] == "expired"
    late = call("POST", f"/pacts/{pact_id}/accept", email=JEN, now=expired)
    assert late.status == 410
    assert late.json()["status"] == 410
    assert call("GET", f"/pacts/{pact_id}", email=JEN, now=expired).json()["state"] == "invited"
    # WHEN Ann sends it again
    resent = call("POST", f"/pacts/{pact_id}/resend-invitation", email=ANN, now=expired + timedelta(hours=1))
    assert resent.status == 200, resent.body
    assert resent.json()["invitation"] == {"state": "pending", "expires_at": "2027-03-06T10:00:00Z"}
    # THEN a second email goes (the first was more than 7 days ago), with a fresh invitation page
    assert world.deliver_invitations() == ["sent"]
    emails = [m for m in world.mails(JEN) if m.subject == INVITATION_SUBJECT]
    assert len(emails) == 2
    assert call("GET", invitation_links(emails[1]).page, email=None, now=expired + timedelta(hours=2)).status == 200
    assert [e["detail"]["resent"] for e in world.events("InvitationSent")] == [False, True]
    # AND Jen can accept now
    accepted = call("POST", f"/pacts/{pact_id}/accept", email=JEN, now=expired + timedelta(hours=2))
    assert accepted.status == 200, accepted.body
    assert (accepted.json()["state"], accepted.json()["mutual"]) == ("active", True)
    assert of_kind(aws, "invitation") == []


def test_a_resend_to_a_corrected_address_moves_the_invitation(world: World, aws: dict[str, Any]) -> None:
    typo = "jen@exmaple.org"
    signup(ANN, "Ann", START)
    pact_id = invite(ANN, typo, START, name="Jennifer", **WEEKLY).json()["id"]
    assert world.deliver_invitations() == ["sent"]
    old_page = invitation_links(world.mails(typo)[0]).page
    # WHEN Ann corrects the address the next day
    moment = START + timedelta(days=1)
    resent = call("POST", f"/pacts/{pact_id}/resend-invitation", email=ANN, body={"email": JEN}, now=moment)
    assert resent.status == 200, resent.body
    assert resent.json()["colleague"] == {"member_id": None, "name": "Jennifer", "email": JEN, "phone": None}
    # THEN the new address gets its email (its own 7-day allowance), the old one is forgotten
    assert world.deliver_invitations() == ["sent"]
    assert [m.subject for m in world.mails(JEN)] == [INVITATION_SUBJECT]
    assert holding(aws, typo) == set()
    assert call("GET", old_page, email=None, now=moment).status == 410
    # AND sending it again the next day counts, but no email goes within the 7 days
    again = call("POST", f"/pacts/{pact_id}/resend-invitation", email=ANN, now=moment + timedelta(days=1))
    assert again.status == 200
    assert world.deliver_invitations() == ["recently-emailed"]
    assert len(world.mails(JEN)) == 1
    # AND Jen finds it when she signs up
    signup(JEN, "Jen", moment + timedelta(days=2))
    assert call("POST", f"/pacts/{pact_id}/accept", email=JEN, now=moment + timedelta(days=2)).status == 200


def test_a_declined_invitation_ends_the_owners_view_with_one_notice_at_her_nudge_hour(world: World, aws: dict[str, Any]) -> None:
    # GIVEN Ann (nudge hour 09:00 Dublin) invited Bob, a member, whom she named Robert
    signup(ANN, "Ann", START)
    signup(BOB, "Bob", START)
    pact_id = invite(ANN, BOB, START, name="Robert", **WEEKLY).json()["id"]
    # WHEN Bob declines on Tuesday evening
    evening = at("2027-01-05T21:00:00")
    assert call("POST", f"/pacts/{pact_id}/decline", email=BOB, now=evening).status == 204
    # THEN Ann's view has ended, declined, and Bob has nothing left of it
    view = call("GET", f"/pacts/{pact_id}", email=ANN, now=evening).json()
    assert (view["state"], view["status"], view["ended_reason"]) == ("ended", "ended", "declined")
    assert view["ended_at"] == "2027-01-05T21:00:00Z"
    assert view["invitation"] == {"state": "declined", "expires_at": None}
    assert view["colleague"]["member_id"] is None
    assert call("GET", "/pacts", email=BOB, now=evening).json()["items"] == []
    assert of_kind(aws, "invitation") == []
    assert holding(aws, BOB) == {(f"MEMBER#{member_sub(BOB)}", "PROFILE"), (f"EMAIL#{BOB}", "EMAIL")}
    assert {e["detail"]["pact_id"]: (e["detail"]["member_id"], e["detail"]["owner_id"]) for e in world.events("InvitationDeclined")} == {
        pact_id: (member_sub(BOB), member_sub(ANN))
    }
    assert call("POST", f"/pacts/{pact_id}/check-ins", email=ANN, body={}, now=evening).status == 409
    assert call("POST", f"/pacts/{pact_id}/resend-invitation", email=ANN, now=evening).status == 409
    # AND Ann hears it once, kindly, at her nudge hour the next morning, and nothing more about it after
    sent = world.ticks(every(evening, at("2027-01-06T12:00:00"), timedelta(hours=1)))
    assert [(moment, m.to, m.subject) for moment, m in sent if isinstance(m, Mail)] == [
        (at("2027-01-06T09:00:00"), ANN, "Robert won't be joining the check-ins you proposed")
    ]
    notice = next(m for _, m in sent if isinstance(m, Mail))
    assert "Hello Ann" in notice.text
    assert "won't be taking up the regular check-ins you proposed" in notice.html
    later = world.ticks(every(at("2027-01-06T15:00:00"), at("2027-01-20T15:00:00"), timedelta(hours=3)))
    assert later == []  # the pact would have lapsed on the 14th: no nudge, no reminder
    assert due_index_entries(aws, "nudge_due", pact_id) == []


# ====================================================================== the invited non-member


def test_one_invitation_email_even_when_the_event_is_delivered_twice(world: World) -> None:
    signup(ANN, "Ann", START)
    invite(ANN, JEN, START, **WEEKLY)
    [event] = world.events("InvitationSent")
    # WHEN EventBridge delivers the same InvitationSent twice
    assert world.notify(event) == {"sent": 1, "outcome": "sent"}
    assert world.notify(event) == {"sent": 0, "outcome": "recently-emailed"}
    # THEN Jen has exactly one email: text and HTML, one-click unsubscribe headers, the page and the stop link
    [mail] = world.mails(JEN)
    assert mail.subject == INVITATION_SUBJECT
    links = invitation_links(mail)
    assert mail.text
    assert mail.html
    for body in (mail.text, mail.html):
        assert f"https://peer.test{links.page}" in body
        assert f"https://peer.test{links.stop}" in body
    assert "Tuesdays 08:30" in mail.text
    assert "Thursday 4 February" in mail.text  # how long it waits
    assert mail.headers["List-Unsubscribe"] == f"<https://peer.test{links.stop}>, <mailto:nudges@example.org?subject=unsubscribe>"
    assert mail.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # AND the invitation page shows what is proposed, and who proposes it, without an account
    page = call("GET", links.page, email=None, now=START + timedelta(hours=1))
    assert page.status == 200
    assert b"Ann invites you to regular check-ins" in page.body
    assert b"Tuesdays 08:30" in page.body
    assert b'value="decline"' in page.body
    stop = call("GET", links.stop, email=None, now=START + timedelta(hours=1))
    assert stop.status == 200
    assert b"Don&#x27;t email me again" in stop.body


def test_a_non_member_who_signs_up_later_finds_the_invitation_and_accepts_it_with_its_history(world: World, aws: dict[str, Any]) -> None:
    # GIVEN Ann invited Jen (not a member) and recorded their first call, with a private note
    signup(ANN, "Ann", START)
    pact_id = invite(ANN, JEN, START, **WEEKLY).json()["id"]
    first_call = at("2027-01-12T08:45:00")
    recorded = call("POST", f"/pacts/{pact_id}/check-ins", email=ANN, body={"note": "ANN-PRIVATE-NOTE"}, now=first_call)
    assert recorded.status == 201, recorded.body
    # WHEN Jen creates her profile with the invited (verified) address
    joined = at("2027-01-13T10:00:00")
    signup(JEN, "Jen", joined)
    # THEN the invitation waits in her list, to accept or decline
    [listed] = call("GET", "/pacts", email=JEN, now=joined).json()["items"]
    assert (listed["id"], listed["state"], listed["role"], listed["mutual"]) == (pact_id, "invited", "colleague", False)
    assert listed["invitation"] == {"state": "pending", "expires_at": "2027-02-04T09:00:00Z"}
    assert listed["colleague"] == {"member_id": member_sub(ANN), "name": "Ann", "email": ANN, "phone": None}
    assert call("POST", f"/pacts/{pact_id}/check-ins", email=JEN, body={}, now=joined).status == 409
    claimed = world.events("InvitationsClaimed")
    assert [e["detail"]["pact_ids"] for e in claimed] == [[pact_id]]
    # WHEN she accepts
    accepted = call("POST", f"/pacts/{pact_id}/accept", email=JEN, now=joined)
    assert accepted.status == 200, accepted.body
    assert (accepted.json()["state"], accepted.json()["mutual"], accepted.json()["invitation"]) == ("active", True, None)
    # THEN the earlier check-in is in her own history too, without Ann's note
    mine = call("GET", "/check-ins", email=JEN, now=joined).json()["items"]
    assert [(c["pact_id"], c["occurred_at"], c["recorded_by_me"], c["note"]) for c in mine] == [
        (pact_id, "2027-01-12T08:45:00Z", False, None)
    ]
    assert "ANN-PRIVATE-NOTE" not in str(call("GET", f"/pacts/{pact_id}/check-ins", email=JEN, now=joined).json())
    # AND Ann now sees Jen by her own name
    owner = call("GET", f"/pacts/{pact_id}", email=ANN, now=joined).json()
    assert owner["colleague"] == {"member_id": member_sub(JEN), "name": "Jen", "email": JEN, "phone": None}
    assert (owner["mutual"], owner["invitation"]) == (True, None)
    # AND the invitation is gone: the address is only where any member's is (her profile, and her colleague's pact)
    assert of_kind(aws, "invitation") == []
    assert holding(aws, JEN) == {
        (f"MEMBER#{member_sub(JEN)}", "PROFILE"),
        (f"EMAIL#{JEN}", "EMAIL"),
        (f"PACT#{pact_id}", f"MEMBER#{member_sub(ANN)}"),
    }
    about_jen = {e["detail-type"] for e in world.events() if e["detail"].get("member_id") == member_sub(JEN)}
    assert about_jen == {"MemberProfileUpdated", "InvitationsClaimed", "PactAccepted", "InvitationAccepted"}
    assert call("POST", f"/pacts/{pact_id}/check-ins", email=JEN, body={}, now=joined).status == 201


def test_declining_from_the_invitation_page_without_an_account(world: World, aws: dict[str, Any]) -> None:
    signup(ANN, "Ann", START)
    pact_id = invite(ANN, JEN, START, name="Jennifer", **WEEKLY).json()["id"]
    assert world.deliver_invitations() == ["sent"]
    url = invitation_links(world.mails(JEN)[0]).page
    moment = START + timedelta(minutes=30)
    page = call("GET", url, email=None, now=moment)
    # WHEN Jen presses "No, thank you" on the page
    done = press(url, page, "decline", moment)
    # THEN she is thanked, and Ann's view has ended as declined
    assert done.status == 200
    assert b"Thank you for letting them know" in done.body
    view = call("GET", f"/pacts/{pact_id}", email=ANN, now=moment).json()
    assert (view["state"], view["ended_reason"], view["invitation"]["state"]) == ("ended", "declined", "declined")
    assert [(e["detail"]["member_id"], e["detail"]["owner_id"]) for e in world.events("InvitationDeclined")] == [(None, member_sub(ANN))]
    # AND her address is nowhere any more
    assert holding(aws, JEN) == set()
    # AND the page is closed now; a second press changes nothing
    again = call("GET", url, email=None, now=moment)
    assert (again.status, b"This invitation is no longer open" in again.body) == (410, True)
    assert press(url, page, "decline", moment).status == 410
    assert len(world.events("InvitationDeclined")) == 1
    # AND Ann gets one notice (it is within her nudge window)
    notices = world.ticks([moment + timedelta(minutes=15), moment + timedelta(hours=3)])
    assert [(m.to, m.subject) for _, m in notices if isinstance(m, Mail)] == [(ANN, "Jennifer won't be joining the check-ins you proposed")]
    # AND if Jen signs up after all, nothing waits for her
    signup(JEN, "Jen", moment + timedelta(days=1))
    assert call("GET", "/pacts", email=JEN, now=moment + timedelta(days=1)).json()["items"] == []


def test_dont_email_me_again_from_the_page_stops_every_later_invitation_email(world: World, aws: dict[str, Any]) -> None:
    signup(ANN, "Ann", START)
    signup(EVE, "Eve", START)
    invite(ANN, JEN, START)
    assert world.deliver_invitations() == ["sent"]
    stop = invitation_links(world.mails(JEN)[0]).stop
    moment = START + timedelta(hours=1)
    page = call("GET", stop, email=None, now=moment)
    assert b"Stop emails from Peer support?" in page.body
    # WHEN Jen presses "Don't email me again" (the POST carries the page's nonce)
    done = press(stop, page, "unsubscribe", moment)
    assert done.status == 200
    assert b"Done: we won&#x27;t email you again" in done.body
    # THEN the address is suppressed under its hash, never in clear
    [suppression] = of_kind(aws, "address_suppression")
    assert suppression["pk"]["S"] == f"ADDRESS#{address_hash(JEN)}"
    assert suppression["reason"]["S"] == "unsubscribed"
    assert (suppression["pk"]["S"], suppression["sk"]["S"]) not in holding(aws, JEN)
    # WHEN Eve invites her a week and a day later (past the 7-day allowance), alongside Kim
    later = START + timedelta(days=8)
    to_jen, to_kim = invite(EVE, JEN, later), invite(EVE, KIM, later)
    # THEN the answers look the same; only Kim gets an email
    assert (to_jen.status, to_kim.status) == (201, 201)
    assert {k: v for k, v in to_jen.json().items() if k not in ("id", "colleague")} == {
        k: v for k, v in to_kim.json().items() if k not in ("id", "colleague")
    }
    assert world.deliver_invitations() == ["suppressed", "sent"]
    assert [m.to for m in world.mails() if m.subject.endswith("would like to keep in regular touch with you")] == [JEN, KIM]
    # AND the invitation still exists: Jen finds it if she signs up
    signup(JEN, "Jen", later + timedelta(hours=1))
    names = sorted(p["colleague"]["name"] for p in call("GET", "/pacts", email=JEN, now=later + timedelta(hours=1)).json()["items"])
    assert names == ["Ann", "Eve"]


def test_one_click_unsubscribe_from_the_mail_client_suppresses_the_address(world: World) -> None:
    signup(ANN, "Ann", START)
    invite(ANN, JEN, START)
    assert world.deliver_invitations() == ["sent"]
    header = world.mails(JEN)[0].headers["List-Unsubscribe"]
    url = re.search(r"<https://peer\.test(/u/[\w-]+)>", header).group(1)  # type: ignore[union-attr]
    reply = call(
        "POST",
        url,
        email=None,
        now=START + timedelta(hours=1),
        headers={"content-type": "application/x-www-form-urlencoded"},
        body=b"List-Unsubscribe=One-Click",
    )
    assert reply.status == 200
    signup(BOB, "Bob", START)
    assert invite(BOB, JEN, START + timedelta(days=8)).status == 201  # whoever invites her next
    assert world.deliver_invitations() == ["suppressed"]
    assert len(world.mails(JEN)) == 1


@pytest.mark.parametrize("kind", ["bounce", "complaint"])
def test_a_bounce_or_complaint_through_suppression_function_stops_invitation_emails(world: World, kind: str) -> None:
    # GIVEN SES reported the address (in whatever case it was written)
    signup(ANN, "Ann", START)
    assert invoke("SuppressionFunction", ses_notification(kind, " Jen@Example.ORG")) == {"suppressed": 0}
    # WHEN Ann invites it
    reply = invite(ANN, JEN, START + timedelta(hours=1))
    # THEN she gets the usual 201, the invitation exists, and no email goes
    assert reply.status == 201
    assert reply.json()["invitation"]["state"] == "pending"
    assert world.deliver_invitations() == ["suppressed"]
    assert world.mails(JEN) == []


def test_one_invitation_email_per_address_per_seven_days_whoever_invites(world: World, aws: dict[str, Any]) -> None:
    signup(ANN, "Ann", START)
    signup(EVE, "Eve", START)
    signup(BOB, "Bob", START)
    from_ann = invite(ANN, JEN, START, **WEEKLY).json()["id"]
    assert world.deliver_invitations() == ["sent"]
    # WHEN Eve invites the same address two days later
    from_eve = invite(EVE, JEN, START + timedelta(days=2), **WEEKLY)
    # THEN her invitation exists, but no second email goes
    assert from_eve.status == 201
    assert world.deliver_invitations() == ["recently-emailed"]
    assert len(world.mails(JEN)) == 1
    assert len(of_kind(aws, "invitation")) == 2
    # AND when Jen signs up she finds both, and accepts Eve's
    joined = START + timedelta(days=3)
    signup(JEN, "Jen", joined)
    listed = {p["id"]: p["state"] for p in call("GET", "/pacts", email=JEN, now=joined).json()["items"]}
    assert listed == {from_ann: "invited", from_eve.json()["id"]: "invited"}
    accepted = call("POST", f"/pacts/{from_eve.json()['id']}/accept", email=JEN, now=joined)
    assert accepted.status == 200
    assert call("GET", f"/pacts/{from_eve.json()['id']}", email=EVE, now=joined).json()["colleague"]["name"] == "Jen"
    assert len(world.mails(JEN)) == 1
    # AND once the 7 days are over, another invitation is emailed again
    assert invite(BOB, JEN, START + timedelta(days=7, minutes=1)).status == 201
    assert world.deliver_invitations() == ["sent"]
    assert len(world.mails(JEN)) == 2


def test_a_hostile_inviter_name_is_escaped_in_the_invitation_email_and_page(world: World) -> None:
    hostile = '<script>alert("x")</script> & <b>Ann</b>'
    signup(ANN, hostile, START)
    invite(ANN, JEN, START)
    assert world.deliver_invitations() == ["sent"]
    [mail] = world.mails(JEN)
    assert mail.subject == f"{hostile} would like to keep in regular touch with you"  # a header, not markup
    assert "<script>" not in mail.html
    assert "<b>Ann</b>" not in mail.html
    assert "&lt;script&gt;" in mail.html
    assert "&amp; &lt;b&gt;Ann&lt;/b&gt;" in mail.html
    page = call("GET", invitation_links(mail).page, email=None, now=START + timedelta(hours=1))
    assert page.status == 200
    assert b"<script>" not in page.body
    assert b"&lt;script&gt;" in page.body


def test_private_notes_never_reach_an_invitation_or_a_notice(world: World) -> None:
    signup(ANN, "Ann", START)
    signup(BOB, "Bob", START)
    with_bob = mutual_pact(ANN, BOB, START, **WEEKLY)
    to_jen = invite(ANN, JEN, START, **WEEKLY).json()["id"]
    talked = at("2027-01-12T08:45:00")
    notes = ((with_bob, ANN, "ANN-NOTE-ON-BOB"), (with_bob, BOB, "BOB-NOTE-ON-ANN"), (to_jen, ANN, "ANN-NOTE-ON-JEN"))
    for minutes, (pact_id, who, note) in enumerate(notes):
        reply = call("POST", f"/pacts/{pact_id}/check-ins", email=who, body={"note": note}, now=talked + timedelta(minutes=minutes))
        assert reply.status == 201, reply.body
    # An invitation re-sent after notes were written, a decline, a leave: every email they cause
    resent = call("POST", f"/pacts/{to_jen}/resend-invitation", email=ANN, now=START + timedelta(days=8))
    assert resent.status == 200
    assert world.deliver_invitations() == ["not-open", "sent", "sent"]  # Bob had accepted before his was handled
    page_url = invitation_links(world.mails(JEN)[-1]).page
    moment = START + timedelta(days=8, hours=1)
    assert press(page_url, call("GET", page_url, email=None, now=moment), "decline", moment).status == 200
    assert call("DELETE", f"/pacts/{with_bob}", email=BOB, now=moment).status == 204
    world.ticks([moment + timedelta(hours=1)])
    mails = world.mails()
    subjects = sorted(m.subject for m in mails)
    assert subjects == sorted(
        [
            INVITATION_SUBJECT,  # to Jen
            INVITATION_SUBJECT,  # to Jen again, re-sent
            "jen won't be joining the check-ins you proposed",
            "Your regular check-ins with Bob have ended",
        ]
    )
    for mail in mails:
        assert "NOTE" not in mail.subject + mail.text + mail.html, mail.subject


# ====================================================================== the invited member


def test_an_invited_member_sees_the_invitation_at_once_and_accepts_it(world: World, aws: dict[str, Any]) -> None:
    signup(ANN, "Ann", START)
    signup(BOB, "Bob", START, phone=BOB_PHONE, **WITH_SMS)
    pact_id = invite(ANN, BOB, START, name="Robert", **WEEKLY).json()["id"]
    # THEN Bob sees it at once, as an invitation to him from Ann
    [listed] = call("GET", "/pacts", email=BOB, now=START).json()["items"]
    assert (listed["id"], listed["state"], listed["role"]) == (pact_id, "invited", "colleague")
    assert listed["colleague"] == {"member_id": member_sub(ANN), "name": "Ann", "email": ANN, "phone": None}
    assert listed["invitation"] == {"state": "pending", "expires_at": "2027-02-04T09:00:00Z"}
    # AND cannot use it before accepting
    assert call("POST", f"/pacts/{pact_id}/check-ins", email=BOB, body={}, now=START).status == 409
    # AND the address gets the one invitation email like any other
    assert world.deliver_invitations() == ["sent"]
    assert [m.subject for m in world.mails(BOB)] == [INVITATION_SUBJECT]
    # WHEN he accepts
    accepted = call("POST", f"/pacts/{pact_id}/accept", email=BOB, now=START + timedelta(hours=1))
    assert accepted.status == 200
    # THEN the pact is mutual, Ann sees him by the name she gave, and the invitation is gone
    owner = call("GET", f"/pacts/{pact_id}", email=ANN, now=START + timedelta(hours=1)).json()
    assert owner["colleague"] == {"member_id": member_sub(BOB), "name": "Robert", "email": BOB, "phone": None}
    assert owner["mutual"] is True
    assert of_kind(aws, "invitation") == []
    assert call("POST", f"/pacts/{pact_id}/accept", email=BOB, now=START + timedelta(hours=1)).status == 409
    # AND the invitation page no longer offers anything
    page = call("GET", invitation_links(world.mails(BOB)[0]).page, email=None, now=START + timedelta(hours=2))
    assert page.status == 410


def test_an_invited_member_who_deletes_the_invitation_declines_it(world: World, aws: dict[str, Any]) -> None:
    signup(ANN, "Ann", START)
    signup(BOB, "Bob", START)
    pact_id = invite(ANN, BOB, START, **WEEKLY).json()["id"]
    assert call("DELETE", f"/pacts/{pact_id}", email=BOB, now=START + timedelta(minutes=5)).status == 204
    view = call("GET", f"/pacts/{pact_id}", email=ANN, now=START + timedelta(minutes=5)).json()
    assert (view["state"], view["ended_reason"]) == ("ended", "declined")
    assert call("GET", "/pacts", email=BOB, now=START + timedelta(minutes=5)).json()["items"] == []
    assert of_kind(aws, "invitation") == []
    assert [e["detail"]["member_id"] for e in world.events("InvitationDeclined")] == [member_sub(BOB)]
    assert world.events("PactDeleted") == []  # declining is not leaving
    # A second answer finds nothing to decline
    assert call("POST", f"/pacts/{pact_id}/decline", email=BOB, now=START + timedelta(minutes=6)).status == 404


def test_an_invited_member_can_decline_from_the_email_page_too(world: World, aws: dict[str, Any]) -> None:
    signup(ANN, "Ann", START)
    signup(BOB, "Bob", START)
    pact_id = invite(ANN, BOB, START, name="Robert", **WEEKLY).json()["id"]
    assert world.deliver_invitations() == ["sent"]
    url = invitation_links(world.mails(BOB)[0]).page
    moment = START + timedelta(hours=1)
    assert press(url, call("GET", url, email=None, now=moment), "decline", moment).status == 200
    # His invited view goes with the invitation; Ann's view ends as declined, exactly as from the app
    assert call("GET", "/pacts", email=BOB, now=moment).json()["items"] == []
    assert call("POST", f"/pacts/{pact_id}/accept", email=BOB, now=moment).status == 404
    view = call("GET", f"/pacts/{pact_id}", email=ANN, now=moment).json()
    assert (view["state"], view["ended_reason"]) == ("ended", "declined")
    assert of_kind(aws, "invitation") == []
    # Only Ann can send an invitation again, and not once it was declined
    assert call("POST", f"/pacts/{pact_id}/resend-invitation", email=ANN, now=moment).status == 409


def test_an_invitation_withdrawn_before_its_email_went_sends_none(world: World) -> None:
    signup(ANN, "Ann", START)
    pact_id = invite(ANN, JEN, START).json()["id"]
    assert call("DELETE", f"/pacts/{pact_id}", email=ANN, now=START).status == 204
    # The InvitationSent event arrives after the withdrawal: the pact is gone, so is the reason to write
    assert world.deliver_invitations() == ["gone"]
    assert world.mails() == []


# ====================================================================== the one who never answers


def test_the_one_who_never_answers_hears_once_and_then_nothing_for_a_month(world: World, aws: dict[str, Any]) -> None:
    # GIVEN Ann invited Jen (not a member) and Bob (a member with texts on); neither ever answers
    signup(ANN, "Ann", START)
    signup(BOB, "Bob", START, phone=BOB_PHONE, **WITH_SMS)
    to_jen = invite(ANN, JEN, START, **WEEKLY).json()["id"]
    to_bob = invite(ANN, BOB, START, **WEEKLY).json()["id"]
    assert world.deliver_invitations() == ["sent", "sent"]
    # WHEN the sweeps run every six hours for a month (09:05 among them: just after the Tuesday slots)
    sent = world.ticks(every(START + timedelta(minutes=5), START + timedelta(days=31, minutes=5), timedelta(hours=6)))
    # THEN neither hears anything more: no reminder of the invitation, no nudge, no text
    assert [m for _, m in sent if isinstance(m, Mail) and m.to in (JEN, BOB)] == []
    assert world.texts(BOB_PHONE) == []
    assert len(world.mails(JEN)) == len(world.mails(BOB)) == 1
    # (Ann's own side of each one-sided pact lapses and is nudged as usual: the sweeps did run)
    assert {m.to for _, m in sent if isinstance(m, Mail)} == {ANN}
    # AND after 30 days the invitation has expired for both sides
    expired = START + timedelta(days=31)
    for pact_id in (to_jen, to_bob):
        assert call("GET", f"/pacts/{pact_id}", email=ANN, now=expired).json()["invitation"]["state"] == "expired"
    assert call("GET", f"/pacts/{to_bob}", email=BOB, now=expired).json()["invitation"]["state"] == "expired"
    assert call("POST", f"/pacts/{to_bob}/accept", email=BOB, now=expired).status == 410
    # AND Jen, signing up after it expired, sees it as Bob does: expired, to be sent again if Ann likes
    signup(JEN, "Jen", expired)
    listed = call("GET", "/pacts", email=JEN, now=expired).json()["items"]
    assert [(p["id"], p["state"], p["invitation"]["state"]) for p in listed] == [(to_jen, "invited", "expired")]
    assert call("POST", f"/pacts/{to_jen}/accept", email=JEN, now=expired).status == 410


# ====================================================================== the colleague who stays


@pytest.mark.parametrize(
    ("how", "reason", "subject", "name"),
    [
        ("leaves", "colleague_left", "Your regular check-ins with Bob have ended", "Bob"),
        ("erases", "colleague_erased", "One of your check-in pacts has ended", "A former colleague"),
    ],
)
def test_when_the_colleague_goes_the_one_who_stays_gets_one_notice_then_silence_for_a_month(
    world: World, aws: dict[str, Any], how: str, reason: str, subject: str, name: str
) -> None:
    # GIVEN Ann and Bob, both with email and texts, have a weekly pact; Ann also has one with Carol (no account)
    signup(ANN, "Ann", START, phone=ANN_PHONE, **WITH_SMS)
    signup(BOB, "Bob", START, phone=BOB_PHONE, **WITH_SMS)
    pact_id = mutual_pact(ANN, BOB, START, **WEEKLY)
    carol = call("POST", "/pacts", email=ANN, body={"colleague": {"name": "Carol", "phone": CAROL_PHONE}, **WEEKLY}, now=START)
    assert carol.status == 201
    # AND the first slot's texts and the lapse's nudges went out as usual
    world.tick(at("2027-01-12T09:05:00"))
    assert len(texts_about(world.texts(ANN_PHONE), "Bob")) == 1
    assert len(texts_about(world.texts(BOB_PHONE), "Ann")) == 1
    nudges, _ = world.tick(at("2027-01-14T09:05:00"))
    digest = next(m for m in nudges if m.to == ANN)
    assert digest.subject in ("Time to catch up with Bob, Carol?", "Time to catch up with Carol, Bob?")
    old_links = {
        "email check-in": digest_links(digest, "Bob")["check_in"],
        "email snooze": digest_links(digest, "Bob")["snooze"],
        "text check-in": check_in_link(texts_about(world.texts(ANN_PHONE), "Bob")[0][1]),
    }
    opened = {label: call("GET", url, email=None, now=at("2027-01-14T09:30:00")) for label, url in old_links.items()}
    assert all(page.status == 200 for page in opened.values())
    bobs_link = check_in_link(texts_about(world.texts(BOB_PHONE), "Ann")[0][1])
    bobs_page = call("GET", bobs_link, email=None, now=at("2027-01-14T09:30:00"))
    mails_before, texts_before = len(world.mails()), len(world.texts())

    # WHEN Bob leaves the pact, or erases his account
    gone = at("2027-01-14T10:00:00")
    if how == "leaves":
        assert call("DELETE", f"/pacts/{pact_id}", email=BOB, now=gone).status == 204
    else:
        assert call("DELETE", "/members/me", email=BOB, now=gone).status == 204

    # THEN Ann's view has ended, with the reason, and left the text index at once
    view = call("GET", f"/pacts/{pact_id}", email=ANN, now=gone).json()
    assert (view["state"], view["status"], view["ended_reason"], view["ended_at"]) == ("ended", "ended", reason, "2027-01-14T10:00:00Z")
    assert view["colleague"]["name"] == name
    assert view["mutual"] is False
    assert due_index_entries(aws, "sms_due", pact_id) == []
    assert [e["nudge_stage"]["N"] for e in due_index_entries(aws, "nudge_due", pact_id)] == ["9"]  # only its one notice
    # AND nothing can be recorded on it any more, by the API or by the old links
    assert call("POST", f"/pacts/{pact_id}/check-ins", email=ANN, body={}, now=gone).status == 409
    assert call("PATCH", f"/pacts/{pact_id}", email=ANN, body={"mode": "video"}, now=gone).status == 409
    assert call("POST", f"/pacts/{pact_id}/pause", email=ANN, body={"until": "2027-02-01"}, now=gone).status == 409
    for label, url in old_links.items():
        page = call("GET", url, email=None, now=gone + timedelta(minutes=5))
        assert (page.status, b"This pact has ended" in page.body) == (410, True), label
        choice = "snooze" if "snooze" in label else "yes"
        posted = press(url, opened[label], choice, gone + timedelta(minutes=5))
        assert (posted.status, b"This pact has ended" in posted.body) == (410, True), label
    assert press(bobs_link, bobs_page, "yes", gone + timedelta(minutes=5)).status in (404, 410)  # the leaver's: nothing either
    assert call("GET", f"/pacts/{pact_id}/check-ins", email=ANN, now=gone).json()["items"] == []

    # WHEN the nudge sweep and sender and the SMS sweep run every six hours for a month
    runs = [at("2027-01-14T12:05:00"), *every(at("2027-01-14T15:05:00"), at("2027-02-14T15:05:00"), timedelta(hours=6))]
    sent = world.ticks(runs)  # 15:05, 21:05, 03:05, 09:05 (texts go at 09:05, after the 08:30 slot)
    assert len(world.mails()) - mails_before + len(world.texts()) - texts_before == len(sent)
    mails = [(moment, m) for moment, m in sent if isinstance(m, Mail)]
    texts = [t for _, t in sent if not isinstance(t, Mail)]
    # THEN Ann got exactly one notice, at the first run after it fell due, and nothing else about the pact
    notices = [(moment, m) for moment, m in mails if m.to == ANN and "ended" in m.subject]
    assert [(moment, m.subject) for moment, m in notices] == [(at("2027-01-14T12:05:00"), subject)]
    notice = notices[0][1]
    assert notice.text
    assert notice.html
    assert ("has left the pact" if how == "leaves" else "closed their account") in notice.text
    if how == "erases":
        assert not mentions(notice, "Bob")
    assert [m.subject for _, m in mails if m.to == ANN] == [subject, "A gentle reminder: time to catch up with Carol"]
    assert not any(mentions(m, "Bob") for _, m in mails if m is not notice)
    # AND no text about Bob, none to Bob, and nothing to Bob by email (he had only this pact)
    assert texts_about(texts, "Bob") == []
    assert [t for t in texts if t[0] == BOB_PHONE] == []
    assert [m for _, m in mails if m.to == BOB] == []
    # (the sweeps did run at the slots: Carol's pact, still on, was texted every Tuesday)
    assert len(texts_about(texts, "Carol")) == 4
    # AND the ended view is out of both due indexes for good
    assert due_index_entries(aws, "nudge_due", pact_id) == []
    assert due_index_entries(aws, "sms_due", pact_id) == []
    # AND Ann may keep the ended pact, or delete it
    listed = call("GET", "/pacts", email=ANN, now=at("2027-02-14T13:00:00")).json()["items"]
    assert {p["id"]: p["status"] for p in listed}[pact_id] == "ended"
    assert call("DELETE", f"/pacts/{pact_id}", email=ANN, now=at("2027-02-14T13:00:00")).status == 204
    assert call("GET", f"/pacts/{pact_id}", email=ANN, now=at("2027-02-14T13:00:00")).status == 404


def test_when_the_inviter_leaves_the_colleague_who_joined_keeps_the_history_and_gets_one_notice(world: World) -> None:
    # GIVEN Jen joined from Ann's invitation, and they talked once
    signup(ANN, "Ann", START)
    pact_id = invite(ANN, JEN, START, **WEEKLY).json()["id"]
    joined = START + timedelta(days=1)
    signup(JEN, "Jen", joined, phone=JEN_PHONE, **WITH_SMS)
    assert call("POST", f"/pacts/{pact_id}/accept", email=JEN, now=joined).status == 200
    assert call("POST", f"/pacts/{pact_id}/check-ins", email=JEN, body={"note": "JEN-NOTE"}, now=at("2027-01-12T08:50:00")).status == 201
    # WHEN Ann leaves on Saturday night
    gone = at("2027-01-16T23:00:00")
    assert call("DELETE", f"/pacts/{pact_id}", email=ANN, now=gone).status == 204
    # THEN Jen keeps the pact, ended, and her history with her own note
    view = call("GET", f"/pacts/{pact_id}", email=JEN, now=gone).json()
    assert (view["role"], view["state"], view["status"], view["ended_reason"]) == ("colleague", "ended", "ended", "colleague_left")
    history = call("GET", "/check-ins", email=JEN, now=gone).json()["items"]
    assert [(c["pact_id"], c["note"]) for c in history] == [(pact_id, "JEN-NOTE")]
    # AND she hears it once, on Sunday at her nudge hour (09:00), and then nothing about it for a month
    sent = world.ticks(every(at("2027-01-17T03:05:00"), at("2027-02-17T03:05:00"), timedelta(hours=6)))
    assert [(moment, m.to, m.subject) for moment, m in sent if isinstance(m, Mail)] == [
        (at("2027-01-17T09:05:00"), JEN, "Your regular check-ins with Ann have ended")
    ]
    assert [t for _, t in sent if not isinstance(t, Mail)] == []


def test_ending_a_pact_keeps_both_histories_and_tells_the_colleague_once(world: World, aws: dict[str, Any]) -> None:
    # Found trying it from the leaver's side: the only way out was DELETE, which took the leaver's own record of
    # the calls with it, and therapists keep those for accreditation. Ending keeps it; deleting is a choice.
    signup(ANN, "Ann", START)
    signup(BOB, "Bob", START)
    pact_id = mutual_pact(ANN, BOB, START, **WEEKLY)
    assert call("POST", f"/pacts/{pact_id}/check-ins", email=ANN, body={"note": "ANN-NOTE"}, now=at("2027-01-12T08:50:00")).status == 201
    assert call("POST", f"/pacts/{pact_id}/check-ins", email=BOB, body={"note": "BOB-NOTE"}, now=at("2027-01-19T08:50:00")).status == 201
    # WHEN Ann ends it on Saturday night
    gone = at("2027-01-23T23:00:00")
    ended = call("POST", f"/pacts/{pact_id}/end", email=ANN, now=gone)
    assert ended.status == 200, ended.body
    assert (ended.json()["state"], ended.json()["ended_reason"], ended.json()["status"]) == ("ended", "you_ended", "ended")
    # THEN both keep the pact, ended, with every call and only their own notes; her CPD log still names Bob
    for email, reason, note in ((ANN, "you_ended", "ANN-NOTE"), (BOB, "colleague_left", "BOB-NOTE")):
        view = call("GET", f"/pacts/{pact_id}", email=email, now=gone).json()
        assert (view["state"], view["ended_reason"]) == ("ended", reason)
        history = call("GET", "/check-ins", email=email, now=gone).json()["items"]
        assert [c["note"] for c in history if c["note"]] == [note]
        assert len(history) == 2
    log = call("GET", "/members/me/log.csv", email=ANN, now=gone).body.decode("utf-8-sig")
    assert log.count(",Bob,") == 2
    # AND it is over: no recording, no change; ending again is the same answer
    refused = call("POST", f"/pacts/{pact_id}/check-ins", email=ANN, body={}, now=gone)
    assert refused.status == 409, refused.body
    assert call("POST", f"/pacts/{pact_id}/end", email=ANN, now=gone).json()["ended_reason"] == "you_ended"
    # AND Bob hears it once, at his nudge hour on Sunday; Ann, who ended it, hears nothing; nobody is nudged after
    sent = world.ticks(every(at("2027-01-24T03:05:00"), at("2027-02-24T03:05:00"), timedelta(hours=6)))
    assert [(moment, m.to, m.subject) for moment, m in sent if isinstance(m, Mail)] == [
        (at("2027-01-24T09:05:00"), BOB, "Your regular check-ins with Ann have ended")
    ]
    # AND later each may delete their own side: the other keeps theirs
    assert call("DELETE", f"/pacts/{pact_id}", email=ANN, now=gone).status == 204
    assert call("GET", f"/pacts/{pact_id}", email=ANN, now=gone).status == 404
    assert call("GET", "/check-ins", email=ANN, now=gone).json()["items"] == []
    kept = call("GET", f"/pacts/{pact_id}/check-ins", email=BOB, now=gone).json()["items"]
    assert [c["note"] for c in kept] == ["BOB-NOTE", None]
    assert "ANN-NOTE" not in str(table_items(aws))
    assert call("DELETE", f"/pacts/{pact_id}", email=BOB, now=gone).status == 204
    left = [i for i in table_items(aws) if pact_id in str(i) and not is_outbox(i)]
    # What is left: Ann's marker for erasure (she left while Bob kept it) and the claim of Bob's notice (its TTL)
    assert sorted(i["sk"]["S"].split("#")[0] for i in left) == ["LEFT", "NUDGED"]


def test_both_deleting_an_ended_pact_at_the_same_moment_leaves_no_check_in_behind(
    world: World, aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Ann and Bob each delete their ended side; Bob's delete lands between Ann's read and her write (an
    # interleaving moto cannot produce by itself, so it is staged at the step in between).
    from shared.pacts import use_cases

    signup(ANN, "Ann", START)
    signup(BOB, "Bob", START)
    pact_id = mutual_pact(ANN, BOB, START, **WEEKLY)
    assert call("POST", f"/pacts/{pact_id}/check-ins", email=ANN, body={"note": "ANN-NOTE"}, now=at("2027-01-12T08:50:00")).status == 201
    assert call("POST", f"/pacts/{pact_id}/end", email=ANN, now=at("2027-01-13T09:00:00")).status == 200
    strip = use_cases._strip_notes
    staged: list[int] = []

    def bob_deletes_first(pact: str, author: str) -> None:
        if not staged:
            staged.append(1)
            assert call("DELETE", f"/pacts/{pact_id}", email=BOB, now=at("2027-01-14T09:00:00")).status == 204
        strip(pact, author)

    monkeypatch.setattr(use_cases, "_strip_notes", bob_deletes_first)
    assert call("DELETE", f"/pacts/{pact_id}", email=ANN, now=at("2027-01-14T09:00:00")).status == 204
    assert staged == [1]
    assert [i for i in table_items(aws) if i["pk"]["S"] == f"PACT#{pact_id}"] == []


def test_ending_an_invitation_nobody_answered_withdraws_it_and_keeps_the_pact_as_a_record(world: World, aws: dict[str, Any]) -> None:
    signup(ANN, "Ann", START)
    pact_id = invite(ANN, JEN, START, **WEEKLY).json()["id"]
    assert world.deliver_invitations() == ["sent"]
    ended = call("POST", f"/pacts/{pact_id}/end", email=ANN, now=START + timedelta(days=2))
    assert (ended.status, ended.json()["state"], ended.json()["invitation"]) == (200, "ended", None)
    assert of_kind(aws, "invitation") == []
    page = call("GET", invitation_links(world.mails(JEN)[0]).page, email=None, now=START + timedelta(days=3))
    assert page.status == 410


def test_an_invitation_to_me_is_declined_not_ended(world: World) -> None:
    signup(ANN, "Ann", START)
    signup(BOB, "Bob", START)
    pact_id = invite(ANN, BOB, START, **WEEKLY).json()["id"]
    refused = call("POST", f"/pacts/{pact_id}/end", email=BOB, now=START)
    assert refused.status == 409
    assert "decline" in refused.json()["detail"]
    assert call("POST", f"/pacts/{pact_id}/end", email=KIM, now=START).status == 404


def test_the_notice_waits_for_the_stayers_nudge_hour_and_skips_her_quiet_days(world: World) -> None:
    # GIVEN Ann in New York, nudges at 07:00 and never at weekends
    signup(ANN, "Ann", START, time_zone="America/New_York", notifications={"nudge_hour": 7, "quiet_days": ["saturday", "sunday"]})
    signup(BOB, "Bob", START)
    pact_id = mutual_pact(ANN, BOB, START, **WEEKLY)
    # WHEN Bob leaves on Friday evening, 22:30 in New York
    friday_evening = at("2027-01-09T03:30:00")
    assert call("DELETE", f"/pacts/{pact_id}", email=BOB, now=friday_evening).status == 204
    # THEN nothing comes over the weekend; the notice comes on Monday at 07:00 New York time (12:00 UTC)
    sent = world.ticks(every(at("2027-01-09T04:00:00"), at("2027-01-11T16:00:00"), timedelta(hours=1)))
    assert [(moment, m.to, m.subject) for moment, m in sent if isinstance(m, Mail)] == [
        (at("2027-01-11T12:00:00"), ANN, "Your regular check-ins with Bob have ended")
    ]


def test_a_digest_claimed_and_queued_before_the_end_is_dropped_at_send_time(
    world: World, aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import ClientError

    from shared.adapters.mail import Mailer

    signup(ANN, "Ann", START)
    signup(BOB, "Bob", START)
    pact_id = mutual_pact(ANN, BOB, START, **WEEKLY)
    # GIVEN the sweep queued both lapse nudges, and the first delivery claimed them but SES throttled it
    moment = at("2027-01-14T09:00:00")
    assert world.nudges.sweep(moment)["members"] == 2
    real = Mailer.send

    def throttled(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise ClientError({"Error": {"Code": "Throttling", "Message": "slow down"}}, "SendEmail")

    monkeypatch.setattr(Mailer, "send", throttled)
    messages = world.nudges.receive()
    assert len(world.nudges.deliver(messages)["batchItemFailures"]) == 2  # back to the queue, for a retry
    monkeypatch.setattr(Mailer, "send", real)
    # WHEN Bob leaves before the retry
    assert call("DELETE", f"/pacts/{pact_id}", email=BOB, now=moment + timedelta(minutes=1)).status == 204
    # THEN the retry sends no nudge about the pact, to either of them
    assert world.nudges.deliver()["batchItemFailures"] == []
    assert world.mails() == []
    # AND Ann's one notice follows at the next run; then nothing
    sent = world.ticks(every(moment + timedelta(minutes=15), moment + timedelta(days=10), timedelta(hours=3)))
    assert [(m.to, m.subject) for _, m in sent if isinstance(m, Mail)] == [(ANN, "Your regular check-ins with Bob have ended")]
    assert due_index_entries(aws, "nudge_due", pact_id) == []


def test_a_text_found_due_before_the_end_is_dropped_at_send_time(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from shared.texts import sending as texting

    signup(ANN, "Ann", START, phone=ANN_PHONE, **WITH_SMS)
    signup(BOB, "Bob", START, phone=BOB_PHONE, **WITH_SMS)
    pact_id = mutual_pact(ANN, BOB, START, **WEEKLY)
    slot_over = at("2027-01-12T09:05:00")
    real = texting._text_one
    left: list[int] = []

    def bob_leaves_first(*args, **kwargs):  # type: ignore[no-untyped-def]
        # The sweep has read both views off the sms_due index already; Bob leaves before either is texted.
        if not left:
            left.append(call("DELETE", f"/pacts/{pact_id}", email=BOB, now=slot_over - timedelta(seconds=30)).status)
        return real(*args, **kwargs)

    monkeypatch.setattr(texting, "_text_one", bob_leaves_first)
    result = world.sms_sweep(slot_over)
    assert left == [204]
    assert result["items_read"] >= 1  # found due before the end (the other view, in a later shard, may already be gone)
    assert result["sent"] == 0
    assert world.texts() == []
    monkeypatch.setattr(texting, "_text_one", real)
    # AND afterwards: Ann's one notice (by email, her first channel), no text to anyone, no nudge
    sent = world.ticks(every(slot_over + timedelta(minutes=5), slot_over + timedelta(days=9), timedelta(hours=3)))
    assert [(m.to, m.subject) for _, m in sent if isinstance(m, Mail)] == [(ANN, "Your regular check-ins with Bob have ended")]
    assert world.texts() == []


def test_leaving_and_then_erasing_still_makes_one_notice_and_no_name(world: World, aws: dict[str, Any]) -> None:
    signup(ANN, "Ann", START)
    signup(BOB, "Bob", START)
    pact_id = mutual_pact(ANN, BOB, START, **WEEKLY)
    # Bob leaves on Thursday morning, before Ann's nudge hour, and erases his account an hour later
    assert call("DELETE", f"/pacts/{pact_id}", email=BOB, now=at("2027-01-14T07:00:00")).status == 204
    assert call("DELETE", "/members/me", email=BOB, now=at("2027-01-14T08:00:00")).status == 204
    view = call("GET", f"/pacts/{pact_id}", email=ANN, now=at("2027-01-14T08:00:00")).json()
    # The notice had not gone yet: it now speaks as for an erasure, naming nobody
    assert (view["state"], view["ended_reason"]) == ("ended", "colleague_erased")
    assert view["colleague"] == {"member_id": None, "name": "A former colleague", "email": None, "phone": None}
    sent = world.ticks(every(at("2027-01-14T09:00:00"), at("2027-02-14T09:00:00"), timedelta(hours=6)))
    mails = [m for _, m in sent if isinstance(m, Mail)]
    assert [m.to for m in mails] == [ANN]
    assert mails[0].subject == "One of your check-in pacts has ended"
    assert not mentions(mails[0], "A former colleague")
    assert not mentions(mails[0], "Bob")


def test_a_pact_whose_owner_erases_withdraws_the_invitation_and_its_address(world: World, aws: dict[str, Any]) -> None:
    signup(ANN, "Ann", START)
    signup(BOB, "Bob", START)
    invite(ANN, JEN, START)
    invite(ANN, BOB, START)
    assert world.deliver_invitations() == ["sent", "sent"]
    pages = [invitation_links(m).page for m in world.mails()]
    assert call("DELETE", "/members/me", email=ANN, now=START + timedelta(hours=1)).status == 204
    assert holding(aws, JEN) == set()
    assert of_kind(aws, "invitation") == []
    assert call("GET", "/pacts", email=BOB, now=START + timedelta(hours=1)).json()["items"] == []
    for url in pages:
        assert call("GET", url, email=None, now=START + timedelta(hours=2)).status == 410
    # Nobody is told anything: an unanswered invitation simply went away
    assert [m for _, m in world.ticks([START + timedelta(hours=3), START + timedelta(days=9)]) if isinstance(m, Mail)] == []


def test_an_ended_view_leaves_the_nudge_index_when_the_stayer_has_turned_email_off(world: World, aws: dict[str, Any]) -> None:
    signup(ANN, "Ann", START)
    signup(BOB, "Bob", START)
    pact_id = mutual_pact(ANN, BOB, START, **WEEKLY)
    assert call("DELETE", f"/pacts/{pact_id}", email=BOB, now=at("2027-01-14T06:00:00")).status == 204
    # WHEN Ann turns every channel off before her nudge hour, while the notice is still to go
    signup(ANN, "Ann", at("2027-01-14T07:00:00"), notifications={"channels": []})
    # THEN no notice goes, and the ended view leaves the nudge index instead of being queued again and again
    assert world.ticks(every(at("2027-01-14T09:00:00"), at("2027-01-14T12:00:00"), timedelta(hours=1))) == []
    assert due_index_entries(aws, "nudge_due", pact_id) == []
    assert world.nudges.sweep(at("2027-01-15T09:00:00"))["items_read"] == 0


# ====================================================================== defects a review found (fixed)


def test_an_invitation_page_opened_after_the_30_days_says_the_invitation_expired(world: World) -> None:
    signup(ANN, "Ann", START)
    invite(ANN, JEN, START)
    assert world.deliver_invitations() == ["sent"]
    url = invitation_links(world.mails(JEN)[0]).page
    page = call("GET", url, email=None, now=START + timedelta(days=30, minutes=1))
    assert page.status == 410
    assert b"This invitation has expired" in page.body
    assert b"check-in" not in page.body


def test_a_resent_invitation_reaches_someone_who_signed_up_after_it_expired(world: World) -> None:
    signup(ANN, "Ann", START)
    pact_id = invite(ANN, JEN, START, **WEEKLY).json()["id"]
    signup(JEN, "Jen", START + timedelta(days=31))  # too late: nothing to claim
    moment = START + timedelta(days=32)
    assert call("POST", f"/pacts/{pact_id}/resend-invitation", email=ANN, now=moment).status == 200
    assert world.deliver_invitations() == ["sent", "sent"]
    listed = call("GET", "/pacts", email=JEN, now=moment).json()["items"]
    assert [(p["id"], p["state"]) for p in listed] == [(pact_id, "invited")]
    assert call("POST", f"/pacts/{pact_id}/accept", email=JEN, now=moment).status == 200


def test_an_invited_member_who_erases_before_answering_is_not_revealed_as_a_member(world: World, aws: dict[str, Any]) -> None:
    signup(ANN, "Ann", START)
    signup(BOB, "Bob", START)
    pact_id = invite(ANN, BOB, START, **WEEKLY).json()["id"]
    assert call("DELETE", "/members/me", email=BOB, now=START + timedelta(hours=1)).status == 204
    view = call("GET", f"/pacts/{pact_id}", email=ANN, now=START + timedelta(hours=1)).json()
    assert view["ended_reason"] != "colleague_erased"
    assert view["colleague"]["name"] == "bob"  # the label she gave, as for anyone's address
    sent = world.ticks([START + timedelta(hours=2), START + timedelta(days=1, hours=2)])
    assert not any(mentions(m, "closed their account") for _, m in sent if isinstance(m, Mail))


def test_erasure_leaves_no_item_that_names_the_erased_member(world: World, aws: dict[str, Any]) -> None:
    signup(ANN, "Ann", START, phone=ANN_PHONE, **WITH_SMS)
    signup(BOB, "Bob", START, phone=BOB_PHONE, **WITH_SMS)
    mutual_pact(ANN, BOB, START, **WEEKLY)
    world.tick(at("2027-01-12T09:05:00"))  # a check-in text to each
    world.tick(at("2027-01-14T09:05:00"))  # a nudge email to each
    assert len(world.texts(BOB_PHONE)) == len(world.mails(BOB)) == 1
    assert call("DELETE", "/members/me", email=BOB, now=at("2027-01-14T10:00:00")).status == 204
    assert holding(aws, BOB) == set()
    assert holding(aws, member_sub(BOB)) == set()


def test_every_open_invitation_waits_for_the_new_member_even_past_twenty(world: World) -> None:
    # GIVEN 21 colleagues invited the same address within a month (20 a day is one member's limit, not the address's)
    inviters = [f"colleague{number}@example.org" for number in range(21)]
    for number, inviter in enumerate(inviters):
        signup(inviter, f"Colleague {number}", START)
        assert invite(inviter, JEN, START + timedelta(minutes=number)).status == 201
    # WHEN Jen creates her profile, and later saves it again
    signup(JEN, "Jen", START + timedelta(days=1))
    signup(JEN, "Jen", START + timedelta(days=2))
    # THEN all 21 invitations are hers to answer
    listed = call("GET", "/pacts?limit=100", email=JEN, now=START + timedelta(days=2)).json()["items"]
    assert sorted(p["colleague"]["name"] for p in listed) == sorted(f"Colleague {number}" for number in range(21))
