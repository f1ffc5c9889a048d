"""The DynamoDB operations every adapter of the shared table uses: conditional writes, transactions,
batch writes and paged queries, with one rule for what counts as a lost race.

A write refused because its condition did not hold (`ConditionalCheckFailedException`, or a cancelled
transaction one of whose reasons is `ConditionalCheckFailed`) is a lost race, reported as such (None /
False), never an error: `condition_failed` decides it, for every adapter. A transaction cancelled for a
conflict with another transaction on the same rows (every item's transaction touches its job row) or for
throttling is retried with backoff; any other cancellation is raised.

Caveat: moto's DynamoDB has no lock, and a cancelled transaction restores a deep copy of the whole table,
which can undo another thread's write made meanwhile. Pass `serialize_calls=True` over moto (tests, the
local stack) so calls from concurrent tasks run one at a time (`ThreadedClient`); real DynamoDB needs no
such thing.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import Iterable, Sequence
from typing import Any

from botocore.exceptions import ClientError

from leadenrich.aws.dynamo_codec import from_attribute_values, to_attribute_values
from leadenrich.aws.threaded import ThreadedClient
from leadenrich.jobs.encoding import encode_cursor

BATCH_WRITE_MAX = 25  # BatchWriteItem limit
TRANSACT_MAX = 100  # TransactWriteItems limit
RETRIES = 8  # unprocessed batch items, transaction conflicts
FILTERED_PAGE = 250  # rows evaluated per Query when a filter may drop some
_BACKOFF_BASE = 0.05
_BACKOFF_CAP = 2.0
_MAX_QUERIES_PER_PAGE = 20  # bounds one page; a short page with a cursor is then returned
_CONDITION_FAILED = "ConditionalCheckFailedException"
_CANCELLED = "TransactionCanceledException"
_RETRYABLE_CANCELLATIONS = frozenset(
    {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"}
)


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def cancellation_reasons(exc: ClientError) -> set[str]:
    """The reasons a cancelled transaction gives, one per action, without the actions that were fine."""
    return {str(reason.get("Code")) for reason in exc.response.get("CancellationReasons", [])} - {"None"}


def condition_failed(exc: ClientError) -> bool:
    """Whether DynamoDB refused a write because a condition did not hold: a lost race, not an error."""
    code = error_code(exc)
    if code == _CONDITION_FAILED:
        return True
    return code == _CANCELLED and "ConditionalCheckFailed" in cancellation_reasons(exc)


def backoff(attempt: int) -> float:
    """Full jitter: concurrent writers that collided do not collide again in lockstep."""
    return random.uniform(0, min(_BACKOFF_CAP, _BACKOFF_BASE * 2**attempt))  # noqa: S311 - not crypto


def expression_names(*expressions: str | None) -> dict[str, str]:
    """ExpressionAttributeNames for every `#name` used: sidesteps DynamoDB's reserved words (status...)."""
    return {f"#{n}": n for e in expressions if e for n in re.findall(r"#(\w+)", e)}


def one_of(attribute: str, placeholder: str, values: Iterable[str]) -> tuple[str, dict[str, str]]:
    """`#attribute IN (:placeholder0, ...)` and its values (statuses as their text), in sorted order."""
    named = {f":{placeholder}{n}": value for n, value in enumerate(sorted(str(v) for v in values))}
    return f"#{attribute} IN ({', '.join(named)})", named


