"""What `GET /audit` answers: a page of the workspace's audit entries (`leadenrich.privacy.ports.AuditEntry`),
newest first. Its own module so the job views stay about jobs."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from leadenrich.jobs.views import IsoTime, View
from leadenrich.privacy.ports import AuditEntry


class AuditEntryView(View):
    entry_id: str = Field(description="unique, in time order (`aud_` + a ULID)")
    at: IsoTime = Field(description="when the action was answered (UTC)")
    actor: str = Field(
        description="who: the id of the API key that acted (`key_...`, as `enrich keys list` shows it; "
        "never the key), `operator` (the command line), `processor`, or `webhook` (a sending tool's bounce "
        "feedback: docs/bounces.md)"
    )
    action: str = Field(
        description="what: job.create, job.cancel, job.update, job.retry, jobs.bulk, dlq.redrive, "
        "results.read, and the actions of the personal-data routes; `METHOD /path` for an operation "
        "without a name of its own"
    )
    target: str = Field(
        description="what it acted on: a job id, a lead id, a hashed identity (never an address); empty "
        "when nothing in particular"
    )
    job_id: str | None = Field(description="the job it concerns, if one")
    source_ip: str | None = Field(description="the caller's address as API Gateway saw it")
    detail: dict[str, Any] = Field(
        description="what else the action says (a bulk action's job ids, the fields a PATCH changed, how "
        "many items were read): never an address in clear, never a secret"
    )

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditEntryView:
        return cls(
            entry_id=entry.entry_id,
            at=entry.at,
            actor=entry.actor,
            action=entry.action,
            target=entry.target,
            job_id=entry.job_id,
            source_ip=entry.source_ip,
            detail=entry.detail,
        )


class AuditPage(View):
    entries: list[AuditEntryView] = Field(description="newest first")
    cursor: str | None = Field(
        description="pass back as `cursor`, with the same filters, for the next page; null on the last"
    )


__all__ = ["AuditEntryView", "AuditPage"]
