"""Priorities: one queue per band, asked highest first, with a reserved share for the lower bands.

A job's priority (1 = highest ... 5) puts its items in a band: high (1-2), normal (3, the default) or low
(4-5) (`models.Band`). Each band is a queue of its own, with its own dead-letter queue on SQS
(`BandedWorkQueue` over one `SqsWorkQueue` per band) and a column of the one table on SQLite
(`sqlite.queue`). Every receive asks the bands highest first, so a priority-1 job's items are taken before
any waiting priority-5 item, whatever was sent first. Within a band nothing changes: queue windows, SQS fair
queues (`MessageGroupId` = workspace) and the SQLite queue's workspace rotation decide the order there,
as they did for the one queue before.

Why queues rather than ordering inside one: SQS cannot reorder a standard queue, and a FIFO queue would cap
throughput and break fair queues. Three bands rather than five: each band costs a queue, a DLQ and their
alarms; 1 and 2 (and 4 and 5) share a band and are equal there.

Starvation: under a constant high-priority stream the lower bands still get every `RESERVED_EVERY`-th
message asked for (10%): that message is offered to a lower band first, normal and low taking turns
(when the one whose turn it is has nothing, the other is asked). So each lower band with work gets at
least 1 in 20 of a busy processor's items, 1 in 10 when the other lower band is empty, and the rest
goes highest first. `BandTurns` keeps that count per process (a Lambda container's runs, one after the
other), by messages asked for, not received, so it needs no bookkeeping of results.

Acknowledgements (delete, retry_later, dead_letter) go back to the queue that delivered the message
(`Received.band`), so a deferred item waits in its band and a dead letter lands in its band's DLQ, from
which a redrive returns it to the same band.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence

from leadenrich.jobs.models import Band, Received, WorkMessage
from leadenrich.jobs.ports import (
    MAX_DELAY_SECONDS,
    MAX_VISIBILITY_SECONDS,
    MAX_WAIT_SECONDS,
    QueueDepth,
    WorkQueue,
    check_range,
)

BANDS: tuple[Band, ...] = tuple(Band)  # highest first
LOWER_BANDS: tuple[Band, ...] = BANDS[1:]
RESERVED_EVERY = 10  # every tenth message asked for is offered to a lower band first
POLL_SECONDS = 0.2  # a long poll over several queues: how often they are asked again

Fetch = Callable[[Band, int], Awaitable[list[Received]]]


class BandTurns:
    """Which bands a receive asks, in which order: highest first, and every `every`-th message asked for
    is offered to the lower bands first, in turn. One per queue object; not locked: the processor is its
    only receiver, and a race between two would only shift a turn."""

    def __init__(self, every: int = RESERVED_EVERY) -> None:
        if every < 2:
            raise ValueError("every must be at least 2: a reserved share of all messages is no priority")
        self._every = every
        self._asked = 0
        self._turn = 0

    def reserved(self, max_messages: int) -> list[tuple[Band, ...]]:
        """For a receive of `max_messages`: one entry per reserved message in it, the lower bands in the
        order to offer it to (counted as asked from here on)."""
        before, self._asked = self._asked, self._asked + max_messages
        slots = self._asked // self._every - before // self._every
        offers = []
        for _ in range(slots):
            first = self._turn % len(LOWER_BANDS)
            offers.append(LOWER_BANDS[first:] + LOWER_BANDS[:first])
            self._turn += 1
        return offers


async def receive_in_turn(turns: BandTurns, max_messages: int, fetch: Fetch) -> list[Received]:
    """Up to `max_messages` from the bands, `fetch(band, n)` taking up to n of one band's messages: the
    reserved messages first (one each, from the first band in its offer that has one), then the rest
    highest band first. A band that gave fewer than asked is not asked again in this receive. A message
    delivered twice within it (a visibility timeout of 0) is returned once, its latest delivery."""
    taken: dict[str, Received] = {}
    drained: set[Band] = set()

    async def take(band: Band, want: int) -> bool:
        got = await fetch(band, want)
        taken.update((received.message_id, received) for received in got)
        if len(got) < want:
            drained.add(band)
        return bool(got)

    if max_messages <= 0:
        return []
    for offer in turns.reserved(max_messages):
        for band in offer:
            if band not in drained and await take(band, 1):
                break
    for band in BANDS:
        want = max_messages - len(taken)
        if want <= 0:
            break
        if band not in drained:
            await take(band, want)
    return list(taken.values())


class BandedWorkQueue:
    """`WorkQueue` over one queue per band (SQS: one `SqsWorkQueue`, queue and DLQ, each). Bands may share a
    queue (a stack that has only some band queues configured sends the others to the normal one)."""

    def __init__(self, queues: Mapping[Band, WorkQueue]) -> None:
        missing = set(BANDS) - set(queues)
        if missing:
            raise ValueError(f"a queue for every band is needed; missing: {sorted(missing)}")
        self._queues = dict(queues)
        self._turns = BandTurns()
        # Each distinct queue once, highest band first (for depth and redrive).
        self._distinct: list[WorkQueue] = []
        for band in BANDS:
            if all(queue is not self._queues[band] for queue in self._distinct):
                self._distinct.append(self._queues[band])

    async def send(self, messages: Sequence[WorkMessage], *, delay_seconds: int = 0) -> int:
        """Each message to its band's queue (one send per band, highest first); the calls made in all. A
        message any queue would refuse is refused before anything is sent."""
        check_range("delay_seconds", delay_seconds, 0, MAX_DELAY_SECONDS)
        for message in messages:
            message.check()
        calls = 0
        for band in BANDS:
            ours = [message for message in messages if message.band is band]
            if ours:
                calls += await self._queues[band].send(ours, delay_seconds=delay_seconds)
        return calls

    async def receive(
        self, max_messages: int, *, visibility_timeout: int, wait_seconds: int = 0
    ) -> list[Received]:
        """Up to `max_messages`, bands in turn (`receive_in_turn`), each message tagged with its band. With
        `wait_seconds` the bands are asked again every `POLL_SECONDS` until one has a message or the wait
        ends (only tools long-poll; the processor asks with no wait)."""

        async def fetch(band: Band, want: int) -> list[Received]:
            got = await self._queues[band].receive(want, visibility_timeout=visibility_timeout)
            return [dataclasses.replace(received, band=band) for received in got]

        check_range("visibility_timeout", visibility_timeout, 0, MAX_VISIBILITY_SECONDS)
        check_range("wait_seconds", wait_seconds, 0, MAX_WAIT_SECONDS)
        if max_messages <= 0:
            return []
        until = time.monotonic() + wait_seconds
        while True:
            received = await receive_in_turn(self._turns, max_messages, fetch)
            left = until - time.monotonic()
            if received or left <= 0:
                return received
            await asyncio.sleep(min(POLL_SECONDS, left))

    def _from(self, received: Received) -> WorkQueue:
        """The queue that delivered it (its body's band for a message received elsewhere)."""
        return self._queues[received.band or received.message.band]

    async def delete(self, received: Received) -> None:
        await self._from(received).delete(received)

    async def retry_later(self, received: Received, delay_seconds: int) -> None:
        """Hidden in its own band's queue: a deferred item keeps its priority."""
        await self._from(received).retry_later(received, delay_seconds)

    async def dead_letter(self, received: Received, reason: str) -> None:
        """To its band's DLQ."""
        await self._from(received).dead_letter(received, reason)

    async def redrive(self, max_messages: int = 1000, workspace_id: str | None = None) -> list[WorkMessage]:
        """Each band's DLQ back to its own queue, highest band first, at most `max_messages` in all."""
        moved: list[WorkMessage] = []
        for queue in self._distinct:
            if len(moved) >= max_messages:
                break
            moved.extend(await queue.redrive(max_messages - len(moved), workspace_id=workspace_id))
        return moved

    async def depth(self) -> QueueDepth:
        """The sum over the bands: `GET /metrics` shows the whole service's queue."""
        depths = await asyncio.gather(*(queue.depth() for queue in self._distinct))
        return QueueDepth(
            visible=sum(d.visible for d in depths),
            in_flight=sum(d.in_flight for d in depths),
            delayed=sum(d.delayed for d in depths),
            dead_letters=sum(d.dead_letters for d in depths),
        )


__all__ = ["BANDS", "RESERVED_EVERY", "BandTurns", "BandedWorkQueue", "receive_in_turn"]
