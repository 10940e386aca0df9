"""PynamoDB models: every item type on the one table.

Polymorphic models on one base (`Item`), told apart by the `kind` discriminator,
so a query over a partition that holds several kinds (a member's profile, their
pact links and check-ins) comes back as the right classes, and export is one
paged query. Key layout (see docs/data-model.md):

| item          | pk               | sk                      | indexes                          |
| ------------- | ---------------- | ----------------------- | -------------------------------- |
| member        | MEMBER#<sub>     | PROFILE                 | digest_due (sparse: weekly digest) |
| email claim   | EMAIL#<email>    | EMAIL                   |                                  |
| pact view     | PACT#<id>        | MEMBER#<sub>            | gsi1: MEMBER#<sub> / PACT#<created>#<id>; nudge_due, sms_due (sparse) |
| check-in      | PACT#<id>        | CHECKIN#<minute>        |                                  |
| timeline copy | MEMBER#<sub>     | CHECKIN#<minute>#<pact> |                                  |
| idempotency   | MEMBER#<sub>     | IDEMPOTENCY#<key>       | TTL                              |
| group         | GROUP#<id>       | META                    | group_due (sparse: next meeting to schedule, review) |
| membership    | GROUP#<id>       | MEMBER#<sub>, MEMBER#@<invitation> | gsi1: MEMBER#<sub> / GROUP#<created>#<id>; remind_due |
| meeting       | GROUP#<id>       | MEETING#<original start> |                                 |
| attended      | MEMBER#<sub>     | ATTENDED#<start>#<group> |                                 |
| calendar      | CAL#<sha256>     | CAL                     |                                  |
| circle        | MEMBER#<sub>     | CIRCLE                  |                                  |
| directory     | MEMBER#<sub>     | DIR#<term>              | gsi2: DIR#<term> / <sub>         |
| dismissal     | MEMBER#<sub>     | DISMISSED#<other sub>   |                                  |
| introduction  | INTRO#<id>       | INTRO                   | gsi1: MEMBER#<to> / INTRO#<created>#<id> |
| intro sent    | MEMBER#<from>    | INTRO_TO#<to>           | TTL                              |
| ask           | ASK#<id>         | ASK                     | gsi1: MEMBER#<author> / ASK#<created>#<id> |
| ask reply     | ASK#<id>         | REPLY#<created>#<sub>   |                                  |
| ask received  | MEMBER#<sub>     | ASKED#<created>#<ask id> | TTL                             |
| outbox event  | EVENT#<event id> | EVENT                   | TTL (a day); the stream relays it to the bus |

A group's partition sorts MEETING# < MEMBER# < META, so "the meetings from an instant on, the
members and the group" is one query (`sk >= MEETING#<instant>`), and past meetings are a
range query on MEETING# newest first.

A pact is its party views: one item per party, side by side in the pact's partition,
each a full copy of the shared terms plus that party's own state (role, invitation,
and later their nudge schedule in their own zone). Every change to a pact writes the
views together in one transaction, conditioned on each view's version; the sweeps
then read one item per nudge, and a party's list of pacts is one query on gsi1.

Keys and index names here must match template.yaml; a test compares them.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.attributes import (
    Attribute,
    BooleanAttribute,
    DiscriminatorAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    NumberSetAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.constants import MAP
from pynamodb.expressions.condition import Condition
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from shared.adapters.settings import get_settings


def _meta(index_name: str) -> type:
    class Meta:
        pass

    Meta.index_name = index_name  # type: ignore[attr-defined]
    Meta.projection = AllProjection()  # type: ignore[attr-defined]
    return Meta


class Gsi1(GlobalSecondaryIndex["Item"]):
    """Inverted index: member -> groups, member -> pacts they are invited to."""

    Meta = _meta("gsi1")
    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class Gsi2(GlobalSecondaryIndex["Item"]):
    """Directory: a normalised search term (specialty, modality, region) -> the cards of opted-in members."""

    Meta = _meta("gsi2")
    gsi2pk = UnicodeAttribute(hash_key=True)
    gsi2sk = UnicodeAttribute(range_key=True)


class NudgeDueIndex(GlobalSecondaryIndex["Item"]):
    """Sparse and write-sharded: only pacts whose nudge is pending carry `nudge_shard`/`nudge_due`."""

    Meta = _meta("nudge_due")
    nudge_shard = UnicodeAttribute(hash_key=True)
    nudge_due = UnicodeAttribute(range_key=True)


class GroupDueIndex(GlobalSecondaryIndex["Item"]):
    """Sparse and write-sharded: groups whose next meeting is to be scheduled, or whose agreement review is due."""

    Meta = _meta("group_due")
    group_shard = UnicodeAttribute(hash_key=True)
    group_due = UnicodeAttribute(range_key=True)


class RemindDueIndex(GlobalSecondaryIndex["Item"]):
    """Sparse and write-sharded: group members whose reminder of the next meeting is due."""

    Meta = _meta("remind_due")
    remind_shard = UnicodeAttribute(hash_key=True)
    remind_due = UnicodeAttribute(range_key=True)


class HabitDueIndex(GlobalSecondaryIndex["Item"]):
    """Sparse and write-sharded: pact views still establishing the habit whose reminder before the next slot is pending."""

    Meta = _meta("habit_due")
    habit_shard = UnicodeAttribute(hash_key=True)
    habit_due = UnicodeAttribute(range_key=True)


class DigestDueIndex(GlobalSecondaryIndex["Item"]):
    """Sparse and write-sharded: members whose weekly digest is due."""

    Meta = _meta("digest_due")
    digest_shard = UnicodeAttribute(hash_key=True)
    digest_due = UnicodeAttribute(range_key=True)


class SmsDueIndex(GlobalSecondaryIndex["Item"]):
    """Sparse and write-sharded: pacts whose agreed call slot ends next (the SMS check-in link)."""

    Meta = _meta("sms_due")
    sms_shard = UnicodeAttribute(hash_key=True)
    sms_due = UnicodeAttribute(range_key=True)


class Item(Model):
    class Meta:
        table_name = get_settings().table_name
        region = get_settings().region

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = DiscriminatorAttribute()

    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    nudge_shard = UnicodeAttribute(null=True)
    nudge_due = UnicodeAttribute(null=True)
    sms_shard = UnicodeAttribute(null=True)
    sms_due = UnicodeAttribute(null=True)
    group_shard = UnicodeAttribute(null=True)
    group_due = UnicodeAttribute(null=True)
    remind_shard = UnicodeAttribute(null=True)
    remind_due = UnicodeAttribute(null=True)
    habit_shard = UnicodeAttribute(null=True)
    habit_due = UnicodeAttribute(null=True)
    digest_shard = UnicodeAttribute(null=True)
    digest_due = UnicodeAttribute(null=True)
    expires_at = TTLAttribute(null=True)

    gsi1 = Gsi1()
    gsi2 = Gsi2()
    nudge_due_index = NudgeDueIndex()
    sms_due_index = SmsDueIndex()
    group_due_index = GroupDueIndex()
    remind_due_index = RemindDueIndex()
    habit_due_index = HabitDueIndex()
    digest_due_index = DigestDueIndex()


def member_pk(sub: str) -> str:
    return f"MEMBER#{sub}"


class LabelsAttribute(Attribute[dict[str, str]]):
    """Tag -> the words the member typed for it (shared.domain.tags.labelled): a map of strings, shown, never matched."""

    attr_type = MAP

    def serialize(self, value: dict[str, str]) -> dict[str, dict[str, str]]:
        return {tag: {"S": text} for tag, text in value.items()}

    def deserialize(self, value: dict[str, dict[str, str]]) -> dict[str, str]:
        return {tag: text["S"] for tag, text in value.items() if "S" in text}


class QuietHours(MapAttribute[str, Any]):
    """Hours on one weekday when no text may arrive (the hours they see clients)."""

    weekday = NumberAttribute()  # 0 = Monday
    start = UnicodeAttribute()  # "09:00"
    end = UnicodeAttribute()  # "17:00"


class Member(Item, discriminator="member"):
    """A therapist's profile. Keyed by the JWT subject; two writers (the member, away-mode resume) -> versioned."""

    display_name = UnicodeAttribute()
    email = UnicodeAttribute()
    phone = UnicodeAttribute(null=True)  # E.164
    time_zone = UnicodeAttribute(default="UTC")
    specialties = UnicodeSetAttribute(null=True)  # normalised tags: what matching and the directory read
    modalities = UnicodeSetAttribute(null=True)
    specialty_labels = LabelsAttribute(null=True)  # tag -> as typed: what is shown (absent on profiles saved before)
    modality_labels = LabelsAttribute(null=True)
    region_name = UnicodeAttribute(null=True)
    in_directory = BooleanAttribute(default=False)
    channels = ListAttribute(of=UnicodeAttribute, null=True)  # a list: "no channel at all" must be storable
    nudge_hour = NumberAttribute(default=9)
    quiet_days = NumberSetAttribute(null=True)  # 0 = Monday
    quiet_hours = ListAttribute(of=QuietHours, null=True)
    away_until = UTCDateTimeAttribute(null=True)
    nudges_unsubscribed = BooleanAttribute(default=False)  # the one-click unsubscribe
    sms_opted_out = BooleanAttribute(default=False)  # the number replied STOP (the SMS service says so)
    email_suppressed = UnicodeAttribute(null=True)  # "bounce" / "complaint" / "rejected": never email again
    invitations_pending = BooleanAttribute(default=False)  # invitations to the address not all taken over yet
    calendar_key = UnicodeAttribute(null=True)  # SHA-256 of the calendar feed's secret (the CalendarSecret item's key)
    # The weekly digest (shared/digest): on unless the member turns it off; the one-click unsubscribe
    # (nudges_unsubscribed) and a suppressed address stop it too. digest_shard/digest_due plan the next one.
    weekly_digest = BooleanAttribute(default=True)
    digest_week = UnicodeAttribute(null=True)  # ISO week ("2026-W49", the member's zone) of the last digest sent
    digest_sent_at = UTCDateTimeAttribute(null=True)
    isolation_said_at = UTCDateTimeAttribute(null=True)  # the "no contact for 30 days" line: at most once a month
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()

    @staticmethod
    def key(sub: str) -> tuple[str, str]:
        return member_pk(sub), "PROFILE"

    @property
    def wants_email_nudges(self) -> bool:
        channels = ["email"] if self.channels is None else list(self.channels)
        return "email" in channels and not self.nudges_unsubscribed and not self.email_suppressed

    @property
    def wants_sms(self) -> bool:
        return "sms" in list(self.channels or []) and bool(self.phone) and not self.sms_opted_out


