"""The item half of `DynamoJobStore`: reading, listing and every item transition, each a conditional
write; a transition that counts (finish, skip, a deferral that spent something, requeue) is one
transaction with its job's counters (and, for a finish, its minute's activity: `dynamo_activity`).
Which items each transition may take is `jobs.item_rules`'.

Retention (`jobs.retention`): an item that finishes or is skipped gets the table's TTL attribute, its
workspace's `results_retention_days` after that moment, read through `settings` (the runtime passes a
`privacy.settings.CachedSettings`, so a finish costs no extra read; without one, the default period); an
item taken back by a requeue loses it again, as does its job.

The review queue (`privacy.review`) is a sparse entry in GSI1: an item whose result has addresses pending
review carries GSI1PK `WS#{workspace}#REVIEW` and GSI1SK `{job_id}#{item_id}` ("#" sorts below every id
character, so key order is (job id, item id) order), set by the finish that stores such a result and
removed by the review that decides its last pending address, or by a requeue. Job rows use other GSI1
partitions (`WS#{workspace}#JOBS`), so neither listing sees the other's rows.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from typing import Any

from leadenrich.aws.dynamo_activity import DynamoActivity
from leadenrich.aws.dynamo_codec import to_attribute_values
from leadenrich.aws.dynamo_job_rows import counter_adds, item_from_attributes
from leadenrich.aws.dynamo_ops import TRANSACT_MAX, one_of
from leadenrich.aws.dynamo_schema import (
    GSI1,
    ITEM_KEY_FIELDS,
    ITEM_SK_PREFIX,
    TTL_ATTRIBUTE,
    item_key,
    job_key,
    job_pk,
)
from leadenrich.jobs import job_rules
from leadenrich.jobs.encoding import MAX_LIMIT, decode_cursor, ts
from leadenrich.jobs.item_rules import CLAIMABLE, HELD, SKIPPABLE, requeued, taken_back
from leadenrich.jobs.models import Item, ItemStatus, JobStatus, Page
from leadenrich.jobs.retention import retention_epoch
from leadenrich.jobs.rows import delta_values
from leadenrich.jobs.store_base import Deferral, Finish, ItemListing, ItemRef, ReviewListing
from leadenrich.privacy.ports import WorkspaceSettings, WorkspaceSettingsStore
from leadenrich.privacy.review import pending_count

_TTL = f"#{TTL_ATTRIBUTE}"
_REVIEW_KEYS = ("PK", "SK", "GSI1PK", "GSI1SK")


def review_gsi_pk(workspace_id: str) -> str:
    """The GSI1 partition of the workspace's review queue."""
    return f"WS#{workspace_id}#REVIEW"


def review_gsi_sk(job_id: str, item_id: str) -> str:
    return f"{job_id}#{item_id}"


