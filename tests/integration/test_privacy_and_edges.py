"""What a careful reviewer tried: leaving then erasing, strangers' invitations, odd input, tampered cursors."""

from __future__ import annotations

import base64
import json
import os
from datetime import timedelta

import pytest

from infra.local.auth import member_sub
from tests.helpers import DEFAULT_NOW, call, member, pact
from tests.integration.invite_harness import is_outbox

ANN, BOB, EVE = "ann@example.org", "bob@example.org", "eve@example.org"


def table_dump(aws) -> str:  # type: ignore[no-untyped-def]
    """Every item but the outbox's (the domain events, ids only: see invite_harness.holding)."""
    return str([i for i in aws["dynamodb"].scan(TableName=os.environ["TABLE_NAME"])["Items"] if not is_outbox(i)])


def test_leaving_a_pact_then_erasing_leaves_nothing_of_the_leaver(aws) -> None:
    member(ANN)
    member(BOB)
    created = pact(ANN, BOB)
    call("POST", f"/pacts/{created['id']}/check-ins", body={"note": "SECRET ANN NOTE"})
    assert call("DELETE", f"/pacts/{created['id']}").status == 204
    # Ann can no longer read the pact, so her note on it is gone at once.
    assert "SECRET ANN NOTE" not in table_dump(aws)
    assert call("DELETE", "/members/me").status == 204
    dump = table_dump(aws)
    for trace in (ANN, member_sub(ANN), "'Ann'"):
        assert trace not in dump
    bob_view = call("GET", f"/pacts/{created['id']}", email=BOB).json()
    assert bob_view["colleague"]["name"] == "A former colleague"
    history = call("GET", "/check-ins", email=BOB).json()["items"]
    assert len(history) == 1


def test_erasure_anonymises_the_colleagues_copies_too(aws) -> None:
    member(ANN)
    member(BOB)
    created = pact(ANN, BOB)
    call("POST", f"/pacts/{created['id']}/check-ins", body={"note": "n"})
    call("DELETE", "/members/me")
    assert member_sub(ANN) not in table_dump(aws)
    assert call("GET", "/check-ins", email=BOB).json()["items"][0]["recorded_by_me"] is False


def test_an_invitation_reveals_nothing_until_accepted_and_relabels_then(aws) -> None:
    member(ANN)
    member(BOB, name="Robert")
    created = call("POST", "/pacts", body={"colleague": {"email": BOB}}).json()
    outside = call("POST", "/pacts", body={"colleague": {"email": "nobody@example.org"}}).json()
    # The answer for a member's address looks like the answer for anyone's
    assert created["colleague"] == {"member_id": None, "name": "bob", "email": BOB, "phone": None}
    assert outside["colleague"] == {"member_id": None, "name": "nobody", "email": "nobody@example.org", "phone": None}
    assert {k: v for k, v in created.items() if k not in ("id", "colleague")} == {
        k: v for k, v in outside.items() if k not in ("id", "colleague")
    }
    call("POST", f"/pacts/{created['id']}/accept", email=BOB)
    after = call("GET", f"/pacts/{created['id']}").json()
    assert after["colleague"]["member_id"] == member_sub(BOB)
    assert after["colleague"]["name"] == "Robert"


def test_away_news_reaches_only_people_the_member_actually_meets(aws) -> None:
    member(ANN)
    member(BOB)
    member(EVE)
    stranger = pact(EVE, ANN, accept=False)  # Eve invites Ann; Ann never accepts
    left = pact(ANN, BOB)
    call("DELETE", f"/pacts/{left['id']}", email=BOB)  # Bob leaves
    reply = call("PUT", "/members/me/away", body={"until": "2026-12-20"})
    assert reply.status == 200
    # Eve's view of her own invitation is not paused by Ann's holiday
    assert call("GET", f"/pacts/{stranger['id']}", email=EVE).json()["status"] == "on_track"
    from shared.adapters.models import PactView
    from shared.members.notices import hears_from_us

    views = [v for v in PactView.gsi1.query(f"MEMBER#{member_sub(ANN)}") if isinstance(v, PactView)]
    assert views
    assert not any(hears_from_us(v) for v in views)


def test_away_twice_then_back_early_lifts_every_away_pause(aws) -> None:
    member(ANN)
    created = pact(ANN, {"name": "Jen", "email": "jen@example.org"})
    call("PUT", "/members/me/away", body={"until": "2026-12-20"})
    call("PUT", "/members/me/away", body={"until": "2026-12-10"})
    assert call("GET", f"/pacts/{created['id']}").json()["paused_until"] == "2026-12-10T00:00:00Z"
    call("DELETE", "/members/me/away")
    assert call("GET", f"/pacts/{created['id']}").json()["status"] == "on_track"


