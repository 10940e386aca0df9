"""Peer supervision groups: the agreement, who is in it, and the conveners who look after it.

Reads are one query of the group's partition (`series.load`); a change is one transaction
conditioned on the versions just read (the group's, and each member item it touches), retried
from fresh reads on a clash. Only members see a group (anyone else gets the same 404 as for a
group that does not exist); an invited person sees its name, purpose, rhythm and conveners;
only conveners change it, invite, remove or change roles (403 for a plain member).
"""

from __future__ import annotations

import json
import secrets
from contextlib import suppress
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError
from pynamodb.transactions import TransactWrite

from shared.adapters.db import connection, decode_cursor, encode_cursor, refused
from shared.adapters.events import DomainEvent, add_events, write_events
from shared.adapters.models import EmailClaim, Group, GroupMember, Invitation, Item, Meeting, Member, address_key, group_pk, member_pk
from shared.adapters.schema_types import Page
from shared.domain import groups as domain
from shared.domain.errors import Conflict, Forbidden, Gone, InvalidField, NotFound
from shared.groups import series
from shared.groups.schemas import (
    AgreementOut,
    FormatIn,
    FormatOut,
    GroupIn,
    GroupMemberOut,
    GroupOut,
    GroupPatch,
    PersonOut,
    RhythmIn,
    SegmentOut,
    StepOut,
    StopOut,
    WhereIn,
    WhereOut,
)
from shared.groups.writes import ATTEMPTS, Retry, plan_schedule, prefs_of, transact, with_retries, withdraw_invitation
from shared.invitations.use_cases import INVITATION_LIFETIME, count_invitation, raise_if_limited
from shared.network import circle
from shared.pacts.planning import Ctx

INVITED_LABEL = "Invited colleague"

# ------------------------------------------------------------------ reading and access


def _state(ctx: Ctx, group_id: str) -> series.GroupState:
    state = series.load(group_id, ctx.now - series.LOOK_BACK)
    if state is None:
        raise NotFound(f"You have no group {group_id}.")
    return state


def my_membership(state: series.GroupState, sub: str) -> GroupMember | None:
    mine = state.people.get(sub)
    if mine is not None:
        return mine
    return next((p for p in state.people.values() if p.member_sub == sub and p.state == "invited"), None)


def as_member(ctx: Ctx, group_id: str) -> tuple[series.GroupState, GroupMember]:
    """The group, for an active member; 404 for anyone else (invited people see only its summary)."""
    state = _state(ctx, group_id)
    mine = state.people.get(ctx.sub)
    if mine is None or mine.state != "active":
        raise NotFound(f"You have no group {group_id}.")
    return state, mine


def as_convener(ctx: Ctx, group_id: str) -> tuple[series.GroupState, GroupMember]:
    state, mine = as_member(ctx, group_id)
    if mine.role != "convener":
        raise Forbidden("Only the group's conveners can do this.")
    return state, mine


# ------------------------------------------------------------------ the agreement: validating what a convener asks for


def anchor_of(rhythm: RhythmIn, today: date) -> tuple[str, datetime]:
    """The series' RRULE and its first meeting (on or after `starts_on`)."""
    try:
        domain.check_rrule(rhythm.rrule)
    except ValueError as err:
        raise InvalidField("rhythm.rrule", str(err)) from None
    if "BYHOUR=" not in rhythm.rrule:
        raise InvalidField("rhythm.rrule", "give the meeting's time with BYHOUR (and BYMINUTE), e.g. ;BYHOUR=19;BYMINUTE=0")
    day = rhythm.starts_on or today
    midnight = datetime.combine(day, datetime.min.time(), ZoneInfo(rhythm.time_zone)).astimezone(UTC)
    first = domain.occurrences(rhythm.rrule, rhythm.time_zone, midnight, midnight, 1)
    if not first:
        raise InvalidField("rhythm.rrule", "this rhythm has no meeting")
    return rhythm.rrule, first[0]