class EmailClaim(Item, discriminator="email_claim"):
    """Which member holds a (verified) email: how an invitation finds an existing member by email."""

    sub = UnicodeAttribute()
    display_name = UnicodeAttribute()

    @staticmethod
    def key(email: str) -> tuple[str, str]:
        return f"EMAIL#{email.lower()}", "EMAIL"


def pact_pk(pact_id: str) -> str:
    return f"PACT#{pact_id}"


class PactView(Item, discriminator="pact_view"):
    """One party's view of a pact: the shared terms (kept equal on both views) and their own state."""

    pact_id = UnicodeAttribute()
    member_sub = UnicodeAttribute()
    role = UnicodeAttribute()  # owner | colleague
    state = UnicodeAttribute()  # active | invited | ended (nobody on the other side any more)
    mutual = BooleanAttribute(default=False)  # both parties are members and the colleague accepted
    colleague_left = BooleanAttribute(default=False)  # they left or declined: no more notices to them
    # Who this party meets: another member (colleague_sub) or an outside colleague (name/email/phone).
    colleague_sub = UnicodeAttribute(null=True)
    colleague_name = UnicodeAttribute()
    colleague_email = UnicodeAttribute(null=True)
    colleague_phone = UnicodeAttribute(null=True)
    # The shared terms.
    rrule = UnicodeAttribute()
    time_zone = UnicodeAttribute()  # the owner's zone: the zone the slot is agreed in
    starts_at = UTCDateTimeAttribute()
    mode = UnicodeAttribute()
    time_limit_minutes = NumberAttribute()
    grace_days = NumberAttribute()
    last_check_in_at = UTCDateTimeAttribute(null=True)
    next_due_at = UTCDateTimeAttribute()
    paused_until = UTCDateTimeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()
    # This party's own nudge preferences (copied from their profile) and nudge state.
    party_time_zone = UnicodeAttribute(null=True)
    party_nudge_hour = NumberAttribute(null=True)
    party_quiet_days = NumberSetAttribute(null=True)
    party_wants_email = BooleanAttribute(default=False)
    party_wants_sms = BooleanAttribute(default=False)
    party_quiet_hours = UnicodeAttribute(null=True)  # JSON: [{"weekday": 0, "start": "09:00", "end": "17:00"}]
    nudge_stage = NumberAttribute(null=True)  # 1: first nudge next, 2: the reminder, 3: silence
    lapse_at = UTCDateTimeAttribute(null=True)  # the lapse the stage belongs to (next due + grace)
    last_nudged_at = UTCDateTimeAttribute(null=True)
    snoozed_until = UTCDateTimeAttribute(null=True)
    sms_slot = UTCDateTimeAttribute(null=True)  # the slot the next check-in text is about (planned)
    sms_through = UTCDateTimeAttribute(null=True)  # slots up to here have had their text (or were let go)
    # An invitation by email (owner's view while it is open; the invited member's view once they have one).
    invite_key = UnicodeAttribute(null=True)  # address_key() of the invited address: the Invitation item's partition
    invitation_expires_at = UTCDateTimeAttribute(null=True)
    invitation_state = UnicodeAttribute(null=True)  # pending | declined (expired is read off the instant)
    colleague_named = BooleanAttribute(default=True)  # False: the owner gave only an address; the member's name replaces it
    # The end of a pact: the colleague left, erased their account, or declined the invitation.
    ended_reason = UnicodeAttribute(null=True)  # you_ended | colleague_left | colleague_erased | declined
    ended_at = UTCDateTimeAttribute(null=True)
    ended_notice = UnicodeAttribute(null=True)  # pending: the one short notice is still to go | sent | none
    # The habit (shared/domain/habit.py): how established the pact is (the same on both views), and this party's
    # pending habit message in the sparse habit_due index (a reminder before a slot, a notice, a fall-back check).
    slot_reminders = BooleanAttribute(null=True)  # a shared term: None or True: reminders before slots while establishing
    habit_kept = NumberAttribute(null=True)  # consecutive slots/intervals kept as of habit_last
    habit_last = UTCDateTimeAttribute(null=True)  # the last kept slot (or the check-in that kept the last interval)
    habit_established_at = UTCDateTimeAttribute(null=True)
    habit_misses = UnicodeAttribute(null=True)  # JSON: window closes missed since established (the recent ones)
    habit_since = UTCDateTimeAttribute(null=True)  # counting resumes here (after a miss, or a pause)
    habit_notice = UnicodeAttribute(null=True)  # established | back: said once to this party, still to go
    habit_notice_at = UTCDateTimeAttribute(null=True)  # the instant the notice is about (its claim's key)
    habit_kind = UnicodeAttribute(null=True)  # what habit_due is for: reminder | notice | check
    habit_for = UTCDateTimeAttribute(null=True)  # the slot reminded of, the notice's instant, or the fall-back instant
    habit_reminded_through = UTCDateTimeAttribute(null=True)  # slots up to here have had their reminder (or were let go)

    @staticmethod
    def key(pact_id: str, sub: str) -> tuple[str, str]:
        return pact_pk(pact_id), member_pk(sub)


