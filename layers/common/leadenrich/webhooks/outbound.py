"""Signed job callbacks: a JSON event POSTed to the job's `webhook_url` when the job finishes, is cancelled or
is paused, and (when the job asked for `job.progress`) after each processor run that advanced it.

Each attempt is one POST to the checked, pinned address (`ssrf`) with a short timeout, redirects not
followed; 2xx is delivered, anything else (3xx included) a failed attempt. The processor makes the first
attempt of `job.completed` inline, inside its own time budget, the moment it detects completion (exactly once
across processors); a failed attempt is recorded and the delivery put in the outbox for a later processor
run, after a backoff, up to `MAX_ATTEMPTS` attempts. `job.cancelled` and `job.paused` are raised where no
one should wait on a receiver (the API, a spend cap in the middle of an item): `enqueue` only records them in
the outbox, due at once, and the next processor run's callback share (`leadenrich.jobs.processor_callbacks`)
sends them like a retry. Every attempt (time, status code or error) is recorded with the job. The event keeps
its id across retries, so a receiver can drop a repeat.

Progress events are best effort: one attempt at the end of a run, within what is left of its budget, not
recorded and not retried, since the next run's event (or the completion) carries newer counters.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import httpx

from leadenrich.deadline import Deadline
from leadenrich.jobs.models import (
    JOB_CANCELLED,
    JOB_COMPLETED,
    JOB_PAUSED,
    JOB_PROGRESS,
    Job,
    JobEventType,
    WebhookEvent,
)
from leadenrich.jobs.views import JobEvent, JobEventData, JobView
from leadenrich.webhooks import signing, ssrf

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
BACKOFF_SECONDS = (30, 120, 600, 3600, 6 * 3600)  # before attempts 2..6, with up to 20 % jitter
ATTEMPT_TIMEOUT_SECONDS = 5.0
USER_AGENT = "leadenrich-webhooks/1"
# What `CallbackDispatcher.enqueue` accepts: the events raised outside the processor's completion check.
OUTBOX_EVENTS: tuple[JobEventType, ...] = (JOB_CANCELLED, JOB_PAUSED)


@dataclass(frozen=True)
class Delivery:
    """One event for one URL: what the outbox keeps between attempts."""

    workspace_id: str
    job_id: str
    url: str
    event_id: str
    body: str  # the exact JSON signed and sent, the same on every attempt


@dataclass(frozen=True)
class Attempt:
    number: int
    at: datetime
    status_code: int | None = None
    error: str | None = None  # a category, never a secret or a response body

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    def as_record(self) -> dict[str, Any]:
        return {
            "attempt": self.number,
            "at": self.at.isoformat(),
            "status_code": self.status_code,
            "error": self.error,
            "delivered": self.delivered,
        }


class WebhookLog(Protocol):
    """Where attempts and pending retries live (`leadenrich.aws.dynamo_webhooks`)."""

    async def record_attempt(self, delivery: Delivery, attempt: Attempt) -> None: ...

    async def attempts(self, workspace_id: str, job_id: str) -> list[dict[str, Any]]: ...

    async def schedule(self, delivery: Delivery, attempt: int, at: datetime) -> None:
        """Put the delivery in the outbox for attempt number `attempt` at `at`."""
        ...

    async def schedule_once(self, delivery: Delivery, at: datetime) -> bool:
        """Put the delivery's first attempt in the outbox at `at`, unless a delivery with its event id was
        put there before (by any caller, within the attempts' retention): True only when this call did,
        atomically with the check."""
        ...

    async def due(self, now: datetime, limit: int) -> list[tuple[str, Delivery, int]]:
        """(outbox key, delivery, attempt number) of the retries due by `now`, oldest first."""
        ...

    async def take(self, key: str) -> bool:
        """Remove an outbox entry; True only for the one caller whose conditional delete removed it."""
        ...


def completion_event(job: Job, event_id: str | None = None) -> tuple[str, str]:
    """(event id, JSON body) of `job.completed`: the job's id, status and counters, no lead data."""
    return _job_event(JOB_COMPLETED, job, job.completed_at or datetime.now(UTC), event_id)


def progress_event(job: Job, at: datetime) -> tuple[str, str]:
    """(event id, JSON body) of `job.progress`: the same fields as `job.completed`, while it runs."""
    return _job_event(JOB_PROGRESS, job, at, None)


def occurrence_id(job: Job, event: WebhookEvent, occurrence: str) -> str:
    """The event id of one occurrence of `event` for `job`: the same for every call that names it, so the
    outbox keeps it once and a receiver that sees it twice can tell."""
    key = "\x1f".join((job.workspace_id, job.job_id, event, occurrence))
    return "msg_" + hashlib.sha256(key.encode()).hexdigest()[:32]


def _job_event(kind: JobEventType, job: Job, at: datetime, event_id: str | None) -> tuple[str, str]:
    """Built from the API's view of the job (`JobView`), so a callback and `GET /jobs/{id}` agree."""
    event_id = event_id or f"msg_{uuid.uuid4().hex}"
    event = JobEvent(type=kind, id=event_id, timestamp=at, data=JobEventData.of(JobView.from_job(job)))
    return event_id, event.body()


class CallbackSender:
    """One signed POST per call, to the checked address only."""

    def __init__(
        self,
        secrets: Mapping[str, str],
        *,
        allow_local: bool = False,
        transport: httpx.AsyncBaseTransport | None = None,
        now: Callable[[], float] = time.time,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._secrets = dict(secrets)
        self.allow_local = allow_local
        self._transport = transport
        self._now = now
        self._clock = clock

    def secret_for(self, workspace_id: str) -> str | None:
        """The workspace's secret; `*` is a fallback for every workspace (meant for the local stack)."""
        return self._secrets.get(workspace_id) or self._secrets.get("*")

    async def send(self, delivery: Delivery, number: int, time_limit: float) -> Attempt:
        at = self._clock()
        secret = self.secret_for(delivery.workspace_id)
        if secret is None:
            return Attempt(number, at, error="no signing secret for the workspace")
        try:
            target = await ssrf.resolve_public(delivery.url, allow_local=self.allow_local)
        except ssrf.UnsafeUrl as exc:
            return Attempt(number, at, error=f"refused: {exc}")
        url, headers, extensions = ssrf.pinned_url(target)
        body = delivery.body.encode()
        headers |= signing.sign_headers(secret, delivery.event_id, int(self._now()), body)
        headers |= {"content-type": "application/json", "user-agent": USER_AGENT}
        try:
            async with httpx.AsyncClient(
                transport=self._transport, follow_redirects=False, timeout=time_limit, trust_env=False
            ) as client:
                response = await client.post(url, content=body, headers=headers, extensions=extensions)
        except httpx.TimeoutException:
            return Attempt(number, at, error="timeout")
        except httpx.HTTPError as exc:
            return Attempt(number, at, error=type(exc).__name__)
        if 300 <= response.status_code < 400:
            return Attempt(number, at, response.status_code, error="redirect not followed")
        return Attempt(number, at, response.status_code)


class CallbackDispatcher:
    """The processor's completion hook: first attempt inline, retries from the outbox on later runs."""

    def __init__(
        self,
        sender: CallbackSender,
        webhook_log: WebhookLog,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        timeout: float = ATTEMPT_TIMEOUT_SECONDS,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.sender = sender
        self.log = webhook_log
        self.clock = clock
        self.timeout = timeout
        self.jitter = jitter

    async def job_completed(self, job: Job, deadline: Deadline) -> None:
        if job.options.webhook_url is None or not job.options.wants(JOB_COMPLETED):
            return
        event_id, body = completion_event(job)
        delivery = Delivery(job.workspace_id, job.job_id, job.options.webhook_url, event_id, body)
        if deadline.remaining() < 1.0:  # no time left in this run: the next one sends it
            await self.log.schedule(delivery, 1, self.clock())
            return
        await self._attempt(delivery, 1, deadline)

    async def job_progressed(self, job: Job, deadline: Deadline) -> bool:
        """One attempt of `job.progress` when the job asked for it and time is left; False when nothing was
        sent. Not recorded and not retried: the next run's event supersedes it, and the job's `callbacks`
        stay the record of its completion."""
        url = job.options.webhook_url
        if url is None or not job.options.wants(JOB_PROGRESS) or deadline.remaining() < 1.5:
            return False
        event_id, body = progress_event(job, self.clock())
        delivery = Delivery(job.workspace_id, job.job_id, url, event_id, body)
        timeout = max(0.5, min(self.timeout, deadline.remaining() - 0.5))
        attempt = await self.sender.send(delivery, 1, timeout)
        if not attempt.delivered:
            log.warning(
                "progress webhook failed",
                extra={"job": job.job_id, "status_code": attempt.status_code, "error": attempt.error},
            )
        return True

    async def retry_due(self, deadline: Deadline, limit: int = 10) -> int:
        """Send up to `limit` outbox entries that are due, all at once (each within its own timeout, so one
        slow receiver holds no other back), when an attempt's full timeout fits before `deadline`; returns
        how many were attempted. An entry another processor took first is left to it."""
        if deadline.remaining() < self.timeout + 1.0:
            return 0
        taken: list[tuple[Delivery, int]] = []
        for key, delivery, number in await self.log.due(self.clock(), limit):
            if await self.log.take(key):
                taken.append((delivery, number))
        outcomes = await asyncio.gather(
            *(self._attempt(delivery, number, deadline) for delivery, number in taken), return_exceptions=True
        )
        for (delivery, number), outcome in zip(taken, outcomes, strict=True):
            if isinstance(outcome, Exception):  # the attempt's record or its rescheduling failed
                log.error(
                    "webhook retry failed",
                    extra={"job": delivery.job_id, "attempt": number, "error": type(outcome).__name__},
                )
        return len(taken)

    async def enqueue(self, job: Job, event: WebhookEvent, *, occurrence: str | None = None) -> None:
        """Owe `event` (`job.cancelled` or `job.paused`) to the job's webhook_url: a delivery due now, in the
        outbox, with the job as given (status, `paused_reason`) as its body. Nothing is sent here, so the
        API never waits on a receiver: the next processor run's callback share sends it, signed at that
        moment, and retries it like any failed callback (backoff, `MAX_ATTEMPTS`, attempts recorded with
        the job). Nothing is recorded when the job has no webhook_url or did not ask for the event.

        Once per (job, event, occurrence): the event id is derived from the three, and the log keeps an
        event id once, so a repeated call records nothing more. `occurrence` None means the job itself for
        `job.cancelled` (a job is cancelled once, however many requests cancel it) and this call for
        `job.paused` (a job may pause, resume and pause again: call it once per pause, with the job the
        store's `pause_job` returned to the one caller whose write paused it; a caller that may repeat the
        call for the same pause passes something that names it, such as the pause's time)."""
        if event not in OUTBOX_EVENTS:
            raise ValueError(f"{event} is not sent through the outbox (only {', '.join(OUTBOX_EVENTS)})")
        url = job.options.webhook_url
        if url is None or not job.options.wants(event):
            return
        if occurrence is None and event == JOB_CANCELLED:
            occurrence = ""
        now = self.clock()
        given_id = occurrence_id(job, event, occurrence) if occurrence is not None else None
        kind = next(e for e in OUTBOX_EVENTS if e == event)
        event_id, body = _job_event(kind, job, now, given_id)
        if not await self.log.schedule_once(Delivery(job.workspace_id, job.job_id, url, event_id, body), now):
            log.info("job event owed already", extra={"job": job.job_id, "event": event})

    async def _attempt(self, delivery: Delivery, number: int, deadline: Deadline) -> None:
        timeout = max(0.5, min(self.timeout, deadline.remaining() - 0.5))
        attempt = await self.sender.send(delivery, number, timeout)
        await self.log.record_attempt(delivery, attempt)
        if attempt.delivered:
            return
        log.warning(
            "webhook attempt failed",
            extra={
                "job": delivery.job_id,
                "attempt": number,
                "status_code": attempt.status_code,
                "error": attempt.error,
            },
        )
        if number >= MAX_ATTEMPTS:
            return
        base = BACKOFF_SECONDS[min(number - 1, len(BACKOFF_SECONDS) - 1)]
        await self.log.schedule(
            delivery, number + 1, self.clock() + timedelta(seconds=base * (1 + 0.2 * self.jitter()))
        )