def format_of(body: FormatIn, duration: int) -> domain.Format:
    if body.preset is not None:
        try:
            fmt = domain.preset(body.preset, duration, body.case_slots)
        except ValueError as err:
            raise InvalidField("format", str(err)) from None
    else:
        segments = tuple(
            domain.Segment(
                title=s.title,
                minutes=s.minutes,
                kind=s.kind,
                repeat=s.repeat,
                steps=tuple(domain.Step(t.title, t.minutes) for t in s.steps),
                roles=tuple(s.roles),
            )
            for s in body.segments or []
        )
        fmt = domain.Format(segments=segments, roles=tuple(body.roles or ()))
        try:
            domain.check_format(fmt)
        except ValueError as err:
            raise InvalidField("format", str(err)) from None
    over = domain.overrun(fmt, duration)
    if over:
        raise InvalidField("format", f"the format takes {fmt.total_minutes} minutes: {over} more than the {duration}-minute time boundary")
    return fmt


def where_of(body: WhereIn, members: set[str]) -> dict[str, Any]:
    stops = []
    for index, stop in enumerate(body.stops or []):
        if stop.host is not None and stop.host not in members:
            raise InvalidField(f"where.stops[{index}].host", "a host must be a member of the group (add hosts once they have joined)")
        stops.append({"venue": stop.venue, "host": stop.host})
    return {
        "venue_kind": body.kind,
        "venue": body.venue if body.kind in ("place", "rotation") else None,
        "online_url": str(body.url) if body.url is not None else None,
        "rotation": json.dumps(stops) if body.kind == "rotation" else None,
        "rotation_state": json.dumps({"position": 0, "owed": []}) if body.kind == "rotation" else None,
    }


# ------------------------------------------------------------------ answers


def _person(state: series.GroupState, sub: str | None) -> PersonOut | None:
    return None if sub is None else PersonOut(member_id=sub, name=state.name_of(sub))


def format_out(fmt: domain.Format) -> FormatOut:
    return FormatOut(
        preset=fmt.preset,
        total_minutes=fmt.total_minutes,
        case_slots=fmt.case_slots,
        roles=list(fmt.roles),
        segments=[
            SegmentOut(
                title=s.title,
                minutes=s.minutes,
                kind=s.kind,
                repeat=s.repeat,
                steps=[StepOut(title=t.title, minutes=t.minutes) for t in s.steps],
                roles=list(s.roles),
            )
            for s in fmt.segments
        ],
    )


def where_out(state: series.GroupState) -> WhereOut:
    group = state.group
    stops = None
    if group.venue_kind == "rotation":
        stops = [StopOut(venue=s.venue, host=_person(state, s.host)) for s in state.stops]
    return WhereOut(kind=group.venue_kind, venue=group.venue, url=group.online_url, stops=stops)


def group_out(ctx: Ctx, state: series.GroupState, mine: GroupMember, *, read_profiles: bool = True) -> GroupOut:
    group = state.group
    convener = mine.state == "active" and mine.role == "convener"
    people = state.people.values() if mine.state == "active" else state.conveners
    members = [
        GroupMemberOut(
            member_id=series.person_id(p),
            # An open invitation is labelled with the address's local part for conveners (who typed it) only.
            name=p.display_name if p.state == "active" or convener else INVITED_LABEL,
            role=p.role,
            state="active" if p.state == "active" else "invited",
            invitation_expires_at=p.invitation_expires_at if p.state == "invited" else None,
            attended=int(p.attended) if convener and p.state == "active" else None,
            missed_in_a_row=int(p.missed_in_a_row) if convener and p.state == "active" else None,
            presented=int(p.presented) if p.state == "active" and mine.state == "active" else None,
        )
        for p in sorted(people, key=lambda p: (p.state != "active", p.role != "convener", p.joined_at or p.created_at, p.sk))
    ]
    profiles = series.profiles(state) if read_profiles and mine.state == "active" else None
    upcoming = series.expand(state, ctx.now, 4, profiles) if mine.state == "active" else []
    return GroupOut(
        id=group.group_id,
        name=group.name,
        purpose=group.purpose,
        objectives=group.objectives if mine.state == "active" else None,
        my_role=mine.role,
        my_state="active" if mine.state == "active" else "invited",
        rhythm=domain.describe_rhythm(group.rrule, group.time_zone, group.starts_at),
        rrule=group.rrule,
        time_zone=group.time_zone,
        starts_at=group.starts_at,
        duration_minutes=int(group.duration_minutes),
        # Where it meets (an address, a link, the hosts) is for members; the invited see only how it meets.
        where=where_out(state) if mine.state == "active" else WhereOut(kind=group.venue_kind),
        format=format_out(state.format),
        size_limit=int(group.size_limit),
        reminder_days=int(group.reminder_days),
        review_months=int(group.review_months),
        agreement=AgreementOut(
            version=int(group.agreement_version), changed_at=group.agreement_changed_at, review_due_at=group.review_due_at
        ),
        members=members,
        next_meeting=next((o.starts_at for o in upcoming if o.status != "cancelled"), None),
    )


