"""Asks: a peer-supervision or referral question to one's pact colleagues, a group, or a directory specialty.

An ask is one item (`ASK#<id>` / `ASK`, on the author's gsi1 for "my asks") that keeps who was asked
(`recipient_subs`): they, and only they, may read it and reply, and erasure finds their inbox items
through it. Each recipient gets an inbox item in their own partition (`MEMBER#<sub>` /
`ASKED#<created>#<id>`), which their weekly digest reads (nobody is emailed per ask) and
`GET /asks?box=received` lists. Replies sit beside the ask (`ASK#<id>` / `REPLY#<created>#<sub>`), so
"the ask and its replies" is one query: the asker sees them all, a replier only their own.

Writing an ask: the ask and its inbox items in one TransactWriteItems when they fit (at most 100 items:
the ask and 99 recipients; a directory ask is capped at 50, so it always fits), so there is never an
inbox item without its ask nor an ask with half its inboxes. A larger audience (a member with a hundred
mutual pacts, a very large group) writes the ask first and then the inbox items in batches: an inbox
item never points at a missing ask, and each put is idempotent (its key is the recipient, the ask's
instant and its id), so BatchWriteItem's retries of unprocessed items write nothing twice. Should the
function die in between, the recipients without an inbox item can still open and answer the ask (the
recipient list on the ask is what authorises them); they just do not see it in their inbox or digest.

Texts are checked for client identifiers (`shared.domain.identifiers`) before anything is read or
stored, and never logged. They are plain text: nothing here or in the API reads them as HTML.
"""

from __future__ import annotations

import hashlib
import itertools
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from shared.adapters.db import cancellation_codes, connection, newest_first
from shared.adapters.events import DomainEvent, add_events
from shared.adapters.models import (
    Ask,
    AskReceived,
    AskReply,
    DirectoryEntry,
    Group,
    GroupMember,
    Item,
    Member,
    PactView,
    group_pk,
    iso_z,
    member_pk,
)
from shared.adapters.schema_types import Page
from shared.domain import identifiers
from shared.domain.errors import Conflict, Forbidden, InvalidField, NotFound
from shared.domain.tags import labelled
from shared.groups.series import is_group_id
from shared.network.asks.schemas import AskIn, AskOut, AudienceOut, ReplyIn, ReplyOut, ToGroup, ToPacts, ToSpecialty
from shared.network.directory.use_cases import vocabulary
from shared.pacts.planning import MAX_TRANSACTION_ITEMS, Ctx

MAX_SPECIALTY_RECIPIENTS = 50
"""A directory ask reaches at most this many members (chosen from a random point in the listing, so not always the same ones)."""
FORMER_MEMBER = "a former member"

Role = Literal["author", "recipient"]


# ------------------------------------------------------------------ checks shared by asks and replies


def refuse_identifiers(field: str, text: str) -> None:
    """A 422 naming what looks like a client identifier (masked), before anything is read or stored."""
    found = identifiers.findings(text)
    if found:
        raise InvalidField(field, identifiers.describe(found))


def _profile(sub: str) -> Member:
    try:
        return Member.get(*Member.key(sub))
    except DoesNotExist:
        raise NotFound("You have no profile yet: create it with PUT /members/me.") from None


def _is_ask_id(ask_id: str) -> bool:
    return ask_id.startswith("a_") and len(ask_id) <= 40


def _not_found(ask_id: str) -> NotFound:
    return NotFound(f"There is no ask {ask_id}.")


def _role(ctx: Ctx, ask: Ask) -> Role:
    """Who the caller is to this ask; anyone else gets the 404 of an ask that does not exist."""
    if ask.author_sub == ctx.sub:
        return "author"
    if ctx.sub in (ask.recipient_subs or set()):
        return "recipient"
    raise _not_found(ask.ask_id)


def _get(ask_id: str) -> Ask:
    if not _is_ask_id(ask_id):
        raise _not_found(ask_id)
    try:
        return Ask.get(*Ask.key(ask_id), consistent_read=True)
    except DoesNotExist:
        raise _not_found(ask_id) from None


