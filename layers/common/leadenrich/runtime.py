"""Wiring for the Lambda handlers: the environment validated once, and services built lazily, cached.

Nothing is built at import time (a handler module's import is its cold start, and tests set the
environment per test); the first invocation builds the boto3 clients and services, later ones reuse them.
`reset()` drops the cache, for tests and the local stack.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from leadenrich.jobs.service import JobService
from leadenrich.jobs.window import DEFAULT_WINDOW
from leadenrich.settings_errors import SettingsError

if TYPE_CHECKING:  # the API Lambda never enriches: the engine is imported by the processor only
    from leadenrich.auth.keys import KeyStore
    from leadenrich.jobs.ports import JobStore
    from leadenrich.jobs.processor import Processor
    from leadenrich.supabase.wiring import SupabaseAdapters
    from leadenrich.webhooks.wiring import Webhooks


class RuntimeSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    table_name: str = Field(min_length=1)
    queue_url: str = Field(min_length=1)
    dead_letter_queue_url: str = Field(min_length=1)
    max_items_per_run: int = Field(default=50, ge=1, le=1000)
    processor_budget_seconds: float = Field(default=30.0, gt=5, le=840)
    processor_concurrency: int = Field(default=8, ge=1, le=64)
    queue_visibility_timeout: int = Field(default=90, ge=30, le=43_200)
    # In AWS the provider keys live in Secrets Manager; locally they come from the environment.
    provider_secret_arn: str | None = None
    # moto (tests, the local stack) cannot take concurrent DynamoDB transactions; AWS can.
    serialize_dynamodb_calls: bool = False
    # Where jobs and items live. Supabase needs SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY; the queue stays
    # SQS, and the cache and rate limiter stay in the DynamoDB table either way.
    job_store: Literal["dynamodb", "supabase"] = "dynamodb"
    # Leads a workspace may enqueue per UTC day (a 429 past it); 0 turns the quota off.
    daily_lead_quota: int = Field(default=50_000, ge=0)
    # Items of one job in the queue at a time (leadenrich.jobs.window); 0 enqueues every item at creation.
    queue_window: int = Field(default=DEFAULT_WINDOW, ge=0, le=10_000)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RuntimeSettings:
        env = os.environ if env is None else env
        names = {field: field.upper() for field in cls.model_fields}
        values = {field: env[var] for field, var in names.items() if env.get(var)}
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise SettingsError(
                f"{names.get(str(first['loc'][0]), first['loc'][0])}: {first['msg']}"
            ) from None


@functools.cache
def _aws() -> tuple[RuntimeSettings, Any, Any]:
    """The settings and the (dynamodb, sqs) clients, made once per process."""
    from leadenrich.aws.clients import runtime_clients

    settings = RuntimeSettings.from_env()
    dynamodb, sqs = runtime_clients(settings.processor_concurrency)
    return settings, dynamodb, sqs


def _job_store(settings: RuntimeSettings, dynamodb: Any) -> JobStore:
    """The store JOB_STORE names; its module is imported only when chosen."""
    if settings.job_store == "supabase":
        from leadenrich.supabase.client import SupabaseSettings
        from leadenrich.supabase.job_store import SupabaseJobStore

        supabase = SupabaseSettings.from_env(app_env())
        if supabase is None:
            raise SettingsError("SUPABASE_URL: required when JOB_STORE=supabase")
        return SupabaseJobStore(supabase)
    from leadenrich.aws.dynamo_store import DynamoJobStore

    return DynamoJobStore(settings.table_name, dynamodb, serialize_calls=settings.serialize_dynamodb_calls)


@functools.cache
def supabase() -> SupabaseAdapters | None:
    """Supabase as lead source, email sink and stats when SUPABASE_URL is set (whatever JOB_STORE says);
    None otherwise, and then nothing of `supabase` is imported."""
    from leadenrich.supabase.client import SupabaseSettings

    settings = SupabaseSettings.from_env(app_env())
    if settings is None:
        return None
    from leadenrich.supabase.wiring import SupabaseAdapters

    return SupabaseAdapters.for_settings(settings)


@functools.cache
def app_env() -> dict[str, str]:
    """The environment with APP_SECRET_ARN's values over it (the Supabase key, the webhook secrets), read
    once per process; locally, without the ARN, the environment alone."""
    from leadenrich.aws.secrets import secret_env

    return secret_env(os.environ.get("APP_SECRET_ARN") or None)


@functools.cache
def webhooks() -> Webhooks:
    """Inbound events (the webhook function) and outbound callbacks (the processor)."""
    from leadenrich.webhooks.wiring import Webhooks

    settings, dynamodb, _sqs = _aws()
    return Webhooks.build(settings.table_name, dynamodb, settings.serialize_dynamodb_calls, app_env())


@functools.cache
def job_service() -> JobService:
    from leadenrich.aws.dynamo_quota import DynamoLeadQuota
    from leadenrich.aws.sqs_queue import SqsWorkQueue

    settings, dynamodb, sqs = _aws()
    store = _job_store(settings, dynamodb)
    adapters = supabase()
    return JobService(
        store,
        SqsWorkQueue(settings.queue_url, settings.dead_letter_queue_url, sqs),
        leads=adapters.leads if adapters else None,
        lead_stats=adapters.stats if adapters else None,
        # In the DynamoDB table whatever JOB_STORE says, like the cache and the rate limiter.
        quota=DynamoLeadQuota(
            settings.table_name, dynamodb, serialize_calls=settings.serialize_dynamodb_calls
        ),
        daily_lead_quota=settings.daily_lead_quota,
        queue_window=settings.queue_window,
    )


@functools.cache
def key_store() -> KeyStore:
    """The API keys (the authorizer resolves them; `enrich keys` manages them)."""
    from leadenrich.aws.dynamo_keys import DynamoKeyStore

    settings, dynamodb, _sqs = _aws()
    return DynamoKeyStore(settings.table_name, dynamodb, serialize_calls=settings.serialize_dynamodb_calls)


@functools.cache
def processor() -> Processor:
    from leadenrich.aws.dynamo_cache import DynamoCache
    from leadenrich.aws.dynamo_limiter import DynamoRateLimiter
    from leadenrich.jobs.processor import Processor, ProcessorSettings
    from leadenrich.settings import EngineSettings, build_enricher

    settings, dynamodb, _sqs = _aws()
    service = job_service()
    serialize = settings.serialize_dynamodb_calls
    # Shared across invocations and processors: paid answers cached in the table, rate limits held there.
    env = dict(os.environ)
    if settings.provider_secret_arn:
        from leadenrich.aws.secrets import provider_keys

        env.update(provider_keys(settings.provider_secret_arn))
    engine = EngineSettings.from_env(env)
    enricher = build_enricher(
        engine,
        DynamoCache(settings.table_name, dynamodb, serialize_calls=serialize),
        DynamoRateLimiter(settings.table_name, dynamodb, engine.limits, serialize_calls=serialize),
    )
    return Processor(
        service.store,
        service.queue,
        enricher,
        ProcessorSettings(
            max_items=settings.max_items_per_run,
            budget_seconds=settings.processor_budget_seconds,
            concurrency=settings.processor_concurrency,
            visibility_timeout=settings.queue_visibility_timeout,
        ),
        emails=adapters.emails if (adapters := supabase()) else None,
        callbacks=webhooks().dispatcher,
    )


def reset() -> None:
    _aws.cache_clear()
    app_env.cache_clear()
    webhooks.cache_clear()
    supabase.cache_clear()
    job_service.cache_clear()
    key_store.cache_clear()
    processor.cache_clear()
