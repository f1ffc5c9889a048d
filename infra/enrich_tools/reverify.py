"""`enrich reverify run --workspace W [--dry-run]`: one run of the re-verification sweep now, as the
processor runs it once a day (docs/reverification.md), printing what it reconciled, selected and created.

Where, as the other operator commands (`operator_target`): the local state's SQLite file (`--state DIR`,
default `.enrich-state` when no table is named) or a deployed stack's table (`--table`, else
`$TABLE_NAME`) with the caller's AWS credentials; Supabase's `emails` too when SUPABASE_URL (and its
service-role key) are set in this shell. A deployed stack's job goes to its SQS queues, which the table
does not name: a run that creates one needs QUEUE_URL and DEAD_LETTER_QUEUE_URL (and the band queues'
variables when the stack has them), as the processor has them; `--dry-run` needs none and writes nothing
(no reconciling, no job, no reservation). A verification is counted at HUNTER_VERIFICATION_CREDIT as this
shell has it (default 1), as the processor counts it.

The run is the processor's: one job a UTC day per workspace (a second run the same day says "ran
today"), changed verdicts audited as the processor's and `address.changed` owed to the jobs that asked;
the command adds an operator's `reverify.run` entry when it created a job.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from enrich_tools.local.reporting import FAILED, OK, UsageError
from enrich_tools.operator_target import (
    adapter,
    aws_failure,
    record,
    target_arguments,
    valid_workspace_option,
)
from leadenrich.jobs.ports import JobStore, WorkQueue
from leadenrich.privacy.ports import WorkspaceSettings
from leadenrich.reverify.ports import ReverifyPlace
from leadenrich.reverify.service import ReverifySweep, SweepReport
from leadenrich.settings_errors import SettingsError
from leadenrich.sqlite.db import Database


@dataclass
class Target:
    """The sweep's adapters on one backend, the queue built only when a job is to be created."""

    store: JobStore
    queue: Callable[[], WorkQueue]
    ledger: Any
    audit: Any
    settings: Any
    places: list[ReverifyPlace]
    outbox: Any


def _supabase_places() -> list[ReverifyPlace]:
    from leadenrich.supabase.client import SupabaseSettings

    project = SupabaseSettings.from_env(dict(os.environ))
    if project is None:
        return []
    from leadenrich.supabase.reverify import SupabaseReverifyPlace
    from leadenrich.supabase.rpc import connect_with

    return [SupabaseReverifyPlace(connect_with(project))]


def _local(db: Database) -> Target:
    from leadenrich.privacy.audit import AuditRetention
    from leadenrich.sqlite.audit import SqliteAuditLog
    from leadenrich.sqlite.job_store import SqliteJobStore
    from leadenrich.sqlite.queue import SqliteWorkQueue
    from leadenrich.sqlite.reverify import SqliteReverifyPlace
    from leadenrich.sqlite.settings import SqliteWorkspaceSettings
    from leadenrich.sqlite.spend import SqliteSpendLedger
    from leadenrich.sqlite.webhook_log import SqliteWebhookLog

    settings = SqliteWorkspaceSettings(db)
    return Target(
        SqliteJobStore(db),
        lambda: SqliteWorkQueue(db),
        SqliteSpendLedger(db),
        SqliteAuditLog(db, retention=AuditRetention(settings)),
        settings,
        [SqliteReverifyPlace(db), *_supabase_places()],
        SqliteWebhookLog(db),
    )


def _sqs_queue(table: str) -> WorkQueue:
    """The stack's queues as the processor names them (QUEUE_URL and the rest in this shell)."""
    import boto3

    from leadenrich.aws.sqs_queue import SqsWorkQueue
    from leadenrich.jobs.models import Band
    from leadenrich.jobs.priorities import BandedWorkQueue
    from leadenrich.runtime import RuntimeSettings

    try:
        config = RuntimeSettings.from_env({**os.environ, "TABLE_NAME": table, "BACKEND": "aws"})
    except SettingsError as exc:
        raise UsageError(
            f"{exc}: a job goes to the stack's queues (its outputs), or pass --dry-run"
        ) from None
    sqs = boto3.client("sqs")
    queues: dict[Band, WorkQueue] = {
        band: SqsWorkQueue(url, dlq, sqs, serialize_calls=config.serialize_aws_calls)
        for band, (url, dlq) in config.band_queues().items()
    }
    normal = queues[Band.NORMAL]
    return normal if len(queues) == 1 else BandedWorkQueue({b: queues.get(b, normal) for b in Band})


def _aws(table: str, client: Any) -> Target:
    from leadenrich.aws.dynamo_audit import DynamoAuditLog
    from leadenrich.aws.dynamo_jobs import DynamoJobStore
    from leadenrich.aws.dynamo_reverify import DynamoReverifyPlace
    from leadenrich.aws.dynamo_settings import DynamoWorkspaceSettings
    from leadenrich.aws.dynamo_spend import DynamoSpendLedger
    from leadenrich.aws.dynamo_webhooks import DynamoWebhookLog
    from leadenrich.privacy.audit import AuditRetention

    serialize = os.environ.get("SERIALIZE_AWS_CALLS", "").lower() == "true"  # moto (tests) only
    settings = DynamoWorkspaceSettings(table, client)
    return Target(
        DynamoJobStore(table, client, serialize_calls=serialize),
        lambda: _sqs_queue(table),
        DynamoSpendLedger(table, client),
        DynamoAuditLog(table, client, retention=AuditRetention(settings)),
        settings,
        [DynamoReverifyPlace(table, client, serialize_calls=serialize), *_supabase_places()],
        DynamoWebhookLog(table, client, serialize_calls=serialize),
    )


