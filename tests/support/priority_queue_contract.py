"""What a work queue with priority bands must do (`leadenrich.jobs.priorities`), written once and run against
the banded SQS queue (one queue and DLQ per band, moto) and the SQLite queue (a band column).

`PriorityQueueContract` holds the tests; a test module subclasses it and provides `queue` (fresh, empty,
with bands, its redrive backstop at 25 receives), `make_queue` (another one whose backstop is at
`max_receive_count` receives) and `elapse`, as for `WorkQueueContract`. Order within a band is not
asserted here (SQS keeps none): only which band a message comes from, which both adapters decide the same
way, message by message.
"""

from __future__ import annotations

import pytest

from leadenrich.jobs.models import Band, Received, WorkMessage
from leadenrich.jobs.ports import QueueDepth, WorkQueue
from tests.support.queue_contract import EMPTY, Elapse, MakeQueue

H, N, L = Band.HIGH, Band.NORMAL, Band.LOW


def at(priority: int, n: int, job: str | None = None, workspace: str = "ws") -> list[WorkMessage]:
    """`n` messages of a job of this priority."""
    name = job or f"p{priority}"
    return [WorkMessage(workspace, name, f"{i:04d}", priority) for i in range(n)]


async def one_at_a_time(queue: WorkQueue, n: int) -> list[Received]:
    """`n` receives of one message each, as a busy processor asks when its items finish one by one."""
    received = []
    for _ in range(n):
        [one] = await queue.receive(1, visibility_timeout=300)
        received.append(one)
    return received


def bands(received: list[Received]) -> list[Band]:
    return [r.message.band for r in received]


def _by_band(message: WorkMessage) -> tuple[int, str]:
    return (message.priority, message.item_id)


class PriorityQueueContract:
    async def test_a_higher_band_is_received_first_whatever_was_sent_first(self, queue: WorkQueue) -> None:
        await queue.send(at(5, 20))
        await queue.send(at(3, 2))
        await queue.send(at(2, 4) + at(1, 3))

        received = await queue.receive(9, visibility_timeout=30)

        assert sorted(r.message.priority for r in received) == [1, 1, 1, 2, 2, 2, 2, 3, 3]
        assert [r.band for r in received] == bands(received)  # each says which band's queue it came from
        assert bands(received) == [H] * 7 + [N] * 2  # highest band first, in the list too

    async def test_every_tenth_message_goes_to_a_lower_band_normal_and_low_in_turn(
        self, queue: WorkQueue
    ) -> None:
        """Starvation: under a constant high-priority stream the lower bands still get 1 in 10."""
        await queue.send(at(1, 40) + at(3, 10) + at(5, 10))

        received = await one_at_a_time(queue, 40)

        assert bands(received) == ([H] * 9 + [N] + [H] * 9 + [L]) * 2

    async def test_a_turn_the_band_due_cannot_use_goes_to_the_other_lower_band(
        self, queue: WorkQueue
    ) -> None:
        await queue.send(at(1, 30) + at(4, 10))  # nothing in the normal band

        received = await one_at_a_time(queue, 20)

        assert bands(received) == [H] * 9 + [L] + [H] * 9 + [L]

    async def test_without_higher_work_a_lower_band_gets_every_message(self, queue: WorkQueue) -> None:
        await queue.send(at(5, 12))

        received = await queue.receive(10, visibility_timeout=30) + await queue.receive(
            10, visibility_timeout=30
        )

        assert sorted(r.message.item_id for r in received) == [f"{i:04d}" for i in range(12)]

    async def test_a_message_handed_back_stays_in_its_band(self, queue: WorkQueue, elapse: Elapse) -> None:
        await queue.send(at(1, 1) + at(3, 3))
        [urgent] = await queue.receive(1, visibility_timeout=30)
        assert urgent.message.priority == 1

        await queue.retry_later(urgent, 0)
        [again] = await queue.receive(1, visibility_timeout=30)
        await queue.retry_later(again, 1)
        assert await queue.receive(1, visibility_timeout=30) != []  # a normal one meanwhile
        await elapse(1)
        [back] = await queue.receive(1, visibility_timeout=30)

        assert again.message == back.message == urgent.message
        assert (again.band, back.band, back.receive_count) == (H, H, 3)

    async def test_dead_letters_keep_their_band_through_redrive(self, queue: WorkQueue) -> None:
        await queue.send(at(5, 1) + at(1, 1))
        for r in await queue.receive(2, visibility_timeout=30):
            await queue.dead_letter(r, "attempts exhausted")
        await queue.send(at(3, 5))

        moved = await queue.redrive()

        assert sorted(m.priority for m in moved) == [1, 5]
        assert await queue.depth() == QueueDepth(visible=7, in_flight=0, delayed=0, dead_letters=0)
        [first] = await queue.receive(1, visibility_timeout=30)
        rest = await queue.receive(10, visibility_timeout=30)  # its tenth message is normal's turn
        assert first.message == at(1, 1)[0] and first.band is H
        assert [r.message.priority for r in rest] == [3] * 5 + [5]

    async def test_the_backstop_dead_letters_a_message_in_its_band(self, make_queue: MakeQueue) -> None:
        queue = make_queue(2)
        await queue.send(at(1, 1))
        for _ in range(2):
            assert len(await queue.receive(1, visibility_timeout=0)) == 1
        assert await queue.receive(1, visibility_timeout=0) == []  # moved by the backstop

        await queue.send(at(3, 2))
        assert await queue.redrive() == at(1, 1)
        [first] = await queue.receive(1, visibility_timeout=30)

        assert first.message == at(1, 1)[0] and first.band is H

    async def test_redrive_for_a_workspace_takes_its_dead_letters_from_every_band(
        self, queue: WorkQueue
    ) -> None:
        ours = at(1, 2, workspace="ws-a") + at(5, 2, workspace="ws-a")
        theirs = at(1, 3, workspace="ws-b") + at(3, 3, workspace="ws-b")
        await queue.send(ours + theirs)
        while received := await queue.receive(10, visibility_timeout=30):
            for r in received:
                await queue.dead_letter(r, "x")

        moved = await queue.redrive(workspace_id="ws-a")

        assert sorted(moved, key=_by_band) == sorted(ours, key=_by_band)
        depth = await queue.depth()
        assert (depth.visible, depth.dead_letters) == (4, 6)
        assert len(await queue.redrive(max_messages=4, workspace_id="ws-b")) == 4  # at most that, in all

    async def test_depth_counts_every_band(self, queue: WorkQueue) -> None:
        await queue.send(at(1, 2) + at(3, 2) + at(5, 2))
        await queue.send(at(4, 1, job="later"), delay_seconds=900)
        taken = await queue.receive(3, visibility_timeout=30)
        await queue.dead_letter(taken[0], "x")

        assert bands(taken) == [H, H, N]
        assert await queue.depth() == QueueDepth(visible=3, in_flight=2, delayed=1, dead_letters=1)

    @pytest.mark.parametrize("priority", [0, 6])
    async def test_a_priority_outside_1_to_5_is_refused_and_nothing_is_sent(
        self, queue: WorkQueue, priority: int
    ) -> None:
        with pytest.raises(ValueError, match="priority must be an integer from 1 to 5"):
            await queue.send([*at(1, 2), WorkMessage("ws", "j", "0009", priority)])
        assert await queue.depth() == EMPTY
