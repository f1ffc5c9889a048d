"""The engine's environment, validated once, and the factory that wires clients, cache and waterfall."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from leadenrich.engine.cache import CachePort, InMemoryCache, ResultCache
from leadenrich.engine.company.steps import CompanySettings
from leadenrich.engine.providers import hunter, perplexity
from leadenrich.engine.providers.hunter_company import HunterCompanyClient
from leadenrich.engine.ratelimit import Limit, LocalRateLimiter, RateLimiter, parse_limits
from leadenrich.engine.waterfall import Enricher, WaterfallSettings
from leadenrich.settings_errors import SettingsError


class EngineSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    hunter_api_key: SecretStr | None = None
    perplexity_api_key: SecretStr | None = None
    hunter_api_base_url: str = hunter.DEFAULT_BASE_URL
    perplexity_api_base_url: str = perplexity.DEFAULT_BASE_URL
    # Credits per billed verification: 1 on Hunter's Data-Platform plans, 0.5 on All-in-one plans.
    hunter_verification_credit: float = Field(default=1.0, ge=0, le=1)
    # Credits per company found by `/companies/find`: 1 on Data-Platform plans, 0.2 on All-in-one plans.
    hunter_enrichment_credit: float = Field(default=1.0, ge=0, le=1)
    # Company data older than this many days is fetched again (docs/company-data.md; seed 002: 90).
    company_data_max_age_days: int = Field(default=90, ge=1, le=3650)
    # Paces for the rate limiter, overriding `ratelimit.LIMITS` per key (see `parse_limits`).
    rate_limits: str = ""

    @field_validator("rate_limits")
    @classmethod
    def _rate_limits(cls, value: str) -> str:
        parse_limits(value)
        return value

    @property
    def limits(self) -> Mapping[str, Limit]:
        return parse_limits(self.rate_limits)

    @field_validator("hunter_api_base_url", "perplexity_api_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must start with https:// or http://")
        return value.rstrip("/")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> EngineSettings:
        env = os.environ if env is None else env
        names = {
            "hunter_api_key": "HUNTER_API_KEY",
            "perplexity_api_key": "PERPLEXITY_API_KEY",
            "hunter_api_base_url": "HUNTER_API_BASE_URL",
            "perplexity_api_base_url": "PERPLEXITY_API_BASE_URL",
            "hunter_verification_credit": "HUNTER_VERIFICATION_CREDIT",
            "hunter_enrichment_credit": "HUNTER_ENRICHMENT_CREDIT",
            "company_data_max_age_days": "COMPANY_DATA_MAX_AGE_DAYS",
            "rate_limits": "RATE_LIMITS",
        }
        values = {field: env[var] for field, var in names.items() if env.get(var)}
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            first = exc.errors()[0]
            var = names.get(str(first["loc"][0]), str(first["loc"][0]))
            raise SettingsError(f"{var}: {first['msg']}") from None

    @property
    def has_provider_keys(self) -> bool:
        return self.hunter_api_key is not None


def build_enricher(
    settings: EngineSettings, cache: CachePort | None = None, limiter: RateLimiter | None = None
) -> Enricher:
    """An Enricher on the configured providers; Perplexity is optional (the waterfall skips its step).

    Without a limiter given, calls are paced in-process below the providers' published limits.
    """
    if settings.hunter_api_key is None:
        raise SettingsError("HUNTER_API_KEY: required to enrich (or use the provider simulator)")
    hunter_client = HunterCompanyClient(
        settings.hunter_api_key.get_secret_value(),
        base_url=settings.hunter_api_base_url,
        credit=settings.hunter_enrichment_credit,
    )
    perplexity_client = (
        perplexity.PerplexityClient(
            settings.perplexity_api_key.get_secret_value(), base_url=settings.perplexity_api_base_url
        )
        if settings.perplexity_api_key
        else None
    )
    return Enricher(
        hunter_client,
        perplexity_client,
        ResultCache(cache if cache is not None else InMemoryCache()),
        WaterfallSettings(verification_credit=settings.hunter_verification_credit),
        limiter=limiter if limiter is not None else LocalRateLimiter(settings.limits),
        companies=hunter_client,
        directory=hunter_client,
        company_settings=CompanySettings(max_age=timedelta(days=settings.company_data_max_age_days)),
    )
