"""Signed callbacks: the request sent, what counts as delivered, and the retries with backoff."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from leadenrich.deadline import Deadline
from leadenrich.jobs.models import JOB_COMPLETED, JOB_PROGRESS, Job, JobCounters, JobOptions, JobStatus
from leadenrich.webhooks import signing
from leadenrich.webhooks.outbound import (
    BACKOFF_SECONDS,
    MAX_ATTEMPTS,
    Attempt,
    CallbackDispatcher,
    CallbackSender,
    Delivery,
    completion_event,
)

SECRET = "whsec_" + base64.b64encode(b"s" * 32).decode()
T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


class MemoryLog:
    def __init__(self) -> None:
        self.recorded: list[Attempt] = []
        self.outbox: dict[str, tuple[Delivery, int, datetime]] = {}
        self.owed: set[str] = set()  # event ids put in the outbox once

    async def record_attempt(self, delivery: Delivery, attempt: Attempt) -> None:
        self.recorded.append(attempt)

    async def attempts(self, workspace_id: str, job_id: str) -> list[dict[str, Any]]:
        return [a.as_record() for a in self.recorded]

    async def schedule(self, delivery: Delivery, attempt: int, at: datetime) -> None:
        self.outbox[f"{at.isoformat()}#{delivery.event_id}#{attempt}"] = (delivery, attempt, at)

    async def schedule_once(self, delivery: Delivery, at: datetime) -> bool:
        if delivery.event_id in self.owed:
            return False
        self.owed.add(delivery.event_id)
        await self.schedule(delivery, 1, at)
        return True

    async def due(self, now: datetime, limit: int) -> list[tuple[str, Delivery, int]]:
        return [(k, d, n) for k, (d, n, at) in sorted(self.outbox.items()) if at <= now][:limit]

    async def take(self, key: str) -> bool:
        return self.outbox.pop(key, None) is not None


def job(url: str | None = "https://93.184.216.34/hook") -> Job:
    return Job(
        "ws-a",
        "job_1",
        JobStatus.COMPLETED,
        T0,
        options=JobOptions(webhook_url=url, tags=("t",)),
        counters=JobCounters(total=2, processed=2, found=1, failed=1),
        completed_at=T0,
    )


def sender(handler: Any, **kwargs: Any) -> CallbackSender:
    return CallbackSender({"ws-a": SECRET}, transport=httpx.MockTransport(handler), now=lambda: 1_800_000_000)


async def test_the_callback_is_signed_sent_to_the_checked_address_and_carries_no_lead_data() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    event_id, body = completion_event(job())
    delivery = Delivery("ws-a", "job_1", "https://93.184.216.34/hook", event_id, body)
    attempt = await sender(handler).send(delivery, 1, 5.0)
    assert attempt.delivered and attempt.status_code == 204
    request = seen[0]
    assert str(request.url) == "https://93.184.216.34/hook"
    headers = {k.lower(): v for k, v in request.headers.items()}
    assert signing.verify(SECRET, headers, request.content, now=1_800_000_000) == event_id
    event = json.loads(request.content)
    assert event["type"] == "job.completed" and event["data"]["job_id"] == "job_1"
    assert event["data"]["counters"]["found"] == 1 and "@" not in request.content.decode()


async def test_redirects_errors_and_unsafe_targets_are_failed_attempts() -> None:
    delivery = Delivery("ws-a", "job_1", "https://93.184.216.34/hook", "msg_1", "{}")
    moved = await sender(lambda r: httpx.Response(302, headers={"location": "http://10.0.0.1/"})).send(
        delivery, 1, 5.0
    )
    assert not moved.delivered and moved.status_code == 302 and moved.error == "redirect not followed"
    assert (await sender(lambda r: httpx.Response(500)).send(delivery, 1, 5.0)).status_code == 500

    def broken(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    assert (await sender(broken).send(delivery, 1, 5.0)).error == "ConnectError"
    unsafe = Delivery("ws-a", "job_1", "https://localhost/hook", "msg_1", "{}")
    refused = await sender(lambda r: httpx.Response(200)).send(unsafe, 1, 5.0)
    assert not refused.delivered and (refused.error or "").startswith("refused")
    no_secret = Delivery("ws-b", "job_1", "https://93.184.216.34/hook", "msg_1", "{}")
    assert (await sender(lambda r: httpx.Response(200)).send(no_secret, 1, 5.0)).error == (
        "no signing secret for the workspace"
    )


async def test_a_failed_attempt_is_recorded_and_retried_with_backoff_until_delivered() -> None:
    statuses = [500, 503, 200]
    ids: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        ids.append(request.headers["webhook-id"])
        return httpx.Response(statuses.pop(0))

    log = MemoryLog()
    now = [T0]
    dispatcher = CallbackDispatcher(sender(handler), log, clock=lambda: now[0], jitter=lambda: 0.0)
    await dispatcher.job_completed(job(), Deadline.after(30))
    assert [a.status_code for a in log.recorded] == [500]
    ((_, _, at),) = log.outbox.values()
    assert at == T0 + timedelta(seconds=BACKOFF_SECONDS[0])

    assert await dispatcher.retry_due(Deadline.after(30)) == 0  # not due yet
    now[0] = at
    assert await dispatcher.retry_due(Deadline.after(30)) == 1
    now[0] = T0 + timedelta(days=1)
    assert await dispatcher.retry_due(Deadline.after(30)) == 1
    assert [(a.number, a.status_code) for a in log.recorded] == [(1, 500), (2, 503), (3, 200)]
    assert not log.outbox and len(set(ids)) == 1  # one event id across the retries


async def test_retries_stop_after_max_attempts_and_wait_for_time_in_the_budget() -> None:
    log = MemoryLog()
    now = [T0]
    dispatcher = CallbackDispatcher(sender(lambda r: httpx.Response(500)), log, clock=lambda: now[0])
    await dispatcher.job_completed(job(), Deadline.after(0.5))  # no time: queued for the next run
    assert not log.recorded and len(log.outbox) == 1
    assert await dispatcher.retry_due(Deadline.after(2)) == 0  # not enough budget for one attempt
    for _ in range(MAX_ATTEMPTS + 1):
        await dispatcher.retry_due(Deadline.after(30))
        now[0] += timedelta(days=1)
    assert [a.number for a in log.recorded] == list(range(1, MAX_ATTEMPTS + 1)) and not log.outbox
    await dispatcher.job_completed(job(url=None), Deadline.after(30))  # no URL, nothing
    assert len(log.recorded) == MAX_ATTEMPTS


async def test_progress_is_one_unrecorded_attempt_and_only_for_the_events_a_job_asked_for() -> None:
    seen: list[dict[str, Any]] = []
    statuses = [500, 204, 204]

    def handler(request: httpx.Request) -> httpx.Response:
        headers = {k.lower(): v for k, v in request.headers.items()}
        signing.verify(SECRET, headers, request.content, now=1_800_000_000)
        seen.append(json.loads(request.content))
        return httpx.Response(statuses.pop(0))

    log = MemoryLog()
    dispatcher = CallbackDispatcher(sender(handler), log, clock=lambda: T0)
    running = replace(
        job(),
        status=JobStatus.RUNNING,
        completed_at=None,
        counters=JobCounters(total=5, processed=2, found=1),
        options=JobOptions(webhook_url="https://93.184.216.34/hook", webhook_events=("job.progress",)),
    )

    assert await dispatcher.job_progressed(running, Deadline.after(30))  # answered 500
    assert not log.recorded and not log.outbox  # best effort: not kept, not retried
    assert await dispatcher.job_progressed(running, Deadline.after(30))
    assert not await dispatcher.job_progressed(running, Deadline.after(1.0))  # too little time left
    await dispatcher.job_completed(replace(running, status=JobStatus.COMPLETED), Deadline.after(30))
    assert len(seen) == 2  # completion was not asked for

    assert [(e["type"], e["data"]["status"], e["data"]["counters"]["processed"]) for e in seen] == [
        ("job.progress", "running", 2),
        ("job.progress", "running", 2),
    ]
    assert seen[0]["id"] != seen[1]["id"] and seen[0]["timestamp"] == T0.isoformat()
    assert not await dispatcher.job_progressed(job(), Deadline.after(30))  # default: completion only
    assert len(seen) == 2


async def test_due_retries_go_out_together_so_one_slow_receiver_holds_no_other_back() -> None:
    """Three owed retries, each receiver taking 0.3 s: attempted at once, all within one attempt's time."""
    import asyncio

    active, most = [0], [0]

    class SlowTransport(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            active[0] += 1
            most[0] = max(most[0], active[0])
            await asyncio.sleep(0.3)
            active[0] -= 1
            return httpx.Response(204)

    log = MemoryLog()
    for n in range(3):
        await log.schedule(
            Delivery("ws-a", f"job_{n}", "https://93.184.216.34/hook", f"msg_{n}", "{}"), 2, T0
        )
    slow = CallbackSender({"ws-a": SECRET}, transport=SlowTransport(), now=lambda: 1_800_000_000)
    dispatcher = CallbackDispatcher(slow, log, clock=lambda: T0)

    assert await dispatcher.retry_due(Deadline.after(30)) == 3
    assert most[0] == 3 and not log.outbox
    assert [a.status_code for a in log.recorded] == [204, 204, 204]


def paused_job(events: tuple[str, ...] = ("job.paused", "job.cancelled")) -> Job:
    return replace(
        job(),
        status=JobStatus.PAUSED,
        completed_at=None,
        paused_reason="budget_reached",
        counters=JobCounters(total=5, processed=2, found=1),
        options=JobOptions(webhook_url="https://93.184.216.34/hook", webhook_events=events, tags=("t",)),
    )


async def test_an_enqueued_event_is_owed_now_and_sent_by_the_next_retry_sweep_signed_with_the_job() -> None:
    seen: list[tuple[dict[str, str], bytes]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(({k.lower(): v for k, v in request.headers.items()}, request.content))
        return httpx.Response(204)

    log = MemoryLog()
    dispatcher = CallbackDispatcher(sender(handler), log, clock=lambda: T0)
    paused = paused_job()
    await dispatcher.enqueue(paused, "job.paused")
    assert not seen and not log.recorded  # nothing sent by the caller (the API): only owed
    [(delivery, number, at)] = log.outbox.values()
    assert (number, at) == (1, T0)

    assert await dispatcher.retry_due(Deadline.after(30)) == 1
    [(headers, body)] = seen
    assert signing.verify(SECRET, headers, body, now=1_800_000_000) == delivery.event_id
    event = json.loads(body)
    assert event["type"] == "job.paused" and event["id"] == delivery.event_id
    assert event["timestamp"] == T0.isoformat()
    assert event["data"]["status"] == "paused" and event["data"]["paused_reason"] == "budget_reached"
    assert event["data"]["counters"]["processed"] == 2 and event["data"]["tags"] == ["t"]
    assert [(a.number, a.status_code) for a in log.recorded] == [(1, 204)]  # recorded with the job


async def test_job_cancelled_is_owed_once_per_job_and_each_pause_once_per_occurrence() -> None:
    log = MemoryLog()
    dispatcher = CallbackDispatcher(sender(lambda r: httpx.Response(204)), log, clock=lambda: T0)
    cancelled = replace(paused_job(), status=JobStatus.CANCELLED, paused_reason=None)
    await dispatcher.enqueue(cancelled, "job.cancelled")
    await dispatcher.enqueue(cancelled, "job.cancelled")  # a second request cancelling the same job
    assert len(log.outbox) == 1

    await dispatcher.enqueue(paused_job(), "job.paused")
    await dispatcher.enqueue(paused_job(), "job.paused")  # paused, resumed and paused again: two events
    await dispatcher.enqueue(paused_job(), "job.paused", occurrence="2026-11-22T09:00:00Z")
    await dispatcher.enqueue(paused_job(), "job.paused", occurrence="2026-11-22T09:00:00Z")  # a repeat
    assert len(log.outbox) == 4 and len({d.event_id for d, _, _ in log.outbox.values()}) == 4


async def test_enqueue_records_nothing_for_a_job_that_did_not_ask_and_refuses_other_events() -> None:
    log = MemoryLog()
    dispatcher = CallbackDispatcher(sender(lambda r: httpx.Response(204)), log, clock=lambda: T0)
    await dispatcher.enqueue(paused_job(events=("job.completed",)), "job.paused")
    await dispatcher.enqueue(replace(paused_job(), options=JobOptions(webhook_url=None)), "job.cancelled")
    assert not log.outbox
    for event in (JOB_PROGRESS, JOB_COMPLETED):
        with pytest.raises(ValueError, match="outbox"):
            await dispatcher.enqueue(paused_job(), event)