# ------------------------------------------------------------------ creating, reading, changing


def _profile(sub: str) -> Member:
    try:
        return Member.get(*Member.key(sub))
    except DoesNotExist:
        raise Conflict("Create your profile first: PUT /members/me.") from None


def membership(group_id: str, member: Member, role: str, now: datetime, created_at: datetime, presented: int = 0) -> GroupMember:
    sub = member.pk.removeprefix("MEMBER#")
    return GroupMember(
        *GroupMember.key(group_id, sub),
        group_id=group_id,
        member_sub=sub,
        role=role,
        state="active",
        display_name=member.display_name,
        joined_at=now,
        presented=presented,
        gsi1pk=member_pk(sub),
        gsi1sk=f"GROUP#{created_at.isoformat()}#{group_id}",
        created_at=now,
        updated_at=now,
        **prefs_of(member),
    )


def create_group(ctx: Ctx, body: GroupIn) -> GroupOut:
    me = _profile(ctx.sub)
    rule, first = anchor_of(body.rhythm, ctx.now.astimezone(ZoneInfo(body.rhythm.time_zone)).date())
    fmt = format_of(body.format, body.duration_minutes)
    group_id = "g_" + secrets.token_urlsafe(12)
    group = Group(
        *Group.key(group_id),
        group_id=group_id,
        name=body.name,
        purpose=body.purpose,
        objectives=body.objectives,
        rrule=rule,
        time_zone=body.rhythm.time_zone,
        starts_at=first,
        duration_minutes=body.duration_minutes,
        format=json.dumps(domain.format_to_dict(fmt)),
        size_limit=body.size_limit,
        reminder_days=body.reminder_days,
        review_months=body.review_months,
        review_due_at=ctx.now + relativedelta(months=body.review_months),
        agreement_version=1,
        agreement_changed_at=ctx.now,
        created_at=ctx.now,
        updated_at=ctx.now,
        **where_of(body.where, {ctx.sub}),
    )
    plan_schedule(group, ctx.due_shards)
    mine = membership(group_id, me, "convener", ctx.now, ctx.now)
    with TransactWrite(connection=connection()) as tx:
        tx.save(group, condition=Item.pk.does_not_exist())
        tx.save(mine, condition=Item.pk.does_not_exist())
        add_events(tx, [DomainEvent("GroupCreated", {"group_id": group_id, "convener_id": ctx.sub})], ctx.now)
    return group_out(ctx, series.GroupState(group, {ctx.sub: mine}), mine)


def get_group(ctx: Ctx, group_id: str) -> GroupOut:
    state = _state(ctx, group_id)
    mine = my_membership(state, ctx.sub)
    if mine is None or _expired(mine, ctx.now):
        raise NotFound(f"You have no group {group_id}.")
    return group_out(ctx, state, mine)


def _expired(person: GroupMember, now: datetime) -> bool:
    return person.state == "invited" and person.invitation_expires_at is not None and person.invitation_expires_at <= now


