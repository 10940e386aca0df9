"""The colleague directory's pure rules: forgiving search terms, closeness ranking, and suggestions.

No I/O, no clock: the vocabulary (synonym groups, a data file the network capability reads) and the
circles (who is in whose regular contact) are handed in.

Search terms are normalised tags (`normalise_tag`: case and accents folded, '&' read as 'and'),
prefixed with their kind: "s:" a specialty, "m:" a modality, "r:" a region. A tag in a synonym
group stands for the whole group ("PTSD" finds "trauma"); every group holds at most
`MAX_GROUP_TERMS` tags, because a search reads one index query per tag it expands to.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from shared.domain.tags import label_of, labels_of, normalise_tag

MAX_GROUP_TERMS = 3  # a search queries the index once per expanded tag: 2 reads of the circles + 3 = 5 calls
KINDS = {"specialty": "s", "modality": "m", "region": "r"}

# ------------------------------------------------------------------ vocabulary and terms


@dataclass(frozen=True)
class SynonymGroup:
    kind: str  # specialty | modality
    tags: tuple[str, ...]


@dataclass(frozen=True)
class Vocabulary:
    groups: tuple[SynonymGroup, ...] = ()
    _by_tag: dict[tuple[str, str], SynonymGroup] = field(default_factory=dict, compare=False, repr=False)

    @staticmethod
    def from_data(data: Mapping[str, object]) -> Vocabulary:
        """From the data file's shape: {"groups": [{"kind": "specialty", "terms": ["trauma", "PTSD"]}, ...]}."""
        raw = data.get("groups")
        if not isinstance(raw, list):
            raise ValueError("the vocabulary needs a list of groups")
        groups = []
        by_tag: dict[tuple[str, str], SynonymGroup] = {}
        for number, entry in enumerate(raw):
            if not isinstance(entry, dict) or entry.get("kind") not in ("specialty", "modality"):
                raise ValueError(f"group {number}: kind must be specialty or modality")
            terms = entry.get("terms")
            if not isinstance(terms, list) or not all(isinstance(t, str) for t in terms):
                raise ValueError(f"group {number}: terms must be a list of text")
            tags = tuple(dict.fromkeys(t for t in (normalise_tag(x) for x in terms) if t))
            if not 2 <= len(tags) <= MAX_GROUP_TERMS:
                raise ValueError(f"group {number}: between 2 and {MAX_GROUP_TERMS} distinct terms")
            group = SynonymGroup(str(entry["kind"]), tags)
            for tag in tags:
                if (group.kind, tag) in by_tag:
                    raise ValueError(f"group {number}: {tag} is in another {group.kind} group already")
                by_tag[(group.kind, tag)] = group
            groups.append(group)
        return Vocabulary(tuple(groups), by_tag)

    def expand(self, kind: str, text: str) -> tuple[str, ...]:
        """The tags a specialty or modality filter finds: the tag itself first, then its synonyms."""
        tag = normalise_tag(text)
        if not tag:
            return ()
        group = self._by_tag.get((kind, tag))
        return (tag, *(t for t in group.tags if t != tag)) if group else (tag,)

    def expand_free_text(self, text: str) -> tuple[str, ...]:
        """Search terms for `q` alone: a vocabulary word's group (in its kind); any other word as each kind."""
        tag = normalise_tag(text)
        if not tag:
            return ()
        for kind in ("specialty", "modality"):
            if (kind, tag) in self._by_tag:
                return tuple(f"{KINDS[kind]}:{t}" for t in self.expand(kind, tag))
        return (f"s:{tag}", f"m:{tag}", f"r:{tag}")

    def related(self, kind: str, tag: str) -> frozenset[str]:
        group = self._by_tag.get((kind, tag))
        return frozenset(group.tags) if group else frozenset({tag})


def entry_terms(specialties: Iterable[str], modalities: Iterable[str], region: str | None) -> set[str]:
    """The directory terms a member's card is filed under (their own words, normalised)."""
    terms = {f"s:{t}" for t in (normalise_tag(s) for s in specialties) if t}
    terms |= {f"m:{t}" for t in (normalise_tag(m) for m in modalities) if t}
    region_tag = normalise_tag(region or "")
    if region_tag:
        terms.add(f"r:{region_tag}")
    return terms


# ------------------------------------------------------------------ cards and filters