def test_many_pacts_away_mode_spans_transactions(aws) -> None:
    member(ANN)
    ids = [pact(ANN, {"name": f"C{i}", "phone": "+353851111111"})["id"] for i in range(100)]  # 101 items: two transactions
    assert call("PUT", "/members/me/away", body={"until": "2026-12-20"}).status == 200
    assert {call("GET", f"/pacts/{i}").json()["status"] for i in ids[::33] + ids[-1:]} == {"paused"}


def test_the_same_call_recorded_by_both_is_one_check_in_and_each_keeps_their_own_note(aws) -> None:
    # Found trying it: Bob's note on the call Ann had recorded was a 409 that told him to record it "a
    # minute apart", which counted one call twice in both logs. Now it is one check-in; his note is his.
    member(ANN)
    member(BOB)
    created = pact(ANN, BOB)
    url = f"/pacts/{created['id']}/check-ins"
    assert call("POST", url, body={"note": "ann's own thoughts"}).status == 201
    later = DEFAULT_NOW + timedelta(seconds=20)
    bobs = call("POST", url, email=BOB, body={"note": "bob's own thoughts"}, now=later)
    assert bobs.status == 201, bobs.body
    assert (bobs.headers.get("idempotent-replayed"), bobs.json()["recorded_by_me"], bobs.json()["note"]) == (
        "true",
        False,
        "bob's own thoughts",
    )
    # One check-in, seen by each with their own note only, wherever they look
    for who, own, other in ((ANN, "ann's own thoughts", "bob's own thoughts"), (BOB, "bob's own thoughts", "ann's own thoughts")):
        in_pact = call("GET", url, email=who, now=later).json()["items"]
        timeline = call("GET", "/check-ins", email=who, now=later).json()["items"]
        export = call("GET", "/members/me/export", email=who, now=later).json()["check_ins"]
        assert [len(in_pact), len(timeline), len(export)] == [1, 1, 1]
        assert [in_pact[0]["note"], timeline[0]["note"], export[0]["note"]] == [own, own, own]
        seen = str(in_pact) + str(timeline) + call("GET", "/members/me/export", email=who, now=later).body.decode()
        assert other not in seen
    # Bob changes his mind about his note: still one check-in, his note replaced, Ann's untouched
    again = call("POST", url, email=BOB, body={"note": "bob, second thoughts"}, now=later)
    assert again.json()["note"] == "bob, second thoughts"
    assert [c["note"] for c in call("GET", url, email=BOB, now=later).json()["items"]] == ["bob, second thoughts"]
    assert [c["note"] for c in call("GET", url, email=ANN, now=later).json()["items"]] == ["ann's own thoughts"]


def test_leaving_is_finished_by_a_retry_after_a_failure(aws, monkeypatch: pytest.MonkeyPatch) -> None:
    import shared.pacts.use_cases as pacts

    member(ANN)
    created = pact(ANN, {"name": "Jen", "phone": "+353851111111"})
    call("POST", f"/pacts/{created['id']}/check-ins", body={"note": "n"})
    real = pacts.TransactWrite

    class Failing(real):  # type: ignore[misc, valid-type]
        def _commit(self):  # type: ignore[no-untyped-def]
            raise RuntimeError("the function timed out here")

    monkeypatch.setattr(pacts, "TransactWrite", Failing)
    assert call("DELETE", f"/pacts/{created['id']}").status == 500
    monkeypatch.setattr(pacts, "TransactWrite", real)
    assert call("GET", f"/pacts/{created['id']}").status == 200  # still reachable: nothing is orphaned
    assert call("DELETE", f"/pacts/{created['id']}").status == 204
    assert f"PACT#{created['id']}" not in table_dump(aws)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/pacts", {"colleague": {"name": "J", "phone": "+353851111111"}, "starts_at": "0001-01-01T00:00:00+01:00"}),
        ("POST", "/pacts", {"colleague": {"name": "J", "phone": "+353851111111"}, "starts_at": "9999-12-31T23:59:00-01:00"}),
        ("POST", "/pacts", {"colleague": {"name": "J", "phone": "+353851111111"}, "starts_at": "2026-12-01T09:00:00"}),
        ("PUT", "/members/me/away", {"until": "0001-01-01"}),
        ("PUT", "/members/me", {"display_name": "Ann\nBcc: x@example.org"}),
        ("PUT", "/members/me", {"display_name": "Ann", "region": "West\r\nCork"}),
        ("POST", "/pacts", {"colleague": {"name": "J\u2028K", "phone": "+353851111111"}}),
    ],
)
def test_odd_input_is_a_422_never_a_500(aws, method: str, path: str, body: dict) -> None:
    member(ANN, time_zone="Pacific/Kiritimati")
    reply = call(method, path, body=body)
    assert reply.status == 422, reply.body


