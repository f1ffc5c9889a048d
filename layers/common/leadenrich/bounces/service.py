"""What a workspace's bounce feedback changes, in order (docs/bounces.md, "Effects"). Every effect is
scoped to the workspace whose sending tool sent it and is idempotent: the webhook records each event id once
(`EventLog.record_event`), and each effect done twice leaves what it left once, so a retry after a failure
half-way is safe.

For each hard bounce:

1. the address is added to the workspace's suppression list (reason `bounce`) *first*, so no job of the
   workspace running meanwhile, nor the re-queued one, can return it again;
2. it is marked undeliverable wherever the workspace stores it (`ports.BouncedAddresses`: job items on
   every store, Supabase `emails`);
3. when one of those was our guess (the domain's pattern, a permutation), the domain's pattern loses trust:
   a "pattern bounced" fact in the provider cache (`ResultCache.put_pattern_bounced`) makes the next lead
   on the domain, of any workspace, verify a pattern guess instead of trusting it. The verification cache
   entry of the address itself is left alone: one workspace's webhook must not decide for every workspace
   that an address is dead (its mail may have bounced for a reason of its own: its sending domain
   blocklisted, a typo in its list); the pattern fact only makes the engine check harder, at the price of
   a verification;
4. when the workspace's `requeue_on_bounce` is on, the leads that held the address are enriched again in
   a new job (tag `bounce-requeue`), which the suppression keeps from finding the same address; the job's
   idempotency key is the address's, so a second bounce of it never makes a second job.

A complaint (spam report) is added to the suppression list (reason `complaint`) and changes nothing else:
the address works, its owner does not want the mail. A soft bounce changes nothing. Every event, of each
kind, gets an entry in the audit trail (`bounce.hard`, `bounce.soft`, `bounce.complaint`; actor `webhook`)
naming the address only by its keyed hash.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pydantic import ValidationError

from leadenrich.auth.quota import QuotaExceeded
from leadenrich.bounces.models import BounceEvent, BounceKind
from leadenrich.bounces.ports import BouncedAddresses, Holding
from leadenrich.engine.cache import ResultCache
from leadenrich.engine.models import Lead
from leadenrich.jobs.creation import JobCreation
from leadenrich.jobs.errors import IdempotencyKeyReused, RequestRejected
from leadenrich.jobs.requests import MAX_LEADS_PER_JOB, CreateJobRequest, JobLead
from leadenrich.privacy.identity import email_identity
from leadenrich.privacy.ports import (
    AuditEntry,
    AuditLog,
    Suppression,
    SuppressionList,
    SuppressionReason,
    WorkspaceSettings,
)

log = logging.getLogger(__name__)

ACTOR = "webhook"
REQUEUE_TAG = "bounce-requeue"
_AUDIT_AT_ONCE = 8  # audit appends in flight at a time (a SendGrid batch can carry hundreds of events)
_REASONS = {BounceKind.HARD: SuppressionReason.BOUNCE, BounceKind.COMPLAINT: SuppressionReason.COMPLAINT}


@dataclass(frozen=True)
class Requeue:
    """A hard-bounced address's re-queue: the job made (or made before, for the same address), or why none."""

    job_id: str | None = None
    note: str | None = None  # off | no stored lead | quota reached | refused: ...


@dataclass
class BounceReport:
    """What one request's new events changed, for the answer, the log and the tests."""

    events: int = 0
    suppressed: int = 0  # new suppression entries
    marked: dict[str, int] = field(default_factory=dict)  # place -> addresses marked by this call
    doubted_domains: list[str] = field(default_factory=list)
    requeued: dict[str, Requeue] = field(default_factory=dict)  # address -> its re-queue


def requeue_key(email: str) -> str:
    """The re-queue job's idempotency key: the address's keyed hash, never the address."""
    return "bounce-" + email_identity(email).key.removeprefix("e:")[:32]


def _domain(email: str) -> str:
    return email.rpartition("@")[2]


def _unique(emails: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(emails))


