"""/members/me/calendar-secret: the address of a member's private calendar feed."""

from __future__ import annotations

from api_common import app, ctx

from shared.adapters.http import public_base_url
from shared.adapters.settings import get_settings
from shared.calendar import use_cases as calendar
from shared.groups.schemas import CalendarOut


@app.post(
    "/members/me/calendar-secret",
    summary="Your private calendar feed's address: a new one each time (the previous one stops at once)",
    tags=["members"],
)
def calendar_secret() -> CalendarOut:
    return calendar.create_or_rotate(ctx(), public_base_url(app, get_settings().public_base_url))
