"""The contact-approval and lawful-basis part of the store contract (`tests.support.store_contract`): a job's
lawful basis round trip, the review queue (`JobStore.review_queue`) and reviewers' decisions
(`JobStore.review_address`), on every adapter."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta
from typing import Any

import pytest

from leadenrich.jobs.encoding import BadCursor
from leadenrich.jobs.models import ItemStatus, Job, JobOptions, JobStatus, LawfulBasis, ReviewState
from leadenrich.jobs.ports import CounterDelta, JobStore
from leadenrich.privacy.review import ItemPolicy, pending_count, review_of
from tests.support.store_contract_base import NOW, WS, b64, claim, create, item_of, job_of

APPROVED, REJECTED, PENDING = ReviewState.APPROVED, ReviewState.REJECTED, ReviewState.PENDING


def found_record(*emails: str, review: bool = True) -> dict[str, Any]:
    """An item's result with these addresses, stamped as the processor stamps it."""
    record: dict[str, object] = {
        "domain": "acme.de",
        "status": "found",
        "emails": [
            {"email": email, "confidence_score": 90 - n, "person": None} for n, email in enumerate(emails)
        ],
        "usage": {"hunter": {"calls": 1, "credits": 0.1}},
    }
    return ItemPolicy(LawfulBasis.CONSENT, review_required=review).stamp(record)


async def finish_with(
    store: JobStore,
    job_id: str,
    item_id: str,
    record: dict[str, Any] | None,
    status: ItemStatus = ItemStatus.FOUND,
) -> None:
    held = await claim(store, job_id, item_id)
    assert await store.finish_item(held, status, reason=None, result=record, delta=CounterDelta(), now=NOW)


async def queue_ids(store: JobStore, workspace_id: str = WS, limit: int = 100) -> list[tuple[str, str]]:
    """Every (job, item) the review queue pages through, `limit` per page (no page holds more)."""
    seen: list[tuple[str, str]] = []
    cursor: str | None = None
    while True:
        page = await store.review_queue(workspace_id, limit=limit, cursor=cursor)
        assert len(page.items) <= limit
        seen += [(item.job_id, item.item_id) for item in page.items]
        cursor = page.cursor
        if cursor is None:
            return seen


def decision(
    store: JobStore, job_id: str, index: int, email: str, decided: ReviewState, item_id: str = "000000"
) -> Any:
    return store.review_address(WS, job_id, item_id, index=index, email=email, decision=decided, now=NOW)


