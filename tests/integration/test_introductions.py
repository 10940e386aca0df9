"""Introductions, through the deployed handlers on moto: the API, the bus's own IntroductionRequested events handed to
NotifyFunction, SES, and the one-tap pages. Ann asks to be introduced to Bob, who is in the directory.

Times: START is Tuesday 5 January 2027, 09:00 UTC. A request stays open 14 days (to 19 January, 09:00) and blocks
another to the same colleague for 90 days from the request (to 5 April, 09:00) unless it is accepted.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from infra.local.auth import member_sub
from shared.adapters.models import Circle
from tests.helpers import Reply, call
from tests.integration.invite_harness import World, holding, of_kind, page_nonce, press, signup
from tests.integration.nudge_harness import Mail

ANN, BOB, CAROL, DEE = "ann@example.org", "bob@example.org", "carol@example.org", "dee@example.org"
BOB_PHONE = "+353851234568"
START = datetime(2027, 1, 5, 9, tzinfo=UTC)
LISTED: dict[str, Any] = {"in_directory": True, "specialties": ["Grief & Loss", "Trauma"], "region": "Munster"}
MESSAGE = "I work with bereaved teenagers in Cork and would value a peer who knows grief work."
SUBJECT = "Ann would like to be introduced to you"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def ask(requester: str, to: str, now: datetime = START, message: str = MESSAGE) -> Reply:
    return call("POST", "/introductions", email=requester, body={"to": member_sub(to), "message": message}, now=now)


def deliver(world: World) -> list[str]:
    """Every IntroductionRequested not delivered yet, to NotifyFunction as EventBridge would; their outcomes."""
    events = world.events("IntroductionRequested")
    done = getattr(world, "_intros_delivered", 0)
    outcomes = [str(world.notify(e)["outcome"]) for e in events[done:]]
    world._intros_delivered = len(events)  # type: ignore[attr-defined]
    return outcomes


def intro_links(mail: Mail) -> tuple[str, str, str]:
    accept = re.search(r"Accept:\s+https://peer\.test(/i/[\w-]+)", mail.text)
    decline = re.search(r"Decline:\s+https://peer\.test(/i/[\w-]+)", mail.text)
    stop = re.search(r"https://peer\.test(/u/[\w-]+)", mail.text)
    assert accept, mail.text
    assert decline, mail.text
    assert stop, mail.text
    return accept.group(1), decline.group(1), stop.group(1)


@pytest.fixture
def people(world: World) -> World:
    signup(ANN, "Ann", START, specialties=["Adolescents"], region="Cork")
    signup(BOB, "Bob", START, phone=BOB_PHONE, **LISTED)
    signup(CAROL, "Carol", START)  # not in the directory
    return world


# ====================================================================== the happy path


def test_a_request_emails_bob_once_and_he_accepts_by_link_then_both_see_contacts_and_make_a_pact(people: World, aws: Any) -> None:
    world = people
    # WHEN Ann asks to be introduced to Bob
    reply = ask(ANN, BOB)
    assert reply.status == 201, reply.body
    intro = reply.json()
    intro_id = intro["id"]
    assert reply.headers["location"] == f"/introductions/{intro_id}"
    assert intro["role"] == "requester"
    assert intro["state"] == "pending"
    assert intro["contact"] is None
    assert intro["other"]["name"] == "Bob"
    assert intro["valid_until"] == "2027-01-19T09:00:00Z"
    # AND the bus hears of it with ids only
    [event] = world.events("IntroductionRequested")
    assert event["detail"].pop("event_id")  # each event has its own id, for consumers to dedupe
    assert event["detail"] == {
        "occurred_at": "2027-01-05T09:00:00+00:00",
        "intro_id": intro_id,
        "from_id": member_sub(ANN),
        "to_id": member_sub(BOB),
    }
    # THEN NotifyFunction emails Bob: Ann's name, her message, her specialties and region, Accept and Decline
    assert deliver(world) == ["sent"]
    [mail] = world.mails(BOB)
    assert mail.subject == SUBJECT
    for body in (mail.text, mail.html):
        assert "Ann" in body
        assert "bereaved teenagers in Cork" in body
        assert "Adolescents" in body  # as Ann typed it
        assert "Cork" in body
        assert ANN not in body  # no contact details before an answer
    accept_url, decline_url, stop_url = intro_links(mail)
    assert f"https://peer.test{accept_url}" in mail.html
    assert f"https://peer.test{decline_url}" in mail.html
    assert mail.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert stop_url in mail.headers["List-Unsubscribe"]
    # AND before an answer neither sees the other's contact details
    for who in (ANN, BOB):
        seen = call("GET", f"/introductions/{intro_id}", email=who, now=START + timedelta(hours=1))
        assert seen.status == 200
        assert seen.json()["contact"] is None
        assert BOB_PHONE not in seen.body.decode()
    # WHEN Bob opens the Accept link: a confirmation page (a GET changes nothing)
    later = START + timedelta(hours=2)
    page = call("GET", accept_url, email=None, now=later)
    assert page.status == 200
    assert b"Ann would like to be introduced to you" in page.body
    assert b"bereaved teenagers" in page.body
    assert b'value="accept"' in page.body
    assert call("GET", f"/introductions/{intro_id}", email=BOB, now=later).json()["state"] == "pending"
    # AND taps its button
    done = press(accept_url, page, "accept", later)
    assert done.status == 200, done.body
    assert b"You and Ann are introduced" in done.body
    # THEN both see each other's contact details, and "accepted"
    ann_view = call("GET", f"/introductions/{intro_id}", email=ANN, now=later).json()
    assert ann_view["state"] == "accepted"
    assert ann_view["contact"] == {"email": BOB, "phone": BOB_PHONE}
    bob_view = call("GET", f"/introductions/{intro_id}", email=BOB, now=later).json()
    assert bob_view["contact"] == {"email": ANN, "phone": None}
    assert bob_view["other"] == {"member_id": member_sub(ANN), "name": "Ann", "specialties": ["Adolescents"], "region": "Cork"}
    # AND the link is used up, and so is the decline link (nothing left to answer)
    assert press(accept_url, page, "accept", later).status == 410
    assert call("GET", decline_url, email=None, now=later).status == 410
    [accepted] = world.events("IntroductionAccepted")
    assert accepted["detail"]["intro_id"] == intro_id
    # AND Ann is told once, whatever the delivery (the contact details stay in the app)
    assert world.notify(accepted) == {"sent": 1, "outcome": "sent"}
    assert world.notify(accepted) == {"sent": 0, "outcome": "sent-already"}
    [told] = world.mails(ANN)
    assert told.subject == "Bob accepted your introduction"
    assert BOB not in told.text
    assert BOB_PHONE not in told.text
    # WHEN Ann makes a pact from it in one step
    made = call(
        "POST",
        f"/introductions/{intro_id}/pact",
        email=ANN,
        body={"rhythm": {"weekday": "thursday", "time": "08:00"}, "mode": "video"},
        now=later,
    )
    assert made.status == 201, made.body
    pact = made.json()
    # THEN it is mutual and active for both, with no invitation round
    assert (pact["state"], pact["mutual"], pact["invitation"], pact["role"]) == ("active", True, None, "owner")
    assert pact["colleague"]["member_id"] == member_sub(BOB)
    bob_pact = call("GET", f"/pacts/{pact['id']}", email=BOB, now=later).json()
    assert (bob_pact["state"], bob_pact["mutual"], bob_pact["role"], bob_pact["invitation"]) == ("active", True, "colleague", None)
    assert bob_pact["colleague"]["name"] == "Ann"
    assert bob_pact["rhythm"]["rrule"] == pact["rhythm"]["rrule"]
    assert call("POST", f"/pacts/{pact['id']}/check-ins", email=BOB, body={}, now=later).status == 201
    # AND the introduction names it; a second pact from it is a 409
    assert call("GET", f"/introductions/{intro_id}", email=BOB, now=later).json()["pact_id"] == pact["id"]
    again = call("POST", f"/introductions/{intro_id}/pact", email=BOB, body={}, now=later)
    assert again.status == 409
    assert len(of_kind(aws, "pact_view")) == 2
    # AND each is now in the other's circle (the directory ranks them as colleagues)
    for who, other in ((ANN, BOB), (BOB, ANN)):
        tie = Circle.get(*Circle.key(member_sub(who)))
        assert tie.links == {f"{member_sub(other)}|PACT#{pact['id']}"}


def test_bob_accepts_through_the_api_and_either_can_list_it(people: World) -> None:
    intro_id = ask(ANN, BOB).json()["id"]
    accepted = call("POST", f"/introductions/{intro_id}/accept", email=BOB, now=START + timedelta(days=1))
    assert accepted.status == 200, accepted.body
    assert accepted.json()["state"] == "accepted"
    assert accepted.json()["contact"] == {"email": ANN, "phone": None}
    # Ann cannot answer her own request; Bob cannot answer twice
    assert call("POST", f"/introductions/{intro_id}/accept", email=ANN, now=START + timedelta(days=1)).status == 409
    assert call("POST", f"/introductions/{intro_id}/decline", email=BOB, now=START + timedelta(days=1)).status == 409
    for who, role in ((ANN, "requester"), (BOB, "recipient")):
        listed = call("GET", "/introductions", email=who, now=START + timedelta(days=1))
        assert listed.status == 200
        [item] = listed.json()["items"]
        assert (item["id"], item["role"], item["state"], item["contact"]) == (intro_id, role, "accepted", None)
    # An accepted introduction does not block by time; asking again is pointless and says so
    repeat = ask(ANN, BOB, START + timedelta(days=2))
    assert repeat.status == 409
    assert "introduced to this colleague already" in repeat.json()["detail"]
    # A pact cannot be made before acceptance
    other = ask(BOB, ANN, START + timedelta(days=2))
    assert other.status == 404  # Ann is not in the directory


# ====================================================================== declining and silence


def test_a_decline_is_silent_and_looks_to_ann_exactly_like_no_answer(people: World, aws: Any) -> None:
    world = people
    signup(DEE, "Dee", START, **LISTED)
    declined_id = ask(ANN, BOB).json()["id"]
    ignored_id = ask(ANN, DEE).json()["id"]
    assert deliver(world) == ["sent", "sent"]
    # WHEN Bob declines from the email's Decline link, and Dee never answers
    [mail] = world.mails(BOB)
    _, decline_url, _ = intro_links(mail)
    page = call("GET", decline_url, email=None, now=START + timedelta(hours=1))
    assert page.status == 200
    assert b"will not be told" in page.body
    done = press(decline_url, page, "decline", START + timedelta(hours=1))
    assert done.status == 200
    # THEN nobody is emailed about it
    assert world.events("IntroductionAccepted") == []
    assert world.mails(ANN) == []
    # AND Bob sees "declined"; Ann sees both requests the same way: pending within the 14 days, closed after
    assert call("GET", f"/introductions/{declined_id}", email=BOB, now=START + timedelta(hours=2)).json()["state"] == "declined"

    def ann_sees(intro_id: str, now: datetime) -> dict[str, Any]:
        body = call("GET", f"/introductions/{intro_id}", email=ANN, now=now).json()
        return {k: v for k, v in body.items() if k not in ("id", "other", "created_at")}

    for now, state in ((START + timedelta(days=3), "pending"), (at("2027-01-19T09:00:00"), "closed")):
        assert ann_sees(declined_id, now) == {**ann_sees(ignored_id, now), "pact_id": None}
        assert ann_sees(declined_id, now)["state"] == state
        listed = call("GET", "/introductions", email=ANN, now=now).json()["items"]
        assert {i["state"] for i in listed} == {state}
    assert call("GET", f"/introductions/{ignored_id}", email=DEE, now=at("2027-01-20T09:00:00")).json()["state"] == "expired"
    # AND answering after the 14 days is refused, on the email's page too
    dee_accept, _, _ = intro_links(people.mails(DEE)[0])
    closed = call("GET", dee_accept, email=None, now=at("2027-01-20T09:00:00"))
    assert closed.status == 410
    assert b"This introduction is no longer open" in closed.body
    assert call("POST", f"/introductions/{ignored_id}/accept", email=DEE, now=at("2027-01-20T09:00:00")).status == 410
    # AND asking again within 90 days of the request is the same 409, with the same words, for both
    answers = [ask(ANN, who, at("2027-02-01T09:00:00")) for who in (BOB, DEE)]
    assert [a.status for a in answers] == [409, 409]
    assert answers[0].json() == answers[1].json()
    assert "5 April 2027" in answers[0].json()["detail"]
    # AND after the 90 days, asking is possible again
    assert [ask(ANN, who, at("2027-04-05T09:00:00")).status for who in (BOB, DEE)] == [201, 201]
    # AND each new request replaces the closed one: no introduction is left that nothing points to
    assert len(of_kind(aws, "introduction")) == 2
    assert {declined_id, ignored_id}.isdisjoint(i["intro_id"]["S"] for i in of_kind(aws, "introduction"))
    [received] = call("GET", "/introductions", email=BOB, now=at("2027-04-05T10:00:00")).json()["items"]
    assert received["state"] == "pending"
    assert call("DELETE", "/members/me", email=ANN, now=at("2027-04-05T11:00:00")).status == 204
    assert of_kind(aws, "introduction") == of_kind(aws, "introduction_sent") == []


def test_asking_again_while_pending_is_the_same_409(people: World) -> None:
    assert ask(ANN, BOB).status == 201
    again = ask(ANN, BOB, START + timedelta(minutes=1))
    assert again.status == 409
    assert again.headers["content-type"].startswith("application/problem+json")


# ====================================================================== limits and who can be asked


def test_the_sixth_request_of_a_utc_day_is_a_429_with_retry_after(world: World, aws: Any) -> None:
    signup(ANN, "Ann", START)
    colleagues = [f"c{n}@example.org" for n in range(6)]
    for n, email in enumerate(colleagues):
        signup(email, f"C{n}", START, in_directory=True)
    answers = [ask(ANN, email, START + timedelta(minutes=n)) for n, email in enumerate(colleagues)]
    assert [a.status for a in answers] == [201] * 5 + [429]
    limited = answers[-1]
    assert limited.headers["content-type"].startswith("application/problem+json")
    assert limited.headers["retry-after"] == str(15 * 3600 - 5 * 60)  # until midnight UTC
    assert limited.json()["retry_after"] == 15 * 3600 - 5 * 60
    assert len(of_kind(aws, "introduction")) == 5  # the refused one wrote nothing
    # the next UTC day, the limit starts again
    assert ask(ANN, colleagues[-1], at("2027-01-06T00:00:01")).status == 201


def test_the_limit_is_a_429_also_when_the_request_replaces_a_closed_one(world: World, aws: Any) -> None:
    # GIVEN Ann asked Bob once, long ago (the 90-day block is over), and five others today
    signup(ANN, "Ann", START)
    signup(BOB, "Bob", START, in_directory=True)
    others = [f"c{n}@example.org" for n in range(5)]
    for n, email in enumerate(others):
        signup(email, f"C{n}", START, in_directory=True)
    assert ask(ANN, BOB).status == 201
    later = START + timedelta(days=91)
    assert [ask(ANN, email, later + timedelta(minutes=n)).status for n, email in enumerate(others)] == [201] * 5
    # WHEN she asks Bob again the same day, THEN it is the daily limit that answers, with Retry-After
    again = ask(ANN, BOB, later + timedelta(minutes=10))
    assert again.status == 429, again.body
    assert "retry-after" in again.headers
    # AND nothing changed: the closed request it would replace is still there
    assert len(of_kind(aws, "introduction")) == 6


def test_a_colleague_who_left_the_directory_is_not_followed_by_those_who_once_asked(world: World) -> None:
    # GIVEN Ann asked to be introduced to Bob (in the directory, Kerry, trauma), and he declined
    signup(ANN, "Ann", START)
    signup(BOB, "Bob", START, in_directory=True, specialties=["trauma"], region="Kerry")
    intro = ask(ANN, BOB).json()["id"]
    assert call("POST", f"/introductions/{intro}/decline", email=BOB, now=START + timedelta(hours=1)).status == 204
    # WHEN he leaves the directory, moves and takes on a new specialty
    signup(BOB, "Bob", START + timedelta(hours=2), in_directory=False, specialties=["trauma", "eating disorders"], region="Galway")
    # THEN Ann's view of that request keeps his name and learns nothing newer about him
    for path in (f"/introductions/{intro}", "/introductions"):
        seen = call("GET", path, email=ANN, now=START + timedelta(days=1))
        assert seen.status == 200
        assert "Galway" not in seen.body.decode()
        assert "eating" not in seen.body.decode()
    assert call("GET", f"/introductions/{intro}", email=ANN, now=START + timedelta(days=1)).json()["other"]["name"] == "Bob"


def test_unknown_not_listed_and_oneself_get_the_same_404(people: World, aws: Any) -> None:
    answers = [
        ask(ANN, CAROL),  # a member, not in the directory
        call("POST", "/introductions", email=ANN, body={"to": "nobody-at-all-0000", "message": "Hello"}, now=START),
        ask(BOB, BOB),  # oneself (Bob is listed)
    ]
    assert {a.status for a in answers} == {404}
    assert len({(a.json()["title"], a.json()["detail"]) for a in answers}) == 1
    assert of_kind(aws, "introduction") == []
    # bad input is a 422 problem naming the field
    for body in ({"to": member_sub(BOB)}, {"to": member_sub(BOB), "message": ""}, {"to": "../x", "message": "hi"}, {"to": 3}):
        bad = call("POST", "/introductions", email=ANN, body=body, now=START)
        assert bad.status == 422, (body, bad.body)
        assert bad.headers["content-type"].startswith("application/problem+json")


# ====================================================================== the email


def test_one_email_even_when_the_event_is_delivered_twice(people: World) -> None:
    world = people
    ask(ANN, BOB)
    [event] = world.events("IntroductionRequested")
    assert world.notify(event) == {"sent": 1, "outcome": "sent"}
    assert world.notify(event) == {"sent": 0, "outcome": "sent-already"}
    assert len(world.mails(BOB)) == 1


def test_no_email_to_an_address_that_said_dont_email_me_again(people: World) -> None:
    world = people
    signup(DEE, "Dee", START, **LISTED)
    ask(ANN, BOB)
    assert deliver(world) == ["sent"]
    [mail] = world.mails(BOB)
    _, _, stop_url = intro_links(mail)
    page = call("GET", stop_url, email=None, now=START + timedelta(hours=1))
    assert page.status == 200
    assert b"No introduction or invitation will be emailed" in page.body
    assert press(stop_url, page, "unsubscribe", START + timedelta(hours=1)).status == 200
    # WHEN someone else asks for an introduction to Bob
    assert ask(DEE, BOB, START + timedelta(hours=2)).status == 201  # the same answer: nothing shows
    assert deliver(world) == ["suppressed"]
    assert len(world.mails(BOB)) == 1


def test_html_in_names_and_message_is_escaped_in_the_email_and_on_the_page(world: World) -> None:
    hostile = '<script>alert("x")</script> & <b>Ann</b>'
    signup(ANN, hostile, START)
    signup(BOB, "Bob", START, **LISTED)
    assert ask(ANN, BOB, message="<img src=x onerror=alert(1)> hi").status == 201
    assert deliver(world) == ["sent"]
    [mail] = world.mails(BOB)
    # a header, not markup (the standard library folds this one before its first word: hence the strip)
    assert mail.subject.strip() == f"{hostile} would like to be introduced to you"
    assert "<script>" not in mail.html
    assert "<b>Ann</b>" not in mail.html
    assert "<img" not in mail.html
    assert "&lt;script&gt;" in mail.html
    assert "&lt;img src=x" in mail.html
    accept_url, decline_url, _ = intro_links(mail)
    for url in (accept_url, decline_url):
        page = call("GET", url, email=None, now=START + timedelta(hours=1))
        assert page.status == 200
        assert b"<script>" not in page.body
        assert b"<img" not in page.body
        assert b"&lt;script&gt;" in page.body
        assert page_nonce(page.body)


def test_the_email_the_page_and_the_api_show_the_requesters_specialties_as_she_typed_them(world: World) -> None:
    signup(ANN, "Ann", START, specialties=["Grief & Loss", "Play <i>therapy</i>", "grief and loss"], region="Cork")
    signup(BOB, "Bob", START, **LISTED)
    intro_id = ask(ANN, BOB).json()["id"]
    assert deliver(world) == ["sent"]
    [mail] = world.mails(BOB)
    assert "Specialties: Grief & Loss, Play <i>therapy</i>" in mail.text  # plain text: as typed, the first spelling
    assert "Specialties: Grief &amp; Loss, Play &lt;i&gt;therapy&lt;/i&gt;" in mail.html  # HTML: escaped
    assert "<i>" not in mail.html
    assert "grief-and-loss" not in mail.text + mail.html
    accept_url, _, _ = intro_links(mail)
    page = call("GET", accept_url, email=None, now=START + timedelta(hours=1))
    assert "Specialties: Grief &amp; Loss, Play &lt;i&gt;therapy&lt;/i&gt;" in page.body.decode()
    other = call("GET", f"/introductions/{intro_id}", email=BOB, now=START + timedelta(hours=1)).json()["other"]
    assert other["specialties"] == ["Grief & Loss", "Play <i>therapy</i>"]


def test_no_personal_data_in_the_events(people: World) -> None:
    world = people
    intro_id = ask(ANN, BOB).json()["id"]
    call("POST", f"/introductions/{intro_id}/accept", email=BOB, now=START + timedelta(hours=1))
    call("POST", f"/introductions/{intro_id}/pact", email=BOB, body={}, now=START + timedelta(hours=1))
    text = str(world.events())
    for secret in (ANN, BOB, "Ann", "Bob", BOB_PHONE, "bereaved"):
        assert secret not in text


# ====================================================================== erasure


@pytest.mark.parametrize("who_erases", [ANN, BOB])
def test_either_party_erasing_removes_the_introduction_and_the_requesters_side(people: World, aws: Any, who_erases: str) -> None:
    world = people
    intro_id = ask(ANN, BOB).json()["id"]
    assert deliver(world) == ["sent"]
    call("POST", f"/introductions/{intro_id}/accept", email=BOB, now=START + timedelta(hours=1))
    assert call("DELETE", "/members/me", email=who_erases, now=START + timedelta(hours=2)).status == 204
    stayer = BOB if who_erases == ANN else ANN
    assert call("GET", f"/introductions/{intro_id}", email=stayer, now=START + timedelta(hours=3)).status == 404
    assert call("GET", "/introductions", email=stayer, now=START + timedelta(hours=3)).json()["items"] == []
    assert of_kind(aws, "introduction") == []
    assert of_kind(aws, "introduction_sent") == []
    assert holding(aws, member_sub(who_erases)) == set()
    assert holding(aws, who_erases) == set()
