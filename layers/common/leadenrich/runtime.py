"""Wiring for the Lambda handlers: the environment validated once, and services built lazily, cached.

Nothing is built at import time (a handler module's import is its cold start, and tests set the
environment per test); the first invocation builds the boto3 clients and services, later ones reuse them.
`reset()` drops the cache, for tests and the local stack.

Two backends run the same handlers: `aws` (deployed, and moto in tests: DynamoDB, SQS) and `embedded`
(the local stack: one SQLite file, `STATE_DB`, holds jobs, the work queue, the cache, the rate limiter's
state, keys, quotas, the spend ledger and webhook records; no AWS library is imported). Supabase, when
configured, is the lead source and email sink with either.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from leadenrich.jobs.models import Band, Job, WebhookEvent
from leadenrich.jobs.service import JobService
from leadenrich.jobs.window import DEFAULT_WINDOW
from leadenrich.settings_errors import SettingsError, require_together, settings_from_env

if TYPE_CHECKING:  # the engine is imported on first use: the processor's, the buffer's (`runtime_serving`)
    from leadenrich.auth.keys import KeyStore
    from leadenrich.auth.quota import LeadQuota
    from leadenrich.auth.request_rate import WorkspaceRequestRate
    from leadenrich.aws.sqs_queue import SqsWorkQueue
    from leadenrich.buffer.person import PersonLookup
    from leadenrich.buffer.ports import LeadBuffer
    from leadenrich.buffer.service import BufferService
    from leadenrich.engine.cache import CachePort
    from leadenrich.engine.ratelimit import Limit, RateLimiter
    from leadenrich.health import HealthService
    from leadenrich.jobs.ports import JobStore, WorkQueue
    from leadenrich.jobs.processor import Processor
    from leadenrich.sqlite.db import Database
    from leadenrich.supabase.wiring import SupabaseAdapters
    from leadenrich.uploads.loader import DailyQuota
    from leadenrich.webhooks.wiring import Webhooks


class RuntimeSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    backend: Literal["aws", "embedded"] = "aws"
    # aws: the DynamoDB table and the SQS queues (required); embedded: the SQLite file (required).
    table_name: str | None = Field(default=None, min_length=1)
    # The normal band's queue and DLQ (priority 3), and the only queue of a stack without bands.
    queue_url: str | None = Field(default=None, min_length=1)
    dead_letter_queue_url: str | None = Field(default=None, min_length=1)
    # The other bands' queues (leadenrich.jobs.priorities), each with its DLQ or not at all. A band left
    # out shares the normal queue: with none of them, priorities do not change the order.
    high_priority_queue_url: str | None = Field(default=None, min_length=1)
    high_priority_dead_letter_queue_url: str | None = Field(default=None, min_length=1)
    low_priority_queue_url: str | None = Field(default=None, min_length=1)
    low_priority_dead_letter_queue_url: str | None = Field(default=None, min_length=1)
    state_db: str | None = Field(default=None, min_length=1)
    max_items_per_run: int = Field(default=50, ge=1, le=1000)
    processor_budget_seconds: float = Field(default=30.0, gt=5, le=840)
    processor_concurrency: int = Field(default=8, ge=1, le=64)
    # The end of each run's budget kept for progress callbacks (leadenrich.jobs.processor_callbacks).
    processor_callback_seconds: float = Field(default=3.0, ge=0, le=10)
    queue_visibility_timeout: int = Field(default=90, ge=30, le=43_200)
    # The deferred items' backoff ceiling at the first attempt (`leadenrich.jobs.retry`); tests of the local
    # stack lower it so a deferral they wait out in real time is seconds, not half a minute.
    processor_retry_base_seconds: float = Field(default=30.0, ge=1, le=900)
    # In AWS the provider keys live in Secrets Manager; locally they come from the environment.
    provider_secret_arn: str | None = None
    # moto (tests, the local stack) is not thread-safe: concurrent DynamoDB transactions and SQS receives
    # corrupt its state, so its calls are serialised (one lock per service). AWS needs no such thing.
    serialize_aws_calls: bool = False
    # Where jobs and items live. Supabase needs SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY; the queue stays
    # SQS, and the cache and rate limiter stay in the DynamoDB table either way.
    job_store: Literal["dynamodb", "supabase"] = "dynamodb"  # embedded: SQLite unless "supabase"
    # Leads a workspace may enqueue per UTC day (a 429 past it); 0 turns the quota off.
    daily_lead_quota: int = Field(default=50_000, ge=0)
    # Items of one job in the queue at a time per processor worker (leadenrich.jobs.window); 0 enqueues
    # every item at creation.
    queue_window: int = Field(default=DEFAULT_WINDOW, ge=0, le=10_000)
    # Processor invocations a minute (template.yaml ProcessorWorkers): a job's window is this many times
    # `queue_window`, so one large job can keep every worker busy (docs/runtime.md "Scaling").
    processor_workers: int = Field(default=1, ge=1, le=8)
    # What starts the processor on items (template.yaml ProcessorTrigger): the schedule's runs receive them,
    # or an SQS event source mapping delivers them and the schedule only keeps the house (docs/runtime.md).
    processor_trigger: Literal["schedule", "queue"] = "schedule"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RuntimeSettings:
        settings = settings_from_env(cls, env)
        required = ("state_db",) if settings.backend == "embedded" else _AWS_FIELDS
        for name in required:
            if getattr(settings, name) is None:
                raise SettingsError(f"{name.upper()}: required with BACKEND={settings.backend}")
        for pair in _BAND_QUEUES.values():
            require_together(settings, pair)
        return settings

    def band_queues(self) -> dict[Band, tuple[str, str]]:
        """(queue URL, DLQ URL) of every band given its own queue (the normal band's always, with aws)."""
        pairs = {band: (getattr(self, q), getattr(self, d)) for band, (q, d) in _BAND_QUEUES.items()}
        return {band: pair for band, pair in pairs.items() if pair[0] is not None and pair[1] is not None}


_AWS_FIELDS = ("table_name", "queue_url", "dead_letter_queue_url")
_BAND_QUEUES: dict[Band, tuple[str, str]] = {
    Band.HIGH: ("high_priority_queue_url", "high_priority_dead_letter_queue_url"),
    Band.NORMAL: ("queue_url", "dead_letter_queue_url"),
    Band.LOW: ("low_priority_queue_url", "low_priority_dead_letter_queue_url"),
}


def queue_environment(band_queues: Mapping[Band, tuple[str, str]]) -> dict[str, str]:
    """The variables that name these bands' queues (what `create_band_queues` returns), for the local stack,
    tests and benchmarks."""
    return {
        variable.upper(): url
        for band, (queue_url, dlq_url) in band_queues.items()
        for variable, url in zip(_BAND_QUEUES[band], (queue_url, dlq_url), strict=True)
    }


@functools.cache
def settings() -> RuntimeSettings:
    return RuntimeSettings.from_env()


def _embedded() -> bool:
    return settings().backend == "embedded"


@functools.cache
def database() -> Database:
    """The embedded backend's SQLite file (STATE_DB), opened once per process."""
    from leadenrich.sqlite.db import Database

    path = settings().state_db
    assert path is not None  # from_env requires it with BACKEND=embedded
    return Database(path)


@functools.cache
def _aws() -> tuple[RuntimeSettings, Any, Any]:
    """The settings and the (dynamodb, sqs) clients, made once per process."""
    from leadenrich.aws.clients import runtime_clients

    config = settings()
    dynamodb, sqs = runtime_clients(config.processor_concurrency)
    return config, dynamodb, sqs


def _table(config: RuntimeSettings) -> str:
    assert config.table_name is not None  # from_env requires it with BACKEND=aws
    return config.table_name


def _job_store(config: RuntimeSettings) -> JobStore:
    """The store JOB_STORE names (SQLite when embedded); its module is imported only when chosen."""
    if config.job_store == "supabase":
        from leadenrich.supabase.client import SupabaseSettings
        from leadenrich.supabase.job_store import SupabaseJobStore

        supabase = SupabaseSettings.from_env(app_env())
        if supabase is None:
            raise SettingsError("SUPABASE_URL: required when JOB_STORE=supabase")
        return SupabaseJobStore(supabase)
    if _embedded():
        from leadenrich.sqlite.job_store import SqliteJobStore

        return SqliteJobStore(database())
    from leadenrich.aws.dynamo_jobs import DynamoJobStore

    _, dynamodb, _sqs = _aws()
    # Finished rows get their workspace's retention as TTL (`jobs.retention`), read through the cache.
    return DynamoJobStore(
        _table(config), dynamodb, serialize_calls=config.serialize_aws_calls, settings=_cached_settings()
    )


@functools.cache
def work_queue() -> WorkQueue:
    """SQLite's queue (its bands in one table), or one SQS queue per configured band, asked highest first;
    with QUEUE_URL alone, that one queue: everything in one band, as before priorities."""
    if _embedded():
        from leadenrich.sqlite.queue import SqliteWorkQueue

        return SqliteWorkQueue(database())
    from leadenrich.aws.sqs_queue import SqsWorkQueue
    from leadenrich.jobs.priorities import BandedWorkQueue

    config, _dynamodb, sqs = _aws()
    queues: dict[Band, WorkQueue] = {
        band: SqsWorkQueue(url, dlq_url, sqs, serialize_calls=config.serialize_aws_calls)
        for band, (url, dlq_url) in config.band_queues().items()
    }
    normal = queues[Band.NORMAL]  # from_env requires QUEUE_URL and DEAD_LETTER_QUEUE_URL with BACKEND=aws
    if len(queues) == 1:
        return normal
    return BandedWorkQueue({band: queues.get(band, normal) for band in Band})


@functools.cache
def delivering_queues() -> dict[str, tuple[SqsWorkQueue, Band | None]]:
    """The work queues an SQS event source mapping delivers from, by name (the ARN in each record ends with
    it), each with its band (None with QUEUE_URL alone, as `work_queue` has no bands then)."""
    from leadenrich.aws.sqs_queue import SqsWorkQueue

    config, _dynamodb, sqs = _aws()
    pairs = config.band_queues()
    queues = {
        band: SqsWorkQueue(url, dlq_url, sqs, serialize_calls=config.serialize_aws_calls)
        for band, (url, dlq_url) in pairs.items()
    }
    return {queue.name: (queue, band if len(pairs) > 1 else None) for band, queue in queues.items()}


def _quota() -> LeadQuota:
    if _embedded():
        from leadenrich.sqlite.quota import SqliteLeadQuota

        return SqliteLeadQuota(database())
    from leadenrich.aws.dynamo_quota import DynamoLeadQuota

    config, dynamodb, _sqs = _aws()
    return DynamoLeadQuota(_table(config), dynamodb, serialize_calls=config.serialize_aws_calls)


def _cache_and_limiter(limits: Mapping[str, Limit]) -> tuple[CachePort, RateLimiter]:
    """Shared across invocations and processors: paid answers cached, rate limits held in one place."""
    if _embedded():
        from leadenrich.sqlite.cache import SqliteCache
        from leadenrich.sqlite.limiter import SqliteRateLimiter

        return SqliteCache(database()), SqliteRateLimiter(database(), limits)
    from leadenrich.aws.dynamo_cache import DynamoCache
    from leadenrich.aws.dynamo_limiter import DynamoRateLimiter

    config, dynamodb, _sqs = _aws()
    serialize = config.serialize_aws_calls
    return (
        DynamoCache(_table(config), dynamodb, serialize_calls=serialize),
        DynamoRateLimiter(_table(config), dynamodb, limits, serialize_calls=serialize),
    )


@functools.cache
def supabase() -> SupabaseAdapters | None:
    """Supabase as lead source, email sink and stats when SUPABASE_URL is set (whatever JOB_STORE says);
    None otherwise, and then nothing of `supabase` is imported."""
    from leadenrich.supabase.client import SupabaseSettings

    project = SupabaseSettings.from_env(app_env())
    if project is None:
        return None
    from leadenrich.supabase.wiring import SupabaseAdapters

    return SupabaseAdapters.for_settings(project)


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

    if _embedded():
        from leadenrich.sqlite.webhook_log import SqliteWebhookLog

        return Webhooks.with_log(SqliteWebhookLog(database()), app_env())
    config, dynamodb, _sqs = _aws()
    return Webhooks.build(_table(config), dynamodb, config.serialize_aws_calls, app_env())


class _Outbox:
    """The job service's `JobEventOutbox`: the callbacks' dispatcher, built on first use (the API reads jobs
    far more often than it cancels or pauses them)."""

    async def enqueue(self, job: Job, event: WebhookEvent) -> None:
        await webhooks().dispatcher.enqueue(job, event)


class _WebhooksCallbackLog:
    """The webhooks' log, built on first use: only a job with a webhook_url reads it, so no route but
    that one depends on the webhook settings."""

    async def attempts(self, workspace_id: str, job_id: str) -> list[dict[str, Any]]:
        return await webhooks().log.attempts(workspace_id, job_id)


@functools.cache
def job_service() -> JobService:
    """The job service, with the callbacks' log it shows in `GET /jobs/{id}`."""
    config = settings()
    adapters = supabase()
    service = JobService(
        _job_store(config),
        work_queue(),
        leads=adapters.leads if adapters else None,
        lead_stats=adapters.stats if adapters else None,
        # In the DynamoDB table (or the SQLite file) whatever JOB_STORE says, like the cache and limiter.
        quota=_quota(),
        daily_lead_quota=config.daily_lead_quota,
        queue_window=config.queue_window * config.processor_workers,
        callback_log=_WebhooksCallbackLog(),
        events=_Outbox(),
    )
    service.workspace_settings = workspace_settings()  # a job's default lawful basis (`jobs.creation`)
    service.blobs = _uploads.blob_store()  # `POST /jobs {"upload_id"}` (docs/uploads.md)
    service.upload_max_bytes = _uploads.upload_max_bytes()
    return service


@functools.cache
def key_store() -> KeyStore:
    """The API keys (the authorizer resolves them; `enrich keys` manages them)."""
    if _embedded():
        from leadenrich.sqlite.keys import SqliteKeyStore

        return SqliteKeyStore(database())
    from leadenrich.aws.dynamo_keys import DynamoKeyStore

    config, dynamodb, _sqs = _aws()
    return DynamoKeyStore(_table(config), dynamodb, serialize_calls=config.serialize_aws_calls)


def request_rate() -> WorkspaceRequestRate | None:
    """The API's per-workspace request rate, in the limiter's rows of the DynamoDB table (or the SQLite
    file); None when WORKSPACE_REQUESTS_PER_SECOND is 0. Not cached: it is a small object over the cached
    clients or database, so `reset()` and a changed environment need nothing of their own."""
    from leadenrich.auth.request_rate import RequestRateSettings, WorkspaceRequestRate

    rate = RequestRateSettings.from_env()
    if rate.off:
        return None
    if _embedded():
        from leadenrich.sqlite.limiter import SqliteRateLimiter

        return WorkspaceRequestRate(SqliteRateLimiter(database()), rate)
    from leadenrich.aws.dynamo_limiter import DynamoRateLimiter

    config, dynamodb, _sqs = _aws()
    limiter = DynamoRateLimiter(_table(config), dynamodb, serialize_calls=config.serialize_aws_calls)
    return WorkspaceRequestRate(limiter, rate)


# The records beside the limiter (spend, audit, suppression, settings, retention, erasure, review) are
# wired in `runtime_records`, imported here, after the helpers it calls back into, and re-exported.
import leadenrich.runtime_records as _records  # noqa: E402

_cached_settings = _records._cached_settings
audit_log = _records.audit_log
cache_cap = _records.cache_cap
contact_review = _records.contact_review
erasure_service = _records.erasure_service
retention = _records.retention
spend_caps = _records.spend_caps
spend_ledger = _records.spend_ledger
suppressions = _records.suppressions
workspace_settings = _records.workspace_settings

# The lead buffer and person enrichment (docs/buffer.md), wired in `runtime_serving`.
import leadenrich.runtime_serving as _buffer  # noqa: E402


def buffer_service() -> BufferService:
    return _buffer.buffer_service()


def lead_buffer() -> LeadBuffer:
    return _buffer.lead_buffer()


def person_lookup() -> PersonLookup:
    return _buffer.person_lookup()


# The re-verification sweep (docs/reverification.md), wired in `runtime_reverify`; its schedule is reset here.
import leadenrich.runtime_reverify as _reverify  # noqa: E402

# The object store of uploads and exports (docs/uploads.md), wired in `runtime_uploads`.
import leadenrich.runtime_uploads as _uploads  # noqa: E402


def _upload_quota(daily_lead_quota: int) -> DailyQuota | None:
    """The daily lead quota an uploaded file's rows are reserved from, page by page (0: none)."""
    from leadenrich.uploads.loader import DailyQuota

    return DailyQuota(_quota(), daily_lead_quota) if daily_lead_quota > 0 else None


@functools.cache
def processor() -> Processor:
    from leadenrich.engine.settings import EngineSettings, build_enricher
    from leadenrich.engine.verification import Verifier
    from leadenrich.jobs.processor import Processor, ProcessorSettings
    from leadenrich.jobs.retention import CappedCache
    from leadenrich.jobs.retry import RetryPolicy
    from leadenrich.privacy.suppression import WorkspaceScreen

    config = settings()
    service = job_service()
    env = dict(os.environ)
    if config.provider_secret_arn:
        from leadenrich.aws.secrets import provider_keys

        env.update(provider_keys(config.provider_secret_arn))
    engine = EngineSettings.from_env(env)
    cache, limiter = _cache_and_limiter(engine.limits)
    cache = CappedCache(cache, cache_cap())  # no answer outlives the shortest cache retention
    enricher = build_enricher(engine, cache, limiter)
    return Processor(
        service.store,
        service.queue,
        enricher,
        ProcessorSettings(
            max_items=config.max_items_per_run,
            budget_seconds=config.processor_budget_seconds,
            concurrency=config.processor_concurrency,
            visibility_timeout=config.queue_visibility_timeout,
            callback_seconds=config.processor_callback_seconds,
        ),
        RetryPolicy(base_seconds=config.processor_retry_base_seconds),
        emails=adapters.emails if (adapters := supabase()) else None,
        companies=adapters.companies if adapters else None,  # docs/company-data.md
        company_runner=enricher.with_company_data(),  # jobs with `company_data`
        lead_records=adapters.lead_records if adapters else None,  # docs/auto-enrichment.md
        callbacks=webhooks().dispatcher,
        verifier=Verifier.beside(enricher),  # verification jobs: the same cache, limiter and switches
        spend_caps=spend_caps(),
        events=webhooks().dispatcher,  # job.paused when a cap pauses a job
        screen=functools.partial(WorkspaceScreen, suppressions()),  # each item's workspace's lists
        privacy=_cached_settings(),  # review and region rules, each item's workspace's (`privacy.review`)
        audit=audit_log(),  # a pause at a spend cap, recorded as the processor's
        blobs=_uploads.blob_store(),  # jobs made from an uploaded CSV, read in pages (docs/uploads.md)
        lead_quota=_upload_quota(config.daily_lead_quota),  # an upload's rows count like inline leads
    )


@functools.cache
def health() -> HealthService:
    """`GET /health`'s checks for this deployment (`leadenrich.health`): the table and each band's queue and
    DLQ (or the SQLite file), the app secret when there is one, the provider keys, Supabase when set (needed
    when it holds the jobs; otherwise only the lead source, so not required)."""
    from leadenrich import health as checks
    from leadenrich.supabase.client import SupabaseSettings

    config = settings()
    if _embedded():
        probes = [checks.sqlite_probe(database())]
    else:
        _config, dynamodb, sqs = _aws()
        probes = [checks.table_probe(dynamodb, _table(config))]
        for band, urls in config.band_queues().items():
            for kind, url in zip(("queue", "dead_letter_queue"), urls, strict=True):
                probes.append(checks.queue_probe(sqs, f"{kind}.{band.value}", url))
    app_secret = os.environ.get("APP_SECRET_ARN")
    if app_secret or config.provider_secret_arn:
        from aws_lambda_powertools.utilities.parameters import SecretsProvider

        secrets = SecretsProvider()
        if app_secret:
            probes.append(checks.secret_probe(secrets, app_secret))
        if config.provider_secret_arn:
            probes.append(checks.provider_secret_probe(secrets.client, config.provider_secret_arn))
    if not config.provider_secret_arn:
        probes.append(checks.provider_env_probe())
    if os.environ.get("SUPABASE_URL"):
        required = config.job_store == "supabase"
        probes.append(checks.supabase_probe(lambda: SupabaseSettings.from_env(app_env()), required=required))
    return checks.HealthService(probes)


def reset() -> None:
    """Drop every cached service (and close the embedded database's connections)."""
    if database.cache_info().currsize:
        database().close()
    database.cache_clear()
    settings.cache_clear()
    work_queue.cache_clear()
    delivering_queues.cache_clear()
    _aws.cache_clear()
    app_env.cache_clear()
    webhooks.cache_clear()
    supabase.cache_clear()
    job_service.cache_clear()
    key_store.cache_clear()
    spend_ledger.cache_clear()
    spend_caps.cache_clear()
    workspace_settings.cache_clear()
    _cached_settings.cache_clear()
    cache_cap.cache_clear()
    retention.cache_clear()
    suppressions.cache_clear()
    erasure_service.cache_clear()
    audit_log.cache_clear()
    contact_review.cache_clear()
    processor.cache_clear()
    health.cache_clear()
    _buffer.reset()
    _reverify.reset()
    _uploads.reset()
