"""What the one-tap links do: show a confirmation (a GET changes nothing), then act on the POST."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from shared.adapters.db import cancellation_codes, connection, refused
from shared.adapters.models import Introduction, Invitation, LinkToken, Member, PactView
from shared.domain import rhythm
from shared.domain.tags import labels_of
from shared.groups import series
from shared.groups.writes import AddressInvitation, decline_group_by_link, invitation_of_address
from shared.groups.writes import with_retries as group_with_retries
from shared.invitations.emails import group_terms, proposed_terms
from shared.invitations.use_cases import decline_by_link
from shared.links.tokens import LinkProblem, look_up, nonce, use_link
from shared.nudges.sending import MODES
from shared.nudges.suppression import suppress_address
from shared.pacts.checkins import CheckInRequest, record_check_in
from shared.pacts.planning import Ctx, Retry, local_midnight, persist_views, stop_nudge_emails, views_of, with_retries

SNOOZE = timedelta(days=7)
PAUSE = timedelta(days=28)


@dataclass(frozen=True)
class Page:
    status: int
    title: str
    lines: list[str] = field(default_factory=list)
    buttons: list[tuple[str, str]] = field(default_factory=list)  # (choice, label)
    nonce: str | None = None


PROBLEM_PAGES = {
    "unknown": Page(404, "This link does not work", ["It may have been mistyped or shortened. Nothing has been recorded."]),
    "expired": Page(410, "This link has expired", ["Links work for a week. You can record a check-in in the app any time."]),
    "used": Page(410, "Already done", ["This link has been used already, so nothing more was recorded. Thank you!"]),
    "ended": Page(
        410,
        "This pact has ended",
        ["Your colleague is no longer part of it, so there is nothing to record here. Nothing has been recorded."],
    ),
    "invitation_closed": Page(
        410,
        "This invitation is no longer open",
        ["It was withdrawn, or it has been answered already. There is nothing you need to do."],
    ),
    "invitation_expired": Page(
        410,
        "This invitation has expired",
        ["Invitations stay open for 30 days. Whoever sent it can send it again if they like."],
    ),
    "meeting_closed": Page(
        410,
        "This meeting is no longer open to replies",
        ["It is no longer on the group's calendar, or you are no longer in the group. Nothing has been recorded."],
    ),
    "introduction_closed": Page(
        410,
        "This introduction is no longer open",
        ["It has been answered already, or it was not answered in time and has closed. There is nothing you need to do."],
    ),
    "meeting_started": Page(410, "This meeting has already started", ["Nothing has been recorded. There is nothing you need to do."]),
    "meeting_cancelled": Page(410, "This meeting was cancelled", ["Nothing has been recorded. There is nothing you need to do."]),
}


def _view(item: LinkToken) -> PactView:
    try:
        view = PactView.get(*PactView.key(str(item.pact_id), item.member_sub))
    except DoesNotExist:
        raise LinkProblem("unknown") from None  # the pact is gone (left, erased)
    if view.state == "ended":
        raise LinkProblem("ended")  # the colleague left or closed their account: nothing to record
    return view


def _invitation(item: LinkToken, now: datetime) -> tuple[PactView, Member]:
    """The open invitation an invitation link stands for, with the inviter; LinkProblem if it is not open any more."""
    try:
        invitation = Invitation.get(*Invitation.key(str(item.invite_key), str(item.pact_id)), consistent_read=True)
        owner = PactView.get(*PactView.key(invitation.pact_id, invitation.inviter_sub), consistent_read=True)
        inviter = Member.get(*Member.key(invitation.inviter_sub))
    except DoesNotExist:
        raise LinkProblem("invitation_closed") from None
    if owner.invite_key != item.invite_key or owner.state != "active":
        raise LinkProblem("invitation_closed")
    if invitation.valid_until <= now:
        raise LinkProblem("invitation_expired")
    return owner, inviter


def _invitation_page(item: LinkToken, now: datetime) -> Page:
    owner, inviter = _invitation(item, now)
    terms = proposed_terms(owner, now)
    return Page(
        200,
        f"{inviter.display_name} invites you to regular check-ins",
        [
            f"{terms['when']}, {terms['mode']}, {terms['time_limit']} minutes; the first one {terms['first']}.",
            "To accept, sign in or create your free account in the Peer support app with the address this invitation came to: "
            "it will be waiting for you there.",
            f"If it is not for you, say so here: {inviter.display_name} will be told kindly, without a reason.",
        ],
        [("decline", "No, thank you")],
        nonce(item),
    )


def _group_invitation(item: LinkToken, now: datetime) -> tuple[AddressInvitation, Member | None]:
    """The open group invitation a link stands for, with who invited; LinkProblem once it is not open."""
    found = invitation_of_address(str(item.group_id), str(item.invite_key), now)
    if found is None:
        raise LinkProblem("invitation_closed")
    if found.invitation.valid_until <= now:
        raise LinkProblem("invitation_expired")
    inviter = None
    with suppress(DoesNotExist):
        inviter = Member.get(*Member.key(found.invitation.inviter_sub))
    return found, inviter


def _group_invitation_page(item: LinkToken, now: datetime) -> Page:
    found, inviter = _group_invitation(item, now)
    terms = group_terms(found.state, now)
    lines = [f"What it is for: {terms['purpose']}"] if terms["purpose"] else []
    lines += [
        f"{terms['when']}, {terms['minutes']} minutes. {terms['first_label']}: {terms['first']}.",
        "To join, sign in or create your free account in the Peer support app with the address this invitation came to: "
        "it will be waiting for you there.",
        "If it is not for you, say so here: nobody will ask you for a reason.",
    ]
    who = inviter.display_name if inviter is not None else "A colleague"
    title = f"{who} invites you to the peer supervision group {found.state.group.name}"
    return Page(200, title, lines, [("decline", "No, thank you")], nonce(item))


INTRO_ACTIONS = {"intro_accept": "accept", "intro_decline": "decline"}  # the link's action -> its page's one choice


def _introduction(item: LinkToken, now: datetime) -> Introduction:
    """The open introduction an introduction link stands for; LinkProblem if it is answered, closed or gone."""
    try:
        intro = Introduction.get(*Introduction.key(str(item.intro_id)), consistent_read=True)
    except DoesNotExist:
        raise LinkProblem("introduction_closed") from None
    if intro.to_sub != item.member_sub or intro.state != "pending" or now >= intro.valid_until:
        raise LinkProblem("introduction_closed")
    return intro


def _introduction_page(item: LinkToken, now: datetime) -> Page:
    intro = _introduction(item, now)
    about = []
    with suppress(DoesNotExist):
        requester = Member.get(*Member.key(intro.from_sub))
        if requester.specialties:
            about.append("Specialties: " + ", ".join(labels_of(requester.specialties, requester.specialty_labels)))
        if requester.region_name:
            about.append(f"Region: {requester.region_name}")
    lines = [f"“{intro.message}”", *about]
    if item.action == "intro_accept":
        lines.append("If you accept, you will both see each other's email address (and phone number, if set) in the app.")
        return Page(200, f"{intro.from_name} would like to be introduced to you", lines, [("accept", "Yes, introduce us")], nonce(item))
    lines.append(f"Declining is silent: {intro.from_name} will not be told.")
    return Page(200, f"Decline {intro.from_name}'s introduction?", lines, [("decline", "No, thank you")], nonce(item))


def _answer_introduction(item: LinkToken, choice: str, ctx: Ctx) -> Page:
    """Accept or decline as the member the link was made for, using the link up in the same transaction."""
    from shared.domain.errors import DomainError
    from shared.network.introductions import use_cases as introductions  # only these links need it

    intro = _introduction(item, ctx.now)
    try:
        if choice == "accept":
            introductions.accept(ctx, intro.intro_id, link=item)
        else:
            introductions.decline(ctx, intro.intro_id, link=item)
    except DomainError:
        raise LinkProblem("introduction_closed") from None
    if choice == "accept":
        return Page(
            200,
            f"You and {intro.from_name} are introduced",
            ["You can now both see each other's contact details in the app, and make a pact there in one step if you like."],
        )
    return Page(200, "Declined", [f"Nothing more will come about it, and {intro.from_name} will not be told."])


def show(token: str, now: datetime) -> Page:
    try:
        item = look_up(token, now)
        if item.action == "invitation":
            return _invitation_page(item, now)
        if item.action == "group_invitation":
            return _group_invitation_page(item, now)
        if item.action == "unsubscribe" and item.invite_key:
            return Page(
                200,
                "Stop emails from Peer support?",
                [
                    "No introduction or invitation will be emailed to this address again."
                    if item.intro_id
                    else "No invitation will be emailed to this address again."
                ],
                [("unsubscribe", "Don't email me again")],
                nonce(item),
            )
        if item.action == "unsubscribe":
            return Page(
                200,
                "Stop nudge emails?",
                ["You will get no more reminder emails about lapsed check-ins."],
                [("unsubscribe", "Stop nudge emails")],
                nonce(item),
            )
        if item.action == "rsvp_no":
            return _rsvp_page(item, now)
        if item.action in INTRO_ACTIONS:
            return _introduction_page(item, now)
        view = _view(item)
    except LinkProblem as problem:
        return PROBLEM_PAGES[problem.kind]
    terms = f"{rhythm.describe(view.rrule)}, {MODES.get(view.mode, view.mode)}, {int(view.time_limit_minutes)} min"
    who = view.colleague_name
    if item.action == "check_in":
        return Page(
            200,
            f"Did you and {who} talk?",
            [terms],
            [("yes", "Yes, we talked"), ("no", "Not this time"), ("snooze", "Snooze a week")],
            nonce(item),
        )
    if item.action == "snooze":
        return Page(200, f"Snooze reminders about {who} for a week?", [terms], [("snooze", "Snooze a week")], nonce(item))
    until = _pause_until(item, now)
    return Page(
        200, f"Pause your pact with {who}?", [terms, f"It resumes by itself on {until:%A %-d %B}."], [("pause", "Pause it")], nonce(item)
    )


def _pause_until(item: LinkToken, now: datetime) -> datetime:
    zone = _zone(item.member_sub)
    return local_midnight((now + PAUSE).astimezone(ZoneInfo(zone)).date(), zone)


def _zone(sub: str) -> str:
    try:
        return Member.get(*Member.key(sub)).time_zone
    except DoesNotExist:
        return "UTC"


def _meeting(item: LinkToken, now: datetime) -> tuple[series.GroupState, series.Occurrence]:
    """The meeting a reminder's "I can't make it" link stands for, as the group sees it now; LinkProblem if replies are closed."""
    state = series.load(str(item.group_id), now - series.LOOK_BACK)
    person = state.people.get(item.member_sub) if state is not None else None
    original = series.parse_meeting_id(str(item.meeting_id))
    if state is None or person is None or person.state != "active" or original is None:
        raise LinkProblem("meeting_closed")
    found = next((o for o in series.expand(state, now, 8) if o.original_start == original), None)
    if found is None:
        raise LinkProblem("meeting_started" if original <= now else "meeting_closed")
    if found.status == "cancelled":
        raise LinkProblem("meeting_cancelled")
    if found.starts_at <= now:
        raise LinkProblem("meeting_started")
    return state, found