class CheckIn(Item, discriminator="check_in"):
    """A check-in as the pact keeps it. One per pact and minute: a repeat of the same call is the same item."""

    check_in_id = UnicodeAttribute()
    pact_id = UnicodeAttribute()
    author_sub = UnicodeAttribute(null=True)  # None once the author erased their account
    occurred_at = UTCDateTimeAttribute()
    mode = UnicodeAttribute()
    duration_minutes = NumberAttribute()
    note = UnicodeAttribute(null=True)  # private: only ever shown back to author_sub
    source = UnicodeAttribute(default="api")
    recorded_at = UTCDateTimeAttribute()


class TimelineEntry(Item, discriminator="timeline"):
    """A party's copy of a check-in in their own partition: "my check-ins, newest first" is one query."""

    check_in_id = UnicodeAttribute()
    pact_id = UnicodeAttribute()
    author_sub = UnicodeAttribute(null=True)
    occurred_at = UTCDateTimeAttribute()
    mode = UnicodeAttribute()
    duration_minutes = NumberAttribute()
    note = UnicodeAttribute(null=True)  # only on the author's own copy
    source = UnicodeAttribute(default="api")
    recorded_at = UTCDateTimeAttribute()


class IdempotencyRecord(Item, discriminator="idempotency"):
    """The response to a request made with an Idempotency-Key, kept a day, written with the change itself."""

    request_hash = UnicodeAttribute()
    status = NumberAttribute()
    response = UnicodeAttribute()


