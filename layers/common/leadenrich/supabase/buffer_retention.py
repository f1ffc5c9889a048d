"""The lead buffer's retention purge on Supabase (`jobs.retention.RetentionPurge`): one RPC of
`buffer_purge_expired` (migration 0014_buffer_privacy) per batch, with every workspace's periods as
arguments, as `supabase.retention` passes them to `purge_expired`, and the registry's period
(`buffer.retention.REGISTRY_DAYS`). Runs whenever Supabase is configured, like the other Supabase purge:
with another job store the buffer's tables are empty and it finds nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from leadenrich.buffer.retention import REGISTRY_DAYS
from leadenrich.jobs.ports import LeadStoreError
from leadenrich.jobs.retention import PurgeReport, RetentionPolicy
from leadenrich.supabase.retention import retention_argument
from leadenrich.supabase.rpc import Connect, call, object_of

FUNCTION = "buffer_purge_expired"
KINDS = ("buffer_leads", "buffer_registry")


class SupabaseBufferPurge:
    name = "supabase_buffer"

    def __init__(self, connect: Connect) -> None:
        self._connect = connect

    async def purge(self, now: datetime, policy: RetentionPolicy, *, batch: int) -> PurgeReport:
        params: dict[str, Any] = {
            "p_now": now.isoformat(),
            "p_retention": retention_argument(policy),
            "p_unverified_days": policy.default.unverified_retention_days,
            "p_results_days": policy.default.results_retention_days,
            "p_registry_days": REGISTRY_DAYS,
            "p_batch": batch,
        }
        answer = object_of(await call(self._connect, FUNCTION, params), FUNCTION)
        try:
            deleted = {kind: int(answer[kind]) for kind in KINDS}
            more = bool(answer["more"])
        except (KeyError, TypeError, ValueError):
            raise LeadStoreError(f"Supabase {FUNCTION}: unexpected answer (counts were expected)") from None
        return PurgeReport(deleted, more)


__all__ = ["FUNCTION", "KINDS", "SupabaseBufferPurge"]
