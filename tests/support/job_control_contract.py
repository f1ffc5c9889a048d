"""The job-control part of the store contract (`tests.support.store_contract`): pause, resume,
reschedule, the due index, and what they do to claims."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from leadenrich.jobs.models import (
    BUDGET_REACHED,
    PAUSED_BY_CALLER,
    ItemStatus,
    Job,
    JobKind,
    JobOptions,
    JobStatus,
)
from leadenrich.jobs.ports import JobStore
from tests.support.store_contract_base import (
    LEASE,
    NOW,
    WS,
    claim,
    create,
    due_ids,
    found,
    item_of,
    job_of,
    scheduled,
)


class JobControlContract:
    """Pause, resume, reschedule and release (`JobStore.pause_job` ... `release_due`), and what they do to
    claims; part of `JobStoreContract`."""

    async def test_new_options_and_the_due_time_round_trip(self, store: JobStore) -> None:
        run_at = NOW + timedelta(hours=2, microseconds=7)
        options = JobOptions(
            kind=JobKind.VERIFICATION, run_at=run_at, max_credits=12.5, max_cost_usd=0.1, tags=("x",)
        )
        job = Job(WS, "j", JobStatus.PENDING, NOW, options, due_at=run_at)

        created = await store.create_job(job, [])

        assert created == job and await job_of(store, "j") == job
        assert created.options.run_at == run_at and created.due_at == run_at
        assert (await create(store, "plain", 0)).options == JobOptions()  # enrichment, no schedule, no caps
        assert (await job_of(store, "plain")).due_at is None

    async def test_pause_and_resume_round_trip_to_running_or_pending(self, store: JobStore) -> None:
        await create(store, "started", 1)
        assert await store.start_job(WS, "started", NOW)
        await create(store, "unstarted", 1)

        paused = await store.pause_job(WS, "started", reason=BUDGET_REACHED, now=NOW)
        assert paused is not None
        assert (paused.status, paused.paused_reason, paused.started_at) == (
            JobStatus.PAUSED,
            BUDGET_REACHED,
            NOW,
        )
        assert await job_of(store, "started") == paused
        assert [j.job_id for j in (await store.list_jobs(WS, status=JobStatus.PAUSED)).items] == ["started"]
        resumed = await store.resume_job(WS, "started", now=NOW)
        assert resumed is not None and await job_of(store, "started") == resumed
        assert (resumed.status, resumed.paused_reason, resumed.started_at) == (JobStatus.RUNNING, None, NOW)

        paused = await store.pause_job(WS, "unstarted", reason=PAUSED_BY_CALLER, now=NOW)
        assert paused is not None and paused.paused_reason == PAUSED_BY_CALLER
        resumed = await store.resume_job(WS, "unstarted", now=NOW)
        assert resumed is not None and (resumed.status, resumed.started_at) == (JobStatus.PENDING, None)
        assert await store.start_job(WS, "unstarted", NOW)  # the first claim still starts it, once

        assert await store.resume_job(WS, "started", now=NOW) is None  # not paused
        assert await store.pause_job(WS, "unknown", reason=PAUSED_BY_CALLER, now=NOW) is None
        assert await store.pause_job("ws2", "started", reason=PAUSED_BY_CALLER, now=NOW) is None
        assert await store.resume_job(WS, "unknown", now=NOW) is None
        for bad in ("", "   ", "x" * 201):
            with pytest.raises(ValueError, match=r"^reason: "):
                await store.pause_job(WS, "started", reason=bad, now=NOW)
        assert (await job_of(store, "started")).status is JobStatus.RUNNING

    async def test_a_finished_cancelled_or_paused_job_is_not_paused(self, store: JobStore) -> None:
        await create(store, "done", 0)
        assert await store.complete_job_if_done(WS, "done", NOW) is not None
        await create(store, "cancelled", 1)
        await store.cancel_job(WS, "cancelled", NOW)
        await create(store, "paused", 1)
        assert await store.pause_job(WS, "paused", reason=PAUSED_BY_CALLER, now=NOW) is not None

        for job_id, status in (
            ("done", JobStatus.COMPLETED),
            ("cancelled", JobStatus.CANCELLED),
            ("paused", JobStatus.PAUSED),
        ):
            assert await store.pause_job(WS, job_id, reason=BUDGET_REACHED, now=NOW) is None, job_id
            after = await job_of(store, job_id)
            assert after.status is status, job_id
        assert (await job_of(store, "paused")).paused_reason == PAUSED_BY_CALLER  # the first reason stays
        assert await store.resume_job(WS, "done", now=NOW) is None
        assert await store.resume_job(WS, "cancelled", now=NOW) is None

    async def test_racing_pauses_and_resumes_each_have_one_winner(self, store: JobStore) -> None:
        await create(store, "j", 1)
        assert await store.start_job(WS, "j", NOW)

        pauses = await asyncio.gather(
            *(store.pause_job(WS, "j", reason=f"reason-{n}", now=NOW) for n in range(4))
        )
        winners = [p for p in pauses if p is not None]
        assert len(winners) == 1 and await job_of(store, "j") == winners[0]

        resumes = await asyncio.gather(*(store.resume_job(WS, "j", now=NOW) for _ in range(4)))
        winners = [r for r in resumes if r is not None]
        assert len(winners) == 1 and winners[0].status is JobStatus.RUNNING

    async def test_cancel_takes_a_paused_job_and_clears_its_reason(self, store: JobStore) -> None:
        await create(store, "j", 2)
        assert await store.pause_job(WS, "j", reason=PAUSED_BY_CALLER, now=NOW) is not None

        cancelled = await store.cancel_job(WS, "j", NOW)

        assert cancelled is not None
        assert (cancelled.status, cancelled.paused_reason) == (JobStatus.CANCELLED, None)
        assert await job_of(store, "j") == cancelled
        assert await store.resume_job(WS, "j", now=NOW) is None
        assert await store.skip_item(WS, "j", "000000", reason="cancelled", now=NOW)

    async def test_claims_wait_while_the_job_is_paused(self, store: JobStore) -> None:
        await create(store, "j", 2)
        held = await claim(store, "j", "000000", token="before")
        assert await store.start_job(WS, "j", NOW)
        assert await store.pause_job(WS, "j", reason=BUDGET_REACHED, now=NOW) is not None
        late = LEASE + timedelta(seconds=1)

        assert await store.claim_item(WS, "j", "000001", token="t", lease_until=LEASE, now=NOW) is None
        # Nor an item whose processor died while the job was paused.
        assert await store.claim_item(WS, "j", "000000", token="t", lease_until=late, now=late) is None
        assert (await item_of(store, "j", "000001")).status is ItemStatus.QUEUED
        # An item already running finishes and counts: a pause stops new work only.
        assert await store.finish_item(
            held, ItemStatus.FOUND, reason=None, result=None, delta=found(), now=NOW
        )

        assert await store.resume_job(WS, "j", now=NOW) is not None
        claimed = await claim(store, "j", "000001", token="after")
        assert (claimed.status, claimed.attempts) == (ItemStatus.RUNNING, 1)

    async def test_update_job_replaces_options_and_due_time_only_as_expected(self, store: JobStore) -> None:
        first, second = NOW + timedelta(hours=1), NOW + timedelta(hours=2)
        await scheduled(store, "j", first)
        options = JobOptions(
            priority=1,
            max_attempts=2,
            skip_existing=True,
            webhook_url="https://h.example",
            tags=("vip",),
            webhook_events=("job.paused",),
            queue_window=7,
            kind=JobKind.VERIFICATION,
            run_at=second,
            max_credits=3.0,
            max_cost_usd=0.25,
        )

        for wrong in (None, second):
            refused = await store.update_job(
                WS, "j", options=options, due_at=second, expected_due_at=wrong, now=NOW
            )
            assert refused is None
        assert (await job_of(store, "j")).options.run_at == first

        updated = await store.update_job(
            WS, "j", options=options, due_at=second, expected_due_at=first, now=NOW
        )

        assert updated is not None and await job_of(store, "j") == updated
        assert (updated.options, updated.due_at, updated.status) == (options, second, JobStatus.PENDING)
        cleared = await store.update_job(
            WS, "j", options=JobOptions(), due_at=None, expected_due_at=second, now=NOW
        )
        assert cleared is not None and (cleared.options, cleared.due_at) == (JobOptions(), None)
        assert await due_ids(store, NOW + timedelta(days=1)) == []
        assert await store.pause_job(WS, "j", reason=PAUSED_BY_CALLER, now=NOW) is not None
        still = await store.update_job(WS, "j", options=options, due_at=None, expected_due_at=None, now=NOW)
        assert still is not None and (still.status, still.options) == (JobStatus.PAUSED, options)

        await store.cancel_job(WS, "j", NOW)
        await create(store, "done", 0)
        assert await store.complete_job_if_done(WS, "done", NOW) is not None
        for job_id in ("j", "done", "unknown"):
            refused = await store.update_job(
                WS, job_id, options=JobOptions(), due_at=None, expected_due_at=None, now=NOW
            )
            assert refused is None, job_id
        assert (await job_of(store, "j")).options == options
        assert (
            await store.update_job("ws2", "done", options=options, due_at=None, expected_due_at=None, now=NOW)
            is None
        )

    async def test_due_jobs_of_every_workspace_earliest_first_up_to_the_limit(self, store: JobStore) -> None:
        await scheduled(store, "a", NOW - timedelta(hours=1))
        await scheduled(store, "b", NOW - timedelta(hours=2), workspace="ws2")
        await scheduled(store, "c", NOW)  # due at `now` exactly: due
        await scheduled(store, "d", NOW + timedelta(microseconds=1))  # not yet
        await scheduled(store, "f", NOW - timedelta(minutes=30), workspace="ws2")
        await create(store, "e", 1)  # not scheduled

        assert await due_ids(store) == [("ws2", "b"), (WS, "a"), ("ws2", "f"), (WS, "c")]
        assert await due_ids(store, limit=2) == [("ws2", "b"), (WS, "a")]
        assert await due_ids(store, NOW - timedelta(days=1)) == []
        assert [j.job_id for j in await store.due_jobs(NOW + timedelta(seconds=1))] == [
            "b",
            "a",
            "f",
            "c",
            "d",
        ]
        (first,) = await store.due_jobs(NOW, limit=1)
        assert first == await store.get_job("ws2", "b")
        for bad in (0, 1001):
            with pytest.raises(ValueError, match=r"^limit: "):
                await store.due_jobs(NOW, limit=bad)

        assert await store.release_due("ws2", "b", NOW - timedelta(hours=2))
        assert await store.update_job(
            WS, "a", options=JobOptions(), due_at=None, expected_due_at=NOW - timedelta(hours=1), now=NOW
        )
        assert await due_ids(store) == [("ws2", "f"), (WS, "c")]

    async def test_fail_job_fails_a_pending_job_for_exactly_one_caller(self, store: JobStore) -> None:
        """A job whose uploaded file is not a CSV: failed once, finished, out of the due index."""
        due = NOW - timedelta(minutes=1)
        await scheduled(store, "j", due)
        later = NOW + timedelta(seconds=3)

        fails = await asyncio.gather(*(store.fail_job(WS, "j", later) for _ in range(3)))

        winners = [f for f in fails if f is not None]
        assert len(winners) == 1
        failed = winners[0]
        assert (failed.status, failed.completed_at, failed.due_at) == (JobStatus.FAILED, later, None)
        assert (failed.started_at, failed.options.run_at) == (None, due)
        assert await job_of(store, "j") == failed
        assert (await store.list_jobs(WS, status=JobStatus.FAILED)).items == [failed]
        assert (await store.list_jobs(WS, status=JobStatus.PENDING)).items == []
        assert await due_ids(store, NOW + timedelta(days=1)) == []
        assert await store.fail_job(WS, "j", later) is None
        assert await store.fail_job(WS, "unknown", later) is None
        assert await store.fail_job("ws2", "j", later) is None

    async def test_a_failed_job_stays_failed(self, store: JobStore) -> None:
        """Nothing picks it up again: no start, completion, pause, resume, update, release or cancel."""
        await create(store, "j", 2)
        failed = await store.fail_job(WS, "j", NOW)
        assert failed is not None
        assert failed.counters.total == 2 and failed.counters.processed == 0

        assert not await store.start_job(WS, "j", NOW)
        assert await store.complete_job_if_done(WS, "j", NOW) is None
        assert await store.pause_job(WS, "j", reason=PAUSED_BY_CALLER, now=NOW) is None
        assert await store.resume_job(WS, "j", now=NOW) is None
        assert (
            await store.update_job(WS, "j", options=JobOptions(), due_at=NOW, expected_due_at=None, now=NOW)
            is None
        )
        assert not await store.release_due(WS, "j", NOW)
        assert await store.cancel_job(WS, "j", NOW + timedelta(hours=1)) == failed  # unchanged
        assert await store.requeue_items(WS, "j", frozenset({ItemStatus.FAILED}), NOW) == []
        assert await job_of(store, "j") == failed

    async def test_only_a_pending_job_can_be_failed(self, store: JobStore) -> None:
        await create(store, "running", 1)
        assert await store.start_job(WS, "running", NOW)
        await create(store, "paused", 1)
        assert await store.pause_job(WS, "paused", reason=PAUSED_BY_CALLER, now=NOW) is not None
        await create(store, "cancelled", 1)
        assert await store.cancel_job(WS, "cancelled", NOW) is not None
        await create(store, "done", 0)
        assert await store.complete_job_if_done(WS, "done", NOW) is not None

        for job_id, status in (
            ("running", JobStatus.RUNNING),
            ("paused", JobStatus.PAUSED),
            ("cancelled", JobStatus.CANCELLED),
            ("done", JobStatus.COMPLETED),
        ):
            before = await job_of(store, job_id)
            assert await store.fail_job(WS, job_id, NOW + timedelta(hours=1)) is None, job_id
            assert await job_of(store, job_id) == before and before.status is status, job_id

    async def test_release_due_clears_it_for_exactly_one_caller(self, store: JobStore) -> None:
        due = NOW - timedelta(minutes=1)
        await scheduled(store, "j", due)

        releases = await asyncio.gather(*(store.release_due(WS, "j", due) for _ in range(3)))

        assert sorted(releases) == [False, False, True]
        job = await job_of(store, "j")
        assert (job.due_at, job.options.run_at, job.status) == (None, due, JobStatus.PENDING)
        assert await due_ids(store) == []
        assert not await store.release_due(WS, "unknown", due)
        assert not await store.release_due("ws2", "j", due)

    async def test_a_reschedule_and_a_release_of_the_same_due_time_cannot_both_win(
        self, store: JobStore
    ) -> None:
        due, later = NOW - timedelta(minutes=1), NOW + timedelta(hours=1)
        await scheduled(store, "j", due)

        updated, released = await asyncio.gather(
            store.update_job(
                WS, "j", options=JobOptions(run_at=later), due_at=later, expected_due_at=due, now=NOW
            ),
            store.release_due(WS, "j", due),
        )

        assert (updated is not None) != released
        job = await job_of(store, "j")
        assert job.due_at == (later if updated is not None else None)
        assert not await store.release_due(WS, "j", due)  # a stale due time releases nothing
