"""Introductions: a member asks to be introduced to a colleague in the directory; the colleague accepts or not.

Items (shared/adapters/models.py):

- `Introduction` INTRO#<id> / INTRO, on gsi1 under the recipient (MEMBER#<to> / INTRO#<created>#<id>): the request,
  its message and its state (pending | accepted | declined). Unanswered by `valid_until` (14 days) it is ignored.
- `IntroductionSent` MEMBER#<from> / INTRO_TO#<to>: the requester's side, one per pair. It lists "sent" and guards
  the 90-day rule: `blocked_until` is set to the request's time plus 90 days when it is made, and moved back to the
  acceptance's instant when it is accepted. A decline or an expiry changes nothing on it, so the requester's answers
  (409 with one wording, state "pending" until the 14 days are over, then "closed") never tell a decline from silence.

Contact details are never copied: once accepted, each party's email and phone are read from the other's profile
(so an erased or changed profile shows at once). DynamoDB budget: at most three calls per request, no Scan.
"""

from __future__ import annotations

import math
import secrets
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from shared.adapters.db import cancellation_codes, connection, refused
from shared.adapters.events import DomainEvent, add_events
from shared.adapters.models import DailyCount, Introduction, IntroductionSent, Item, LinkToken, Member, PactView, member_pk
from shared.adapters.schema_types import Page
from shared.domain.errors import Conflict, Gone, NotFound, TooManyRequests
from shared.domain.tags import labels_of
from shared.links.tokens import use_link
from shared.network import circle
from shared.network.introductions.schemas import (
    ContactOut,
    IntroductionIn,
    IntroductionOut,
    IntroductionPactIn,
    PartyOut,
)
from shared.pacts.planning import Ctx
from shared.pacts.schemas import PactOut
from shared.pacts.use_cases import agreed_pact_views, pact_out

VALIDITY = timedelta(days=14)  # unanswered by then: ignored
BLOCK = timedelta(days=90)  # a declined or ignored request cannot be repeated for this long (counted from the request)
DAILY_LIMIT = 5  # requests per member per UTC day
KEEP = BLOCK + timedelta(days=1)  # TTL of what is not accepted: gone once it no longer blocks anything
LIST_LIMIT = 50  # received and sent, newest first, each at most this many

NOT_LISTED = "There is no colleague with this id in the directory."
ASKED_ALREADY = (
    "You have asked to be introduced to this colleague already. You can ask again {when}; until then there is nothing more to do."
)


def _intro_id() -> str:
    return "in_" + secrets.token_urlsafe(12)


def _is_intro_id(value: str) -> bool:
    return value.startswith("in_") and 4 <= len(value) <= 40 and value[3:].replace("-", "").replace("_", "").isalnum()


def _sub_of(member: Member) -> str:
    return member.pk.removeprefix("MEMBER#")


# ------------------------------------------------------------------ how each party sees it


def state_for(intro: Introduction, sub: str, now: datetime) -> str:
    """What `sub` is told. The requester never sees a decline: pending until the 14 days are over, then closed."""
    if intro.state == "accepted":
        return "accepted"
    if sub == intro.to_sub:
        if intro.state == "declined":
            return "declined"
        return "expired" if now >= intro.valid_until else "pending"
    return "closed" if now >= intro.valid_until else "pending"  # declined or not: the same to the requester


def _party(member: Member | None, sub: str, fallback_name: str) -> PartyOut:
    if member is None:
        return PartyOut(member_id=sub, name=fallback_name)
    specialties = labels_of(member.specialties, member.specialty_labels)
    return PartyOut(member_id=sub, name=member.display_name, specialties=specialties, region=member.region_name)


def intro_out(intro: Introduction, sub: str, now: datetime, other: Member | None = None, *, with_contact: bool = False) -> IntroductionOut:
    """The introduction as `sub` sees it; `other` is the other party's profile when it was read (contact details)."""
    requester = sub == intro.from_sub
    other_sub = intro.to_sub if requester else intro.from_sub
    other_name = intro.to_name if requester else intro.from_name
    state = state_for(intro, sub, now)
    contact = None
    if with_contact and state == "accepted" and other is not None:
        contact = ContactOut(email=other.email, phone=other.phone)
    card = other
    if requester and state != "accepted" and other is not None and not other.in_directory:
        card = None  # they left the directory: the name they were asked by, nothing newer about them
    return IntroductionOut(
        id=intro.intro_id,
        role="requester" if requester else "recipient",
        state=state,
        other=_party(card, other_sub, other_name),
        contact=contact,
        message=intro.message,
        created_at=intro.created_at,
        valid_until=intro.valid_until,
        pact_id=intro.pact_id,
    )


