"""The local stand-in for Cognito and the API Gateway JWT authorizer.

A signing key lives in the state folder (.local/ by default, never committed);
`make token` signs with it, the local HTTP API verifies with it exactly what the
authorizer verifies: signature, issuer, audience (`aud`, or `client_id` as in
Cognito access tokens), expiry, and that the token has one of the route's scopes.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from infra import cfn

KEY_FILE = "jwt-signing-key.pem"
LOCAL_NAMES = {"UserPool": "eu-west-1_LocalPool", "UserPoolClient": "local-app-client"}


@dataclass(frozen=True)
class JwtSettings:
    issuer: str
    audience: tuple[str, ...]

    @classmethod
    def from_template(cls) -> JwtSettings:
        conf = cfn.Resolver(LOCAL_NAMES).resolve(cfn.jwt_configuration())
        return cls(issuer=conf["issuer"], audience=tuple(conf["audience"]))


def _private_key(state_dir: Path) -> rsa.RSAPrivateKey:
    path = state_dir / KEY_FILE
    if not path.exists():
        state_dir.mkdir(parents=True, exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(pem)
        tmp.chmod(0o600)
        tmp.replace(path)
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    assert isinstance(loaded, rsa.RSAPrivateKey)
    return loaded


def member_sub(email: str) -> str:
    """The same email always signs in as the same member locally (Cognito gives each user one `sub`)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"mailto:{email.strip().lower()}"))


def required_scopes() -> list[str]:
    return sorted({s for route in cfn.http_routes() if route.scopes for s in route.scopes})


def mint_token(
    state_dir: Path,
    email: str,
    *,
    ttl_seconds: int = 8 * 3600,
    scopes: list[str] | None = None,
    now: float | None = None,
    client_id: str | None = None,
) -> str:
    """A Cognito-shaped access token (`client_id`, `scope`, `token_use`), plus the verified email.

    A negative `ttl_seconds` gives an expired token; `client_id` another app client's (the wrong audience);
    another `state_dir` a token signed with another key.
    """
    settings = JwtSettings.from_template()
    issued = int(now if now is not None else time.time())
    claims = {
        "sub": member_sub(email),
        "iss": settings.issuer,
        "client_id": settings.audience[0] if client_id is None else client_id,
        "token_use": "access",
        "scope": " ".join(["openid", "email", *(required_scopes() if scopes is None else scopes)]),
        "email": email.strip().lower(),
        "email_verified": True,
        "iat": issued,
        "exp": issued + ttl_seconds,
        "jti": str(uuid.uuid4()),
    }
    return jwt.encode(claims, _private_key(state_dir), algorithm="RS256", headers={"kid": "local"})


class AuthError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class Authorizer:
    def __init__(self, state_dir: Path):
        self.settings = JwtSettings.from_template()
        self.public_key = _private_key(state_dir).public_key()

    def verify(self, authorization: str | None, scopes: tuple[str, ...]) -> dict[str, Any]:
        """The claims of a valid token, or AuthError(401) / AuthError(403) as API Gateway answers."""
        if not authorization:
            raise AuthError(401, "Unauthorized")
        token = authorization[7:] if authorization[:7].lower() == "bearer " else authorization
        try:
            claims: dict[str, Any] = jwt.decode(
                token.strip(),
                self.public_key,
                algorithms=["RS256"],
                issuer=self.settings.issuer,
                options={"require": ["exp", "iss", "sub"], "verify_aud": False},
                leeway=0,
            )
        except jwt.PyJWTError as exc:
            raise AuthError(401, "Unauthorized") from exc
        audience = claims.get("aud", claims.get("client_id"))
        audiences = audience if isinstance(audience, list) else [audience]
        if not set(audiences) & set(self.settings.audience):
            raise AuthError(401, "Unauthorized")
        granted = set(str(claims.get("scope", "")).split())
        if scopes and not granted & set(scopes):
            raise AuthError(403, "Forbidden")
        return claims
