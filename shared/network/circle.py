"""Circles: who each member is in regular contact with, kept by the changes that make and end the contact.

A member's Circle (MEMBER#<sub> / CIRCLE) holds "<colleague sub>|PACT#<pact id>" for a mutual pact and
"<colleague sub>|GROUP#<group id>" for a group both are active members of. Each helper here adds update
actions to the caller's own TransactWrite (ADD or DELETE on the string set: a repeat changes nothing, and
an update creates the item the first time), so a tie is made or ended in the same transaction as the pact
or the membership it stands for.

Transaction size: a group has at most 16 members (`GroupIn.size_limit`), so joining or leaving writes at
most 16 circles beside the group's own few items, far under DynamoDB's 100 items per transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import suppress

from pynamodb.exceptions import UpdateError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from shared.adapters.models import Circle, Item

MAX_GROUP_SIZE = 16  # GroupIn.size_limit's ceiling: a join writes at most this many circles


def link(colleague: str, kind: str, ref: str) -> str:
    """'<sub>|PACT#<id>' or '<sub>|GROUP#<id>'."""
    return f"{colleague}|{kind}#{ref}"


def _change(tx: TransactWrite, sub: str, links: set[str], *, add: bool) -> None:
    if not links:
        return
    item = Circle(*Circle.key(sub))
    # The discriminator too: the first ADD creates the item, and a polymorphic read must know its class.
    actions: list[Action] = [Item.kind.set(Circle), Circle.links.add(links) if add else Circle.links.delete(links)]
    tx.update(item, actions=actions)


def pact_made(tx: TransactWrite, pact_id: str, a: str, b: str) -> None:
    """A pact became mutual: each party's circle gets the other."""
    _change(tx, a, {link(b, "PACT", pact_id)}, add=True)
    _change(tx, b, {link(a, "PACT", pact_id)}, add=True)


def pact_ended(tx: TransactWrite, pact_id: str, a: str, b: str | None) -> None:
    """A pact ended (left, deleted): the tie goes from both circles."""
    if b is None:
        return
    _change(tx, a, {link(b, "PACT", pact_id)}, add=False)
    _change(tx, b, {link(a, "PACT", pact_id)}, add=False)


def joined_group(tx: TransactWrite, group_id: str, joiner: str, others: Iterable[str]) -> None:
    """The joiner gets each active co-member, and each of them the joiner."""
    co = sorted(set(others) - {joiner})
    _change(tx, joiner, {link(o, "GROUP", group_id) for o in co}, add=True)
    for other in co:
        _change(tx, other, {link(joiner, "GROUP", group_id)}, add=True)


def left_group(tx: TransactWrite, group_id: str, leaver: str, others: Iterable[str]) -> None:
    """Left, removed or erased: the group's ties go from the leaver's circle and from each co-member's."""
    co = sorted(set(others) - {leaver})
    _change(tx, leaver, {link(o, "GROUP", group_id) for o in co}, add=False)
    for other in co:
        _change(tx, other, {link(leaver, "GROUP", group_id)}, add=False)


def group_ties(group_id: str, members: Iterable[str]) -> dict[str, set[str]]:
    """Every member's links to the others in one group (a group deleted with people in it)."""
    people = sorted(set(members))
    return {m: {link(o, "GROUP", group_id) for o in people if o != m} for m in people}


def drop_links(sub: str, links: set[str]) -> None:
    """Remove links from a circle outside any transaction (a group deleted, an erased member's colleagues)."""
    if not links:
        return
    with suppress(UpdateError):  # no circle there (never had one, or erased meanwhile): nothing to remove
        Circle(*Circle.key(sub)).update(actions=[Circle.links.delete(links)], condition=Circle.pk.exists())


def forget_member(sub: str, circle: Circle | None) -> None:
    """Erasure: the member's sub leaves each colleague's circle (their own circle goes with their partition)."""
    by_colleague: dict[str, set[str]] = {}
    for entry in (circle.links or set()) if circle else set():
        colleague, _, tie = entry.partition("|")
        if colleague and tie:
            by_colleague.setdefault(colleague, set()).add(f"{sub}|{tie}")
    for colleague, links in sorted(by_colleague.items()):
        drop_links(colleague, links)
