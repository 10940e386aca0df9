"""The pre-token-generation trigger puts the verified email on access tokens (the API's profile needs it)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from infra.lambdas import invoke

EVENT = json.loads((Path(__file__).parent.parent / "events" / "cognito_pre_token_generation_v2.json").read_text())


def test_verified_email_is_added_to_the_access_token() -> None:
    result = invoke("TokenClaimsFunction", copy.deepcopy(EVENT))
    claims = result["response"]["claimsAndScopeOverrideDetails"]["accessTokenGeneration"]["claimsToAddOrOverride"]
    assert claims == {"email": "ann@example.org", "email_verified": "true"}
    assert result["request"] == EVENT["request"]


def test_an_unverified_email_is_not_added() -> None:
    event = copy.deepcopy(EVENT)
    event["request"]["userAttributes"]["email_verified"] = "false"
    assert invoke("TokenClaimsFunction", event)["response"]["claimsAndScopeOverrideDetails"] is None
