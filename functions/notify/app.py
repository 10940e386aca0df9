"""Domain-event consumer: sends the short emails that follow from events (an invitation, a member going away, changed terms).

Each kind of event imports the capability that answers it when it first comes: a cold start
imports one of them, not all five.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.adapters.aws import client
from shared.adapters.mail import Mailer
from shared.adapters.observability import logger
from shared.adapters.settings import get_settings


@cache
def _mailer() -> Mailer:
    return Mailer(lambda: client("sesv2"), get_settings().sender_email)


@logger.inject_lambda_context
@event_source(data_class=EventBridgeEvent)
def handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    now = datetime.fromisoformat(event.time.replace("Z", "+00:00"))
    if event.detail_type == "MemberWentAway":
        from shared.members.notices import send_away_notices

        until = datetime.fromisoformat(event.detail["until"])
        sent = send_away_notices(event.get_id, event.detail["member_id"], until, now, _mailer())
        return {"sent": sent}
    if event.detail_type == "InvitationSent":
        from shared.invitations.emails import InvitationMail, send_group_invitation_email, send_invitation_email

        settings = get_settings()
        mail = InvitationMail(_mailer(), settings.public_base_url, settings.app_url, settings.ses_configuration_set or None)
        if "group_id" in event.detail:
            outcome = send_group_invitation_email(event.detail["group_id"], str(event.detail["member_id"]).removeprefix("@"), now, mail)
        else:
            outcome = send_invitation_email(event.detail["pact_id"], event.detail["owner_id"], now, mail)
        logger.info("invitation handled", extra={"outcome": outcome})
        return {"sent": int(outcome == "sent"), "outcome": outcome}
    if event.detail_type == "IntroductionRequested":
        from shared.network.introductions.emails import send_introduction_email

        settings = get_settings()
        outcome = send_introduction_email(
            event.detail["intro_id"], now, _mailer(), settings.public_base_url, settings.app_url, settings.ses_configuration_set or None
        )
        logger.info("introduction handled", extra={"outcome": outcome})
        return {"sent": int(outcome == "sent"), "outcome": outcome}
    if event.detail_type == "IntroductionAccepted":
        from shared.network.introductions.emails import send_acceptance_email

        outcome = send_acceptance_email(event.detail["intro_id"], now, _mailer(), get_settings().app_url)
        logger.info("introduction acceptance handled", extra={"outcome": outcome})
        return {"sent": int(outcome == "sent"), "outcome": outcome}
    if event.detail_type == "PactTermsChanged":
        from shared.pacts.notices import send_terms_notice

        sent = send_terms_notice(event.get_id, event.detail["pact_id"], event.detail["member_id"], now, _mailer())
        return {"sent": sent}
    if event.detail_type == "GroupReviewDue":
        from shared.groups.notices import send_review_prompts

        sent = send_review_prompts(event.get_id, event.detail["group_id"], now, _mailer(), get_settings().app_url)
        return {"sent": sent}
    logger.warning("event type not handled here", extra={"detail_type": event.detail_type})
    return {"sent": 0}
