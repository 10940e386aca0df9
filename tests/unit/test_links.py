"""Link secrets: 128 random bits, only their hash stored, expiry set at creation, bad tokens refused early."""

from __future__ import annotations

import hashlib
import string
from datetime import UTC, datetime, timedelta

import pytest

from shared.links.tokens import LINK_LIFETIME, UNSUBSCRIBE_LIFETIME, LinkProblem, look_up, new_link, nonce, token_hash

NOW = datetime(2026, 12, 8, 9, 5, tzinfo=UTC)


def test_a_token_is_22_url_safe_characters_and_only_its_hash_is_kept() -> None:
    token, item = new_link("member-1", "check_in", NOW, "p_abc")
    assert len(token) == 22
    assert set(token) <= set(string.ascii_letters + string.digits + "-_")
    assert item.pk == f"LINK#{hashlib.sha256(token.encode()).hexdigest()}"
    assert token not in str(item.serialize())
    assert item.member_sub == "member-1"
    assert item.pact_id == "p_abc"
    assert item.action == "check_in"


def test_tokens_do_not_repeat() -> None:
    assert len({new_link("m", "check_in", NOW)[0] for _ in range(1000)}) == 1000


@pytest.mark.parametrize(
    ("action", "lifetime"), [("check_in", LINK_LIFETIME), ("snooze", LINK_LIFETIME), ("unsubscribe", UNSUBSCRIBE_LIFETIME)]
)
def test_expiry_is_fixed_when_the_link_is_made_and_ttl_follows_it(action: str, lifetime: timedelta) -> None:
    _, item = new_link("m", action, NOW)
    assert item.valid_until == NOW + lifetime
    assert item.expires_at is not None
    assert item.expires_at > item.valid_until  # TTL deletes late; expiry is checked on valid_until


@pytest.mark.parametrize(
    "token", ["", "short", "x" * 65, "has space in it 1234", "ünïcödé-token-123456", "../../etc/passwd-xxxxx", "a%2Fb" * 5]
)
def test_malformed_tokens_are_unknown_without_touching_the_table(token: str) -> None:
    # Unit tests run with sockets off: reaching DynamoDB would fail loudly here.
    with pytest.raises(LinkProblem) as problem:
        look_up(token, NOW)
    assert problem.value.kind == "unknown"


def test_the_form_nonce_is_stable_per_link_and_differs_between_links() -> None:
    _, one = new_link("m", "check_in", NOW)
    _, two = new_link("m", "check_in", NOW)
    assert nonce(one) == nonce(one)
    assert nonce(one) != nonce(two)
    assert len(nonce(one)) == 24


def test_token_hash_is_sha256_hex() -> None:
    assert token_hash("abc") == hashlib.sha256(b"abc").hexdigest()
