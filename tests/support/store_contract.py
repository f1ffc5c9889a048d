"""What every `JobStore` adapter must do, written once and run against each of them.

`JobStoreContract` holds the tests (with `JobControlContract`'s: pause, resume, reschedule, fail, the due
index; and `UploadStoreContract`'s: the upload state, pages appended in order and once); a test module
subclasses it as `Test...` and provides a `store` fixture (a fresh, empty store per test), so the DynamoDB
store (moto), the SQLite store and the Supabase store (real PostgreSQL and PostgREST) are held to the same
bodies. Races are run with asyncio.gather, so the calls really overlap;
what they prove is that the second writer's condition sees the first writer's change and fails.

Tests of one adapter's own machinery (DynamoDB's batch retries and transaction conflicts, Supabase's
functions and privileges) stay in that adapter's module.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from leadenrich.engine.models import Lead
from leadenrich.jobs.encoding import BadCursor
from leadenrich.jobs.models import (
    Item,
    ItemStatus,
    Job,
    JobOptions,
    JobStatus,
)
from leadenrich.jobs.ports import Activity, CounterDelta, IdempotencyConflict, ItemAppender, JobStore
from leadenrich.jobs.service import IdempotentLookup
from tests.support.job_control_contract import JobControlContract
from tests.support.review_contract import ReviewContract
from tests.support.store_contract_base import (
    LEASE,
    NOW,
    WS,
    all_items,
    as_created,
    b64,
    b64json,
    claim,
    create,
    due_ids,
    found,
    item_of,
    job_of,
    listed_job_ids,
    new_job,
    scheduled,
)
from tests.support.store_contract_uploads import UploadStoreContract


class JobStoreContract(JobControlContract, ReviewContract, UploadStoreContract):
    """The port's guarantees; subclasses provide a `store` fixture."""

    # --- create, get, list ------------------------------------------------------------------------------

    async def test_create_and_get_round_trip(self, store: JobStore) -> None:
        job = Job(
            WS,
            "job-1",
            JobStatus.PENDING,
            datetime(2025, 3, 1, 13, 0, 0, 123456, tzinfo=UTC),
            JobOptions(
                priority=1,
                max_attempts=3,
                skip_existing=True,
                webhook_url="https://h.example",
                tags=("a", "b"),
                webhook_events=("job.progress", "job.completed"),
                queue_window=25,
            ),
            idempotency_key="k1",
        )
        lead = Lead(
            domain="acme.com", company_name="Acme", first_name="Ada", last_name="Ö", external_id="x-1"
        )
        items = [
            Item(WS, "job-1", "000000", lead),
            Item(WS, "job-1", "000001", Lead(domain="b.com"), result={"kept": [1, 0.5, None, "ü"]}),
        ]

        created = await store.create_job(job, items)

        assert created.counters.total == 2
        assert created == replace(job, counters=replace(job.counters, total=2))
        assert await store.get_job(WS, "job-1") == created
        assert [as_created(i) for i in await all_items(store, "job-1")] == items
        assert as_created(await item_of(store, "job-1", "000000")) == items[0]
        assert await store.get_job(WS, "nope") is None
        assert await store.get_job("other-ws", "job-1") is None
        assert await store.get_item("other-ws", "job-1", "000000") is None
        assert await store.get_item(WS, "job-1", "000009") is None

    async def test_create_rejects_a_reused_job_id_and_foreign_items(self, store: JobStore) -> None:
        await create(store, "j", 1)
        with pytest.raises(ValueError, match=r"^job_id: "):
            await create(store, "j", 1)
        job, _ = new_job("k")
        _, foreign = new_job("j", 1)
        with pytest.raises(ValueError, match=r"^items: "):
            await store.create_job(job, foreign)
        job, items = new_job("k", 2)
        with pytest.raises(ValueError, match=r"^items: "):
            await store.create_job(job, [items[0], items[0]])
        assert await store.get_job(WS, "k") is None

    async def test_idempotency_conflict_returns_the_first_job_and_stores_nothing_new(
        self, store: JobStore
    ) -> None:
        first = await create(store, "first", 3, key="k")

        with pytest.raises(IdempotencyConflict) as conflict:
            await create(store, "second", 5, key="k")

        assert conflict.value.job == first
        assert await store.get_job(WS, "second") is None
        assert await all_items(store, "second") == []
        assert len(await all_items(store, "first")) == 3
        # The key is scoped to the workspace.
        assert (await create(store, "other", 1, key="k", workspace="ws2")).job_id == "other"

    async def test_the_job_an_idempotency_key_made_can_be_found(self, store: JobStore) -> None:
        """What lets a replay be answered once the workspace's daily quota is spent."""
        first = await create(store, "first", 2, key="k")
        assert isinstance(store, IdempotentLookup)
        assert await store.job_for_idempotency_key(WS, "k") == first
        assert first.request_fingerprint == "sha-of-k"  # kept, so a reused key can be told from a replay
        assert await store.job_for_idempotency_key("ws2", "k") is None  # scoped to the workspace
        assert await store.job_for_idempotency_key(WS, "nope") is None

    async def test_list_jobs_newest_first_with_a_cursor_round_trip(self, store: JobStore) -> None:
        for n in range(5):
            await create(store, f"j{n}", 0, created_at=NOW + timedelta(minutes=n))
        await create(store, "elsewhere", 0, workspace="ws2", created_at=NOW + timedelta(hours=1))

        seen: list[list[str]] = []
        cursor: str | None = None
        while True:
            page = await store.list_jobs(WS, limit=2, cursor=cursor)
            seen.append([j.job_id for j in page.items])
            cursor = page.cursor
            if cursor is None:
                break

        assert seen == [["j4", "j3"], ["j2", "j1"], ["j0"]]
        assert [j.job_id for j in (await store.list_jobs("ws2")).items] == ["elsewhere"]

    async def test_list_jobs_filters_by_status_and_tag_across_pages(self, store: JobStore) -> None:
        for n in range(12):
            await create(
                store, f"j{n:02d}", 0, created_at=NOW + timedelta(minutes=n), tags=("vip",) if n % 3 else ()
            )
            if n % 2:
                assert await store.start_job(WS, f"j{n:02d}", NOW)

        newest_first = [f"j{n:02d}" for n in reversed(range(12))]
        vip = [j for j in newest_first if int(j[1:]) % 3]
        running_vip = [j for j in vip if int(j[1:]) % 2]
        assert await listed_job_ids(store, 2, tag="vip") == vip
        assert await listed_job_ids(store, 3, status=JobStatus.RUNNING, tag="vip") == running_vip
        assert await listed_job_ids(store, 50, status=JobStatus.CANCELLED) == []
        pending = [j for j in newest_first if int(j[1:]) % 2 == 0]
        assert await listed_job_ids(store, 1, status=JobStatus.PENDING) == pending

    async def test_malformed_or_foreign_cursors_are_bad_cursors_naming_the_cursor(
        self, store: JobStore
    ) -> None:
        for n in range(3):
            await create(store, f"j{n}", 3, created_at=NOW + timedelta(minutes=n))
        jobs_cursor = (await store.list_jobs(WS, limit=1)).cursor
        items_cursor = (await store.list_items(WS, "j0", limit=1)).cursor
        assert jobs_cursor and items_cursor
        deep = b64json("[" * 5000 + "]" * 5000)  # deeper than Python's recursion limit
        deep_in_a_field = b64json('{"at": ' + "[" * 5000 + "]" * 5000 + ', "id": "x"}')
        long = b64({"at": "x" * 5000, "id": "y"})

        for bad in [
            "%%%",
            b64("not a dict"),
            b64({"x": "y"}),
            b64([1, 2]),
            b64({"list": "jobs", "ws": WS, "at": "not a time", "id": "j0"}),
            deep,
            deep_in_a_field,
            long,
            items_cursor,
        ]:
            with pytest.raises(BadCursor, match=r"^cursor: "):
                await store.list_jobs(WS, cursor=bad)
        with pytest.raises(BadCursor, match=r"^cursor: "):
            await store.list_jobs("ws2", cursor=jobs_cursor)
        for bad in ["%%%", b64({}), deep, long, jobs_cursor]:
            with pytest.raises(BadCursor, match=r"^cursor: "):
                await store.list_items(WS, "j0", cursor=bad)
        with pytest.raises(BadCursor, match=r"^cursor: "):
            await store.list_items(WS, "j1", cursor=items_cursor)
        with pytest.raises(ValueError, match=r"^limit: "):
            await store.list_jobs(WS, limit=0)
        with pytest.raises(ValueError, match=r"^limit: "):
            await store.list_items(WS, "j0", limit=1001)

    async def test_2500_items_are_all_stored_in_input_order(self, store: JobStore) -> None:
        job = await create(store, "big", 2500)

        assert job.counters.total == 2500
        assert (await job_of(store, "big")).counters.total == 2500
        items = await all_items(store, "big", limit=1000)
        assert [i.item_id for i in items] == [f"{n:06d}" for n in range(2500)]
        assert items[1234].lead == Lead(domain="d1234.example.com")
        queued = await store.list_items(WS, "big", status=ItemStatus.QUEUED, limit=10)
        assert [i.item_id for i in queued.items] == [f"{n:06d}" for n in range(10)]
        assert (await store.list_items(WS, "big", status=ItemStatus.FOUND)).items == []

    async def test_append_items_fills_a_pending_job_and_nothing_else(self, store: JobStore) -> None:
        assert isinstance(store, ItemAppender)
        job = await create(store, "j", 2)
        _, items = new_job("j", 1203)

        await store.append_items(job, items[2:])

        assert (await job_of(store, "j")).counters.total == 1203
        assert [i.item_id for i in await all_items(store, "j")] == [f"{n:06d}" for n in range(1203)]
        _, foreign = new_job("other", 1)
        with pytest.raises(ValueError, match=r"^items: "):
            await store.append_items(job, foreign)
        await store.start_job(WS, "j", NOW)
        with pytest.raises(ValueError, match=r"^job_id: "):
            await store.append_items(job, [replace(items[0], item_id="009999")])
        assert (await job_of(store, "j")).counters.total == 1203

    # --- claim, finish, defer, skip -----------------------------------------------------------------------

    async def test_double_claim_only_one_wins(self, store: JobStore) -> None:
        await create(store, "j", 1)

        claims = await asyncio.gather(
            *(
                store.claim_item(WS, "j", "000000", token=f"t{n}", lease_until=LEASE, now=NOW)
                for n in range(4)
            )
        )

        winners = [c for c in claims if c is not None]
        assert len(winners) == 1
        stored = await item_of(store, "j")
        assert stored == winners[0]
        assert (stored.status, stored.attempts, stored.lease_until) == (ItemStatus.RUNNING, 1, LEASE)

    async def test_an_expired_lease_can_be_reclaimed_and_the_old_holder_loses(self, store: JobStore) -> None:
        await create(store, "j", 1)
        first = await claim(store, "j", token="old")

        early = NOW + timedelta(minutes=4)
        assert await store.claim_item(WS, "j", "000000", token="new", lease_until=LEASE, now=early) is None
        late = LEASE + timedelta(seconds=1)
        second = await store.claim_item(
            WS, "j", "000000", token="new", lease_until=late + timedelta(minutes=5), now=late
        )

        assert second is not None and (second.lease_token, second.attempts) == ("new", 2)
        assert not await store.finish_item(
            first, ItemStatus.FOUND, reason=None, result={}, delta=found(), now=late
        )
        assert not await store.defer_item(
            first, reason="x", next_attempt_at=late, charge_attempt=False, now=late
        )
        assert (await job_of(store, "j")).counters.processed == 0
        assert await store.finish_item(
            second, ItemStatus.FOUND, reason=None, result={}, delta=found(), now=late
        )
        assert (await job_of(store, "j")).counters.processed == 1

    async def test_items_of_a_cancelled_job_and_terminal_items_are_not_claimable(
        self, store: JobStore
    ) -> None:
        await create(store, "cancelled", 1)
        await store.cancel_job(WS, "cancelled", NOW)
        assert (
            await store.claim_item(WS, "cancelled", "000000", token="t", lease_until=LEASE, now=NOW) is None
        )
        assert (await item_of(store, "cancelled")).status is ItemStatus.QUEUED

        await create(store, "done", 1)
        held = await claim(store, "done")
        assert await store.finish_item(
            held, ItemStatus.NOT_FOUND, reason="none", result=None, delta=CounterDelta(), now=NOW
        )
        much_later = NOW + timedelta(days=1)
        assert (
            await store.claim_item(WS, "done", "000000", token="t2", lease_until=much_later, now=much_later)
            is None
        )
        assert await store.claim_item(WS, "done", "000404", token="t", lease_until=LEASE, now=NOW) is None
        assert await store.claim_item(WS, "unknown", "000000", token="t", lease_until=LEASE, now=NOW) is None
        assert await store.claim_item("ws2", "done", "000000", token="t", lease_until=LEASE, now=NOW) is None

    async def test_finish_records_the_outcome_and_counts_exactly(self, store: JobStore) -> None:
        await create(store, "j", 3)
        result = {"status": "found", "retry_after": 0.1, "score": 1e-7, "emails": [{"email": "a@b.com"}]}
        for n in range(3):
            held = await claim(store, "j", f"{n:06d}", token=f"t{n}")
            assert await store.finish_item(
                held, ItemStatus.FOUND, reason="ok", result=result, delta=found(cost=0.1), now=NOW
            )

        stored = await item_of(store, "j", "000001")
        assert (stored.status, stored.reason, stored.result) == (ItemStatus.FOUND, "ok", result)
        assert (stored.lease_token, stored.lease_until) == (None, None)
        counters = (await job_of(store, "j")).counters
        assert (
            counters.processed,
            counters.found,
            counters.created_emails,
            counters.api_calls_perplexity,
        ) == (3, 3, 3, 3)
        # Decimal arithmetic in the store: in floats, 0.1 + 0.1 + 0.1 != 0.3.
        assert counters.cost_perplexity_usd == 0.3
        with pytest.raises(ValueError, match=r"^status: "):
            await store.finish_item(
                stored, ItemStatus.DEFERRED, reason=None, result=None, delta=found(), now=NOW
            )

    async def test_finish_with_a_wrong_or_missing_token_writes_and_counts_nothing(
        self, store: JobStore
    ) -> None:
        await create(store, "j", 1)
        held = await claim(store, "j", token="mine")

        for impostor in (replace(held, lease_token="theirs"), replace(held, lease_token=None)):
            assert not await store.finish_item(
                impostor, ItemStatus.FOUND, reason=None, result={"x": 1}, delta=found(), now=NOW
            )

        assert await item_of(store, "j") == held
        assert (await job_of(store, "j")).counters.processed == 0

    async def test_concurrent_finishes_of_one_claim_count_once(self, store: JobStore) -> None:
        await create(store, "j", 1)
        held = await claim(store, "j")

        outcomes = await asyncio.gather(
            *(
                store.finish_item(held, status, reason=None, result=None, delta=delta, now=NOW)
                for status, delta in [
                    (ItemStatus.FOUND, found()),
                    (ItemStatus.FAILED, CounterDelta(failed=1)),
                    (ItemStatus.FOUND, found()),
                ]
            )
        )

        assert sorted(outcomes) == [False, False, True]
        counters = (await job_of(store, "j")).counters
        assert counters.processed == 1
        assert counters.found + counters.failed == 1
        assert (await item_of(store, "j")).status in {ItemStatus.FOUND, ItemStatus.FAILED}
        assert (await store.activity(WS, since=NOW, now=NOW)).processed == 1

    async def test_concurrent_finishes_of_different_items_all_count(self, store: JobStore) -> None:
        await create(store, "j", 8)
        held = [await claim(store, "j", f"{n:06d}", token=f"t{n}") for n in range(8)]

        outcomes = await asyncio.gather(
            *(
                store.finish_item(h, ItemStatus.FOUND, reason=None, result=None, delta=found(0.1), now=NOW)
                for h in held
            )
        )

        assert outcomes == [True] * 8
        counters = (await job_of(store, "j")).counters
        assert (counters.processed, counters.found, counters.cost_perplexity_usd) == (8, 8, 0.8)
        assert await store.activity(WS, since=NOW, now=NOW) == Activity(processed=8, found=8, failed=0)

    async def test_activity_counts_each_finish_once_in_its_minute_and_workspace(
        self, store: JobStore
    ) -> None:
        await create(store, "j", 4)
        outcomes = [
            (NOW - timedelta(minutes=90), ItemStatus.FOUND, found()),  # before the window
            (NOW - timedelta(minutes=59), ItemStatus.FOUND, found()),
            (NOW - timedelta(minutes=5), ItemStatus.NOT_FOUND, CounterDelta()),
            (NOW, ItemStatus.DEAD, CounterDelta(failed=1)),
        ]
        for n, (when, status, delta) in enumerate(outcomes):
            held = await claim(store, "j", f"{n:06d}", token=f"t{n}")
            assert await store.finish_item(held, status, reason=None, result=None, delta=delta, now=when)
            # A duplicate finish of the same claim loses its lease and must not count again.
            assert not await store.finish_item(held, status, reason=None, result=None, delta=delta, now=when)
        await create(store, "other", 1, workspace="ws2")
        other = await store.claim_item("ws2", "other", "000000", token="o", lease_until=LEASE, now=NOW)
        assert other is not None
        assert await store.finish_item(
            other, ItemStatus.FOUND, reason=None, result=None, delta=found(), now=NOW
        )
        # Skipped items did not run: a cancelled job's skips are not activity.
        await create(store, "cancelled", 2)
        await store.cancel_job(WS, "cancelled", NOW)
        assert await store.skip_item(WS, "cancelled", "000000", reason="job cancelled", now=NOW)

        hour = await store.activity(WS, since=NOW - timedelta(hours=1), now=NOW)

        assert hour == Activity(processed=3, found=1, failed=1)
        assert (hour.success_rate, hour.found_rate) == (0.6667, 0.3333)
        assert await store.activity("ws2", since=NOW - timedelta(hours=1), now=NOW) == Activity(1, 1, 0)
        assert (await store.activity("nobody", since=NOW - timedelta(hours=1), now=NOW)).success_rate is None
        assert await store.activity(WS, since=NOW - timedelta(hours=2), now=NOW) == Activity(4, 2, 1)

    async def test_defer_with_and_without_charging_the_attempt(self, store: JobStore) -> None:
        await create(store, "j", 1)
        held = await claim(store, "j", token="a")
        later = NOW + timedelta(minutes=10)

        assert await store.defer_item(
            held, reason="throttled", next_attempt_at=later, charge_attempt=True, now=NOW
        )
        deferred = await item_of(store, "j")
        assert (deferred.status, deferred.attempts, deferred.reason) == (ItemStatus.DEFERRED, 1, "throttled")
        assert (deferred.next_attempt_at, deferred.lease_token, deferred.lease_until) == (later, None, None)
        assert not await store.defer_item(
            held, reason="again", next_attempt_at=later, charge_attempt=True, now=NOW
        )
        assert not await store.defer_item(
            replace(held, lease_token=None),
            reason="again",
            next_attempt_at=later,
            charge_attempt=True,
            now=NOW,
        )

        again = await claim(store, "j", token="b")
        assert again.attempts == 2 and again.next_attempt_at is None
        assert await store.defer_item(
            again, reason="no time", next_attempt_at=later, charge_attempt=False, now=NOW
        )
        assert (await item_of(store, "j")).attempts == 1
        assert (await job_of(store, "j")).counters.processed == 0

    async def test_a_deferral_bills_what_the_attempt_spent_once(self, store: JobStore) -> None:
        await create(store, "j", 1)
        held = await claim(store, "j", token="a")
        spent = CounterDelta(processed=0, api_calls_hunter=2, credits_hunter=1.5)
        later = NOW + timedelta(minutes=1)

        assert await store.defer_item(
            held, reason="202", next_attempt_at=later, charge_attempt=True, now=NOW, spent=spent
        )
        assert not await store.defer_item(  # the lease is gone: nothing written, nothing billed twice
            held, reason="202", next_attempt_at=later, charge_attempt=True, now=NOW, spent=spent
        )
        counters = (await job_of(store, "j")).counters
        assert (counters.processed, counters.api_calls_hunter, counters.credits_hunter) == (0, 2, 1.5)
        assert (await item_of(store, "j")).status is ItemStatus.DEFERRED
        assert (await store.activity(WS, since=NOW, now=NOW)).processed == 0

    async def test_skip_counts_once_and_only_queued_or_deferred_items(self, store: JobStore) -> None:
        await create(store, "j", 2)
        await store.cancel_job(WS, "j", NOW)

        outcomes = await asyncio.gather(
            *(store.skip_item(WS, "j", "000000", reason="cancelled", now=NOW) for _ in range(3))
        )

        assert sorted(outcomes) == [False, False, True]
        assert (await job_of(store, "j")).counters.processed == 1
        skipped = await item_of(store, "j")
        assert (skipped.status, skipped.reason) == (ItemStatus.SKIPPED, "cancelled")

        await create(store, "live", 1)
        await claim(store, "live")
        assert not await store.skip_item(WS, "live", "000000", reason="cancelled", now=NOW)
        assert not await store.skip_item(WS, "gone", "000000", reason="cancelled", now=NOW)
        assert (await job_of(store, "live")).counters.processed == 0

    async def test_an_items_first_outcome_marks_its_successors_sent(self, store: JobStore) -> None:
        """`sent_next` (leadenrich.jobs.window) is written with every outcome (finish, deferral charged or
        not, skip), so it is set exactly when an outcome committed."""
        await create(store, "j", 5)
        later = NOW + timedelta(minutes=1)
        assert not any(i.sent_next for i in await all_items(store, "j"))

        handed_back = await claim(store, "j", "000000")
        assert not handed_back.sent_next
        assert await store.defer_item(
            handed_back, reason="no slot", next_attempt_at=later, charge_attempt=False, now=NOW
        )
        assert (await item_of(store, "j", "000000")).sent_next
        again = await claim(store, "j", "000000", token="t2")
        assert again.sent_next  # the next claim sees it: the successors are not sent twice
        assert await store.defer_item(
            again, reason="202", next_attempt_at=later, charge_attempt=True, now=NOW
        )
        assert (await item_of(store, "j", "000000")).sent_next

        held = await claim(store, "j", "000001")
        assert not await store.finish_item(
            replace(held, lease_token="lost"),
            ItemStatus.FOUND,
            reason=None,
            result=None,
            delta=found(),
            now=NOW,
        )
        assert not (await item_of(store, "j", "000001")).sent_next  # no outcome, no mark
        assert await store.finish_item(
            held, ItemStatus.FOUND, reason=None, result=None, delta=found(), now=NOW
        )
        assert (await item_of(store, "j", "000001")).sent_next

        await store.cancel_job(WS, "j", NOW)
        assert await store.skip_item(WS, "j", "000002", reason="cancelled", now=NOW)
        assert [i.sent_next for i in await all_items(store, "j")] == [True, True, True, False, False]

    async def test_a_cancelled_jobs_item_whose_processor_died_can_be_skipped(self, store: JobStore) -> None:
        """No claim takes an item of a cancelled job, so an item left running by a dead processor would stay
        running for ever: once its lease has expired, skip takes it."""
        await create(store, "j", 1)
        await claim(store, "j")  # the lease runs to LEASE
        await store.cancel_job(WS, "j", NOW)

        assert not await store.skip_item(WS, "j", "000000", reason="cancelled", now=NOW)  # still held
        assert await store.skip_item(WS, "j", "000000", reason="cancelled", now=LEASE + timedelta(seconds=1))

        skipped = await item_of(store, "j")
        assert (skipped.status, skipped.lease_token, skipped.sent_next) == (ItemStatus.SKIPPED, None, True)
        assert (await job_of(store, "j")).counters.processed == 1

    # --- job transitions ---------------------------------------------------------------------------------

    async def test_start_job_happens_once(self, store: JobStore) -> None:
        await create(store, "j", 1)
        starts = await asyncio.gather(*(store.start_job(WS, "j", NOW) for _ in range(3)))
        assert sorted(starts) == [False, False, True]
        assert not await store.start_job(WS, "j", NOW + timedelta(seconds=1))
        job = await job_of(store, "j")
        assert (job.status, job.started_at) == (JobStatus.RUNNING, NOW)
        assert not await store.start_job(WS, "unknown", NOW)
        assert not await store.start_job("ws2", "j", NOW)

    async def test_complete_job_if_done_returns_the_job_to_exactly_one_caller(self, store: JobStore) -> None:
        await create(store, "j", 2)
        await store.start_job(WS, "j", NOW)
        first = await claim(store, "j", "000000")
        await store.finish_item(first, ItemStatus.FOUND, reason=None, result=None, delta=found(), now=NOW)
        assert await store.complete_job_if_done(WS, "j", NOW) is None  # one item still to go

        second = await claim(store, "j", "000001")
        await store.finish_item(
            second, ItemStatus.NOT_FOUND, reason=None, result=None, delta=CounterDelta(), now=NOW
        )
        done = NOW + timedelta(minutes=1)
        winners = [
            j
            for j in await asyncio.gather(*(store.complete_job_if_done(WS, "j", done) for _ in range(3)))
            if j
        ]

        assert len(winners) == 1
        assert (winners[0].status, winners[0].completed_at, winners[0].counters.processed) == (
            JobStatus.COMPLETED,
            done,
            2,
        )
        assert await job_of(store, "j") == winners[0]
        assert await store.complete_job_if_done(WS, "j", done) is None

    async def test_cancel_job(self, store: JobStore) -> None:
        await create(store, "j", 2)
        held = await claim(store, "j", "000000")
        await store.finish_item(
            held, ItemStatus.FOUND, reason=None, result={"kept": True}, delta=found(), now=NOW
        )

        cancelled = await store.cancel_job(WS, "j", NOW)

        assert cancelled is not None and cancelled.status is JobStatus.CANCELLED
        assert await store.cancel_job(WS, "j", NOW) == cancelled
        assert (await item_of(store, "j", "000000")).result == {"kept": True}
        assert await store.cancel_job(WS, "unknown", NOW) is None
        assert await store.cancel_job("ws2", "j", NOW) is None

        await create(store, "empty", 0)
        completed = await store.complete_job_if_done(WS, "empty", NOW)
        assert completed is not None
        assert await store.cancel_job(WS, "empty", NOW) == completed

    async def test_requeue_puts_failed_and_dead_items_back_and_adjusts_counters(
        self, store: JobStore
    ) -> None:
        await create(store, "j", 4)
        await store.start_job(WS, "j", NOW)
        outcomes = [
            (ItemStatus.FOUND, found()),
            (ItemStatus.FAILED, CounterDelta(failed=1)),
            (ItemStatus.DEAD, CounterDelta(failed=1)),
            (ItemStatus.NOT_FOUND, CounterDelta()),
        ]
        for n, (status, delta) in enumerate(outcomes):
            held = await claim(store, "j", f"{n:06d}")
            assert await store.finish_item(held, status, reason="why", result={"r": n}, delta=delta, now=NOW)
        assert await store.complete_job_if_done(WS, "j", NOW) is not None

        later = NOW + timedelta(hours=1)
        requeued = await store.requeue_items(WS, "j", frozenset({ItemStatus.FAILED, ItemStatus.DEAD}), later)

        assert [i.item_id for i in requeued] == ["000001", "000002"]
        for item in requeued:
            assert await store.get_item(WS, "j", item.item_id) == item
            assert (item.status, item.attempts, item.reason, item.result) == (
                ItemStatus.QUEUED,
                0,
                None,
                None,
            )
        job = await job_of(store, "j")
        assert (job.status, job.completed_at) == (JobStatus.RUNNING, None)
        assert (job.counters.processed, job.counters.failed, job.counters.found) == (2, 0, 1)
        assert (await item_of(store, "j", "000000")).status is ItemStatus.FOUND
        assert (await claim(store, "j", "000001", token="retry")).attempts == 1
        assert await store.requeue_items(WS, "j", frozenset({ItemStatus.DEAD}), later) == []
        assert await store.requeue_items(WS, "j", frozenset(), later) == []
        with pytest.raises(ValueError, match=r"^statuses: "):
            await store.requeue_items(WS, "j", frozenset({ItemStatus.RUNNING}), later)

    async def test_requeue_of_found_items_takes_them_off_found(self, store: JobStore) -> None:
        await create(store, "j", 2)
        for n in range(2):
            held = await claim(store, "j", f"{n:06d}", token=f"t{n}")
            assert await store.finish_item(
                held, ItemStatus.FOUND, reason=None, result={"n": n}, delta=found(), now=NOW
            )

        requeued = await store.requeue_items(WS, "j", frozenset({ItemStatus.FOUND}), NOW)

        assert [i.item_id for i in requeued] == ["000000", "000001"]
        counters = (await job_of(store, "j")).counters
        assert (counters.processed, counters.found, counters.failed) == (0, 0, 0)
        assert await store.requeue_items("ws2", "j", frozenset({ItemStatus.FOUND}), NOW) == []

    async def test_a_risky_item_counts_as_risky_not_found_and_a_requeue_takes_it_back(
        self, store: JobStore
    ) -> None:
        await create(store, "j", 2)
        held = await claim(store, "j", "000000", token="t0")
        result: dict[str, object] = {
            "status": "risky",
            "emails": [{"email": "a@b.com", "deliverability": "catch_all"}],
        }
        assert await store.finish_item(
            held, ItemStatus.RISKY, reason=None, result=result, delta=CounterDelta(risky=1), now=NOW
        )
        assert (await item_of(store, "j")).status is ItemStatus.RISKY
        assert (await item_of(store, "j")).result == result
        counters = (await job_of(store, "j")).counters
        assert (counters.processed, counters.found, counters.risky) == (1, 0, 1)

        requeued = await store.requeue_items(WS, "j", frozenset({ItemStatus.RISKY}), NOW)

        assert [i.item_id for i in requeued] == ["000000"]
        counters = (await job_of(store, "j")).counters
        assert (counters.processed, counters.found, counters.risky) == (0, 0, 0)


# The helpers the adapters' own tests use, from here as before the contract was split.
__all__ = [
    "LEASE",
    "NOW",
    "WS",
    "JobControlContract",
    "JobStoreContract",
    "all_items",
    "as_created",
    "b64",
    "b64json",
    "claim",
    "create",
    "due_ids",
    "found",
    "item_of",
    "job_of",
    "listed_job_ids",
    "new_job",
    "scheduled",
]