def list_groups(ctx: Ctx, limit: int, cursor: str | None) -> Page[GroupOut]:
    """My groups and the invitations to groups waiting for me: one query of the inverted index, one batch read."""
    start = decode_cursor(
        cursor, {"pk": "GROUP#", "sk": "MEMBER#", "gsi1pk": "MEMBER#", "gsi1sk": "GROUP#"}, partition=("gsi1pk", member_pk(ctx.sub))
    )
    results = GroupMember.gsi1.query(
        member_pk(ctx.sub), GroupMember.gsi1sk.startswith("GROUP#"), limit=limit, page_size=limit, last_evaluated_key=start
    )
    mine = [m for m in results if isinstance(m, GroupMember) and not _expired(m, ctx.now)]
    groups = {g.group_id: g for g in Group.batch_get([Group.key(m.group_id) for m in mine]) if isinstance(g, Group)} if mine else {}
    items = []
    for m in mine:
        group = groups.get(m.group_id)
        if group is None:
            continue
        # The list shows each group as its summary; the members and meetings are one GET away.
        state = series.GroupState(group, {series.person_id(m): m})
        out = group_out(ctx, state, m, read_profiles=False)
        out.members = [] if m.state != "active" else [x for x in out.members if x.member_id == ctx.sub]
        items.append(out)
    return Page[GroupOut](items=items, next=encode_cursor(results.last_evaluated_key))


AGREEMENT_FIELDS = ("purpose", "objectives", "rhythm", "duration_minutes", "where", "format")


def update_group(ctx: Ctx, group_id: str, body: GroupPatch) -> GroupOut:
    """Conveners change the agreement (its version goes up, the review clock restarts) or the group's settings."""

    def attempt() -> GroupOut:
        state, mine = as_convener(ctx, group_id)
        group = state.group
        changed = body.model_dump(exclude_unset=True)
        for name in ("name", "purpose", "objectives", "size_limit", "reminder_days", "review_months"):
            if name in changed:
                setattr(group, name, getattr(body, name))
        if body.size_limit is not None and len(state.people) > body.size_limit:
            raise InvalidField("size_limit", f"the group has {len(state.people)} members and open invitations already")
        duration = body.duration_minutes or int(group.duration_minutes)
        group.duration_minutes = duration
        moved_series = False
        same_rhythm = body.rhythm is not None and (body.rhythm.rrule, body.rhythm.time_zone) == (group.rrule, group.time_zone)
        if body.rhythm is not None and not (same_rhythm and body.rhythm.starts_on is None):
            # A new rhythm (or a new start) is a new series from its first meeting on; the same one sent again changes nothing.
            rule, first = anchor_of(body.rhythm, ctx.now.astimezone(ZoneInfo(body.rhythm.time_zone)).date())
            moved_series = (rule, body.rhythm.time_zone, first) != (group.rrule, group.time_zone, group.starts_at)
            group.rrule, group.time_zone, group.starts_at = rule, body.rhythm.time_zone, first
        if body.format is not None:
            group.format = json.dumps(domain.format_to_dict(format_of(body.format, duration)))
        elif body.duration_minutes is not None:
            over = domain.overrun(state.format, duration)
            if over:
                raise InvalidField(
                    "duration_minutes", f"the format takes {state.format.total_minutes} minutes: {over} more than {duration} minutes"
                )
        if body.where is not None:
            where = where_of(body.where, {p.member_sub for p in state.active if p.member_sub})
            if where["rotation"] == group.rotation and group.rotation is not None:
                del where["rotation_state"]  # the same rotation sent again keeps its place in the turn
            for name, value in where.items():
                setattr(group, name, value)
        agreement = any(name in changed for name in AGREEMENT_FIELDS)
        if agreement:
            group.agreement_version = int(group.agreement_version) + 1
            group.agreement_changed_at = ctx.now
        if agreement or "review_months" in changed:
            group.review_due_at = ctx.now + relativedelta(months=int(group.review_months))
        # A new rhythm is a new series: what was decided about the old one's future meetings goes.
        dropped = [m for m in state.meetings.values() if moved_series and m.starts_at > ctx.now]
        if moved_series:
            group.scheduled_through = None
        group.updated_at = ctx.now
        plan_schedule(group, ctx.due_shards)

        def write(tx: TransactWrite) -> None:
            for meeting in dropped:
                tx.delete(meeting)
            tx.save(group)
            if dropped:
                for person in state.active:
                    _undo_schedule(person, dropped)
                    tx.save(person)

        changed_event = DomainEvent("GroupAgreementChanged", {"group_id": group_id, "version": int(group.agreement_version)})
        transact(write, [changed_event] if agreement else [], ctx.now)
        return group_out(ctx, state, mine)

    return with_retries(attempt)