class SentNotice(Item, discriminator="sent_notice"):
    """One notice to one recipient for one event: written before sending, so a redelivery sends nothing twice."""

    message_id = UnicodeAttribute(null=True)
    sent_at = UTCDateTimeAttribute()


class LeftPact(Item, discriminator="left_pact"):
    """A pact the member left while a colleague kept it: erasure finds it here to forget them there too."""

    pact_id = UnicodeAttribute()
    colleague_sub = UnicodeAttribute()
    left_at = UTCDateTimeAttribute()


def address_key(email: str) -> str:
    """The key an email address is known by where its owner may not be a member: SHA-256 of the normalised address."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


class Invitation(Item, discriminator="invitation"):
    """An open invitation to an address: INVITE#<address_key> / PACT#<id> or GROUP#<id>.

    The only place the invited address is kept in clear while the invitation is open; it is
    deleted when the invitation is accepted, declined or withdrawn, and expires (TTL) after 30 days.
    """

    pact_id = UnicodeAttribute(null=True)
    group_id = UnicodeAttribute(null=True)
    invitation_id = UnicodeAttribute(null=True)  # a group invitation's entry in the group (GroupMember.invited_key)
    inviter_sub = UnicodeAttribute()
    email = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    valid_until = UTCDateTimeAttribute()  # TTL deletes late: expiry is checked against this

    @staticmethod
    def key(invite_key: str, pact_id: str) -> tuple[str, str]:
        return f"INVITE#{invite_key}", f"PACT#{pact_id}"

    @staticmethod
    def group_key(invite_key: str, group_id: str) -> tuple[str, str]:
        return f"INVITE#{invite_key}", f"GROUP#{group_id}"


class AddressSuppression(Item, discriminator="address_suppression"):
    """An address that said "don't email me again", bounced or complained: ADDRESS#<address_key> / SUPPRESSED."""

    reason = UnicodeAttribute()  # unsubscribed | bounce | complaint
    at = UTCDateTimeAttribute()

    @staticmethod
    def key(invite_key: str) -> tuple[str, str]:
        return f"ADDRESS#{invite_key}", "SUPPRESSED"


