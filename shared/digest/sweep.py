"""The digest sweep: the members whose weekly digest is due, without scanning.

For each write shard DUE#0..N-1, one range query `digest_due <= now` on the sparse `digest_due`
index (only profiles with a digest planned carry it), and one queued message per member: the items
read grow with the digests due, never with the members. A missed run is caught up by the next.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.adapters.models import Member, iso_z
from shared.adapters.observability import logger


@dataclass(frozen=True)
class DigestSweepResult:
    items_read: int
    digests: int


def sweep_digests(now: datetime, shards: int, enqueue: Callable[[list[dict[str, Any]]], None]) -> DigestSweepResult:
    messages: list[dict[str, Any]] = []
    read = 0
    for number in range(shards):
        for member in Member.digest_due_index.query(f"DUE#{number}", Member.digest_due <= iso_z(now)):
            read += 1
            if isinstance(member, Member) and member.digest_due:
                messages.append({"member_id": member.pk.removeprefix("MEMBER#"), "due": member.digest_due, "as_of": iso_z(now)})
    if messages:
        enqueue(messages)
    logger.info("digest sweep done", extra={"items_read": read, "digests": len(messages)})
    return DigestSweepResult(items_read=read, digests=len(messages))
