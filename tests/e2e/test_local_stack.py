"""The local stack as a newcomer meets it: tokens, 401s, docs, the clock, the outbox."""

from __future__ import annotations

import email
import email.policy
import http.client
import json
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import boto3
import pytest
from botocore.config import Config

from infra.cfn import ROOT
from infra.local.stack import STACK_NAME
from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e


def test_without_a_token_the_gateway_answers_401(stack: Stack) -> None:
    reply = stack.request("GET", "/members/me")
    assert reply.status == 401
    assert reply.json() == {"message": "Unauthorized"}


def test_an_expired_token_is_401(stack: Stack) -> None:
    assert stack.request("GET", "/members/me", token=stack.token("ann@example.org", ttl_seconds=-10)).status == 401


def test_with_a_token_the_api_answers(stack: Stack) -> None:
    reply = stack.request("GET", "/members/me", token=stack.token("ann@example.org"))
    assert reply.status == 404
    assert reply.headers["content-type"] == "application/problem+json"
    assert reply.json()["status"] == 404


def test_token_without_the_scope_is_403(stack: Stack) -> None:
    reply = stack.request("GET", "/members/me", token=stack.token("ann@example.org", scopes=[]))
    assert reply.status == 403


def test_openapi_and_docs_need_no_token(stack: Stack) -> None:
    spec = stack.request("GET", "/openapi.json")
    assert spec.status == 200
    assert "/members/me" in spec.json()["paths"]
    docs = stack.request("GET", "/docs")
    assert docs.status == 200
    assert docs.headers["content-type"].startswith("text/html")


def test_wrong_method_is_405_with_allow_through_http(stack: Stack) -> None:
    reply = stack.request("DELETE", "/openapi.json")
    # DELETE /openapi.json is no public route: the greedy protected route takes it, so the gateway wants a token first.
    assert reply.status == 401
    reply = stack.request("PATCH", "/members/me", token=stack.token("ann@example.org"), body={})
    assert reply.status == 405
    assert "GET" in reply.headers["allow"]


def test_local_clock_can_be_set_and_reset(stack: Stack) -> None:
    reply = stack.request("PUT", "/_local/clock", body={"now": "2026-12-08T09:00:00Z"})
    assert reply.json() == {"now": "2026-12-08T09:00:00Z", "fixed": True}
    assert stack.request("GET", "/_local/clock").json()["now"] == "2026-12-08T09:00:00Z"
    assert stack.request("PUT", "/_local/clock", body={"now": "next tuesday"}).status == 400
    assert stack.request("DELETE", "/_local/clock").json()["fixed"] is False


def test_outbox_shows_what_was_sent_through_ses_and_sms(stack: Stack) -> None:
    moto = stack.request("GET", "/_local/health").json()["moto"]
    kwargs = {"region_name": "eu-west-1", "endpoint_url": moto, "aws_access_key_id": "x", "aws_secret_access_key": "x"}
    boto3.client("ses", **kwargs).verify_email_identity(EmailAddress="nudges@example.org")
    boto3.client("sesv2", **kwargs).send_email(
        FromEmailAddress="nudges@example.org",
        Destination={"ToAddresses": ["ann@example.org"]},
        Content={"Simple": {"Subject": {"Data": "Time to catch up"}, "Body": {"Text": {"Data": "Hello"}}}},
    )
    boto3.client("sns", **kwargs).publish(PhoneNumber="+353851234567", Message="Did you talk with Jennifer today?")
    messages = stack.request("GET", "/_local/outbox").json()["messages"]
    email = next(m for m in messages if m["channel"] == "email" and m["subject"] == "Time to catch up")
    assert email["to"] == ["ann@example.org"]
    assert any(m == {**m, "channel": "sms", "to": "+353851234567", "text": "Did you talk with Jennifer today?"} for m in messages)


def test_invoking_a_function_without_a_schedule_says_so(stack: Stack) -> None:
    reply = stack.request("POST", "/_local/invoke/Api", body={})
    assert reply.status == 400
    assert "no schedule" in reply.json()["detail"]
    assert stack.request("POST", "/_local/invoke/Nope", body={}).status == 400


