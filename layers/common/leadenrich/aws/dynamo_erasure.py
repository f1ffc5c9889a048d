"""The erasure's eraser for the service's DynamoDB table (`leadenrich.privacy.erasure`; docs/privacy.md,
"Erasure"): the workspace's job items (when the table holds the jobs: JOB_STORE=dynamodb), the provider
cache and the webhook records, by the rules of `privacy.erasure_rules`.

How it finds them: a Scan of the whole table, filtered to those rows (the workspace's items, `CACHE#`,
`HOOK#` and the workspace's `HOOKS#` attempts). No index leads from a person to the rows that hold them
(an address sits inside an item's result, a name inside a cached answer), and an erasure is rare, so a Scan
is the honest tool. What it costs: a Scan reads every row of the table whatever the filter, at half a read
unit per 4 KB (eventually consistent), so one erasure reads the table twice (`find`, then `erase`): for a
1 GB table about 2 x 131,000 read units, a few cents on demand, and a few seconds to tens of seconds (pages
of 1 MB, one after the other). The API's 29 s can run out on a very large table; the erasure is
idempotent and suppresses first, so the request can simply be sent again (docs/privacy.md).

With `buffer` (the table holds the lead buffer: not with JOB_STORE=supabase) the same Scan reads the
workspace's buffer rows too (`aws.dynamo_buffer_erasure`), the receipt's place `buffer`.

Writes: an item is rewritten only if its status is still the one read (a processor that finished or
requeued it meanwhile wins, and the item is read and scrubbed again); a cache entry is rewritten only if it
still exists, or deleted; a webhook record that names the subject is deleted.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from leadenrich.aws.dynamo_buffer_erasure import DynamoBufferEraser, buffer_prefix
from leadenrich.aws.dynamo_codec import from_attribute_values
from leadenrich.aws.dynamo_items import review_gsi_pk
from leadenrich.aws.dynamo_schema import ITEM_SK_PREFIX, jobs_pk_prefix
from leadenrich.privacy.erasure import PlaceErased
from leadenrich.privacy.erasure_rules import (
    StoredItem,
    Subject,
    cache_links,
    item_links,
    row_text,
    scrub_cache,
    scrub_item,
    whole_item,
)
from leadenrich.privacy.review import pending_count

CACHE_PREFIX = "CACHE#"
HOOK_PREFIX = "HOOK#"
_OUTBOX = "HOOK#OUTBOX"
_RETRIES = 3  # an item changed under the rewrite is read and scrubbed again, this many times


def hooks_pk_prefix(workspace_id: str) -> str:
    """The workspace's callback attempts (`dynamo_webhooks`)."""
    return f"WS#{workspace_id}#HOOKS#"


def _stored_item(plain: dict[str, Any]) -> StoredItem:
    result = plain.get("result")
    lead = plain.get("lead")
    return StoredItem(
        lead=lead if isinstance(lead, dict) else {},
        result=json.loads(result) if isinstance(result, str) else None,
        reason=plain.get("reason"),
        lead_id=plain.get("lead_id"),
    )


def _json(text: object) -> Any:
    try:
        return json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None