class DailyCount(Item, discriminator="daily_count"):
    """How many of something a member did on one UTC day (invitations): MEMBER#<sub> / COUNT#<what>#<day>, TTL."""

    tally = NumberAttribute(default=0)


class LinkToken(Item, discriminator="link"):
    """A signed-in-by-possession link (email or SMS): only the SHA-256 of the secret is stored, with a TTL.

    pk LINK#<sha256>. Scoped to one member, one pact (none for unsubscribe) and one action.
    Single use for pact actions: consumed with a conditional update.
    """

    member_sub = UnicodeAttribute()  # empty for an invitation's links: the address may belong to nobody yet
    pact_id = UnicodeAttribute(null=True)
    invite_key = UnicodeAttribute(null=True)  # an invitation's links: the invited address's key
    group_id = UnicodeAttribute(null=True)  # a meeting's links (rsvp_no) and a group invitation's page: the group
    meeting_id = UnicodeAttribute(null=True)  # and the meeting (series.meeting_id of its original start)
    intro_id = UnicodeAttribute(null=True)  # an introduction's links (intro_accept, intro_decline, and its unsubscribe)
    # check_in | snooze | pause | unsubscribe | invitation | group_invitation | rsvp_no | intro_accept | intro_decline
    action = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    valid_until = UTCDateTimeAttribute()  # TTL deletes late; expiry is checked against this
    used_at = UTCDateTimeAttribute(null=True)
    outcome = UnicodeAttribute(null=True)

    @staticmethod
    def key(token_hash: str) -> tuple[str, str]:
        return f"LINK#{token_hash}", "LINK"


class SendClaim(Item, discriminator="send_claim"):
    """The right to send one message, taken with a conditional write before sending: the guard against twice.

    Nudges: MEMBER#<sub> / NUDGED#<pact>#<lapse>#<stage>. Texts: MEMBER#<sub> / SMS#<pact>#<slot>.
    Invitation emails: ADDRESS#<address_key> / INVITATION_EMAIL (one per address per 7 days, whoever invites; TTL).
    Group meeting reminders: MEMBER#<sub> / REMIND#<group>#<meeting id>.
    """

    status = UnicodeAttribute()  # sending | sent | failed
    claimed_at = UTCDateTimeAttribute()
    lease_until = UTCDateTimeAttribute(null=True)  # invitation emails: a `sending` claim may be retaken after this (wall clock)
    message_id = UnicodeAttribute(null=True)

    @classmethod
    def claimable(cls, now: datetime, lease: timedelta) -> Condition:
        """Nobody holds the claim, or it was left `sending` longer than `lease` (its sender died): it can be taken."""
        condition: Condition = cls.pk.does_not_exist() | ((cls.status == "sending") & (cls.claimed_at < now - lease))
        return condition


class NudgeSent(Item, discriminator="nudge_sent"):
    """A sent nudge email, for the member's own list (GET /members/me/nudges); kept 90 days."""

    sent_at = UTCDateTimeAttribute()
    message_id = UnicodeAttribute()
    pact_ids = ListAttribute(of=UnicodeAttribute)
    reminder = BooleanAttribute(default=False)


# ------------------------------------------------------------------ peer supervision groups


