"""The re-verification sweep (docs/reverification.md): once a day per workspace, the addresses verified more
than `reverify_after_days` ago are verified again, within the workspace's `reverify_monthly_credits`.

Why a verification job and not calls of its own: the job machinery already paces Hunter (the shared
limiter), caps spend (the job's `max_credits`, the workspace's monthly budget), runs in the low priority band
(5) behind the caller's work, survives crashes and time budgets, and counts calls and credits per job. The
sweep only chooses the addresses and, once the job is done, carries its verdicts back to where the
addresses are stored.

One run, for one workspace:
1. *reconcile*: each of the workspace's last `RECONCILE_JOBS` completed sweep jobs (tag `reverify`) not
   reconciled yet has its verdicts written where the addresses are (`ports.ReverifyPlace.apply`); an
   address whose graded verdict changed gets an audit entry (`address.reverified`, actor `processor`,
   the address by its keyed hash) and an `address.changed` notice (`ChangeNotifier`). An inconclusive
   verdict (`unknown`), an opted-out or suppressed address (no verdict) and a failed item change nothing.
   The job is then marked reconciled in the spend ledger (scope `reverify-done:{job}`). Writing a verdict
   twice changes nothing, so a crash half-way is safe;
2. *select*: unless today's (UTC) sweep job exists, today's allowance is what is left of this month's
   budget shared over the days left in the month (so the oldest addresses are spread over the month, not
   spent on the 1st), at the deployment's credits per verification each (`HUNTER_VERIFICATION_CREDIT`: 1
   on Hunter's Data-Platform plans, 0.5 on All-in-one ones; the wiring passes it); the oldest-verified
   addresses, most used first among equals, are taken from every place;
3. *create*: a verification job of them (tag `reverify`, priority 5, `max_credits` the allowance,
   idempotency key `reverify-{date}`), and the allowance is reserved in the ledger (scope
   `reverify:{yyyy-mm}`): the budget counts what a job may spend, never more (a cached verdict is free).
"""

from __future__ import annotations

import calendar
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from leadenrich.jobs.budget import Spend, SpendLedger, utc_month
from leadenrich.jobs.creation import JobCreation
from leadenrich.jobs.models import Item, ItemStatus, Job, JobStatus
from leadenrich.jobs.ports import JobStore
from leadenrich.jobs.requests import MAX_LEADS_PER_JOB, CreateJobRequest
from leadenrich.privacy.identity import email_identity
from leadenrich.privacy.ports import AuditEntry, AuditLog, WorkspaceSettings
from leadenrich.reverify.ports import ReverifyPlace, Rewrite, StaleAddress
from leadenrich.reverify.rules import Verdict, entries

log = logging.getLogger(__name__)

TAG = "reverify"
ACTOR = "processor"
ACTION = "address.reverified"
PRIORITY = 5
CREDITS_PER_VERIFICATION = 0.5  # Hunter's Email Verifier on the All-in-one plans (providers.md, section 5)
RECONCILE_JOBS = 7  # completed sweep jobs looked at per run (a week of daily jobs)
_VERDICT_ITEMS = frozenset({ItemStatus.FOUND, ItemStatus.RISKY, ItemStatus.INVALID})
_INCONCLUSIVE = "unknown"


def reserve_scope(month: str) -> str:
    return f"reverify:{month}"


def done_scope(job_id: str) -> str:
    return f"reverify-done:{job_id}"


def job_key(now: datetime) -> str:
    """Today's sweep job's idempotency key: one job a day per workspace, whoever runs the sweep."""
    return f"reverify-{now.astimezone(UTC):%Y-%m-%d}"


@dataclass(frozen=True)
class AddressChange:
    """A re-verified address whose graded verdict changed: where, from what, to what."""

    workspace_id: str
    email: str
    job_id: str  # the sweep job that re-verified it
    before: Verdict
    after: Verdict
    places: dict[str, int]  # place -> records changed
    lead_ids: tuple[str, ...] = ()
    job_ids: tuple[str, ...] = ()  # the jobs whose items held it
    records: tuple[tuple[str | None, str | None], ...] = ()  # (job id, lead id) of each record changed


