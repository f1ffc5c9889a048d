"""The processor's sweep of leads inserted into Supabase (docs/auto-enrichment.md, migration 0017).

A trigger marks each lead inserted into `leads` (of an opted-in workspace) `pending`; here, in the
processor run's housekeeping, the pending leads without a job are claimed (a conditional update, one
workspace at a time under the workspace's lock, so two processors never claim one lead and a lead inserted
twice is claimed once) and put in one job per workspace, bounded per run. A job that cannot be made (the
daily quota, an outage) gives its claims back as pending: the next run tries again. Failures are counted
by type and never cost the run.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from leadenrich.jobs.creation import JobCreation
from leadenrich.jobs.lead_intake import LeadIntakeStore, create_lead_job
from leadenrich.jobs.reenrich import reenrich_days
from leadenrich.privacy.ports import WorkspaceSettingsStore

log = logging.getLogger(__name__)
AUTO_TAG = "auto-enrich"  # every sweep job carries it: GET /jobs?tag=auto-enrich lists them


@dataclass(frozen=True)
class SweepLimits:
    workspaces: int = 5  # per run
    leads: int = 200  # per workspace and run (the job's items)
    priority: int = 3


@dataclass
class SweepReport:
    jobs: list[str] = field(default_factory=list)
    leads: int = 0
    failed: dict[str, int] = field(default_factory=dict)  # error type: workspaces


class AutoEnrichment:
    """Claims inserted leads into jobs; `store` is Supabase's (`supabase.lead_intake`)."""

    def __init__(
        self,
        creation: JobCreation,
        store: LeadIntakeStore,
        settings: WorkspaceSettingsStore | None = None,
        limits: SweepLimits = SweepLimits(),
    ) -> None:
        self.creation = creation
        self.store = store
        self.settings = settings
        self.limits = limits

    async def run(self, seconds: float) -> SweepReport:
        """Up to `limits.workspaces` workspaces, none started once `seconds` have passed."""
        report = SweepReport()
        started = time.monotonic()
        for workspace_id in await self.store.pending_workspaces(self.limits.workspaces):
            if time.monotonic() - started >= seconds:
                break
            try:
                await self._one(workspace_id, report)
            except Exception as exc:  # the type only: a message may quote a row
                name = type(exc).__name__
                report.failed[name] = report.failed.get(name, 0) + 1
                log.warning("auto-enrichment failed", extra={"error": name})
        return report

    async def _one(self, workspace_id: str, report: SweepReport) -> None:
        days = await reenrich_days(self.settings, workspace_id, force=False)
        job_id = self.creation.new_id()
        leads = await self.store.claim(workspace_id, job_id, self.limits.leads, days)
        if not leads:
            return
        try:
            created = await create_lead_job(
                self.creation, workspace_id, job_id, leads, priority=self.limits.priority, tags=[AUTO_TAG]
            )
        except BaseException:
            await self.store.release(workspace_id, job_id, requeue=True)  # pending again: the next run
            raise
        report.jobs.append(created.job.job_id)
        report.leads += len(leads)


__all__ = ["AUTO_TAG", "AutoEnrichment", "SweepLimits", "SweepReport"]
