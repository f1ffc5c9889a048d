"""Enrichment on creation (docs/auto-enrichment.md): `POST /leads` and the sweep of leads inserted into
Supabase, each putting a lead in a job once.

Where a created lead lives: with Supabase, in `leads` (matched to a stored lead by the rule of POST /jobs'
inline leads, `register_leads`); the lead row records that it is `pending` in a job (a conditional update
in the same transaction, `intake_leads`), so a duplicate that is in a job already, or was enriched within
the workspace's `reenrich_after_days`, is not enqueued again. Without Supabase (DynamoDB, SQLite) a lead's
only home is its job's item, as POST /jobs' inline leads: duplicates within a request are enqueued once,
across requests the engine's cache makes a repeat cost nothing but the item.

One job per request (or per workspace and sweep), created by the job service's own path (quota, queue
window, idempotency), with the claims bound to its id beforehand: a job that is not made gives them back.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from leadenrich.engine.domains import DomainError, normalize_domain
from leadenrich.engine.models import Lead
from leadenrich.jobs.creation import (
    ITEM_ID_WIDTH,
    Created,
    IdempotentLookup,
    JobCreation,
    _same_request,
)
from leadenrich.jobs.models import Item, Job, SourcedLead
from leadenrich.jobs.reenrich import reenrich_days
from leadenrich.jobs.requests import CreateJobRequest
from leadenrich.privacy.ports import WorkspaceSettingsStore

Outcome = Literal["created", "duplicate"]
# Why a lead was not enqueued: in a job already (`pending`), enriched within the window (`recent`), or given
# earlier in the same request (`repeated`).
NotEnqueued = Literal["pending", "recent", "repeated"]
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IntakeRow:
    """One lead of a request as the lead store registered it."""

    lead_id: str | None  # None without a lead store: the lead lives in its item only
    created: bool
    enqueued: bool
    reason: NotEnqueued | None = None


@dataclass(frozen=True)
class LeadOutcome:
    index: int
    lead_id: str | None
    outcome: Outcome
    enqueued: bool
    reason: NotEnqueued | None


@dataclass(frozen=True)
class Intake:
    """What POST /leads did: its job (None when no lead was enqueued) and each lead's outcome (empty for a
    replay of an Idempotency-Key: the first answer had them)."""

    job: Job | None
    replayed: bool
    leads: tuple[LeadOutcome, ...] = ()


class LeadIntakeStore(Protocol):
    """Supabase's `leads` as the home of created leads (migration 0017)."""

    async def intake(
        self, workspace_id: str, leads: Sequence[Lead], job_id: str, reenrich_after_days: int
    ) -> list[IntakeRow]:
        """Match or add each lead, and claim for `job_id` those to enqueue; one row each, input order."""
        ...

    async def release(self, workspace_id: str, job_id: str, *, requeue: bool) -> int:
        """Give back the claims of a job that was not made (requeue: pending again, for the sweep)."""
        ...

    async def pending_workspaces(self, limit: int) -> list[str]:
        """Workspaces with inserted leads waiting for a job, oldest first."""
        ...

    async def claim(
        self, workspace_id: str, job_id: str, limit: int, reenrich_after_days: int
    ) -> list[SourcedLead]:
        """Up to `limit` waiting leads claimed for `job_id` (duplicates of a lead in a job left out)."""
        ...