def test_make_token_prints_the_token_alone_on_its_last_line(stack: Stack) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "infra.local.token", "bob@example.org", "--state-dir", str(stack.state_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    token = out.strip().splitlines()[-1]
    assert token.count(".") == 2
    assert " " not in token
    assert stack.request("GET", "/members/me", token=token).status == 404


def test_make_invoke_explains_what_went_wrong(stack: Stack) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "infra.local.invoke", "ApiFunction", "--url", stack.url, "--at", "2026-12-08T09:00:00Z"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 1
    assert "no schedule" in out.stderr
    down = subprocess.run(
        [sys.executable, "-m", "infra.local.invoke", "ApiFunction", "--url", "http://127.0.0.1:9"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert down.returncode == 1
    assert "make run" in down.stderr


def _raw_http(stack: Stack, method: str, path: str) -> tuple[int, str, bytes]:
    host, port = stack.url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.request(method, path)
        resp = conn.getresponse()
        return resp.status, resp.getheader("content-type") or "", resp.read()
    finally:
        conn.close()


@pytest.mark.parametrize("method", ["TRACE", "PROPFIND", "BREW", "CONNECT", "get"])
def test_a_method_no_route_can_name_is_a_json_404_from_the_gateway(stack: Stack, method: str) -> None:
    for path in ("/members/me", "/openapi.json", "/no/such/path"):
        status, content_type, body = _raw_http(stack, method, path)
        assert (status, content_type, json.loads(body)) == (404, "application/json", {"message": "Not Found"})
    status, content_type, body = _raw_http(stack, method, "/_local/outbox")
    assert status == 404
    assert content_type == "application/json"
    assert json.loads(body)["status"] == 404


def test_what_http_server_itself_refuses_is_json_too(stack: Stack) -> None:
    host, port = stack.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(b"THIS IS NOT HTTP\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400")
    assert b"content-type: application/json" in head.lower()
    assert json.loads(body)["message"].startswith("Bad request")


def _moto_clients(stack: Stack) -> dict[str, Any]:
    moto = stack.request("GET", "/_local/health").json()["moto"]
    kwargs = {"region_name": "eu-west-1", "endpoint_url": moto, "aws_access_key_id": "x", "aws_secret_access_key": "x"}
    kwargs["config"] = Config(retries={"max_attempts": 1})  # an error shows, it is not retried away
    return {service: boto3.client(service, **kwargs) for service in ("ses", "sesv2", "sns", "dynamodb")}


def test_the_outbox_lists_oldest_first_on_the_stack_clock_and_serves_each_email(stack: Stack) -> None:
    clients = _moto_clients(stack)
    clients["ses"].verify_email_identity(EmailAddress="nudges@example.org")
    mime = EmailMessage()
    mime["From"], mime["To"], mime["Subject"] = "nudges@example.org", "ann@example.org", "Time to catch up with Bob?"
    mime.set_content("Hello Ann")
    mime.add_alternative("<p>Hello <b>Ann</b></p>", subtype="html")

    def at(instant: str) -> None:
        assert stack.request("PUT", "/_local/clock", body={"now": instant}).status == 200

    try:
        at("2031-01-07T09:10:00Z")
        text = clients["sns"].publish(PhoneNumber="+353851234567", Message="Did you talk with Bob today?")["MessageId"]
        at("2031-01-07T09:00:00Z")  # set back: what is sent now was sent before the text
        raw = clients["sesv2"].send_email(
            FromEmailAddress="nudges@example.org",
            Destination={"ToAddresses": ["ann@example.org"]},
            Content={"Raw": {"Data": mime.as_bytes()}},
        )["MessageId"]
        at("2031-01-07T09:05:00Z")
        simple = clients["sesv2"].send_email(
            FromEmailAddress="nudges@example.org",
            Destination={"ToAddresses": ["bob@example.org"]},
            Content={"Simple": {"Subject": {"Data": "Ann is away"}, "Body": {"Text": {"Data": "Back on Monday"}}}},
        )["MessageId"]
    finally:
        stack.request("DELETE", "/_local/clock")
    messages = stack.request("GET", "/_local/outbox").json()["messages"]
    ours = [m for m in messages if m["id"] in {text, raw, simple}]
    assert [(m["id"], m["sent_at"]) for m in ours] == [
        (raw, "2031-01-07T09:00:00Z"),
        (simple, "2031-01-07T09:05:00Z"),
        (text, "2031-01-07T09:10:00Z"),
    ]
    instants = [datetime.fromisoformat(m["sent_at"].replace("Z", "+00:00")) for m in messages]
    assert instants == sorted(instants)

    page = stack.request("GET", ours[0]["html_url"].removeprefix(stack.url))
    assert page.status == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.body.decode() == "<p>Hello <b>Ann</b></p>\n"
    eml = stack.request("GET", f"/_local/outbox/{raw}.eml")
    assert eml.status == 200
    assert eml.headers["content-type"] == "message/rfc822"
    assert email.message_from_bytes(eml.body, policy=email.policy.default)["subject"] == "Time to catch up with Bob?"
    rebuilt = email.message_from_bytes(stack.request("GET", f"/_local/outbox/{simple}.eml").body, policy=email.policy.default)
    assert rebuilt.get_content().strip() == "Back on Monday"
    for missing in (f"{simple}.html", f"{text}.html", f"{text}.eml", "nope.eml", f"{raw}.txt"):
        reply = stack.request("GET", f"/_local/outbox/{missing}")
        assert reply.status == 404, missing
        assert reply.headers["content-type"] == "application/json"


def test_concurrent_writes_into_moto_all_land(stack: Stack) -> None:
    """moto raised `dictionary changed size during iteration` (a 500) when TransactWriteItems, copying the
    table, met a write that added a partition: so here puts add partitions while transactions run."""
    ddb = _moto_clients(stack)["dynamodb"]
    table = f"{STACK_NAME}-table"
    keys = [{"pk": {"S": f"LOCALTEST#fill#{n}"}, "sk": {"S": "x"}} for n in range(400)]  # a table worth copying
    for start in range(0, len(keys), 25):
        ddb.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": key}} for key in keys[start : start + 25]]})
    errors: list[str] = []

    def writer(n: int) -> None:
        for i in range(8):
            try:
                if n % 4:  # six threads add partitions, two write transactions
                    ddb.put_item(TableName=table, Item={"pk": {"S": f"LOCALTEST#put#{n}#{i}"}, "sk": {"S": "x"}})
                else:
                    items = [{"pk": {"S": f"LOCALTEST#tx#{n}#{i}#{k}"}, "sk": {"S": "x"}} for k in range(3)]
                    ddb.transact_write_items(TransactItems=[{"Put": {"TableName": table, "Item": item}} for item in items])
            except Exception as exc:  # every failure is the finding
                errors.append(repr(exc)[:300])

    _all_at_once(writer, 8)
    assert errors == []
    written = [{"pk": {"S": f"LOCALTEST#put#{n}#{i}"}, "sk": {"S": "x"}} for n in range(8) if n % 4 for i in range(8)]
    written += [{"pk": {"S": f"LOCALTEST#tx#{n}#{i}#{k}"}, "sk": {"S": "x"}} for n in (0, 4) for i in range(8) for k in range(3)]
    for start in range(0, len(written), 100):
        found = ddb.batch_get_item(RequestItems={table: {"Keys": written[start : start + 100]}})["Responses"][table]
        assert len(found) == len(written[start : start + 100])
    keys += written
    for start in range(0, len(keys), 25):  # leave the shared table as the other tests expect it
        ddb.batch_write_item(RequestItems={table: [{"DeleteRequest": {"Key": key}} for key in keys[start : start + 25]]})


def test_concurrent_requests_through_the_api_never_get_a_5xx(stack: Stack) -> None:
    """New members sign up (new partitions) while the two parties of a pact record check-ins (transactions)."""
    parties = [stack.token(f"hammer.party{n}@example.org") for n in range(2)]
    began = datetime(2031, 3, 3, 9, 0, tzinfo=UTC)
    statuses: list[int] = []
    profile = {"display_name": "Hammer", "time_zone": "Europe/Dublin"}

    def member(n: int) -> None:
        for i in range(6):
            if n < 2:  # one transaction each: the check-in, both timelines, both views
                occurred = (began + timedelta(minutes=10 * n + i + 1)).isoformat()
                reply = stack.request("POST", f"/pacts/{pact}/check-ins", token=parties[n], body={"occurred_at": occurred})
            else:
                reply = stack.request("PUT", "/members/me", token=stack.token(f"hammer{n}.{i}@example.org"), body=profile)
            statuses.append(reply.status)

    try:
        stack.request("PUT", "/_local/clock", body={"now": began.isoformat()})
        for token in parties:
            assert stack.request("PUT", "/members/me", token=token, body=profile).status == 200
        created = stack.request("POST", "/pacts", token=parties[0], body={"colleague": {"email": "hammer.party1@example.org"}})
        assert created.status == 201, created.body
        pact = created.json()["id"]
        assert stack.request("POST", f"/pacts/{pact}/accept", token=parties[1]).status == 200
        stack.request("PUT", "/_local/clock", body={"now": (began + timedelta(hours=1)).isoformat()})
        _all_at_once(member, 8)
    finally:
        stack.request("DELETE", "/_local/clock")
    assert len(statuses) == 48
    assert [s for s in statuses if s >= 500] == []
    assert statuses.count(201) == 12  # every check-in landed
    assert statuses.count(200) == 36  # every new member too


def _all_at_once(work: Callable[[int], None], threads: int) -> None:
    started = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for t in started:
        t.start()
    for t in started:
        t.join()
