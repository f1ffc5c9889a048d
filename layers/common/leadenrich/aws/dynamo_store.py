"""`JobStore` over one DynamoDB table (single-table design): every state change is a conditional write.

Rows (all key attributes are strings):

    job          PK  WS#{workspace}#JOB#{job_id}      SK  JOB
                 GSI1PK WS#{workspace}#JOBS           GSI1SK {created_at}#{job_id}   (list newest first)
    item         PK  WS#{workspace}#JOB#{job_id}      SK  ITEM#{item_id}             (Query: input order)
                 (with `lead_id`, the Supabase lead it writes addresses for, when it has one)
    idempotency  PK  WS#{workspace}#IDEMP#{key}       SK  IDEMP                      (holds the job id)
    activity     PK  WS#{workspace}#ACTIVITY          SK  MIN#{yyyy-mm-ddTHH:MM}     (a minute's finishes)

Other rows share the table: API keys (`APIKEY#{sha256}`, `WS#{workspace}#APIKEYS`: `dynamo_keys`), the
daily lead quota (`WS#{workspace}#QUOTA`: `dynamo_quota`), the cache (`CACHE#`), the limiter (`RATE#`).

A job's items share its partition, so one Query lists them; jobs are listed through GSI1 (projection ALL),
with status and tag as filters. The table's TTL attribute `expires_at` belongs to the cache that shares the
table and to the activity rows (kept two days: `GET /metrics` reads the last hour); job rows never set it.

Why the attributes look the way they do:
- counters are top-level numbers `c_total`, `c_processed`, ... so a condition can compare two of them
  (`c_processed >= c_total`) and an update can ADD to them; every number is a Decimal, floats converted
  exactly with `Decimal(str(x))`;
- datetimes are UTC ISO 8601 strings with a fixed width (microseconds, `+00:00`), so comparing strings in a
  condition (`lease_until < :now`) compares instants;
- an item's `result` is a JSON string (floats come back exactly), its lead a map; absent values are absent
  attributes, never NULL.

Conditions that span two rows use TransactWriteItems: creating a job with an idempotency key (both rows
`attribute_not_exists`), claiming an item (a ConditionCheck that the job is not cancelled: UpdateItem cannot
look at another row), and every terminal transition together with its job's counters. A transaction that is
cancelled because a condition failed is a lost race and reported as such (False / None); one cancelled for a
conflict with another transaction on the same rows (the job row is shared by all its items) is retried.

Caveat: moto's DynamoDB has no lock, and a cancelled transaction restores a deep copy of the whole table,
which can undo another thread's write made meanwhile. Pass `serialize_calls=True` over moto (tests, the
local stack) so calls from concurrent tasks run one at a time; real DynamoDB needs no such thing.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import random
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from leadenrich.aws.threaded import ThreadedClient
from leadenrich.engine.models import Lead
from leadenrich.jobs.encoding import (
    ANOTHER_LISTING,
    MAX_LIMIT,
    NOT_OURS,
    BadCursor,
    check_limit,
    read_cursor,
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

GSI1 = "GSI1"
TTL_ATTRIBUTE = "expires_at"

_BATCH_WRITE_MAX = 25  # BatchWriteItem limit
_TRANSACT_MAX = 100  # TransactWriteItems limit
_RETRIES = 8  # unprocessed batch items, transaction conflicts
_BACKOFF_BASE = 0.05
_BACKOFF_CAP = 2.0
_FILTERED_PAGE = 250  # rows evaluated per Query when a filter may drop some
_MAX_QUERIES_PER_PAGE = 20  # bounds one list call; a short page with a cursor is then returned
_RETRYABLE_CANCELLATIONS = frozenset(
    {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"}
)

# One lock for every store that asks to serialise: several stores may share one moto backend.

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

_INT_COUNTERS = tuple(f.name for f in dataclasses.fields(JobCounters) if isinstance(f.default, int))
_FLOAT_COUNTERS = tuple(f.name for f in dataclasses.fields(JobCounters) if isinstance(f.default, float))
_DELTA_FIELDS = tuple(f.name for f in dataclasses.fields(CounterDelta))
_ACTIVITY_FIELDS = tuple(f.name for f in dataclasses.fields(Activity))
_ACTIVITY_TTL_SECONDS = 2 * 86_400


def create_table(client: Any, name: str) -> None:
    """Create the table this store (and the cache sharing it) expects, and wait until it can be used."""
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": attr, "AttributeType": "S"} for attr in ("PK", "SK", "GSI1PK", "GSI1SK")
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": GSI1,
                "KeySchema": [
                    {"AttributeName": "GSI1PK", "KeyType": "HASH"},
                    {"AttributeName": "GSI1SK", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 2, "MaxAttempts": 60})
    client.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE}
    )


# --- encoding -----------------------------------------------------------------------------------------


def _dt(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def _num(value: int | float) -> Decimal:
    """Exact: a float goes through its shortest repr, not its binary expansion."""
    return Decimal(str(value)) if isinstance(value, float) else Decimal(value)


def _av(value: Any) -> dict[str, Any]:
    return dict(_serializer.serialize(value))


def _avs(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _av(v) for k, v in values.items() if v is not None}


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in row.items()}


def _job_pk(workspace_id: str, job_id: str) -> str:
    return f"WS#{workspace_id}#JOB#{job_id}"


def _jobs_gsi_pk(workspace_id: str) -> str:
    return f"WS#{workspace_id}#JOBS"


def _idemp_pk(workspace_id: str, key: str) -> str:
    return f"WS#{workspace_id}#IDEMP#{key}"


def _job_key(workspace_id: str, job_id: str) -> dict[str, Any]:
    return _avs({"PK": _job_pk(workspace_id, job_id), "SK": "JOB"})


def _activity_key(workspace_id: str, minute: datetime) -> dict[str, Any]:
    return _avs({"PK": f"WS#{workspace_id}#ACTIVITY", "SK": _minute_sk(minute)})


def _minute_sk(moment: datetime) -> str:
    return "MIN#" + moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


def _item_key(workspace_id: str, job_id: str, item_id: str) -> dict[str, Any]:
    return _avs({"PK": _job_pk(workspace_id, job_id), "SK": f"ITEM#{item_id}"})


def _job_row(job: Job) -> dict[str, Any]:
    row: dict[str, Any] = {
        "PK": _job_pk(job.workspace_id, job.job_id),
        "SK": "JOB",
        "GSI1PK": _jobs_gsi_pk(job.workspace_id),
        "GSI1SK": f"{ts(job.created_at)}#{job.job_id}",
        "entity": "job",
        "workspace_id": job.workspace_id,
        "job_id": job.job_id,
        "status": job.status.value,
        "created_at": ts(job.created_at),
        "started_at": ts(job.started_at) if job.started_at else None,
        "completed_at": ts(job.completed_at) if job.completed_at else None,
        "idempotency_key": job.idempotency_key,
        "request_fingerprint": job.request_fingerprint,
        **job.options.as_row(),
    }
    for name in _INT_COUNTERS + _FLOAT_COUNTERS:
        row[f"c_{name}"] = _num(getattr(job.counters, name))
    return _avs(row)


def _job_from_row(raw: dict[str, Any]) -> Job:
    row = _plain(raw)
    numbers: dict[str, Any] = {name: int(row.get(f"c_{name}", 0)) for name in _INT_COUNTERS}
    numbers.update({name: float(row.get(f"c_{name}", 0)) for name in _FLOAT_COUNTERS})
    counters = JobCounters(**numbers)
    options = JobOptions.from_row(row)
    created_at = _dt(row["created_at"])
    assert created_at is not None
    return Job(
        workspace_id=row["workspace_id"],
        job_id=row["job_id"],
        status=JobStatus(row["status"]),
        created_at=created_at,
        options=options,
        counters=counters,
        started_at=_dt(row.get("started_at")),
        completed_at=_dt(row.get("completed_at")),
        idempotency_key=row.get("idempotency_key"),
        request_fingerprint=row.get("request_fingerprint"),
    )


def _item_row(item: Item) -> dict[str, Any]:
    return _avs(
        {
            "PK": _job_pk(item.workspace_id, item.job_id),
            "SK": f"ITEM#{item.item_id}",
            "entity": "item",
            "workspace_id": item.workspace_id,
            "job_id": item.job_id,
            "item_id": item.item_id,
            "lead": item.lead.model_dump(exclude_none=True),
            "status": item.status.value,
            "attempts": item.attempts,
            "reason": item.reason,
            "result": json.dumps(item.result) if item.result is not None else None,
            "updated_at": ts(item.updated_at) if item.updated_at else None,
            "lease_token": item.lease_token,
            "lease_until": ts(item.lease_until) if item.lease_until else None,
            "next_attempt_at": ts(item.next_attempt_at) if item.next_attempt_at else None,
            "lead_id": item.lead_id,
            "sent_next": item.sent_next,
        }
    )


def _item_from_row(raw: dict[str, Any]) -> Item:
    row = _plain(raw)
    result = row.get("result")
    return Item(
        workspace_id=row["workspace_id"],
        job_id=row["job_id"],
        item_id=row["item_id"],
        lead=Lead.model_validate(row["lead"]),
        status=ItemStatus(row["status"]),
        attempts=int(row["attempts"]),
        reason=row.get("reason"),
        result=json.loads(result) if isinstance(result, str) else None,
        updated_at=_dt(row.get("updated_at")),
        lease_token=row.get("lease_token"),
        lease_until=_dt(row.get("lease_until")),
        next_attempt_at=_dt(row.get("next_attempt_at")),
        lead_id=row.get("lead_id"),
        sent_next=bool(row.get("sent_next", False)),
    )


def _encode_cursor(key: dict[str, Any]) -> str:
    plain = {k: _deserializer.deserialize(v) for k, v in key.items()}
    return base64.urlsafe_b64encode(json.dumps(plain, sort_keys=True).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, fields: dict[str, str | None], pk_prefix: str) -> dict[str, Any]:
    """The ExclusiveStartKey in `cursor`, checked to be a key of the listing it claims to continue.

    `fields` maps each key attribute to the value it must have (None: any string)."""
    decoded = read_cursor(cursor)
    if set(decoded) != set(fields):
        raise BadCursor(NOT_OURS)
    for name, expected in fields.items():
        value = decoded[name]
        if not isinstance(value, str) or (expected is not None and value != expected):
            raise BadCursor(ANOTHER_LISTING)
    if not str(decoded["PK"]).startswith(pk_prefix):
        raise BadCursor(ANOTHER_LISTING)
    return _avs(decoded)


def _names(*expressions: str | None) -> dict[str, str]:
    """ExpressionAttributeNames for every `#name` used: sidesteps DynamoDB's reserved words (status...)."""
    return {f"#{n}": n for e in expressions if e for n in re.findall(r"#(\w+)", e)}