class DynamoErasure(DynamoBufferEraser):
    """See the module docstring. `items`: the table holds the job items (not with JOB_STORE=supabase);
    `buffer`: it holds the lead buffer."""

    def __init__(
        self,
        table_name: str,
        client: Any,
        *,
        items: bool = True,
        buffer: bool = False,
        serialize_calls: bool = False,
    ) -> None:
        super().__init__(table_name, client, serialize_calls=serialize_calls)
        self._items = items
        self._buffer = buffer

    @property
    def places(self) -> tuple[str, ...]:
        mine = ("job_items", "cache", "webhooks") if self._items else ("cache", "webhooks")
        return (*mine, "buffer") if self._buffer else mine

    async def _scan(self, workspace_id: str, *, hooks: bool) -> AsyncIterator[dict[str, Any]]:
        """Every row of the kinds the erasure reads (module docstring), page by page."""
        clauses = ["begins_with(#PK, :cache)"]
        values: dict[str, Any] = {":cache": {"S": CACHE_PREFIX}}
        if self._items:
            clauses.append("(begins_with(#PK, :jobs) AND begins_with(#SK, :item))")
            values |= {":jobs": {"S": jobs_pk_prefix(workspace_id)}, ":item": {"S": ITEM_SK_PREFIX}}
        if self._buffer:
            clauses.append("begins_with(#PK, :buffer)")
            values[":buffer"] = {"S": buffer_prefix(workspace_id)}
        if hooks:
            clauses += ["begins_with(#PK, :hook)", "begins_with(#PK, :hooks)"]
            values |= {":hook": {"S": HOOK_PREFIX}, ":hooks": {"S": hooks_pk_prefix(workspace_id)}}
        request: dict[str, Any] = {
            "TableName": self._table,
            "FilterExpression": " OR ".join(clauses),
            "ExpressionAttributeNames": {"#PK": "PK", **({"#SK": "SK"} if self._items else {})},
            "ExpressionAttributeValues": values,
        }
        start: dict[str, Any] | None = None
        while True:
            page = await self._call("scan", **request, **({"ExclusiveStartKey": start} if start else {}))
            for row in page.get("Items", []):
                yield row
            start = page.get("LastEvaluatedKey")
            if not start:
                return

    def _is_item(self, workspace_id: str, row: dict[str, Any]) -> bool:
        pk, sk = row["PK"]["S"], row["SK"]["S"]
        return self._items and pk.startswith(jobs_pk_prefix(workspace_id)) and sk.startswith(ITEM_SK_PREFIX)

    async def find(self, workspace_id: str, subject: Subject) -> Subject:
        links = Subject()
        async for row in self._scan(workspace_id, hooks=False):
            pk = row["PK"]["S"]
            if pk.startswith(CACHE_PREFIX):
                links = links | cache_links(
                    pk.removeprefix(CACHE_PREFIX), _json(row["payload"]["S"]), subject
                )
            elif self._is_item(workspace_id, row):
                item = _stored_item(from_attribute_values(row))
                links = links | item_links(item, subject)
                if item.lead_id in subject.lead_ids and whole_item(item, subject):
                    links = links | Subject(lead_ids=frozenset({item.lead_id}))
            elif self._buffer and self.buffer_kind(workspace_id, row) == "lead":
                links = links | self.buffer_links(row, subject)
        return links

    async def erase(self, workspace_id: str, subject: Subject) -> list[PlaceErased]:
        items = cache_removed = cache_changed = hooks = buffer_removed = buffer_changed = 0
        async for row in self._scan(workspace_id, hooks=True):
            pk = row["PK"]["S"]
            kind = self.buffer_kind(workspace_id, row) if self._buffer else None
            if kind is not None:
                outcome = await self.erase_buffer_row(kind, row, subject)
                buffer_removed += outcome == "removed"
                buffer_changed += outcome == "changed"
            elif pk.startswith(CACHE_PREFIX):
                outcome = await self._erase_cached(row, subject)
                cache_removed += outcome == "removed"
                cache_changed += outcome == "changed"
            elif self._is_item(workspace_id, row):
                items += await self._erase_item(row, subject)
            elif self._hook_in_scope(workspace_id, row) and subject.mentions(
                row_text(from_attribute_values(row))
            ):
                await self._call("delete_item", TableName=self._table, Key={"PK": row["PK"], "SK": row["SK"]})
                hooks += 1
        places = [
            PlaceErased("cache", removed=cache_removed, changed=cache_changed),
            PlaceErased("webhooks", removed=hooks),
        ]
        if self._buffer:
            places.append(PlaceErased("buffer", removed=buffer_removed, changed=buffer_changed))
        return [PlaceErased("job_items", changed=items), *places] if self._items else places

    async def _erase_item(self, row: dict[str, Any], subject: Subject) -> int:
        """1 when the item was rewritten without the subject, 0 when it held nothing of it."""
        key = {"PK": row["PK"], "SK": row["SK"]}
        current: dict[str, Any] | None = row
        for _ in range(_RETRIES):
            if current is None:
                return 0
            plain = from_attribute_values(current)
            change = scrub_item(_stored_item(plain), subject)
            if change is None:
                return 0
            sets = ["#lead = :lead", "#reason = :reason"]
            values: dict[str, Any] = {
                ":lead": change.lead,
                ":reason": change.reason,
                ":seen": plain["status"],
            }
            if change.result is not None:
                sets.append("#result = :result")
                values[":result"] = json.dumps(change.result)
            removes = ["#result"] if change.result is None else []
            if plain.get("GSI1PK") == review_gsi_pk(plain["workspace_id"]) and not pending_count(
                change.result
            ):
                removes += ["#GSI1PK", "#GSI1SK"]  # no address left pending: out of the review queue
            update = f"SET {', '.join(sets)}" + (f" REMOVE {', '.join(removes)}" if removes else "")
            request = self.update_request(key, update=update, condition="#status = :seen", values=values)
            if await self.update_row(request) is not None:
                return 1
            current = await self.get_row(key)  # changed meanwhile (finished, requeued): scrub what is there
        raise RuntimeError("erasure: an item kept changing under the rewrite; send the erasure again")

    async def _erase_cached(self, row: dict[str, Any], subject: Subject) -> str | None:
        key = row["PK"]["S"].removeprefix(CACHE_PREFIX)
        value = _json(row.get("payload", {}).get("S"))
        change = scrub_cache(key, value if isinstance(value, dict) else None, subject)
        if change is None:
            return None
        row_key = {"PK": row["PK"], "SK": row["SK"]}
        if change.value is None:
            await self._call("delete_item", TableName=self._table, Key=row_key)
            return "removed"
        payload = json.dumps(change.value, separators=(",", ":"), ensure_ascii=False)
        request = self.update_request(
            row_key,
            update="SET #payload = :payload",
            condition="attribute_exists(#PK)",
            values={":payload": payload},
        )
        return "changed" if await self.update_row(request) is not None else None

    @staticmethod
    def _hook_in_scope(workspace_id: str, row: dict[str, Any]) -> bool:
        """The workspace's attempts and outbox entries, and the inbound events of the workspace or of none
        (a provider event about an address names no workspace)."""
        pk = row["PK"]["S"]
        if pk.startswith(hooks_pk_prefix(workspace_id)):
            return True
        if pk == _OUTBOX:
            delivery = _json(row.get("delivery", {}).get("S"))
            return isinstance(delivery, dict) and delivery.get("workspace_id") == workspace_id
        if pk.startswith(HOOK_PREFIX):
            summary = _json(row.get("summary", {}).get("S"))
            owner = summary.get("workspace_id") if isinstance(summary, dict) else None
            return owner in (None, workspace_id)
        return False


__all__ = ["CACHE_PREFIX", "HOOK_PREFIX", "DynamoErasure", "hooks_pk_prefix"]