def _mine(ctx: Ctx, intro_id: str) -> Introduction:
    """The introduction if the caller is one of its two parties; 404 alike for anyone else and for no such id."""
    try:
        if not _is_intro_id(intro_id):
            raise DoesNotExist
        intro = Introduction.get(*Introduction.key(intro_id), consistent_read=True)
    except DoesNotExist:
        raise NotFound(f"You have no introduction {intro_id}.") from None
    if ctx.sub not in (intro.from_sub, intro.to_sub):
        raise NotFound(f"You have no introduction {intro_id}.")
    return intro


def _profiles(*subs: str) -> dict[str, Member]:
    """Members' profiles in one batch read."""
    found = Item.batch_get([Member.key(s) for s in dict.fromkeys(subs)])
    return {_sub_of(m): m for m in found if isinstance(m, Member)}


# ------------------------------------------------------------------ asking


def _tomorrow(now: datetime) -> datetime:
    return datetime.combine(now.astimezone(UTC).date() + timedelta(days=1), time(0), UTC)


def _too_many(now: datetime) -> TooManyRequests:
    wait = max(1, math.ceil((_tomorrow(now) - now).total_seconds()))
    return TooManyRequests(f"You can ask for at most {DAILY_LIMIT} introductions a day; please try again tomorrow (UTC).", wait)


def request(ctx: Ctx, body: IntroductionIn) -> IntroductionOut:
    """Ask to be introduced. Unknown, not in the directory, or yourself: the same 404 (nobody learns who exists).

    Calls: one batch read (both profiles and the pair's IntroductionSent), one transaction (the introduction,
    the requester's side conditioned on what was read, the day's counter); a third, a read of the previous
    introduction, only when its block is over (accepted ones: you are introduced already).
    """
    if body.to == ctx.sub:
        raise NotFound(NOT_LISTED)
    keys = [Member.key(ctx.sub), Member.key(body.to), IntroductionSent.key(ctx.sub, body.to)]
    found = {(i.pk, i.sk): i for i in Item.batch_get(keys, consistent_read=True)}
    me, them, sent = (found.get(k) for k in keys)
    if not isinstance(me, Member):
        raise Conflict("Create your profile first: PUT /members/me.")
    if not isinstance(them, Member) or not them.in_directory:
        raise NotFound(NOT_LISTED)
    previous: IntroductionSent | None = sent if isinstance(sent, IntroductionSent) else None
    if previous is not None:
        if previous.blocked_until > ctx.now:
            raise Conflict(ASKED_ALREADY.format(when=f"from {previous.blocked_until:%-d %B %Y}"))
        try:
            earlier = Introduction.get(*Introduction.key(previous.intro_id), consistent_read=True)
            if earlier.state == "accepted":
                raise Conflict(f"You are introduced to this colleague already: see /introductions/{earlier.intro_id}.")
        except DoesNotExist:
            pass
    intro_id = _intro_id()
    valid_until = ctx.now + VALIDITY
    intro = Introduction(
        *Introduction.key(intro_id),
        intro_id=intro_id,
        from_sub=ctx.sub,
        to_sub=body.to,
        from_name=me.display_name,
        to_name=them.display_name,
        message=body.message,
        state="pending",
        created_at=ctx.now,
        valid_until=valid_until,
        expires_at=ctx.now + KEEP,
        gsi1pk=member_pk(body.to),
        gsi1sk=f"INTRO#{ctx.now.isoformat()}#{intro_id}",
    )
    mine = IntroductionSent(
        *IntroductionSent.key(ctx.sub, body.to),
        intro_id=intro_id,
        requested_at=ctx.now,
        blocked_until=ctx.now + BLOCK,
        expires_at=ctx.now + KEEP,
    )
    unchanged = (
        IntroductionSent.pk.does_not_exist()
        if previous is None
        else (IntroductionSent.intro_id == previous.intro_id) & (IntroductionSent.blocked_until <= ctx.now)
    )
    counter = DailyCount(member_pk(ctx.sub), f"COUNT#introductions#{ctx.now.astimezone(UTC):%Y-%m-%d}")
    try:
        with TransactWrite(connection=connection()) as tx:
            tx.save(intro, condition=Item.pk.does_not_exist())
            tx.save(mine, condition=unchanged)
            tx.update(
                counter,
                actions=[
                    DailyCount.kind.set(DailyCount),
                    DailyCount.tally.add(1),
                    DailyCount.expires_at.set(_tomorrow(ctx.now) + timedelta(days=1)),
                ],
                condition=DailyCount.tally.does_not_exist() | (DailyCount.tally < DAILY_LIMIT),
            )
            if previous is not None:
                # The closed request it replaces goes now (its block is over), not whenever TTL gets to it:
                # the pair's one IntroductionSent is then the way to every introduction the requester made.
                tx.delete(
                    Introduction(*Introduction.key(previous.intro_id)),
                    condition=Introduction.state.does_not_exist() | (Introduction.state != "accepted"),
                )
            requested = {"intro_id": intro_id, "from_id": ctx.sub, "to_id": body.to}
            add_events(tx, [DomainEvent("IntroductionRequested", requested)], ctx.now)
    except TransactWriteError as err:
        # PynamoDB sends deletes before puts and updates: [the replaced request?], the request, mine, the counter.
        codes = cancellation_codes(err)
        first = 1 if previous is not None else 0
        if codes[first + 2 : first + 3] == ["ConditionalCheckFailed"]:
            raise _too_many(ctx.now) from err
        if "ConditionalCheckFailed" in codes[: first + 2] or "TransactionConflict" in codes:
            raise Conflict(ASKED_ALREADY.format(when="later")) from err  # a request made at the same moment
        raise
    return intro_out(intro, ctx.sub, ctx.now, them)