class ChangeNotifier(Protocol):
    """Where `address.changed` goes: the signed callbacks of the jobs that stored the address and asked
    for it (`leadenrich.webhooks.address_changed`)."""

    async def address_changed(self, change: AddressChange) -> None: ...


@dataclass
class SweepReport:
    """What one run did, for the log, the CLI and the tests."""

    workspace_id: str
    note: str = ""  # off | ran today | budget spent | nothing stale | job created | dry run
    allowance_credits: float = 0.0
    selected: list[StaleAddress] = field(default_factory=list)
    job_id: str | None = None
    reconciled_jobs: list[str] = field(default_factory=list)
    rewritten: int = 0  # records whose verdict was written (changed or only re-dated)
    changes: list[AddressChange] = field(default_factory=list)


def allowance(monthly: int, reserved: float, now: datetime) -> float:
    """Today's credits: what is left of the month shared over its days left (today included)."""
    now = now.astimezone(UTC)
    days_left = calendar.monthrange(now.year, now.month)[1] - now.day + 1
    return max(0.0, monthly - reserved) / days_left


def ranked(found: Sequence[StaleAddress], limit: int) -> list[StaleAddress]:
    """Every place's stale addresses as one list (oldest time, uses summed), oldest first, most used first
    among equals, then by address (a stable choice)."""
    merged: dict[str, StaleAddress] = {}
    for address in found:
        seen = merged.get(address.email)
        if seen is None:
            merged[address.email] = address
        else:
            merged[address.email] = StaleAddress(
                address.email, min(seen.verified_at, address.verified_at), seen.uses + address.uses
            )
    order = sorted(merged.values(), key=lambda a: (a.verified_at, -a.uses, a.email))
    return order[:limit]