# ------------------------------------------------------------------ who is asked


@dataclass(frozen=True)
class Audience:
    kind: str
    ref: str | None
    label: str
    recipients: list[str]
    capped: bool = False
    empty: str = ""  # why nobody would be asked


def _pact_colleagues(ctx: Ctx) -> Audience:
    """The other members of my active, mutual pacts (one query of my pacts on gsi1)."""
    views = PactView.gsi1.query(member_pk(ctx.sub), PactView.gsi1sk.startswith("PACT#"))
    subs = {
        v.colleague_sub
        for v in views
        if isinstance(v, PactView) and v.state == "active" and v.mutual and v.colleague_sub and v.colleague_sub != ctx.sub
    }
    return Audience(
        "pacts",
        None,
        "pact colleagues",
        sorted(s for s in subs if s),
        empty="you have no pact colleagues yet: an ask to your pacts goes to the members whose pact with you is agreed on both sides",
    )


def _group_members(ctx: Ctx, group_id: str) -> Audience:
    """The other active members of a group I am an active member of (one query of the group's people)."""
    missing = NotFound(f"You have no group {group_id}.")  # as the groups say it: another's group looks unknown
    if not is_group_id(group_id):
        raise missing
    people = list(Item.query(group_pk(group_id), Item.sk >= "MEMBER#"))
    active = [p for p in people if isinstance(p, GroupMember) and p.state == "active" and p.member_sub]
    if not any(p.member_sub == ctx.sub for p in active):
        raise missing
    name = next((p.name for p in people if isinstance(p, Group)), "your group")
    others = sorted({str(p.member_sub) for p in active if p.member_sub != ctx.sub})
    return Audience("group", group_id, name, others, empty="you are the only active member of this group so far")


def _specialty_members(ctx: Ctx, specialty: str) -> Audience:
    """Members listed under the specialty or a synonym of it, except me, at most MAX_SPECIALTY_RECIPIENTS.

    The same terms a directory search by specialty finds ('grief' finds 'Grief & Loss' and
    'bereavement': the vocabulary's synonym group, at most 3 terms). Each term's listing (gsi2
    `DIR#s:<tag>`, sorted by member id) is read from a random point and wrapped around once: one
    query, a second only when the first reaches the end short of the cap, and the next term only
    while short of it. So a popular specialty's members are not always the same fifty asked.
    """
    tags = vocabulary().expand("specialty", specialty)
    if not tags:
        raise InvalidField("to.specialty", "give a specialty with letters or digits, e.g. 'trauma'")
    tag = tags[0]  # the specialty's own tag: the directory is read by tags, the asker's words are shown
    words = labelled([specialty])[tag]
    wanted = MAX_SPECIALTY_RECIPIENTS + 1  # one more than the cap says whether it capped; one more again in case I am listed
    start = str(uuid.uuid4())
    unique: list[str] = []
    for term, condition in itertools.product(tags, (Item.gsi2sk >= start, Item.gsi2sk < start)):
        room = wanted + 1 - len(unique)
        entries = Item.gsi2.query(f"DIR#s:{term}", condition, limit=room, page_size=room)
        found = [e.member_sub for e in entries if isinstance(e, DirectoryEntry) and e.member_sub != ctx.sub]
        unique = list(dict.fromkeys(unique + found))  # listed under two synonyms: asked once
        if len(unique) >= wanted:
            break
    return Audience(
        "specialty",
        tag,
        f"specialty: {words}",
        sorted(unique[:MAX_SPECIALTY_RECIPIENTS]),
        capped=len(unique) > MAX_SPECIALTY_RECIPIENTS,
        empty=f"nobody else is listed in the directory under '{words}' yet",
    )


def _audience(ctx: Ctx, to: ToPacts | ToGroup | ToSpecialty) -> Audience:
    if isinstance(to, ToGroup):
        return _group_members(ctx, to.group_id)
    if isinstance(to, ToSpecialty):
        return _specialty_members(ctx, to.specialty)
    return _pact_colleagues(ctx)