def request_fingerprint(body: dict[str, object]) -> str:
    """The request as validated, canonical JSON hashed (an Idempotency-Key's replay must repeat it)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"POST /leads {canonical}".encode()).hexdigest()


def identity(lead: Lead) -> tuple[str, ...]:
    """register_leads' match as a key: the external id, else the domain (or, without one, the company
    name) and the names, case-insensitive."""
    if lead.external_id:
        return ("external", lead.external_id.strip())
    try:
        place = ("domain", normalize_domain(lead.domain)) if lead.domain else None
    except DomainError:
        place = ("domain", lead.domain.strip().lower())
    place = place or ("company", (lead.company_name or "").strip().lower())
    return (*place, (lead.first_name or "").strip().lower(), (lead.last_name or "").strip().lower())


def deduplicated(leads: Sequence[Lead]) -> list[IntakeRow]:
    """Without a lead store: the first of each lead is enqueued, a repeat within the request is not."""
    seen: set[tuple[str, ...]] = set()
    rows: list[IntakeRow] = []
    for lead in leads:
        key = identity(lead)
        first = key not in seen
        seen.add(key)
        rows.append(IntakeRow(None, created=first, enqueued=first, reason=None if first else "repeated"))
    return rows


async def create_lead_job(
    creation: JobCreation,
    workspace_id: str,
    job_id: str,
    leads: Sequence[SourcedLead | Lead],
    *,
    priority: int,
    tags: Sequence[str],
    idempotency_key: str | None = None,
    fingerprint: str | None = None,
) -> Created:
    """A job holding `leads` (a SourcedLead keeps its stored lead's id), with the id its claims are bound to,
    stored and enqueued by the job service (quota, queue window, idempotency conflict)."""
    request = CreateJobRequest.model_validate(
        {
            "leads": [_lead_of(lead).model_dump(exclude_none=True) for lead in leads],
            "priority": priority,
            "tags": list(tags),
        }
    )
    basis = await creation._lawful_basis(workspace_id, request)
    job = creation._new_job(workspace_id, request, idempotency_key, len(leads), basis)
    job = dataclasses.replace(
        job, job_id=job_id, request_fingerprint=fingerprint if idempotency_key is not None else None
    )
    width = max(ITEM_ID_WIDTH, len(str(len(leads))))
    items = [
        Item(
            workspace_id,
            job_id,
            f"{n:0{width}d}",
            lead=_lead_of(lead),
            lead_id=lead.lead_id if isinstance(lead, SourcedLead) else None,
        )
        for n, lead in enumerate(leads)
    ]
    return await creation._store_and_enqueue(job, items, None)


def _lead_of(lead: SourcedLead | Lead) -> Lead:
    return lead.lead if isinstance(lead, SourcedLead) else lead


class LeadIntake:
    """POST /leads over the job service; `store` is None without Supabase."""

    def __init__(
        self,
        creation: JobCreation,
        store: LeadIntakeStore | None,
        settings: WorkspaceSettingsStore | None = None,
    ) -> None:
        self.creation = creation
        self.store = store
        self.settings = settings

    async def create(
        self,
        workspace_id: str,
        leads: Sequence[Lead],
        *,
        priority: int,
        tags: Sequence[str],
        fingerprint: str,
        idempotency_key: str | None = None,
    ) -> Intake:
        """Register the leads, enqueue the new ones in one job; a replayed Idempotency-Key answers the job
        it made (IdempotencyKeyReused when the body differs). LeadStoreError when Supabase fails."""
        replay = await self._replay(workspace_id, idempotency_key, fingerprint)
        if replay is not None:
            return replay
        job_id = self.creation.new_id()
        if self.store is None:
            rows = deduplicated(leads)
        else:
            days = await reenrich_days(self.settings, workspace_id, force=False)
            rows = await self.store.intake(workspace_id, leads, job_id, days)
        outcomes = tuple(
            LeadOutcome(n, row.lead_id, "created" if row.created else "duplicate", row.enqueued, row.reason)
            for n, row in enumerate(rows)
        )
        chosen: list[SourcedLead | Lead] = [
            SourcedLead(row.lead_id, lead) if row.lead_id is not None else lead
            for row, lead in zip(rows, leads, strict=True)
            if row.enqueued
        ]
        if not chosen:
            return Intake(None, replayed=False, leads=outcomes)
        try:
            created = await create_lead_job(
                self.creation,
                workspace_id,
                job_id,
                chosen,
                priority=priority,
                tags=tags,
                idempotency_key=idempotency_key,
                fingerprint=fingerprint,
            )
        except BaseException:
            await self._release(workspace_id, job_id)
            raise
        if not created.created:  # a concurrent request with the same key made its job first
            await self._release(workspace_id, job_id)
            return Intake(created.job, replayed=True)
        return Intake(created.job, replayed=False, leads=outcomes)

    async def _replay(self, workspace_id: str, key: str | None, fingerprint: str) -> Intake | None:
        store = self.creation.store
        if key is None or not isinstance(store, IdempotentLookup):
            return None
        earlier = await store.job_for_idempotency_key(workspace_id, key)
        if earlier is None:
            return None
        probe = dataclasses.replace(earlier, request_fingerprint=fingerprint)
        return Intake(_same_request(probe, earlier), replayed=True)

    async def _release(self, workspace_id: str, job_id: str) -> None:
        """Best effort: a claim left behind lapses after a day (the next POST of the lead takes it)."""
        if self.store is None:
            return
        try:
            await self.store.release(workspace_id, job_id, requeue=False)
        except Exception as exc:  # the type only: the job's failure is the answer
            log.warning("lead claims not released", extra={"error": type(exc).__name__, "job": job_id})


__all__ = [
    "Intake",
    "IntakeRow",
    "LeadIntake",
    "LeadIntakeStore",
    "LeadOutcome",
    "NotEnqueued",
    "create_lead_job",
    "deduplicated",
    "identity",
    "request_fingerprint",
]