class DynamoTable(ThreadedClient):
    """Base of the adapters of the shared table: `client` is a boto3 DynamoDB low-level client."""

    def __init__(self, table_name: str, client: Any, *, serialize_calls: bool = False) -> None:
        super().__init__(client, serialize_calls=serialize_calls)
        self._table = table_name

    def update_request(
        self,
        key: dict[str, Any],
        *,
        update: str | None = None,
        condition: str | None = None,
        values: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The fields of an UpdateItem request or transaction action (or a ConditionCheck's, without
        `update`); `values` are plain values, `#names` are declared from the expressions."""
        op: dict[str, Any] = {"TableName": self._table, "Key": key}
        if update:
            op["UpdateExpression"] = update
        if condition:
            op["ConditionExpression"] = condition
        names = expression_names(update, condition)
        if names:
            op["ExpressionAttributeNames"] = names
        if values:
            op["ExpressionAttributeValues"] = to_attribute_values(values)
        return op

    async def conditional_write(self, operation: str, **request: Any) -> dict[str, Any] | None:
        """A conditional PutItem, UpdateItem or DeleteItem: its response, None when the condition failed."""
        try:
            response: dict[str, Any] = await self._call(operation, **request)
        except ClientError as exc:
            if condition_failed(exc):
                return None
            raise
        return response

    async def update_row(self, request: dict[str, Any], *, return_new: bool = False) -> dict[str, Any] | None:
        """UpdateItem; the new row (or {}) when written, None when the condition failed."""
        response = await self.conditional_write(
            "update_item", **request, ReturnValues="ALL_NEW" if return_new else "NONE"
        )
        return None if response is None else dict(response.get("Attributes", {}))

    async def transact(self, actions: list[dict[str, Any]]) -> bool:
        """TransactWriteItems; False when a condition failed. Conflicts and throttling are retried."""
        for attempt in range(RETRIES + 1):
            try:
                await self._call("transact_write_items", TransactItems=actions)
                return True
            except ClientError as exc:
                if condition_failed(exc):
                    return False
                reasons = cancellation_reasons(exc)
                retryable = bool(reasons) and reasons <= _RETRYABLE_CANCELLATIONS
                if error_code(exc) != _CANCELLED or not retryable or attempt == RETRIES:
                    raise
            await asyncio.sleep(backoff(attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    async def get_row(self, key: dict[str, Any]) -> dict[str, Any] | None:
        """A strongly consistent GetItem; the row, None when absent."""
        response = await self._call("get_item", TableName=self._table, Key=key, ConsistentRead=True)
        row = response.get("Item")
        return dict(row) if row else None

    async def batch_put(self, rows: Sequence[dict[str, Any]], *, what: str) -> None:
        """BatchWriteItem in chunks of 25, retrying what DynamoDB left unprocessed (bounded, with backoff);
        RuntimeError naming `what` when some rows stay unwritten."""
        for start in range(0, len(rows), BATCH_WRITE_MAX):
            pending = [{"PutRequest": {"Item": row}} for row in rows[start : start + BATCH_WRITE_MAX]]
            for attempt in range(RETRIES + 1):
                response = await self._call("batch_write_item", RequestItems={self._table: pending})
                pending = response.get("UnprocessedItems", {}).get(self._table, [])
                if not pending:
                    break
                if attempt == RETRIES:
                    raise RuntimeError(f"{what}: {len(pending)} not written after {RETRIES} retries")
                await asyncio.sleep(backoff(attempt))

    def query_request(
        self, key_condition: str, values: dict[str, Any], filter_expression: str | None, **options: Any
    ) -> dict[str, Any]:
        """A Query request: its key condition, optional filter and their plain `values`, and `options`
        (IndexName, ScanIndexForward, ConsistentRead); `#names` are declared from the expressions."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": key_condition,
            "ExpressionAttributeNames": expression_names(key_condition, filter_expression),
            "ExpressionAttributeValues": to_attribute_values(values),
            **options,
        }
        if filter_expression:
            request["FilterExpression"] = filter_expression
        return request

    async def query_page(
        self,
        request: dict[str, Any],
        *,
        limit: int,
        start_key: dict[str, Any] | None,
        key_fields: tuple[str, ...],
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Up to `limit` rows and the cursor after the last one (its key, `jobs.encoding` text). A filter
        applies after Query's Limit, so keep querying; when a page holds more matches than wanted, the
        cursor is the last kept row's key."""
        filtered = "FilterExpression" in request
        rows: list[dict[str, Any]] = []
        for _ in range(_MAX_QUERIES_PER_PAGE):
            need = limit - len(rows)
            page_request = dict(request, Limit=max(need, FILTERED_PAGE) if filtered else need)
            if start_key:
                page_request["ExclusiveStartKey"] = start_key
            response = await self._call("query", **page_request)
            got: list[dict[str, Any]] = response.get("Items", [])
            last_key: dict[str, Any] | None = response.get("LastEvaluatedKey")
            if len(got) >= need:
                rows += got[:need]
                if len(got) > need:  # matches left over: resume right after the last row returned
                    last_key = {f: rows[-1][f] for f in key_fields}
                return rows, _cursor(last_key)
            rows += got
            if last_key is None:
                return rows, None
            start_key = last_key
        return rows, _cursor(start_key)


def _cursor(key: dict[str, Any] | None) -> str | None:
    """A start key as a cursor (every key attribute is a string)."""
    if not key:
        return None
    return encode_cursor({name: str(value) for name, value in from_attribute_values(key).items()})


__all__ = [
    "BATCH_WRITE_MAX",
    "FILTERED_PAGE",
    "RETRIES",
    "TRANSACT_MAX",
    "DynamoTable",
    "backoff",
    "cancellation_reasons",
    "condition_failed",
    "error_code",
    "expression_names",
    "one_of",
]
