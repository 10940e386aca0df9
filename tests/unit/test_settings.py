"""Settings are read once and checked: a bad deploy fails at cold start, naming the variable."""

from __future__ import annotations

import pytest

from shared.adapters.settings import Settings, SettingsError

BASE = {"TABLE_NAME": "peer-support-prod-Table", "EVENT_BUS_NAME": "peer-support-prod-domain"}


def test_defaults_and_values_from_the_environment() -> None:
    settings = Settings.from_env({**BASE, "DUE_SHARDS": "16", "PUBLIC_BASE_URL": "https://peer.example/", "AWS_REGION": "eu-central-1"})
    assert settings.due_shards == 16
    assert settings.public_base_url == "https://peer.example"
    assert settings.region == "eu-central-1"
    assert settings.stage == "dev"


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"EVENT_BUS_NAME": "b"}, "TABLE_NAME"),
        ({"TABLE_NAME": "table"}, "EVENT_BUS_NAME"),
        ({**BASE, "DUE_SHARDS": "0"}, "DUE_SHARDS"),
        ({**BASE, "DUE_SHARDS": "many"}, "DUE_SHARDS"),
    ],
)
def test_a_bad_setting_is_named(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        Settings.from_env(env)
