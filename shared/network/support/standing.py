"""Where a member stands with their contacts: pure functions of pact views and meetings attended
(a pact's own status and lapse instant are shared/pacts/planning.py's `pact_status` and `lapsed_since`).

Used by GET /members/me/support (shared/network/support/use_cases.py) and by the weekly digest
(shared/digest/compose.py), which must not import the API's schemas: a sender's cold start stays
without pydantic (see `make bench`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from shared.adapters.models import Attended, PactView


def last_contact(views: Iterable[PactView], meetings: Iterable[Attended]) -> datetime | None:
    moments = [v.last_check_in_at for v in views if v.last_check_in_at is not None] + [a.starts_at for a in meetings]
    return max(moments) if moments else None


def ago(then: datetime, now: datetime) -> str:
    """ "today", "yesterday", "5 days ago", "3 weeks ago", "2 months ago"."""
    days = max(0, (now - then).days)
    if days == 0:
        return "today"
    if days == 1:
        return "yesterday"
    if days < 14:
        return f"{days} days ago"
    if days < 60:
        return f"{days // 7} weeks ago"
    return f"{days // 30} months ago"