class ReviewContract:
    """`review_queue`, `review_address` and the lawful basis; part of `JobStoreContract`."""

    async def test_the_lawful_basis_round_trips_and_survives_an_update(self, store: JobStore) -> None:
        job = Job(WS, "j", JobStatus.PENDING, NOW, JobOptions(lawful_basis=LawfulBasis.CONTRACT))
        assert (await store.create_job(job, [])).options.lawful_basis is LawfulBasis.CONTRACT
        assert (await job_of(store, "j")).options.lawful_basis is LawfulBasis.CONTRACT
        changed = dataclasses.replace(job.options, priority=1)
        assert await store.update_job(WS, "j", options=changed, due_at=None, expected_due_at=None, now=NOW)
        assert (await job_of(store, "j")).options.lawful_basis is LawfulBasis.CONTRACT
        assert (await create(store, "plain", 0)).options.lawful_basis is LawfulBasis.LEGITIMATE_INTEREST

    async def test_the_queue_holds_exactly_the_items_with_pending_addresses_in_pages(
        self, store: JobStore
    ) -> None:
        await create(store, "ja", 3)
        await create(store, "jb", 2)
        await create(store, "other", 1, workspace="ws2")
        await finish_with(store, "ja", "000000", found_record("a@acme.de", "b@acme.de"))
        await finish_with(store, "ja", "000001", found_record("c@acme.de", review=False))  # no review asked
        await finish_with(store, "ja", "000002", None, ItemStatus.NOT_FOUND)
        await finish_with(store, "jb", "000001", found_record("d@acme.de"))
        await finish_with(store, "jb", "000000", found_record("e@acme.de"), ItemStatus.RISKY)
        other = await store.claim_item(
            "ws2", "other", "000000", token="t", lease_until=NOW + timedelta(minutes=5), now=NOW
        )
        assert other is not None
        assert await store.finish_item(
            other,
            ItemStatus.FOUND,
            reason=None,
            result=found_record("x@acme.de"),
            delta=CounterDelta(),
            now=NOW,
        )

        expected = [("ja", "000000"), ("jb", "000000"), ("jb", "000001")]
        assert await queue_ids(store) == expected
        assert await queue_ids(store, limit=1) == expected
        assert await queue_ids(store, limit=2) == expected
        assert await queue_ids(store, "ws2") == [("other", "000000")]
        assert await queue_ids(store, "ws3") == []
        first = (await store.review_queue(WS, limit=1)).items[0]
        assert pending_count(first.result) == 2 and first.result == found_record("a@acme.de", "b@acme.de")

    async def test_decisions_land_once_and_the_last_one_takes_the_item_off_the_queue(
        self, store: JobStore
    ) -> None:
        await create(store, "j", 1)
        await finish_with(store, "j", "000000", found_record("a@acme.de", "b@acme.de"))

        approved = await decision(store, "j", 0, "a@acme.de", APPROVED)
        assert approved is not None and approved.updated_at == NOW
        stored = await item_of(store, "j")
        assert stored.result == approved.result and stored.status is ItemStatus.FOUND
        assert [review_of(a) for a in stored.result["emails"]] == [APPROVED, PENDING]  # type: ignore[index]
        assert pending_count(stored.result) == 1 and await queue_ids(store) == [("j", "000000")]

        assert await decision(store, "j", 0, "a@acme.de", REJECTED) is None  # decided already
        assert await decision(store, "j", 1, "a@acme.de", REJECTED) is None  # not the address at 1
        assert await decision(store, "j", 2, "b@acme.de", REJECTED) is None  # no address 2
        assert (
            await store.review_address(
                "ws2", "j", "000000", index=1, email="b@acme.de", decision=REJECTED, now=NOW
            )
            is None
        )
        assert await decision(store, "missing", 1, "b@acme.de", REJECTED) is None
        assert (await item_of(store, "j")).result == stored.result  # nothing changed

        rejected = await decision(store, "j", 1, "b@acme.de", REJECTED)
        assert rejected is not None and pending_count(rejected.result) == 0
        assert await queue_ids(store) == []
        with pytest.raises(ValueError, match=r"^decision: "):
            await decision(store, "j", 1, "b@acme.de", PENDING)

    async def test_concurrent_decisions_on_one_item_all_land_and_one_address_is_decided_once(
        self, store: JobStore
    ) -> None:
        emails = [f"p{n}@acme.de" for n in range(4)]
        await create(store, "j", 1)
        await finish_with(store, "j", "000000", found_record(*emails))

        results = await asyncio.gather(
            *(decision(store, "j", n, email, APPROVED) for n, email in enumerate(emails))
        )
        assert all(result is not None for result in results)  # each retried on a fresh read when it lost
        stored = await item_of(store, "j")
        assert [review_of(a) for a in stored.result["emails"]] == [APPROVED] * 4  # type: ignore[index]
        assert pending_count(stored.result) == 0 and await queue_ids(store) == []

        await create(store, "k", 1)
        await finish_with(store, "k", "000000", found_record("a@acme.de"))
        race = await asyncio.gather(
            decision(store, "k", 0, "a@acme.de", APPROVED), decision(store, "k", 0, "a@acme.de", REJECTED)
        )
        assert sum(result is not None for result in race) == 1
        winner = next(result for result in race if result is not None)
        assert (await item_of(store, "k")).result == winner.result

    async def test_a_requeued_item_leaves_the_queue_and_its_decisions_find_nothing(
        self, store: JobStore
    ) -> None:
        await create(store, "j", 1)
        await finish_with(store, "j", "000000", found_record("a@acme.de"), ItemStatus.DEAD)
        assert await queue_ids(store) == [("j", "000000")]

        assert [i.item_id for i in await store.requeue_items(WS, "j", frozenset({ItemStatus.DEAD}), NOW)] == [
            "000000"
        ]

        assert await queue_ids(store) == []
        assert await decision(store, "j", 0, "a@acme.de", APPROVED) is None

    async def test_foreign_or_malformed_review_cursors_are_bad_cursors(self, store: JobStore) -> None:
        for job_id in ("j1", "j2"):
            await create(store, job_id, 1)
            await finish_with(store, job_id, "000000", found_record("a@acme.de"))
        cursor = (await store.review_queue(WS, limit=1)).cursor
        assert cursor is not None
        jobs_cursor = (await store.list_jobs(WS, limit=1)).cursor
        for bad in ["%%%", b64({"list": "review", "ws": WS}), jobs_cursor]:
            with pytest.raises(BadCursor, match=r"^cursor: "):
                await store.review_queue(WS, cursor=bad)
        with pytest.raises(BadCursor, match=r"^cursor: "):
            await store.review_queue("ws2", cursor=cursor)
        with pytest.raises(ValueError, match=r"^limit: "):
            await store.review_queue(WS, limit=0)
        assert [i.job_id for i in (await store.review_queue(WS, cursor=cursor)).items] == ["j2"]


__all__ = ["ReviewContract", "finish_with", "found_record"]
