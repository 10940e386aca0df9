"""Reading a member's profile: what GET /members/me needs, and nothing of the rest of the capability.

Its own module so the API's most frequent first request imports the profile's model and schema
only; `shared.members.use_cases` (writes, away mode, export, erasure) imports every other
capability, and use these.
"""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from shared.adapters.models import Member
from shared.adapters.schema_types import WEEKDAY_NAMES
from shared.domain.errors import NotFound
from shared.domain.tags import labels_of
from shared.members.schemas import MemberOut, Notifications
from shared.members.schemas import QuietHours as QuietHoursIn


def load(sub: str) -> Member:
    try:
        return Member.get(*Member.key(sub))
    except DoesNotExist:
        raise NotFound("You have no profile yet: create it with PUT /members/me.") from None


def member_out(sub: str, m: Member) -> MemberOut:
    return MemberOut(
        id=sub,
        display_name=m.display_name,
        email=m.email,
        phone=m.phone,
        time_zone=m.time_zone,
        specialties=labels_of(m.specialties, m.specialty_labels),
        modalities=labels_of(m.modalities, m.modality_labels),
        region=m.region_name,
        in_directory=m.in_directory,
        notifications=Notifications(
            channels=sorted(m.channels) if m.channels is not None else ["email"],
            nudge_hour=int(m.nudge_hour),
            quiet_days=[WEEKDAY_NAMES[int(d)] for d in sorted(m.quiet_days or [])],
            quiet_hours=[QuietHoursIn(weekday=WEEKDAY_NAMES[int(q.weekday)], start=q.start, end=q.end) for q in m.quiet_hours or []],
        ),
        weekly_digest=bool(m.weekly_digest),
        away_until=m.away_until,
        email_status=m.email_suppressed or ("unsubscribed" if m.nudges_unsubscribed else "ok"),
        created_at=m.created_at,
        updated_at=m.updated_at,
    )


def get_profile(sub: str) -> MemberOut:
    return member_out(sub, load(sub))
