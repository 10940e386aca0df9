"""Cognito pre-token-generation trigger (V2): adds the verified email to access tokens."""

from __future__ import annotations

from typing import Any

from shared.adapters.identity import access_token_claims


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    claims = access_token_claims(event.get("request", {}).get("userAttributes", {}))
    if claims:
        details = event.setdefault("response", {}).setdefault("claimsAndScopeOverrideDetails", {}) or {}
        details.setdefault("accessTokenGeneration", {})["claimsToAddOrOverride"] = claims
        event["response"]["claimsAndScopeOverrideDetails"] = details
    return event