# ------------------------------------------------------------------ reading


def get(ctx: Ctx, intro_id: str) -> IntroductionOut:
    """One introduction, to its two parties only; the other's contact details once accepted. Two calls at most."""
    intro = _mine(ctx, intro_id)
    other_sub = intro.to_sub if ctx.sub == intro.from_sub else intro.from_sub
    other = None
    with suppress(DoesNotExist):
        other = Member.get(*Member.key(other_sub))
    return intro_out(intro, ctx.sub, ctx.now, other, with_contact=True)


def list_mine(ctx: Ctx) -> Page[IntroductionOut]:
    """Received and sent, newest first (at most 50 of each). Three calls: two queries and one batch read."""
    received = [
        i
        for i in Introduction.gsi1.query(
            member_pk(ctx.sub), Introduction.gsi1sk.startswith("INTRO#"), scan_index_forward=False, limit=LIST_LIMIT
        )
        if isinstance(i, Introduction)
    ]
    sent_sides = [
        s
        for s in IntroductionSent.query(member_pk(ctx.sub), IntroductionSent.sk.startswith("INTRO_TO#"), limit=LIST_LIMIT)
        if isinstance(s, IntroductionSent)
    ]
    sent = []
    if sent_sides:
        sent = [i for i in Item.batch_get([Introduction.key(s.intro_id) for s in sent_sides]) if isinstance(i, Introduction)]
    everything = sorted({i.intro_id: i for i in [*received, *sent]}.values(), key=lambda i: i.created_at, reverse=True)
    return Page[IntroductionOut](items=[intro_out(i, ctx.sub, ctx.now) for i in everything], next=None)


# ------------------------------------------------------------------ answering


def _answerable(intro: Introduction, sub: str, now: datetime) -> None:
    if intro.to_sub != sub:
        raise Conflict("Only the colleague who was asked can answer an introduction.")
    if intro.state != "pending":
        raise Conflict("This introduction has been answered already.")
    if now >= intro.valid_until:
        raise Gone("This introduction was not answered in time and has closed.")


def _answer(ctx: Ctx, intro: Introduction, state: str, link: LinkToken | None, answered: DomainEvent) -> None:
    """The answer in one transaction (with the link's use, if it came by link, and its event); a second answer changes nothing."""
    intro_actions: list[Action] = [Introduction.state.set(state), Introduction.answered_at.set(ctx.now)]
    if state == "accepted":
        intro_actions.append(Introduction.expires_at.remove())  # an accepted introduction is kept
    try:
        with TransactWrite(connection=connection()) as tx:
            tx.update(intro, actions=intro_actions, condition=(Introduction.state == "pending") & (Introduction.valid_until > ctx.now))
            if state == "accepted":
                # The requester's side no longer blocks anything, and is kept while the introduction is.
                tx.update(
                    IntroductionSent(*IntroductionSent.key(intro.from_sub, intro.to_sub)),
                    actions=[IntroductionSent.blocked_until.set(ctx.now), IntroductionSent.expires_at.remove()],
                    condition=IntroductionSent.intro_id == intro.intro_id,
                )
            if link is not None:
                use_link(tx, link, ctx.now, state)
            add_events(tx, [answered], ctx.now)
    except TransactWriteError as err:
        codes = cancellation_codes(err)
        if link is not None and codes[-2:-1] == ["ConditionalCheckFailed"]:  # the link's use, before the event
            raise Gone("This link has been used already.") from err
        if refused(err):
            raise Conflict("This introduction has been answered already, or is no longer open.") from err
        raise


