"""Callbacks under a backlog: issue 13's scenario replayed on the real processor, with simulated minutes.

    python -m bench.callbacks_backlog [--leads 200] [--runs 5] [--budget 30] [--callback-seconds 3]
                                      [--concurrency 8] [--seed 7]

The embedded stack (SQLite job store, queue and webhook log in a temporary file) and the processor as
deployed (`ProcessorSettings` defaults, the webhook dispatcher with its 5 s attempts, backoff and jitter),
with a scripted enricher: each lead takes 3-12 s (seeded), cut short by the run's deadline like the
waterfall (handed back, not charged), so the backlog keeps every run busy to its end. A callback receiver
listens on loopback and verifies every signature.

The scenario (issue 13: "a retry due after 30 s went out after 84 s, one due after 2 minutes after 6, no
progress event ever"): a `--leads` job that asked for `job.progress`; a one-lead job (priority 1, done at
the first run's start) whose receiver refuses its `job.completed` twice, so a retry falls due 30 s after
the first attempt and another 2 minutes after the second; and a job cancelled through the outbox between
the second and third ticks (`CallbackDispatcher.enqueue`). The processor runs at each tick of a simulated
minute (EventBridge's rate(1 minute)); a run takes its real time (its budget, under the backlog) and the
rest of the minute is skipped, so the figures are minutes of schedule in about `--runs` x `--budget`
seconds of wall time.

Printed: each run's items, what it sent and when (seconds after its tick), and each owed delivery's due
time against when it went out: its lateness, and whether it kept its schedule (+20 %, the jitter's width:
sent by base x 1.2 after the attempt before it). With `--callback-seconds 0` the runs keep no share for
the progress events: they get only what the items' last writes leave of the margin's last 2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import logging
import os
import random
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.servers import PATHS

if TYPE_CHECKING:
    from leadenrich.deadline import Deadline
    from leadenrich.engine.budget import SpendGate
    from leadenrich.engine.models import EnrichmentResult, Lead
    from leadenrich.engine.screen import Screen
    from leadenrich.webhooks.outbound import Attempt, Delivery, WebhookLog

TICK_SECONDS = 60  # EventBridge rate(1 minute)
SECRET = "whsec_" + base64.b64encode(b"bench-callbacks-backlog-key-0123").decode()
REFUSED_COMPLETIONS = 2  # the small job's receiver answers 500 to its first two job.completed attempts
CANCEL_AT_SECONDS = 90  # between the second and third ticks


class SimClock:
    """Real time inside a run, with the rest of each minute skipped: what the processor, store, queue,
    dispatcher and signatures read (`skip_to` moves it forward, never back)."""

    def __init__(self) -> None:
        self.epoch0 = time.time()
        self._mono0 = time.monotonic()
        self._skipped = 0.0

    def epoch(self) -> float:
        return self.epoch0 + time.monotonic() - self._mono0 + self._skipped

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.epoch(), UTC)

    def seconds(self) -> float:
        """Simulated seconds since the first tick."""
        return self.epoch() - self.epoch0

    def skip_to(self, seconds: float) -> None:
        self._skipped += max(0.0, seconds - self.seconds())


@dataclass
class Received:
    at: float  # simulated seconds
    type: str
    job_id: str
    event_id: str
    processed: int
    verified: bool


class Receiver:
    """Loopback endpoint: records every event with its simulated time; refuses the first completions of
    `refuse_job` (set once that job exists)."""

    def __init__(self, clock: SimClock) -> None:
        self.events: list[Received] = []
        self.refuse_job = ""
        refused = [0]
        outer = self
        from leadenrich.webhooks import signing

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                event = json.loads(body)
                try:
                    verified = signing.verify(SECRET, headers, body, now=clock.epoch()) == event["id"]
                except ValueError:
                    verified = False
                data = event["data"]
                outer.events.append(
                    Received(
                        clock.seconds(),
                        event["type"],
                        data["job_id"],
                        event["id"],
                        data["counters"]["processed"],
                        verified,
                    )
                )
                status = 204
                ours = data["job_id"] == outer.refuse_job and event["type"] == "job.completed"
                if ours and refused[0] < REFUSED_COMPLETIONS:
                    refused[0] += 1
                    status = 500
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"


@dataclass
class Owed:
    event_id: str
    attempt: int
    due: float  # simulated seconds
    base: float  # the backoff it waited (0: owed at once)
    after: float  # when the attempt before it was made (or the event raised)


@dataclass
class RecordingLog:
    """The SQLite webhook log, noting when each delivery is owed (composition: every call is the log's)."""

    log: WebhookLog
    clock: SimClock
    owed: list[Owed] = field(default_factory=list)

    async def record_attempt(self, delivery: Delivery, attempt: Attempt) -> None:
        await self.log.record_attempt(delivery, attempt)

    async def attempts(self, workspace_id: str, job_id: str) -> list[dict[str, Any]]:
        return await self.log.attempts(workspace_id, job_id)

    async def schedule(self, delivery: Delivery, attempt: int, at: datetime) -> None:
        from leadenrich.webhooks.outbound import BACKOFF_SECONDS

        due = at.timestamp() - self.clock.epoch0
        base = BACKOFF_SECONDS[attempt - 2] if attempt >= 2 else 0.0
        self.owed.append(Owed(delivery.event_id, attempt, due, base, self.clock.seconds()))
        await self.log.schedule(delivery, attempt, at)

    async def schedule_once(self, delivery: Delivery, at: datetime) -> bool:
        due = at.timestamp() - self.clock.epoch0
        self.owed.append(Owed(delivery.event_id, 1, due, 0.0, self.clock.seconds()))
        return await self.log.schedule_once(delivery, at)

    async def due(self, now: datetime, limit: int) -> list[tuple[str, Delivery, int]]:
        return await self.log.due(now, limit)

    async def take(self, key: str) -> bool:
        return await self.log.take(key)


class ScriptedEnricher:
    """A lead takes 3-12 s (seeded), or until its deadline: then it is handed back uncharged, as the
    waterfall does when time runs out. `quick.` domains answer at once."""

    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed)

    async def enrich(
        self,
        lead: Lead,
        deadline: Deadline | None = None,
        budget: SpendGate | None = None,
        screen: Screen | None = None,
    ) -> EnrichmentResult:
        from leadenrich.engine.models import EnrichmentResult, LeadStatus

        takes = 0.0 if lead.domain.startswith("quick.") else self._random.uniform(3.0, 12.0)
        left = deadline.remaining() if deadline is not None else takes
        await asyncio.sleep(max(0.0, min(takes, left)))
        if left < takes:
            return EnrichmentResult(
                lead.domain, LeadStatus.DEFERRED, reason="deadline", attempt_consumed=False
            )
        return EnrichmentResult(lead.domain, LeadStatus.NOT_FOUND, reason="scripted")


