"""The colleague directory and suggestions: who to find, closest first; who to propose a pact to.

DynamoDB per search (no Scan): one batch read of my profile and circle; one batch read of my
colleagues' circles and profiles (if I have colleagues); one gsi2 query per term the search expands to
(at most three: the vocabulary's groups are that small), more pages only past ~1 MB of cards per term.
Every search reads the whole result and ranks it (closeness is per caller, so the index cannot sort
it); the cursor is the last card's place in that order, so a page never repeats or skips a card.

Suggestions: one query of my own partition (circle, dismissals, introductions asked for), one batch
read (my profile, my colleagues' circles and profiles, my groups), one batch read (the second-degree
colleagues' profiles). Dismissing: one put.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from shared.adapters.models import Circle, DirectoryEntry, Dismissal, Group, IntroductionSent, Item, Member, member_pk
from shared.adapters.schema_types import Page
from shared.domain import directory as domain
from shared.domain.errors import InvalidField
from shared.domain.tags import normalise_tag
from shared.network.directory.schemas import DirectoryCardOut, SuggestionOut, SuggestionsOut
from shared.pacts.planning import Ctx

MAX_BATCH_KEYS = 100  # one BatchGetItem
MAX_COLLEAGUES = MAX_BATCH_KEYS // 2  # a search reads each first-degree colleague's circle and profile in one batch
MAX_SECOND_DEGREE = MAX_BATCH_KEYS  # suggestions read the profiles of at most this many colleagues of colleagues
MEMBER_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
FILTERS = ("specialty", "modality", "region", "q")


@cache
def vocabulary() -> domain.Vocabulary:
    """The synonym groups: data, not code (vocabulary.json beside this module)."""
    return domain.Vocabulary.from_data(json.loads(Path(__file__).with_name("vocabulary.json").read_text(encoding="utf-8")))


# ------------------------------------------------------------------ reading the circles


def _sub_of(item: Item) -> str:
    return item.pk.removeprefix("MEMBER#")


def _first_degree(links: set[str]) -> list[str]:
    """My colleagues, pact colleagues first, at most MAX_COLLEAGUES (one batch read of their circles and profiles)."""
    ties = domain.ties(links)
    return sorted(ties, key=lambda s: (not any(k == "pact" for k, _ in ties[s]), s))[:MAX_COLLEAGUES]


def _neighbourhood(
    me: str, my_links: set[str], region: str | None, extra_keys: list[tuple[str, str]]
) -> tuple[domain.Graph, dict[tuple[str, str], Item]]:
    """The graph around me from one batch read of my colleagues' circles and profiles (and `extra_keys`)."""
    colleagues = _first_degree(my_links)
    keys = [k for c in colleagues for k in (Circle.key(c), Member.key(c))] + extra_keys
    found = {(i.pk, i.sk): i for i in Item.batch_get(keys)} if keys else {}
    their_links: dict[str, set[str]] = {}
    listed: dict[str, str] = {}
    for c in colleagues:
        theirs = found.get(Circle.key(c))
        their_links[c] = set(theirs.links or ()) if isinstance(theirs, Circle) else set()
        profile = found.get(Member.key(c))
        if isinstance(profile, Member) and profile.in_directory:
            listed[c] = profile.display_name
    kept = {link for link in my_links if link.partition("|")[0] in set(colleagues)}
    return domain.Graph.build(me, kept, their_links, listed, region), found


# ------------------------------------------------------------------ the directory


def _card(entry: DirectoryEntry) -> domain.Card:
    return domain.Card(
        sub=entry.member_sub,
        display_name=entry.display_name,
        region=entry.region_name,
        specialties=tuple(entry.specialties or ()),
        modalities=tuple(entry.modalities or ()),
        specialty_labels=entry.specialty_labels or {},
        modality_labels=entry.modality_labels or {},
    )


def _search_of(specialty: str | None, modality: str | None, region: str | None, q: str | None) -> domain.Search:
    given = {
        name: value for name, value in zip(FILTERS, (specialty, modality, region, q), strict=True) if value is not None and value.strip()
    }
    if not given:
        raise InvalidField("specialty, modality, region or q", "give at least one of them to search by")
    for name, value in given.items():
        if not normalise_tag(value):
            raise InvalidField(name, "has no letters or digits to search for")
    return domain.Search.of(
        vocabulary(), specialty=given.get("specialty"), modality=given.get("modality"), region=given.get("region"), q=given.get("q")
    )


def encode_place(key: tuple[int, str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key), separators=(",", ":")).encode()).decode().rstrip("=")