# ------------------------------------------------------------------ shaping


def _audience_out(ask: Ask) -> AudienceOut:
    kind = ask.audience_kind
    return AudienceOut(
        kind=kind,
        label=ask.audience_label,
        group_id=ask.audience_ref if kind == "group" else None,
        specialty=ask.audience_ref if kind == "specialty" else None,
    )


def _reply_id(reply: AskReply) -> str:
    """Opaque: the key holds the replier's id, which the API does not show the asker."""
    return "r_" + hashlib.sha256(reply.sk.encode()).hexdigest()[:16]


def reply_out(reply: AskReply, sub: str) -> ReplyOut:
    return ReplyOut(
        id=_reply_id(reply),
        author_name=reply.author_name if reply.author_sub else FORMER_MEMBER,
        mine=reply.author_sub == sub,
        text=reply.text,
        created_at=reply.created_at,
    )


def ask_out(ask: Ask, sub: str, replies: list[AskReply] | None = None, *, capped: bool | None = None) -> AskOut:
    mine = ask.author_sub == sub
    note = None
    if capped:
        note = f"More members are listed under this specialty than an ask reaches: {int(ask.recipients)} of them were asked."
    return AskOut(
        id=ask.ask_id,
        mine=mine,
        author_name=ask.author_name,
        text=ask.text,
        audience=_audience_out(ask),
        state=ask.state,
        created_at=ask.created_at,
        closed_at=ask.closed_at,
        recipients=int(ask.recipients) if mine else None,
        capped=capped if mine else None,
        note=note,
        reply_count=int(ask.replies) if mine else None,
        replies=None if replies is None else [reply_out(r, sub) for r in replies if mine or r.author_sub == sub],
    )


# ------------------------------------------------------------------ asking


def _store(ask: Ask, inbox: list[AskReceived], posted: DomainEvent, now: datetime) -> None:
    """The ask, its inboxes and its event in one transaction; a very wide ask's inboxes follow in batches."""
    fits = len(inbox) + 2 <= MAX_TRANSACTION_ITEMS
    with TransactWrite(connection=connection()) as tx:
        tx.save(ask)  # versioned: the condition is that no ask has this id
        for item in inbox if fits else []:
            tx.save(item)
        add_events(tx, [posted], now)
    if fits:
        return
    with AskReceived.batch_write() as batch:
        for item in inbox:
            batch.save(item)


def create_ask(ctx: Ctx, body: AskIn) -> AskOut:
    """Ask pact colleagues, a group or a specialty: the ask and each recipient's inbox item (no email is sent)."""
    refuse_identifiers("text", body.text)
    author = _profile(ctx.sub)
    audience = _audience(ctx, body.to)
    if not audience.recipients:
        raise InvalidField("to", audience.empty)
    ask_id = "a_" + secrets.token_urlsafe(12)
    created = iso_z(ctx.now)
    ask = Ask(
        *Ask.key(ask_id),
        ask_id=ask_id,
        author_sub=ctx.sub,
        author_name=author.display_name,
        text=body.text,
        audience_kind=audience.kind,
        audience_ref=audience.ref,
        audience_label=audience.label,
        state="open",
        recipients=len(audience.recipients),
        recipient_subs=set(audience.recipients),
        replies=0,
        created_at=ctx.now,
        gsi1pk=member_pk(ctx.sub),
        gsi1sk=f"ASK#{created}#{ask_id}",
    )
    inbox = [
        AskReceived(
            member_pk(sub),
            f"ASKED#{created}#{ask_id}",
            ask_id=ask_id,
            author_name=author.display_name,
            text=body.text,
            audience_label=audience.label,
            created_at=ctx.now,
            digested=False,
        )
        for sub in audience.recipients
    ]
    detail = {"ask_id": ask_id, "author_id": ctx.sub, "audience": audience.kind, "recipients": len(inbox)}
    _store(ask, inbox, DomainEvent("AskPosted", detail), ctx.now)
    return ask_out(ask, ctx.sub, capped=audience.capped)


# ------------------------------------------------------------------ reading


