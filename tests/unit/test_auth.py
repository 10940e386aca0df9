"""The local authorizer checks what API Gateway's JWT authorizer checks."""

from __future__ import annotations

import time
from pathlib import Path

import jwt
import pytest

from infra.local import auth

SCOPES = ("peer-support/api",)


@pytest.fixture
def authorizer(tmp_path: Path) -> auth.Authorizer:
    return auth.Authorizer(tmp_path)


def test_valid_token_yields_its_claims(tmp_path: Path, authorizer: auth.Authorizer) -> None:
    token = auth.mint_token(tmp_path, "Ann@Example.org")
    claims = authorizer.verify(f"Bearer {token}", SCOPES)
    assert claims["sub"] == auth.member_sub("ann@example.org")
    assert claims["email"] == "ann@example.org"
    assert claims["client_id"] == authorizer.settings.audience[0]
    assert "peer-support/api" in claims["scope"].split()
    # API Gateway also accepts the bare token, without "Bearer ".
    assert authorizer.verify(token, SCOPES)["sub"] == claims["sub"]


def test_the_key_is_kept_private_on_disk(tmp_path: Path) -> None:
    auth.mint_token(tmp_path, "a@example.org")
    assert (tmp_path / auth.KEY_FILE).stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer not.a.jwt", "Basic dXNlcjpwYXNz"])
def test_missing_or_garbage_token_is_401(authorizer: auth.Authorizer, header: str | None) -> None:
    with pytest.raises(auth.AuthError) as err:
        authorizer.verify(header, SCOPES)
    assert err.value.status == 401


def test_expired_token_is_401(tmp_path: Path, authorizer: auth.Authorizer) -> None:
    token = auth.mint_token(tmp_path, "a@example.org", ttl_seconds=60, now=time.time() - 120)
    with pytest.raises(auth.AuthError) as err:
        authorizer.verify(token, SCOPES)
    assert err.value.status == 401


def _forge(tmp_path: Path, **changes: object) -> str:
    claims = jwt.decode(auth.mint_token(tmp_path, "a@example.org"), options={"verify_signature": False})
    claims.update(changes)
    key = auth._private_key(tmp_path)
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, key, algorithm="RS256")


def test_wrong_issuer_or_audience_is_401(tmp_path: Path, authorizer: auth.Authorizer) -> None:
    for token in (_forge(tmp_path, iss="https://evil.example"), _forge(tmp_path, client_id="another-app")):
        with pytest.raises(auth.AuthError) as err:
            authorizer.verify(token, SCOPES)
        assert err.value.status == 401


def test_a_token_minted_for_another_client_is_401(tmp_path: Path, authorizer: auth.Authorizer) -> None:
    with pytest.raises(auth.AuthError) as err:
        authorizer.verify(auth.mint_token(tmp_path, "a@example.org", client_id="another-app-client"), SCOPES)
    assert err.value.status == 401


def test_id_token_style_aud_is_accepted_when_it_matches(tmp_path: Path, authorizer: auth.Authorizer) -> None:
    token = _forge(tmp_path, client_id=None, aud=authorizer.settings.audience[0])
    assert authorizer.verify(token, SCOPES)["aud"] == authorizer.settings.audience[0]


def test_token_signed_by_another_key_is_401(tmp_path: Path, authorizer: auth.Authorizer) -> None:
    other = auth.mint_token(tmp_path / "elsewhere", "a@example.org")
    with pytest.raises(auth.AuthError) as err:
        authorizer.verify(other, SCOPES)
    assert err.value.status == 401


def test_token_without_the_route_scope_is_403(tmp_path: Path, authorizer: auth.Authorizer) -> None:
    token = auth.mint_token(tmp_path, "a@example.org", scopes=[])
    with pytest.raises(auth.AuthError) as err:
        authorizer.verify(token, SCOPES)
    assert err.value.status == 403
    # A public route asks for no scope.
    assert authorizer.verify(token, ())["sub"]


def test_same_email_same_member() -> None:
    assert auth.member_sub(" Ann@example.org") == auth.member_sub("ann@example.org") != auth.member_sub("bob@example.org")
