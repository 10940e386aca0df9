"""Attendance lapses count as lapsed contact: one kind line in the member's next nudge digest, never its own email.

Kept small (models only) so the nudge sender that asks for the lines loads no group use-cases.
"""

from __future__ import annotations

from contextlib import suppress

from pynamodb.exceptions import UpdateError

from shared.adapters.models import Group, GroupMember, member_pk


def missed_lines(member_sub: str) -> list[tuple[GroupMember, str]]:
    """Each group where the member missed the last two meetings and has not been told yet, with its line."""
    pending = [
        m
        for m in GroupMember.gsi1.query(
            member_pk(member_sub), GroupMember.gsi1sk.startswith("GROUP#"), filter_condition=GroupMember.attendance_notice == "pending"
        )
        if isinstance(m, GroupMember) and m.state == "active"
    ]
    if not pending:
        return []
    names = {g.group_id: g.name for g in Group.batch_get([Group.key(m.group_id) for m in pending]) if isinstance(g, Group)}
    line = "You have missed the last two meetings of {}. No need to explain: the group would be glad to see you at the next one."
    return [(m, line.format(names[m.group_id])) for m in pending if m.group_id in names]


def said(memberships: list[GroupMember]) -> None:
    """The lines went out: each is said once (until two more meetings are missed)."""
    for membership in memberships:
        with suppress(UpdateError):  # left the group meanwhile, or it changed: nothing more to say
            membership.update(
                actions=[GroupMember.attendance_notice.set("sent")],
                condition=GroupMember.attendance_notice == "pending",
                add_version_condition=False,
            )
