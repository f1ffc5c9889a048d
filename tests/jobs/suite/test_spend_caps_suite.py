"""Spend caps through the processor on every backend (leadenrich.jobs.budget, Processor._pause_at_cap): a job
that reaches its cap pauses before the next paid call with `budget_reached`, one `job.paused` is owed,
nothing is lost or failed, and raising the cap and resuming finishes it."""

from __future__ import annotations

from leadenrich.jobs.budget import SpendCaps
from leadenrich.jobs.control_requests import UpdateJobRequest
from leadenrich.jobs.models import BUDGET_REACHED, JOB_PAUSED, ItemStatus, Job, JobStatus, Page, WebhookEvent
from leadenrich.privacy.ports import AuditEntry, AuditQuery
from tests.jobs.suite.test_control_suite import assert_each_item_once
from tests.support.backends import WS, Backend

CONCURRENCY = 4
# A short run with a short margin (3.5 s for the items: Perplexity's 2 s minimum and some to spare on a
# loaded machine): a hand-back is hidden until its run would end (the time left plus the margin), and on
# moto and Supabase the test waits that out in real time after the resume.
BUDGET = 4.0
MARGIN = 0.5


class RecordedOutbox:
    """A `JobEventOutbox` that keeps what it was given (delivery is the callbacks' tests' business)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, WebhookEvent, str | None]] = []

    async def enqueue(self, job: Job, event: WebhookEvent) -> None:
        self.events.append((job.job_id, event, job.paused_reason))


class RecordedAudit:
    """An `AuditLog` that keeps what it was given (the adapters' own tests cover writing it)."""

    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []

    async def append(self, entry: AuditEntry) -> AuditEntry:
        self.entries.append(entry)
        return entry

    async def query(self, query: AuditQuery) -> Page[AuditEntry]:
        raise NotImplementedError


async def test_a_job_at_its_cap_pauses_before_the_next_paid_call_and_resumes_with_a_higher_cap(
    backend: Backend,
) -> None:
    caps, outbox, audit = SpendCaps(backend.spend_ledger()), RecordedOutbox(), RecordedAudit()
    service = backend.service()
    request = backend.leads(12).model_copy(
        update={
            "max_credits": 3.0,
            "webhook_url": "https://hooks.example.com/leads",
            "webhook_events": [JOB_PAUSED],
        }
    )
    job_id = (await service.create_job(WS, request)).job.job_id

    processor = backend.processor(
        max_items=12, concurrency=CONCURRENCY, budget_seconds=BUDGET, margin_seconds=MARGIN
    )
    processor.spend_caps, processor.events, processor.audit = caps, outbox, audit
    await processor.drain()

    job = await backend.job(job_id)
    assert (job.status, job.paused_reason) == (JobStatus.PAUSED, BUDGET_REACHED)
    assert outbox.events == [(job_id, JOB_PAUSED, BUDGET_REACHED)]  # once, however many items were refused
    assert [(e.actor, e.action, e.job_id, e.detail) for e in audit.entries] == [
        ("processor", "job.pause", job_id, {"reason": BUDGET_REACHED})  # once too
    ]
    spent = await caps.job_spent(WS, job_id)
    # Past the cap by at most the calls in flight when it was reached: one paid call per running item.
    assert 3.0 <= spent.credits <= 3.0 + CONCURRENCY
    items = await backend.items(job_id)
    assert not any(i.status in (ItemStatus.FAILED, ItemStatus.DEAD) for i in items)
    waiting = [i for i in items if not i.status.terminal]
    assert waiting and all(i.attempts == 0 or i.status is ItemStatus.DEFERRED for i in waiting)

    raised = await service.update_job(WS, job_id, UpdateJobRequest(max_credits=1000, paused=False))
    assert raised.status is JobStatus.RUNNING and raised.options.max_credits == 1000
    # Handed-back items were hidden until their run's end; resuming sends them after that, no sooner.
    await backend.elapse(BUDGET + MARGIN + 0.5)
    for _ in range(8):
        if (await backend.job(job_id)).status is JobStatus.COMPLETED:
            break
        await backend.elapse(1.0)
        runner = backend.processor(max_items=40, concurrency=CONCURRENCY)
        runner.spend_caps, runner.events = caps, outbox
        await runner.drain()
    assert (await backend.job(job_id)).status is JobStatus.COMPLETED
    await assert_each_item_once(backend, job_id)
    assert len(outbox.events) == 1