def _rsvp_page(item: LinkToken, now: datetime) -> Page:
    state, meeting = _meeting(item, now)
    zone = _zone(item.member_sub)
    local = meeting.starts_at.astimezone(ZoneInfo(zone))
    when = f"{local:%A %-d %B, %H:%M} ({zone} time)"
    if meeting.rsvp(item.member_sub) == "no":
        lines = [when, "Nothing more is needed. Thank you for letting them know."]
        return Page(200, f"You have told {state.group.name} you can't make it", lines)
    lines = [when, "The group will see that you can't come; no reason is needed."]
    if item.member_sub in meeting.presenters:
        lines.append("You were to present: your slot passes to the next person in turn.")
    return Page(200, f"Can't make it to {state.group.name}?", lines, [("no", "I can't make it")], nonce(item))


def _rsvp_no(item: LinkToken, ctx: Ctx) -> Page:
    """RSVP "no" as the member (their slot passes on), then use the link up. A repeat changes nothing: "no" is "no"."""
    from shared.domain.errors import Conflict, NotFound
    from shared.groups import meetings  # only these links need the meetings' module and its schemas

    state, _ = _meeting(item, ctx.now)
    try:
        meetings.rsvp(ctx, str(item.group_id), str(item.meeting_id), "no")
    except NotFound:
        raise LinkProblem("meeting_closed") from None
    except Conflict:
        return Page(409, "Please try again", ["The group was changing at the same moment. Nothing has been recorded yet."])
    try:
        with TransactWrite(connection=connection()) as tx:
            use_link(tx, item, ctx.now, "rsvp_no")
    except TransactWriteError:
        raise LinkProblem("used") from None
    return Page(200, "Thank you for letting them know", [f"{state.group.name} will see that you can't come. Nothing more is needed."])


