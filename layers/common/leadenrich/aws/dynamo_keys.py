"""`KeyStore` over the shared DynamoDB table.

Rows (next to the job store's, see `dynamo_store`):

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

from botocore.exceptions import ClientError

from leadenrich.auth.keys import ApiKey
from leadenrich.aws.dynamo_store import GSI1, _avs, _dt, _error_code, _plain
from leadenrich.aws.threaded import ThreadedClient
from leadenrich.jobs.encoding import ts

KEYS_GSI_PK = "APIKEYS"


def _lookup_key(key_hash: str) -> dict[str, Any]:
    return _avs({"PK": f"APIKEY#{key_hash}", "SK": "APIKEY"})


def _listing_key(workspace_id: str, key_id: str) -> dict[str, Any]:
    return _avs({"PK": f"WS#{workspace_id}#APIKEYS", "SK": f"KEY#{key_id}"})


def _attributes(key: ApiKey) -> dict[str, Any]:
    return {
        "entity": "api_key",
        "key_id": key.key_id,
        "workspace_id": key.workspace_id,
        "name": key.name,
        "prefix": key.prefix,
        "created_at": ts(key.created_at),
        "revoked_at": ts(key.revoked_at) if key.revoked_at else None,
    }


def _from_row(raw: dict[str, Any]) -> ApiKey:
    row = _plain(raw)
    created_at = _dt(row["created_at"])
    assert created_at is not None
    return ApiKey(
        key_id=row["key_id"],
        workspace_id=row["workspace_id"],
        name=row.get("name", ""),
        prefix=row.get("prefix", ""),
        created_at=created_at,
        revoked_at=_dt(row.get("revoked_at")),
    )


class DynamoKeyStore(ThreadedClient):
    def __init__(self, table_name: str, client: Any, *, serialize_calls: bool = False) -> None:
        super().__init__(client, serialize_calls=serialize_calls)
        self._table = table_name

    async def put(self, key: ApiKey, key_hash: str) -> None:
        attributes = _attributes(key)
        lookup = _lookup_key(key_hash) | _avs(attributes)
        listing = (
            _listing_key(key.workspace_id, key.key_id)
            | _avs(attributes)
            | _avs({"key_hash": key_hash, "GSI1PK": KEYS_GSI_PK, "GSI1SK": f"KEY#{key.key_id}"})
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
        answer = await self._call(
            "get_item", TableName=self._table, Key=_lookup_key(key_hash), ConsistentRead=True
        )
        row = answer.get("Item")
        return _from_row(row) if row else None

    async def list_keys(self, workspace_id: str | None = None) -> list[ApiKey]:
        if workspace_id is None:
            query: dict[str, Any] = {
                "IndexName": GSI1,
                "KeyConditionExpression": "GSI1PK = :pk",
                "ExpressionAttributeValues": _avs({":pk": KEYS_GSI_PK}),
            }
        else:
            query = {
                "KeyConditionExpression": "PK = :pk AND begins_with(SK, :sk)",
                "ExpressionAttributeValues": _avs({":pk": f"WS#{workspace_id}#APIKEYS", ":sk": "KEY#"}),
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
            ExpressionAttributeValues=_avs({":pk": KEYS_GSI_PK, ":sk": f"KEY#{key_id}"}),
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
        key_hash = _plain(row)["key_hash"]
        update = {
            "UpdateExpression": "SET revoked_at = :now",
            "ConditionExpression": "attribute_exists(PK) AND attribute_not_exists(revoked_at)",
            "ExpressionAttributeValues": _avs({":now": ts(now)}),
            "TableName": self._table,
        }
        try:
            await self._call(
                "transact_write_items",
                TransactItems=[
                    {"Update": {**update, "Key": _lookup_key(key_hash)}},
                    {"Update": {**update, "Key": _listing_key(key.workspace_id, key.key_id)}},
                ],
            )
        except ClientError as exc:
            if _error_code(exc) != "TransactionCanceledException":
                raise
            # Revoked meanwhile by someone else: report the row as it is now.
        answer = await self._call(
            "get_item",
            TableName=self._table,
            Key=_listing_key(key.workspace_id, key.key_id),
            ConsistentRead=True,
        )
        return _from_row(answer["Item"]) if answer.get("Item") else None