def _backoff(attempt: int) -> float:
    """Full jitter: concurrent writers that collided do not collide again in lockstep."""
    return random.uniform(0, min(_BACKOFF_CAP, _BACKOFF_BASE * 2**attempt))  # noqa: S311 - not crypto


def _error_code(exc: Any) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class DynamoJobStore(ThreadedClient):
    """The DynamoDB adapter of `JobStore`; `client` is a boto3 DynamoDB low-level client."""

    def __init__(self, table_name: str, client: Any, *, serialize_calls: bool = False) -> None:
        super().__init__(client, serialize_calls=serialize_calls)
        self._table = table_name

    # --- plumbing ---------------------------------------------------------------------------------------

    def _op(
        self,
        key: dict[str, Any],
        *,
        update: str | None = None,
        condition: str | None = None,
        values: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The common fields of an UpdateItem request or transaction action."""
        op: dict[str, Any] = {"TableName": self._table, "Key": key}
        if update:
            op["UpdateExpression"] = update
        if condition:
            op["ConditionExpression"] = condition
        names = _names(update, condition)
        if names:
            op["ExpressionAttributeNames"] = names
        if values:
            op["ExpressionAttributeValues"] = _avs(values)
        return op

    async def _update(self, op: dict[str, Any], *, return_new: bool = False) -> dict[str, Any] | None:
        """UpdateItem; the new row (or {}) when written, None when the condition failed."""
        try:
            response = await self._call("update_item", **op, ReturnValues="ALL_NEW" if return_new else "NONE")
        except ClientError as exc:
            if _error_code(exc) == "ConditionalCheckFailedException":
                return None
            raise
        return dict(response.get("Attributes", {}))

    async def _transact(self, actions: list[dict[str, Any]]) -> bool:
        """TransactWriteItems; False when a condition failed. Conflicts with other transactions on the same
        rows (every item's transaction touches its job row) are retried with backoff."""
        for attempt in range(_RETRIES + 1):
            try:
                await self._call("transact_write_items", TransactItems=actions)
                return True
            except ClientError as exc:
                if _error_code(exc) != "TransactionCanceledException":
                    raise
                codes = {r.get("Code") for r in exc.response.get("CancellationReasons", [])} - {"None"}
                if "ConditionalCheckFailed" in codes:
                    return False
                if attempt == _RETRIES or not codes or not codes <= _RETRYABLE_CANCELLATIONS:
                    raise
            await asyncio.sleep(_backoff(attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    async def _get(self, key: dict[str, Any]) -> dict[str, Any] | None:
        response = await self._call("get_item", TableName=self._table, Key=key, ConsistentRead=True)
        item = response.get("Item")
        return dict(item) if item else None

    async def _query_page(
        self,
        request: dict[str, Any],
        *,
        filtered: bool,
        limit: int,
        start_key: dict[str, Any] | None,
        key_fields: tuple[str, ...],
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Up to `limit` rows and the cursor after the last one. A filter applies after Query's Limit, so
        keep querying; when a page holds more matches than wanted, the cursor is the last kept row's key."""
        check_limit(limit)
        rows: list[dict[str, Any]] = []
        for _ in range(_MAX_QUERIES_PER_PAGE):
            need = limit - len(rows)
            page_request = dict(request, Limit=max(need, _FILTERED_PAGE) if filtered else need)
            if start_key:
                page_request["ExclusiveStartKey"] = start_key
            response = await self._call("query", **page_request)
            got: list[dict[str, Any]] = response.get("Items", [])
            last_key: dict[str, Any] | None = response.get("LastEvaluatedKey")
            if len(got) >= need:
                rows += got[:need]
                if len(got) > need:  # matches left over: resume right after the last row returned
                    last_key = {f: rows[-1][f] for f in key_fields}
                return rows, _encode_cursor(last_key) if last_key else None
            rows += got
            if last_key is None:
                return rows, None
            start_key = last_key
        return rows, _encode_cursor(start_key) if start_key else None

    # --- jobs ---------------------------------------------------------------------------------------------

    async def create_job(self, job: Job, items: Sequence[Item]) -> Job:
        """Write the job row (with its idempotency row, atomically), then the items in batches.

        The stored total is the number of items given. Raises IdempotencyConflict with the job that owns
        the key, and ValueError when the job id exists or an item belongs elsewhere."""
        ids = set()
        for item in items:
            if (item.workspace_id, item.job_id) != (job.workspace_id, job.job_id):
                raise ValueError(f"items: item {item.item_id} belongs to another job")
            ids.add(item.item_id)
        if len(ids) != len(items):
            raise ValueError("items: duplicate item ids")
        job = dataclasses.replace(job, counters=dataclasses.replace(job.counters, total=len(items)))
        job_put = {
            "TableName": self._table,
            "Item": _job_row(job),
            "ConditionExpression": "attribute_not_exists(PK)",
        }
        if job.idempotency_key is None:
            try:
                await self._call("put_item", **job_put)
            except ClientError as exc:
                if _error_code(exc) == "ConditionalCheckFailedException":
                    raise ValueError(f"job_id: job {job.job_id} exists") from exc
                raise
        else:
            await self._create_idempotent(job, job_put)
        try:
            await self._write_items(items)
        except Exception:
            # Never leave a running-looking job whose items are missing: it could never complete.
            await self._update(
                self._op(
                    _job_key(job.workspace_id, job.job_id),
                    update="SET #status = :failed",
                    values={":failed": JobStatus.FAILED.value},
                )
            )
            raise
        return job

    async def append_items(self, job: Job, items: Sequence[Item]) -> None:
        """Write more items of a pending job (batches of 25), then ADD their count to its total.

        A job being filled has nothing enqueued, so no processor reads the total meanwhile; the condition
        (still pending) keeps a cancelled job from growing. Raises ValueError when an item belongs
        elsewhere or the job is no longer pending (its items are then written but never enqueued)."""
        for item in items:
            if (item.workspace_id, item.job_id) != (job.workspace_id, job.job_id):
                raise ValueError(f"items: item {item.item_id} belongs to another job")
        if not items:
            return
        await self._write_items(items)
        op = self._op(
            _job_key(job.workspace_id, job.job_id),
            update="ADD #c_total :n",
            condition="#status = :pending",
            values={":n": len(items), ":pending": JobStatus.PENDING.value},
        )
        if await self._update(op) is None:
            raise ValueError(f"job_id: job {job.job_id} is no longer pending")

    async def job_for_idempotency_key(self, workspace_id: str, key: str) -> Job | None:
        """The job an idempotency key of the workspace made, if any (`IdempotentLookup`)."""
        row = await self._get(_avs({"PK": _idemp_pk(workspace_id, key), "SK": "IDEMP"}))
        return await self.get_job(workspace_id, _plain(row)["job_id"]) if row else None

    async def _create_idempotent(self, job: Job, job_put: dict[str, Any]) -> None:
        assert job.idempotency_key is not None
        idemp_pk = _idemp_pk(job.workspace_id, job.idempotency_key)
        idemp_put = {
            "TableName": self._table,
            "Item": _avs({"PK": idemp_pk, "SK": "IDEMP", "entity": "idempotency", "job_id": job.job_id}),
            "ConditionExpression": "attribute_not_exists(PK)",
        }
        if await self._transact([{"Put": job_put}, {"Put": idemp_put}]):
            return
        row = await self._get(_avs({"PK": idemp_pk, "SK": "IDEMP"}))
        if row is None:  # the job id was taken, not the key
            raise ValueError(f"job_id: job {job.job_id} exists")
        existing = await self.get_job(job.workspace_id, _plain(row)["job_id"])
        if existing is None:  # pragma: no cover - both rows are written in one transaction
            raise RuntimeError(f"idempotency key {job.idempotency_key!r} points at a missing job")
        raise IdempotencyConflict(existing)

    async def _write_items(self, items: Sequence[Item]) -> None:
        """BatchWriteItem in chunks of 25, retrying what DynamoDB left unprocessed (bounded, with backoff)."""
        for start in range(0, len(items), _BATCH_WRITE_MAX):
            pending = [
                {"PutRequest": {"Item": _item_row(i)}} for i in items[start : start + _BATCH_WRITE_MAX]
            ]
            for attempt in range(_RETRIES + 1):
                response = await self._call("batch_write_item", RequestItems={self._table: pending})
                pending = response.get("UnprocessedItems", {}).get(self._table, [])
                if not pending:
                    break
                if attempt == _RETRIES:
                    raise RuntimeError(f"items: {len(pending)} not written after {_RETRIES} retries")
                await asyncio.sleep(_backoff(attempt))

    async def get_job(self, workspace_id: str, job_id: str) -> Job | None:
        row = await self._get(_job_key(workspace_id, job_id))
        return _job_from_row(row) if row else None

    async def list_jobs(
        self,
        workspace_id: str,
        *,
        status: JobStatus | None = None,
        tag: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[Job]:
        """Newest first, through GSI1."""
        gsi_pk = _jobs_gsi_pk(workspace_id)
        start_key = None
        if cursor is not None:
            start_key = _decode_cursor(
                cursor, {"PK": None, "SK": "JOB", "GSI1PK": gsi_pk, "GSI1SK": None}, f"WS#{workspace_id}#JOB#"
            )
        filters, values = [], {":pk": gsi_pk}
        if status is not None:
            filters.append("#status = :status")
            values[":status"] = status.value
        if tag is not None:
            filters.append("contains(#tags, :tag)")
            values[":tag"] = tag
        key_condition = "#GSI1PK = :pk"
        filter_expression = " AND ".join(filters) or None
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": GSI1,
            "KeyConditionExpression": key_condition,
            "ExpressionAttributeNames": _names(key_condition, filter_expression),
            "ExpressionAttributeValues": _avs(values),
            "ScanIndexForward": False,
        }
        if filter_expression:
            request["FilterExpression"] = filter_expression
        rows, next_cursor = await self._query_page(
            request,
            filtered=bool(filters),
            limit=limit,
            start_key=start_key,
            key_fields=("PK", "SK", "GSI1PK", "GSI1SK"),
        )
        return Page(items=[_job_from_row(r) for r in rows], cursor=next_cursor)

    async def start_job(self, workspace_id: str, job_id: str, now: datetime) -> bool:
        op = self._op(
            _job_key(workspace_id, job_id),
            update="SET #status = :running, #started_at = :now",
            condition="#status = :pending",
            values={
                ":running": JobStatus.RUNNING.value,
                ":pending": JobStatus.PENDING.value,
                ":now": ts(now),
            },
        )
        return await self._update(op) is not None

    async def complete_job_if_done(self, workspace_id: str, job_id: str, now: datetime) -> Job | None:
        """Counters are top-level attributes, so the condition compares them in the service."""
        op = self._op(
            _job_key(workspace_id, job_id),
            update="SET #status = :completed, #completed_at = :now",
            condition="#status IN (:pending, :running) AND #c_processed >= #c_total",
            values={
                ":completed": JobStatus.COMPLETED.value,
                ":pending": JobStatus.PENDING.value,
                ":running": JobStatus.RUNNING.value,
                ":now": ts(now),
            },
        )
        row = await self._update(op, return_new=True)
        return _job_from_row(row) if row else None

    async def cancel_job(self, workspace_id: str, job_id: str, now: datetime) -> Job | None:
        """The cancelled job; a job already finished or cancelled comes back unchanged."""
        op = self._op(
            _job_key(workspace_id, job_id),
            update="SET #status = :cancelled",
            condition="#status IN (:pending, :running)",
            values={
                ":cancelled": JobStatus.CANCELLED.value,
                ":pending": JobStatus.PENDING.value,
                ":running": JobStatus.RUNNING.value,
            },
        )
        row = await self._update(op, return_new=True)
        return _job_from_row(row) if row else await self.get_job(workspace_id, job_id)

    # --- items --------------------------------------------------------------------------------------------

    async def get_item(self, workspace_id: str, job_id: str, item_id: str) -> Item | None:
        row = await self._get(_item_key(workspace_id, job_id, item_id))
        return _item_from_row(row) if row else None

    async def list_items(
        self,
        workspace_id: str,
        job_id: str,
        *,
        status: ItemStatus | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page[Item]:
        """In input order (item ids are zero-padded)."""
        statuses = frozenset({status}) if status is not None else None
        rows, next_cursor = await self._query_items(
            workspace_id, job_id, statuses, limit=limit, cursor=cursor, consistent=False
        )
        return Page(items=[_item_from_row(r) for r in rows], cursor=next_cursor)

    async def _query_items(
        self,
        workspace_id: str,
        job_id: str,
        statuses: frozenset[ItemStatus] | None,
        *,
        limit: int,
        cursor: str | None,
        consistent: bool,
    ) -> tuple[list[dict[str, Any]], str | None]:
        pk = _job_pk(workspace_id, job_id)
        start_key = _decode_cursor(cursor, {"PK": pk, "SK": None}, pk) if cursor is not None else None
        if start_key is not None and not start_key["SK"]["S"].startswith("ITEM#"):
            raise BadCursor(ANOTHER_LISTING)
        values: dict[str, Any] = {":pk": pk, ":prefix": "ITEM#"}
        key_condition = "#PK = :pk AND begins_with(#SK, :prefix)"
        filter_expression = None
        if statuses:
            placeholders = [f":s{i}" for i in range(len(statuses))]
            values.update(zip(placeholders, sorted(s.value for s in statuses), strict=True))
            filter_expression = f"#status IN ({', '.join(placeholders)})"
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": key_condition,
            "ExpressionAttributeNames": _names(key_condition, filter_expression),
            "ExpressionAttributeValues": _avs(values),
            "ConsistentRead": consistent,
        }
        if filter_expression:
            request["FilterExpression"] = filter_expression
        return await self._query_page(
            request, filtered=bool(statuses), limit=limit, start_key=start_key, key_fields=("PK", "SK")
        )

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
        """One transaction: the item update (claimable or lease expired) and a ConditionCheck that the job
        is not cancelled. Transactions return no attributes, so the claimed item is read back afterwards;
        if by then another claimer holds it (our lease expired already), the claim is reported lost."""
        item_update = self._op(
            _item_key(workspace_id, job_id, item_id),
            update=(
                "SET #status = :running, #lease_token = :token, #lease_until = :lease_until,"
                " #updated_at = :now, #attempts = #attempts + :one REMOVE #next_attempt_at"
            ),
            condition=(
                "attribute_exists(#PK) AND (#status IN (:queued, :deferred)"
                " OR (#status = :running AND #lease_until < :now))"
            ),
            values={
                ":running": ItemStatus.RUNNING.value,
                ":queued": ItemStatus.QUEUED.value,
                ":deferred": ItemStatus.DEFERRED.value,
                ":token": token,
                ":lease_until": ts(lease_until),
                ":now": ts(now),
                ":one": 1,
            },
        )
        job_check = self._op(
            _job_key(workspace_id, job_id),
            condition="attribute_exists(#PK) AND #status <> :cancelled",
            values={":cancelled": JobStatus.CANCELLED.value},
        )
        if not await self._transact([{"Update": item_update}, {"ConditionCheck": job_check}]):
            return None
        claimed = await self.get_item(workspace_id, job_id, item_id)
        if claimed is None or claimed.lease_token != token:
            return None
        return claimed

    def _job_delta_action(
        self, workspace_id: str, job_id: str, delta: dict[str, int | float]
    ) -> dict[str, Any]:
        adds = {name: value for name, value in delta.items() if value}
        update = "ADD " + ", ".join(f"#c_{name} :d_{name}" for name in adds)
        return {
            "Update": self._op(
                _job_key(workspace_id, job_id),
                update=update,
                condition="attribute_exists(#PK)",
                values={f":d_{name}": _num(value) for name, value in adds.items()},
            )
        }

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
        """The terminal item update (held by `item.lease_token`) and the job's counters: one transaction."""
        if not status.terminal:
            raise ValueError(f"status: {status.value} is not terminal")
        if item.lease_token is None:
            return False
        values: dict[str, Any] = {
            ":status": status.value,
            ":now": ts(now),
            ":running": ItemStatus.RUNNING.value,
            ":token": item.lease_token,
            ":true": True,
        }
        sets = ["#status = :status", "#updated_at = :now", "#sent_next = :true"]
        removes = ["#lease_token", "#lease_until", "#next_attempt_at"]
        for name, value in (
            ("reason", reason),
            ("result", json.dumps(result) if result is not None else None),
        ):
            if value is None:
                removes.append(f"#{name}")
            else:
                sets.append(f"#{name} = :{name}")
                values[f":{name}"] = value
        actions = [
            {
                "Update": self._op(
                    _item_key(item.workspace_id, item.job_id, item.item_id),
                    update=f"SET {', '.join(sets)} REMOVE {', '.join(removes)}",
                    condition="#status = :running AND #lease_token = :token",
                    values=values,
                )
            }
        ]
        counts = {name: getattr(delta, name) for name in _DELTA_FIELDS}
        if any(counts.values()):
            actions.append(self._job_delta_action(item.workspace_id, item.job_id, counts))
        actions.append(self._activity_action(item.workspace_id, delta, now))
        return await self._transact(actions)

    def _activity_action(self, workspace_id: str, delta: CounterDelta, now: datetime) -> dict[str, Any]:
        """ADD the finish to its minute's activity row (every finish of the minute shares that row)."""
        adds = ", ".join(f"#{name} :{name}" for name in _ACTIVITY_FIELDS)
        values: dict[str, Any] = {f":{name}": getattr(delta, name) for name in _ACTIVITY_FIELDS}
        values[":expires"] = int(now.timestamp()) + _ACTIVITY_TTL_SECONDS
        return {
            "Update": self._op(
                _activity_key(workspace_id, now),
                update=f"SET #{TTL_ATTRIBUTE} = :expires ADD {adds}",
                values=values,
            )
        }

    async def activity(self, workspace_id: str, *, since: datetime, now: datetime) -> Activity:
        """One Query over the window's minute rows (at most 61 for an hour)."""
        totals = dict.fromkeys(_ACTIVITY_FIELDS, 0)
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk AND SK BETWEEN :first AND :last",
            "ExpressionAttributeValues": _avs(
                {":pk": f"WS#{workspace_id}#ACTIVITY", ":first": _minute_sk(since), ":last": _minute_sk(now)}
            ),
        }
        while True:
            response = await self._call("query", **request)
            for row in response.get("Items", []):
                for name in _ACTIVITY_FIELDS:
                    totals[name] += int(row.get(name, {}).get("N", "0"))
            if "LastEvaluatedKey" not in response:
                return Activity(**totals)
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

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
        # Every deferral, hand-backs included, is an outcome: the processor sent the successors before.
        sets = (
            "#status = :deferred, #reason = :reason, #next_attempt_at = :next, #updated_at = :now,"
            " #sent_next = :true"
        )
        if not charge_attempt:
            sets += ", #attempts = #attempts - :one"
        values: dict[str, Any] = {
            ":deferred": ItemStatus.DEFERRED.value,
            ":reason": reason,
            ":next": ts(next_attempt_at),
            ":now": ts(now),
            ":running": ItemStatus.RUNNING.value,
            ":token": item.lease_token,
            ":true": True,
        }
        if not charge_attempt:
            values[":one"] = 1
        op = self._op(
            _item_key(item.workspace_id, item.job_id, item.item_id),
            update=f"SET {sets} REMOVE #lease_token, #lease_until",
            condition="#status = :running AND #lease_token = :token",
            values=values,
        )
        adds = {name: getattr(spent, name) for name in _DELTA_FIELDS} if spent else {}
        if not any(adds.values()):
            return await self._update(op) is not None
        # What the attempt spent is counted on the job with the deferral, in one transaction, once.
        return await self._transact(
            [{"Update": op}, self._job_delta_action(item.workspace_id, item.job_id, adds)]
        )

    async def skip_item(
        self, workspace_id: str, job_id: str, item_id: str, *, reason: str, now: datetime
    ) -> bool:
        item_update = self._op(
            _item_key(workspace_id, job_id, item_id),
            update=(
                "SET #status = :skipped, #reason = :reason, #updated_at = :now, #sent_next = :true"
                " REMOVE #next_attempt_at, #lease_token, #lease_until"
            ),
            # Or running with an expired lease: its processor died, and no claim can take it (cancelled).
            condition="#status IN (:queued, :deferred) OR (#status = :running AND #lease_until < :now)",
            values={
                ":skipped": ItemStatus.SKIPPED.value,
                ":reason": reason,
                ":true": True,
                ":now": ts(now),
                ":queued": ItemStatus.QUEUED.value,
                ":deferred": ItemStatus.DEFERRED.value,
                ":running": ItemStatus.RUNNING.value,
            },
        )
        return await self._transact(
            [{"Update": item_update}, self._job_delta_action(workspace_id, job_id, {"processed": 1})]
        )

    async def requeue_items(
        self, workspace_id: str, job_id: str, statuses: frozenset[ItemStatus], now: datetime
    ) -> list[Item]:
        """Each item goes back to queued only if it is still in the status it was read in, in the same
        transaction as its job's counters (processed - 1; failed - 1 for failed and dead; found, risky - 1)
        and the job's return to running. Up to 99 items per transaction; if one of them changed meanwhile,
        that batch is redone item by item so the others still go."""
        if not statuses <= TERMINAL:
            raise ValueError("statuses: only terminal items can be requeued")
        if not statuses:
            return []
        rows: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            page, cursor = await self._query_items(
                workspace_id, job_id, statuses, limit=MAX_LIMIT, cursor=cursor, consistent=True
            )
            rows += page
            if cursor is None:
                break
        items = [_item_from_row(r) for r in rows]
        requeued: list[Item] = []
        batch_size = _TRANSACT_MAX - 1
        for start in range(0, len(items), batch_size):
            batch = items[start : start + batch_size]
            if await self._transact(self._requeue_actions(workspace_id, job_id, batch, now)):
                requeued += batch
                continue
            for item in batch:
                if await self._transact(self._requeue_actions(workspace_id, job_id, [item], now)):
                    requeued.append(item)
        return [
            dataclasses.replace(
                item,
                status=ItemStatus.QUEUED,
                attempts=0,
                reason=None,
                result=None,
                updated_at=now,
                lease_token=None,
                lease_until=None,
                next_attempt_at=None,
            )
            for item in requeued
        ]

    def _requeue_actions(
        self, workspace_id: str, job_id: str, items: list[Item], now: datetime
    ) -> list[dict[str, Any]]:
        actions: list[dict[str, Any]] = []
        delta = {"processed": 0, "failed": 0, "found": 0, "risky": 0}
        for item in items:
            actions.append(
                {
                    "Update": self._op(
                        _item_key(workspace_id, job_id, item.item_id),
                        update=(
                            "SET #status = :queued, #attempts = :zero, #updated_at = :now"
                            " REMOVE #reason, #result, #lease_token, #lease_until, #next_attempt_at"
                        ),
                        condition="#status = :seen",
                        values={
                            ":queued": ItemStatus.QUEUED.value,
                            ":zero": 0,
                            ":now": ts(now),
                            ":seen": item.status.value,
                        },
                    )
                }
            )
            delta["processed"] -= 1
            if item.status in (ItemStatus.FAILED, ItemStatus.DEAD):
                delta["failed"] -= 1
            elif item.status is ItemStatus.FOUND:
                delta["found"] -= 1
            elif item.status is ItemStatus.RISKY:
                delta["risky"] -= 1
        adds = {name: value for name, value in delta.items() if value}
        update = "SET #status = :running REMOVE #completed_at ADD " + ", ".join(
            f"#c_{name} :d_{name}" for name in adds
        )
        actions.append(
            {
                "Update": self._op(
                    _job_key(workspace_id, job_id),
                    update=update,
                    condition="attribute_exists(#PK)",
                    values={":running": JobStatus.RUNNING.value, **{f":d_{n}": v for n, v in adds.items()}},
                )
            }
        )
        return actions


__all__ = ["GSI1", "TTL_ATTRIBUTE", "DynamoJobStore", "create_table"]
