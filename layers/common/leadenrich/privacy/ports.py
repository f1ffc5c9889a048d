"""The ports of the personal-data features (issue 14; docs/privacy.md), written before their adapters so
that suppression, erasure, retention, approval and the audit trail agree on one contract.

Where they live: with the rate limiter, the quota and the spend ledger (the DynamoDB table in AWS, the
SQLite file on the embedded stack), whatever JOB_STORE says; Supabase keeps its own tables' data and is
erased and purged through its own SQL functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from leadenrich.jobs.models import Page
from leadenrich.privacy.identity import Identity

SERVICE_WIDE = "*"  # the workspace id of the service-wide suppression list (Hunter 451s, erasures)


class SuppressionReason(StrEnum):
    OPTED_OUT = "opted_out"  # Hunter answered 451: service-wide, permanent
    ERASED = "erased"  # an erasure request: the person is not collected again
    MANUAL = "manual"  # added by the workspace (API, CLI)
    IMPORTED = "imported"  # from a CSV file
    BOUNCE = "bounce"  # a hard bounce reported by the workspace's sending tool (docs/bounces.md)
    COMPLAINT = "complaint"  # a spam complaint reported by the workspace's sending tool


@dataclass(frozen=True)
class Suppression:
    workspace_id: str  # SERVICE_WIDE for the service-wide list
    identity: Identity
    reason: SuppressionReason
    created_at: datetime


class SuppressionList(Protocol):
    async def add(self, entries: Sequence[Suppression]) -> int:
        """Store the entries (an entry already there is kept as it was); returns how many were new."""
        ...

    async def remove(self, workspace_id: str, key: str) -> bool:
        """Remove a workspace's own entry (never a service-wide one); False when it had none."""
        ...

    async def list(
        self, workspace_id: str, *, limit: int = 100, cursor: str | None = None
    ) -> Page[Suppression]:
        """The workspace's own entries, newest first (the service-wide list is not shown to workspaces)."""
        ...

    async def suppressed(self, workspace_id: str, keys: Sequence[str]) -> set[str]:
        """Which of `keys` are on the workspace's list or the service-wide one."""
        ...


@dataclass(frozen=True)
class AuditEntry:
    """One data-changing action or one read or export of results. Never edited, never deleted by the API."""

    workspace_id: str
    at: datetime
    actor: str  # the API key's id (`key_...`), "processor", "operator" (the CLI): never a key itself
    action: str  # e.g. job.create, job.cancel, job.pause, items.read, suppression.add, erasure.create
    target: str  # what it acted on: a job id, a lead id, a hashed identity key; "" when none
    job_id: str | None = None
    source_ip: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)  # no address in clear, no secret
    entry_id: str = ""  # set by the log: time-ordered, unique


@dataclass(frozen=True)
class AuditQuery:
    workspace_id: str
    action: str | None = None
    target: str | None = None
    job_id: str | None = None
    actor: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 100
    cursor: str | None = None


class AuditLog(Protocol):
    async def append(self, entry: AuditEntry) -> AuditEntry:
        """Store the entry (append only) with its `entry_id`; kept for the workspace's audit retention."""
        ...

    async def query(self, query: AuditQuery) -> Page[AuditEntry]:
        """The workspace's entries matching the filters, newest first, in pages."""
        ...


@dataclass(frozen=True)
class WorkspaceSettings:
    """Per-workspace personal-data settings; the defaults are the safe ones (docs/privacy.md)."""

    unverified_retention_days: int = 30  # inactive or unverified addresses (seed 004)
    results_retention_days: int = 90  # job items and their results
    cache_retention_days: int = 30  # cached provider answers
    audit_retention_days: int = 365
    review_required: bool = False  # found addresses start pending_review (the approval workflow)
    refused_countries: tuple[str, ...] = ()  # ISO 3166-1 alpha-2: leads there are refused
    flagged_countries: tuple[str, ...] = ()  # leads there are processed and flagged
    default_lawful_basis: str = "legitimate_interest"
    # Bounce feedback (docs/bounces.md): a hard bounce re-queues its lead for another address; and the
    # sending tools whose webhooks are this workspace's (`leadenrich.bounces.sources`).
    requeue_on_bounce: bool = False
    bounce_sns_topics: tuple[str, ...] = ()  # Amazon SES: the SNS topics' ARNs
    bounce_sendgrid_key: str = ""  # SendGrid: the Event Webhook's verification key (base64)
    bounce_postmark_password_sha256: str = ""  # Postmark: its basic-auth password, hashed (never shown)
    # Re-verification (docs/reverification.md): addresses verified more than this many days ago are verified
    # again (0: never), within this many Hunter credits a month (0: none, the default: it costs money).
    reverify_after_days: int = 90
    reverify_monthly_credits: int = 0
    # A lead whose last enrichment ended invalid, not_found or risky is not selected again by `--all` for
    # this many days (docs/auto-enrichment.md).
    reenrich_after_days: int = 30


class WorkspaceSettingsStore(Protocol):
    async def get(self, workspace_id: str) -> WorkspaceSettings:
        """The workspace's settings (the defaults when it never set any)."""
        ...

    async def put(self, workspace_id: str, settings: WorkspaceSettings) -> None: ...


__all__ = [
    "SERVICE_WIDE",
    "AuditEntry",
    "AuditLog",
    "AuditQuery",
    "Suppression",
    "SuppressionList",
    "SuppressionReason",
    "WorkspaceSettings",
    "WorkspaceSettingsStore",
]
