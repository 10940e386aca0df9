"""The member's side of the calendar feed: create its address, or rotate it (the old one stops at once)."""

from __future__ import annotations

from shared.calendar import keys
from shared.domain.errors import Conflict
from shared.groups.schemas import CalendarOut
from shared.pacts.planning import Ctx


def create_or_rotate(ctx: Ctx, base_url: str) -> CalendarOut:
    """A new private feed address (`<base>/calendar/<secret>.ics`); any earlier one answers 404 from now on."""
    rotated = keys.rotate(ctx.sub, ctx.now)
    if rotated is None:
        raise Conflict("Create your profile first: PUT /members/me.")
    return CalendarOut(url=keys.feed_url(base_url, rotated.secret), created_at=rotated.created_at)