def accept(ctx: Ctx, intro_id: str, link: LinkToken | None = None) -> IntroductionOut:
    """The recipient says yes: both see each other's contact details from now on. Three calls."""
    intro = _mine(ctx, intro_id)
    _answerable(intro, ctx.sub, ctx.now)
    accepted = DomainEvent("IntroductionAccepted", {"intro_id": intro_id, "from_id": intro.from_sub, "to_id": intro.to_sub})
    _answer(ctx, intro, "accepted", link, accepted)
    intro.state, intro.answered_at = "accepted", ctx.now
    if link is not None:
        return intro_out(intro, ctx.sub, ctx.now)
    other = _profiles(intro.from_sub).get(intro.from_sub)
    return intro_out(intro, ctx.sub, ctx.now, other, with_contact=True)


def decline(ctx: Ctx, intro_id: str, link: LinkToken | None = None) -> None:
    """The recipient says no, silently: nobody is told, and the requester goes on seeing "pending" until it closes."""
    intro = _mine(ctx, intro_id)
    _answerable(intro, ctx.sub, ctx.now)
    _answer(ctx, intro, "declined", link, DomainEvent("IntroductionDeclined", {"intro_id": intro_id, "to_id": intro.to_sub}))


# ------------------------------------------------------------------ a pact in one step


def make_pact(ctx: Ctx, intro_id: str, terms: IntroductionPactIn) -> PactOut:
    """Either party, once accepted: a mutual active pact between the two, no invitation round. Three calls."""
    intro = _mine(ctx, intro_id)
    if intro.state != "accepted":
        raise Conflict("A pact can be made once the introduction has been accepted.")
    if intro.pact_id:
        raise Conflict(f"A pact was made from this introduction already: /pacts/{intro.pact_id}.")
    other_sub = intro.to_sub if ctx.sub == intro.from_sub else intro.from_sub
    profiles = _profiles(ctx.sub, other_sub)
    me, other = profiles.get(ctx.sub), profiles.get(other_sub)
    if me is None or other is None:
        raise Conflict("Your colleague's account is no longer here, so there is nobody to make a pact with.")
    mine, theirs = agreed_pact_views(ctx, me, other, terms)
    try:
        with TransactWrite(connection=connection()) as tx:
            tx.update(
                intro,
                actions=[Introduction.pact_id.set(mine.pact_id)],
                condition=Introduction.pact_id.does_not_exist() & (Introduction.state == "accepted"),
            )
            for view in (mine, theirs):
                tx.save(view, condition=PactView.pk.does_not_exist())
            circle.pact_made(tx, mine.pact_id, ctx.sub, other_sub)  # a mutual pact: each is in the other's circle
            made = [
                DomainEvent("PactCreated", {"pact_id": mine.pact_id, "owner_id": ctx.sub, "colleague_id": None, "rrule": mine.rrule}),
                DomainEvent("PactAccepted", {"pact_id": mine.pact_id, "member_id": other_sub}),
                DomainEvent("IntroductionPactMade", {"intro_id": intro_id, "pact_id": mine.pact_id, "member_id": ctx.sub}),
            ]
            add_events(tx, made, ctx.now)
    except TransactWriteError as err:
        if refused(err):
            raise Conflict("A pact was made from this introduction at the same moment; see GET /pacts.") from err
        raise
    return pact_out(mine, ctx.now)


# ------------------------------------------------------------------ erasure


@dataclass(frozen=True)
class Erased:
    introductions: int


def erase_member(sub: str) -> Erased:
    """Either party erasing removes the introduction (so the other no longer sees their details) and the requester's side.

    Received: the introduction and the requester's IntroductionSent about it. Sent: the introduction; the member's
    own IntroductionSent items go with their partition (deleted here too, so this stands alone).
    """
    doomed: list[Any] = []
    for intro in Introduction.gsi1.query(member_pk(sub), Introduction.gsi1sk.startswith("INTRO#")):
        if isinstance(intro, Introduction):
            doomed.append(intro)
            doomed.append(IntroductionSent(*IntroductionSent.key(intro.from_sub, sub)))
    for side in IntroductionSent.query(member_pk(sub), IntroductionSent.sk.startswith("INTRO_TO#")):
        if isinstance(side, IntroductionSent):
            doomed.append(Introduction(*Introduction.key(side.intro_id)))
            doomed.append(side)
    with Item.batch_write() as batch:
        for item in {(i.pk, i.sk): i for i in doomed}.values():
            batch.delete(item)
    return Erased(introductions=sum(isinstance(i, Introduction) for i in doomed))