def _read(ctx: Ctx, ask_id: str) -> tuple[Ask, list[AskReply]]:
    """The ask and its replies, oldest first: one query of its partition."""
    if not _is_ask_id(ask_id):
        raise _not_found(ask_id)
    ask: Ask | None = None
    replies: list[AskReply] = []
    for item in Item.query(f"ASK#{ask_id}", consistent_read=True):
        if isinstance(item, Ask):
            ask = item
        elif isinstance(item, AskReply):
            replies.append(item)
    if ask is None:
        raise _not_found(ask_id)
    _role(ctx, ask)
    return ask, replies


def get_ask(ctx: Ctx, ask_id: str) -> AskOut:
    ask, replies = _read(ctx, ask_id)
    return ask_out(ask, ctx.sub, replies)


def list_asks(ctx: Ctx, box: Literal["received", "mine"], limit: int, cursor: str | None) -> Page[AskOut]:
    """Newest first: the asks I made (one query of gsi1), or the asks I was sent (my inbox, and one batch get of the asks)."""
    if box == "mine":
        found, after = newest_first(
            Ask.gsi1.query,
            member_pk(ctx.sub),
            Ask.gsi1sk.startswith("ASK#"),
            limit=limit,
            cursor=cursor,
            cursor_keys={"pk": "ASK#", "sk": "ASK", "gsi1pk": "MEMBER#", "gsi1sk": "ASK#"},
            partition_attribute="gsi1pk",
        )
        return Page[AskOut](items=[ask_out(a, ctx.sub) for a in found if isinstance(a, Ask)], next=after)
    received, after = newest_first(
        AskReceived.query,
        member_pk(ctx.sub),
        AskReceived.sk.startswith("ASKED#"),
        limit=limit,
        cursor=cursor,
        cursor_keys={"pk": "MEMBER#", "sk": "ASKED#"},
    )
    inbox = [i for i in received if isinstance(i, AskReceived)]
    asks = {a.ask_id: a for a in Ask.batch_get([Ask.key(i.ask_id) for i in inbox]) if isinstance(a, Ask)} if inbox else {}
    items = [ask_out(asks[i.ask_id], ctx.sub) for i in inbox if i.ask_id in asks and ctx.sub in (asks[i.ask_id].recipient_subs or set())]
    return Page[AskOut](items=items, next=after)


# ------------------------------------------------------------------ replying and closing


