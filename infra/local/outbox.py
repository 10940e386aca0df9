"""The local outbox: every message sent through SES and SNS SMS, in the order it was sent.

The stack looks at moto's SES and SNS stores after every call moto serves (see stack.py),
so each message is seen once, right after moto accepted it: it is parsed then, stamped
with the stack's clock (`sent_at`: the instant the API and the schedules see, so it
travels in time with them) and kept. Looking costs the new messages only, never the
history: the SES store is a list and the SMS store an insertion-ordered dict, so what
is new is what lies past the count already seen.
"""

from __future__ import annotations

import bisect
import email
import email.policy
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from itertools import islice
from typing import Any

# What moto keeps: SES's sent messages (a list), SNS's texts (message id -> (phone, text)).
Stores = tuple[Sequence[Any], Mapping[str, tuple[str, str]]]


def moto_stores(account: str, region: str) -> Callable[[], Stores]:
    def stores() -> Stores:
        from moto.ses.models import ses_backends
        from moto.sns.models import sns_backends

        return ses_backends[account][region].sent_messages, sns_backends[account][region].sms_messages

    return stores


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class Sent:
    at: datetime
    seq: int
    entry: dict[str, Any]  # what /_local/outbox lists
    mime: bytes | None = None  # emails: the message as SES took it

    @property
    def sort_key(self) -> tuple[datetime, int]:
        return self.at, self.seq


class Outbox:
    def __init__(self, stores: Callable[[], Stores], clock: Callable[[], datetime], base_url: str):
        self._stores = stores
        self._clock = clock
        self._base_url = base_url
        self._lock = threading.Lock()
        self._sent: list[Sent] = []  # kept sorted by (sent_at, order seen)
        self._by_id: dict[str, Sent] = {}
        self._emails: Sequence[Any] | None = None  # the stores last looked at (moto's reset replaces them)
        self._texts: Mapping[str, tuple[str, str]] | None = None
        self._emails_seen = 0
        self._texts_seen = 0
        self._counter = 0

    def observe(self) -> list[dict[str, Any]]:
        """Take in what was sent since the last look and return it (cost: the new messages only)."""
        emails, texts = self._stores()
        with self._lock:
            if emails is not self._emails or len(emails) < self._emails_seen:  # the first look, or moto was reset
                self._emails, self._emails_seen = emails, 0
            if texts is not self._texts or len(texts) < self._texts_seen:
                self._texts, self._texts_seen = texts, 0
            new_emails = list(emails[self._emails_seen :])
            new_texts = list(islice(reversed(texts.items()), len(texts) - self._texts_seen))[::-1]
            self._emails_seen += len(new_emails)
            self._texts_seen += len(new_texts)
            if not new_emails and not new_texts:
                return []
            now = self._clock()
            added = [self._email(msg, now) for msg in new_emails]
            added += [self._text(message_id, phone, text, now) for message_id, (phone, text) in new_texts]
            for sent in added:
                self._by_id[sent.entry["id"]] = sent
                bisect.insort(self._sent, sent, key=lambda s: s.sort_key)  # at the end, unless the clock was set back
            return [sent.entry for sent in added]

    def messages(self) -> list[dict[str, Any]]:
        """Everything sent, oldest first (by `sent_at`; in the order sent when the clock stood still)."""
        with self._lock:
            return [sent.entry for sent in self._sent]

    def html(self, message_id: str) -> str | None:
        sent = self._find(message_id)
        return sent.entry.get("html") if sent else None

    def mime(self, message_id: str) -> bytes | None:
        sent = self._find(message_id)
        return sent.mime if sent else None

    def _find(self, message_id: str) -> Sent | None:
        with self._lock:
            return self._by_id.get(message_id)

    def _text(self, message_id: str, phone: str, text: str, now: datetime) -> Sent:
        entry = {"channel": "sms", "id": message_id, "sent_at": iso(now), "to": phone, "text": text}
        return Sent(now, self._next_seq(), entry)

    def _email(self, msg: Any, now: datetime) -> Sent:
        entry, mime = email_entry(msg, now)
        entry["sent_at"] = iso(now)
        entry["eml_url"] = f"{self._base_url}/_local/outbox/{entry['id']}.eml"
        if entry.get("html"):
            entry["html_url"] = f"{self._base_url}/_local/outbox/{entry['id']}.html"
        return Sent(now, self._next_seq(), entry, mime)

    def _next_seq(self) -> int:
        self._counter += 1
        return self._counter


def email_entry(msg: Any, now: datetime) -> tuple[dict[str, Any], bytes]:
    """One SES message as the outbox lists it, and its MIME (rebuilt for SES's simple and templated sends)."""
    if hasattr(msg, "raw_data"):
        raw = msg.raw_data.encode("utf-8") if isinstance(msg.raw_data, str) else bytes(msg.raw_data)
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        text = parsed.get_body(preferencelist=("plain",))
        html = parsed.get_body(preferencelist=("html",))
        entry = {
            "channel": "email",
            "id": msg.id,
            "from": msg.source,
            "to": list(dict.fromkeys(msg.destinations)),
            "subject": str(parsed.get("subject", "")),
            "headers": {k: str(v) for k, v in parsed.items()},
            "text": text.get_content() if text else None,
            "html": html.get_content() if html else None,
        }
        return entry, raw
    destinations = getattr(msg, "destinations", None) or {}
    to = list(destinations.get("ToAddresses", [])) + list(destinations.get("CcAddresses", []))
    subject = str(getattr(msg, "subject", "") or "")
    body = str(getattr(msg, "body", "") or "")
    rebuilt = EmailMessage()
    rebuilt["From"] = msg.source
    rebuilt["To"] = ", ".join(to)
    rebuilt["Subject"] = subject
    rebuilt["Date"] = format_datetime(now.astimezone(UTC))
    rebuilt.set_content(body)
    entry = {"channel": "email", "id": msg.id, "from": msg.source, "to": to, "subject": subject, "headers": {}, "text": body, "html": None}
    return entry, rebuilt.as_bytes()
