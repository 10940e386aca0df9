"""The HTTP API function: parse, call a use-case in shared/, shape the response. No business rules here."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.adapters.http import caller, create_resolver, public_base_url, request_time
from shared.adapters.observability import logger
from shared.adapters.schema_types import Page
from shared.adapters.settings import get_settings
from shared.calendar import use_cases as calendar
from shared.groups import meetings
from shared.groups import use_cases as groups
from shared.groups.schemas import (
    AttendanceIn,
    AttendedOut,
    CalendarOut,
    CancelIn,
    GroupIn,
    GroupOut,
    GroupPatch,
    InviteIn,
    MeetingOut,
    RescheduleIn,
    RoleIn,
    RsvpIn,
)
from shared.invitations import use_cases as invitations
from shared.members import use_cases as members
from shared.members.schemas import AwayIn, ExportOut, MemberOut, NudgeOut, ProfileIn
from shared.network.asks import use_cases as asks
from shared.network.asks.schemas import AskIn, AskOut, ReplyIn, ReplyOut
from shared.network.directory import use_cases as directory
from shared.network.directory.schemas import DirectoryCardOut, SuggestionsOut
from shared.network.introductions import use_cases as introductions
from shared.network.introductions.schemas import IntroductionIn, IntroductionOut, IntroductionPactIn
from shared.network.support import log as support_log
from shared.network.support import use_cases as support
from shared.network.support.schemas import SupportOut
from shared.pacts import use_cases as pacts
from shared.pacts.checkins import CheckInRequest
from shared.pacts.checkins import record_check_in as record_check_in_
from shared.pacts.planning import Ctx
from shared.pacts.schemas import CheckInIn, CheckInOut, PactIn, PactOut, PactPatch, PauseIn, ResendIn

app = create_resolver(
    title="Peer support API",
    description=(
        "Regular check-ins between colleagues (pacts), the check-ins themselves, and the profile they hang on. "
        "Errors are RFC 9457 problem details. Every route needs a Cognito access token with the peer-support/api scope."
    ),
)

Limit = Annotated[int, Query(ge=1, le=100, description="Items per page.")]
Cursor = Annotated[str | None, Query(max_length=2000, description="The `next` value of the previous page.")]


def ctx() -> Ctx:
    return Ctx(sub=caller(app).sub, now=request_time(app), due_shards=get_settings().due_shards)


def created(body: Any, location: str) -> Response[Any]:
    return Response(status_code=201, content_type="application/json", body=body, headers={"Location": location})


# ------------------------------------------------------------------ members


@app.get("/members/me", summary="Your profile", tags=["members"])
def get_me() -> MemberOut:
    return members.get_profile(caller(app).sub)


@app.put("/members/me", summary="Create or replace your profile", tags=["members"])
def put_me(body: ProfileIn) -> MemberOut:
    who = caller(app)
    return members.put_profile(ctx(), who.email, who.email_verified, body)


@app.delete("/members/me", summary="Erase your account and everything you own", tags=["members"], status_code=204)
def delete_me() -> Response[str]:
    members.erase(ctx())
    return Response(status_code=204, body="")


@app.get("/members/me/export", summary="Everything you own, as JSON", tags=["members"])
def export_me() -> ExportOut:
    return members.export(ctx())


@app.put("/members/me/away", summary="Away until a date: pauses all your pacts and nudges", tags=["members"])
def away(body: AwayIn) -> MemberOut:
    return members.set_away(ctx(), body)


@app.delete("/members/me/away", summary="Back early: resume what away mode paused", tags=["members"])
def back() -> MemberOut:
    return members.clear_away(ctx())


@app.post(
    "/members/me/calendar-secret",
    summary="Your private calendar feed's address: a new one each time (the previous one stops at once)",
    tags=["members"],
)
def calendar_secret() -> CalendarOut:
    return calendar.create_or_rotate(ctx(), public_base_url(app, get_settings().public_base_url))


@app.get("/members/me/nudges", summary="The nudge emails you were sent lately (90 days)", tags=["members"])
def my_nudges(limit: Limit = 20, next: Cursor = None) -> Page[NudgeOut]:  # noqa: A002
    return members.recent_nudges(ctx(), limit, next)


# ------------------------------------------------------------------ pacts


@app.post("/pacts", summary="Agree a regular check-in with a colleague", tags=["pacts"], status_code=201)
def create_pact(body: PactIn) -> Response[PactOut]:
    pact = pacts.create_pact(ctx(), body)
    return created(pact, f"/pacts/{pact.id}")


@app.get("/pacts", summary="Your pacts, each with its status and next due time", tags=["pacts"])
def list_pacts(limit: Limit = 20, next: Cursor = None) -> Page[PactOut]:  # noqa: A002 - the query parameter's name
    return pacts.list_pacts(ctx(), limit, next)


@app.get("/pacts/<pact_id>", summary="One pact", tags=["pacts"])
def get_pact(pact_id: str) -> PactOut:
    return pacts.get_pact(ctx(), pact_id)


@app.patch("/pacts/<pact_id>", summary="Change the rhythm, mode, time limit or grace period", tags=["pacts"])
def patch_pact(pact_id: str, body: PactPatch) -> PactOut:
    return pacts.update_pact(ctx(), pact_id, body)


@app.delete("/pacts/<pact_id>", summary="Leave a pact (a colleague who stays keeps it)", tags=["pacts"], status_code=204)
def delete_pact(pact_id: str) -> Response[str]:
    pacts.delete_pact(ctx(), pact_id)
    return Response(status_code=204, body="")


@app.post("/pacts/<pact_id>/accept", summary="Accept an invitation to a pact", tags=["pacts"])
def accept_pact(pact_id: str) -> PactOut:
    return pacts.accept_pact(ctx(), pact_id)


@app.post(
    "/pacts/<pact_id>/decline",
    summary="Decline an invitation to a pact (the inviter is told kindly, without a reason)",
    tags=["pacts"],
    status_code=204,
)
def decline_pact(pact_id: str) -> Response[str]:
    invitations.decline(ctx(), pact_id)
    return Response(status_code=204, body="")


@app.post("/pacts/<pact_id>/resend-invitation", summary="Send your invitation again (same limits; a corrected address)", tags=["pacts"])
def resend_invitation(pact_id: str, body: ResendIn | None = None) -> PactOut:
    return pacts.resend_invitation(ctx(), pact_id, body or ResendIn())


@app.post("/pacts/<pact_id>/pause", summary="Pause until a date (holidays, leave)", tags=["pacts"])
def pause_pact(pact_id: str, body: PauseIn) -> PactOut:
    return pacts.pause_pact(ctx(), pact_id, body)


@app.post("/pacts/<pact_id>/resume", summary="Resume a paused pact now", tags=["pacts"])
def resume_pact(pact_id: str) -> PactOut:
    return pacts.resume_pact(ctx(), pact_id)


# ------------------------------------------------------------------ check-ins


@app.post("/pacts/<pact_id>/check-ins", summary="Record that you talked", tags=["check-ins"], status_code=201)
def record_check_in(
    pact_id: str,
    body: CheckInIn | None = None,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=100,
            description="Any text you choose (1-100 characters): sent again within 24 hours, the first answer is replayed.",
        ),
    ] = None,
) -> Response[CheckInOut]:
    request = CheckInRequest(**(body or CheckInIn()).model_dump())
    recorded = record_check_in_(ctx(), pact_id, request, idempotency_key=idempotency_key)
    response = created(CheckInOut.model_validate(asdict(recorded.check_in)), f"/pacts/{pact_id}/check-ins")
    if recorded.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@app.get("/pacts/<pact_id>/check-ins", summary="A pact's check-ins, newest first", tags=["check-ins"])
def list_pact_check_ins(pact_id: str, limit: Limit = 20, next: Cursor = None) -> Page[CheckInOut]:  # noqa: A002
    return pacts.list_pact_check_ins(ctx(), pact_id, limit, next)


@app.get("/check-ins", summary="All your check-ins, newest first", tags=["check-ins"])
def list_my_check_ins(limit: Limit = 20, next: Cursor = None) -> Page[CheckInOut]:  # noqa: A002
    return pacts.list_my_check_ins(ctx(), limit, next)


# ------------------------------------------------------------------ groups


@app.post("/groups", summary="Start a peer supervision group (you are its convener)", tags=["groups"], status_code=201)
def create_group(body: GroupIn) -> Response[GroupOut]:
    group = groups.create_group(ctx(), body)
    return created(group, f"/groups/{group.id}")


@app.get("/groups", summary="Your groups, and invitations to groups", tags=["groups"])
def list_groups(limit: Limit = 20, next: Cursor = None) -> Page[GroupOut]:  # noqa: A002
    return groups.list_groups(ctx(), limit, next)


@app.get("/groups/<group_id>", summary="One group: its agreement, members and next meeting", tags=["groups"])
def get_group(group_id: str) -> GroupOut:
    return groups.get_group(ctx(), group_id)


@app.patch("/groups/<group_id>", summary="Change the agreement or settings (conveners)", tags=["groups"])
def patch_group(group_id: str, body: GroupPatch) -> GroupOut:
    return groups.update_group(ctx(), group_id, body)


@app.post("/groups/<group_id>/invitations", summary="Invite a colleague by email, member or not (conveners)", tags=["groups"])
def invite_to_group(group_id: str, body: InviteIn) -> GroupOut:
    return groups.invite(ctx(), group_id, body.email)


@app.post("/groups/<group_id>/accept", summary="Accept an invitation to a group", tags=["groups"])
def accept_group(group_id: str) -> GroupOut:
    return groups.accept(ctx(), group_id)


@app.post("/groups/<group_id>/decline", summary="Decline an invitation to a group", tags=["groups"], status_code=204)
def decline_group(group_id: str) -> Response[str]:
    groups.decline(ctx(), group_id)
    return Response(status_code=204, body="")


@app.delete(
    "/groups/<group_id>/members/<member_id>",
    summary="Leave (your own id or 'me'), remove a member or withdraw an invitation (conveners)",
    tags=["groups"],
    status_code=204,
)
def remove_from_group(group_id: str, member_id: str) -> Response[str]:
    c = ctx()
    groups.remove(c, group_id, c.sub if member_id == "me" else member_id)
    return Response(status_code=204, body="")


@app.put("/groups/<group_id>/members/<member_id>/role", summary="Make a member a convener, or step back (conveners)", tags=["groups"])
def set_group_role(group_id: str, member_id: str, body: RoleIn) -> GroupOut:
    return groups.set_role(ctx(), group_id, member_id, body.role)


@app.post("/groups/<group_id>/members/<member_id>/hand-over", summary="Hand your convener role to this member", tags=["groups"])
def hand_over(group_id: str, member_id: str) -> GroupOut:
    return groups.hand_over(ctx(), group_id, member_id)


When = Annotated[Literal["upcoming", "past"], Query(description="Upcoming meetings (soonest first) or past ones (newest first).")]
MeetingLimit = Annotated[int, Query(ge=1, le=50, description="Meetings per page.")]


@app.get("/groups/<group_id>/meetings", summary="The group's meetings, with agendas and presenters", tags=["meetings"])
def list_meetings(group_id: str, when: When = "upcoming", limit: MeetingLimit = 3, next: Cursor = None) -> Page[MeetingOut]:  # noqa: A002
    return meetings.list_meetings(ctx(), group_id, when, limit, next)


@app.get("/groups/<group_id>/meetings/<meeting_id>", summary="One meeting", tags=["meetings"])
def get_meeting(group_id: str, meeting_id: str) -> MeetingOut:
    return meetings.get_meeting(ctx(), group_id, meeting_id)


@app.post("/groups/<group_id>/meetings/<meeting_id>/rsvp", summary="Will you come? yes, no or maybe", tags=["meetings"])
def rsvp(group_id: str, meeting_id: str, body: RsvpIn) -> MeetingOut:
    return meetings.rsvp(ctx(), group_id, meeting_id, body.answer)


@app.post("/groups/<group_id>/meetings/<meeting_id>/slot-requests", summary="Ask for a presentation slot", tags=["meetings"])
def request_slot(group_id: str, meeting_id: str) -> MeetingOut:
    return meetings.request_slot(ctx(), group_id, meeting_id)


@app.post("/groups/<group_id>/meetings/<meeting_id>/give-back", summary="Give your presentation slot back", tags=["meetings"])
def give_back(group_id: str, meeting_id: str) -> MeetingOut:
    return meetings.give_back(ctx(), group_id, meeting_id)


@app.post("/groups/<group_id>/meetings/<meeting_id>/cancel", summary="Cancel this one meeting (conveners)", tags=["meetings"])
def cancel_meeting(group_id: str, meeting_id: str, body: CancelIn | None = None) -> MeetingOut:
    return meetings.cancel(ctx(), group_id, meeting_id, (body or CancelIn()).reason)


@app.post(
    "/groups/<group_id>/meetings/<meeting_id>/reschedule",
    summary="Move this one meeting or change its venue (conveners)",
    tags=["meetings"],
)
def reschedule_meeting(group_id: str, meeting_id: str, body: RescheduleIn) -> MeetingOut:
    return meetings.reschedule(ctx(), group_id, meeting_id, body, get_settings().due_shards)


@app.post(
    "/groups/<group_id>/meetings/<meeting_id>/attendance",
    summary="After the meeting: who came and who presented (conveners or the host)",
    tags=["meetings"],
)
def record_attendance(group_id: str, meeting_id: str, body: AttendanceIn) -> MeetingOut:
    return meetings.record_attendance(ctx(), group_id, meeting_id, body)


@app.get("/members/me/meetings", summary="The group meetings you attended, newest first", tags=["meetings"])
def my_meetings(limit: Limit = 20, next: Cursor = None) -> Page[AttendedOut]:  # noqa: A002
    return meetings.my_meetings(ctx(), limit, next)


# ------------------------------------------------------------------ the network: directory and suggestions

SearchText = Annotated[str | None, Query(max_length=80, description="Matched forgivingly: case, accents and synonyms (PTSD finds trauma).")]


@app.get("/directory", summary="Find colleagues by specialty, modality or region: closest to you first", tags=["network"])
def search_directory(
    specialty: SearchText = None,
    modality: SearchText = None,
    region: SearchText = None,
    q: SearchText = None,
    limit: Limit = 20,
    next: Cursor = None,  # noqa: A002
) -> Page[DirectoryCardOut]:
    return directory.search(ctx(), specialty=specialty, modality=modality, region=region, q=q, limit=limit, cursor=next)


SuggestionLimit = Annotated[int, Query(ge=1, le=50, description="At most this many suggestions.")]


@app.get("/suggestions", summary="Colleagues you might agree a pact with, each with the reason", tags=["network"])
def get_suggestions(limit: SuggestionLimit = 10) -> SuggestionsOut:
    return directory.suggestions(ctx(), limit)


@app.post("/suggestions/<member_id>/dismiss", summary="Never suggest this colleague again (idempotent)", tags=["network"], status_code=204)
def dismiss_suggestion(member_id: str) -> Response[str]:
    directory.dismiss(ctx(), member_id)
    return Response(status_code=204, body="")


# ------------------------------------------------------------------ the network: introductions


@app.post(
    "/introductions",
    summary="Ask to be introduced to a colleague in the directory (5 a day; not the same colleague again for 90 days)",
    tags=["introductions"],
    status_code=201,
)
def request_introduction(body: IntroductionIn) -> Response[IntroductionOut]:
    intro = introductions.request(ctx(), body)
    return created(intro, f"/introductions/{intro.id}")


@app.get("/introductions", summary="Introductions you asked for and were asked for, newest first", tags=["introductions"])
def list_introductions() -> Page[IntroductionOut]:
    return introductions.list_mine(ctx())


@app.get("/introductions/<intro_id>", summary="One introduction; once accepted, the other's contact details", tags=["introductions"])
def get_introduction(intro_id: str) -> IntroductionOut:
    return introductions.get(ctx(), intro_id)


@app.post("/introductions/<intro_id>/accept", summary="Accept: you both see each other's contact details", tags=["introductions"])
def accept_introduction(intro_id: str) -> IntroductionOut:
    return introductions.accept(ctx(), intro_id)


@app.post(
    "/introductions/<intro_id>/decline",
    summary="Decline, silently (the requester is never told)",
    tags=["introductions"],
    status_code=204,
)
def decline_introduction(intro_id: str) -> Response[str]:
    introductions.decline(ctx(), intro_id)
    return Response(status_code=204, body="")


@app.post(
    "/introductions/<intro_id>/pact",
    summary="Make a mutual pact with the colleague you were introduced to, in one step",
    tags=["introductions"],
    status_code=201,
)
def pact_from_introduction(intro_id: str, body: IntroductionPactIn | None = None) -> Response[PactOut]:
    made = introductions.make_pact(ctx(), intro_id, body or IntroductionPactIn())
    return created(made, f"/pacts/{made.id}")


# ------------------------------------------------------------------ the network: asks


Box = Annotated[Literal["received", "mine"], Query(description="The asks you were sent (received) or the asks you made (mine).")]


@app.post(
    "/asks",
    summary="Ask your pact colleagues, a group or a specialty a question (nothing that could identify a client)",
    tags=["asks"],
    status_code=201,
)
def create_ask(body: AskIn) -> Response[AskOut]:
    ask = asks.create_ask(ctx(), body)
    return created(ask, f"/asks/{ask.id}")


@app.get("/asks", summary="The asks you were sent, or the asks you made, newest first", tags=["asks"])
def list_asks(box: Box = "received", limit: Limit = 20, next: Cursor = None) -> Page[AskOut]:  # noqa: A002
    return asks.list_asks(ctx(), box, limit, next)


@app.get("/asks/<ask_id>", summary="One ask: every reply for the asker, your own replies for a colleague asked", tags=["asks"])
def get_ask(ask_id: str) -> AskOut:
    return asks.get_ask(ctx(), ask_id)


@app.post("/asks/<ask_id>/replies", summary="Answer an ask you were sent (only the asker sees your reply)", tags=["asks"], status_code=201)
def reply_to_ask(ask_id: str, body: ReplyIn) -> Response[ReplyOut]:
    answer = asks.reply(ctx(), ask_id, body)
    return created(answer, f"/asks/{ask_id}")


@app.post("/asks/<ask_id>/close", summary="Close your ask: it takes no more replies", tags=["asks"])
def close_ask(ask_id: str) -> AskOut:
    return asks.close(ctx(), ask_id)


# ------------------------------------------------------------------ my support, the peer-support log

LogDay = Annotated[str | None, Query(max_length=10, description="The last date, YYYY-MM-DD, in your time zone (default today).")]
LogFrom = Annotated[
    str | None,
    Query(alias="from", max_length=10, description="The first date, YYYY-MM-DD, your zone (default: a year before `to`)."),
]
CSV_RESPONSE: dict[int, Any] = {
    200: {
        "description": "The log as RFC 4180 CSV (UTF-8 with a byte order mark, CRLF): a header row, one row per check-in "
        "and group meeting attended (Date, Time, Kind, With, Mode, Minutes; never notes), then the totals per month.",
        "content": {"text/csv": {"schema": {"type": "string"}}},
        "headers": {"Content-Disposition": {"description": "attachment; filename=...csv", "schema": {"type": "string"}}},
    }
}


@app.get("/members/me/support", summary="Your peer contact: pacts, check-ins, meetings, and how long since", tags=["support"])
def my_support() -> SupportOut:
    return support.support(ctx())


@app.get(
    "/members/me/log.csv",
    summary="Your peer-support log for accreditation or CPD, as CSV (at most three years; default the last year)",
    tags=["support"],
    responses=CSV_RESPONSE,
)
def my_log(from_: LogFrom = None, to: LogDay = None) -> Response[str]:
    log = support_log.peer_support_log(ctx(), from_, to)
    headers = {"Content-Disposition": f'attachment; filename="{log.filename}"', "Cache-Control": "private, no-store"}
    return Response(status_code=200, content_type="text/csv; charset=utf-8", body=log.body, headers=headers)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
