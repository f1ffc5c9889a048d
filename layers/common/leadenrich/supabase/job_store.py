"""`JobStore` on Supabase: the tables `jobs` and `job_items` (0001), changed only by SQL functions (0002).

PostgREST makes one HTTP request one transaction, and a plain table request changes one table. Every state
change of the port that has a condition, or touches an item together with its job's counters, is therefore
one plpgsql function in `infra/supabase/migrations/0002_job_store.sql`, called by RPC: a conditional
`UPDATE ... WHERE <state>` (PostgreSQL re-checks the condition on the committed row when two callers race,
so exactly one wins) followed, in the same transaction, by the counters and the activity minute it adds.
This module only encodes arguments, decodes rows and maps errors; the conditions live in the SQL, next to
their explanation.

Encoding, and why:
- rows travel as JSON objects keyed by column name, both ways (`jsonb_populate_record` on the way in,
  `to_jsonb` or PostgREST's own rows on the way out), so one mapping (`_COUNTER_COLUMNS`) names the
  counters of the original design (`total_leads`, `processed_leads`, ...);
- datetimes are sent as fixed-width UTC ISO 8601 and read back in UTC, microseconds kept;
- a counter delta holds only its non-zero columns; the SQL adds the float ones in numeric, so 0.1 + 0.1 +
  0.1 is stored as 0.3, as the DynamoDB store's decimals give;
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

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from leadenrich.engine.models import Lead
from leadenrich.jobs.encoding import (
    MAX_LIMIT,
    check_limit,
    cursor_ts,
    decode_cursor,
    encode_cursor,
    opt_ts,
    parse_ts,
    ts,
)
from leadenrich.jobs.models import (
    TERMINAL,
    Item,
    ItemStatus,
    Job,
    JobCounters,
    JobOptions,
    JobStatus,
    Page,
)
from leadenrich.jobs.ports import Activity, CounterDelta, IdempotencyConflict
from leadenrich.supabase.client import SupabaseSettings, supabase_client

if TYPE_CHECKING:
    from supabase import AsyncClient

BATCH_ROWS = 500  # items per request when creating a job

# JobCounters field -> jobs column (0001 kept the original design's names for some of them).
_COUNTER_COLUMNS: dict[str, str] = {
    "total": "total_leads",
    "processed": "processed_leads",
    "found": "found_leads",
    "risky": "risky_leads",
    "failed": "failed_leads",
    "created_emails": "created_emails",
    "api_calls_hunter": "api_calls_hunter",
    "api_calls_perplexity": "api_calls_perplexity",
    "credits_hunter": "credits_hunter",
    "cost_perplexity_usd": "cost_perplexity_usd",
    "processing_time_seconds": "processing_time_seconds",
}
_FLOAT_COUNTERS = frozenset(f.name for f in dataclasses.fields(JobCounters) if isinstance(f.default, float))
_DELTA_FIELDS = tuple(f.name for f in dataclasses.fields(CounterDelta))
_UNIQUE_VIOLATION = "23505"
_NOT_PENDING = "55000"  # object_not_in_prerequisite_state, raised by job_store_add_items
_FUNCTION_NOT_FOUND = "PGRST202"  # PostgREST: no such function in its schema cache
_MIGRATION = "infra/supabase/migrations/0002_job_store.sql"


class StoreAnswerError(RuntimeError):
    """A function answered in a shape it never does: the database holds another version of 0002."""


# --- encoding -----------------------------------------------------------------------------------------


def _job_row(job: Job) -> dict[str, Any]:
    row: dict[str, Any] = {
        "workspace_id": job.workspace_id,
        "job_id": job.job_id,
        "status": job.status.value,
        "created_at": ts(job.created_at),
        "started_at": opt_ts(job.started_at),
        "completed_at": opt_ts(job.completed_at),
        "idempotency_key": job.idempotency_key,
        "request_fingerprint": job.request_fingerprint,
        **job.options.as_row(),
    }
    for name, column in _COUNTER_COLUMNS.items():
        row[column] = getattr(job.counters, name)
    return row


def _job_from_row(row: Mapping[str, Any]) -> Job:
    values: dict[str, Any] = {
        name: (float if name in _FLOAT_COUNTERS else int)(row.get(column) or 0)
        for name, column in _COUNTER_COLUMNS.items()
    }
    counters = JobCounters(**values)
    options = JobOptions.from_row(row)
    created_at = parse_ts(row["created_at"])
    if created_at is None:
        raise StoreAnswerError(f"job {row.get('job_id')!r} has no created_at")
    return Job(
        workspace_id=row["workspace_id"],
        job_id=row["job_id"],
        status=JobStatus(row["status"]),
        created_at=created_at,
        options=options,
        counters=counters,
        started_at=parse_ts(row.get("started_at")),
        completed_at=parse_ts(row.get("completed_at")),
        idempotency_key=row.get("idempotency_key"),
        request_fingerprint=row.get("request_fingerprint"),
    )


def _item_row(item: Item) -> dict[str, Any]:
    """The columns an item is created with (its workspace and job are the job's, set by the function)."""
    return {
        "item_id": item.item_id,
        "lead": item.lead.model_dump(mode="json", exclude_none=True),
        "lead_id": item.lead_id,
        "status": item.status.value,
        "attempts": item.attempts,
        "reason": item.reason,
        "result": item.result,
        "lease_token": item.lease_token,
        "lease_until": opt_ts(item.lease_until),
        "next_attempt_at": opt_ts(item.next_attempt_at),
    }


def _item_from_row(row: Mapping[str, Any]) -> Item:
    result = row.get("result")
    return Item(
        workspace_id=row["workspace_id"],
        job_id=row["job_id"],
        item_id=row["item_id"],
        lead=Lead.model_validate(row["lead"]),
        status=ItemStatus(row["status"]),
        attempts=int(row["attempts"]),
        reason=row.get("reason"),
        result=dict(result) if isinstance(result, dict) else None,
        updated_at=parse_ts(row.get("updated_at")),
        lease_token=row.get("lease_token"),
        lease_until=parse_ts(row.get("lease_until")),
        next_attempt_at=parse_ts(row.get("next_attempt_at")),
        lead_id=row.get("lead_id"),
        sent_next=bool(row.get("sent_next", False)),
    )


def _delta(delta: CounterDelta | None) -> dict[str, int | float] | None:
    """The non-zero counters of `delta`, keyed by column; None when it adds nothing."""
    if delta is None:
        return None
    values = {_COUNTER_COLUMNS[name]: getattr(delta, name) for name in _DELTA_FIELDS}
    changed: dict[str, int | float] = {column: value for column, value in values.items() if value}
    return changed or None


def _object(data: object, function: str) -> dict[str, Any] | None:
    if data is None:
        return None
    if not isinstance(data, dict):
        raise StoreAnswerError(f"{function} answered {type(data).__name__}, not an object or null")
    return data


def _objects(data: object, function: str) -> list[dict[str, Any]]:
    if not isinstance(data, list) or not all(isinstance(row, dict) for row in data):
        raise StoreAnswerError(f"{function} answered {type(data).__name__}, not an array of objects")
    return data


def _flag(data: object, function: str) -> bool:
    if not isinstance(data, bool):
        raise StoreAnswerError(f"{function} answered {type(data).__name__}, not a boolean")
    return data


class SupabaseJobStore:
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

    # --- jobs ---------------------------------------------------------------------------------------------

    async def create_job(self, job: Job, items: Sequence[Item]) -> Job:
        """The job and its first 500 items in one transaction (so an idempotency conflict stores nothing),
        then the rest in batches of 500, one request each. If a later batch fails the job is marked failed,
        never left pending with items missing: it could never complete.

        The stored total is the number of items given. Raises IdempotencyConflict with the job that owns
        the key, and ValueError when the job id exists or an item belongs elsewhere."""
        from postgrest.exceptions import APIError

        ids = set()
        for item in items:
            if (item.workspace_id, item.job_id) != (job.workspace_id, job.job_id):
                raise ValueError(f"items: item {item.item_id} belongs to another job")
            ids.add(item.item_id)
        if len(ids) != len(items):
            raise ValueError("items: duplicate item ids")
        job = dataclasses.replace(job, counters=dataclasses.replace(job.counters, total=len(items)))
        first = [_item_row(item) for item in items[:BATCH_ROWS]]
        try:
            data = await self._rpc("job_store_create_job", {"p_job": _job_row(job), "p_items": first})
        except APIError as exc:
            if exc.code == _UNIQUE_VIOLATION:
                raise ValueError(f"job_id: job {job.job_id} exists") from exc
            raise
        answer = _object(data, "job_store_create_job")
        if answer is None or not isinstance(answer.get("job"), dict):
            raise StoreAnswerError("job_store_create_job answered no job")
        stored = _job_from_row(answer["job"])
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

    async def append_items(self, job: Job, items: Sequence[Item]) -> None:
        """More items of a pending job (ItemAppender), 500 per request; each request stores its rows and
        adds them to the job's total in one transaction, only while the job is pending. Raises ValueError
        when an item belongs elsewhere or the job is no longer pending (nothing of that batch written)."""
        from postgrest.exceptions import APIError

        for item in items:
            if (item.workspace_id, item.job_id) != (job.workspace_id, job.job_id):
                raise ValueError(f"items: item {item.item_id} belongs to another job")
        try:
            await self._add_items(job, items, add_to_total=True)
        except APIError as exc:
            if exc.code == _NOT_PENDING:
                raise ValueError(f"job_id: job {job.job_id} is no longer pending") from exc
            if exc.code == _UNIQUE_VIOLATION:
                raise ValueError("items: an item id of this job is stored already") from exc
            raise

    async def _add_items(self, job: Job, items: Sequence[Item], *, add_to_total: bool) -> None:
        for start in range(0, len(items), BATCH_ROWS):
            batch = [_item_row(item) for item in items[start : start + BATCH_ROWS]]
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
        return await self._job_where(workspace_id, "job_id", job_id)

    async def job_for_idempotency_key(self, workspace_id: str, key: str) -> Job | None:
        """The job an idempotency key of the workspace made, if any (`IdempotentLookup`)."""
        return await self._job_where(workspace_id, "idempotency_key", key)

    async def _job_where(self, workspace_id: str, column: str, value: str) -> Job | None:
        """The workspace's job whose `column` (job_id or idempotency_key: unique per workspace) is `value`."""
        client = await self._client()
        response = await (
            client.table("jobs")
            .select("*")
            .eq("workspace_id", workspace_id)
            .eq(column, value)
            .limit(1)
            .execute()
        )
        rows = _objects(response.data, "jobs")
        return _job_from_row(rows[0]) if rows else None

    async def list_jobs(
        self,
        workspace_id: str,
        *,
        status: JobStatus | None = None,
        tag: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[Job]:
        """Newest first (created_at, then job id, both descending); the cursor holds the last job's pair."""
        check_limit(limit)
        params: dict[str, Any] = {"p_workspace_id": workspace_id, "p_limit": limit + 1}
        if cursor is not None:
            after = decode_cursor(cursor, {"list": "jobs", "ws": workspace_id}, ("at", "id"))
            params["p_after_created_at"] = cursor_ts(after["at"])
            params["p_after_job_id"] = after["id"]
        if status is not None:
            params["p_status"] = status.value
        if tag is not None:
            params["p_tag"] = tag
        rows = _objects(await self._rpc("job_store_list_jobs", params, read_only=True), "job_store_list_jobs")
        jobs = [_job_from_row(row) for row in rows[:limit]]
        next_cursor = None
        if len(rows) > limit:
            last = jobs[-1]
            next_cursor = encode_cursor(
                {"list": "jobs", "ws": workspace_id, "at": ts(last.created_at), "id": last.job_id}
            )
        return Page(items=jobs, cursor=next_cursor)

    async def start_job(self, workspace_id: str, job_id: str, now: datetime) -> bool:
        data = await self._rpc(
            "job_store_start_job", {"p_workspace_id": workspace_id, "p_job_id": job_id, "p_now": ts(now)}
        )
        return _flag(data, "job_store_start_job")

    async def complete_job_if_done(self, workspace_id: str, job_id: str, now: datetime) -> Job | None:
        data = await self._rpc(
            "job_store_complete_job_if_done",
            {"p_workspace_id": workspace_id, "p_job_id": job_id, "p_now": ts(now)},
        )
        row = _object(data, "job_store_complete_job_if_done")
        return _job_from_row(row) if row else None

    async def cancel_job(self, workspace_id: str, job_id: str, now: datetime) -> Job | None:
        """The cancelled job; a job already finished or cancelled comes back unchanged."""
        data = await self._rpc("job_store_cancel_job", {"p_workspace_id": workspace_id, "p_job_id": job_id})
        row = _object(data, "job_store_cancel_job")
        return _job_from_row(row) if row else None

    # --- items --------------------------------------------------------------------------------------------

    async def get_item(self, workspace_id: str, job_id: str, item_id: str) -> Item | None:
        client = await self._client()
        response = await (
            client.table("job_items")
            .select("*")
            .eq("workspace_id", workspace_id)
            .eq("job_id", job_id)
            .eq("item_id", item_id)
            .limit(1)
            .execute()
        )
        rows = _objects(response.data, "job_items")
        return _item_from_row(rows[0]) if rows else None

    async def list_items(
        self,
        workspace_id: str,
        job_id: str,
        *,
        status: ItemStatus | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page[Item]:
        """In input order (item ids are zero-padded); the cursor holds the last item's id."""
        check_limit(limit)
        params: dict[str, Any] = {"p_workspace_id": workspace_id, "p_job_id": job_id, "p_limit": limit + 1}
        if cursor is not None:
            after = decode_cursor(cursor, {"list": "items", "ws": workspace_id, "job": job_id}, ("id",))
            params["p_after_item_id"] = after["id"]
        if status is not None:
            params["p_status"] = status.value
        rows = _objects(
            await self._rpc("job_store_list_items", params, read_only=True), "job_store_list_items"
        )
        items = [_item_from_row(row) for row in rows[:limit]]
        next_cursor = None
        if len(rows) > limit:
            next_cursor = encode_cursor(
                {"list": "items", "ws": workspace_id, "job": job_id, "id": items[-1].item_id}
            )
        return Page(items=items, cursor=next_cursor)

    async def claim_item(
        self,
        workspace_id: str,
        job_id: str,
        item_id: str,
        *,
        token: str,
        lease_until: datetime,
        now: datetime,
    ) -> Item | None:
        data = await self._rpc(
            "job_store_claim_item",
            {
                "p_workspace_id": workspace_id,
                "p_job_id": job_id,
                "p_item_id": item_id,
                "p_token": token,
                "p_lease_until": ts(lease_until),
                "p_now": ts(now),
            },
        )
        row = _object(data, "job_store_claim_item")
        return _item_from_row(row) if row else None

    async def finish_item(
        self,
        item: Item,
        status: ItemStatus,
        *,
        reason: str | None,
        result: dict[str, object] | None,
        delta: CounterDelta,
        now: datetime,
    ) -> bool:
        if not status.terminal:
            raise ValueError(f"status: {status.value} is not terminal")
        if item.lease_token is None:
            return False
        data = await self._rpc(
            "job_store_finish_item",
            {
                "p_workspace_id": item.workspace_id,
                "p_job_id": item.job_id,
                "p_item_id": item.item_id,
                "p_token": item.lease_token,
                "p_status": status.value,
                "p_reason": reason,
                "p_result": result,
                "p_delta": _delta(delta) or {},
                "p_now": ts(now),
            },
        )
        return _flag(data, "job_store_finish_item")

    async def activity(self, workspace_id: str, *, since: datetime, now: datetime) -> Activity:
        data = await self._rpc(
            "job_store_activity",
            {"p_workspace_id": workspace_id, "p_since": ts(since), "p_now": ts(now)},
            read_only=True,
        )
        totals = _object(data, "job_store_activity") or {}
        return Activity(
            processed=int(totals.get("processed", 0)),
            found=int(totals.get("found", 0)),
            failed=int(totals.get("failed", 0)),
        )

    async def defer_item(
        self,
        item: Item,
        *,
        reason: str,
        next_attempt_at: datetime,
        charge_attempt: bool,
        now: datetime,
        spent: CounterDelta | None = None,
    ) -> bool:
        if item.lease_token is None:
            return False
        data = await self._rpc(
            "job_store_defer_item",
            {
                "p_workspace_id": item.workspace_id,
                "p_job_id": item.job_id,
                "p_item_id": item.item_id,
                "p_token": item.lease_token,
                "p_reason": reason,
                "p_next_attempt_at": ts(next_attempt_at),
                "p_charge_attempt": charge_attempt,
                "p_spent": _delta(spent),
            },
        )
        return _flag(data, "job_store_defer_item")

    async def skip_item(
        self, workspace_id: str, job_id: str, item_id: str, *, reason: str, now: datetime
    ) -> bool:
        data = await self._rpc(
            "job_store_skip_item",
            {
                "p_workspace_id": workspace_id,
                "p_job_id": job_id,
                "p_item_id": item_id,
                "p_reason": reason,
                "p_now": ts(now),
            },
        )
        return _flag(data, "job_store_skip_item")

    async def requeue_items(
        self, workspace_id: str, job_id: str, statuses: frozenset[ItemStatus], now: datetime
    ) -> list[Item]:
        """One transaction for all of them: the items still in `statuses` go back to queued, the job's
        counters lose them and the job runs again; items changed meanwhile are left alone."""
        if not statuses <= TERMINAL:
            raise ValueError("statuses: only terminal items can be requeued")
        if not statuses:
            return []
        data = await self._rpc(
            "job_store_requeue_items",
            {
                "p_workspace_id": workspace_id,
                "p_job_id": job_id,
                "p_statuses": sorted(status.value for status in statuses),
            },
        )
        return [_item_from_row(row) for row in _objects(data, "job_store_requeue_items")]


__all__ = ["BATCH_ROWS", "MAX_LIMIT", "StoreAnswerError", "SupabaseJobStore"]