def perform(token: str, form: dict[str, str], now: datetime, ctx: Ctx) -> Page:
    """Do what the confirmed form asks. `ctx.sub` is filled in from the link, never from the request."""
    try:
        item = look_up(token, now)
        # RFC 8058: a mail client's one-click POST has no page and no nonce; only an unsubscribe link takes it.
        one_click = item.action == "unsubscribe" and form.get("List-Unsubscribe") == "One-Click"
        if not one_click and form.get("nonce") != nonce(item):
            return Page(400, "Please use the buttons on the page", ["Open the link again and choose there. Nothing has been recorded."])
        ctx = Ctx(sub=item.member_sub, now=now, due_shards=ctx.due_shards)
        choice = form.get("choice", "unsubscribe" if one_click else "")
        if item.action == "unsubscribe" and choice == "unsubscribe" and item.invite_key:
            suppress_address("", "unsubscribed", now, key=item.invite_key)
            return Page(200, "Done: we won't email you again", ["No invitation will be emailed to this address again."])
        if item.action == "invitation" and choice == "decline":
            _invitation(item, now)
            if not decline_by_link(ctx, str(item.pact_id), str(item.invite_key)):
                raise LinkProblem("invitation_closed")
            return Page(
                200, "Thank you for letting them know", ["They will be told kindly, without a reason. Nothing more will come about it."]
            )
        if item.action == "group_invitation" and choice == "decline":
            group_with_retries(lambda: decline_group_by_link(_group_invitation(item, now)[0], now))
            return Page(
                200,
                "Thank you for letting them know",
                ["The group will see that you said no, without a reason. Nothing more will come about it."],
            )
        if item.action == "unsubscribe" and choice == "unsubscribe":
            stop_nudge_emails(ctx, "unsubscribed")
            return Page(200, "Done: no more nudge or digest emails", ["You can turn them back on in your profile whenever you like."])
        if item.action == "rsvp_no" and choice == "no":
            return _rsvp_no(item, ctx)
        if item.action in INTRO_ACTIONS and choice == INTRO_ACTIONS[item.action]:
            return _answer_introduction(item, choice, ctx)
        allowed = {"check_in": {"yes", "no", "snooze"}, "snooze": {"snooze"}, "pause": {"pause"}}.get(item.action, set())
        if choice not in allowed:
            return Page(400, "Please use the buttons on the page", ["Open the link again and choose there. Nothing has been recorded."])
        return with_retries(lambda: _act(item, choice, ctx))
    except LinkProblem as problem:
        return PROBLEM_PAGES[problem.kind]


