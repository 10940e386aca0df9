"""What a Cognito access token must carry for this API, beyond what Cognito puts there itself."""

from __future__ import annotations

from typing import Any


def access_token_claims(user_attributes: dict[str, Any]) -> dict[str, str]:
    """The verified email, which access tokens lack by default and `PUT /members/me` needs.

    An unverified address is left out: the API takes no email it cannot trust.
    """
    email = str(user_attributes.get("email") or "").strip().lower()
    if not email or str(user_attributes.get("email_verified", "")).lower() != "true":
        return {}
    return {"email": email, "email_verified": "true"}