def _undo_schedule(person: GroupMember, dropped: list[Meeting]) -> None:
    """A member's tallies and reminder no longer count meetings that will not happen."""
    for meeting in dropped:
        if person.member_sub in (meeting.presenters or []) and meeting.status == "scheduled":
            person.presented = max(0, int(person.presented) - 1)
        if person.remind_for == series.meeting_id(meeting.original_start):
            person.remind_for = person.remind_shard = person.remind_due = None


# ------------------------------------------------------------------ invitations


def invite(ctx: Ctx, group_id: str, email: str) -> GroupOut:
    """A convener invites by email: a member or not, the answer is the same (the address's local part until they accept)."""
    email = email.strip().lower()
    key = address_key(email)
    invitation_id = secrets.token_hex(8)
    colleague_sub: str | None = None
    with suppress(DoesNotExist):
        colleague_sub = EmailClaim.get(*EmailClaim.key(email)).sub

    def attempt() -> GroupOut:
        state, mine = as_convener(ctx, group_id)
        group = state.group
        if colleague_sub == ctx.sub:
            raise InvalidField("email", "that is your own address")
        if colleague_sub is not None and colleague_sub in state.people:
            raise Conflict("That colleague is in the group already.")
        invited = [p for p in state.people.values() if p.state == "invited"]
        expired = [p for p in invited if p.invitation_expires_at is not None and p.invitation_expires_at <= ctx.now]
        if any(p.invite_key == key for p in invited if p not in expired):
            raise Conflict("That address has an open invitation to this group already.")
        stale = [p for p in expired if p.invite_key == key]  # inviting the address again replaces its expired entry
        if len(state.people) - len(expired) >= int(group.size_limit):
            raise InvalidField(
                "email", f"the group is full: {int(group.size_limit)} members and open invitations (raise size_limit, at most 16)"
            )
        valid_until = ctx.now + INVITATION_LIFETIME
        person = GroupMember(
            *GroupMember.invited_key(group_id, invitation_id),
            group_id=group_id,
            member_sub=colleague_sub,
            invite_key=key,
            invited_by=ctx.sub,
            invitation_expires_at=valid_until,
            role="member",
            state="invited",
            display_name=email.split("@", 1)[0],
            created_at=ctx.now,
            updated_at=ctx.now,
            expires_at=valid_until + timedelta(days=30),  # an unanswered invitation's entry goes a month after it expires
        )
        if colleague_sub is not None:  # it shows in their GET /groups
            person.gsi1pk, person.gsi1sk = member_pk(colleague_sub), f"GROUP#{group.created_at.isoformat()}#{group_id}"
        invitation = Invitation(
            *Invitation.group_key(key, group_id),
            group_id=group_id,
            invitation_id=invitation_id,
            inviter_sub=ctx.sub,
            email=email,
            created_at=ctx.now,
            valid_until=valid_until,
            expires_at=valid_until,
        )
        try:
            group.updated_at = ctx.now
            with TransactWrite(connection=connection()) as tx:
                for old in stale:
                    tx.delete(old)
                tx.save(group)  # its version goes up: two invitations at once cannot both take the last place
                tx.save(person, condition=Item.pk.does_not_exist())
                tx.save(invitation, condition=Item.pk.does_not_exist() | (Invitation.valid_until < ctx.now))
                count_invitation(tx, ctx.sub, ctx.now)
                # The invited person is named by the id the group's API shows for them ("@" + a random invitation id).
                sent = {"group_id": group_id, "owner_id": ctx.sub, "member_id": f"@{invitation_id}", "resent": False}
                add_events(tx, [DomainEvent("InvitationSent", sent)], ctx.now)
        except TransactWriteError as err:
            raise_if_limited(err, 3 + len(stale), ctx.now)  # order: deletes, puts, the counter, then the event
            if refused(err):
                raise Retry from err
            raise
        for old in stale:
            state.people.pop(series.person_id(old), None)
        state.people[f"@{invitation_id}"] = person
        return group_out(ctx, state, mine, read_profiles=False)

    return with_retries(attempt)