@dataclass(frozen=True)
class Card:
    """What the directory shows of a member: never an email address or a phone number.

    Specialties and modalities are tags (what a search matches); the labels, the words the member typed
    for each tag, are what is shown (`shown_specialties`).
    """

    sub: str
    display_name: str
    region: str | None
    specialties: tuple[str, ...]
    modalities: tuple[str, ...]
    specialty_labels: Mapping[str, str] = field(default_factory=dict, hash=False)
    modality_labels: Mapping[str, str] = field(default_factory=dict, hash=False)

    def terms(self) -> set[str]:
        return entry_terms(self.specialties, self.modalities, self.region)

    def shown_specialties(self) -> list[str]:
        return labels_of(self.specialties, self.specialty_labels)

    def shown_modalities(self) -> list[str]:
        return labels_of(self.modalities, self.modality_labels)


@dataclass(frozen=True)
class Search:
    """A search's filters, each already expanded to the terms it finds (all given filters must match)."""

    specialty: frozenset[str] = frozenset()
    modality: frozenset[str] = frozenset()
    region: frozenset[str] = frozenset()
    text: frozenset[str] = frozenset()  # q: terms of any kind

    @staticmethod
    def of(
        vocabulary: Vocabulary,
        *,
        specialty: str | None = None,
        modality: str | None = None,
        region: str | None = None,
        q: str | None = None,
    ) -> Search:
        return Search(
            specialty=frozenset(f"s:{t}" for t in vocabulary.expand("specialty", specialty)) if specialty else frozenset(),
            modality=frozenset(f"m:{t}" for t in vocabulary.expand("modality", modality)) if modality else frozenset(),
            region=frozenset({f"r:{normalise_tag(region)}"} if region and normalise_tag(region) else ()),
            text=frozenset(vocabulary.expand_free_text(q)) if q else frozenset(),
        )

    @property
    def filters(self) -> list[frozenset[str]]:
        return [f for f in (self.specialty, self.modality, self.region, self.text) if f]

    def query_terms(self) -> tuple[str, ...]:
        """The index partitions to read: those of one filter (the others are checked on the cards read)."""
        chosen = min(self.filters, key=len) if self.filters else frozenset()
        return tuple(sorted(chosen))

    def matches(self, card: Card) -> bool:
        terms = card.terms()
        return all(terms & f for f in self.filters)


# ------------------------------------------------------------------ the circle graph


def parse_link(link: str) -> tuple[str, str, str] | None:
    """'<sub>|PACT#<id>' -> (sub, 'pact', id); None for anything else."""
    sub, _, tie = link.partition("|")
    kind, _, ref = tie.partition("#")
    if not sub or kind not in ("PACT", "GROUP") or not ref:
        return None
    return sub, kind.lower(), ref


def ties(links: Iterable[str]) -> dict[str, set[tuple[str, str]]]:
    """Colleague sub -> {(pact|group, id)}."""
    out: dict[str, set[tuple[str, str]]] = {}
    for link in links:
        parsed = parse_link(link)
        if parsed:
            out.setdefault(parsed[0], set()).add((parsed[1], parsed[2]))
    return out


@dataclass(frozen=True)
class Graph:
    """The caller's neighbourhood: first degree from their circle, second degree from their colleagues' circles."""

    me: str
    first: Mapping[str, set[tuple[str, str]]]  # colleague -> ties
    second: Mapping[str, tuple[str, ...]]  # colleague of a colleague -> the colleagues through whom, sorted
    listed_names: Mapping[str, str]  # first-degree colleagues who are in the directory -> their names
    region: str | None  # the caller's region tag

    @staticmethod
    def build(
        me: str, my_links: Iterable[str], their_links: Mapping[str, Iterable[str]], listed_names: Mapping[str, str], region: str | None
    ) -> Graph:
        first = ties(my_links)
        first.pop(me, None)
        second: dict[str, set[str]] = {}
        for colleague in first:
            for other in ties(their_links.get(colleague, ())):
                if other != me and other not in first:
                    second.setdefault(other, set()).add(colleague)
        return Graph(
            me=me,
            first=first,
            second={s: tuple(sorted(v, key=lambda c: (c not in listed_names, listed_names.get(c, ""), c))) for s, v in second.items()},
            listed_names=dict(listed_names),
            region=normalise_tag(region) if region else None,
        )

    def via_name(self, sub: str) -> str | None:
        """The name of a colleague through whom `sub` is second degree, only if that colleague is in the directory."""
        return next((self.listed_names[c] for c in self.second.get(sub, ()) if c in self.listed_names), None)


CLOSENESS = ("colleague", "colleague_of_colleague", "region", "other")


