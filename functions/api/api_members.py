"""/members/me: the profile, away mode, export, erasure, the nudges sent.

Reading a profile needs `shared.members.profile` alone; the other routes import the members'
use-cases (which import every capability a profile touches) when first called.
"""

from __future__ import annotations

from api_common import Cursor, Limit, app, ctx
from aws_lambda_powertools.event_handler import Response

from shared.adapters.http import caller
from shared.adapters.schema_types import Page
from shared.members import profile
from shared.members.schemas import AwayIn, ExportOut, MemberOut, NudgeOut, ProfileIn


@app.get("/members/me", summary="Your profile", tags=["members"])
def get_me() -> MemberOut:
    return profile.get_profile(caller(app).sub)


@app.put("/members/me", summary="Create or replace your profile", tags=["members"])
def put_me(body: ProfileIn) -> MemberOut:
    from shared.members import use_cases as members

    who = caller(app)
    return members.put_profile(ctx(), who.email, who.email_verified, body)


@app.delete("/members/me", summary="Erase your account and everything you own", tags=["members"], status_code=204)
def delete_me() -> Response[str]:
    from shared.members import use_cases as members

    members.erase(ctx())
    return Response(status_code=204, body="")


@app.get("/members/me/export", summary="Everything you own, as JSON", tags=["members"])
def export_me() -> ExportOut:
    from shared.members import use_cases as members

    return members.export(ctx())


@app.put("/members/me/away", summary="Away until a date: pauses all your pacts and nudges", tags=["members"])
def away(body: AwayIn) -> MemberOut:
    from shared.members import use_cases as members

    return members.set_away(ctx(), body)


@app.delete("/members/me/away", summary="Back early: resume what away mode paused", tags=["members"])
def back() -> MemberOut:
    from shared.members import use_cases as members

    return members.clear_away(ctx())


@app.get("/members/me/nudges", summary="The nudge emails you were sent lately (90 days)", tags=["members"])
def my_nudges(limit: Limit = 20, next: Cursor = None) -> Page[NudgeOut]:  # noqa: A002
    from shared.members import use_cases as members

    return members.recent_nudges(ctx(), limit, next)