def _instant_ms(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def reply(ctx: Ctx, ask_id: str, body: ReplyIn) -> ReplyOut:
    """A recipient answers an open ask: the reply and the ask's count, in one transaction conditioned on the ask being open."""
    refuse_identifiers("text", body.text)
    ask = _get(ask_id)
    if _role(ctx, ask) == "author":
        raise Forbidden("This is your own ask: replies come from the colleagues you asked.")
    if ask.state != "open":
        raise Conflict("This ask is closed: the asker has closed it, and it takes no more replies.")
    me = _profile(ctx.sub)
    answer = AskReply(
        f"ASK#{ask_id}",
        f"REPLY#{_instant_ms(ctx.now)}#{ctx.sub}",
        ask_id=ask_id,
        author_sub=ctx.sub,
        author_name=me.display_name,
        text=body.text,
        created_at=ctx.now,
    )
    try:
        with TransactWrite(connection=connection()) as tx:
            tx.save(answer, condition=AskReply.sk.does_not_exist())
            tx.update(
                ask,
                actions=[Ask.replies.add(1)],
                condition=(Ask.state == "open") & Ask.recipient_subs.contains(ctx.sub),
                add_version_condition=False,  # replies from several colleagues at once all land
            )
            add_events(tx, [DomainEvent("AskReplied", {"ask_id": ask_id, "member_id": ctx.sub})], ctx.now)
    except TransactWriteError as err:
        codes = cancellation_codes(err)
        if len(codes) > 1 and codes[1] == "ConditionalCheckFailed":
            raise Conflict("This ask was closed a moment ago, and takes no more replies.") from err
        if codes and codes[0] == "ConditionalCheckFailed":
            raise Conflict("You replied at this very moment already.") from err
        raise
    return reply_out(answer, ctx.sub)


def close(ctx: Ctx, ask_id: str) -> AskOut:
    """The asker closes the ask: no replies after this. Closing a closed ask changes nothing."""
    ask = _get(ask_id)
    if _role(ctx, ask) != "author":
        raise Forbidden("Only the colleague who asked can close an ask.")
    if ask.state == "closed":
        return ask_out(ask, ctx.sub)
    with TransactWrite(connection=connection()) as tx:
        tx.update(
            ask,
            actions=[Ask.state.set("closed"), Ask.closed_at.set(ctx.now)],
            condition=Ask.author_sub == ctx.sub,
            add_version_condition=False,
        )
        add_events(tx, [DomainEvent("AskClosed", {"ask_id": ask_id, "member_id": ctx.sub})], ctx.now)
    ask.state, ask.closed_at = "closed", ctx.now
    return ask_out(ask, ctx.sub)


# ------------------------------------------------------------------ export and erasure


def export_asks(ctx: Ctx) -> list[AskOut]:
    """My asks with every reply, and the asks I was sent with my own replies (newest first)."""
    mine = [a for a in Ask.gsi1.query(member_pk(ctx.sub), Ask.gsi1sk.startswith("ASK#"), scan_index_forward=False) if isinstance(a, Ask)]
    received = [i.ask_id for i in AskReceived.query(member_pk(ctx.sub), AskReceived.sk.startswith("ASKED#"), scan_index_forward=False)]
    out = []
    for ask_id in [a.ask_id for a in mine] + received:
        try:
            ask, replies = _read(ctx, ask_id)
        except NotFound:
            continue
        out.append(ask_out(ask, ctx.sub, replies))
    return out


def _anonymise(answer: AskReply) -> None:
    """The reply stays for the asker, as "a former member"'s: re-keyed, since its key held the replier's id."""
    stamp = answer.sk.split("#")[1]
    kept = AskReply(
        answer.pk,
        f"REPLY#{stamp}#former-{secrets.token_hex(8)}",
        ask_id=answer.ask_id,
        author_sub=None,
        author_name=FORMER_MEMBER,
        text=answer.text,
        created_at=answer.created_at,
    )
    with TransactWrite(connection=connection()) as tx:
        tx.delete(answer)
        tx.save(kept)


def erase_member(ctx: Ctx) -> list[str]:
    """The member's asks go with their replies and every inbox item; their replies elsewhere become "a former member".

    Grows with the member's own asks and inbox, never with the table. The inbox items in their own
    partition are deleted here too (erasure deletes the partition as well: a repeat is harmless).
    Returns the ids of the asks deleted.
    """
    deleted: list[str] = []
    with Item.batch_write() as batch:
        for ask in [a for a in Ask.gsi1.query(member_pk(ctx.sub), Ask.gsi1sk.startswith("ASK#")) if isinstance(a, Ask)]:
            created = iso_z(ask.created_at)
            for sub in ask.recipient_subs or set():
                batch.delete(AskReceived(member_pk(sub), f"ASKED#{created}#{ask.ask_id}"))
            for item in Item.query(f"ASK#{ask.ask_id}"):
                batch.delete(item)
            deleted.append(ask.ask_id)
    for received in [i for i in AskReceived.query(member_pk(ctx.sub), AskReceived.sk.startswith("ASKED#")) if isinstance(i, AskReceived)]:
        mine = AskReply.author_sub == ctx.sub
        for answer in AskReply.query(f"ASK#{received.ask_id}", AskReply.sk.startswith("REPLY#"), filter_condition=mine):
            _anonymise(answer)
        try:
            Ask(*Ask.key(received.ask_id)).update(
                actions=[Ask.recipient_subs.delete({ctx.sub})], condition=Ask.pk.exists(), add_version_condition=False
            )
        except UpdateError as err:  # the ask went meanwhile (its author erased): nothing to forget
            if err.cause_response_code != "ConditionalCheckFailedException":
                raise
        received.delete()
    return deleted
