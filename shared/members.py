"""Member use-cases: the signed-in therapist's profile."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from shared.domain.errors import NotFound
from shared.models import Member


class MemberOut(BaseModel):
    id: str
    display_name: str
    email: str
    time_zone: str
    created_at: datetime
    updated_at: datetime


def get_profile(sub: str) -> MemberOut:
    try:
        member = Member.get(*Member.key(sub))
    except Member.DoesNotExist:
        raise NotFound("You have no profile yet: create it with PUT /members/me.") from None
    return MemberOut(
        id=sub,
        display_name=member.display_name,
        email=member.email,
        time_zone=member.time_zone,
        created_at=member.created_at,
        updated_at=member.updated_at,
    )
