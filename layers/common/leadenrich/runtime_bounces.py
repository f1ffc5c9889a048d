"""The wiring of bounce feedback (docs/bounces.md) for the webhook function, beside `leadenrich.runtime`:
the stores a hard bounce marks, and the SNS client that fetches signing certificates.

`bounce_service()` is not cached: it is a small object over the runtime's cached clients, database and
services, so `runtime.reset()` and a changed environment need nothing of their own. The SNS client is kept
for the process (its certificates are), and sends its requests through `TRANSPORT` when one is set (tests
serve a certificate they made through an `httpx.MockTransport`; in AWS it is None: the network).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from leadenrich import runtime as core

if TYPE_CHECKING:
    import httpx

    from leadenrich.bounces.ports import BouncedAddresses
    from leadenrich.bounces.service import BounceService
    from leadenrich.engine.cache import CachePort
    from leadenrich.webhooks.bounces.sns import SnsClient

TRANSPORT: httpx.AsyncBaseTransport | None = None


def _transport() -> httpx.AsyncBaseTransport | None:
    return TRANSPORT


@functools.cache
def sns_client() -> SnsClient:
    from leadenrich.webhooks.bounces.sns import SnsClient

    return SnsClient(_transport)


def bounce_places() -> list[BouncedAddresses]:
    """Where the workspaces' addresses are: the job items (the DynamoDB table or the SQLite file, unless
    JOB_STORE=supabase) and, when Supabase is configured, its `emails` (and its job items with
    JOB_STORE=supabase)."""
    from leadenrich.supabase.client import SupabaseSettings

    config = core.settings()
    places: list[BouncedAddresses] = []
    if config.job_store != "supabase":
        if core._embedded():
            from leadenrich.sqlite.bounces import SqliteBouncedAddresses

            places.append(SqliteBouncedAddresses(core.database()))
        else:
            from leadenrich.aws.dynamo_bounces import DynamoBouncedAddresses

            _config, dynamodb, _sqs = core._aws()
            places.append(
                DynamoBouncedAddresses(
                    core._table(config), dynamodb, serialize_calls=config.serialize_aws_calls
                )
            )
    project = SupabaseSettings.from_env(core.app_env())
    if project is not None:
        from leadenrich.supabase.bounces import SupabaseBouncedAddresses
        from leadenrich.supabase.rpc import connect_with

        places.append(SupabaseBouncedAddresses(connect_with(project), items=config.job_store == "supabase"))
    return places


def _cache() -> CachePort:
    """The provider cache the engine reads (the pattern facts go there), capped as the processor's is."""
    from leadenrich.jobs.retention import CappedCache

    config = core.settings()
    if core._embedded():
        from leadenrich.sqlite.cache import SqliteCache

        return CappedCache(SqliteCache(core.database()), core.cache_cap())
    from leadenrich.aws.dynamo_cache import DynamoCache

    _config, dynamodb, _sqs = core._aws()
    cache = DynamoCache(core._table(config), dynamodb, serialize_calls=config.serialize_aws_calls)
    return CappedCache(cache, core.cache_cap())


def bounce_service() -> BounceService:
    from leadenrich.bounces.service import BounceService
    from leadenrich.engine.cache import ResultCache

    return BounceService(
        bounce_places(),
        core.suppressions(),
        core.audit_log(),
        ResultCache(_cache()),
        jobs=core.job_service(),
    )


__all__ = ["TRANSPORT", "bounce_places", "bounce_service", "sns_client"]
