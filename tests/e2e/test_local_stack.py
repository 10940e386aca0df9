"""The local stack as a newcomer meets it: tokens, 401s, docs, the clock, the outbox."""

from __future__ import annotations

import subprocess
import sys

import boto3
import pytest

from infra.cfn import ROOT
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