def group_pk(group_id: str) -> str:
    return f"GROUP#{group_id}"


class Group(Item, discriminator="group"):
    """A peer supervision group: its agreement (objectives, rhythm, boundary, venue, format) and its series state.

    Meetings come from the rhythm (RRULE in the group's zone from `starts_at`); only occurrences
    something was decided about are stored (`Meeting`). Changed by conveners, the scheduler and
    attendance -> versioned.
    """

    group_id = UnicodeAttribute()
    name = UnicodeAttribute()
    purpose = UnicodeAttribute(null=True)
    objectives = UnicodeAttribute(null=True)
    rrule = UnicodeAttribute()
    time_zone = UnicodeAttribute()
    starts_at = UTCDateTimeAttribute()  # the series' anchor: its first occurrence
    duration_minutes = NumberAttribute()  # the time boundary
    venue_kind = UnicodeAttribute()  # place | online | rotation
    venue = UnicodeAttribute(null=True)  # the fixed place
    online_url = UnicodeAttribute(null=True)
    rotation = UnicodeAttribute(null=True)  # JSON: [{"venue": ..., "host": <sub>}, ...] in order
    rotation_state = UnicodeAttribute(null=True)  # JSON: {"position": n, "owed": [..]}
    format = UnicodeAttribute()  # JSON: domain.groups.format_to_dict
    size_limit = NumberAttribute(default=16)
    reminder_days = NumberAttribute(default=1)  # reminders go this many days before, at each member's nudge hour
    review_months = NumberAttribute(default=6)
    review_due_at = UTCDateTimeAttribute(null=True)
    agreement_version = NumberAttribute(default=1)
    agreement_changed_at = UTCDateTimeAttribute()
    scheduled_through = UTCDateTimeAttribute(null=True)  # occurrences starting up to here have been scheduled (fixed)
    former_attendance = NumberAttribute(default=0)  # attendances of members who left or erased: counts only
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()

    @staticmethod
    def key(group_id: str) -> tuple[str, str]:
        return group_pk(group_id), "META"


class GroupMember(Item, discriminator="group_member"):
    """One person in a group: a member (MEMBER#<sub>), or an invitation not yet answered (MEMBER#@<invitation id>)."""

    group_id = UnicodeAttribute()
    member_sub = UnicodeAttribute(null=True)
    invite_key = UnicodeAttribute(null=True)  # invited by email: the address's key (the Invitation item's partition)
    invited_by = UnicodeAttribute(null=True)
    invitation_expires_at = UTCDateTimeAttribute(null=True)
    role = UnicodeAttribute()  # convener | member
    state = UnicodeAttribute()  # active | invited
    display_name = UnicodeAttribute()  # as the group sees them (the member's display name)
    joined_at = UTCDateTimeAttribute(null=True)
    presented = NumberAttribute(default=0)  # fair speaking time: presentations so far in this group
    last_presented_at = UTCDateTimeAttribute(null=True)
    roles_held = UnicodeAttribute(null=True)  # JSON: {"moderator": 2, ...}
    attended = NumberAttribute(default=0)
    meetings_held = NumberAttribute(default=0)  # meetings held since joining (counted where attendance is recorded)
    missed_in_a_row = NumberAttribute(default=0)
    attendance_notice = UnicodeAttribute(null=True)  # pending: the digest says "you missed two meetings" once
    # Reminder of the next scheduled meeting: the member's own preferences decide when.
    party_time_zone = UnicodeAttribute(null=True)
    party_nudge_hour = NumberAttribute(null=True)
    party_quiet_days = NumberSetAttribute(null=True)
    party_quiet_hours = UnicodeAttribute(null=True)
    party_wants_email = BooleanAttribute(default=False)
    remind_for = UnicodeAttribute(null=True)  # the meeting (original start, ISO) the pending reminder is about
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()

    @staticmethod
    def key(group_id: str, sub: str) -> tuple[str, str]:
        return group_pk(group_id), member_pk(sub)

    @staticmethod
    def invited_key(group_id: str, invitation_id: str) -> tuple[str, str]:
        """An open invitation's entry: keyed by a random id, so nothing about the address shows in its id."""
        return group_pk(group_id), f"MEMBER#@{invitation_id}"


