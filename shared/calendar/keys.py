"""The secret in a member's calendar address: created or rotated by the member, looked up by the feed.

The secret is 128 random bits from `secrets` (22 URL-safe characters); only its SHA-256 is
stored (`CAL#<sha256>` / `CAL`, and on the profile as `calendar_key`), so a database reader
cannot use an address, and looking one up compares nothing secret in our code. Rotating writes
the new secret, the profile and the deletion of the old secret in one transaction: the old
address stops answering the moment the new one exists. Nothing here imports pydantic or
icalendar: the feed's function loads this module too.
"""

from __future__ import annotations

import hashlib
import secrets
import string
from dataclasses import dataclass
from datetime import datetime

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from shared.adapters.db import connection, refused
from shared.adapters.models import CalendarSecret, Item, Member
from shared.domain.errors import Conflict

SECRET_BYTES = 16  # token_urlsafe(16): 22 characters
SECRET_LENGTH = 22
ALPHABET = frozenset(string.ascii_letters + string.digits + "-_")
SUFFIX = ".ics"
PATH = "/calendar/"
ATTEMPTS = 3


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_from_path(value: str) -> str | None:
    """The secret in the last path segment (`<secret>.ics`, the suffix optional), or None if it cannot be one."""
    secret = value.removesuffix(SUFFIX)
    if len(secret) != SECRET_LENGTH or not set(secret) <= ALPHABET:
        return None
    return secret


def feed_url(base_url: str, secret: str) -> str:
    return f"{base_url}{PATH}{secret}{SUFFIX}"


@dataclass(frozen=True)
class Rotated:
    secret: str
    created_at: datetime


def rotate(sub: str, now: datetime) -> Rotated | None:
    """A new secret for the member's feed; the old one (if any) stops at once. None: the member has no profile."""
    for _ in range(ATTEMPTS):
        try:
            member = Member.get(*Member.key(sub), consistent_read=True)
        except DoesNotExist:
            return None
        secret = secrets.token_urlsafe(SECRET_BYTES)
        digest = secret_hash(secret)
        old = member.calendar_key
        member.calendar_key = digest
        try:
            with TransactWrite(connection=connection()) as tx:
                tx.save(CalendarSecret(*CalendarSecret.key(digest), member_sub=sub, created_at=now), condition=Item.pk.does_not_exist())
                tx.save(member)  # conditioned on the version just read: a concurrent rotation makes this one read again
                if old:
                    tx.delete(CalendarSecret(*CalendarSecret.key(old)))
        except TransactWriteError as err:
            if refused(err):
                continue
            raise
        return Rotated(secret, now)
    raise Conflict("Your profile changed at the same moment elsewhere; please try again.")


def owner_of(secret: str) -> CalendarSecret | None:
    """Whose feed a secret opens (one strongly consistent read: a rotated secret is gone at once), or None."""
    try:
        return CalendarSecret.get(*CalendarSecret.key(secret_hash(secret)), consistent_read=True)
    except DoesNotExist:
        return None
