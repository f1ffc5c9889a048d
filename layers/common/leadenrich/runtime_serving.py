"""The wiring of what the API enriches with on the request path (`leadenrich.runtime` re-exports it): the
lead buffer and person enrichment (docs/buffer.md, docs/enrich.md).

Where the buffer lives follows the jobs: Supabase with JOB_STORE=supabase, the SQLite file on the embedded
stack, the DynamoDB table otherwise. The engine is the processor's (`runtime.processor`): the same provider
keys (Secrets Manager in AWS), cache (capped by the shortest cache retention), rate limiter (the table or the
file, shared with every processor), suppression lists and spend ledger; it is built on first use, so pushes,
listings and cursors never read a provider key. Without a Hunter key there is no engine: leads are served
unenriched (`enrichment.NO_PROVIDER`) and `POST /enrich` answers 501. `runtime` re-exports every builder;
`runtime.reset()` calls `reset()` here.
"""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING

import leadenrich.runtime as core
from leadenrich.settings_errors import SettingsError

if TYPE_CHECKING:
    from leadenrich.buffer.enrichment import Engine
    from leadenrich.buffer.person import PersonLookup
    from leadenrich.buffer.ports import LeadBuffer
    from leadenrich.buffer.service import BufferService
    from leadenrich.engine.cache import CachePort
    from leadenrich.engine.people import PersonEnrichment
    from leadenrich.engine.ratelimit import RateLimiter
    from leadenrich.engine.settings import EngineSettings

# Hunter's enrichment endpoints: 15 a second, 500 a minute (providers.md §1.8, unverified), at the limiter's
# usual 95 %: not in `ratelimit.LIMITS`, which RATE_LIMITS overrides, so it is added to the limiter here.
PEOPLE_FIND_PER_SECOND = 15 * 0.95
PEOPLE_FIND_PER_MINUTE = 500 * 0.95
# A found profile's credits: 1 search credit on Hunter's Data Platform plans, 0.2 on All-in-one (the plans
# whose verification costs 0.5: HUNTER_VERIFICATION_CREDIT).
DATA_PLATFORM_CREDIT = 1.0
ALL_IN_ONE_CREDIT = 0.2


@functools.cache
def lead_buffer() -> LeadBuffer:
    config = core.settings()
    if config.job_store == "supabase":
        from leadenrich.supabase.buffer import SupabaseLeadBuffer
        from leadenrich.supabase.client import SupabaseSettings
        from leadenrich.supabase.rpc import connect_with

        project = SupabaseSettings.from_env(core.app_env())
        if project is None:
            raise SettingsError("SUPABASE_URL: required when JOB_STORE=supabase")
        return SupabaseLeadBuffer(connect_with(project))
    if core._embedded():
        from leadenrich.sqlite.buffer import SqliteLeadBuffer

        return SqliteLeadBuffer(core.database())
    from leadenrich.aws.dynamo_buffer import DynamoLeadBuffer

    _config, dynamodb, _sqs = core._aws()
    return DynamoLeadBuffer(
        core._table(config),
        dynamodb,
        serialize_calls=config.serialize_aws_calls,
        settings=core._cached_settings(),  # its rows' TTL: the workspace's periods (`buffer.retention`)
    )


@functools.cache
def _engine_settings() -> EngineSettings:
    """The provider keys and URLs, as the processor reads them (its secret in AWS): read on first need."""
    from leadenrich.engine.settings import EngineSettings

    config = core.settings()
    env = dict(os.environ)
    if config.provider_secret_arn:
        from leadenrich.aws.secrets import provider_keys

        env.update(provider_keys(config.provider_secret_arn))
    return EngineSettings.from_env(env)


@functools.cache
def _plan() -> EngineSettings:
    """The engine's settings the environment holds (paces, the plan's verification credit), without the
    provider keys: what the cache, the limiter and the credit of a profile need."""
    from leadenrich.engine.settings import EngineSettings

    return EngineSettings.from_env()


@functools.cache
def _paid() -> tuple[CachePort, RateLimiter]:
    """The processor's cache (capped) and rate limiter, with Hunter's people/find pace added."""
    from leadenrich.engine.people import PEOPLE_FIND
    from leadenrich.engine.ratelimit import Limit
    from leadenrich.jobs.retention import CappedCache

    limits = {
        **_plan().limits,
        PEOPLE_FIND: Limit(per_second=PEOPLE_FIND_PER_SECOND, per_minute=PEOPLE_FIND_PER_MINUTE),
    }
    cache, limiter = core._cache_and_limiter(limits)
    return CappedCache(cache, core.cache_cap()), limiter


@functools.cache
def buffer_engine() -> Engine | None:
    """The waterfall and the verifier, as the processor has them; None without a Hunter key."""
    settings = _engine_settings()
    if not settings.has_provider_keys:
        return None
    from leadenrich.buffer.enrichment import Engine
    from leadenrich.engine.settings import build_enricher
    from leadenrich.engine.verification import Verifier

    cache, limiter = _paid()
    enricher = build_enricher(settings, cache, limiter)
    return Engine(enricher=enricher, verifier=Verifier.beside(enricher))


@functools.cache
def buffer_service() -> BufferService:
    from leadenrich.buffer.enrichment import WorkspaceGate
    from leadenrich.buffer.service import BufferService
    from leadenrich.privacy.suppression import WorkspaceScreen

    return BufferService(
        lead_buffer(),
        engine=buffer_engine,
        screen=functools.partial(WorkspaceScreen, core.suppressions()),
        gate=functools.partial(WorkspaceGate, core.spend_caps()),
    )


@functools.cache
def person_enrichment() -> PersonEnrichment | None:
    """Hunter's Email Enrichment client; None without a Hunter key."""
    settings = _engine_settings()
    if settings.hunter_api_key is None:
        return None
    from leadenrich.engine.providers.hunter_people import HunterPeopleClient

    return HunterPeopleClient(
        settings.hunter_api_key.get_secret_value(), base_url=settings.hunter_api_base_url
    )


@functools.cache
def person_lookup() -> PersonLookup:
    from leadenrich.buffer.enrichment import WorkspaceGate
    from leadenrich.buffer.person import PersonLookup
    from leadenrich.privacy.suppression import WorkspaceScreen

    cache, limiter = _paid()
    return PersonLookup(
        cache,
        person_enrichment,
        screen=functools.partial(WorkspaceScreen, core.suppressions()),
        gate=functools.partial(WorkspaceGate, core.spend_caps()),
        limiter=limiter,
        credit=DATA_PLATFORM_CREDIT if _plan().hunter_verification_credit >= 1 else ALL_IN_ONE_CREDIT,
    )


def reset() -> None:
    for cached in (
        lead_buffer,
        _engine_settings,
        _plan,
        _paid,
        buffer_engine,
        buffer_service,
        person_enrichment,
        person_lookup,
    ):
        cached.cache_clear()


__all__ = ["buffer_engine", "buffer_service", "lead_buffer", "person_enrichment", "person_lookup", "reset"]
