"""The processor fed by an SQS event source mapping (docs/runtime.md "Scaling", `ProcessorTrigger: queue`):
Lambda receives the messages and hands the processor a batch, instead of the processor receiving them.

Each message runs exactly as a drain runs it (`Processor.run_message`: the same claim, lease, conditional
writes, deferrals, hand-backs, dead letters, completion and callbacks), so the exactly-once rules are the
same whoever received it. What differs is the end: Lambda deletes every message the function does not
report as failed. So a message is reported as done only when the processor finished with it (deleted it,
or moved it to its DLQ); every other one (deferred or handed back: its visibility already set to the
item's next attempt; claimed by another worker; an error) is a batch item failure, which Lambda leaves in
the queue as the processor left it. Reporting a deferred message as done would lose its item.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Sequence
from dataclasses import dataclass, field

from leadenrich.deadline import Deadline
from leadenrich.jobs.models import Received, WorkMessage
from leadenrich.jobs.ports import QueueDepth, WorkQueue
from leadenrich.jobs.processor import Processor
from leadenrich.jobs.processor_report import DrainReport


class _Acknowledged:
    """The processor's queue, noting which deliveries it finished with (deleted or dead-lettered)."""

    def __init__(self, queue: WorkQueue) -> None:
        self._queue = queue
        self.finished: set[str] = set()  # receipt handles

    async def send(self, messages: Sequence[WorkMessage], *, delay_seconds: int = 0) -> int:
        return await self._queue.send(messages, delay_seconds=delay_seconds)

    async def receive(
        self, max_messages: int, *, visibility_timeout: int, wait_seconds: int = 0
    ) -> list[Received]:
        return await self._queue.receive(
            max_messages, visibility_timeout=visibility_timeout, wait_seconds=wait_seconds
        )

    async def delete(self, received: Received) -> None:
        await self._queue.delete(received)
        self.finished.add(received.receipt_handle)

    async def retry_later(self, received: Received, delay_seconds: int) -> None:
        await self._queue.retry_later(received, delay_seconds)

    async def dead_letter(self, received: Received, reason: str) -> None:
        await self._queue.dead_letter(received, reason)
        self.finished.add(received.receipt_handle)

    async def redrive(self, max_messages: int = 1000, workspace_id: str | None = None) -> list[WorkMessage]:
        return await self._queue.redrive(max_messages, workspace_id)

    async def depth(self) -> QueueDepth:
        return await self._queue.depth()


@dataclass
class BatchOutcome:
    report: DrainReport
    unfinished: list[str] = field(default_factory=list)  # message ids to report as batch item failures


async def process_batch(
    processor: Processor, batch: Sequence[Received], budget_seconds: float
) -> BatchOutcome:
    """Run the delivered messages, at most `concurrency` at a time, within the budget (module docstring)."""
    acknowledged = _Acknowledged(processor.queue)
    view = copy.copy(processor)  # the same store, engine and settings; its queue notes the acknowledgements
    view.queue = acknowledged
    deadline = Deadline.after(budget_seconds)
    report = DrainReport(received=len(batch))
    room = asyncio.Semaphore(processor.settings.concurrency)
    started = asyncio.get_running_loop().time()

    async def one(received: Received) -> None:
        async with room:
            await view.run_message(received, deadline, report)

    await asyncio.gather(*(one(received) for received in batch))
    report.seconds = asyncio.get_running_loop().time() - started
    unfinished = [r.message_id for r in batch if r.receipt_handle not in acknowledged.finished]
    return BatchOutcome(report, unfinished)


__all__ = ["BatchOutcome", "process_batch"]
