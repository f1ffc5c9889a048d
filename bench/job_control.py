"""Job control benchmark: what pausing and resuming a large job costs, on the embedded (SQLite) store.

    python -m bench.job_control [--leads 10000] [--window 50] [--ran 500]

A job of `--leads` items is created (its first window queued), `--ran` of its items are marked as run by
their leaders (as a processor's first outcomes would: `sent_next`, finished), the job is paused and a
processor-like pass drops its queued messages, then it is resumed. Printed: how long the pause, the drop
and the resume took, how many items the resume read and how many messages it sent (the waiting items whose
message had been sent: the first window plus the successors of every leader that ran), and the peak
resident memory of the process. The store and queue are the embedded stack's, on a temporary file.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from leadenrich.jobs.control import resend_waiting
from leadenrich.jobs.models import ItemStatus
from leadenrich.jobs.ports import CounterDelta
from leadenrich.jobs.requests import CreateJobRequest
from leadenrich.jobs.service import JobService
from leadenrich.sqlite.db import Database
from leadenrich.sqlite.job_store import SqliteJobStore
from leadenrich.sqlite.queue import SqliteWorkQueue

WS = "bench"


async def run(leads: int, window: int, ran: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        db = Database(Path(folder) / "bench.sqlite3")
        store, queue = SqliteJobStore(db), SqliteWorkQueue(db)
        service = JobService(store, queue, queue_window=window)
        domains = [f"company-{n}.example.com" for n in range(leads)]
        job = (await service.create_job(WS, CreateJobRequest(domains=domains))).job

        now = datetime.now(UTC)
        for n in range(ran):  # run the first `ran` items to an outcome, as processors would
            claimed = await store.claim_item(WS, job.job_id, f"{n:06d}", token="t", lease_until=now, now=now)
            if claimed is not None:
                await store.finish_item(
                    claimed, ItemStatus.NOT_FOUND, reason=None, result=None, delta=CounterDelta(), now=now
                )

        started = time.perf_counter()
        await service.pause_job(WS, job.job_id)
        paused_at = time.perf_counter()
        dropped = 0
        while batch := await queue.receive(10, visibility_timeout=60):
            for received in batch:
                await queue.delete(received)
                dropped += 1
        drained_at = time.perf_counter()
        resumed = await service.resume_job(WS, job.job_id)
        resumed_at = time.perf_counter()
        sent = (await queue.depth()).visible
        # The same resend once more, to count what it reads and sends on its own.
        again = await resend_waiting(store, queue, resumed, datetime.now(UTC))
        return {
            "leads": leads,
            "items_run": ran,
            "pause_ms": (paused_at - started) * 1000,
            "messages_dropped": dropped,
            "drop_ms": (drained_at - paused_at) * 1000,
            "resume_ms": (resumed_at - drained_at) * 1000,
            "messages_sent_on_resume": sent,
            "resend_again_sent": again,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--window", type=int, default=50)
    parser.add_argument("--ran", type=int, default=500)
    args = parser.parse_args()
    figures = asyncio.run(run(args.leads, args.window, args.ran))
    for name, value in figures.items():
        print(f"{name:<26} {value:,.1f}" if isinstance(value, float) else f"{name:<26} {value:,}")


if __name__ == "__main__":
    main()
