"""The second half of the runtime's wiring (`leadenrich.runtime`): the per-workspace records that live
beside the rate limiter and the quota, in the DynamoDB table (or the SQLite file) whatever JOB_STORE says:
the spend ledger and caps, the audit trail, the suppression lists, the workspace settings and the
retention runs they drive, erasure and the contact review. `leadenrich.runtime` re-exports every one, so
callers keep writing `runtime.suppressions()`; `runtime.reset()` clears them with the rest.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import leadenrich.runtime as core
from leadenrich.settings_errors import SettingsError

if TYPE_CHECKING:
    from leadenrich.jobs.budget import SpendCaps, SpendLedger
    from leadenrich.jobs.retention import CacheCap, RetentionSchedule
    from leadenrich.privacy.contacts import ContactReview
    from leadenrich.privacy.erasure import ErasureService
    from leadenrich.privacy.ports import AuditLog, SuppressionList
    from leadenrich.privacy.settings import CachedSettings, WorkspaceSettingsDirectory


@functools.cache
def spend_ledger() -> SpendLedger:
    """Spend per job and per workspace-month, and the workspaces' monthly budgets (`leadenrich.jobs.budget`):
    with the rate limiter and the quota, in the DynamoDB table (or the SQLite file) whatever JOB_STORE says,
    so no Supabase adapter is needed."""
    if core._embedded():
        from leadenrich.sqlite.spend import SqliteSpendLedger

        return SqliteSpendLedger(core.database())
    from leadenrich.aws.dynamo_spend import DynamoSpendLedger

    config, dynamodb, _sqs = core._aws()
    return DynamoSpendLedger(core._table(config), dynamodb, serialize_calls=config.serialize_aws_calls)


@functools.cache
def spend_caps() -> SpendCaps:
    """The ledger with WORKSPACE_MONTHLY_CREDITS: each job item's gate (`spend_caps().for_job(job)`) and a
    workspace's budget (`GET /budget`)."""
    from leadenrich.jobs.budget import BudgetSettings, SpendCaps

    return SpendCaps(spend_ledger(), BudgetSettings.from_env().workspace_monthly_credits)


@functools.cache
def audit_log() -> AuditLog:
    """The audit trail (docs/privacy.md "Audit trail"): append-only entries in the DynamoDB table (or the
    SQLite file) whatever JOB_STORE says, kept for the workspace's audit retention (default 365 days), read
    through the process's settings cache."""
    from leadenrich.privacy.audit import AuditRetention

    retention = AuditRetention(_cached_settings())
    if core._embedded():
        from leadenrich.sqlite.audit import SqliteAuditLog

        return SqliteAuditLog(core.database(), retention=retention)
    from leadenrich.aws.dynamo_audit import DynamoAuditLog

    config, dynamodb, _sqs = core._aws()
    return DynamoAuditLog(
        core._table(config), dynamodb, retention=retention, serialize_calls=config.serialize_aws_calls
    )


@functools.cache
def suppressions() -> SuppressionList:
    """The suppression lists, each workspace's and the service-wide one (docs/privacy.md "Suppression"):
    beside the spend ledger, in the DynamoDB table (or the SQLite file) whatever JOB_STORE says."""
    if core._embedded():
        from leadenrich.sqlite.suppression import SqliteSuppressionList

        return SqliteSuppressionList(core.database())
    from leadenrich.aws.dynamo_suppression import DynamoSuppressionList

    config, dynamodb, _sqs = core._aws()
    return DynamoSuppressionList(core._table(config), dynamodb, serialize_calls=config.serialize_aws_calls)


