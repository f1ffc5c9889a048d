"""Environment validation and the deadline."""

from __future__ import annotations

import time

import pytest

from leadenrich.deadline import Deadline
from leadenrich.engine.cache import InMemoryCache
from leadenrich.engine.providers.outcomes import DeadlineReached
from leadenrich.engine.ratelimit import LIMITS, Limit
from leadenrich.engine.settings import EngineSettings, build_enricher
from leadenrich.settings_errors import SettingsError


def test_defaults_are_the_public_providers() -> None:
    settings = EngineSettings.from_env({})
    assert settings.hunter_api_base_url == "https://api.hunter.io/v2"
    assert settings.perplexity_api_base_url == "https://api.perplexity.ai"
    assert not settings.has_provider_keys


def test_a_bad_variable_is_named_and_the_secret_never_shown() -> None:
    with pytest.raises(SettingsError, match="HUNTER_API_BASE_URL"):
        EngineSettings.from_env({"HUNTER_API_BASE_URL": "ftp://x", "HUNTER_API_KEY": "hk-123"})
    settings = EngineSettings.from_env({"HUNTER_API_KEY": "hk-123"})
    assert "hk-123" not in repr(settings) and "hk-123" not in str(settings.model_dump())


def test_build_needs_a_hunter_key_and_perplexity_is_optional() -> None:
    with pytest.raises(SettingsError, match="HUNTER_API_KEY"):
        build_enricher(EngineSettings.from_env({}))
    enricher = build_enricher(
        EngineSettings.from_env({"HUNTER_API_KEY": "k", "HUNTER_VERIFICATION_CREDIT": "0.5"})
    )
    assert enricher.perplexity is None
    assert enricher.settings.verification_credit == 0.5


def test_deadline_bounds_timeouts_and_refuses_when_spent() -> None:
    deadline = Deadline.after(2.0)
    assert 1.5 < deadline.timeout(30) <= 2.0
    assert deadline.timeout(1.0) == 1.0
    assert Deadline.unbounded().timeout(30) == 30
    spent = Deadline(time.monotonic() - 1)
    with pytest.raises(DeadlineReached):
        spent.timeout(30)


def test_the_cache_given_is_the_cache_used_even_when_empty() -> None:
    shared = InMemoryCache()
    enricher = build_enricher(EngineSettings.from_env({"HUNTER_API_KEY": "k"}), shared)
    assert enricher.cache.port is shared


def test_rate_limits_override_the_default_paces_per_key() -> None:
    settings = EngineSettings.from_env(
        {"RATE_LIMITS": " perplexity.responses=2/150 , hunter.email_verifier=5/200"}
    )
    assert settings.limits["perplexity.responses"] == Limit(2, 150)
    assert settings.limits["hunter.email_verifier"] == Limit(5, 200)
    assert settings.limits["hunter.domain_search"] == LIMITS["hunter.domain_search"]  # untouched
    assert EngineSettings.from_env({}).limits == LIMITS


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ("perplexity.chat=1/50", "unknown key 'perplexity.chat'"),
        ("perplexity.responses=fast", "perplexity.responses: expected"),
        ("perplexity.responses=0/50", "both rates must be at least 1"),
    ],
)
def test_a_bad_rate_limit_names_the_variable_and_the_entry(value: str, named: str) -> None:
    with pytest.raises(SettingsError, match=r"^RATE_LIMITS: ") as raised:
        EngineSettings.from_env({"RATE_LIMITS": value})
    assert named in str(raised.value)
