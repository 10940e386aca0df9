"""From an SES event (bounce or complaint) to a member whose address is no longer emailed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist

from shared.adapters.models import AddressSuppression, EmailClaim, address_key
from shared.adapters.observability import logger
from shared.pacts.planning import Ctx, stop_nudge_emails


def suppress_address(email: str, reason: str, now: datetime, *, key: str | None = None) -> None:
    """No invitation email goes to this address again ("don't email me again", a bounce, a complaint).

    Kept under the address's key (a SHA-256), never the address itself.
    """
    AddressSuppression(*AddressSuppression.key(key or address_key(email)), reason=reason, at=now).save()


def suppress_from_notification(notification: dict[str, Any], now: datetime, shards: int) -> int:
    """Mark each affected member; returns how many were marked. Transient bounces change nothing."""
    kind = str(notification.get("eventType") or notification.get("notificationType") or "").lower()
    if kind == "bounce":
        bounce = notification.get("bounce", {})
        if bounce.get("bounceType") != "Permanent":
            return 0
        addresses = [r.get("emailAddress", "") for r in bounce.get("bouncedRecipients", [])]
    elif kind == "complaint":
        addresses = [r.get("emailAddress", "") for r in notification.get("complaint", {}).get("complainedRecipients", [])]
    else:
        return 0
    marked = 0
    for address in addresses:
        suppress_address(address, kind, now)  # members or not: no invitation email goes there either
        try:
            claim = EmailClaim.get(*EmailClaim.key(address.strip().lower()))
        except DoesNotExist:
            continue
        stop_nudge_emails(Ctx(sub=claim.sub, now=now, due_shards=shards), kind)
        marked += 1
    logger.info("email events handled", extra={"kind": kind, "marked": marked})
    return marked
