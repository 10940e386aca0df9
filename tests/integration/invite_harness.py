"""Drive invitations and endings as AWS would: the bus's own InvitationSent events to NotifyFunction, SES, SNS, sweeps.

`World` keeps every domain event read off the bus (the `bus_events` tap drains its queue),
hands InvitationSent events to NotifyFunction as EventBridge would, runs the nudge sweep
and sender and the SMS sweep at given instants, and reads what moto's SES and SNS sent.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from moto.sns.models import sns_backends

from infra import cfn
from infra.lambdas import invoke
from infra.local.stack import scheduled_event
from tests.helpers import Reply, call, profile
from tests.integration.nudge_harness import Mail, NudgeHarness

SMS_SWEEP = next(s for s in cfn.schedules() if s.function == "SmsSweepFunction")
FORM = {"content-type": "application/x-www-form-urlencoded"}
BASE = "https://peer.test"


def address_hash(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def path(url: str) -> str:
    return url.removeprefix(BASE)


def page_nonce(body: bytes) -> str:
    found = re.search(rb'name="nonce" value="(\w+)"', body)
    assert found, body
    return found.group(1).decode()


def press(url: str, page: Reply, choice: str, now: datetime) -> Reply:
    """POST the page's form as a browser would: the page's nonce and the button's choice."""
    return call("POST", url, email=None, now=now, headers=FORM, body=f"nonce={page_nonce(page.body)}&choice={choice}".encode())


def signup(email: str, name: str, now: datetime, **overrides: Any) -> dict[str, Any]:
    """PUT /members/me with the sign-in's verified address at `now` (the first profile, or a replacement)."""
    reply = call("PUT", "/members/me", email=email, body=profile(name, **overrides), now=now)
    assert reply.status == 200, reply.body
    return dict(reply.json())


def invite(owner: str, email: str, now: datetime, *, name: str | None = None, **terms: Any) -> Reply:
    colleague = {"email": email} if name is None else {"email": email, "name": name}
    return call("POST", "/pacts", email=owner, body={"colleague": colleague, **terms}, now=now)


def mutual_pact(owner: str, colleague: str, now: datetime, **terms: Any) -> str:
    created = invite(owner, colleague, now, **terms)
    assert created.status == 201, created.body
    pact_id = str(created.json()["id"])
    accepted = call("POST", f"/pacts/{pact_id}/accept", email=colleague, now=now)
    assert accepted.status == 200, accepted.body
    return pact_id


@dataclass
class InvitationMail:
    mail: Mail
    page: str  # /i/<token>
    stop: str  # /u/<token>


def invitation_links(mail: Mail) -> InvitationMail:
    page = re.search(r"https://peer\.test(/i/[\w-]+)", mail.text)
    stop = re.search(r"https://peer\.test(/u/[\w-]+)", mail.text)
    assert page, mail.text
    assert stop, mail.text
    return InvitationMail(mail, page.group(1), stop.group(1))


def check_in_link(text: str) -> str:
    found = re.search(r"https://peer\.test(/c/[\w-]+)", text)
    assert found, text
    return found.group(1)


