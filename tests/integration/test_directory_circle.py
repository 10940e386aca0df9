"""Circles: each flow that makes or ends regular contact adds or removes the tie on both members' circles."""

from __future__ import annotations

from datetime import timedelta

from shared.adapters.models import Circle, Item
from tests.helpers import DEFAULT_NOW, call, member, pact
from tests.integration.group_harness import group_of, join, sub

ANN, BOB, CARA, DAN = "ann@example.org", "bob@example.org", "cara@example.org", "dan@example.org"


def circle(email: str) -> set[str]:
    found = list(Item.query(f"MEMBER#{sub(email)}", Item.sk == "CIRCLE"))
    assert all(isinstance(i, Circle) for i in found)
    return set(found[0].links or ()) if found else set()  # type: ignore[attr-defined]


def tie(email: str, kind: str, ref: str) -> str:
    return f"{sub(email)}|{kind}#{ref}"


def test_a_pact_ties_both_circles_once_mutual_and_leaving_unties_them(aws) -> None:
    member(ANN)
    member(BOB)
    invited = pact(ANN, BOB, accept=False)["id"]
    assert circle(ANN) == circle(BOB) == set()  # an invitation is not contact yet
    assert call("POST", f"/pacts/{invited}/accept", email=BOB).status == 200
    assert circle(ANN) == {tie(BOB, "PACT", invited)}
    assert circle(BOB) == {tie(ANN, "PACT", invited)}
    assert call("POST", f"/pacts/{invited}/accept", email=BOB).status == 409  # nothing twice
    assert call("DELETE", f"/pacts/{invited}", email=BOB).status == 204  # Bob leaves; Ann keeps an ended pact
    assert circle(ANN) == circle(BOB) == set()


def test_a_declined_or_deleted_invitation_never_ties_anyone(aws) -> None:
    member(ANN)
    member(BOB)
    declined = pact(ANN, BOB, accept=False)["id"]
    assert call("POST", f"/pacts/{declined}/decline", email=BOB).status == 204
    withdrawn = pact(ANN, BOB, accept=False)["id"]
    assert call("DELETE", f"/pacts/{withdrawn}", email=ANN).status == 204
    assert circle(ANN) == circle(BOB) == set()


def test_the_owner_deleting_a_mutual_pact_unties_both_and_leaves_their_other_tie(aws) -> None:
    group = group_of(ANN, [BOB], DEFAULT_NOW)
    first = pact(ANN, BOB)["id"]
    assert circle(ANN) == {tie(BOB, "PACT", first), tie(BOB, "GROUP", group)}
    assert call("DELETE", f"/pacts/{first}", email=ANN).status == 204
    assert circle(ANN) == {tie(BOB, "GROUP", group)}
    assert circle(BOB) == {tie(ANN, "GROUP", group)}


def test_ending_a_mutual_pact_unties_both(aws) -> None:
    member(ANN)
    member(BOB)
    ended = pact(ANN, BOB)["id"]
    assert call("POST", f"/pacts/{ended}/end", email=BOB).status == 200
    assert circle(ANN) == circle(BOB) == set()


def test_joining_a_group_ties_the_joiner_to_each_member_and_leaving_unties(aws) -> None:
    group = group_of(ANN, [BOB], DEFAULT_NOW)
    assert circle(ANN) == {tie(BOB, "GROUP", group)}
    member(CARA)
    assert join(group, ANN, CARA, DEFAULT_NOW).status == 200
    assert circle(CARA) == {tie(ANN, "GROUP", group), tie(BOB, "GROUP", group)}
    assert circle(ANN) == {tie(BOB, "GROUP", group), tie(CARA, "GROUP", group)}
    assert circle(BOB) == {tie(ANN, "GROUP", group), tie(CARA, "GROUP", group)}
    assert call("DELETE", f"/groups/{group}/members/me", email=CARA).status == 204
    assert circle(CARA) == set()
    assert circle(ANN) == {tie(BOB, "GROUP", group)}
    assert call("DELETE", f"/groups/{group}/members/{sub(BOB)}", email=ANN).status == 204  # removed by the convener
    assert circle(ANN) == circle(BOB) == set()
    assert call("DELETE", f"/groups/{group}/members/me", email=ANN).status == 204  # the last one: the group goes
    assert circle(ANN) == set()


def test_a_full_group_fits_one_transaction(aws) -> None:
    """The 16th member joins: 15 co-members' circles and their own beside the group's items (well under 100)."""
    others = [f"m{n}@example.org" for n in range(14)]
    group = group_of(ANN, others, DEFAULT_NOW, size_limit=16)
    member(DAN)
    assert join(group, ANN, DAN, DEFAULT_NOW).status == 200
    assert len(circle(DAN)) == 15
    assert tie(DAN, "GROUP", group) in circle(others[-1])


def test_erasure_removes_the_circle_and_the_member_from_each_colleagues(aws) -> None:
    group = group_of(ANN, [BOB, CARA], DEFAULT_NOW)
    shared = pact(ANN, BOB)["id"]
    assert call("DELETE", "/members/me", email=BOB, now=DEFAULT_NOW + timedelta(minutes=1)).status == 204
    assert circle(BOB) == set()
    assert list(Item.query(f"MEMBER#{sub(BOB)}", Item.sk == "CIRCLE")) == []
    assert circle(ANN) == {tie(CARA, "GROUP", group)}
    assert circle(CARA) == {tie(ANN, "GROUP", group)}
    assert all(sub(BOB) not in link for link in circle(ANN) | circle(CARA))
    assert shared  # Ann keeps her side of the pact (ended), without a tie


def test_a_group_deleted_with_people_in_it_unties_them_all(aws) -> None:
    from shared.groups.use_cases import delete_group

    group = group_of(ANN, [BOB, CARA], DEFAULT_NOW)
    shared = pact(ANN, BOB)["id"]
    delete_group(group)
    assert circle(ANN) == {tie(BOB, "PACT", shared)}  # the pact's tie stays
    assert circle(BOB) == {tie(ANN, "PACT", shared)}
    assert circle(CARA) == set()
