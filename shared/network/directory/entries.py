"""Directory entries: one per opted-in member and search term, written in the profile's own transaction.

Kept free of the API's request/response models: the members capability writes them with the profile.
Each entry carries the card the directory shows (id, name, region, specialties, modalities: their tags, and the
words the member typed for them), never an email address or a phone number.
"""

from __future__ import annotations

from collections.abc import Iterable

from pynamodb.transactions import TransactWrite

from shared.adapters.models import DirectoryEntry, Item, Member
from shared.domain.directory import entry_terms


def terms_of(member: Member) -> set[str]:
    """The terms a profile is filed under as saved (none unless it is in the directory)."""
    if not member.in_directory:
        return set()
    return entry_terms(member.specialties or (), member.modalities or (), member.region_name)


def card_entry(sub: str, term: str, member: Member) -> DirectoryEntry:
    return DirectoryEntry(
        *DirectoryEntry.key(sub, term),
        gsi2pk=f"DIR#{term}",
        gsi2sk=sub,
        member_sub=sub,
        display_name=member.display_name,
        region_name=member.region_name,
        specialties=sorted(member.specialties or ()),
        modalities=sorted(member.modalities or ()),
        specialty_labels=member.specialty_labels,
        modality_labels=member.modality_labels,
    )


def changes(sub: str, listed: set[str], member: Member) -> tuple[list[DirectoryEntry], list[DirectoryEntry]]:
    """(entries to put: every current term, the card may have changed; entries to delete: terms no longer held)."""
    now = terms_of(member)
    puts = [card_entry(sub, term, member) for term in sorted(now)]
    gone = [DirectoryEntry(*DirectoryEntry.key(sub, term)) for term in sorted(listed - now)]
    return puts, gone


def write(tx: TransactWrite, puts: list[DirectoryEntry], gone: list[DirectoryEntry]) -> None:
    for entry in gone:
        tx.delete(entry)
    for entry in puts:
        tx.save(entry)


def remove_all(items: Iterable[Item]) -> None:
    """Erasure: every directory entry among the member's own items, at once."""
    entries = [i for i in items if isinstance(i, DirectoryEntry)]
    if entries:
        with DirectoryEntry.batch_write() as batch:
            for entry in entries:
                batch.delete(entry)
