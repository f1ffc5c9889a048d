"""Callbacks under a backlog: the real processor with hundreds of items waiting and a slow enricher that fills
every run's budget still sends, in each run, the callback retries that are due, the events the API queued
(`job.cancelled`, `job.paused`) and a `job.progress` for the job it advanced (issue 13, item 6).

On SQLite (the embedded stack) and on DynamoDB + SQS (moto), with the webhook log of each, and a callback
receiver on loopback that checks every signature. The schedule is checked on an injected clock (time jumps
between the runs, as a minute passes between two processor ticks); the runs themselves are real and short.
Without the callbacks' share the items kept every run busy to its deadline and none of this went out.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest

from leadenrich.aws.dynamo_jobs import DynamoJobStore
from leadenrich.aws.dynamo_schema import create_table
from leadenrich.aws.dynamo_webhooks import DynamoWebhookLog
from leadenrich.aws.sqs_queue import SqsWorkQueue, create_band_queues
from leadenrich.deadline import Deadline
from leadenrich.engine.budget import SpendGate
from leadenrich.engine.models import EnrichmentResult, Lead, LeadStatus
from leadenrich.engine.screen import Screen
from leadenrich.jobs.models import BUDGET_REACHED, JOB_CANCELLED, JOB_PAUSED, JobStatus
from leadenrich.jobs.ports import JobStore, WorkQueue
from leadenrich.jobs.priorities import BandedWorkQueue
from leadenrich.jobs.processor import Processor, ProcessorSettings
from leadenrich.jobs.processor_callbacks import CallbackShare
from leadenrich.jobs.requests import CreateJobRequest
from leadenrich.jobs.service import JobService
from leadenrich.sqlite.db import FILE_NAME, Database
from leadenrich.sqlite.job_store import SqliteJobStore
from leadenrich.sqlite.queue import SqliteWorkQueue
from leadenrich.sqlite.webhook_log import SqliteWebhookLog
from leadenrich.webhooks import signing
from leadenrich.webhooks.outbound import BACKOFF_SECONDS, CallbackDispatcher, CallbackSender, Delivery
from leadenrich.webhooks.wiring import EventLog

SECRET = "whsec_" + base64.b64encode(b"callback-share-signing-key-01234").decode()
BACKLOG = 300
# A short run with the deployed shape: items until 2.5 s, the 4.5 s before the callbacks' end (7 s) theirs.
# A progress event needs 1.5 s of that share left when the items are done, and the items' last writes come
# after their deadline: on moto under load (load average 5 on 2 cores) they took up to 1.5 s, which left a
# 3 s share (the deployed length) just short of it. 4.5 s leaves 3 s for them; the run is no longer for it
# (it ends once the progress events are sent).
SETTINGS = ProcessorSettings(
    max_items=1000,
    budget_seconds=7.5,
    concurrency=4,
    visibility_timeout=30,
    margin_seconds=0.5,
    min_item_seconds=0.5,
    callback_seconds=4.5,
)
ATTEMPT_TIMEOUT = 1.0  # so a retry fits a short run (it needs its timeout and a second)


class Clock:
    """Wall time plus the minutes skipped between runs: what the processor, the store, the queue, the
    dispatcher and the signatures all read."""

    def __init__(self) -> None:
        self.skipped = 0.0

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.skipped)

    def epoch(self) -> float:
        return time.time() + self.skipped


class Receiver:
    """A loopback endpoint: records each request (with the clock's time), answers `answer(event)`."""

    def __init__(self, clock: Clock, answer: Callable[[dict[str, Any]], int]) -> None:
        self.requests: list[tuple[float, dict[str, str], bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                outer.requests.append((clock.epoch(), headers, body))
                self.send_response(answer(json.loads(body)))
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def events(self) -> list[dict[str, Any]]:
        """Every event received, in order, each signature verified at the time it arrived."""
        out = []
        for at, headers, body in self.requests:
            event = json.loads(body)
            assert signing.verify(SECRET, headers, body, now=at) == event["id"]
            out.append(event)
        return out

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class SlowEnricher:
    """Every lead takes all the time its deadline gives it, then is not found: a run's items always last to
    their deadline, which is what left the callbacks nothing before they had a share of their own. A
    `quick.` domain answers at once (the small job that completes early in a run)."""

    async def enrich(
        self,
        lead: Lead,
        deadline: Deadline | None = None,
        budget: SpendGate | None = None,
        screen: Screen | None = None,
    ) -> EnrichmentResult:
        assert deadline is not None
        if not lead.domain.startswith("quick."):
            await asyncio.sleep(max(0.0, deadline.remaining() - 0.05))
        return EnrichmentResult(lead.domain, LeadStatus.NOT_FOUND, reason="scripted")


@dataclass
class Stack:
    store: JobStore
    queue: WorkQueue
    log: EventLog


@pytest.fixture(params=["sqlite", "dynamodb"])
async def stack(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple[Stack, Clock]]:
    clock = Clock()
    if request.param == "sqlite":
        db = Database(tmp_path / FILE_NAME)
        yield Stack(SqliteJobStore(db), SqliteWorkQueue(db, clock=clock.epoch), SqliteWebhookLog(db)), clock
        db.close()
        return
    request.getfixturevalue("mocked_aws")
    dynamodb, sqs = boto3.client("dynamodb"), boto3.client("sqs")
    create_table(dynamodb, "leadenrich")
    urls = create_band_queues(sqs, "leadenrich-work", visibility_timeout=30)
    queue = BandedWorkQueue(
        {band: SqsWorkQueue(url, dlq, sqs, serialize_calls=True) for band, (url, dlq) in urls.items()}
    )
    store = DynamoJobStore("leadenrich", dynamodb, serialize_calls=True)
    yield Stack(store, queue, DynamoWebhookLog("leadenrich", dynamodb, serialize_calls=True)), clock


async def test_every_run_sends_its_due_retries_queued_events_and_progress_whatever_the_backlog(
    stack: tuple[Stack, Clock], monkeypatch: pytest.MonkeyPatch
) -> None:
    backend, clock = stack
    monkeypatch.setenv("ALLOW_LOCAL_WEBHOOKS", "true")  # the receiver is on loopback
    failed_once: set[str] = set()

    def answer(event: dict[str, Any]) -> int:
        """The small job's completion fails its first attempt; everything else is delivered."""
        key = f"{event['type']}:{event['data']['job_id']}"
        if event["type"] == "job.completed" and key not in failed_once:
            failed_once.add(key)
            return 500
        return 204

    receiver = Receiver(clock, answer)
    sender = CallbackSender({"*": SECRET}, allow_local=True, now=clock.epoch, clock=clock.now)
    dispatcher = CallbackDispatcher(
        sender, backend.log, clock=clock.now, timeout=ATTEMPT_TIMEOUT, jitter=lambda: 0.0
    )
    service = JobService(backend.store, backend.queue, clock.now, queue_window=0)
    processor = Processor(
        backend.store, backend.queue, SlowEnricher(), SETTINGS, clock=clock.now, callbacks=dispatcher
    )

    def request(n: int, events: list[str], name: str = "lead", priority: int = 3) -> CreateJobRequest:
        domains = [f"{name}{i}.example.com" if n > 1 else f"{name}.example.com" for i in range(n)]
        return CreateJobRequest.model_validate(
            {"domains": domains, "webhook_url": receiver.url, "webhook_events": events, "priority": priority}
        )

    try:
        # Priority 1: its band is received first, so it completes in the first run on every queue.
        small = (await service.create_job("ws-b", request(1, ["job.completed"], "quick", priority=1))).job
        big = (await service.create_job("ws-a", request(BACKLOG, ["job.progress", "job.completed"]))).job

        first_tick = clock.now()
        await processor.drain()

        big_after_first = await backend.store.get_job("ws-a", big.job_id)
        assert big_after_first is not None and 0 < big_after_first.counters.processed < BACKLOG
        assert [(e["type"], e["data"]["job_id"]) for e in receiver.events()] == [
            ("job.completed", small.job_id),  # answered 500: owed again in 30 s
            ("job.progress", big.job_id),
        ]
        assert receiver.events()[1]["data"]["counters"]["processed"] == big_after_first.counters.processed

        # The next tick, a minute after the first: the retry is due (since 30 s); meanwhile the API cancelled
        # a job and a spend cap paused another.
        clock.skipped += 60 - (clock.now() - first_tick).total_seconds()
        to_cancel = (await service.create_job("ws-c", request(1, ["job.cancelled"]))).job
        cancelled = await backend.store.cancel_job("ws-c", to_cancel.job_id, clock.now())
        assert cancelled is not None and cancelled.status is JobStatus.CANCELLED
        await dispatcher.enqueue(cancelled, JOB_CANCELLED)
        await dispatcher.enqueue(cancelled, JOB_CANCELLED)  # a second cancel request: still one event
        paused = replace(
            big_after_first,
            job_id="job_paused",
            status=JobStatus.PAUSED,
            paused_reason=BUDGET_REACHED,
            options=replace(big_after_first.options, webhook_events=("job.paused",)),
        )
        await dispatcher.enqueue(paused, JOB_PAUSED)
        sent_before = len(receiver.requests)

        second_tick = clock.now()
        await processor.drain()

        big_after_second = await backend.store.get_job("ws-a", big.job_id)
        assert big_after_second is not None
        processed = big_after_second.counters.processed
        assert big_after_first.counters.processed < processed < BACKLOG  # still a backlog
        second = [(e["type"], e["data"]["job_id"]) for e in receiver.events()[sent_before:]]
        # The owed deliveries went out at the run's start, the progress event at its end.
        assert sorted(second[:3]) == sorted(
            [
                ("job.completed", small.job_id),
                ("job.cancelled", to_cancel.job_id),
                ("job.paused", "job_paused"),
            ]
        )
        assert second[3:] == [("job.progress", big.job_id)]
        events = receiver.events()
        assert events[-1]["data"]["counters"]["processed"] == processed
        (pause_event,) = [e for e in events if e["type"] == "job.paused"]
        assert pause_event["data"]["status"] == "paused"
        assert pause_event["data"]["paused_reason"] == BUDGET_REACHED
        (cancel_event,) = [e for e in events if e["type"] == "job.cancelled"]
        assert cancel_event["data"]["status"] == "cancelled" and "paused_reason" not in cancel_event["data"]

        # The retry kept its event id and its schedule: not before its backoff, and at the start of the first
        # run after it fell due (not after that run's items), recorded with the job.
        attempts = await backend.log.attempts("ws-b", small.job_id)
        assert [(a["attempt"], a["status_code"]) for a in attempts] == [(1, 500), (2, 204)]
        assert attempts[0]["event_id"] == attempts[1]["event_id"]
        first_at, retry_at = (datetime.fromisoformat(a["at"]) for a in attempts)
        assert retry_at - first_at >= timedelta(seconds=BACKOFF_SECONDS[0])
        assert retry_at - second_tick < timedelta(seconds=1)
        assert await backend.log.due(clock.now() + timedelta(days=1), 10) == []  # nothing left owed
    finally:
        receiver.close()


async def test_a_retry_that_falls_due_while_the_items_run_goes_out_in_that_run(tmp_path: Path) -> None:
    """The share looks in the outbox again while the run goes on (here every 0.2 s), not only at its start."""
    clock = Clock()
    delivered: list[float] = []

    def answer(event: dict[str, Any]) -> int:
        delivered.append(clock.epoch())
        return 204

    receiver = Receiver(clock, answer)
    db = Database(tmp_path / FILE_NAME)
    log = SqliteWebhookLog(db)
    sender = CallbackSender({"*": SECRET}, allow_local=True, now=clock.epoch, clock=clock.now)
    dispatcher = CallbackDispatcher(sender, log, clock=clock.now, timeout=ATTEMPT_TIMEOUT)
    try:
        body = json.dumps({"type": "job.completed", "id": "msg_1", "data": {"job_id": "job_1"}})
        due = clock.now() + timedelta(seconds=0.5)
        await log.schedule(Delivery("ws-a", "job_1", receiver.url, "msg_1", body), 2, due)
        share = CallbackShare.start(
            dispatcher, SqliteJobStore(db), Deadline.after(5.0), margin_seconds=0.5, poll_seconds=0.2
        )
        await asyncio.sleep(1.2)  # the items at work
        await share.finish({}, [])
        assert len(delivered) == 1 and delivered[0] >= due.timestamp()
        assert [a["attempt"] for a in await log.attempts("ws-a", "job_1")] == [2]
    finally:
        receiver.close()
        db.close()


async def test_the_items_stop_before_the_share_and_keep_the_whole_window_without_callbacks(
    tmp_path: Path,
) -> None:
    db = Database(tmp_path / FILE_NAME)
    budget = Deadline(1000.0)
    quiet = CallbackShare.start(None, SqliteJobStore(db), budget, margin_seconds=3.0)
    assert quiet.items_deadline(3.0).at == 997.0  # no callbacks: only the margin
    await quiet.finish({}, [])
    sender = CallbackSender({}, clock=lambda: datetime.now(UTC))
    wired = CallbackShare(
        CallbackDispatcher(sender, SqliteWebhookLog(db)), SqliteJobStore(db), budget, margin_seconds=3.0
    )
    assert wired.deadline.at == 999.0  # the callbacks end a second before the budget
    assert wired.items_deadline(3.0).at == 996.0  # 3 s before the callbacks' end: 1 s past the margin
    assert wired.items_deadline(1.0).at == 997.0  # never past the margin
    db.close()