@functools.cache
def erasure_service() -> ErasureService:
    """Erasure (`POST /erasures`; docs/privacy.md "Erasure"): an eraser for the DynamoDB table (or the SQLite
    file: the cache and the webhook records, and the job items and the lead buffer unless
    JOB_STORE=supabase), one for Supabase when it is configured (its `emails` and `leads`, and the job
    items and the lead buffer with JOB_STORE=supabase), and the suppression lists the erased are added to."""
    from leadenrich.privacy.erasure import Eraser, ErasureService
    from leadenrich.supabase.client import SupabaseSettings

    config = core.settings()
    local_items = config.job_store != "supabase"
    erasers: list[Eraser] = []
    if core._embedded():
        from leadenrich.sqlite.erasure import SqliteErasure

        erasers.append(SqliteErasure(core.database(), items=local_items))
        if local_items:
            from leadenrich.sqlite.buffer_erasure import SqliteBufferErasure

            erasers.append(SqliteBufferErasure(core.database()))
    else:
        from leadenrich.aws.dynamo_erasure import DynamoErasure

        _config, dynamodb, _sqs = core._aws()
        serialize = config.serialize_aws_calls
        erasers.append(
            DynamoErasure(
                core._table(config),
                dynamodb,
                items=local_items,
                buffer=local_items,
                serialize_calls=serialize,
            )
        )
    project = SupabaseSettings.from_env(core.app_env())
    if project is not None:
        from leadenrich.supabase.erasure import SupabaseErasure
        from leadenrich.supabase.rpc import connect_with

        erasers.append(SupabaseErasure(connect_with(project), items=not local_items))
        if not local_items:
            from leadenrich.supabase.buffer_erasure import SupabaseBufferErasure

            erasers.append(SupabaseBufferErasure(connect_with(project)))
    elif not local_items:
        raise SettingsError("SUPABASE_URL: required when JOB_STORE=supabase")
    return ErasureService(erasers, suppressions(), leads_configured=project is not None)


@functools.cache
def workspace_settings() -> WorkspaceSettingsDirectory:
    """The workspaces' personal-data settings (`privacy.ports.WorkspaceSettings`: retention, approval,
    countries, lawful basis): in the DynamoDB table (or the SQLite file) whatever JOB_STORE says. Read
    directly: `GET/PUT /settings`, `enrich workspace settings`."""
    if core._embedded():
        from leadenrich.sqlite.settings import SqliteWorkspaceSettings

        return SqliteWorkspaceSettings(core.database())
    from leadenrich.aws.dynamo_settings import DynamoWorkspaceSettings

    config, dynamodb, _sqs = core._aws()
    return DynamoWorkspaceSettings(core._table(config), dynamodb, serialize_calls=config.serialize_aws_calls)


@functools.cache
def _cached_settings() -> CachedSettings:
    """The settings as the processor reads them, per item: kept for five minutes in the process."""
    from leadenrich.privacy.settings import CachedSettings

    return CachedSettings(workspace_settings())


@functools.cache
def cache_cap() -> CacheCap:
    """The longest a provider answer is cached: the shortest `cache_retention_days` of any workspace, set by
    `retention()` at each run (the defaults' until the first)."""
    from leadenrich.jobs.retention import CacheCap

    return CacheCap()


@functools.cache
def retention() -> RetentionSchedule:
    """The processor's hourly retention run (`jobs.retention`): DynamoDB's rows expire by their TTL, so the
    purges are SQLite's on the embedded stack and Supabase's when it is configured (its addresses, and its
    jobs with JOB_STORE=supabase), each with the lead buffer's purge beside it (`buffer.retention`); every
    run also sets the cache cap."""
    from leadenrich.jobs.retention import RetentionPurge, RetentionSchedule

    purges: list[RetentionPurge] = []
    if core._embedded():
        from leadenrich.sqlite.buffer_retention import SqliteBufferPurge
        from leadenrich.sqlite.retention import SqliteRetentionPurge

        purges += [SqliteRetentionPurge(core.database()), SqliteBufferPurge(core.database())]
    from leadenrich.supabase.client import SupabaseSettings

    project = SupabaseSettings.from_env(core.app_env())
    if project is not None:
        from leadenrich.supabase.buffer_retention import SupabaseBufferPurge
        from leadenrich.supabase.retention import SupabaseRetentionPurge
        from leadenrich.supabase.rpc import connect_with

        purges += [SupabaseRetentionPurge(connect_with(project)), SupabaseBufferPurge(connect_with(project))]
    return RetentionSchedule(purges, workspace_settings(), cache_cap=cache_cap())


@functools.cache
def contact_review() -> ContactReview:
    """The approval workflow (`/contacts`): the job store's review queue and decisions, and Supabase's email
    sink (when set) for the addresses approved."""
    from leadenrich.privacy.contacts import ContactReview

    adapters = core.supabase()
    lists: SuppressionList = suppressions()
    return ContactReview(
        core.job_service().store, emails=adapters.emails if adapters else None, suppressions=lists
    )


__all__ = [
    "_cached_settings",
    "audit_log",
    "cache_cap",
    "contact_review",
    "erasure_service",
    "retention",
    "spend_caps",
    "spend_ledger",
    "suppressions",
    "workspace_settings",
]
