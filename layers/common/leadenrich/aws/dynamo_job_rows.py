"""The job store's rows on DynamoDB: `jobs.rows`' plain rows with their keys, as attribute values.

Why the attributes look the way they do:
- counters are top-level numbers `c_total`, `c_processed`, ... so a condition can compare two of them
  (`c_processed >= c_total`) and an update can ADD to them (exact decimals: `dynamo_codec`);
- datetimes are `jobs.encoding.ts` text, so comparing strings in a condition compares instants;
- a job with a `due_at` carries the due index's keys (`due_keys`), and only then: GSI2 is sparse;
- an item's `result` is a JSON string (floats come back exactly), its lead a map; absent values are absent
  attributes, never NULL;
- a job's `upload` (`JobOptions.upload`) is a JSON string too: one attribute `update_job` replaces whole,
  with no number in it turned into a Decimal or refused as a float by the codec.
"""

from __future__ import annotations

import json
from typing import Any

from leadenrich.aws.dynamo_codec import from_attribute_values, to_attribute_values
from leadenrich.aws.dynamo_schema import (
    DUE_KEY_FIELDS,
    DUE_PK,
    JOB_SK,
    due_sk,
    item_sk,
    job_pk,
    jobs_gsi_pk,
    jobs_gsi_sk,
)
from leadenrich.jobs.models import Item, Job, JobOptions
from leadenrich.jobs.rows import (
    counter_columns,
    item_from_row,
    item_to_row,
    job_from_row,
    job_to_row,
    options_row,
)

COUNTER_COLUMNS = counter_columns("c_")


def job_attributes(job: Job) -> dict[str, Any]:
    """The job's row as attribute values, with its keys in the table, in GSI1 and, while it has a due time,
    in the due index."""
    row = job_to_row(job, COUNTER_COLUMNS)
    row["upload"] = _json(row["upload"])
    row["PK"], row["SK"] = job_pk(job.workspace_id, job.job_id), JOB_SK
    row["GSI1PK"] = jobs_gsi_pk(job.workspace_id)
    row["GSI1SK"] = jobs_gsi_sk(row["created_at"], job.job_id)
    row["entity"] = "job"
    if row["due_at"] is not None:
        row.update(due_keys(job.workspace_id, job.job_id, row["due_at"]))
    return to_attribute_values(row)


def options_values(options: JobOptions) -> dict[str, Any]:
    """The options as a job's attributes hold them, as plain values (None: the attribute is absent)."""
    row = options_row(options)
    row["upload"] = _json(row["upload"])
    return row


def _json(value: Any) -> str | None:
    return json.dumps(value, ensure_ascii=False) if value is not None else None


def due_keys(workspace_id: str, job_id: str, due_at: str) -> dict[str, str]:
    """The due index's key attributes of a job due at `due_at` (`ts` text), as plain values."""
    pk, sk = DUE_KEY_FIELDS
    return {pk: DUE_PK, sk: due_sk(due_at, workspace_id, job_id)}


def job_from_attributes(attributes: dict[str, Any]) -> Job:
    return job_from_row(from_attribute_values(attributes), COUNTER_COLUMNS)


def item_attributes(item: Item) -> dict[str, Any]:
    row = item_to_row(item)
    row["PK"], row["SK"] = job_pk(item.workspace_id, item.job_id), item_sk(item.item_id)
    row["entity"] = "item"
    row["result"] = json.dumps(item.result) if item.result is not None else None
    return to_attribute_values(row)


def item_from_attributes(attributes: dict[str, Any]) -> Item:
    row = from_attribute_values(attributes)
    result = row.get("result")
    row["result"] = json.loads(result) if isinstance(result, str) else None
    return item_from_row(row)


def counter_adds(adds: dict[str, int | float]) -> tuple[str, dict[str, int | float]]:
    """`#c_name :d_name, ...` for an ADD clause, and its values."""
    clause = ", ".join(f"#{COUNTER_COLUMNS[name]} :d_{name}" for name in adds)
    return clause, {f":d_{name}": value for name, value in adds.items()}


__all__ = [
    "COUNTER_COLUMNS",
    "counter_adds",
    "due_keys",
    "item_attributes",
    "item_from_attributes",
    "job_attributes",
    "job_from_attributes",
    "options_values",
]
