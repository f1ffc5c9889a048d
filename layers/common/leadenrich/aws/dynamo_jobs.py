"""`JobStore` over the shared DynamoDB table (rows and keys: `dynamo_schema`, `dynamo_job_rows`): every
state change is a conditional write, and what it must refuse before writing is `jobs.store_base`'s.

This half holds the jobs (create with the idempotency row, append, list through GSI1, start, complete,
cancel, fail, pause, resume, update, and the due index: GSI2, see `dynamo_schema`); `dynamo_items` the items.
Conditions that span two rows use TransactWriteItems: creating a job with an idempotency key (both rows
`attribute_not_exists`), claiming an item (a ConditionCheck that the job is neither cancelled nor paused:
UpdateItem cannot look at another row), and every terminal transition together with its job's counters.
A lost race is reported as such (False / None); conflicts between transactions are retried (`dynamo_ops`).
Over moto pass `serialize_calls=True` (see `dynamo_ops`).

Retention (`jobs.retention`, docs/privacy.md): a job that completes, is cancelled, fails at creation or is
failed (`fail_job`) gets the table's TTL attribute, its workspace's `results_retention_days` later
(`DynamoItems.expires_at`), and so does its idempotency row; a running, pending or paused job has none, and
a requeue that reopens a job removes it. DynamoDB deletes the rows in no particular order, so an idempotency
row whose job is gone no longer holds its key: a new job may take it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from leadenrich.aws.dynamo_codec import from_attribute_values, to_attribute_values
from leadenrich.aws.dynamo_items import DynamoItems
from leadenrich.aws.dynamo_job_rows import (
    due_keys,
    item_attributes,
    job_attributes,
    job_from_attributes,
    options_values,
)
from leadenrich.aws.dynamo_ops import one_of
from leadenrich.aws.dynamo_schema import (
    DUE_INDEX,
    DUE_KEY_FIELDS,
    DUE_PK,
    GSI1,
    JOB_KEY_FIELDS,
    JOB_SK,
    TTL_ATTRIBUTE,
    due_sk_bound,
    idempotency_key,
    job_key,
    jobs_gsi_pk,
    jobs_pk_prefix,
)
from leadenrich.jobs import job_rules
from leadenrich.jobs.encoding import decode_cursor, ts
from leadenrich.jobs.item_rules import job_exists
from leadenrich.jobs.models import Item, Job, JobStatus, Page
from leadenrich.jobs.ports import IdempotencyConflict
from leadenrich.jobs.store_base import JobListing, JobStoreBase, JobUpdate, append_refused, page_start

_ABSENT = "attribute_not_exists(PK)"
_NO_DUE = ["#due_at", *(f"#{name}" for name in DUE_KEY_FIELDS)]  # what clears a job's due time
_REMOVE_DUE = ", ".join(_NO_DUE)
_TTL = f"#{TTL_ATTRIBUTE}"


class DynamoJobStore(DynamoItems, JobStoreBase):
    """The DynamoDB adapter of `JobStore`, `ItemAppender` and `IdempotentLookup`."""

    async def _create(self, job: Job, items: Sequence[Item]) -> Job:
        """Write the job row (with its idempotency row, atomically), then the items in batches of 25."""
        job_put = {"TableName": self._table, "Item": job_attributes(job), "ConditionExpression": _ABSENT}
        if job.idempotency_key is None:
            if await self.conditional_write("put_item", **job_put) is None:
                raise job_exists(job.job_id)
        else:
            await self._create_idempotent(job, job_put)
        try:
            await self.batch_put([item_attributes(item) for item in items], what="items")
        except Exception:
            # Never leave a running-looking job whose items are missing: it could never complete.
            failed = {
                ":failed": JobStatus.FAILED.value,
                ":expires": await self.expires_at(job.workspace_id, job.created_at),
            }
            update = f"SET #status = :failed, {_TTL} = :expires"
            await self.update_row(self.update_request(self._job(job), update=update, values=failed))
            raise
        return job

    async def _append(self, job: Job, items: Sequence[Item]) -> None:
        """Write the items (batches of 25), then ADD their count to the job's total, only while it is
        pending and the total is the page's first index: a page appended twice is counted once.

        Items first: a loader that dies between the two leaves the page uncounted, and its retry writes
        the same items again and counts them. The job is read first so that a page refused anyway (appended
        before, the job no longer pending) overwrites no item; the conditional ADD settles any race. A
        job being filled has nothing enqueued, so no processor reads the total meanwhile."""
        first = page_start(items)
        stored = await self.get_job(job.workspace_id, job.job_id)
        if stored is None or stored.status is not JobStatus.PENDING or stored.counters.total != first:
            raise append_refused(stored, job.job_id, first)
        await self.batch_put([item_attributes(item) for item in items], what="items")
        op = self.update_request(
            self._job(job),
            update="ADD #c_total :n",
            condition="#status = :pending AND #c_total = :first",
            values={":n": len(items), ":pending": JobStatus.PENDING.value, ":first": first},
        )
        if await self.update_row(op) is None:
            raise append_refused(await self.get_job(job.workspace_id, job.job_id), job.job_id, first)

    async def job_for_idempotency_key(self, workspace_id: str, key: str) -> Job | None:
        """The job an idempotency key of the workspace made, if any (`IdempotentLookup`)."""
        row = await self.get_row(idempotency_key(workspace_id, key))
        return await self.get_job(workspace_id, from_attribute_values(row)["job_id"]) if row else None

    async def _create_idempotent(self, job: Job, job_put: dict[str, Any], *, retried: bool = False) -> None:
        assert job.idempotency_key is not None
        key = idempotency_key(job.workspace_id, job.idempotency_key)
        entry = to_attribute_values({"entity": "idempotency", "job_id": job.job_id})
        idemp_put = {"TableName": self._table, "Item": key | entry, "ConditionExpression": _ABSENT}
        if await self.transact([{"Put": job_put}, {"Put": idemp_put}]):
            return
        row = await self.get_row(key)
        if row is None:  # the job id was taken, not the key
            raise job_exists(job.job_id)
        owner = from_attribute_values(row)["job_id"]
        existing = await self.get_job(job.workspace_id, owner)
        if existing is not None:
            raise IdempotencyConflict(existing)
        if retried:  # pragma: no cover - the stale row was removed a moment ago
            raise RuntimeError(f"idempotency key {job.idempotency_key!r} points at a missing job")
        # The key's job is gone (its retention ended before the TTL took this row): the key is free again.
        stale = {"TableName": self._table, "Key": key, "ConditionExpression": "job_id = :owner"}
        stale["ExpressionAttributeValues"] = to_attribute_values({":owner": owner})
        await self.conditional_write("delete_item", **stale)
        await self._create_idempotent(job, job_put, retried=True)

    async def get_job(self, workspace_id: str, job_id: str) -> Job | None:
        row = await self.get_row(job_key(workspace_id, job_id))
        return job_from_attributes(row) if row else None

    async def _list_jobs(self, listing: JobListing) -> Page[Job]:
        """Newest first, through GSI1; the cursor is the last job's key."""
        gsi_pk = jobs_gsi_pk(listing.workspace_id)
        start_key = None
        if listing.cursor is not None:
            scope = {"SK": JOB_SK, "GSI1PK": gsi_pk}
            prefix = {"PK": jobs_pk_prefix(listing.workspace_id)}
            start_key = to_attribute_values(decode_cursor(listing.cursor, scope, ("PK", "GSI1SK"), prefix))
        filters, values = [], {":pk": gsi_pk}
        if listing.status is not None:
            filters.append("#status = :status")
            values[":status"] = listing.status.value
        if listing.tag is not None:
            filters.append("contains(#tags, :tag)")
            values[":tag"] = listing.tag
        filter_expression = " AND ".join(filters) or None
        request = self.query_request(
            "#GSI1PK = :pk", values, filter_expression, IndexName=GSI1, ScanIndexForward=False
        )
        rows, next_cursor = await self.query_page(
            request, limit=listing.limit, start_key=start_key, key_fields=JOB_KEY_FIELDS
        )
        return Page(items=[job_from_attributes(r) for r in rows], cursor=next_cursor)

    async def start_job(self, workspace_id: str, job_id: str, now: datetime) -> bool:
        op = self.update_request(
            job_key(workspace_id, job_id),
            update="SET #status = :running, #started_at = :now",
            condition="#status = :pending",
            values={
                ":running": JobStatus.RUNNING.value,
                ":pending": JobStatus.PENDING.value,
                ":now": ts(now),
            },
        )
        return await self.update_row(op) is not None

    async def complete_job_if_done(self, workspace_id: str, job_id: str, now: datetime) -> Job | None:
        """Counters are top-level attributes, so the condition compares them in the service."""
        unfinished, values = one_of("status", "unfinished", (JobStatus.PENDING, JobStatus.RUNNING))
        expires = await self.expires_at(workspace_id, now)
        op = self.update_request(
            job_key(workspace_id, job_id),
            update=f"SET #status = :completed, #completed_at = :now, {_TTL} = :expires",
            condition=f"{unfinished} AND #c_processed >= #c_total",
            values={**values, ":completed": JobStatus.COMPLETED.value, ":now": ts(now), ":expires": expires},
        )
        row = await self.update_row(op, return_new=True)
        if not row:
            return None
        job = job_from_attributes(row)
        await self._expire_idempotency(job, expires)
        return job

    async def cancel_job(self, workspace_id: str, job_id: str, now: datetime) -> Job | None:
        """The cancelled job; a job already finished or cancelled comes back unchanged."""
        cancellable, values = one_of("status", "cancellable", job_rules.CANCELLABLE)
        expires = await self.expires_at(workspace_id, now)
        op = self.update_request(
            job_key(workspace_id, job_id),
            update=f"SET #status = :cancelled, {_TTL} = :expires REMOVE #paused_reason",
            condition=cancellable,
            values={**values, ":cancelled": JobStatus.CANCELLED.value, ":expires": expires},
        )
        row = await self.update_row(op, return_new=True)
        if not row:
            return await self.get_job(workspace_id, job_id)
        job = job_from_attributes(row)
        await self._expire_idempotency(job, expires)
        return job

    async def _fail(self, workspace_id: str, job_id: str, now: datetime) -> Job | None:
        """Its retention starts now (the TTL, on its idempotency row too); the due index's keys go with
        its due time."""
        expires = await self.expires_at(workspace_id, now)
        op = self.update_request(
            job_key(workspace_id, job_id),
            update=f"SET #status = :failed, #completed_at = :now, {_TTL} = :expires REMOVE {_REMOVE_DUE}",
            condition="#status = :failable",
            values={
                ":failed": JobStatus.FAILED.value,
                ":failable": job_rules.FAILABLE.value,
                ":now": ts(now),
                ":expires": expires,
            },
        )
        job = await self._changed(op)
        if job is not None:
            await self._expire_idempotency(job, expires)
        return job

    async def _expire_idempotency(self, job: Job, expires: int) -> None:
        """The job's idempotency row expires with it (a key may be anything a client chose, an address
        included). Only while it still names this job; a lost race changes nothing."""
        if job.idempotency_key is None:
            return
        op = self.update_request(
            idempotency_key(job.workspace_id, job.idempotency_key),
            update=f"SET {_TTL} = :expires",
            condition="#job_id = :job",
            values={":expires": expires, ":job": job.job_id},
        )
        await self.update_row(op)

    async def _pause(self, workspace_id: str, job_id: str, reason: str) -> Job | None:
        """An absent job has no status: the condition fails and nothing is created."""
        pausable, values = one_of("status", "pausable", job_rules.PAUSABLE)
        op = self.update_request(
            job_key(workspace_id, job_id),
            update="SET #status = :paused, #paused_reason = :reason",
            condition=pausable,
            values={**values, ":paused": JobStatus.PAUSED.value, ":reason": reason},
        )
        return await self._changed(op)

    async def _resume(self, workspace_id: str, job_id: str) -> Job | None:
        """An update expression cannot choose between two values, so the target is read first and the
        condition holds the write to what was read: still paused, and `started_at` still (un)set."""
        job = await self.get_job(workspace_id, job_id)
        if job is None or job.status is not job_rules.RESUMABLE:
            return None
        started = "attribute_exists" if job.started_at is not None else "attribute_not_exists"
        op = self.update_request(
            job_key(workspace_id, job_id),
            update="SET #status = :to REMOVE #paused_reason",
            condition=f"#status = :paused AND {started}(#started_at)",
            values={":to": job_rules.resumed_status(job.started_at).value, ":paused": job.status.value},
        )
        return await self._changed(op)

    async def _update(self, workspace_id: str, job_id: str, update: JobUpdate) -> Job | None:
        """Options set one attribute each (an unset one removed); a due time sets the due index's keys
        with it, none removes them."""
        sets: list[str] = []
        removes: list[str] = []
        values: dict[str, Any] = {}
        row: dict[str, Any] = options_values(update.options)
        if update.due_at is None:
            removes += _NO_DUE
        else:
            row["due_at"] = ts(update.due_at)
            row.update(due_keys(workspace_id, job_id, row["due_at"]))
        for name, value in row.items():
            if value is None:
                removes.append(f"#{name}")
            else:
                sets.append(f"#{name} = :v_{name}")
                values[f":v_{name}"] = value
        updatable, named = one_of("status", "updatable", job_rules.UPDATABLE)
        if update.expected_due_at is None:
            expected = "attribute_not_exists(#due_at)"
        else:
            expected, values[":expected"] = "#due_at = :expected", ts(update.expected_due_at)
        op = self.update_request(
            job_key(workspace_id, job_id),
            update=f"SET {', '.join(sets)}" + (f" REMOVE {', '.join(removes)}" if removes else ""),
            condition=f"{updatable} AND {expected}",
            values={**values, **named},
        )
        return await self._changed(op)

    async def _due(self, now: datetime, limit: int) -> list[Job]:
        """One Query of the due index (sparse: only jobs with a due time are in it), earliest first. The
        index is eventually consistent: a job released a moment ago may still be listed, and its release
        (conditional) then finds nothing to clear."""
        pk, sk = DUE_KEY_FIELDS
        request = self.query_request(
            f"#{pk} = :due AND #{sk} < :bound",
            {":due": DUE_PK, ":bound": due_sk_bound(ts(now))},
            None,
            IndexName=DUE_INDEX,
            ScanIndexForward=True,
        )
        rows, _ = await self.query_page(
            request, limit=limit, start_key=None, key_fields=("PK", "SK", *DUE_KEY_FIELDS)
        )
        return [job_from_attributes(row) for row in rows]

    async def _release_due(self, workspace_id: str, job_id: str, due_at: datetime) -> bool:
        """`due_at` and the due index's keys go together."""
        op = self.update_request(
            job_key(workspace_id, job_id),
            update=f"REMOVE {_REMOVE_DUE}",
            condition="#due_at = :due",
            values={":due": ts(due_at)},
        )
        return await self.update_row(op) is not None

    async def _changed(self, op: dict[str, Any]) -> Job | None:
        """A conditional job update: the job as written, None when the condition failed."""
        row = await self.update_row(op, return_new=True)
        return job_from_attributes(row) if row else None

    def _job(self, job: Job) -> dict[str, Any]:
        return job_key(job.workspace_id, job.job_id)


__all__ = ["DynamoJobStore"]
