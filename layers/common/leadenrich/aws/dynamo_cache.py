"""`CachePort` on the shared DynamoDB table, so paid answers survive cold starts and are shared by processes.

Row: PK `CACHE#{key}`, SK `CACHE`, `payload` (the value as a JSON string: floats and nesting come back
exactly, and no DynamoDB type rules apply to the value), `expires_at` (epoch seconds, the table's TTL
attribute). The `CACHE#` prefix keeps cache rows apart from job rows (`WS#...`) whatever the key; cache rows
carry no GSI1 attributes, so job listings never see them.

DynamoDB's TTL deletes expired rows lazily, up to about 48 hours late, so `get` also treats a row whose
`expires_at` has passed as missing. Reads are eventually consistent: a cache may miss a write made a moment
ago, which only costs one paid call, at half the read price.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from typing import Any

from leadenrich.aws.dynamo_ops import DynamoTable
from leadenrich.aws.dynamo_schema import TTL_ATTRIBUTE, row_key

MAX_VALUE_BYTES = 350 * 1024  # DynamoDB items stop at 400 KB; the rest is headroom for key and attributes
_SK = "CACHE"


class DynamoCache(DynamoTable):
    """See the module docstring. `serialize_calls=True` over moto, which is not thread-safe (as the store)."""

    def __init__(
        self,
        table_name: str,
        client: Any,
        *,
        serialize_calls: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(table_name, client, serialize_calls=serialize_calls)
        self._clock = clock

    @staticmethod
    def _key(key: str) -> dict[str, Any]:
        return row_key(f"CACHE#{key}", _SK)

    async def get(self, key: str) -> dict[str, Any] | None:
        """The value, or None when absent, expired (even if not yet deleted) or unreadable."""
        response = await self._call("get_item", TableName=self._table, Key=self._key(key))
        row = response.get("Item")
        if row is None:
            return None
        try:
            expires_at = float(row[TTL_ATTRIBUTE]["N"])
            value = json.loads(row["payload"]["S"])
        except (KeyError, ValueError):
            return None  # a row we cannot read is a miss, not an error: the paid call refills it
        if expires_at <= self._clock() or not isinstance(value, dict):
            return None
        return value

    async def put(self, key: str, value: dict[str, Any], ttl_seconds: float) -> None:
        """Write (or overwrite) the entry; `expires_at` is rounded up to whole seconds, as TTL wants them.

        ValueError for a value over `MAX_VALUE_BYTES` as UTF-8 JSON: DynamoDB would refuse the item (400 KB)
        or nearly so, and the caller learns it here rather than from a ClientError mid-write."""
        payload = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        size = len(payload.encode("utf-8"))
        if size > MAX_VALUE_BYTES:
            raise ValueError(f"cache value for {key!r}: {size} bytes as JSON, more than {MAX_VALUE_BYTES}")
        expires_at = math.ceil(self._clock() + ttl_seconds)
        item = {
            **self._key(key),
            "entity": {"S": "cache"},
            "payload": {"S": payload},
            TTL_ATTRIBUTE: {"N": str(expires_at)},
        }
        await self._call("put_item", TableName=self._table, Item=item)


__all__ = ["MAX_VALUE_BYTES", "DynamoCache"]
