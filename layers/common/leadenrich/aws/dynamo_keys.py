"""`KeyStore` over the shared DynamoDB table.

Rows (next to the job store's, see `dynamo_schema`):

    key lookup   PK  APIKEY#{sha256 of the key, hex}   SK  APIKEY          (the authorizer: one GetItem)
    key listing  PK  WS#{workspace}#APIKEYS            SK  KEY#{key_id}    (list a workspace: one Query)
                 GSI1PK APIKEYS                        GSI1SK KEY#{key_id} (every workspace; revoke by id)

Both rows carry the key's id, workspace, name, display prefix, created_at and revoked_at; the listing row
also holds the hash, so `revoke` (by id) can mark the lookup row. Both are written, and revoked, in one
transaction. The key itself is never stored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from leadenrich.auth.keys import ApiKey
from leadenrich.aws.dynamo_codec import from_attribute_values, to_attribute_values
from leadenrich.aws.dynamo_ops import DynamoTable
from leadenrich.aws.dynamo_schema import GSI1, row_key
from leadenrich.jobs.encoding import opt_ts, parse_ts, ts

KEYS_GSI_PK = "APIKEYS"


def _lookup_key(key_hash: str) -> dict[str, Any]:
    return row_key(f"APIKEY#{key_hash}", "APIKEY")


def _listing_key(workspace_id: str, key_id: str) -> dict[str, Any]:
    return row_key(f"WS#{workspace_id}#APIKEYS", f"KEY#{key_id}")


def _attributes(key: ApiKey) -> dict[str, Any]:
    return {
        "entity": "api_key",
        "key_id": key.key_id,
        "workspace_id": key.workspace_id,
        "name": key.name,
        "prefix": key.prefix,
        "created_at": ts(key.created_at),
        "revoked_at": opt_ts(key.revoked_at),
    }


def _from_row(raw: dict[str, Any]) -> ApiKey:
    row = from_attribute_values(raw)
    created_at = parse_ts(row["created_at"])
    assert created_at is not None
    return ApiKey(
        key_id=row["key_id"],
        workspace_id=row["workspace_id"],
        name=row.get("name", ""),
        prefix=row.get("prefix", ""),
        created_at=created_at,
        revoked_at=parse_ts(row.get("revoked_at")),
    )


class DynamoKeyStore(DynamoTable):
    async def put(self, key: ApiKey, key_hash: str) -> None:
        attributes = _attributes(key)
        lookup = _lookup_key(key_hash) | to_attribute_values(attributes)
        listing = (
            _listing_key(key.workspace_id, key.key_id)
            | to_attribute_values(attributes)
            | to_attribute_values(
                {"key_hash": key_hash, "GSI1PK": KEYS_GSI_PK, "GSI1SK": f"KEY#{key.key_id}"}
            )
        )
        absent = "attribute_not_exists(PK)"
        await self._call(
            "transact_write_items",
            TransactItems=[
                {"Put": {"TableName": self._table, "Item": lookup, "ConditionExpression": absent}},
                {"Put": {"TableName": self._table, "Item": listing, "ConditionExpression": absent}},
            ],
        )

    async def resolve(self, key_hash: str) -> ApiKey | None:
        row = await self.get_row(_lookup_key(key_hash))
        return _from_row(row) if row else None

    async def list_keys(self, workspace_id: str | None = None) -> list[ApiKey]:
        if workspace_id is None:
            query: dict[str, Any] = {
                "IndexName": GSI1,
                "KeyConditionExpression": "GSI1PK = :pk",
                "ExpressionAttributeValues": to_attribute_values({":pk": KEYS_GSI_PK}),
            }
        else:
            query = {
                "KeyConditionExpression": "PK = :pk AND begins_with(SK, :sk)",
                "ExpressionAttributeValues": to_attribute_values(
                    {":pk": f"WS#{workspace_id}#APIKEYS", ":sk": "KEY#"}
                ),
            }
        keys: list[ApiKey] = []
        start: dict[str, Any] | None = None
        while True:
            page = await self._call(
                "query", TableName=self._table, **query, **({"ExclusiveStartKey": start} if start else {})
            )
            keys += [_from_row(row) for row in page.get("Items", [])]
            start = page.get("LastEvaluatedKey")
            if not start:
                return sorted(keys, key=lambda k: (k.created_at, k.key_id))

    async def _listing(self, key_id: str) -> dict[str, Any] | None:
        page = await self._call(
            "query",
            TableName=self._table,
            IndexName=GSI1,
            KeyConditionExpression="GSI1PK = :pk AND GSI1SK = :sk",
            ExpressionAttributeValues=to_attribute_values({":pk": KEYS_GSI_PK, ":sk": f"KEY#{key_id}"}),
        )
        items: list[dict[str, Any]] = page.get("Items", [])
        return items[0] if items else None

    async def revoke(self, key_id: str, now: datetime) -> ApiKey | None:
        row = await self._listing(key_id)
        if row is None:
            return None
        key = _from_row(row)
        if not key.active:
            return key
        key_hash = from_attribute_values(row)["key_hash"]
        update = {
            "UpdateExpression": "SET revoked_at = :now",
            "ConditionExpression": "attribute_exists(PK) AND attribute_not_exists(revoked_at)",
            "ExpressionAttributeValues": to_attribute_values({":now": ts(now)}),
            "TableName": self._table,
        }
        # False: revoked meanwhile by someone else; either way, report the row as it is now.
        await self.transact(
            [
                {"Update": {**update, "Key": _lookup_key(key_hash)}},
                {"Update": {**update, "Key": _listing_key(key.workspace_id, key.key_id)}},
            ]
        )
        current = await self.get_row(_listing_key(key.workspace_id, key.key_id))
        return _from_row(current) if current else None