class ReverifySweep:
    """See the module docstring. `places`: where the workspace's addresses are stored."""

    def __init__(
        self,
        places: Sequence[ReverifyPlace],
        jobs: JobCreation,
        store: JobStore,
        ledger: SpendLedger,
        audit: AuditLog,
        notifier: ChangeNotifier | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        *,
        credits_per_verification: float = CREDITS_PER_VERIFICATION,
    ) -> None:
        self.places = list(places)
        self.jobs = jobs
        self.store = store
        self.ledger = ledger
        self.audit = audit
        self.notifier = notifier
        self.clock = clock
        # What the processor counts a verification at: a lower figure here would let the job's own cap
        # (`max_credits`) pause it half-way, and a paused job is never reconciled.
        self.credit = credits_per_verification if credits_per_verification > 0 else CREDITS_PER_VERIFICATION

    async def run(
        self, workspace_id: str, settings: WorkspaceSettings, *, dry_run: bool = False
    ) -> SweepReport:
        now = self.clock()
        report = SweepReport(workspace_id)
        if not dry_run:
            await self.reconcile(workspace_id, report)
        if not settings.reverify_after_days or not settings.reverify_monthly_credits:
            report.note = "off"
            return report
        latest = (await self.store.list_jobs(workspace_id, tag=TAG, limit=1)).items
        if latest and latest[0].created_at.astimezone(UTC).date() == now.astimezone(UTC).date():
            report.note, report.job_id = "ran today", latest[0].job_id
            return report
        scope = reserve_scope(utc_month(now))
        reserved = (await self.ledger.spent(workspace_id, [scope]))[scope].credits
        report.allowance_credits = allowance(settings.reverify_monthly_credits, reserved, now)
        count = min(MAX_LEADS_PER_JOB, math.floor(report.allowance_credits / self.credit))
        if count <= 0:
            report.note = "budget spent"
            return report
        before = now - timedelta(days=settings.reverify_after_days)
        found: list[StaleAddress] = []
        for place in self.places:
            found += await place.stale(workspace_id, before, count)
        report.selected = ranked(found, count)
        if not report.selected:
            report.note = "nothing stale"
            return report
        if dry_run:
            report.note = "dry run"
            return report
        credits = len(report.selected) * self.credit
        request = CreateJobRequest.model_validate(
            {
                "emails": [a.email for a in report.selected],
                "tags": [TAG],
                "priority": PRIORITY,
                "max_credits": credits,
            }
        )
        created = await self.jobs.create_job(workspace_id, request, job_key(now))
        if created.created:
            await self.ledger.add(workspace_id, [scope], Spend(credits=credits))
        report.note, report.job_id = "job created", created.job.job_id
        log.info(
            "reverify job created",
            extra={
                "workspace_id": workspace_id,
                "job": created.job.job_id,
                "addresses": len(report.selected),
            },
        )
        return report

    async def reconcile(self, workspace_id: str, report: SweepReport) -> None:
        """Step 1 of the module docstring, for the workspace's recent completed sweep jobs."""
        recent = (
            await self.store.list_jobs(
                workspace_id, tag=TAG, status=JobStatus.COMPLETED, limit=RECONCILE_JOBS
            )
        ).items
        if not recent:
            return
        done = await self.ledger.spent(workspace_id, [done_scope(j.job_id) for j in recent])
        for job in recent:
            if done[done_scope(job.job_id)].credits > 0:
                continue
            await self._reconcile_job(job, report)
            await self.ledger.add(workspace_id, [done_scope(job.job_id)], Spend(credits=1.0))
            report.reconciled_jobs.append(job.job_id)

    async def _reconcile_job(self, job: Job, report: SweepReport) -> None:
        cursor: str | None = None
        while True:
            page = await self.store.list_items(job.workspace_id, job.job_id, limit=100, cursor=cursor)
            for item in page.items:
                verdict = _verdict(item)
                if verdict is not None and item.lead.email:
                    await self._apply(job, item.lead.email.lower(), verdict, report)
            cursor = page.cursor
            if cursor is None:
                return

    async def _apply(self, job: Job, email: str, verdict: Verdict, report: SweepReport) -> None:
        now = self.clock()
        rewrites: list[Rewrite] = []
        for place in self.places:
            rewrites += await place.apply(job.workspace_id, email, verdict, now)
        report.rewritten += len(rewrites)
        changed = [r for r in rewrites if r.changed]
        if not changed:
            return
        places: dict[str, int] = {}
        for rewrite in changed:
            places[rewrite.place] = places.get(rewrite.place, 0) + 1
        change = AddressChange(
            job.workspace_id,
            email,
            job.job_id,
            changed[0].before,
            verdict,
            places,
            tuple(sorted({r.lead_id for r in changed if r.lead_id})),
            tuple(sorted({r.job_id for r in changed if r.job_id and r.job_id != job.job_id})),
            tuple((r.job_id, r.lead_id) for r in changed),
        )
        report.changes.append(change)
        await self.audit.append(
            AuditEntry(
                workspace_id=job.workspace_id,
                at=now,
                actor=ACTOR,
                action=ACTION,
                target=email_identity(email).key,
                job_id=job.job_id,
                detail={
                    "from": list(change.before.graded()),
                    "to": list(verdict.graded()),
                    "places": places,
                },
            )
        )
        if self.notifier is not None:
            try:
                await self.notifier.address_changed(change)
            except Exception as exc:  # the change is written and audited: a callback problem is logged
                log.error("address.changed not sent", extra={"job": job.job_id, "error": type(exc).__name__})


def _verdict(item: Item) -> Verdict | None:
    """The item's new verdict on its address, when it has a conclusive one."""
    if item.status not in _VERDICT_ITEMS or not item.lead.email:
        return None
    email = item.lead.email.lower()
    for entry in entries(item.result):
        if isinstance(entry, dict) and str(entry.get("email", "")).lower() == email:
            verdict = Verdict.of(entry)
            return None if verdict.hunter_status == _INCONCLUSIVE else verdict
    return None


__all__ = [
    "ACTION",
    "ACTOR",
    "CREDITS_PER_VERIFICATION",
    "TAG",
    "AddressChange",
    "ChangeNotifier",
    "ReverifySweep",
    "SweepReport",
    "allowance",
    "done_scope",
    "job_key",
    "ranked",
    "reserve_scope",
]