def _credit() -> float:
    from leadenrich.engine.settings import EngineSettings

    return EngineSettings.from_env().hunter_verification_credit


async def _sweep(target: Target, workspace: str, dry_run: bool) -> tuple[WorkspaceSettings, SweepReport]:
    from leadenrich.jobs.creation import JobCreation
    from leadenrich.webhooks.address_changed import AddressChangedCallbacks

    settings: WorkspaceSettings = await target.settings.get(workspace)

    class NoQueue:  # a dry run creates nothing: its queue is never built
        def __getattr__(self, name: str) -> Any:
            raise AssertionError("a dry run does not enqueue")

    queue: Any = NoQueue() if dry_run else target.queue()
    sweep = ReverifySweep(
        target.places,
        JobCreation(target.store, queue),
        target.store,
        target.ledger,
        target.audit,
        AddressChangedCallbacks(target.store, target.outbox),
        credits_per_verification=_credit(),
    )
    return settings, await sweep.run(workspace, settings, dry_run=dry_run)


def _lines(workspace: str, settings: WorkspaceSettings, report: SweepReport, credit: float) -> list[str]:
    lines = [
        f"workspace {workspace}: re-verify after {settings.reverify_after_days} days, "
        f"{settings.reverify_monthly_credits:,} credits a month"
    ]
    for job_id in report.reconciled_jobs:
        lines.append(f"reconciled sweep job {job_id}")
    if report.reconciled_jobs:
        lines.append(
            f"  {report.rewritten} records re-dated or rewritten, {len(report.changes)} addresses changed"
        )
    for change in report.changes:
        before, after = "/".join(change.before.graded()), "/".join(change.after.graded())
        lines.append(f"  changed {change.email}: {before} -> {after}")
    note = {
        "off": "the sweep is off: set reverify_monthly_credits (PUT /settings) to give it a budget",
        "ran today": f"today's sweep job exists already: {report.job_id}",
        "budget spent": "this month's re-verification budget leaves nothing for today",
        "nothing stale": f"nothing verified more than {settings.reverify_after_days} days ago",
    }.get(report.note)
    if note:
        lines.append(note)
        return lines
    lines.append(
        f"today's allowance: {report.allowance_credits:g} credits ({credit:g} a verification: "
        "HUNTER_VERIFICATION_CREDIT as this shell has it)"
    )
    lines.append(f"selected {len(report.selected)} addresses, oldest first:")
    for address in report.selected:
        lines.append(f"  {address.email}  verified {address.verified_at:%Y-%m-%d}  held {address.uses}x")
    if report.note == "dry run":
        lines.append("dry run: no job created, nothing reserved")
    else:
        lines.append(f"job created: {report.job_id} (priority 5, tag reverify)")
    return lines


def _json(workspace: str, report: SweepReport) -> str:
    return json.dumps(
        {
            "workspace_id": workspace,
            "note": report.note,
            "allowance_credits": report.allowance_credits,
            "selected": [
                {"email": a.email, "verified_at": a.verified_at.isoformat(), "uses": a.uses}
                for a in report.selected
            ],
            "job_id": report.job_id,
            "reconciled_jobs": report.reconciled_jobs,
            "rewritten": report.rewritten,
            "changes": [
                {
                    "email": c.email,
                    "from": list(c.before.graded()),
                    "to": list(c.after.graded()),
                    "places": c.places,
                }
                for c in report.changes
            ],
        },
        indent=2,
    )


def cmd_reverify_run(args: argparse.Namespace) -> int:
    workspace = valid_workspace_option(args.workspace)
    try:
        target = adapter(args, local=_local, aws=_aws)
        settings, report = asyncio.run(_sweep(target, workspace, args.dry_run))
    except (UsageError, SettingsError):
        raise
    except Exception as exc:  # botocore: no region, no credentials, no such table, access denied
        from botocore import exceptions as aws

        if isinstance(exc, aws.BotoCoreError | aws.ClientError):
            return aws_failure(exc, args, "the stack's table")
        print(
            f"error: the sweep failed ({type(exc).__name__}): {str(exc).splitlines()[0] if str(exc) else ''}",
            file=sys.stderr,
        )
        return FAILED
    if report.note == "job created" and report.job_id:
        record(args, workspace, "reverify.run", report.job_id, addresses=len(report.selected))
    print(
        _json(workspace, report) if args.json else "\n".join(_lines(workspace, settings, report, _credit()))
    )
    return OK


def add_parsers(sub: Any) -> None:
    reverify = sub.add_parser(
        "reverify", help="re-verify stale addresses (the local state, or a deployed stack's table)"
    ).add_subparsers(dest="reverify_command", required=True)
    run = reverify.add_parser(
        "run",
        parents=[target_arguments()],
        help="the daily sweep now: reconcile finished sweep jobs, select stale addresses, create the job",
    )
    run.add_argument("--workspace", required=True, help="the workspace whose addresses to re-verify")
    run.add_argument("--dry-run", action="store_true", help="only say what would be selected; write nothing")
    run.add_argument("--json", action="store_true", help="print the run's report as JSON")
    run.set_defaults(func=cmd_reverify_run)


__all__ = ["add_parsers", "cmd_reverify_run"]
