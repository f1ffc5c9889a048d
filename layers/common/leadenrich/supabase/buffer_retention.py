"""The lead buffer's retention purge on Supabase (`jobs.retention.RetentionPurge`): one RPC of
`buffer_purge_expired` (migration 0014_buffer_privacy) per batch, with every workspace's periods as
arguments, as `supabase.retention` passes them to `purge_expired`, and the registry's period
(`buffer.retention.REGISTRY_DAYS`). Runs whenever Supabase is configured, like the other Supabase purge:
with another job store the buffer's tables are empty and it finds nothing.
"""

from __future__ import annotations

from datetime import datetime

from leadenrich.buffer.retention import REGISTRY_DAYS
from leadenrich.jobs.retention import PurgeReport, RetentionPolicy
from leadenrich.supabase.retention import purge_rpc
from leadenrich.supabase.rpc import Connect

FUNCTION = "buffer_purge_expired"
KINDS = ("buffer_leads", "buffer_registry")


class SupabaseBufferPurge:
    name = "supabase_buffer"

    def __init__(self, connect: Connect) -> None:
        self._connect = connect

    async def purge(self, now: datetime, policy: RetentionPolicy, *, batch: int) -> PurgeReport:
        extra = {"p_registry_days": REGISTRY_DAYS}
        return await purge_rpc(self._connect, FUNCTION, KINDS, now, policy, batch=batch, extra=extra)


__all__ = ["FUNCTION", "KINDS", "SupabaseBufferPurge"]