class Meeting(Item, discriminator="meeting"):
    """One occurrence something was decided about: scheduled (presenters fixed), RSVPs, cancelled, moved, attended.

    Keyed by the occurrence's original start (its RECURRENCE-ID), so a moved meeting stays itself.
    """

    group_id = UnicodeAttribute()
    original_start = UTCDateTimeAttribute()
    starts_at = UTCDateTimeAttribute()  # where it moved to (= original_start unless rescheduled)
    status = UnicodeAttribute(default="planned")  # planned | scheduled | cancelled | held
    venue = UnicodeAttribute(null=True)  # a one-off venue (or the rotation's, once scheduled)
    online_url = UnicodeAttribute(null=True)
    host_sub = UnicodeAttribute(null=True)
    stop_index = NumberAttribute(null=True)
    presenters = ListAttribute[str](of=UnicodeAttribute, null=True)  # type: ignore[arg-type]  # member ids, fixed when scheduled
    roles = UnicodeAttribute(null=True)  # JSON: {"meeting": {...}, "cases": [{...}]}
    rsvps = UnicodeAttribute(null=True)  # JSON: {sub: yes | no | maybe}
    slot_requests = UnicodeSetAttribute(null=True)
    gave_back = UnicodeSetAttribute(null=True)
    attendees = UnicodeSetAttribute(null=True)  # recorded after the meeting
    presented = UnicodeSetAttribute(null=True)
    former_attendees = NumberAttribute(default=0)  # attendees who since left or erased: a count only
    cancel_reason = UnicodeAttribute(null=True)
    sequence = NumberAttribute(default=0)  # iCalendar SEQUENCE: bumped on every change
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()

    @staticmethod
    def key(group_id: str, original_start: datetime) -> tuple[str, str]:
        return group_pk(group_id), f"MEETING#{iso_z(original_start)}"


class Attended(Item, discriminator="attended"):
    """A meeting a member attended, in their own partition: "my meetings attended, newest first" is one query."""

    group_id = UnicodeAttribute()
    group_name = UnicodeAttribute()
    original_start = UTCDateTimeAttribute()
    starts_at = UTCDateTimeAttribute()
    presented = BooleanAttribute(default=False)
    recorded_at = UTCDateTimeAttribute()

    @staticmethod
    def key(sub: str, starts_at: datetime, group_id: str) -> tuple[str, str]:
        return member_pk(sub), f"ATTENDED#{iso_z(starts_at)}#{group_id}"


class CalendarSecret(Item, discriminator="calendar_secret"):
    """A member's private calendar feed: only the SHA-256 of its secret is stored (CAL#<hash>)."""

    member_sub = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()

    @staticmethod
    def key(secret_hash: str) -> tuple[str, str]:
        return f"CAL#{secret_hash}", "CAL"


# ------------------------------------------------------------------ the network: circle and directory


class Circle(Item, discriminator="circle"):
    """Who a member is in regular contact with: MEMBER#<sub> / CIRCLE.

    `links` holds "<colleague sub>|PACT#<pact id>" (a mutual pact) and "<colleague sub>|GROUP#<group id>"
    (a group both are active members of). Each tie is added and removed by the change that makes or ends
    it, in the same transaction, with ADD/DELETE on the set (a repeat changes nothing). First degree: the
    subs in my links; second degree: the subs in their circles (one BatchGetItem).
    """

    links = UnicodeSetAttribute(null=True)

    @staticmethod
    def key(sub: str) -> tuple[str, str]:
        return member_pk(sub), "CIRCLE"


class DirectoryEntry(Item, discriminator="directory_entry"):
    """An opted-in member under one search term: MEMBER#<sub> / DIR#<term>, gsi2 DIR#<term> / <sub>.

    term: "s:<specialty tag>", "m:<modality tag>" or "r:<region tag>". Each entry carries the card the
    directory shows (never an email address or phone number; specialties and modalities as the member typed
    them, beside their tags), so a search reads entries only. Written
    and deleted with the profile, in the same transaction: opting out removes them at once.
    """

    member_sub = UnicodeAttribute()
    display_name = UnicodeAttribute()
    region_name = UnicodeAttribute(null=True)
    specialties = ListAttribute[str](of=UnicodeAttribute, null=True)  # type: ignore[arg-type]  # tags, sorted
    modalities = ListAttribute[str](of=UnicodeAttribute, null=True)  # type: ignore[arg-type]
    specialty_labels = LabelsAttribute(null=True)  # tag -> as the member typed it (absent on cards written before)
    modality_labels = LabelsAttribute(null=True)

    @staticmethod
    def key(sub: str, term: str) -> tuple[str, str]:
        return member_pk(sub), f"DIR#{term}"


