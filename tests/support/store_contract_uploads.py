"""The part of the store contract (`tests.support.store_contract`) that jobs made from an uploaded CSV need:
their upload state kept with the job's options, and a page appended twice counted once."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest

from leadenrich.jobs.models import Item, Job, JobOptions, JobStatus, LawfulBasis
from leadenrich.jobs.ports import ItemAppender, JobStore
from leadenrich.jobs.store_base import PageStored
from leadenrich.uploads.models import RowError, UploadState
from tests.support.store_contract_base import NOW, WS, all_items, claim, create, item_of, job_of, new_job

STARTED = UploadState(upload_id="up-1", key=f"uploads/{WS}/up-1.csv", size=12_345_678_901)
READING = replace(
    STARTED,
    offset=4_096,
    line=41,
    rows=38,
    refused=2,
    errors=(RowError(7, "domain", "domain: empty; «ü» in line 7"), RowError(30, "email", "email: not one")),
    delimiter=";",
    columns=(("domain", 0), ("first_name", 2)),
    width=5,
    column_map=(("domain", "Website"),),
    loaded_at="2025-03-01T12:00:00.123456+00:00",
)


def upload_job(job_id: str, upload: UploadState, *, due: bool = False) -> Job:
    """A job as `POST /jobs {"upload_id"}` makes it: pending, no items, its upload state in its options
    (scheduled: in the due index)."""
    run_at = NOW - timedelta(minutes=1) if due else None
    options = JobOptions(upload=upload, run_at=run_at, tags=("csv",))
    return Job(WS, job_id, JobStatus.PENDING, NOW, options, due_at=run_at)


def page(job_id: str, start: int, size: int) -> list[Item]:
    """Items `start` to `start + size - 1` of the job, as a loader makes them from the file's rows."""
    _, items = new_job(job_id, start + size)
    return items[start:]


class UploadStoreContract:
    """`JobOptions.upload` through every read and `update_job`; `append_items` in order and once; part of
    `JobStoreContract`."""

    async def test_the_upload_state_round_trips_through_every_read(self, store: JobStore) -> None:
        job = upload_job("u", READING, due=True)

        created = await store.create_job(job, [])

        assert created == job and await job_of(store, "u") == job
        assert created.options.upload == READING and created.options.upload.size == 12_345_678_901
        assert (await store.list_jobs(WS)).items == [job]
        assert (await store.list_jobs(WS, tag="csv", status=JobStatus.PENDING)).items == [job]
        assert await store.due_jobs(NOW) == [job]
        assert (await create(store, "plain", 0)).options.upload is None

    async def test_update_job_replaces_the_upload_state_as_a_loader_records_its_progress(
        self, store: JobStore
    ) -> None:
        await store.create_job(upload_job("u", STARTED), [])
        progressed = replace(
            (await job_of(store, "u")).options,
            upload=READING,
            company_data=True,
            lawful_basis=LawfulBasis.CONSENT,
        )

        stale = await store.update_job(WS, "u", options=progressed, due_at=None, expected_due_at=NOW, now=NOW)
        assert stale is None and (await job_of(store, "u")).options.upload == STARTED

        updated = await store.update_job(
            WS, "u", options=progressed, due_at=None, expected_due_at=None, now=NOW
        )

        assert updated is not None and updated.options == progressed  # every option, as given
        assert await job_of(store, "u") == updated
        loaded = replace(progressed, upload=replace(READING, state="loaded", rows=1_000_000))
        again = await store.update_job(WS, "u", options=loaded, due_at=None, expected_due_at=None, now=NOW)
        assert again is not None and (await job_of(store, "u")).options == loaded
        cleared = await store.update_job(
            WS, "u", options=JobOptions(), due_at=None, expected_due_at=None, now=NOW
        )
        assert cleared is not None and (await job_of(store, "u")).options.upload is None

    async def test_pages_appended_in_order_add_up(self, store: JobStore) -> None:
        assert isinstance(store, ItemAppender)
        job = await store.create_job(upload_job("u", STARTED), [])

        for start, size in ((0, 3), (3, 5), (8, 1)):
            await store.append_items(job, page("u", start, size))

        assert (await job_of(store, "u")).counters.total == 9
        assert [i.item_id for i in await all_items(store, "u")] == [f"{n:06d}" for n in range(9)]

    async def test_the_same_page_appended_twice_is_refused_and_counted_once(self, store: JobStore) -> None:
        """A loader that died after its append and before recording its progress appends the page again."""
        assert isinstance(store, ItemAppender)
        job = await store.create_job(upload_job("u", STARTED), [])
        await store.append_items(job, page("u", 0, 3))
        await store.append_items(job, page("u", 3, 4))
        held = await claim(store, "u", "000004")

        for start, size in ((3, 4), (0, 3), (3, 2)):
            with pytest.raises(PageStored, match=r"^items: .*stored already"):
                await store.append_items(job, page("u", start, size))

        assert (await job_of(store, "u")).counters.total == 7
        assert len(await all_items(store, "u")) == 7
        assert await item_of(store, "u", "000004") == held  # a refused page overwrites no item
        await store.append_items(job, page("u", 7, 2))  # the next page still lands
        assert (await job_of(store, "u")).counters.total == 9

    async def test_two_loaders_appending_the_same_page_count_it_once(self, store: JobStore) -> None:
        assert isinstance(store, ItemAppender)
        job = await store.create_job(upload_job("u", STARTED), [])
        await store.append_items(job, page("u", 0, 2))

        outcomes = await asyncio.gather(
            *(store.append_items(job, page("u", 2, 30)) for _ in range(3)), return_exceptions=True
        )

        refused = [o for o in outcomes if isinstance(o, PageStored)]
        assert outcomes.count(None) == 1 and len(refused) == 2, outcomes
        assert all(str(r).startswith("items: ") for r in refused)
        assert (await job_of(store, "u")).counters.total == 32
        assert len(await all_items(store, "u")) == 32

    async def test_a_page_past_the_total_or_without_sequence_ids_is_refused(self, store: JobStore) -> None:
        assert isinstance(store, ItemAppender)
        job = await store.create_job(upload_job("u", STARTED), [])
        await store.append_items(job, page("u", 0, 2))

        with pytest.raises(ValueError, match=r"^items: the page starts at item 5, job u holds 2"):
            await store.append_items(job, page("u", 5, 2))
        for bad in ("x00002", "", "²"):
            with pytest.raises(ValueError, match=r"^items: item id .* is not a sequence number"):
                await store.append_items(job, [replace(page("u", 2, 1)[0], item_id=bad)])

        assert (await job_of(store, "u")).counters.total == 2
        assert [i.item_id for i in await all_items(store, "u")] == ["000000", "000001"]
        await store.fail_job(WS, "u", NOW)
        with pytest.raises(ValueError, match=r"^job_id: job u is no longer pending"):
            await store.append_items(job, page("u", 2, 1))
        with pytest.raises(ValueError, match=r"^job_id: "):
            await store.append_items(replace(job, job_id="gone"), page("gone", 0, 1))
        assert (await job_of(store, "u")).counters.total == 2