@dataclass
class World:
    read_bus: Callable[[], list[dict[str, Any]]]
    nudges: NudgeHarness = field(default_factory=NudgeHarness)
    log: list[dict[str, Any]] = field(default_factory=list)
    delivered: int = 0  # InvitationSent events handed to NotifyFunction so far

    # ------------------------------------------------------------ the bus

    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        self.log.extend(self.read_bus())
        return [e for e in self.log if kind is None or e["detail-type"] == kind]

    def notify(self, event: dict[str, Any]) -> dict[str, Any]:
        return dict(invoke("NotifyFunction", event))

    def deliver_invitations(self) -> list[str]:
        """Every InvitationSent not delivered yet, to NotifyFunction, once each; their outcomes."""
        sent = self.events("InvitationSent")
        outcomes = [str(self.notify(e)["outcome"]) for e in sent[self.delivered :]]
        self.delivered = len(sent)
        return outcomes

    # ------------------------------------------------------------ what went out

    @staticmethod
    def mails(to: str | None = None) -> list[Mail]:
        return [m for m in NudgeHarness.sent() if to is None or m.to == to]

    @staticmethod
    def texts(to: str | None = None) -> list[tuple[str, str]]:
        sent = list(sns_backends["123456789012"]["eu-west-1"].sms_messages.values())
        return [(phone, text) for phone, text in sent if to is None or phone == to]

    # ------------------------------------------------------------ the schedules

    @staticmethod
    def sms_sweep(at: datetime) -> dict[str, Any]:
        return dict(invoke("SmsSweepFunction", scheduled_event(SMS_SWEEP, at)))

    def tick(self, at: datetime) -> tuple[list[Mail], list[tuple[str, str]]]:
        """The nudge sweep and everything it queued, and the SMS sweep, at one instant: what they sent."""
        texts_before = len(self.texts())
        mails = self.nudges.run(at)
        self.sms_sweep(at)
        return mails, self.texts()[texts_before:]

    def ticks(self, instants: Iterable[datetime]) -> list[tuple[datetime, Mail | tuple[str, str]]]:
        """Run `tick` at each instant; every message sent, with the instant of the run that sent it."""
        out: list[tuple[datetime, Mail | tuple[str, str]]] = []
        for at in instants:
            mails, texts = self.tick(at)
            out.extend((at, m) for m in mails)
            out.extend((at, t) for t in texts)
        return out


def every(start: datetime, end: datetime, step: timedelta) -> list[datetime]:
    out = []
    at = start
    while at <= end:
        out.append(at)
        at += step
    return out


# ------------------------------------------------------------ the table


def table_items(aws: dict[str, Any]) -> list[dict[str, Any]]:
    client = aws["dynamodb"]
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": os.environ["TABLE_NAME"], "ConsistentRead": True}
    while True:
        page = client.scan(**kwargs)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def holding(aws: dict[str, Any], text: str) -> set[tuple[str, str]]:
    """The keys of every item whose attributes (keys included) contain `text`, case-insensitively.

    Outbox items are left out: they are the domain events themselves (ids only, never an address, a
    name or a note: docs/events.md), waiting a day at most for the relay, as the bus archive keeps them
    30 days; an erasure's own `MemberErased` names the member it erased.
    """
    needle = text.lower()
    return {(i["pk"]["S"], i["sk"]["S"]) for i in table_items(aws) if needle in str(i).lower() and not is_outbox(i)}


def is_outbox(item: dict[str, Any]) -> bool:
    return str(item["pk"]["S"]).startswith("EVENT#")


def of_kind(aws: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [i for i in table_items(aws) if i.get("kind", {}).get("S") == kind]


def raw_view(aws: dict[str, Any], pact_id: str, sub: str) -> dict[str, Any] | None:
    found = aws["dynamodb"].get_item(
        TableName=os.environ["TABLE_NAME"], Key={"pk": {"S": f"PACT#{pact_id}"}, "sk": {"S": f"MEMBER#{sub}"}}, ConsistentRead=True
    )
    item: dict[str, Any] | None = found.get("Item")
    return item


def due_index_entries(aws: dict[str, Any], index: str, pact_id: str) -> list[dict[str, Any]]:
    """What the sparse due index (`nudge_due` or `sms_due`) holds for a pact, at any time."""
    shards = int(os.environ["DUE_SHARDS"])
    hits: list[dict[str, Any]] = []
    for number in range(shards):
        page = aws["dynamodb"].query(
            TableName=os.environ["TABLE_NAME"],
            IndexName=index,
            KeyConditionExpression="#s = :s",
            ExpressionAttributeNames={"#s": "nudge_shard" if index == "nudge_due" else "sms_shard"},
            ExpressionAttributeValues={":s": {"S": f"DUE#{number}"}},
        )
        hits.extend(i for i in page["Items"] if i.get("pact_id", {}).get("S") == pact_id)
    return hits