def decode_place(token: str | None) -> tuple[int, str, str] | None:
    """A cursor this search gave out, or a 422 (never a 500, never someone else's page: it is only a position)."""
    if not token:
        return None
    try:
        data: Any = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if not (isinstance(data, list) and len(data) == 3 and type(data[0]) is int and 0 <= data[0] < len(domain.CLOSENESS)):
            raise ValueError
        if not (isinstance(data[1], str) and isinstance(data[2], str) and len(data[1]) <= 200 and len(data[2]) <= 200):
            raise ValueError
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidField("next", "this cursor is not one this list gave out") from None
    return data[0], data[1], data[2]


def search(
    ctx: Ctx, *, specialty: str | None, modality: str | None, region: str | None, q: str | None, limit: int, cursor: str | None
) -> Page[DirectoryCardOut]:
    wanted = _search_of(specialty, modality, region, q)
    place = decode_place(cursor)
    mine = {(i.pk, i.sk): i for i in Item.batch_get([Member.key(ctx.sub), Circle.key(ctx.sub)])}
    me, my_circle = mine.get(Member.key(ctx.sub)), mine.get(Circle.key(ctx.sub))
    my_links = set(my_circle.links or ()) if isinstance(my_circle, Circle) else set()
    graph, _ = _neighbourhood(ctx.sub, my_links, me.region_name if isinstance(me, Member) else None, [])
    cards = []
    for term in wanted.query_terms():
        for entry in DirectoryEntry.gsi2.query(f"DIR#{term}"):
            if isinstance(entry, DirectoryEntry):
                card = _card(entry)
                if wanted.matches(card):
                    cards.append(card)
    page, last = domain.after(domain.rank(cards, graph), place, limit)
    items = [
        DirectoryCardOut(
            member_id=r.card.sub,
            display_name=r.card.display_name,
            region=r.card.region,
            specialties=r.card.shown_specialties(),
            modalities=r.card.shown_modalities(),
            closeness=r.closeness,
            reason=r.reason,
            via=r.via,
        )
        for r in page
    ]
    return Page[DirectoryCardOut](items=items, next=encode_place(last) if last else None)


# ------------------------------------------------------------------ suggestions


def _profile(sub: str, member: Member) -> domain.Profile:
    return domain.Profile(
        sub,
        member.display_name,
        bool(member.in_directory),
        tuple(sorted(member.specialties or ())),
        member.region_name,
        member.specialty_labels or {},
    )


def suggestions(ctx: Ctx, limit: int) -> SuggestionsOut:
    own = Item.query(member_pk(ctx.sub), Item.sk.between("CIRCLE", "INTRO_TO#\uffff"))
    my_links: set[str] = set()
    excluded: set[str] = set()
    for item in own:
        if isinstance(item, Circle):
            my_links = set(item.links or ())
        elif isinstance(item, Dismissal):
            excluded.add(item.sk.removeprefix("DISMISSED#"))
        elif isinstance(item, IntroductionSent) and item.blocked_until > ctx.now:
            excluded.add(item.sk.removeprefix("INTRO_TO#"))
    colleagues = _first_degree(my_links)
    group_ids = sorted({ref for s in colleagues for kind, ref in domain.ties(my_links)[s] if kind == "group"})
    room = MAX_BATCH_KEYS - 1 - 2 * len(colleagues)
    graph, found = _neighbourhood(ctx.sub, my_links, None, [Member.key(ctx.sub), *[Group.key(g) for g in group_ids[: max(0, room)]]])
    me = found.get(Member.key(ctx.sub))
    if not isinstance(me, Member):
        return SuggestionsOut(items=[])
    profiles = {_sub_of(i): _profile(_sub_of(i), i) for i in found.values() if isinstance(i, Member) and i is not me}
    group_names = {i.group_id: i.name for i in found.values() if isinstance(i, Group)}
    # Colleagues of colleagues: the best connected first, one batch read of their profiles.
    pact_colleagues = {s for s, t in graph.first.items() if any(k == "pact" for k, _ in t)}
    distant = [s for s in graph.second if s not in excluded and s not in pact_colleagues]
    distant.sort(key=lambda s: (-len(graph.second[s]), s))
    if distant:
        for item in Item.batch_get([Member.key(s) for s in distant[:MAX_SECOND_DEGREE]]):
            if isinstance(item, Member):
                profiles[_sub_of(item)] = _profile(_sub_of(item), item)
    chosen = domain.suggest(graph, _profile(ctx.sub, me), profiles, group_names, excluded, vocabulary(), limit)
    return SuggestionsOut(
        items=[
            SuggestionOut(member_id=s.sub, display_name=s.display_name, reason=s.reason, via=s.via, group=s.group, shared=list(s.shared))
            for s in chosen
        ]
    )


def dismiss(ctx: Ctx, member_id: str) -> None:
    """Never suggest this member again. Idempotent; an id nobody has answers the same (it is only remembered)."""
    if not MEMBER_ID.match(member_id):
        raise InvalidField("member_id", "not a member id")
    if member_id == ctx.sub:
        return
    Dismissal(*Dismissal.key(ctx.sub, member_id), at=ctx.now).save()