def _act(item: LinkToken, choice: str, ctx: Ctx) -> Page:
    """One attempt, on freshly read views (a concurrent change to the pact means: read again, redo)."""
    view = _view(item)
    if choice == "yes":
        record_check_in(ctx, view.pact_id, CheckInRequest(), source="link", link=item)
        return Page(200, "Thank you, it is recorded", [f"Your check-in with {view.colleague_name} is in. Until next time!"])
    if choice == "no":
        _settle(item, ctx, [], (), "not_this_time")
        return Page(200, "Noted", ["Nothing was recorded. A little nudge may follow later."])
    if choice == "snooze":
        view.snoozed_until = ctx.now + SNOOZE
        _settle(item, ctx, [view], ("snoozed_until",), "snooze")
        return Page(200, "Snoozed for a week", [f"No reminders about {view.colleague_name} until {view.snoozed_until:%A %-d %B}."])
    until = _pause_until(item, ctx.now)
    views = list(views_of(view.pact_id).values())
    for each in views:
        each.paused_until = until
    _settle(item, ctx, views, ("paused_until",), "pause")
    return Page(200, "Paused", [f"Your pact with {view.colleague_name} resumes by itself on {until:%A %-d %B}."])


def _settle(item: LinkToken, ctx: Ctx, views: list[PactView], names: tuple[str, ...], outcome: str) -> None:
    """The change and the link's use in one transaction: a second tap changes nothing."""
    try:
        with TransactWrite(connection=connection()) as tx:
            if views:
                persist_views(ctx, views, names, tx)
            use_link(tx, item, ctx.now, outcome)
    except TransactWriteError as err:
        codes = cancellation_codes(err)
        if codes[-1:] == ["ConditionalCheckFailed"]:  # the link went last: used meanwhile
            raise LinkProblem("used") from err
        if refused(err):
            raise Retry from err  # a view changed between read and write
        raise