class Dismissal(Item, discriminator="dismissal"):
    """A suggestion the member dismissed: MEMBER#<sub> / DISMISSED#<other sub>. Never suggested again."""

    at = UTCDateTimeAttribute()

    @staticmethod
    def key(sub: str, other: str) -> tuple[str, str]:
        return member_pk(sub), f"DISMISSED#{other}"


# ------------------------------------------------------------------ the network: introductions


class Introduction(Item, discriminator="introduction"):
    """A request to be introduced to a directory member: INTRO#<id> / INTRO; gsi1 MEMBER#<to> / INTRO#<created>#<id>.

    Contact details are shown to both only once `state` is accepted.
    """

    intro_id = UnicodeAttribute()
    from_sub = UnicodeAttribute()
    to_sub = UnicodeAttribute()
    from_name = UnicodeAttribute()
    to_name = UnicodeAttribute()
    message = UnicodeAttribute()
    state = UnicodeAttribute(default="pending")  # pending | accepted | declined | withdrawn
    created_at = UTCDateTimeAttribute()
    answered_at = UTCDateTimeAttribute(null=True)
    valid_until = UTCDateTimeAttribute()  # unanswered by then: ignored
    pact_id = UnicodeAttribute(null=True)  # the pact made from it, if any
    digested = BooleanAttribute(default=False)  # the recipient's weekly digest has mentioned it

    @staticmethod
    def key(intro_id: str) -> tuple[str, str]:
        return f"INTRO#{intro_id}", "INTRO"


class IntroductionSent(Item, discriminator="introduction_sent"):
    """The requester's side: MEMBER#<from> / INTRO_TO#<to>. Guards the 90-day rule (TTL) and lists "sent"."""

    intro_id = UnicodeAttribute()
    requested_at = UTCDateTimeAttribute()
    blocked_until = UTCDateTimeAttribute()  # no new request before this unless accepted

    @staticmethod
    def key(from_sub: str, to_sub: str) -> tuple[str, str]:
        return member_pk(from_sub), f"INTRO_TO#{to_sub}"


# ------------------------------------------------------------------ the network: asks


class Ask(Item, discriminator="ask"):
    """A question to peers: ASK#<id> / ASK; gsi1 MEMBER#<author> / ASK#<created>#<id> (the author's asks)."""

    ask_id = UnicodeAttribute()
    author_sub = UnicodeAttribute(null=True)  # None once the author erased their account
    author_name = UnicodeAttribute()
    text = UnicodeAttribute()
    audience_kind = UnicodeAttribute()  # pacts | group | specialty
    audience_ref = UnicodeAttribute(null=True)  # the group id or the specialty tag
    audience_label = UnicodeAttribute(null=True)  # "your pact colleagues", the group's name, the specialty
    state = UnicodeAttribute(default="open")  # open | closed
    recipients = NumberAttribute(default=0)
    recipient_subs = UnicodeSetAttribute(null=True)  # who was asked: may reply, and whose inbox items go with the ask
    replies = NumberAttribute(default=0)
    created_at = UTCDateTimeAttribute()
    closed_at = UTCDateTimeAttribute(null=True)
    version = VersionAttribute()

    @staticmethod
    def key(ask_id: str) -> tuple[str, str]:
        return f"ASK#{ask_id}", "ASK"


class AskReply(Item, discriminator="ask_reply"):
    """A reply to an ask: ASK#<id> / REPLY#<created>#<sub>. Seen by the asker and by its own author."""

    ask_id = UnicodeAttribute()
    author_sub = UnicodeAttribute(null=True)
    author_name = UnicodeAttribute()
    text = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()


class AskReceived(Item, discriminator="ask_received"):
    """An ask in a recipient's inbox: MEMBER#<sub> / ASKED#<created>#<ask id>; the weekly digest reads these."""

    ask_id = UnicodeAttribute()
    author_name = UnicodeAttribute()
    text = UnicodeAttribute()
    audience_label = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    digested = BooleanAttribute(default=False)  # the weekly digest has mentioned it


class OutboxEvent(Item, discriminator="outbox_event"):
    """A domain event written in the same transaction as the change it reports: EVENT#<event id> / EVENT.

    The table's stream hands each new one to EventRelayFunction, which puts it on the bus;
    the item itself only has to outlive that (a day's TTL).
    """

    detail_type = UnicodeAttribute()
    detail = UnicodeAttribute()  # JSON, with event_id and occurred_at
    occurred_at = UTCDateTimeAttribute()

    @staticmethod
    def key(event_id: str) -> tuple[str, str]:
        return f"EVENT#{event_id}", "EVENT"


def iso_z(value: datetime) -> str:
    """Sortable fixed-width UTC text (keys and due-index range keys)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
