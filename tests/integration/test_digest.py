"""The weekly digest end to end on moto: planning, the sweep, the queue, the sender, SES; once, and only with news."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest

from shared.adapters.models import Ask, AskReceived, Introduction, Member, member_pk
from tests.helpers import call, member, pact, profile
from tests.integration.digest_harness import DigestHarness
from tests.integration.group_harness import group_of, sub

ANN, BOB, CARA = "ann@example.org", "bob@example.org", "cara@example.org"
START = datetime(2026, 11, 2, 9, tzinfo=UTC)
WEEKLY = {"rhythm": {"weekday": "tuesday", "time": "08:30"}, "mode": "phone", "time_limit_minutes": 30}
MONDAY = datetime(2026, 12, 7, 9, tzinfo=UTC)  # Ann's digest slot: 09:00 in Dublin, her first weekday


@pytest.fixture
def digest(aws) -> DigestHarness:
    return DigestHarness()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def member_at(email: str, name: str, now: datetime, **overrides: object) -> None:
    reply = call("PUT", "/members/me", email=email, body=profile(name, **overrides), now=now)
    assert reply.status == 200, reply.body


def profile_of(email: str) -> Member:
    return Member.get(*Member.key(sub(email)), consistent_read=True)


def lapsed_pact_with_recent_contact() -> str:
    """Ann and Bob, weekly on Tuesdays; they last talked Friday 20 November: lapsed since 26 November, no isolation."""
    member(ANN, "Ann")
    member(BOB, "Bob")
    created = pact(ANN, BOB, now=START, **WEEKLY)
    body = {"occurred_at": "2026-11-20T10:00:00Z"}
    assert call("POST", f"/pacts/{created['id']}/check-ins", email=ANN, body=body, now=at("2026-11-20T11:00:00")).status == 201
    return str(created["id"])


def ask_for(email: str, text: str, created: datetime) -> AskReceived:
    item = AskReceived(
        member_pk(sub(email)),
        f"ASKED#{created:%Y-%m-%dT%H:%M:%SZ}#ask1",
        ask_id="ask1",
        author_name="Cara <Byrne>",
        text=text,
        audience_label="Grief & Loss",
        created_at=created,
    )
    item.save()
    Ask(*Ask.key("ask1"), ask_id="ask1", author_name="Cara <Byrne>", text=text, audience_kind="specialty", created_at=created).save()
    return item


def intro_to(email: str, created: datetime, intro_id: str = "intro1") -> Introduction:
    item = Introduction(
        *Introduction.key(intro_id),
        gsi1pk=member_pk(sub(email)),
        gsi1sk=f"INTRO#{created:%Y-%m-%dT%H:%M:%SZ}#{intro_id}",
        intro_id=intro_id,
        from_sub=sub(CARA),
        to_sub=sub(email),
        from_name="Cara",
        to_name="Ann",
        message="I'd value talking about perinatal work with you.",
        created_at=created,
        valid_until=created + timedelta(days=30),
    )
    item.save()
    return item


# ------------------------------------------------------------------ planning


def test_the_first_digest_is_planned_when_the_profile_is_saved(aws) -> None:
    member(ANN, "Ann")  # Tuesday 1 December
    assert profile_of(ANN).digest_due == "2026-12-07T09:00:00Z"
    # A quiet Monday: Tuesday instead; another hour and zone move it with them (never a quiet day).
    call(
        "PUT",
        "/members/me",
        email=ANN,
        body=profile("Ann", time_zone="America/New_York", notifications={"nudge_hour": 8, "quiet_days": ["monday"]}),
    )
    assert profile_of(ANN).digest_due == "2026-12-01T13:00:00Z"  # 08:00 in New York, later today
    call("PUT", "/members/me", email=ANN, body=profile("Ann", weekly_digest=False))
    assert profile_of(ANN).digest_due is None
    assert call("GET", "/members/me", email=ANN).json()["weekly_digest"] is False
    every_weekday = ["monday", "tuesday", "wednesday", "thursday", "friday"]
    call("PUT", "/members/me", email=ANN, body=profile("Ann", notifications={"quiet_days": every_weekday}))
    assert profile_of(ANN).digest_due is None


def test_nothing_to_say_sends_nothing_and_moves_on_a_week(digest) -> None:
    member(ANN, "Ann")
    assert digest.run(MONDAY) == []
    assert profile_of(ANN).digest_due == "2026-12-14T09:00:00Z"
    assert digest.run(MONDAY + timedelta(days=7)) == []
    assert profile_of(ANN).digest_due == "2026-12-21T09:00:00Z"


# ------------------------------------------------------------------ the sections


def test_each_section_when_there_is_something_in_it(digest) -> None:
    lapsed_pact_with_recent_contact()
    group_id = group_of(ANN, [BOB], at("2026-12-01T10:00:00"))
    asked = ask_for(ANN, "Does anyone know a good supervisor for EMDR in Cork?", at("2026-12-03T10:00:00"))
    introduced = intro_to(ANN, at("2026-12-04T10:00:00"))
    assert group_id
    mails = digest.run(MONDAY)
    assert [m.to for m in mails] == [ANN, BOB]  # Bob: his pact with Ann lapsed too, and the group meets
    ann = mails[0]
    assert ann.subject == "Your week in peer support"
    assert "Contact that has lapsed:\n* Bob (Tuesdays 08:30): lapsed 11 days ago" in ann.text
    assert "Group meetings in the next 7 days:\n* Cork peer supervision: Tuesday 8 December at 19:00" in ann.text
    assert 'Cara <Byrne> (to Grief & Loss): "Does anyone know a good supervisor for EMDR in Cork?"' in ann.text
    assert "Introduction requests waiting for your answer:\n* Cara:" in ann.text
    assert "a month or more" not in ann.text  # Ann talked with Bob on 20 November: no isolation line
    # Names are escaped in the HTML part.
    assert "Cara &lt;Byrne&gt;" in ann.html
    assert "Cara <Byrne>" not in ann.html
    assert "Grief &amp; Loss" in ann.html
    # Said once: the ask and the introduction are marked, and next week's digest does not repeat them.
    assert AskReceived.get(asked.pk, asked.sk).digested is True
    assert Introduction.get(introduced.pk, introduced.sk).digested is True
    again = [m for m in digest.run(MONDAY + timedelta(days=7)) if m.to == ANN]
    assert len(again) == 1
    assert "Colleagues asked" not in again[0].text
    assert "Introduction requests" not in again[0].text
    assert "Group meetings" not in again[0].text  # January's meeting is more than 7 days away
    assert profile_of(ANN).digest_week == "2026-W51"


def test_an_ask_closed_before_the_digest_is_not_listed_and_alone_sends_nothing(digest) -> None:
    # GIVEN Bob asked his pact colleague Ann two things, and closed the first before Monday
    member(ANN, "Ann")
    member(BOB, "Bob")
    pact(ANN, BOB, now=at("2026-12-01T10:00:00"), **WEEKLY)
    asked = [
        call("POST", "/asks", email=BOB, body={"text": text, "to": {"kind": "pacts"}}, now=at("2026-12-02T10:00:00")).json()["id"]
        for text in ("Anyone know a good EMDR supervisor?", "Has anyone run a grief group online?")
    ]
    assert call("POST", f"/asks/{asked[0]}/close", email=BOB, now=at("2026-12-03T10:00:00")).status == 200
    # WHEN Ann's digest goes, THEN it lists only the open ask
    [mail] = [m for m in digest.run(MONDAY) if m.to == ANN]
    assert "grief group online" in mail.text
    assert "EMDR supervisor" not in mail.text
    # AND both are settled in her inbox: the closed one is never mentioned later either
    inbox = list(AskReceived.query(member_pk(sub(ANN)), AskReceived.sk.startswith("ASKED#")))
    assert sorted(a.ask_id for a in inbox) == sorted(asked)
    assert all(a.digested for a in inbox)


def test_a_meeting_said_no_to_or_cancelled_is_not_listed(digest) -> None:
    group_id = group_of(ANN, [BOB], at("2026-12-01T10:00:00"))
    first = call("GET", f"/groups/{group_id}/meetings?limit=1", email=BOB, now=at("2026-12-01T10:00:00")).json()["items"][0]
    assert call("POST", f"/groups/{group_id}/meetings/{first['id']}/rsvp", email=BOB, body={"answer": "no"}, now=MONDAY).status == 200
    mails = digest.run(MONDAY)
    assert [m.to for m in mails] == [ANN]


def test_suppressed_or_unwanted_gets_nothing(digest) -> None:
    lapsed_pact_with_recent_contact()
    Member(*Member.key(sub(ANN))).update(actions=[Member.email_suppressed.set("bounce")], add_version_condition=False)
    call("PUT", "/members/me", email=BOB, body=profile("Bob", weekly_digest=False))
    assert digest.run(MONDAY) == []
    assert profile_of(ANN).digest_due is None  # out of the index until the address is fixed


# ------------------------------------------------------------------ once


def test_sent_once_under_duplicate_delivery(digest) -> None:
    lapsed_pact_with_recent_contact()
    call("PUT", "/members/me", email=BOB, body=profile("Bob", weekly_digest=False))
    digest.sweep(MONDAY)
    digest.sweep(MONDAY)  # a second sweep before the first's messages went: the same member twice
    messages = digest.receive()
    assert len(messages) == 2
    digest.deliver(messages, delete=False)  # the same SQS messages delivered ...
    digest.deliver(messages)  # ... twice
    assert [m.to for m in digest.sent()] == [ANN]
    assert digest.run(MONDAY + timedelta(minutes=15)) == []  # the next run finds nothing due


def test_a_redelivery_after_the_due_moved_on_still_sends_nothing(digest) -> None:
    lapsed_pact_with_recent_contact()
    call("PUT", "/members/me", email=BOB, body=profile("Bob", weekly_digest=False))
    digest.sweep(MONDAY)
    messages = digest.receive()
    digest.deliver(messages, delete=False)
    # The profile is saved between the two deliveries: the digest is re-planned, but this week's was sent.
    call("PUT", "/members/me", email=ANN, body=profile("Ann"), now=MONDAY + timedelta(minutes=1))
    assert profile_of(ANN).digest_due == "2026-12-14T09:00:00Z"
    digest.deliver(messages)
    assert len(digest.sent()) == 1


def test_an_invitation_never_answered_is_said_once_when_it_expired_never_as_lapsed_contact(digest) -> None:
    # Found trying it: Ann's digest said "Sile: lapsed 3 weeks ago" every week, for months, about a colleague who
    # never answered her invitation (nobody had talked, so nothing lapsed). Said once: when it has expired.
    member_at(ANN, "Ann", START)
    body = {"colleague": {"email": "sile@example.org", "name": "Sile"}, **WEEKLY}
    assert call("POST", "/pacts", email=ANN, body=body, now=START).status == 201  # open until Wednesday 2 December
    for monday in (at("2026-11-09T09:00:00"), at("2026-11-16T09:00:00"), at("2026-11-23T09:00:00"), at("2026-11-30T09:00:00")):
        assert digest.run(monday) == []  # nothing lapsed, nothing else to say
    [first] = digest.run(MONDAY)
    assert "Invitations that expired unanswered:\n* Sile (Tuesdays 08:30): expired on Wednesday 2 December" in first.text
    assert "send it again or delete the pact in the app" in first.text
    assert "lapsed" not in first.text
    assert "<strong>Sile</strong>" in first.html
    # The next weeks: not again (the month's isolation line was said with it, so nothing else to say either)
    assert digest.run(MONDAY + timedelta(days=7)) == []
    assert digest.run(MONDAY + timedelta(days=14)) == []


def test_an_invitation_that_expired_between_two_digests_more_than_a_week_apart_is_still_said(digest) -> None:
    # "Since the last digest", not "in the last 7 days": a member who moves their digest day leaves a longer gap.
    member_at(ANN, "Ann", at("2026-10-26T09:00:00"))
    body = {"colleague": {"email": "sile@example.org", "name": "Sile"}, **WEEKLY}
    assert call("POST", "/pacts", email=ANN, body=body, now=at("2026-10-31T18:00:00")).status == 201  # open until Mon 30 Nov 18:00
    intro_to(ANN, at("2026-11-27T10:00:00"))
    [before] = [m for m in digest.run(at("2026-11-30T09:00:00")) if m.to == ANN]
    assert "Sile" not in before.text  # not expired yet
    # Ann makes Mondays quiet: her next digest is on Tuesday 8 December, eight days later
    member_at(ANN, "Ann", at("2026-12-01T10:00:00"), notifications={"quiet_days": ["monday"]})
    assert [m for m in digest.run(at("2026-12-07T09:00:00")) if m.to == ANN] == []
    [later] = [m for m in digest.run(at("2026-12-08T09:00:00")) if m.to == ANN]
    assert "* Sile (Tuesdays 08:30): expired on Monday 30 November" in later.text


# ------------------------------------------------------------------ the isolation line


def test_isolation_line_at_most_once_a_month(digest) -> None:
    member_at(ANN, "Ann", START)
    member_at(BOB, "Bob", START)
    pact_id = pact(ANN, BOB, now=START, **WEEKLY)["id"]
    # They talked on Tuesday 3 November, and not since: a month and more by Monday 7 December
    talked = call(
        "POST", f"/pacts/{pact_id}/check-ins", email=ANN, body={"occurred_at": "2026-11-03T08:30:00Z"}, now=at("2026-11-03T09:00:00")
    )
    assert talked.status == 201, talked.body
    first = [m for m in digest.run(MONDAY) if m.to == ANN]
    assert len(first) == 1
    assert "It has been a month or more since you last talked with a colleague" in first[0].text
    assert "Why not send Bob a short note this week and pick your Tuesdays 08:30 check-ins back up?" in first[0].text
    for week in (1, 2, 3):
        later = [m for m in digest.run(MONDAY + timedelta(days=7 * week)) if m.to == ANN]
        assert len(later) == 1  # the lapsed contact is still news ...
        assert "a month or more" not in later[0].text  # ... the isolation line is not, within the month
    month_later = [m for m in digest.run(MONDAY + timedelta(days=35)) if m.to == ANN]
    assert "a month or more" in month_later[0].text


def test_isolation_step_proposes_a_groups_next_meeting_or_a_suggestion(digest) -> None:
    member_at(ANN, "Ann", START)
    member_at(CARA, "Cara", START)
    first = digest.run(MONDAY)
    assert [m.to for m in first] == [ANN, CARA]
    assert "Is there one colleague you trust you could suggest a regular check-in to?" in first[0].text
    # They never talked with anyone here: not "since you last talked", which would be a guess
    assert "You joined a month or more ago and no contact with a colleague is recorded yet." in first[0].text
    assert "since you last talked" not in first[0].text + first[0].html
    group_of(ANN, [CARA], at("2026-12-10T10:00:00"))
    # A month later: the group's next meeting (Tuesday 12 January) is the step, and the line is due again.
    mails = digest.run(at("2027-01-11T09:00:00"))
    ann = next(m for m in mails if m.to == ANN)
    assert "Cork peer supervision meets next on Tuesday 12 January at 19:00; the group would be glad to see you there." in ann.text


# ------------------------------------------------------------------ unsubscribing


def test_one_click_unsubscribe_stops_the_digest(digest) -> None:
    lapsed_pact_with_recent_contact()
    call("PUT", "/members/me", email=BOB, body=profile("Bob", weekly_digest=False))
    mail = digest.run(MONDAY)[0]
    assert mail.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = mail.headers["List-Unsubscribe"].split(">")[0].lstrip("<")
    assert url in mail.text
    reply = call(
        "POST",
        urlsplit(url).path,
        email=None,
        headers={"content-type": "application/x-www-form-urlencoded"},
        body=b"List-Unsubscribe=One-Click",
        now=MONDAY + timedelta(hours=1),
    )
    assert reply.status == 200
    assert digest.run(MONDAY + timedelta(days=7)) == []
    assert profile_of(ANN).digest_due is None


def test_a_missed_week_is_caught_up_once_by_a_later_run(digest) -> None:
    lapsed_pact_with_recent_contact()
    call("PUT", "/members/me", email=BOB, body=profile("Bob", weekly_digest=False))
    wednesday = MONDAY + timedelta(days=2)  # Monday's runs never happened
    assert [m.to for m in digest.run(wednesday)] == [ANN]
    assert profile_of(ANN).digest_week == "2026-W50"
    assert profile_of(ANN).digest_due == "2026-12-14T09:00:00Z"
    assert digest.run(wednesday + timedelta(hours=1)) == []


def test_a_rejected_address_is_marked_and_the_digest_leaves_the_index(digest, monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.exceptions import ClientError

    from shared.adapters.mail import Mailer

    lapsed_pact_with_recent_contact()
    call("PUT", "/members/me", email=BOB, body=profile("Bob", weekly_digest=False))

    def rejected(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise ClientError({"Error": {"Code": "MessageRejected", "Message": "Address blacklisted"}}, "SendEmail")

    monkeypatch.setattr(Mailer, "send", rejected)
    digest.sweep(MONDAY)
    assert digest.deliver()["batchItemFailures"] == []
    assert call("GET", "/members/me", email=ANN).json()["email_status"] == "rejected"
    assert profile_of(ANN).digest_due is None
    assert digest.sweep(MONDAY + timedelta(days=7))["items_read"] == 0


def test_a_transient_failure_is_retried_and_then_sent_once(digest, monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.exceptions import ClientError

    from shared.adapters.mail import Mailer

    lapsed_pact_with_recent_contact()
    call("PUT", "/members/me", email=BOB, body=profile("Bob", weekly_digest=False))
    real = Mailer.send

    def throttled(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise ClientError({"Error": {"Code": "Throttling", "Message": "slow down"}}, "SendEmail")

    monkeypatch.setattr(Mailer, "send", throttled)
    digest.sweep(MONDAY)
    assert len(digest.deliver()["batchItemFailures"]) == 1  # back to the queue, the claim released
    monkeypatch.setattr(Mailer, "send", real)
    digest.deliver()
    assert [m.to for m in digest.sent()] == [ANN]
