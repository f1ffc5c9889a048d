"""Wiring for the Lambda handlers: the environment validated once, and services built lazily, cached.

Nothing is built at import time (a handler module's import is its cold start, and tests set the
environment per test); the first invocation builds the boto3 clients and services, later ones reuse them.
`reset()` drops the cache, for tests and the local stack.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from leadenrich.jobs.processor import Processor, ProcessorSettings
from leadenrich.jobs.service import JobService
from leadenrich.settings import EngineSettings, SettingsError, build_enricher


class RuntimeSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    table_name: str = Field(min_length=1)
    queue_url: str = Field(min_length=1)
    dead_letter_queue_url: str = Field(min_length=1)
    max_items_per_run: int = Field(default=50, ge=1, le=1000)
    processor_budget_seconds: float = Field(default=30.0, gt=5, le=840)
    processor_concurrency: int = Field(default=8, ge=1, le=64)
    queue_visibility_timeout: int = Field(default=90, ge=30, le=43_200)
    # moto (tests, the local stack) cannot take concurrent DynamoDB transactions; AWS can.
    serialize_dynamodb_calls: bool = False

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
def job_service() -> JobService:
    from leadenrich.aws.clients import runtime_clients
    from leadenrich.aws.dynamo_store import DynamoJobStore
    from leadenrich.aws.sqs_queue import SqsWorkQueue

    settings = RuntimeSettings.from_env()
    dynamodb, sqs = runtime_clients(settings.processor_concurrency)
    store = DynamoJobStore(settings.table_name, dynamodb, serialize_calls=settings.serialize_dynamodb_calls)
    return JobService(store, SqsWorkQueue(settings.queue_url, settings.dead_letter_queue_url, sqs))


@functools.cache
def processor() -> Processor:
    settings = RuntimeSettings.from_env()
    service = job_service()
    enricher = build_enricher(EngineSettings.from_env())
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
    )


def reset() -> None:
    job_service.cache_clear()
    processor.cache_clear()