class BounceService:
    """See the module docstring. `places`: the stores that hold the workspace's addresses; `jobs`: the job
    service a re-queue goes through (None: no re-queue, whatever the setting says)."""

    def __init__(
        self,
        places: Sequence[BouncedAddresses],
        suppressions: SuppressionList,
        audit: AuditLog,
        patterns: ResultCache,
        jobs: JobCreation | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.places = list(places)
        self.suppressions = suppressions
        self.audit = audit
        self.patterns = patterns
        self.jobs = jobs
        self.clock = clock

    async def apply(
        self,
        workspace_id: str,
        provider: str,
        events: Sequence[BounceEvent],
        settings: WorkspaceSettings,
        *,
        source_ip: str | None = None,
    ) -> BounceReport:
        """The effects of `events` (new ones: the caller recorded their ids) for the workspace."""
        now = self.clock()
        report = BounceReport(events=len(events))
        hard = _unique(e.email for e in events if e.kind is BounceKind.HARD)
        complained = [e for e in _unique(e.email for e in events if e.kind is BounceKind.COMPLAINT)]
        entries = [Suppression(workspace_id, email_identity(e), _REASONS[BounceKind.HARD], now) for e in hard]
        entries += [
            Suppression(workspace_id, email_identity(e), _REASONS[BounceKind.COMPLAINT], now)
            for e in complained
            if e not in hard
        ]
        if entries:
            report.suppressed = await self.suppressions.add(entries)
        holdings: list[Holding] = []
        if hard:
            for place in self.places:
                holdings += await place.mark_undeliverable(workspace_id, hard, now)
        for holding in holdings:
            if holding.changed:
                report.marked[holding.place] = report.marked.get(holding.place, 0) + 1
        report.doubted_domains = sorted({_domain(h.email) for h in holdings if h.guessed})
        for domain in report.doubted_domains:
            await self.patterns.put_pattern_bounced(domain)
        for email in hard:
            report.requeued[email] = await self._requeue(
                workspace_id, email, [h for h in holdings if h.email == email], settings
            )
        await self._audit(workspace_id, provider, events, holdings, report, now, source_ip)
        log.info(
            "bounce feedback applied",
            extra={
                "workspace_id": workspace_id,
                "provider": provider,
                "events": len(events),
                "hard": len(hard),
                "complaints": len(complained),
                "suppressed": report.suppressed,
                "marked": report.marked,
                "doubted_domains": report.doubted_domains,
                "requeued_jobs": sorted({r.job_id for r in report.requeued.values() if r.job_id}),
            },
        )
        return report

    async def _requeue(
        self, workspace_id: str, email: str, holdings: list[Holding], settings: WorkspaceSettings
    ) -> Requeue:
        if not settings.requeue_on_bounce or self.jobs is None:
            return Requeue(note="off")
        body: dict[str, object]
        if self.jobs.leads is not None:  # Supabase: every enriched lead is a stored one
            lead_ids = sorted({h.lead_id for h in holdings if h.lead_id})
            body = {"lead_ids": lead_ids[:MAX_LEADS_PER_JOB]}
        else:
            leads = _job_leads(h.lead for h in holdings if h.lead is not None and h.lead.email is None)
            body = {"leads": leads[:MAX_LEADS_PER_JOB]}
        if not any(body.values()):
            return Requeue(note="no lead held the address")
        try:
            request = CreateJobRequest.model_validate({**body, "tags": [REQUEUE_TAG]})
            created = await self.jobs.create_job(workspace_id, request, requeue_key(email))
        except IdempotencyKeyReused:  # made before for this address, from other leads
            return Requeue(note="requeued before")
        except QuotaExceeded:
            return Requeue(note="daily lead quota reached")
        except (RequestRejected, ValidationError) as exc:
            return Requeue(note=f"refused: {type(exc).__name__}")
        return Requeue(job_id=created.job.job_id)

    async def _audit(
        self,
        workspace_id: str,
        provider: str,
        events: Sequence[BounceEvent],
        holdings: list[Holding],
        report: BounceReport,
        now: datetime,
        source_ip: str | None,
    ) -> None:
        gate = asyncio.Semaphore(_AUDIT_AT_ONCE)

        async def append(event: BounceEvent) -> None:
            detail: dict[str, object] = {"provider": provider, "event_id": event.event_id}
            if event.detail:
                detail["type"] = event.detail
            requeue = report.requeued.get(event.email) if event.kind is BounceKind.HARD else None
            if requeue is not None:
                mine = [h for h in holdings if h.email == event.email]
                places = sorted({h.place for h in mine})
                detail["held"] = {p: sum(1 for h in mine if h.place == p) for p in places}
                detail["pattern_doubted"] = any(h.guessed for h in mine)
                detail["requeue"] = {"job_id": requeue.job_id} if requeue.job_id else {"note": requeue.note}
            detail["suppressed"] = event.kind is not BounceKind.SOFT
            entry = AuditEntry(
                workspace_id=workspace_id,
                at=now,
                actor=ACTOR,
                action=f"bounce.{event.kind.value}",
                target=email_identity(event.email).key,
                job_id=requeue.job_id if requeue else None,
                source_ip=source_ip,
                detail=detail,
            )
            async with gate:
                await self.audit.append(entry)

        await asyncio.gather(*(append(event) for event in events))


def _job_leads(leads: Iterable[Lead]) -> list[dict[str, object]]:
    """The leads as a job request takes them, each once; a lead no request could hold is left out."""
    found: dict[str, dict[str, object]] = {}
    for lead in leads:
        fields = {k: v for k, v in lead.model_dump(exclude_none=True).items() if k != "email"}
        try:
            JobLead.model_validate(fields)
        except ValidationError:
            continue
        found.setdefault(repr(sorted(fields.items())), fields)
    return list(found.values())


__all__ = ["ACTOR", "REQUEUE_TAG", "BounceReport", "BounceService", "Requeue", "requeue_key"]