def _my_invitation(state: series.GroupState, sub: str, now: datetime) -> GroupMember:
    mine = my_membership(state, sub)
    if mine is None:
        raise NotFound(f"You have no group {state.group.group_id}.")
    if mine.state != "invited":
        raise Conflict("You are a member of this group already.")
    if mine.invitation_expires_at is not None and now >= mine.invitation_expires_at:
        raise Gone("This invitation has expired; ask a convener to invite you again.")
    return mine


def accept(ctx: Ctx, group_id: str) -> GroupOut:
    me = _profile(ctx.sub)

    def attempt() -> GroupOut:
        state = _state(ctx, group_id)
        invited = _my_invitation(state, ctx.sub, ctx.now)
        group = state.group
        # A newcomer joins the speaking rotation level with the others, not ahead of all of them.
        level = min((int(p.presented) for p in state.active), default=0)
        mine = membership(group_id, me, "member", ctx.now, group.created_at, presented=level)

        def write(tx: TransactWrite) -> None:
            tx.delete(invited)
            if invited.invite_key:
                tx.delete(Invitation(*Invitation.group_key(invited.invite_key, group_id)))
            tx.save(group)
            tx.save(mine, condition=Item.pk.does_not_exist())
            circle.joined_group(tx, group_id, ctx.sub, [p.member_sub for p in state.active if p.member_sub])

        group.updated_at = ctx.now
        transact(write, [DomainEvent("InvitationAccepted", {"group_id": group_id, "member_id": ctx.sub})], ctx.now)
        state.people.pop(series.person_id(invited), None)
        state.people[ctx.sub] = mine
        return group_out(ctx, state, mine, read_profiles=False)

    return with_retries(attempt)


def decline(ctx: Ctx, group_id: str) -> None:
    def attempt() -> None:
        state = _state(ctx, group_id)
        mine = my_membership(state, ctx.sub)
        if mine is None:
            raise NotFound(f"You have no group {group_id}.")
        if mine.state != "invited":
            raise Conflict("There is no open invitation to decline; to leave the group, DELETE /groups/{id}/members/me.")
        withdraw_invitation(mine, group_id, [DomainEvent("InvitationDeclined", {"group_id": group_id, "member_id": ctx.sub})], ctx.now)

    with_retries(attempt)


def claim_invitations(sub: str, now: datetime, invitations: list[Invitation]) -> int:
    """A new member (or a new address) finds the group invitations sent to the address in their GET /groups."""
    claimed = 0
    for invitation in invitations:
        if invitation.group_id is None or invitation.valid_until <= now:
            continue
        with suppress(DoesNotExist, PutError):  # answered or withdrawn meanwhile: nothing to take over
            person = GroupMember.get(*GroupMember.invited_key(invitation.group_id, str(invitation.invitation_id)), consistent_read=True)
            if person.member_sub == sub:
                continue
            group = Group.get(*Group.key(invitation.group_id))
            person.member_sub = sub
            person.gsi1pk, person.gsi1sk = member_pk(sub), f"GROUP#{group.created_at.isoformat()}#{invitation.group_id}"
            person.updated_at = now
            person.save()
            claimed += 1
    return claimed


# ------------------------------------------------------------------ leaving, removing, roles