def test_odd_dates_on_check_ins_and_pauses(aws) -> None:
    member(ANN, time_zone="Pacific/Kiritimati")
    created = pact(ANN, {"name": "J", "phone": "+353851111111"})
    assert call("POST", f"/pacts/{created['id']}/check-ins", body={"occurred_at": "9999-12-31T23:59:00-01:00"}).status == 422
    assert call("POST", f"/pacts/{created['id']}/pause", body={"until": "0001-01-01"}).status == 422


def _cursor(data: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        {"pk": {"S": "MEMBER#x"}},
        {"pk": {"S": "MEMBER#x"}, "sk": {"N": "1"}},
        {"gsi1pk": {"S": "MEMBER#x"}},
        {"pk": {"S": "PACT#p"}, "sk": {"S": "MEMBER#x"}, "gsi1pk": {"S": "MEMBER#someone-else"}, "gsi1sk": {"S": "PACT#1"}},
        [1, 2],
        "x" * 3000,
    ],
)
def test_made_up_cursors_are_422(aws, cursor: object) -> None:
    member(ANN)
    token = cursor if isinstance(cursor, str) else _cursor(cursor)
    for path in ("/pacts", "/check-ins"):
        reply = call("GET", f"{path}?next={token}")
        assert reply.status == 422, (path, reply.body)


def test_pacts_page_through_with_their_own_cursor(aws) -> None:
    member(ANN)
    for i in range(5):
        pact(ANN, {"name": f"C{i}", "phone": "+353851111111"}, now=DEFAULT_NOW + timedelta(minutes=i))
    first = call("GET", "/pacts?limit=2").json()
    second = call("GET", f"/pacts?limit=2&next={first['next']}").json()
    names = [p["colleague"]["name"] for p in first["items"] + second["items"]]
    assert names == ["C4", "C3", "C2", "C1"]


def test_a_huge_pact_id_is_a_plain_404(aws) -> None:
    member(ANN)
    assert call("GET", "/pacts/p_" + "x" * 3000).status == 404