async def scenario(opts: argparse.Namespace, state: Path) -> dict[str, Any]:
    from leadenrich.jobs.models import JOB_CANCELLED
    from leadenrich.jobs.processor import Processor, ProcessorSettings
    from leadenrich.jobs.requests import CreateJobRequest
    from leadenrich.jobs.service import JobService
    from leadenrich.sqlite.db import FILE_NAME, Database
    from leadenrich.sqlite.job_store import SqliteJobStore
    from leadenrich.sqlite.queue import SqliteWorkQueue
    from leadenrich.sqlite.webhook_log import SqliteWebhookLog
    from leadenrich.webhooks.outbound import CallbackDispatcher, CallbackSender

    clock = SimClock()
    db = Database(state / FILE_NAME)
    store, queue = SqliteJobStore(db), SqliteWorkQueue(db, clock=clock.epoch)
    log = RecordingLog(SqliteWebhookLog(db, now=clock.epoch), clock)
    receiver = Receiver(clock)
    sender = CallbackSender({"*": SECRET}, allow_local=True, now=clock.epoch, clock=clock.now)
    dispatcher = CallbackDispatcher(sender, log, clock=clock.now, jitter=random.Random(opts.seed).random)
    settings = ProcessorSettings(
        max_items=1000,
        budget_seconds=opts.budget,
        concurrency=opts.concurrency,
        visibility_timeout=90,
        callback_seconds=opts.callback_seconds,
    )
    processor = Processor(
        store, queue, ScriptedEnricher(opts.seed), settings, clock=clock.now, callbacks=dispatcher
    )
    service = JobService(store, queue, clock.now)

    def request(domains: list[str], events: list[str], priority: int = 3) -> CreateJobRequest:
        body = {
            "domains": domains,
            "webhook_url": receiver.url,
            "webhook_events": events,
            "priority": priority,
        }
        return CreateJobRequest.model_validate(body)

    big = await service.create_job(
        "ws-big",
        request([f"lead{i}.example.com" for i in range(opts.leads)], ["job.progress", "job.completed"]),
    )
    small = await service.create_job(
        "ws-small", request(["quick.example.com"], ["job.completed"], priority=1)
    )
    receiver.refuse_job = small.job.job_id
    cancelled_job = ""
    runs: list[dict[str, Any]] = []
    for n in range(opts.runs):
        tick = n * TICK_SECONDS
        if cancelled_job == "" and tick > CANCEL_AT_SECONDS:
            clock.skip_to(CANCEL_AT_SECONDS)
            made = await service.create_job("ws-cancel", request(["quick.example.com"], ["job.cancelled"]))
            job = await store.cancel_job("ws-cancel", made.job.job_id, clock.now())
            assert job is not None
            await dispatcher.enqueue(job, JOB_CANCELLED)
            cancelled_job = job.job_id
        clock.skip_to(tick)
        before = len(receiver.events)
        report = await processor.drain()
        state_now = await store.get_job("ws-big", big.job.job_id)
        assert state_now is not None
        runs.append(
            {
                "tick": tick,
                "seconds": report.seconds,
                "finished": report.finished,
                "left": state_now.counters.total - state_now.counters.processed,
                "sent": [(e.at - tick, e.type, e.job_id) for e in receiver.events[before:]],
            }
        )
    db.close()
    receiver.server.shutdown()
    names = {big.job.job_id: "backlog", small.job.job_id: "small", cancelled_job: "cancelled"}
    return {"runs": runs, "owed": log.owed, "events": receiver.events, "names": names}


