"""The service's one DynamoDB table (single-table design): its keys, indexes, TTL and the job store's rows.

Rows (all key attributes are strings):

    job          PK  WS#{workspace}#JOB#{job_id}      SK  JOB
                 GSI1PK WS#{workspace}#JOBS           GSI1SK {created_at}#{job_id}   (list newest first)
                 GSI2PK DUE                           GSI2SK {due_at}#{workspace}#{job_id}
                                                      (only while `due_at` is set: the due index)
    item         PK  WS#{workspace}#JOB#{job_id}      SK  ITEM#{item_id}             (Query: input order)
                 (with `lead_id`, the Supabase lead it writes addresses for, when it has one)
    idempotency  PK  WS#{workspace}#IDEMP#{key}       SK  IDEMP                      (holds the job id)
    activity     PK  WS#{workspace}#ACTIVITY          SK  MIN#{yyyy-mm-ddTHH:MM}     (a minute's finishes)

Other rows share the table: API keys (`APIKEY#{sha256}`, `WS#{workspace}#APIKEYS`: `dynamo_keys`), the
daily lead quota (`WS#{workspace}#QUOTA`: `dynamo_quota`), the cache (`CACHE#`: `dynamo_cache`), the
limiter (`RATE#`: `dynamo_limiter`), webhooks (`HOOK#`, `WS#{workspace}#HOOKS#`: `dynamo_webhooks`), the
spend ledger (`WS#{workspace}#SPEND`: `dynamo_spend`), suppression lists (`SUPPRESS#{workspace}`, `SUPPRESS#*`
for the service-wide one: `dynamo_suppression`), workspace settings (`SETTINGS`: `dynamo_settings`) and the
audit trail (a partition per workspace, append only, named in `dynamo_audit` alone: the template's
Deny matches it). An item with addresses waiting for review
has GSI1 keys of its own (the review queue: `dynamo_items`), removed once none is pending.

A job's items share its partition, so one Query lists them; jobs are listed through GSI1 (projection ALL),
with status and tag as filters. GSI2 is the due index (`JobStore.due_jobs`), sparse: a job row has its
GSI2 keys only while it has a `due_at` (a scheduled job waiting to be released), and every write that clears
`due_at` removes them, so a Query of partition DUE up to `now` reads exactly the due jobs of every workspace,
earliest first, however many jobs the table holds. One partition is enough: only scheduled jobs enter it,
once each, and the processor's release takes them out (projection ALL: the Query returns the jobs).

The table's TTL attribute `expires_at` belongs to the rows that expire (cache, limiter, quota, webhooks,
activity: kept two days, `GET /metrics` reads the last hour) and to the job store's once their retention
starts (`jobs.retention`, docs/privacy.md "Retention"): a finished or skipped item, a completed, cancelled
or failed job and its idempotency row get their workspace's `results_retention_days` later; a job still
pending, running or paused never expires. The workspace settings (`SETTINGS`, `WS#{workspace}`:
`dynamo_settings`) have none. `template.yaml` declares the same table; `tests/infra` holds the two to each
other.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from leadenrich.jobs.rows import activity_minute

GSI1 = "GSI1"
DUE_INDEX = "GSI2"
DUE_PK = "DUE"
DUE_KEY_FIELDS = ("GSI2PK", "GSI2SK")  # present on a job row exactly while its `due_at` is
TTL_ATTRIBUTE = "expires_at"
JOB_SK = "JOB"
ITEM_SK_PREFIX = "ITEM#"
IDEMPOTENCY_SK = "IDEMP"
JOB_KEY_FIELDS = ("PK", "SK", "GSI1PK", "GSI1SK")  # a job's key in GSI1: what a jobs cursor holds
ITEM_KEY_FIELDS = ("PK", "SK")


def create_table(client: Any, name: str) -> None:
    """Create the table the adapters (and the cache sharing it) expect, and wait until it can be used."""
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": attr, "AttributeType": "S"} for attr in (*JOB_KEY_FIELDS, *DUE_KEY_FIELDS)
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": name,
                "KeySchema": [
                    {"AttributeName": pk, "KeyType": "HASH"},
                    {"AttributeName": sk, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
            for name, (pk, sk) in ((GSI1, ("GSI1PK", "GSI1SK")), (DUE_INDEX, DUE_KEY_FIELDS))
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 2, "MaxAttempts": 60})
    client.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE}
    )


def row_key(pk: str, sk: str) -> dict[str, Any]:
    """A row's primary key as attribute values (both parts are strings)."""
    return {"PK": {"S": pk}, "SK": {"S": sk}}


def job_pk(workspace_id: str, job_id: str) -> str:
    """The partition of a job and its items."""
    return f"WS#{workspace_id}#JOB#{job_id}"


def jobs_pk_prefix(workspace_id: str) -> str:
    """What every job partition of the workspace starts with."""
    return f"WS#{workspace_id}#JOB#"


def jobs_gsi_pk(workspace_id: str) -> str:
    return f"WS#{workspace_id}#JOBS"


def jobs_gsi_sk(created_at: str, job_id: str) -> str:
    return f"{created_at}#{job_id}"


def due_sk(due_at: str, workspace_id: str, job_id: str) -> str:
    """A job's place in the due index: `due_at` (`ts` text, fixed width) first, so key order is time order."""
    return f"{due_at}#{workspace_id}#{job_id}"


def due_sk_bound(now: str) -> str:
    """The smallest due key after every job due at or before `now` (`ts` text): `now` then "$", the character
    after the "#" that follows a due time."""
    return f"{now}$"


def item_sk(item_id: str) -> str:
    return f"{ITEM_SK_PREFIX}{item_id}"


def job_key(workspace_id: str, job_id: str) -> dict[str, Any]:
    return row_key(job_pk(workspace_id, job_id), JOB_SK)


def item_key(workspace_id: str, job_id: str, item_id: str) -> dict[str, Any]:
    return row_key(job_pk(workspace_id, job_id), item_sk(item_id))


def idempotency_key(workspace_id: str, idempotency: str) -> dict[str, Any]:
    return row_key(f"WS#{workspace_id}#IDEMP#{idempotency}", IDEMPOTENCY_SK)


def activity_pk(workspace_id: str) -> str:
    return f"WS#{workspace_id}#ACTIVITY"


def activity_sk(moment: datetime) -> str:
    """The row of `moment`'s UTC minute."""
    return f"MIN#{activity_minute(moment)}"


def activity_key(workspace_id: str, moment: datetime) -> dict[str, Any]:
    return row_key(activity_pk(workspace_id), activity_sk(moment))


__all__ = [
    "DUE_INDEX",
    "DUE_KEY_FIELDS",
    "DUE_PK",
    "GSI1",
    "IDEMPOTENCY_SK",
    "ITEM_KEY_FIELDS",
    "ITEM_SK_PREFIX",
    "JOB_KEY_FIELDS",
    "JOB_SK",
    "TTL_ATTRIBUTE",
    "activity_key",
    "activity_pk",
    "activity_sk",
    "create_table",
    "due_sk",
    "due_sk_bound",
    "idempotency_key",
    "item_key",
    "item_sk",
    "job_key",
    "job_pk",
    "jobs_gsi_pk",
    "jobs_gsi_sk",
    "jobs_pk_prefix",
    "row_key",
]
