"""`LeadBuffer` on the service's one DynamoDB table (docs/buffer.md, "Stores").

    lead    PK  WS#{workspace}#BUF#{namespace}   SK  LEAD#{lead_key}      the record; the key is the
                                                                          de-duplication (conditional put)
            GSI1PK WS#{workspace}#BUFQ#{namespace}  GSI1SK {ready_at}#{lead_id}   while buffered (ready at
                    its push) or claimed (ready again when its lease ends): the namespace's queue
            GSI1PK WS#{workspace}#SERVED            GSI1SK {served_at}#{lead_id}  once served: the listing
    run     PK  WS#{workspace}#BUF#{namespace}   SK  RUN#{parent_run_id}  lead_key: a run's one lead
    cursor  PK  WS#{workspace}#BUF#{namespace}   SK  CURSOR               state (JSON), updated_at
    served  PK  WS#{workspace}#BUF#{namespace}   SK  SERVED#{lead_key}    the served registry: served_at;
                                                                          no GSI1 keys, nothing personal

No Scan anywhere. `claim` is a Query of the queue's partition up to now (`GSI1SK < {now}$`, oldest first:
buffered leads and claims whose lease ran out, nothing else) and a conditional UpdateItem of the first
candidate on the base table (`state = buffered`, or `claimed` with `lease_until < now`): the index is
eventually consistent, the condition is not, so a candidate another caller took meanwhile fails its write
and the next one is tried. With a `parent_run_id` the update and the run's row (`attribute_not_exists`) are
one transaction: of two concurrent calls of one run exactly one takes a lead, and the other reads the run's
row and answers that lead. A run row whose lead was taken back after its lease (another run holds it now)
or discarded is stale: it is deleted (conditionally) and the run claims anew.

`serve` moves the lead out of the queue into the served listing (GSI1 keys replaced) under the claim's
token; the served time is written once (`attribute_not_exists(served_at)`, or equal to what is stored).
The lead, its data, the result and the source lists are JSON text: the result holds floats, which the
low-level client takes only as decimals.

Retention (`buffer.retention`): a lead row carries the table's TTL attribute, its workspace's results
period after its push, reset when it is served (the results or the unverified period: read through
`settings`, the processor's five-minute copy, as the job store's items are). The served registry is its own
row (`SERVED#`), written in one transaction with the serve's update (so a served lead always has one, and a
lost claim writes none; the transaction bills both rows twice) with a TTL of `REGISTRY_DAYS`; a push
reads the entries of its leads (one BatchGetItem per 100) and skips those a namespace served, whether the
lead row is still there or its TTL (or an erasure) removed it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from leadenrich.aws.dynamo_buffer_registry import DynamoServedRegistry, buffer_pk
from leadenrich.aws.dynamo_codec import from_attribute_values, to_attribute_values
from leadenrich.aws.dynamo_ops import DynamoTable, condition_failed
from leadenrich.aws.dynamo_schema import GSI1, TTL_ATTRIBUTE, row_key
from leadenrich.buffer.models import (
    BufferState,
    CursorState,
    Enrichment,
    LeadRecord,
    PushCounts,
    ServedQuery,
)
from leadenrich.buffer.retention import served_expiry, waiting_expiry
from leadenrich.buffer.rows import after_served, enrichment_columns, position_cursor, record_of, record_row
from leadenrich.jobs.encoding import parse_ts, read_cursor, ts
from leadenrich.jobs.models import Page
from leadenrich.privacy.ports import WorkspaceSettings, WorkspaceSettingsStore

_CONCURRENT_PUTS = 25
_CANDIDATES = 10  # queue rows read per Query
_ROUNDS = 5  # Queries per claim before answering none (every candidate taken by others meanwhile)
_JSON = ("lead", "data", "result", "sources_used", "sources_failed")
_KEY_FIELDS = ("PK", "SK", "GSI1PK", "GSI1SK")
_LEAD_SK = "LEAD#"
_RUN_SK = "RUN#"
_CURSOR_SK = "CURSOR"
_BUFFERED, _CLAIMED, _SERVED = (s.value for s in BufferState)


def queue_pk(workspace_id: str, namespace: str) -> str:
    return f"WS#{workspace_id}#BUFQ#{namespace}"


def served_pk(workspace_id: str) -> str:
    return f"WS#{workspace_id}#SERVED"


def _lead_key(record: LeadRecord) -> dict[str, Any]:
    return row_key(buffer_pk(record.workspace_id, record.namespace), _LEAD_SK + record.lead_key)


def _text(value: Any) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _item(record: LeadRecord, expires_at: int) -> dict[str, Any]:
    row = record_row(record)
    plain = {name: _text(value) if name in _JSON else value for name, value in row.items()}
    plain |= {
        "PK": buffer_pk(record.workspace_id, record.namespace),
        "SK": _LEAD_SK + record.lead_key,
        "GSI1PK": queue_pk(record.workspace_id, record.namespace),
        "GSI1SK": f"{row['pushed_at']}#{record.lead_id}",
        "entity": "buffer_lead",
        TTL_ATTRIBUTE: expires_at,
    }
    return to_attribute_values(plain)


def _record(item: dict[str, Any]) -> LeadRecord:
    return record_of(from_attribute_values(item))


class DynamoLeadBuffer(DynamoTable):
    """`settings`: the workspaces' retention periods (None: the defaults)."""

    def __init__(
        self,
        table_name: str,
        client: Any,
        *,
        serialize_calls: bool = False,
        settings: WorkspaceSettingsStore | None = None,
    ) -> None:
        super().__init__(table_name, client, serialize_calls=serialize_calls)
        self._settings = settings
        self._registry = DynamoServedRegistry(table_name, client, serialize_calls=serialize_calls)

    async def _periods(self, workspace_id: str) -> WorkspaceSettings:
        return await self._settings.get(workspace_id) if self._settings else WorkspaceSettings()

    # --- push ------------------------------------------------------------------------------------------

    async def push(self, workspace_id: str, namespace: str, records: Sequence[LeadRecord]) -> PushCounts:
        registered = await self._registry.served(workspace_id, namespace, [r.lead_key for r in records])
        fresh = [r for r in records if r.lead_key not in registered]
        expires = waiting_expiry(await self._periods(workspace_id), fresh[0].pushed_at) if fresh else 0
        states: list[str | None] = []
        for start in range(0, len(fresh), _CONCURRENT_PUTS):
            chunk = fresh[start : start + _CONCURRENT_PUTS]
            # 25 conditional puts at once: a lead sent twice in one push is written by one and refused to the
            # other (which reads the winner's state: buffered).
            states += await asyncio.gather(*(self._put_new(r, expires) for r in chunk))
        return PushCounts(
            buffered=sum(s is None for s in states),
            already_served=len(records) - len(fresh) + sum(s == _SERVED for s in states),
            already_buffered=sum(s is not None and s != _SERVED for s in states),
        )

    async def _put_new(self, record: LeadRecord, expires_at: int) -> str | None:
        """None when written; else the state of the lead the namespace holds already."""
        try:
            await self._call(
                "put_item",
                TableName=self._table,
                Item=_item(record, expires_at),
                ConditionExpression="attribute_not_exists(PK)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if not condition_failed(exc):
                raise
            old = exc.response.get("Item") or await self.get_row(_lead_key(record)) or {}
            return str(old.get("state", {}).get("S", _BUFFERED))
        return None

    # --- claim -----------------------------------------------------------------------------------------

    async def claim(
        self,
        workspace_id: str,
        namespace: str,
        *,
        parent_run_id: str | None,
        token: str,
        lease_until: datetime,
        now: datetime,
    ) -> LeadRecord | None:
        pk = buffer_pk(workspace_id, namespace)
        for _ in range(_ROUNDS):
            if parent_run_id is not None:
                held = await self._held_by(pk, parent_run_id, lease_until, now)
                if held is not None:
                    return held
            request = self.query_request(
                "#GSI1PK = :q AND #GSI1SK < :ready",
                {":q": queue_pk(workspace_id, namespace), ":ready": f"{ts(now)}$"},
                None,
                IndexName=GSI1,
                ScanIndexForward=True,
                Limit=_CANDIDATES,
            )
            candidates = (await self._call("query", **request)).get("Items", [])
            if not candidates:
                return None
            for candidate in candidates:
                taken = await self._take(candidate, parent_run_id, token, lease_until, now)
                if taken is not None:
                    return taken
                if parent_run_id is not None and await self.get_row(row_key(pk, _RUN_SK + parent_run_id)):
                    break  # another call of this run took a lead meanwhile: the next round answers it
        return None

    async def _held_by(self, pk: str, run: str, lease_until: datetime, now: datetime) -> LeadRecord | None:
        """The run's lead, its lease renewed when still claimed; None when the run holds none (a stale run
        row is deleted on the way). Read again when the lead changed between the read and the renewal."""
        for _ in range(_ROUNDS):
            run_row = await self.get_row(row_key(pk, _RUN_SK + run))
            if run_row is None:
                return None
            key = str(run_row["lead_key"]["S"])
            lead = await self.get_row(row_key(pk, _LEAD_SK + key))
            record = _record(lead) if lead else None
            if record is None or record.parent_run_id != run or record.state is BufferState.BUFFERED:
                await self.conditional_write(
                    "delete_item",
                    TableName=self._table,
                    Key=row_key(pk, _RUN_SK + run),
                    ConditionExpression="lead_key = :key",
                    ExpressionAttributeValues={":key": {"S": key}},
                )
                return None
            if record.state is BufferState.SERVED:
                return record
            renewed = await self.update_row(
                self.update_request(
                    row_key(pk, _LEAD_SK + key),
                    update="SET lease_until = :lease, updated_at = :now, #GSI1SK = :queued",
                    condition="parent_run_id = :run AND #state = :claimed AND claim_token = :token",
                    values={
                        ":lease": ts(lease_until),
                        ":now": ts(now),
                        ":queued": f"{ts(lease_until)}#{record.lead_id}",
                        ":run": run,
                        ":claimed": _CLAIMED,
                        ":token": record.claim_token,
                    },
                ),
                return_new=True,
            )
            if renewed:
                return _record(renewed)
        return None

    async def _take(
        self, candidate: dict[str, Any], run: str | None, token: str, lease_until: datetime, now: datetime
    ) -> LeadRecord | None:
        """Claim one candidate row; None when another caller has it (or, with a run, when the run took
        another lead meanwhile: the caller's next round answers that one)."""
        plain = from_attribute_values(candidate)
        lead_id = str(plain["lead_id"])
        values: dict[str, Any] = {
            ":claimed": _CLAIMED,
            ":buffered": _BUFFERED,
            ":token": token,
            ":lease": ts(lease_until),
            ":now": ts(now),
            ":queued": f"{ts(lease_until)}#{lead_id}",
        }
        update = "SET #state = :claimed, claim_token = :token, lease_until = :lease, updated_at = :now"
        update += ", #GSI1SK = :queued"
        if run is not None:
            update += ", parent_run_id = :run"
            values[":run"] = run
        else:
            update += " REMOVE parent_run_id"
        request = self.update_request(
            row_key(str(plain["PK"]), str(plain["SK"])),
            update=update,
            condition="attribute_exists(PK) AND (#state = :buffered OR "
            "(#state = :claimed AND lease_until < :now))",
            values=values,
        )
        if run is None:
            row = await self.update_row(request, return_new=True)
            return _record(row) if row else None
        run_row = {
            "PK": plain["PK"],
            "SK": _RUN_SK + run,
            "lead_key": str(plain["SK"]).removeprefix(_LEAD_SK),
            "entity": "buffer_run",
        }
        put = {
            "TableName": self._table,
            "Item": to_attribute_values(run_row),
            "ConditionExpression": "attribute_not_exists(PK)",
        }
        if not await self.transact([{"Update": request}, {"Put": put}]):
            return None
        record = _record(candidate)
        return replace(
            record,
            state=BufferState.CLAIMED,
            claim_token=token,
            lease_until=parse_ts(ts(lease_until)),
            parent_run_id=run,
            updated_at=parse_ts(ts(now)),
        )

    # --- serve, discard --------------------------------------------------------------------------------

    async def serve(self, record: LeadRecord, enrichment: Enrichment, now: datetime) -> LeadRecord | None:
        served_at = record.served_at or now
        expires = served_expiry(await self._periods(record.workspace_id), enrichment, now)
        for _ in range(2):
            columns = {
                name: _text(value) if name in _JSON else value
                for name, value in enrichment_columns(enrichment).items()
            }
            sets = [f"#{name} = :{name}" for name, value in columns.items() if value is not None]
            removed = [f"#{name}" for name, value in columns.items() if value is None]
            values: dict[str, Any] = {f":{n}": v for n, v in columns.items() if v is not None}
            values |= {
                ":served": _SERVED,
                ":claimed": _CLAIMED,
                ":token": record.claim_token,
                ":at": ts(served_at),
                ":now": ts(now),
                ":listing": served_pk(record.workspace_id),
                ":position": f"{ts(served_at)}#{record.lead_id}",
                ":expires": expires,
            }
            update = "SET #state = :served, served_at = :at, updated_at = :now, #GSI1PK = :listing"
            update += f", #{TTL_ATTRIBUTE} = :expires"
            update += ", #GSI1SK = :position, " + ", ".join(sets)
            update += " REMOVE " + ", ".join(["lease_until", *removed])
            first = "attribute_not_exists(served_at)" if record.served_at is None else "served_at = :at"
            request = self.update_request(
                _lead_key(record),
                update=update,
                condition=f"claim_token = :token AND #state IN (:claimed, :served) AND {first}",
                values=values,
            )
            # One transaction with the registry's entry: a served lead always has one, a lost claim none.
            if await self.transact(
                [{"Update": request}, {"Update": self._registry.entry(record, served_at)}]
            ):
                row = await self.get_row(_lead_key(record))
                return _record(row) if row else None
            stored = await self.get_row(_lead_key(record))
            current = _record(stored) if stored else None
            if current is None or current.claim_token != record.claim_token or current.served_at is None:
                return None
            # Served meanwhile by this run's other call: keep its served time, take this enrichment.
            record, served_at = current, current.served_at
        return None

    async def discard(self, record: LeadRecord) -> bool:
        delete = {
            "TableName": self._table,
            "Key": _lead_key(record),
            "ConditionExpression": "claim_token = :token AND #state = :claimed",
            "ExpressionAttributeNames": {"#state": "state"},
            "ExpressionAttributeValues": to_attribute_values(
                {":token": record.claim_token, ":claimed": _CLAIMED}
            ),
        }
        actions: list[dict[str, Any]] = [{"Delete": delete}]
        if record.parent_run_id is not None:
            run_key = row_key(
                buffer_pk(record.workspace_id, record.namespace), _RUN_SK + record.parent_run_id
            )
            actions.append({"Delete": {"TableName": self._table, "Key": run_key}})
        return await self.transact(actions)

    # --- the served listing ----------------------------------------------------------------------------

    async def served(self, query: ServedQuery) -> Page[LeadRecord]:
        listing = served_pk(query.workspace_id)
        values: dict[str, Any] = {":pk": listing}
        condition = "#GSI1PK = :pk"
        if query.since is not None and query.until is not None:
            condition += " AND #GSI1SK BETWEEN :since AND :until"
        elif query.since is not None:
            condition += " AND #GSI1SK >= :since"
        elif query.until is not None:
            condition += " AND #GSI1SK < :until"
        values |= {":since": ts(query.since) if query.since else None}
        values |= {":until": ts(query.until) if query.until else None}
        filters = []
        if query.namespace is not None:
            filters.append("#namespace = :namespace")
            values[":namespace"] = query.namespace
        if query.enrichment_status is not None:
            filters.append("enrichment_status = :status")
            values[":status"] = query.enrichment_status.value
        after = after_served(query)
        start_key = None
        if after is not None:
            start_key = to_attribute_values(
                {
                    "PK": buffer_pk(query.workspace_id, after["ns"]),
                    "SK": _LEAD_SK + after["key"],
                    "GSI1PK": listing,
                    "GSI1SK": f"{after['at']}#{after['id']}",
                }
            )
        request = self.query_request(
            condition,
            {k: v for k, v in values.items() if v is not None},
            " AND ".join(filters) or None,
            IndexName=GSI1,
            ScanIndexForward=False,
        )
        rows, next_key = await self.query_page(
            request, limit=query.limit, start_key=start_key, key_fields=_KEY_FIELDS
        )
        records = [_record(row) for row in rows]
        cursor = None
        if next_key is not None:
            key = read_cursor(next_key)
            at, _, lead_id = str(key["GSI1SK"]).rpartition("#")
            namespace = str(key["PK"]).removeprefix(f"WS#{query.workspace_id}#BUF#")
            cursor = position_cursor(query, at, lead_id, namespace, str(key["SK"]).removeprefix(_LEAD_SK))
        return Page(items=records, cursor=cursor)

    # --- cursors ---------------------------------------------------------------------------------------

    async def get_cursor(self, workspace_id: str, namespace: str) -> CursorState | None:
        row = await self.get_row(row_key(buffer_pk(workspace_id, namespace), _CURSOR_SK))
        if row is None:
            return None
        plain = from_attribute_values(row)
        updated_at = parse_ts(plain["updated_at"])
        assert updated_at is not None  # written with its time
        return CursorState(workspace_id, namespace, json.loads(plain["state"]), updated_at)

    async def put_cursor(
        self, workspace_id: str, namespace: str, state: dict[str, Any], now: datetime
    ) -> CursorState:
        item = {
            "PK": buffer_pk(workspace_id, namespace),
            "SK": _CURSOR_SK,
            "entity": "buffer_cursor",
            "state": _text(state),
            "updated_at": ts(now),
        }
        await self._call("put_item", TableName=self._table, Item=to_attribute_values(item))
        return CursorState(workspace_id, namespace, state, parse_ts(ts(now)) or now)


__all__ = ["DynamoLeadBuffer", "buffer_pk", "queue_pk", "served_pk"]
