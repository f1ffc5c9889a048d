"""The buffer's rules (docs/buffer.md): push with de-duplication, serve one lead per call with a lease,
enrich it first when it holds no active address, never serve a suppressed person.

- Push: each lead's identity (`models.lead_key`) is buffered once per namespace; a lead the namespace served
  before is skipped (the registry), one buffered or claimed already is not buffered twice, and one whose
  company, person or address is suppressed is not stored at all (one read of the lists for the push).
- Next: the store claims the namespace's oldest claimable lead under a lease (`LEASE_SECONDS`), atomically,
  so no lead goes to two callers; a claim whose caller died is claimable again once its lease ran out. A
  `parent_run_id` makes the call safe to retry: the run's lead comes back, never a second one. The claimed
  lead is screened again (a suppression added since the push): a suppressed one is deleted, never served,
  and the next one is claimed. A lead without an active address is enriched within the call's deadline
  (`enrichment`), then served with its enrichment, whatever it came to.
- Reads (a served lead, the served listing) go out as `privacy.withholding` has job results go out: a lead
  whose company, person or address was suppressed after it was served is left out of the listing, and
  addresses suppressed since they were found are left out of a lead's enrichment (counted `withheld` in its
  result; a found lead left without a verified address reads `risky`, without any `not_found`).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from leadenrich.buffer.enrichment import (
    NO_PROVIDER,
    Engine,
    enrich,
    not_enriched,
    suppressed_leads,
)
from leadenrich.buffer.models import (
    LEASE_SECONDS,
    BufferState,
    CursorState,
    Enrichment,
    LeadRecord,
    ServedQuery,
    lead_key,
    new_lead_ids,
)
from leadenrich.buffer.ports import LeadBuffer
from leadenrich.buffer.requests import NextRequest, PushRequest
from leadenrich.deadline import Deadline
from leadenrich.engine.budget import SpendGate
from leadenrich.engine.screen import Screen
from leadenrich.jobs.encoding import check_limit
from leadenrich.jobs.models import Page
from leadenrich.privacy.review import addresses
from leadenrich.privacy.withholding import screened_addresses, without_addresses

log = logging.getLogger(__name__)

# The enrichment's share of a `next` call: API Gateway gives up at 29 s (the function's timeout); the store's
# claim and serve, and a cold start, take the rest.
ENRICH_SECONDS = 20.0
MAX_PASSES = 25  # leads one call may pass over (suppressed, or a claim lost meanwhile) before answering none


@dataclass(frozen=True)
class PushResult:
    buffered: int
    skipped_already_served: int
    skipped_already_buffered: int
    skipped_suppressed: int


class BufferService:
    """`engine` is asked for the engine only when a lead needs enriching (None: no provider configured);
    `screen` makes a workspace's suppression screen, `gate` its spend gate (None: neither is checked)."""

    def __init__(
        self,
        store: LeadBuffer,
        *,
        engine: Callable[[], Engine | None] | None = None,
        screen: Callable[[str], Screen] | None = None,
        gate: Callable[[str], SpendGate] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        lease_seconds: float = LEASE_SECONDS,
        enrich_seconds: float = ENRICH_SECONDS,
    ) -> None:
        self.store = store
        self._engine = engine
        self._screen = screen
        self._gate = gate
        self.clock = clock
        self.lease_seconds = lease_seconds
        self.enrich_seconds = enrich_seconds

    async def push(self, workspace_id: str, request: PushRequest) -> PushResult:
        now = self.clock()
        leads = [item.lead() for item in request.leads]
        screen = self._screen(workspace_id) if self._screen else None
        blocked = await suppressed_leads(screen, leads)
        ids = new_lead_ids(now, len(leads))
        records = [
            LeadRecord(
                workspace_id=workspace_id,
                namespace=request.namespace,
                lead_id=lead_id,
                lead_key=lead_key(lead),
                lead=lead,
                state=BufferState.BUFFERED,
                pushed_at=now,
                data=item.data,
                updated_at=now,
            )
            for item, lead, lead_id, out in zip(request.leads, leads, ids, blocked, strict=True)
            if not out
        ]
        counts = await self.store.push(workspace_id, request.namespace, records)
        return PushResult(
            buffered=counts.buffered,
            skipped_already_served=counts.already_served,
            skipped_already_buffered=counts.already_buffered,
            skipped_suppressed=sum(blocked),
        )

    async def next(self, workspace_id: str, request: NextRequest) -> LeadRecord | None:
        """The lead served to this call (or this run), enriched; None when the namespace has none left."""
        deadline = Deadline.after(self.enrich_seconds)
        screen = self._screen(workspace_id) if self._screen else None
        for _ in range(MAX_PASSES):
            now = self.clock()
            record = await self.store.claim(
                workspace_id,
                request.namespace,
                parent_run_id=request.parent_run_id,
                token=uuid.uuid4().hex,
                lease_until=now + timedelta(seconds=self.lease_seconds),
                now=now,
            )
            if record is None:
                return None
            if (await suppressed_leads(screen, [record.lead]))[0]:
                if record.state is BufferState.SERVED:
                    return None  # served to this run before, suppressed since: not served again
                await self.store.discard(record)  # a suppression added since the push: never served
                log.info("suppressed lead dropped from the buffer", extra={"workspace_id": workspace_id})
                continue
            if record.state is BufferState.SERVED and record.enrichment.final:
                return (await _withheld(screen, [record]))[0]  # a retried run's lead, enrichment done
            enrichment = record.enrichment
            if not enrichment.final and not enrichment.has_active_address:
                enrichment = await self._enrich(record, deadline, screen)
            served = await self.store.serve(record, enrichment, self.clock())
            if served is not None:
                log.info(
                    "lead served",
                    extra={
                        "workspace_id": workspace_id,
                        "lead_id": served.lead_id,
                        "enrichment_status": served.enrichment.status.value,
                    },
                )
                return (await _withheld(screen, [served]))[0]
            # Our lease ran out while enriching and another caller took the lead: it is theirs now.
        return None

    async def _enrich(self, record: LeadRecord, deadline: Deadline, screen: Screen | None) -> Enrichment:
        engine = self._engine() if self._engine else None
        if engine is None:
            return not_enriched(NO_PROVIDER, self.clock())
        budget = self._gate(record.workspace_id) if self._gate else None
        return await enrich(engine, record.lead, deadline, budget=budget, screen=screen, now=self.clock)

    async def served(self, query: ServedQuery) -> Page[LeadRecord]:
        """ValueError naming the field: a limit out of range, a time range that holds nothing."""
        check_limit(query.limit)
        if query.since is not None and query.until is not None and query.since >= query.until:
            raise ValueError("until: must be after since")
        page = await self.store.served(query)
        screen = self._screen(query.workspace_id) if self._screen else None
        blocked = await suppressed_leads(screen, [record.lead for record in page.items])
        shown = [record for record, out in zip(page.items, blocked, strict=True) if not out]
        return Page(items=await _withheld(screen, shown), cursor=page.cursor)

    async def cursor(self, workspace_id: str, namespace: str) -> CursorState | None:
        return await self.store.get_cursor(workspace_id, namespace)

    async def put_cursor(self, workspace_id: str, namespace: str, state: dict[str, Any]) -> CursorState:
        return await self.store.put_cursor(workspace_id, namespace, state, self.clock())


async def _withheld(screen: Screen | None, records: Sequence[LeadRecord]) -> list[LeadRecord]:
    """The records without the addresses suppressed since they were found (module docstring)."""
    found = [a for record in records for a in addresses(record.enrichment.result)]
    dropped = await screened_addresses(screen, found) if screen is not None and found else set()
    if not dropped:
        return list(records)
    return [_without(record, dropped) for record in records]


def _without(record: LeadRecord, dropped: set[str]) -> LeadRecord:
    result = record.enrichment.result
    if result is None or not any(a.get("email") in dropped for a in addresses(result)):
        return record
    return replace(record, enrichment=replace(record.enrichment, result=without_addresses(result, dropped)))


__all__ = ["ENRICH_SECONDS", "MAX_PASSES", "BufferService", "PushResult"]
