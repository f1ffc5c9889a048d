"""Verification jobs: `emails` validated at the edge naming the index, and a job of addresses run by the
processor through the verifier on every backend (SQLite; DynamoDB + SQS on moto; Supabase + SQS), with
the providers on the simulator, its counters, costs and completion callback as for leads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from datetime import time as day_time
from typing import Any

import pytest
from pydantic import ValidationError

from leadenrich.deadline import Deadline
from leadenrich.engine.cache import InMemoryCache, ResultCache
from leadenrich.engine.providers.hunter import HunterClient
from leadenrich.engine.verification import Verifier
from leadenrich.engine.waterfall import Enricher
from leadenrich.jobs.models import ItemStatus, Job, JobKind, JobStatus
from leadenrich.jobs.processor import Processor, ProcessorSettings
from leadenrich.jobs.requests import MAX_LEADS_PER_JOB, CreateJobRequest
from leadenrich.jobs.retry import RetryPolicy
from leadenrich.jobs.views import ItemView, JobView
from tests.jobs.suite.conftest import backend, simulator
from tests.support.backends import PROCESSOR_DEFAULTS, WS, Backend
from tests.support.simulator import TODAY

# The processor suite's fixtures, used here: `backend` (one per backend) and the simulator it runs on.
__all__ = ["backend", "simulator"]
CATCH_ALL_BOUNCE = "nobody@globex-analytics.io"  # the server accepts it; no such mailbox
OPTED_OUT = "aoife.osullivan@brightlane.co.uk"


# --- the request -------------------------------------------------------------------------------------------


def error_of(payload: dict[str, Any]) -> tuple[str, str]:
    with pytest.raises(ValidationError) as caught:
        CreateJobRequest.model_validate(payload)
    first = caught.value.errors()[0]
    return ".".join(str(p) for p in first["loc"]), str(first["msg"])


def test_emails_make_a_verification_job_of_leads_that_carry_their_address() -> None:
    request = CreateJobRequest.model_validate({"emails": ["Jane.Doe@Acme.com", "info@globex.io"]})
    assert request.kind is JobKind.VERIFICATION and request.source == "emails"
    assert [(lead.email, lead.domain) for lead in request.all_leads()] == [
        ("jane.doe@acme.com", "acme.com"),
        ("info@globex.io", "globex.io"),
    ]
    assert CreateJobRequest.model_validate({"domains": ["acme.com"]}).kind is JobKind.ENRICHMENT


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"emails": ["a@acme.com", "b@acme.com", "c@acme.com", "not an address"]}, "emails.3", "email"),
        ({"emails": ["a@acme.com", "x@localhost"]}, "emails.1", "domain"),
        ({"emails": []}, "", "exactly one of"),
        ({"emails": ["a@acme.com"], "domains": ["acme.com"]}, "", "exactly one of"),
        ({"emails": ["a@acme.com"], "skip_existing": True}, "skip_existing", "not with emails"),
        ({"emails": ["a@acme.com"] * (MAX_LEADS_PER_JOB + 1)}, "emails", "10000"),
        ({"leads": [{"domain": "acme.com", "email": "a@acme.com"}]}, "leads.0.email", "`emails`"),
    ],
)
def test_bad_addresses_are_refused_naming_their_index(
    payload: dict[str, Any], field: str, message: str
) -> None:
    named, said = error_of(payload)
    assert named == field and message in said.replace(",", "")
    assert "not an address" not in said and "x@localhost" not in said  # the input is named, never echoed


# --- the job on every backend ------------------------------------------------------------------------------


class Callbacks:
    """Records the completion callback the processor makes (the outbound webhook's port)."""

    def __init__(self) -> None:
        self.completed: list[Job] = []

    async def job_completed(self, job: Job, deadline: Deadline) -> None:
        self.completed.append(job)

    async def job_progressed(self, job: Job, deadline: Deadline) -> bool:
        return False

    async def retry_due(self, deadline: Deadline, limit: int = 10) -> int:
        return 0


def processor(backend: Backend, callbacks: Callbacks | None = None, *, verifier: bool = True) -> Processor:
    """A processor on the backend's store and queue whose verifier shares the enricher's paid calls."""
    enricher = Enricher(
        HunterClient("sim-hunter-key", base_url=backend.sim.hunter_base_url),
        None,
        ResultCache(InMemoryCache()),
        clock=lambda: datetime.combine(TODAY, day_time(12), UTC),
    )
    return Processor(
        backend.store,
        backend.queue,
        enricher,
        ProcessorSettings(**PROCESSOR_DEFAULTS),
        clock=backend.now,
        callbacks=callbacks,
        verifier=Verifier.beside(enricher) if verifier else None,
    )


async def test_a_verification_job_returns_each_addresss_verdict(backend: Backend) -> None:
    world = backend.sim.world
    real = sorted(world.truth("acme-robotics.com").mailboxes)[0]
    addresses = [real, CATCH_ALL_BOUNCE, OPTED_OUT, "nobody.here@acme-robotics.com", "Jane.Doe@Gmail.com"]
    created = await backend.service().create_job(WS, CreateJobRequest(emails=addresses))
    assert created.job.options.kind is JobKind.VERIFICATION
    assert JobView.from_job(created.job).kind is JobKind.VERIFICATION
    callbacks = Callbacks()

    report = await processor(backend, callbacks).drain()

    job = await backend.job(created.job.job_id)
    assert job.options.kind is JobKind.VERIFICATION  # the store kept it
    assert job.status is JobStatus.COMPLETED and report.finished == 5
    assert [j.job_id for j in callbacks.completed] == [job.job_id]
    views = [ItemView.from_item(item) for item in await backend.items(job.job_id)]
    assert [v.lead.email for v in views] == [a.lower() for a in addresses]
    outcome = {
        v.lead.email: (v.status, *[(e.hunter_status, e.deliverability, e.status) for e in v.emails])
        for v in views
    }
    assert outcome == {
        real: (ItemStatus.FOUND, ("deliverable", "verified", "active")),
        CATCH_ALL_BOUNCE: (ItemStatus.RISKY, ("risky", "catch_all", "inactive")),
        OPTED_OUT: (ItemStatus.NOT_FOUND,),  # nothing about the address is kept
        "nobody.here@acme-robotics.com": (ItemStatus.INVALID, ("undeliverable", "undeliverable", "inactive")),
        "jane.doe@gmail.com": (ItemStatus.RISKY, ("risky", "unknown", "inactive")),
    }
    assert views[0].emails[0].confidence_score > 80  # Hunter's score
    assert (job.counters.processed, job.counters.found, job.counters.risky) == (5, 1, 2)
    billed = backend.sim.ledger.snapshot()
    assert job.counters.api_calls_hunter == billed["hunter_calls"] == 5
    assert job.counters.credits_hunter == billed["credits_verification"] == 3  # valid, accept_all, invalid
    assert billed["calls"].get("hunter.domain_search", 0) == 0  # no waterfall ran


async def test_a_202_defers_the_item_and_the_next_run_finishes_it(backend: Backend) -> None:
    # The 202 asks to come back in 1 s (Retry-After; without one the client suggests 15 s), and the
    # backoff's ceiling is cut from 30 s to 3 s: on moto and Supabase the wait below is real, and its length
    # is not what this test is about. The deferral still honours the floor and what the 202 asked for.
    backend.sim.configure(share_202=1.0, polls_202=1, retry_after_202=1)
    real = sorted(backend.sim.world.truth("acme-robotics.com").mailboxes)[0]
    created = await backend.service().create_job(WS, CreateJobRequest(emails=[real]))
    first_run = processor(backend)
    first_run.retry = RetryPolicy(base_seconds=3.0)
    before = backend.now()
    first = await first_run.drain()
    [item] = await backend.items(created.job.job_id)
    assert first.deferred == 1 and item.status is ItemStatus.DEFERRED and item.attempts == 1
    assert "202" in (item.reason or "")
    assert item.next_attempt_at is not None
    assert item.next_attempt_at - before >= timedelta(seconds=first_run.retry.floor_seconds)
    await backend.elapse((item.next_attempt_at - backend.now()).total_seconds() + 1)
    await processor(backend).drain()
    [item] = await backend.items(created.job.job_id)
    assert item.status is ItemStatus.FOUND and item.attempts == 2
    assert (await backend.job(created.job.job_id)).counters.credits_hunter == 1  # billed once


async def test_a_processor_without_a_verifier_fails_the_items_and_runs_no_waterfall(backend: Backend) -> None:
    created = await backend.service().create_job(WS, CreateJobRequest(emails=["jane@acme-robotics.com"]))
    await processor(backend, verifier=False).drain()
    [item] = await backend.items(created.job.job_id)
    assert item.status is ItemStatus.FAILED and item.reason == "no verifier configured"
    assert backend.sim.ledger.snapshot()["hunter_calls"] == 0
