"""The job service on every backend: what creating a job stores and enqueues, whichever store and queue.

(Redrive and cancellation are in test_processor_suite.py, with the drains they act on.)
"""

from __future__ import annotations

import pytest

from leadenrich.jobs.requests import CreateJobRequest
from leadenrich.jobs.service import IdempotencyKeyReused
from tests.support.backends import WS, Backend


async def test_an_idempotency_key_returns_the_same_job(backend: Backend) -> None:
    service = backend.service()
    request = CreateJobRequest(domains=["acme-robotics.com", "globex-analytics.io"])
    first = await service.create_job(WS, request, idempotency_key="k-1")
    again = await service.create_job(WS, request, idempotency_key="k-1")
    assert (again.job.job_id, again.created, again.queue_calls) == (first.job.job_id, False, 0)
    assert (await backend.queue.depth()).visible == 2


async def test_an_idempotency_key_reused_with_another_body_is_refused_and_enqueues_nothing(
    backend: Backend,
) -> None:
    service = backend.service()
    first = await service.create_job(WS, CreateJobRequest(domains=["acme-robotics.com"]), "k-2")
    spelt_otherwise = CreateJobRequest.model_validate({"domains": ["acme-robotics.com"], "priority": 3})
    again = await service.create_job(WS, spelt_otherwise, "k-2")  # the same request, defaults spelt
    assert (again.job.job_id, again.created) == (first.job.job_id, False)

    other = CreateJobRequest(domains=["acme-robotics.com", "globex-analytics.io"])
    with pytest.raises(IdempotencyKeyReused) as refused:
        await service.create_job(WS, other, "k-2")
    assert refused.value.field == "idempotency-key" and first.job.job_id in refused.value.message
    assert (await backend.queue.depth()).visible == 1  # only the first job's item
