"""What every `WorkQueue` adapter must do, written once and run against each of them.

`WorkQueueContract` holds the tests; a test module subclasses it as `Test...` and provides three fixtures:

- `queue`: a fresh, empty queue per test (its redrive backstop at the default 25 receives);
- `make_queue`: a callable giving another fresh queue whose backstop is at `max_receive_count` receives;
- `elapse`: an async callable that lets at least that many seconds pass for the queue. SQS on moto keeps
  real time, so its fixture sleeps; the SQLite queue takes an injected clock, which its fixture moves on.

So the time-dependent tests use visibility timeouts and delays of one second: each waits about a second on
moto and not at all on SQLite (only the long polls wait in real time on both). Only what both SQS and the
SQLite queue promise is here: message order (SQS does not keep one) and what a stale receipt handle does
(SQS may still honour one) are each adapter's own tests.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import pytest

from leadenrich.jobs.models import WorkMessage
from leadenrich.jobs.ports import QueueDepth, WorkQueue

Elapse = Callable[[float], Awaitable[None]]
MakeQueue = Callable[[int], WorkQueue]

EMPTY = QueueDepth(visible=0, in_flight=0, delayed=0, dead_letters=0)


def messages(n: int, job: str = "j1", workspace: str = "ws") -> list[WorkMessage]:
    return [WorkMessage(workspace, job, f"{i:04d}") for i in range(n)]


def by_item(sent: list[WorkMessage]) -> list[WorkMessage]:
    return sorted(sent, key=lambda m: (m.workspace_id, m.job_id, m.item_id))


class WorkQueueContract:
    """The port's guarantees; subclasses provide the `queue`, `make_queue` and `elapse` fixtures."""

    # --- send and receive ---------------------------------------------------------------------------------

    async def test_a_new_queue_is_empty(self, queue: WorkQueue) -> None:
        assert await queue.depth() == EMPTY
        assert await queue.receive(10, visibility_timeout=30) == []

    async def test_send_receive_delete_round_trip(self, queue: WorkQueue) -> None:
        sent = messages(3)
        await queue.send(sent)

        received = await queue.receive(10, visibility_timeout=30)

        assert by_item([r.message for r in received]) == sent
        assert all(r.receive_count == 1 and r.receipt_handle for r in received)
        assert len({r.message_id for r in received}) == 3
        assert await queue.receive(10, visibility_timeout=30) == []  # in flight
        assert await queue.depth() == QueueDepth(visible=0, in_flight=3, delayed=0, dead_letters=0)
        for r in received:
            await queue.delete(r)
        assert await queue.depth() == EMPTY

    async def test_send_counts_one_call_per_ten_messages(self, queue: WorkQueue) -> None:
        assert await queue.send([]) == 0
        assert await queue.send(messages(10, job="a")) == 1
        assert await queue.send(messages(25, job="b")) == 3

        received = await queue.receive(40, visibility_timeout=30)

        assert by_item([r.message for r in received]) == messages(10, job="a") + messages(25, job="b")

    async def test_receive_returns_at_most_max_messages(self, queue: WorkQueue) -> None:
        await queue.send(messages(5))

        assert await queue.receive(0, visibility_timeout=30) == []
        first = await queue.receive(2, visibility_timeout=30)
        rest = await queue.receive(10, visibility_timeout=30)

        assert (len(first), len(rest)) == (2, 3)
        assert by_item([r.message for r in first + rest]) == messages(5)

    async def test_a_message_with_an_empty_id_is_refused_and_nothing_is_sent(self, queue: WorkQueue) -> None:
        with pytest.raises(ValueError, match="non-empty"):
            await queue.send([*messages(2), WorkMessage("ws", "", "0009")])
        assert await queue.depth() == EMPTY

    # --- visibility, delays, retry_later -------------------------------------------------------------------

    async def test_a_message_not_deleted_reappears_after_its_visibility_timeout(
        self, queue: WorkQueue, elapse: Elapse
    ) -> None:
        await queue.send(messages(1))
        [first] = await queue.receive(1, visibility_timeout=1)
        assert await queue.receive(1, visibility_timeout=1) == []

        await elapse(1)
        [again] = await queue.receive(1, visibility_timeout=30)

        assert again.message == first.message and again.message_id == first.message_id
        assert (first.receive_count, again.receive_count) == (1, 2)
        assert again.receipt_handle != first.receipt_handle
        await queue.delete(again)
        assert await queue.depth() == EMPTY

    async def test_a_zero_visibility_timeout_delivers_again_at_once_and_counts(
        self, queue: WorkQueue
    ) -> None:
        await queue.send(messages(3))

        first = await queue.receive(10, visibility_timeout=0)
        second = await queue.receive(10, visibility_timeout=0)

        # Visible again at once, yet one receive returns a message once (SQS's adapter may have been given
        # it twice within one receive, and then returns the latest delivery's handle and count).
        assert sorted(r.message.item_id for r in first) == ["0000", "0001", "0002"]
        assert sorted(r.message.item_id for r in second) == ["0000", "0001", "0002"]
        counts = {r.message.item_id: r.receive_count for r in first}
        assert all(r.receive_count > counts[r.message.item_id] >= 1 for r in second)

    async def test_delete_twice_is_not_an_error(self, queue: WorkQueue) -> None:
        await queue.send(messages(2))
        received = await queue.receive(10, visibility_timeout=0)

        for r in received:
            await queue.delete(r)
        await queue.delete(received[0])

        assert await queue.receive(10, visibility_timeout=0) == []
        assert await queue.depth() == EMPTY

    async def test_a_delayed_message_is_counted_delayed_then_becomes_visible(
        self, queue: WorkQueue, elapse: Elapse
    ) -> None:
        await queue.send(messages(1), delay_seconds=1)

        assert await queue.receive(10, visibility_timeout=30) == []
        assert await queue.depth() == QueueDepth(visible=0, in_flight=0, delayed=1, dead_letters=0)

        await elapse(1)
        assert await queue.depth() == QueueDepth(visible=1, in_flight=0, delayed=0, dead_letters=0)
        [received] = await queue.receive(10, visibility_timeout=30)
        assert received.message == messages(1)[0] and received.receive_count == 1

    async def test_retry_later_hides_the_message_then_it_comes_back(
        self, queue: WorkQueue, elapse: Elapse
    ) -> None:
        await queue.send(messages(1))
        [received] = await queue.receive(1, visibility_timeout=0)

        await queue.retry_later(received, 1)

        assert await queue.receive(1, visibility_timeout=0) == []
        assert (await queue.depth()).in_flight == 1
        await elapse(1)
        [again] = await queue.receive(1, visibility_timeout=30)
        assert again.message == received.message and again.receive_count == 2

    async def test_retry_later_with_no_delay_gives_the_message_back_at_once(self, queue: WorkQueue) -> None:
        await queue.send(messages(1))
        [received] = await queue.receive(1, visibility_timeout=30)

        await queue.retry_later(received, 0)

        [again] = await queue.receive(1, visibility_timeout=30)
        assert again.message == received.message and again.receive_count == 2

    # --- long polling -------------------------------------------------------------------------------------

    async def test_a_long_poll_on_an_empty_queue_waits_then_returns_nothing(self, queue: WorkQueue) -> None:
        started = time.monotonic()
        assert await queue.receive(1, visibility_timeout=30, wait_seconds=1) == []
        assert time.monotonic() - started >= 0.9

    async def test_a_message_sent_during_a_long_poll_is_returned_before_the_wait_ends(
        self, queue: WorkQueue
    ) -> None:
        async def send_soon() -> None:
            await asyncio.sleep(0.3)
            await queue.send(messages(1))

        started = time.monotonic()
        received, _ = await asyncio.gather(
            queue.receive(1, visibility_timeout=30, wait_seconds=10), send_soon()
        )

        assert [r.message for r in received] == messages(1)
        assert time.monotonic() - started < 5

    # --- dead letters and redrive -------------------------------------------------------------------------

    async def test_dead_letter_moves_the_message_and_redrive_brings_it_back(self, queue: WorkQueue) -> None:
        await queue.send(messages(2))
        doomed, kept = await queue.receive(2, visibility_timeout=30)

        await queue.dead_letter(doomed, "attempts exhausted: provider down")

        assert await queue.depth() == QueueDepth(visible=0, in_flight=1, delayed=0, dead_letters=1)
        await queue.delete(doomed)  # its handle is gone with it: not an error, and nothing changes
        assert await queue.depth() == QueueDepth(visible=0, in_flight=1, delayed=0, dead_letters=1)

        assert await queue.redrive() == [doomed.message]

        assert await queue.depth() == QueueDepth(visible=1, in_flight=1, delayed=0, dead_letters=0)
        [back] = await queue.receive(10, visibility_timeout=30)
        assert back.message == doomed.message
        assert back.receive_count == 1  # a redriven message starts afresh, below the backstop
        assert kept.message != doomed.message

    async def test_redrive_for_a_workspace_leaves_other_workspaces_dead_letters(
        self, queue: WorkQueue
    ) -> None:
        ours = messages(3, workspace="ws-a")
        theirs = messages(12, workspace="ws-b")
        await queue.send(ours + theirs)
        while received := await queue.receive(10, visibility_timeout=30):
            for r in received:
                await queue.dead_letter(r, "x")

        moved = await queue.redrive(workspace_id="ws-a")

        assert by_item(moved) == ours
        depth = await queue.depth()
        assert (depth.visible, depth.dead_letters) == (3, 12)
        assert by_item(await queue.redrive(workspace_id="ws-b")) == theirs

    async def test_redrive_moves_at_most_max_messages(self, queue: WorkQueue) -> None:
        await queue.send(messages(3))
        for r in await queue.receive(10, visibility_timeout=30):
            await queue.dead_letter(r, "x")

        moved = await queue.redrive(max_messages=2)

        assert len(moved) == 2
        depth = await queue.depth()
        assert (depth.visible, depth.dead_letters) == (2, 1)

    async def test_a_message_received_more_than_max_receive_count_times_is_dead_lettered(
        self, make_queue: MakeQueue
    ) -> None:
        queue = make_queue(2)
        await queue.send(messages(1))

        counts = [r.receive_count for _ in range(2) for r in await queue.receive(1, visibility_timeout=0)]

        assert counts == [1, 2]
        assert await queue.receive(1, visibility_timeout=0) == []  # the third receive moves it instead
        assert await queue.depth() == QueueDepth(visible=0, in_flight=0, delayed=0, dead_letters=1)
        assert await queue.redrive() == messages(1)

    # --- depth and arguments ------------------------------------------------------------------------------

    async def test_depth_counts_each_state(self, queue: WorkQueue) -> None:
        await queue.send(messages(3, job="now"))
        await queue.send(messages(1, job="later"), delay_seconds=900)
        [in_flight] = await queue.receive(1, visibility_timeout=30)
        [doomed] = await queue.receive(1, visibility_timeout=30)
        await queue.dead_letter(doomed, "x")

        depth = await queue.depth()

        assert depth == QueueDepth(visible=1, in_flight=1, delayed=1, dead_letters=1)
        assert in_flight.message.job_id == "now"

    @pytest.mark.parametrize("delay", [-1, 901, True])
    async def test_send_refuses_a_delay_outside_0_to_900(self, queue: WorkQueue, delay: int) -> None:
        with pytest.raises(ValueError, match=r"delay_seconds must be an integer from 0 to 900"):
            await queue.send(messages(1), delay_seconds=delay)
        assert await queue.depth() == EMPTY

    @pytest.mark.parametrize(
        ("argument", "value", "message"),
        [
            ("visibility_timeout", -1, "visibility_timeout must be an integer from 0 to 43200"),
            ("visibility_timeout", 43_201, "visibility_timeout must be an integer from 0 to 43200"),
            ("wait_seconds", -1, "wait_seconds must be an integer from 0 to 20"),
            ("wait_seconds", 21, "wait_seconds must be an integer from 0 to 20"),
        ],
    )
    async def test_receive_refuses_arguments_out_of_range(
        self, queue: WorkQueue, argument: str, value: int, message: str
    ) -> None:
        await queue.send(messages(1))
        arguments = {"visibility_timeout": 30, "wait_seconds": 0, argument: value}
        with pytest.raises(ValueError, match=message):
            await queue.receive(1, **arguments)
        assert (await queue.depth()).visible == 1  # nothing was received

    async def test_retry_later_refuses_a_negative_delay(self, queue: WorkQueue) -> None:
        await queue.send(messages(1))
        [received] = await queue.receive(1, visibility_timeout=30)

        with pytest.raises(ValueError, match="delay_seconds must be a non-negative integer"):
            await queue.retry_later(received, -1)
        assert (await queue.depth()).in_flight == 1
