"""`address.changed`: the re-verification sweep's `ChangeNotifier` (docs/reverification.md), sent through
the signed callbacks' outbox.

Who gets it: each job whose stored results held the address and that asked for the event
(`webhook_events` with `address.changed`, beside its `webhook_url`), one event per job, naming that job. A
job is how a caller subscribes to what it stored; there is no workspace-wide webhook. An address known only
from Supabase `emails` (JOB_STORE=supabase) has no job to tell, so nothing is sent for it (the change is
still written and audited).

How: the event is put in the outbox due at once (`WebhookLog.schedule_once`), never sent inline, so the
sweep waits on no receiver; the processor's callback share sends it (the same run when the sweep ran
before the drain), signed with the workspace's secret, retried with backoff like `job.completed`, each
attempt recorded with the job (`GET /jobs/{id}` `callbacks`). Its event id is derived from the job, the
sweep job and the address's keyed hash, so reconciling the same sweep job twice owes it once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from leadenrich.jobs.models import ADDRESS_CHANGED, Job
from leadenrich.privacy.identity import email_identity
from leadenrich.reverify.service import AddressChange
from leadenrich.reverify.views import AddressChangedData, AddressChangedEvent, VerdictView
from leadenrich.webhooks.outbound import Delivery, WebhookLog, occurrence_id

log = logging.getLogger(__name__)


class JobReader(Protocol):
    async def get_job(self, workspace_id: str, job_id: str) -> Job | None: ...


def address_changed_event(change: AddressChange, job: Job, event_id: str, at: datetime) -> str:
    """The JSON body for `job` (its own records' lead ids only)."""
    leads = sorted({lead for held, lead in change.records if held == job.job_id and lead})
    event = AddressChangedEvent(
        type=ADDRESS_CHANGED,
        id=event_id,
        timestamp=at,
        data=AddressChangedData(
            email=change.email,
            previous=VerdictView.of(change.before),
            current=VerdictView.of(change.after),
            job_id=job.job_id,
            lead_ids=leads,
            reverification_job_id=change.job_id,
            changed_at=at,
        ),
    )
    return event.body()


class AddressChangedCallbacks:
    """See the module docstring."""

    def __init__(
        self,
        jobs: JobReader,
        outbox: WebhookLog,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.jobs = jobs
        self.outbox = outbox
        self.clock = clock

    async def address_changed(self, change: AddressChange) -> None:
        occurrence = f"{change.job_id}/{email_identity(change.email).key}"
        for job_id in change.job_ids:
            job = await self.jobs.get_job(change.workspace_id, job_id)
            url = job.options.webhook_url if job is not None else None
            if job is None or url is None or not job.options.wants(ADDRESS_CHANGED):
                continue
            now = self.clock()
            event_id = occurrence_id(job, ADDRESS_CHANGED, occurrence)
            delivery = Delivery(
                job.workspace_id, job.job_id, url, event_id, address_changed_event(change, job, event_id, now)
            )
            if await self.outbox.schedule_once(delivery, now):
                log.info("address.changed owed", extra={"job": job.job_id, "reverify_job": change.job_id})
            else:
                log.info("address.changed owed already", extra={"job": job.job_id})


__all__ = ["AddressChangedCallbacks", "address_changed_event"]