def report(opts: argparse.Namespace, result: dict[str, Any]) -> None:
    names: dict[str, str] = result["names"]
    events: list[Received] = result["events"]
    print(
        f"{opts.leads}-lead backlog, {opts.runs} runs at {TICK_SECONDS} s ticks, budget {opts.budget:g} s,"
        f" callback share {opts.callback_seconds:g} s, concurrency {opts.concurrency}, seed {opts.seed}"
    )
    print("\nrun  tick   wall   items  backlog left  sent (s after the tick)")
    for n, run in enumerate(result["runs"]):
        sent = (
            ", ".join(f"{names.get(job, job)} {kind} @{at:.1f}" for at, kind, job in run["sent"]) or "nothing"
        )
        figures = f"{n:>3}  {run['tick']:>4}  {run['seconds']:>5.1f}  {run['finished']:>5}  {run['left']:>12}"
        print(f"{figures}  {sent}")
    progress_runs = sum(any(k == "job.progress" for _, k, _ in r["sent"]) for r in result["runs"])
    advanced = sum(r["finished"] > 0 for r in result["runs"])
    print(f"\nprogress events: {progress_runs} of {advanced} runs that advanced the backlog job")
    print("\nowed delivery            attempt  base   raised  due     sent    late   kept (+20 %)")
    for owed in result["owed"]:
        sent_at = next(
            (e.at for e in events if e.event_id == owed.event_id and e.at >= owed.due - 0.001), None
        )
        kind = next((e.type for e in events if e.event_id == owed.event_id), "?")
        job = next((names.get(e.job_id, e.job_id) for e in events if e.event_id == owed.event_id), "?")
        limit = owed.after + owed.base * 1.2 if owed.base else owed.due
        late = f"{sent_at - owed.due:6.1f}" if sent_at is not None else "  n/a "
        sent = f"{sent_at:7.1f}" if sent_at is not None else "  never"
        kept = "n/a" if sent_at is None or not owed.base else ("yes" if sent_at <= limit else "no")
        what = f"{job} {kind}"
        times = f"{owed.attempt:>7}  {owed.base:>4.0f}  {owed.after:>6.1f}  {owed.due:>6.1f}"
        print(f"{what:<25} {times}  {sent}  {late}  {kept}")
    bad = [e for e in events if not e.verified]
    print(f"\nsignatures verified: {len(events) - len(bad)} of {len(events)}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--leads", type=int, default=200, help="the backlog job's leads")
    parser.add_argument("--runs", type=int, default=5, help="processor ticks, a minute apart")
    parser.add_argument("--budget", type=float, default=30.0, help="PROCESSOR_BUDGET_SECONDS")
    parser.add_argument("--callback-seconds", type=float, default=3.0, help="PROCESSOR_CALLBACK_SECONDS")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seed", type=int, default=7, help="lead durations and the retries' jitter")
    opts = parser.parse_args(argv)
    sys.path[:0] = [str(p) for p in PATHS if str(p) not in sys.path]
    os.environ["ALLOW_LOCAL_WEBHOOKS"] = "true"  # the receiver is on loopback
    logging.getLogger("leadenrich").setLevel(logging.ERROR)  # the refused attempts' warnings are the plan
    with tempfile.TemporaryDirectory(prefix="bench-callbacks-") as state:
        result = asyncio.run(scenario(opts, Path(state)))
    report(opts, result)


if __name__ == "__main__":
    main()
