"""/pacts and /check-ins: pacts between two colleagues and the check-ins recorded on them."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from api_common import Cursor, Limit, app, created, ctx
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Header

from shared.adapters.schema_types import Page
from shared.invitations import use_cases as invitations
from shared.pacts import use_cases as pacts
from shared.pacts.checkins import CheckInRequest
from shared.pacts.checkins import record_check_in as record_check_in_
from shared.pacts.schemas import CheckInIn, CheckInOut, PactIn, PactOut, PactPatch, PauseIn, ResendIn


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


@app.delete(
    "/pacts/<pact_id>",
    summary="Leave a pact and delete your side of it (your colleague keeps theirs)",
    tags=["pacts"],
    status_code=204,
)
def delete_pact(pact_id: str) -> Response[str]:
    pacts.delete_pact(ctx(), pact_id)
    return Response(status_code=204, body="")


@app.post("/pacts/<pact_id>/end", summary="End a pact and keep its history (your colleague keeps theirs, and is told once)", tags=["pacts"])
def end_pact(pact_id: str) -> PactOut:
    return pacts.end_pact(ctx(), pact_id)


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
