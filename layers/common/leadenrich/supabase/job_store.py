"""`JobStore` on Supabase: the tables `jobs` and `job_items` (0001), changed only by SQL functions (0002;
job control, the due index and the paused claim: 0007; uploads, `fail_job` and the in-order append: 0018).

PostgREST makes one HTTP request one transaction, and a plain table request changes one table. Every state
change of the port that has a condition, or touches an item together with its job's counters, is therefore
one plpgsql function in `infra/supabase/migrations/0002_job_store.sql`, called by RPC: a conditional
`UPDATE ... WHERE <state>` (PostgreSQL re-checks the condition on the committed row when two callers race,
so exactly one wins) followed, in the same transaction, by the counters and the activity minute it adds.
This module only passes arguments and maps errors; the conditions live in the SQL, next to their
explanation, what a call must refuse before writing is `jobs.store_base`'s, and the rows and answers are
`leadenrich.supabase.job_rows`'.

Also:
- an item's `updated_at` is the database's: 0001 keeps `updated_at` by trigger on every change, so it is set
  from creation on and follows PostgreSQL's clock, not the `now` the caller passes;
- functions that return rows return them as one JSON value (object, array or null), never as a set:
  PostgREST cuts set-returning results at its max-rows setting (1000 on Supabase), and a cut requeue would
  leave items queued without a message.

Workspace scoping: the service role bypasses row-level security, so every function and every query names
its workspace itself.

The `supabase` package is imported on first use (through `leadenrich.supabase.client`), never at import
time: the handlers import the runtime at cold start.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from leadenrich.jobs.encoding import opt_ts, ts
from leadenrich.jobs.item_rules import job_exists
from leadenrich.jobs.models import Item, ItemStatus, Job, JobStatus, Page
from leadenrich.jobs.ports import Activity, IdempotencyConflict
from leadenrich.jobs.rows import activity_of, options_row
from leadenrich.jobs.store_base import (
    Deferral,
    Finish,
    ItemListing,
    ItemRef,
    JobListing,
    JobStoreBase,
    JobUpdate,
    PageStored,
    ReviewListing,
    append_refused,
    page_start,
)
from leadenrich.supabase.client import SupabaseSettings, supabase_client
from leadenrich.supabase.job_rows import (
    StoreAnswerError,
    delta_columns,
    flag_answer,
    item_from_row,
    item_params,
    job_from_row,
    job_params,
    object_answer,
    objects_answer,
)

if TYPE_CHECKING:
    from supabase import AsyncClient

BATCH_ROWS = 500  # items per request when creating a job
_UNIQUE_VIOLATION = "23505"
_NOT_PENDING = "55000"  # object_not_in_prerequisite_state: job_store_add_items' condition failed
_FUNCTION_NOT_FOUND = "PGRST202"  # PostgREST: no such function in its schema cache
_MIGRATION = "infra/supabase/migrations/0002_job_store.sql"  # and the files after it


def _ref(ref: ItemRef) -> dict[str, str]:
    """The parameters naming an item."""
    return {"p_workspace_id": ref.workspace_id, "p_job_id": ref.job_id, "p_item_id": ref.item_id}


class SupabaseJobStore(JobStoreBase):
    """The Supabase adapter of `JobStore` (the service role; one async client per event loop)."""

    def __init__(self, settings: SupabaseSettings) -> None:
        self._settings = settings

    # --- plumbing ---------------------------------------------------------------------------------------

    async def _client(self) -> AsyncClient:
        return await supabase_client(self._settings)

    async def _rpc(self, function: str, params: dict[str, Any], *, read_only: bool = False) -> object:
        """Call a 0002 function; its JSON answer. Reads go as GET: a read-only transaction, and the client
        retries them on a dropped connection (writes are never retried: one may have committed)."""
        from postgrest.exceptions import APIError

        client = await self._client()
        try:
            response = await client.rpc(function, params, get=read_only).execute()
        except APIError as exc:
            if exc.code == _FUNCTION_NOT_FOUND:
                raise RuntimeError(
                    f"{function}: not in the database's API; apply {_MIGRATION} (and reload PostgREST's "
                    "schema cache)"
                ) from exc
            raise
        data: object = response.data
        return data

    async def _row(self, table: str, workspace_id: str, **equal: str) -> dict[str, Any] | None:
        """The workspace's row of `table` whose columns have the `equal` values (a unique key), if any."""
        client = await self._client()
        query = client.table(table).select("*").eq("workspace_id", workspace_id)
        for column, value in equal.items():
            query = query.eq(column, value)
        response = await query.limit(1).execute()
        rows = objects_answer(response.data, table)
        return rows[0] if rows else None

    # --- jobs ---------------------------------------------------------------------------------------------

    async def _create(self, job: Job, items: Sequence[Item]) -> Job:
        """The job and its first 500 items in one transaction (so an idempotency conflict stores nothing),
        then the rest in batches of 500, one request each. If a later batch fails the job is marked failed,
        never left pending with items missing: it could never complete."""
        from postgrest.exceptions import APIError

        first = [item_params(item) for item in items[:BATCH_ROWS]]
        try:
            data = await self._rpc("job_store_create_job", {"p_job": job_params(job), "p_items": first})
        except APIError as exc:
            if exc.code == _UNIQUE_VIOLATION:
                raise job_exists(job.job_id) from exc
            raise
        answer = object_answer(data, "job_store_create_job")
        if answer is None or not isinstance(answer.get("job"), dict):
            raise StoreAnswerError("job_store_create_job answered no job")
        stored = job_from_row(answer["job"])
        if answer.get("created") is not True:
            raise IdempotencyConflict(stored)
        try:
            await self._add_items(job, items[BATCH_ROWS:], add_to_total=False)
        except Exception:
            client = await self._client()
            await (
                client.table("jobs")
                .update({"status": JobStatus.FAILED.value})
                .eq("workspace_id", job.workspace_id)
                .eq("job_id", job.job_id)
                .eq("status", JobStatus.PENDING.value)
                .execute()
            )
            raise
        return stored

    async def _append(self, job: Job, items: Sequence[Item]) -> None:
        """500 items per request; each request stores its rows and adds them to the job's total in one
        transaction, only while the job is pending and its total is where the batch starts (0018: nothing
        of that batch written otherwise; the job, read after, says why).

        A page of several batches is not one transaction: appended again after a failure between two of
        them, the batches the total counts already are skipped and the rest stored (`PageStored` only when
        every batch was)."""
        from postgrest.exceptions import APIError

        skipped: PageStored | None = None
        wrote = False
        for start in range(0, len(items), BATCH_ROWS):
            batch = items[start : start + BATCH_ROWS]
            first = page_start(batch)
            try:
                await self._add_items(job, batch, add_to_total=True)
                wrote = True
            except APIError as exc:
                if exc.code == _UNIQUE_VIOLATION:
                    raise ValueError("items: an item id of this job is stored already") from exc
                if exc.code != _NOT_PENDING:
                    raise
                stored = await self.get_job(job.workspace_id, job.job_id)
                refused = append_refused(stored, job.job_id, first)
                counted = stored is not None and stored.counters.total >= first + len(batch)
                if not isinstance(refused, PageStored) or not counted:
                    raise refused from exc
                skipped = refused  # the whole batch is stored and counted: on to the next one
        if skipped is not None and not wrote:
            raise skipped

    async def _add_items(self, job: Job, items: Sequence[Item], *, add_to_total: bool) -> None:
        for start in range(0, len(items), BATCH_ROWS):
            batch = [item_params(item) for item in items[start : start + BATCH_ROWS]]
            await self._rpc(
                "job_store_add_items",
                {
                    "p_workspace_id": job.workspace_id,
                    "p_job_id": job.job_id,
                    "p_items": batch,
                    "p_add_to_total": add_to_total,
                },
            )

    async def get_job(self, workspace_id: str, job_id: str) -> Job | None:
        row = await self._row("jobs", workspace_id, job_id=job_id)
        return job_from_row(row) if row else None

    async def job_for_idempotency_key(self, workspace_id: str, key: str) -> Job | None:
        """The job an idempotency key of the workspace made, if any (`IdempotentLookup`)."""
        row = await self._row("jobs", workspace_id, idempotency_key=key)
        return job_from_row(row) if row else None

    async def _list_jobs(self, listing: JobListing) -> Page[Job]:
        """Newest first (created_at, then job id, both descending)."""
        params: dict[str, Any] = {"p_workspace_id": listing.workspace_id, "p_limit": listing.limit + 1}
        after = listing.after()
        if after is not None:
            params["p_after_created_at"], params["p_after_job_id"] = after
        if listing.status is not None:
            params["p_status"] = listing.status.value
        if listing.tag is not None:
            params["p_tag"] = listing.tag
        data = await self._rpc("job_store_list_jobs", params, read_only=True)
        return listing.page([job_from_row(row) for row in objects_answer(data, "job_store_list_jobs")])

    async def start_job(self, workspace_id: str, job_id: str, now: datetime) -> bool:
        data = await self._rpc(
            "job_store_start_job", {"p_workspace_id": workspace_id, "p_job_id": job_id, "p_now": ts(now)}
        )
        return flag_answer(data, "job_store_start_job")

    async def complete_job_if_done(self, workspace_id: str, job_id: str, now: datetime) -> Job | None:
        data = await self._rpc(
            "job_store_complete_job_if_done",
            {"p_workspace_id": workspace_id, "p_job_id": job_id, "p_now": ts(now)},
        )
        row = object_answer(data, "job_store_complete_job_if_done")
        return job_from_row(row) if row else None

    async def cancel_job(self, workspace_id: str, job_id: str, now: datetime) -> Job | None:
        """The cancelled job; a job already finished or cancelled comes back unchanged."""
        return await self._job_rpc(
            "job_store_cancel_job", {"p_workspace_id": workspace_id, "p_job_id": job_id}
        )

    async def _fail(self, workspace_id: str, job_id: str, now: datetime) -> Job | None:
        params = {"p_workspace_id": workspace_id, "p_job_id": job_id, "p_now": ts(now)}
        return await self._job_rpc("job_store_fail_job", params)

    async def _pause(self, workspace_id: str, job_id: str, reason: str) -> Job | None:
        params = {"p_workspace_id": workspace_id, "p_job_id": job_id, "p_reason": reason}
        return await self._job_rpc("job_store_pause_job", params)

    async def _resume(self, workspace_id: str, job_id: str) -> Job | None:
        return await self._job_rpc(
            "job_store_resume_job", {"p_workspace_id": workspace_id, "p_job_id": job_id}
        )

    async def _update(self, workspace_id: str, job_id: str, update: JobUpdate) -> Job | None:
        params = {
            "p_workspace_id": workspace_id,
            "p_job_id": job_id,
            "p_options": options_row(update.options),
            "p_due_at": opt_ts(update.due_at),
            "p_expected_due_at": opt_ts(update.expected_due_at),
        }
        return await self._job_rpc("job_store_update_job", params)

    async def _due(self, now: datetime, limit: int) -> list[Job]:
        """Through the partial index `idx_jobs_due` (0007)."""
        data = await self._rpc("job_store_due_jobs", {"p_now": ts(now), "p_limit": limit}, read_only=True)
        return [job_from_row(row) for row in objects_answer(data, "job_store_due_jobs")]

    async def _release_due(self, workspace_id: str, job_id: str, due_at: datetime) -> bool:
        params = {"p_workspace_id": workspace_id, "p_job_id": job_id, "p_due_at": ts(due_at)}
        return flag_answer(await self._rpc("job_store_release_due", params), "job_store_release_due")

    async def _job_rpc(self, function: str, params: dict[str, Any]) -> Job | None:
        """A function that answers a job or null."""
        row = object_answer(await self._rpc(function, params), function)
        return job_from_row(row) if row else None

    # --- items --------------------------------------------------------------------------------------------

    async def get_item(self, workspace_id: str, job_id: str, item_id: str) -> Item | None:
        row = await self._row("job_items", workspace_id, job_id=job_id, item_id=item_id)
        return item_from_row(row) if row else None

    async def _list_items(self, listing: ItemListing) -> Page[Item]:
        """In input order (item ids are zero-padded)."""
        params: dict[str, Any] = {
            "p_workspace_id": listing.workspace_id,
            "p_job_id": listing.job_id,
            "p_limit": listing.limit + 1,
        }
        after = listing.after()
        if after is not None:
            params["p_after_item_id"] = after
        if listing.status is not None:
            params["p_status"] = listing.status.value
        data = await self._rpc("job_store_list_items", params, read_only=True)
        return listing.page([item_from_row(row) for row in objects_answer(data, "job_store_list_items")])

    async def _claim(self, ref: ItemRef, token: str, lease_until: datetime, now: datetime) -> Item | None:
        params = {**_ref(ref), "p_token": token, "p_lease_until": ts(lease_until), "p_now": ts(now)}
        row = object_answer(await self._rpc("job_store_claim_item", params), "job_store_claim_item")
        return item_from_row(row) if row else None

    async def _finish(self, item: Item, token: str, finish: Finish) -> bool:
        params = {
            **_ref(ItemRef.of(item)),
            "p_token": token,
            "p_status": finish.status.value,
            "p_reason": finish.reason,
            "p_result": finish.result,
            "p_delta": delta_columns(finish.delta) or {},
            "p_now": ts(finish.now),
        }
        return flag_answer(await self._rpc("job_store_finish_item", params), "job_store_finish_item")

    async def activity(self, workspace_id: str, *, since: datetime, now: datetime) -> Activity:
        data = await self._rpc(
            "job_store_activity",
            {"p_workspace_id": workspace_id, "p_since": ts(since), "p_now": ts(now)},
            read_only=True,
        )
        return activity_of(object_answer(data, "job_store_activity") or {})

    async def _defer(self, item: Item, token: str, deferral: Deferral) -> bool:
        params = {
            **_ref(ItemRef.of(item)),
            "p_token": token,
            "p_reason": deferral.reason,
            "p_next_attempt_at": ts(deferral.next_attempt_at),
            "p_charge_attempt": deferral.charge_attempt,
            "p_spent": delta_columns(deferral.spent),
        }
        return flag_answer(await self._rpc("job_store_defer_item", params), "job_store_defer_item")

    async def _skip(self, ref: ItemRef, reason: str, now: datetime) -> bool:
        params = {**_ref(ref), "p_reason": reason, "p_now": ts(now)}
        return flag_answer(await self._rpc("job_store_skip_item", params), "job_store_skip_item")

    async def _requeue(
        self, workspace_id: str, job_id: str, statuses: frozenset[ItemStatus], now: datetime
    ) -> list[Item]:
        """One transaction for all of them: the items still in `statuses` go back to queued, the job's
        counters lose them and the job runs again; items changed meanwhile are left alone."""
        data = await self._rpc(
            "job_store_requeue_items",
            {
                "p_workspace_id": workspace_id,
                "p_job_id": job_id,
                "p_statuses": sorted(status.value for status in statuses),
            },
        )
        return [item_from_row(row) for row in objects_answer(data, "job_store_requeue_items")]

    # --- contact review (0009) ------------------------------------------------------------------------------

    async def _replace_result(
        self, ref: ItemRef, expected: dict[str, Any], result: dict[str, Any], now: datetime
    ) -> bool:
        """`contact_review_replace_result`: jsonb equality with what was read; `updated_at` by trigger. The
        review queue's index follows the result (its predicate reads `review_pending`)."""
        params = {**_ref(ref), "p_expected": expected, "p_result": result}
        data = await self._rpc("contact_review_replace_result", params)
        return flag_answer(data, "contact_review_replace_result")

    async def _review_queue(self, listing: ReviewListing) -> Page[Item]:
        """`contact_review_queue`, through the partial index `idx_job_items_review`."""
        job_id, item_id = listing.after() or ("", "")
        params = {
            "p_workspace_id": listing.workspace_id,
            "p_after_job_id": job_id,
            "p_after_item_id": item_id,
            "p_limit": listing.limit + 1,
        }
        data = await self._rpc("contact_review_queue", params, read_only=True)
        return listing.page([item_from_row(row) for row in objects_answer(data, "contact_review_queue")])


__all__ = ["BATCH_ROWS", "StoreAnswerError", "SupabaseJobStore"]