@dataclass(frozen=True)
class Ranked:
    card: Card
    tier: int  # 0 closest
    closeness: str
    reason: str
    via: str | None

    @property
    def sort_key(self) -> tuple[int, str, str]:
        return (self.tier, fold(self.card.display_name), self.card.sub)


def fold(name: str) -> str:
    """A name as it sorts: case and accents folded (Érin between Emma and Fred)."""
    return normalise_tag(name) or name.lower()


def place(card: Card, graph: Graph) -> Ranked:
    tie = graph.first.get(card.sub)
    if tie:
        kinds = {k for k, _ in tie}
        reason = "you have a pact together" if "pact" in kinds else "you are in a group together"
        return Ranked(card, 0, CLOSENESS[0], reason, None)
    if card.sub in graph.second:
        via = graph.via_name(card.sub)
        reason = f"a colleague of {via}'s" if via else "a colleague of one of your colleagues"
        return Ranked(card, 1, CLOSENESS[1], reason, via)
    if graph.region and card.region and normalise_tag(card.region) == graph.region:
        return Ranked(card, 2, CLOSENESS[2], "in your region", None)
    return Ranked(card, 3, CLOSENESS[3], "in the directory", None)


def rank(cards: Iterable[Card], graph: Graph) -> list[Ranked]:
    """Closest first (my colleagues, theirs, my region, the rest), then by name; never the caller."""
    seen: dict[str, Card] = {}
    for card in cards:
        if card.sub != graph.me:
            seen.setdefault(card.sub, card)
    return sorted((place(c, graph) for c in seen.values()), key=lambda r: r.sort_key)


def after(ranked: list[Ranked], key: tuple[int, str, str] | None, limit: int) -> tuple[list[Ranked], tuple[int, str, str] | None]:
    """One page after a position (exclusive), and the position of its last item if more follow."""
    rest = [r for r in ranked if key is None or r.sort_key > key]
    page = rest[:limit]
    return page, (page[-1].sort_key if len(rest) > limit else None)


# ------------------------------------------------------------------ suggestions


@dataclass(frozen=True)
class Profile:
    """What a suggestion needs to know of a member: their specialties (tags) and the words they typed for them."""

    sub: str
    display_name: str
    in_directory: bool
    specialties: tuple[str, ...] = ()
    region: str | None = None
    specialty_labels: Mapping[str, str] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class Suggestion:
    sub: str
    display_name: str
    reason: str
    via: str | None
    group: str | None  # the group we meet in (its name)
    shared: tuple[str, ...]  # the specialties in common (their words), or the region


def suggest(
    graph: Graph,
    me: Profile,
    profiles: Mapping[str, Profile],
    group_names: Mapping[str, str],
    excluded: Iterable[str],
    vocabulary: Vocabulary,
    limit: int,
) -> list[Suggestion]:
    """People to propose a pact to: group co-members I have no pact with, then listed colleagues of colleagues
    who share a specialty (or, failing that, my region) with me. Never someone I have a pact with, never one excluded.
    """
    skip = set(excluded) | {graph.me}
    out: list[Suggestion] = []
    for sub, tie in graph.first.items():
        if sub in skip or any(kind == "pact" for kind, _ in tie) or sub not in profiles:
            continue
        names = sorted(group_names.get(ref, "") for kind, ref in tie if kind == "group")
        group = next((n for n in names if n), None)
        reason = f"you meet in {group}" if group else "you meet in a group"
        out.append(Suggestion(sub, profiles[sub].display_name, reason, None, group, ()))
    out.sort(key=lambda s: (fold(s.display_name), s.sub))
    mine = {t for s in me.specialties for t in vocabulary.related("specialty", normalise_tag(s))}
    my_region = normalise_tag(me.region) if me.region else None
    distant: list[tuple[int, Suggestion]] = []
    for sub in graph.second:
        profile = profiles.get(sub)
        if sub in skip or profile is None or not profile.in_directory:
            continue
        common = tuple(label_of(s, profile.specialty_labels) for s in profile.specialties if normalise_tag(s) in mine)
        same_region = bool(my_region and profile.region and normalise_tag(profile.region) == my_region)
        if not common and not same_region:
            continue
        via = graph.via_name(sub)
        who = f"a colleague of {via}'s" if via else "a colleague of one of your colleagues"
        also = f"also works with {', '.join(common)}" if common else f"also in {profile.region}"
        distant.append((len(common), Suggestion(sub, profile.display_name, f"{who}; {also}", via, None, common or (str(profile.region),))))
    distant.sort(key=lambda p: (-p[0], fold(p[1].display_name), p[1].sub))
    return [*out, *(s for _, s in distant)][:limit]
