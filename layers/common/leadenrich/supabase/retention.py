"""The Supabase retention purge (`jobs.retention.RetentionPurge`): one RPC of `purge_expired` (migration
0008_retention) per batch, with every workspace's periods as arguments, since the settings live with the
service (its DynamoDB table or SQLite file) and not in the project.

Runs whenever Supabase is configured: as the email sink it holds found addresses (unverified ones expire)
whatever JOB_STORE says, and as the job store its jobs and items too (with another job store those tables
are empty and the purge finds nothing there).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from leadenrich.jobs.ports import LeadStoreError
from leadenrich.jobs.retention import PurgeReport, RetentionPolicy
from leadenrich.supabase.rpc import Connect, call, object_of

FUNCTION = "purge_expired"
KINDS = ("emails", "job_items", "jobs")


def retention_argument(policy: RetentionPolicy) -> dict[str, dict[str, int]]:
    """`p_retention`: the periods of each workspace with settings of its own."""
    return {
        workspace: {
            "unverified_retention_days": settings.unverified_retention_days,
            "results_retention_days": settings.results_retention_days,
        }
        for workspace, settings in policy.workspaces.items()
    }


class SupabaseRetentionPurge:
    name = "supabase"

    def __init__(self, connect: Connect) -> None:
        self._connect = connect

    async def purge(self, now: datetime, policy: RetentionPolicy, *, batch: int) -> PurgeReport:
        return await purge_rpc(self._connect, FUNCTION, KINDS, now, policy, batch=batch)


async def purge_rpc(
    connect: Connect,
    function: str,
    kinds: tuple[str, ...],
    now: datetime,
    policy: RetentionPolicy,
    *,
    batch: int,
    extra: dict[str, Any] | None = None,
) -> PurgeReport:
    """One batch of a purge function that takes the periods (every workspace's and the defaults) and
    answers a count per kind and whether more is left; `extra`: its own further arguments."""
    params: dict[str, Any] = {
        "p_now": now.isoformat(),
        "p_retention": retention_argument(policy),
        "p_unverified_days": policy.default.unverified_retention_days,
        "p_results_days": policy.default.results_retention_days,
        **(extra or {}),
        "p_batch": batch,
    }
    answer = object_of(await call(connect, function, params), function)
    try:
        deleted = {kind: int(answer[kind]) for kind in kinds}
        more = bool(answer["more"])
    except (KeyError, TypeError, ValueError):
        raise LeadStoreError(f"Supabase {function}: unexpected answer (counts were expected)") from None
    return PurgeReport(deleted, more)


__all__ = ["FUNCTION", "KINDS", "SupabaseRetentionPurge", "purge_rpc", "retention_argument"]