def leave(ctx: Ctx, group_id: str) -> None:
    _remove(ctx, group_id, ctx.sub, reason="left")


def remove(ctx: Ctx, group_id: str, member_id: str) -> None:
    """A convener removes a member or withdraws an invitation (member id "@…")."""
    if member_id == ctx.sub:
        leave(ctx, group_id)
        return
    _remove(ctx, group_id, member_id, reason="removed")


def _remove(ctx: Ctx, group_id: str, sub: str, reason: str) -> None:
    """The member disappears from future meetings, rotations and slots; their past attendance becomes a count.

    A group never ends up without a convener: the longest-standing member takes the role over
    when the last convener goes. When nobody is left, the group goes entirely. One read of the
    group and one transaction (a convener withdrawing an invitation: the same).
    """

    def attempt() -> tuple[bool, bool]:
        if reason == "removed":
            state, _ = as_convener(ctx, group_id)
        else:
            state = _state(ctx, group_id)
        person = state.people.get(sub)
        if person is None or (person.state != "active" and reason != "removed"):
            raise NotFound(f"You have no group {group_id}." if reason != "removed" else f"The group has no member {sub}.")
        if person.state == "invited":  # a convener withdraws an invitation
            withdraw_invitation(person, group_id)
            return False, False
        group = state.group
        rest = [p for p in state.active if p.member_sub != sub]
        if not rest:
            return True, True
        promoted = None
        if person.role == "convener" and not any(p.role == "convener" for p in rest):
            promoted = rest[0]
            promoted.role = "convener"
            promoted.updated_at = ctx.now
        stops = list(json.loads(group.rotation or "[]"))
        if any(s.get("host") == sub for s in stops):
            kept = [{"venue": s["venue"], "host": None} for s in stops if s.get("host") == sub and s.get("venue")]
            group.rotation = json.dumps([s for s in stops if s.get("host") != sub] + kept)
            group.rotation_state = json.dumps({"position": 0, "owed": []})
        group.former_attendance = int(group.former_attendance) + int(person.attended)
        group.updated_at = ctx.now

        def write(tx: TransactWrite) -> None:
            tx.delete(person)
            tx.save(group)
            if promoted is not None:
                tx.save(promoted)
            circle.left_group(tx, group_id, sub, [p.member_sub for p in rest if p.member_sub])

        events = [left]
        if promoted is not None:
            events.append(DomainEvent("GroupConvenerChanged", {"group_id": group_id, "member_id": promoted.member_sub}))
        transact(write, events, ctx.now)
        return False, True

    left = DomainEvent("GroupMemberLeft", {"group_id": group_id, "member_id": sub, "reason": reason})
    last, was_member = with_retries(attempt)
    if not was_member:
        return
    if last:
        delete_group(group_id)
        write_events(connection(), [left], ctx.now)  # nothing of the group is left to write it beside
    else:
        _forget_attendance(group_id, sub)


def _forget_attendance(group_id: str, sub: str) -> None:
    """Past meetings keep a former member's attendance as a count only; future ones forget them (host, roles, slots)."""
    for found in Meeting.query(group_pk(group_id), Meeting.sk.startswith("MEETING#")):
        if isinstance(found, Meeting):
            _forget_in_meeting(found, sub)


