"""Links that act without signing in: check-in, snooze and pause from a nudge or a text, and unsubscribe.

The token is 128 random bits from `secrets` (22 URL-safe characters); only its SHA-256
is stored, with a TTL, so a database reader cannot use a link. Pact actions are single
use, consumed with a conditional update; an unsubscribe link may be used again (it is
idempotent). Expiry is checked against the stored instant: TTL deletes late.
"""

from __future__ import annotations

import hashlib
import secrets
import string
from datetime import datetime, timedelta

from pynamodb.exceptions import DoesNotExist
from pynamodb.transactions import TransactWrite

from shared.adapters.models import LinkToken, member_pk

TOKEN_ALPHABET = frozenset(string.ascii_letters + string.digits + "-_")  # what token_urlsafe gives
LINK_LIFETIME = timedelta(days=7)
REUSABLE = frozenset({"unsubscribe", "invitation"})  # idempotent, or only a view of something with its own state
UNSUBSCRIBE_LIFETIME = timedelta(days=90)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_link(
    member_sub: str,
    action: str,
    now: datetime,
    pact_id: str | None = None,
    lifetime: timedelta | None = None,
    *,
    meeting: tuple[str, str] | None = None,
) -> tuple[str, LinkToken]:
    """A fresh secret and the item to store for it (the caller writes it, e.g. in a batch).

    `meeting`: (group id, meeting id) for a meeting's links (rsvp_no).
    """
    token = secrets.token_urlsafe(16)
    valid_until = now + (lifetime or (UNSUBSCRIBE_LIFETIME if action == "unsubscribe" else LINK_LIFETIME))
    item = LinkToken(
        *LinkToken.key(token_hash(token)),
        # A member's links are listed under them (inverted index), so that erasure finds and deletes them.
        gsi1pk=member_pk(member_sub) if member_sub else None,
        gsi1sk=f"LINK#{now.isoformat()}" if member_sub else None,
        member_sub=member_sub,
        pact_id=pact_id,
        group_id=meeting[0] if meeting else None,
        meeting_id=meeting[1] if meeting else None,
        action=action,
        created_at=now,
        valid_until=valid_until,
        expires_at=valid_until + timedelta(days=1),
    )
    return token, item


class LinkProblem(Exception):
    """unknown (also: tampered), expired, used: each gets its own friendly page and status."""

    def __init__(self, kind: str):
        super().__init__(kind)
        self.kind = kind


def look_up(token: str, now: datetime) -> LinkToken:
    """The link a token stands for, if it can still be used. Reading changes nothing."""
    if not 16 <= len(token) <= 64 or not set(token) <= TOKEN_ALPHABET:
        raise LinkProblem("unknown")
    try:
        item = LinkToken.get(*LinkToken.key(token_hash(token)), consistent_read=True)
    except DoesNotExist:
        raise LinkProblem("unknown") from None
    if item.used_at is not None and item.action not in REUSABLE:
        raise LinkProblem("used")
    if now >= item.valid_until:
        raise LinkProblem("expired")
    return item


def use_link(tx: TransactWrite, item: LinkToken, now: datetime, outcome: str) -> None:
    """Use up a pact link inside the transaction that does what it asked; the second use fails the whole."""
    tx.update(
        item,
        actions=[LinkToken.used_at.set(now), LinkToken.outcome.set(outcome)],
        condition=LinkToken.used_at.does_not_exist() & (LinkToken.valid_until > now),
    )


def nonce(item: LinkToken) -> str:
    """The form nonce of a link's page: derived from what was stored when the link was made (a GET writes nothing)."""
    return hashlib.sha256(f"{item.pk}#{item.created_at.isoformat()}#form".encode()).hexdigest()[:24]