def test_an_unexpected_error_logs_no_personal_data(aws, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    import shared.members.use_cases

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom for ann@example.org")

    monkeypatch.setattr(shared.members.use_cases.Member, "get", broken)
    assert call("GET", "/members/me").status == 500
    assert "unhandled error" in caplog.text
    assert "ann@example.org" not in caplog.text
    record = next(r for r in caplog.records if r.getMessage() == "unhandled error")
    assert record.error_type == "RuntimeError"  # type: ignore[attr-defined]


# ------------------------------------------------------------------ a private note goes nowhere else

MARKER = "PRIVATE-MARKER-7f3c9a"  # in Ann's private check-in note, and nowhere else anyone but Ann can read


def test_a_private_note_reaches_no_output_but_its_authors(aws, bus_events, caplog: pytest.LogCaptureFixture) -> None:
    """Every output of the system, for everyone but the author, searched for a marker planted in a private note.

    Bob shares the pact, Cara a group, Dan is a stranger who found Ann in the directory. Their API
    answers on every GET route (with every id they could know), the emails and texts sent, their
    calendar feeds, exports and logs, the domain events on the bus and every function log line.
    """
    from datetime import UTC, datetime

    from moto.sns.models import sns_backends

    from infra import cfn
    from infra.lambdas import invoke
    from infra.local.stack import scheduled_event
    from shared.adapters.observability import logger
    from tests.integration.digest_harness import DigestHarness
    from tests.integration.group_harness import group_of
    from tests.integration.nudge_harness import NudgeHarness

    start = datetime(2026, 12, 1, 9, tzinfo=UTC)
    cara, dan = "cara@example.org", "dan@example.org"
    level = logger.log_level
    logger.setLevel("DEBUG")  # every line any function would log, at any level
    try:
        nudges, digest = NudgeHarness(), DigestHarness()
        group_id = group_of(ANN, [BOB, cara], start)
        member(ANN, "Ann", phone="+353851234567", notifications={"channels": ["email", "sms"]}, in_directory=True, specialties=["PTSD"])
        member(BOB, "Bob", phone="+353867654321", notifications={"channels": ["email", "sms"]})
        member(dan, "Dan")
        pact_id = pact(ANN, BOB, now=start, rhythm={"weekday": "tuesday", "time": "08:30"})["id"]
        noted = call("POST", f"/pacts/{pact_id}/check-ins", body={"note": f"Worried about {MARKER}"}, now=start)
        assert noted.status == 201, noted.body
        asked = {"text": "Any reading on group endings?", "to": {"kind": "group", "group_id": group_id}}
        ask = call("POST", "/asks", email=BOB, body=asked, now=start)
        assert ask.status == 201, ask.body
        card = call("GET", "/directory?specialty=trauma", email=dan, now=start).json()["items"][0]
        request = {"to": card["member_id"], "message": "Could we talk about trauma work?"}
        intro = call("POST", "/introductions", email=dan, body=request, now=start)
        assert intro.status == 201, intro.body
        # What the schedules send: the texts after the slot, the nudges when it lapses, the weekly digests.
        sms_sweep = next(s for s in cfn.schedules() if s.function == "SmsSweepFunction")
        invoke("SmsSweepFunction", scheduled_event(sms_sweep, datetime(2026, 12, 8, 9, 5, tzinfo=UTC)))
        nudges.run(datetime(2026, 12, 10, 9, tzinfo=UTC))
        digest.run(datetime(2026, 12, 14, 9, tzinfo=UTC))
        later = datetime(2026, 12, 14, 10, tzinfo=UTC)
        meeting_id = call("GET", f"/groups/{group_id}/meetings?limit=1", email=cara, now=later).json()["items"][0]["id"]
        ids = {"pact_id": pact_id, "group_id": group_id, "meeting_id": meeting_id, "intro_id": intro.json()["id"]}
        ids["ask_id"] = ask.json()["id"]
        spec = call("GET", "/openapi.json", email=None).json()
        # The signed-in GET routes (the public link pages and feeds answer to secrets: the feeds are read below).
        paths = [path.format(**ids) for path, ops in spec["paths"].items() if "get" in ops and ops["get"].get("security") != []]
        queries = ["/asks?box=sent", "/asks?box=received", "/directory?q=ann", "/members/me/log.csv?from=2026-11-01&to=2026-12-31"]
        outputs: dict[str, str] = {}
        for who in (BOB, cara, dan):
            for path in paths + queries:
                reply = call("GET", path, email=who, now=later)
                assert reply.status < 500, (path, reply.body)
                outputs[f"{who} GET {path} ({reply.status})"] = reply.body.decode()
            secret = call("POST", "/members/me/calendar-secret", email=who, now=later).json()["url"]
            outputs[f"{who} calendar feed"] = call("GET", secret.removeprefix("https://peer.test"), email=None, now=later).body.decode()
        for mail in NudgeHarness.sent():
            outputs[f"email to {mail.to}: {mail.subject}"] = mail.text + mail.html + str(mail.headers)
        for phone, text in sns_backends["123456789012"]["eu-west-1"].sms_messages.values():
            outputs[f"text to {phone}"] = text
        outputs["domain events"] = str(bus_events())
        own = call("GET", "/check-ins", now=later).body.decode() + call("GET", "/members/me/export", now=later).body.decode()
    finally:
        logger.setLevel(level)
    # Every record any function logged, with all its fields (the extras too), as the JSON formatter would see them.
    outputs["function logs"] = "\n".join(json.dumps(vars(record), default=str) for record in caplog.records)
    hits = sorted(name for name, text in outputs.items() if MARKER in text and not name.startswith(f"email to {ANN}"))
    kinds = sorted({name.split(" GET ")[0] if " GET " in name else name.split(":")[0] for name in outputs})
    print(f"\n[marker] {len(outputs)} outputs searched ({len(paths)} GET routes x 3 members + queries; {len(caplog.records)} log records)")
    print(f"[marker] kinds: {kinds}; hits: {len(hits)} {hits}")
    assert MARKER in own  # the search finds it where it belongs: Ann's own history and export
    assert any(name.startswith("email to") for name in outputs)
    assert any(name.startswith("text to") for name in outputs)
    assert "CheckInRecorded" in outputs["domain events"]
    assert len(caplog.records) > 50  # the API's line per request, the sweeps' and senders' lines
    assert hits == []