def _forget_in_meeting(meeting: Meeting, sub: str) -> None:
    for _ in range(ATTEMPTS):
        touched = {a for a in ("attendees", "presented", "slot_requests", "gave_back") if sub in (getattr(meeting, a) or set())}
        rsvps = series.rsvps_of(meeting)
        roles = series.roles_of(meeting)
        held = sub in roles.meeting.values() or any(sub in case.values() for case in roles.cases)
        hosting = meeting.host_sub == sub  # past and future: a former member is named nowhere
        if not touched and not held and not hosting and sub not in rsvps and sub not in (meeting.presenters or []):
            return
        if held:
            meeting.roles = series.roles_json(
                domain.Roles(
                    meeting={r: w for r, w in roles.meeting.items() if w != sub},
                    cases=tuple({r: w for r, w in case.items() if w != sub} for case in roles.cases),
                )
            )
        if hosting:
            meeting.host_sub = None
        if "attendees" in touched:
            meeting.former_attendees = int(meeting.former_attendees) + 1
        for name in touched:
            setattr(meeting, name, (getattr(meeting, name) - {sub}) or None)
        rsvps.pop(sub, None)
        meeting.rsvps = json.dumps(rsvps, sort_keys=True) if rsvps else None
        meeting.presenters = [p for p in meeting.presenters or [] if p != sub] or None
        try:
            meeting.save()  # conditioned on the version read
            return
        except PutError:  # changed meanwhile (an RSVP, attendance): read it again and forget them in that
            meeting = Meeting.get(meeting.pk, meeting.sk, consistent_read=True)


def delete_group(group_id: str) -> None:
    """Everything in the group's partition, and its open invitations."""
    items = list(Item.query(group_pk(group_id)))
    active = [i.member_sub for i in items if isinstance(i, GroupMember) and i.state == "active" and i.member_sub]
    for sub, links in circle.group_ties(group_id, active).items():
        circle.drop_links(sub, links)
    with Item.batch_write() as batch:
        for item in items:
            if isinstance(item, GroupMember) and item.state == "invited" and item.invite_key:
                batch.delete(Invitation(*Invitation.group_key(item.invite_key, group_id)))
            batch.delete(item)


def set_role(ctx: Ctx, group_id: str, member_id: str, role: str) -> GroupOut:
    """Conveners make another member a convener, or step back; a group always keeps at least one convener."""

    def attempt() -> GroupOut:
        state, mine = as_convener(ctx, group_id)
        person = state.people.get(member_id)
        if person is None or person.state != "active":
            raise NotFound(f"The group has no member {member_id}.")
        if role == "member" and person.role == "convener" and len(state.conveners) == 1:
            raise Conflict("A group always has a convener: make someone else convener first (or hand the role over).")
        person.role = role
        person.updated_at = state.group.updated_at = ctx.now

        def write(tx: TransactWrite) -> None:
            tx.save(state.group)  # its version goes up: two conveners stepping back at once cannot both succeed
            tx.save(person)

        transact(write, [DomainEvent("GroupConvenerChanged", {"group_id": group_id, "member_id": member_id, "role": role})], ctx.now)
        return group_out(ctx, state, mine if mine is not person else person, read_profiles=False)

    return with_retries(attempt)


def hand_over(ctx: Ctx, group_id: str, member_id: str) -> GroupOut:
    """The convener role passes to another member in one step: they become convener, you a plain member."""

    def attempt() -> GroupOut:
        state, mine = as_convener(ctx, group_id)
        other = state.people.get(member_id)
        if other is None or other.state != "active" or member_id == ctx.sub:
            raise NotFound(f"The group has no other member {member_id}.")
        other.role, mine.role = "convener", "member"
        other.updated_at = mine.updated_at = state.group.updated_at = ctx.now

        def write(tx: TransactWrite) -> None:
            tx.save(state.group)
            tx.save(other)
            tx.save(mine)

        handed = DomainEvent("GroupConvenerChanged", {"group_id": group_id, "member_id": member_id, "role": "convener"})
        transact(write, [handed], ctx.now)
        return group_out(ctx, state, mine, read_profiles=False)

    return with_retries(attempt)


def erase_member(ctx: Ctx) -> list[str]:
    """Erasure: leave every group (invitations to the member are declined); returns the group ids."""
    ids = []
    for person in GroupMember.gsi1.query(member_pk(ctx.sub), GroupMember.gsi1sk.startswith("GROUP#")):
        if not isinstance(person, GroupMember):
            continue
        ids.append(person.group_id)
        if person.state == "invited":
            with suppress(Retry, Conflict):
                withdraw_invitation(person, person.group_id)
            continue
        with suppress(NotFound):
            _remove(ctx, person.group_id, ctx.sub, reason="erased")
    return ids