class DynamoItems(DynamoActivity):
    """Item operations of the job store's table (a base of `DynamoJobStore`)."""

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

    async def expires_at(self, workspace_id: str, start: datetime) -> int:
        """The TTL of a job or item of the workspace whose retention starts at `start`."""
        settings = await self._settings.get(workspace_id) if self._settings else WorkspaceSettings()
        return retention_epoch(start, settings.results_retention_days)

    def _job_delta_action(
        self, workspace_id: str, job_id: str, adds: dict[str, int | float]
    ) -> dict[str, Any]:
        """ADD the non-zero counters `adds` to the job, as a transaction action."""
        clause, values = counter_adds(adds)
        op = self.update_request(
            job_key(workspace_id, job_id),
            update=f"ADD {clause}",
            condition="attribute_exists(#PK)",
            values=values,
        )
        return {"Update": op}

    async def get_item(self, workspace_id: str, job_id: str, item_id: str) -> Item | None:
        row = await self.get_row(item_key(workspace_id, job_id, item_id))
        return item_from_attributes(row) if row else None

    async def _list_items(self, listing: ItemListing) -> Page[Item]:
        """In input order (item ids are zero-padded); the cursor is the last item's key."""
        statuses = frozenset({listing.status}) if listing.status is not None else None
        rows, next_cursor = await self._query_items(
            listing.workspace_id, listing.job_id, statuses, limit=listing.limit, cursor=listing.cursor
        )
        return Page(items=[item_from_attributes(r) for r in rows], cursor=next_cursor)

    async def _query_items(
        self,
        workspace_id: str,
        job_id: str,
        statuses: frozenset[ItemStatus] | None,
        *,
        limit: int,
        cursor: str | None,
        consistent: bool = False,
    ) -> tuple[list[dict[str, Any]], str | None]:
        pk = job_pk(workspace_id, job_id)
        start_key = None
        if cursor is not None:
            scope, prefix = {"PK": pk}, {"SK": ITEM_SK_PREFIX}
            start_key = to_attribute_values(decode_cursor(cursor, scope, ("SK",), prefix))
        values: dict[str, Any] = {":pk": pk, ":prefix": ITEM_SK_PREFIX}
        filter_expression = None
        if statuses:
            filter_expression, named = one_of("status", "s", statuses)
            values.update(named)
        key_condition = "#PK = :pk AND begins_with(#SK, :prefix)"
        request = self.query_request(key_condition, values, filter_expression, ConsistentRead=consistent)
        return await self.query_page(request, limit=limit, start_key=start_key, key_fields=ITEM_KEY_FIELDS)

    def _take_request(
        self, ref: ItemRef, statuses: frozenset[ItemStatus], update: str, values: dict[str, Any]
    ) -> dict[str, Any]:
        """An update of an item in `statuses`, or held with a lease that expired before `:now` (its
        processor died): what a claim and a skip may take (`item_rules`). An absent item has no status, so
        the condition fails and nothing is created."""
        listed, named = one_of("status", "free", statuses)
        return self.update_request(
            item_key(ref.workspace_id, ref.job_id, ref.item_id),
            update=update,
            condition=f"({listed} OR (#status = :held AND #lease_until < :now))",
            values={**values, **named, ":held": HELD.value},
        )

    async def _claim(self, ref: ItemRef, token: str, lease_until: datetime, now: datetime) -> Item | None:
        """One transaction: the item update (claimable or lease expired) and a ConditionCheck that the job
        is neither cancelled nor paused (`job_rules.HOLDS_ITEMS`). Transactions return no attributes, so
        the claimed item is read back afterwards; if by then another claimer holds it (our lease expired
        already), the claim is reported lost."""
        item_update = self._take_request(
            ref,
            CLAIMABLE,
            "SET #status = :held, #lease_token = :token, #lease_until = :lease_until, #updated_at = :now,"
            " #attempts = #attempts + :one REMOVE #next_attempt_at",
            {":token": token, ":lease_until": ts(lease_until), ":now": ts(now), ":one": 1},
        )
        holds, held_by = one_of("status", "holds", job_rules.HOLDS_ITEMS)
        job_check = self.update_request(
            job_key(ref.workspace_id, ref.job_id),
            condition=f"attribute_exists(#PK) AND NOT {holds}",
            values=held_by,
        )
        if not await self.transact([{"Update": item_update}, {"ConditionCheck": job_check}]):
            return None
        claimed = await self.get_item(ref.workspace_id, ref.job_id, ref.item_id)
        if claimed is None or claimed.lease_token != token:
            return None
        return claimed

    def _held_update(
        self, item: Item, token: str, sets: list[str], removes: list[str], values: dict[str, Any]
    ) -> dict[str, Any]:
        """An update of an item its lease token still holds (running with that token)."""
        return self.update_request(
            item_key(item.workspace_id, item.job_id, item.item_id),
            update=f"SET {', '.join(sets)} REMOVE {', '.join(removes)}",
            condition="#status = :held AND #lease_token = :token",
            values={**values, ":held": HELD.value, ":token": token, ":true": True},
        )

    async def _finish(self, item: Item, token: str, finish: Finish) -> bool:
        """The terminal item update, the job's counters and the minute's activity: one transaction."""
        values: dict[str, Any] = {
            ":status": finish.status.value,
            ":now": ts(finish.now),
            ":expires": await self.expires_at(item.workspace_id, finish.now),
        }
        sets = ["#status = :status", "#updated_at = :now", "#sent_next = :true", f"{_TTL} = :expires"]
        removes = ["#lease_token", "#lease_until", "#next_attempt_at"]
        result = json.dumps(finish.result) if finish.result is not None else None
        for name, value in (("reason", finish.reason), ("result", result)):
            if value is None:
                removes.append(f"#{name}")
            else:
                sets.append(f"#{name} = :{name}")
                values[f":{name}"] = value
        if pending_count(finish.result):  # into the review queue's index
            sets += ["#GSI1PK = :review_pk", "#GSI1SK = :review_sk"]
            values[":review_pk"] = review_gsi_pk(item.workspace_id)
            values[":review_sk"] = review_gsi_sk(item.job_id, item.item_id)
        actions = [{"Update": self._held_update(item, token, sets, removes, values)}]
        adds = delta_values(finish.delta)
        if adds:
            actions.append(self._job_delta_action(item.workspace_id, item.job_id, adds))
        actions.append(self.activity_action(item.workspace_id, finish.delta, finish.now))
        return await self.transact(actions)

    async def _defer(self, item: Item, token: str, deferral: Deferral) -> bool:
        """Every deferral, hand-backs included, is an outcome (`sent_next`): the processor sent the
        successors before. What the attempt spent is counted on the job in the same transaction, once."""
        sets = [
            "#status = :deferred",
            "#reason = :reason",
            "#next_attempt_at = :next",
            "#updated_at = :now",
            "#sent_next = :true",
        ]
        values: dict[str, Any] = {
            ":deferred": ItemStatus.DEFERRED.value,
            ":reason": deferral.reason,
            ":next": ts(deferral.next_attempt_at),
            ":now": ts(deferral.now),
        }
        if not deferral.charge_attempt:
            sets.append("#attempts = #attempts - :one")
            values[":one"] = 1
        op = self._held_update(item, token, sets, ["#lease_token", "#lease_until"], values)
        adds = delta_values(deferral.spent)
        if not adds:
            return await self.update_row(op) is not None
        return await self.transact(
            [{"Update": op}, self._job_delta_action(item.workspace_id, item.job_id, adds)]
        )

    async def _skip(self, ref: ItemRef, reason: str, now: datetime) -> bool:
        """Also an item held with an expired lease: its processor died, and no claim takes an item of a
        cancelled job. Counted processed once, in the same transaction."""
        item_update = self._take_request(
            ref,
            SKIPPABLE,
            "SET #status = :skipped, #reason = :reason, #updated_at = :now, #sent_next = :true,"
            f" {_TTL} = :expires REMOVE #next_attempt_at, #lease_token, #lease_until",
            {
                ":skipped": ItemStatus.SKIPPED.value,
                ":reason": reason,
                ":true": True,
                ":now": ts(now),
                ":expires": await self.expires_at(ref.workspace_id, now),
            },
        )
        counted = self._job_delta_action(ref.workspace_id, ref.job_id, {"processed": 1})
        return await self.transact([{"Update": item_update}, counted])

    async def _requeue(
        self, workspace_id: str, job_id: str, statuses: frozenset[ItemStatus], now: datetime
    ) -> list[Item]:
        """Each item goes back to queued only if it is still in the status it was read in, in the same
        transaction as its job's counters (`item_rules.taken_back`) and the job's return to running. Up
        to 99 items per transaction; if one of them changed meanwhile, that batch is redone item by item
        so the others still go."""
        rows: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            page, cursor = await self._query_items(
                workspace_id, job_id, statuses, limit=MAX_LIMIT, cursor=cursor, consistent=True
            )
            rows += page
            if cursor is None:
                break
        items = [item_from_attributes(r) for r in rows]
        done: list[Item] = []
        batch_size = TRANSACT_MAX - 1
        for start in range(0, len(items), batch_size):
            batch = items[start : start + batch_size]
            if await self.transact(self._requeue_actions(workspace_id, job_id, batch, now)):
                done += batch
                continue
            for item in batch:
                if await self.transact(self._requeue_actions(workspace_id, job_id, [item], now)):
                    done.append(item)
        return [requeued(item, now) for item in done]

    def _requeue_actions(
        self, workspace_id: str, job_id: str, items: list[Item], now: datetime
    ) -> list[dict[str, Any]]:
        actions: list[dict[str, Any]] = []
        for item in items:
            op = self.update_request(
                item_key(workspace_id, job_id, item.item_id),
                update=(
                    "SET #status = :queued, #attempts = :zero, #updated_at = :now"
                    f" REMOVE #reason, #result, #lease_token, #lease_until, #next_attempt_at, {_TTL},"
                    " #GSI1PK, #GSI1SK"
                ),
                condition="#status = :seen",
                values={
                    ":queued": ItemStatus.QUEUED.value,
                    ":zero": 0,
                    ":now": ts(now),
                    ":seen": item.status.value,
                },
            )
            actions.append({"Update": op})
        clause, values = counter_adds(delta_values(taken_back(Counter(item.status for item in items))))
        op = self.update_request(
            job_key(workspace_id, job_id),
            update=f"SET #status = :running REMOVE #completed_at, {_TTL} ADD {clause}",
            condition="attribute_exists(#PK)",
            values={":running": JobStatus.RUNNING.value, **values},
        )
        actions.append({"Update": op})
        return actions

    async def _replace_result(
        self, ref: ItemRef, expected: dict[str, Any], result: dict[str, Any], now: datetime
    ) -> bool:
        """A conditional update on the result's exact stored text, read first and compared decoded; the
        review queue's keys set while addresses are pending, removed with the last one."""
        key = item_key(ref.workspace_id, ref.job_id, ref.item_id)
        row = await self.get_row(key)
        stored = row.get("result", {}).get("S") if row else None
        if stored is None or json.loads(stored) != expected:
            return False
        values: dict[str, Any] = {":result": json.dumps(result), ":now": ts(now), ":stored": stored}
        update = "SET #result = :result, #updated_at = :now"
        if pending_count(result):
            update += ", #GSI1PK = :review_pk, #GSI1SK = :review_sk"
            values[":review_pk"] = review_gsi_pk(ref.workspace_id)
            values[":review_sk"] = review_gsi_sk(ref.job_id, ref.item_id)
        else:
            update += " REMOVE #GSI1PK, #GSI1SK"
        request = self.update_request(key, update=update, condition="#result = :stored", values=values)
        return await self.update_row(request) is not None

    async def _review_queue(self, listing: ReviewListing) -> Page[Item]:
        """A Query of the workspace's review partition of GSI1, after the cursor's (job, item) key."""
        values: dict[str, Any] = {":pk": review_gsi_pk(listing.workspace_id)}
        condition = "#GSI1PK = :pk"
        after = listing.after()
        if after is not None:
            condition += " AND #GSI1SK > :after"
            values[":after"] = review_gsi_sk(*after)
        request = self.query_request(condition, values, None, IndexName=GSI1, ScanIndexForward=True)
        rows, _ = await self.query_page(
            request, limit=listing.limit + 1, start_key=None, key_fields=_REVIEW_KEYS
        )
        return listing.page([item_from_attributes(row) for row in rows])


__all__ = ["DynamoItems", "review_gsi_pk", "review_gsi_sk"]
