"""/groups and their meetings, and /members/me/meetings: peer supervision groups."""

from __future__ import annotations

from typing import Annotated, Literal

from api_common import Cursor, Limit, app, created, ctx
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from shared.adapters.schema_types import Page
from shared.adapters.settings import get_settings
from shared.groups import meetings
from shared.groups import use_cases as groups
from shared.groups.schemas import (
    AttendanceIn,
    AttendedOut,
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
