"""The lead buffer's retention, one scenario for every store with a purge (SQLite, Supabase): a workspace
with short periods of its own beside one on the defaults, leads served verified, served with unverified
addresses only, served with nothing found, and still waiting; the purge run at moments past each period
deletes exactly what is past it, and the served registry keeps the namespace from serving a lead again
after the lead itself has gone, until its own period ends (`buffer.retention`)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from leadenrich.buffer.models import Enrichment, EnrichmentStatus, ServedQuery
from leadenrich.buffer.ports import LeadBuffer
from leadenrich.buffer.retention import REGISTRY_DAYS
from leadenrich.jobs.retention import RetentionPolicy, RetentionPurge
from leadenrich.privacy.ports import WorkspaceSettings
from tests.support.buffer_contract import FOUND, NOW, NS, WS, claim, claimed, records

OTHER_WS = "ws-defaults"
POLICY = RetentionPolicy({WS: WorkspaceSettings(results_retention_days=30, unverified_retention_days=7)})
UNVERIFIED = replace(
    FOUND,
    result={"status": "risky", "emails": [{"email": "x@b.com", "status": "inactive"}], "reason": None},
)
NOTHING = Enrichment(EnrichmentStatus.COMPLETED, NOW, None, ("hunter",), (), {"status": "not_found"})
DOMAINS = ("verified.com", "unverified.com", "nothing.com", "waiting.com")


async def _fill(buffer: LeadBuffer, workspace_id: str) -> None:
    await buffer.push(workspace_id, NS, records(*DOMAINS, workspace_id=workspace_id))
    for enrichment in (FOUND, UNVERIFIED, NOTHING):
        record = await claimed(buffer, workspace_id=workspace_id)
        assert await buffer.serve(record, enrichment, NOW) is not None


async def _served(buffer: LeadBuffer, workspace_id: str) -> list[str]:
    return sorted(r.lead.domain for r in (await buffer.served(ServedQuery(workspace_id))).items)


async def check_buffer_retention(buffer: LeadBuffer, purge: RetentionPurge) -> None:
    for workspace_id in (WS, OTHER_WS):
        await _fill(buffer, workspace_id)

    early = await purge.purge(NOW + timedelta(days=6), POLICY, batch=100)
    assert early.deleted == {"buffer_leads": 0, "buffer_registry": 0} and not early.more
    assert (await purge.purge(NOW + timedelta(days=8), POLICY, batch=100)).deleted["buffer_leads"] == 1
    assert await _served(buffer, WS) == ["nothing.com", "verified.com"]  # unverified only: 7 days

    late = await purge.purge(NOW + timedelta(days=31), POLICY, batch=100)
    # Its three others (30 days, the waiting one from its push), and the other's unverified one (30 days).
    assert late.deleted == {"buffer_leads": 4, "buffer_registry": 0}
    assert await _served(buffer, WS) == []
    assert await claim(buffer, now=NOW + timedelta(days=31)) is None  # its waiting lead went too
    assert await _served(buffer, OTHER_WS) == ["nothing.com", "verified.com"]  # the defaults: 30 and 90
    again = await buffer.push(WS, NS, records(*DOMAINS, at=NOW + timedelta(days=32)))
    assert (again.already_served, again.buffered) == (3, 1)  # the registry outlives the leads

    paged = await purge.purge(NOW + timedelta(days=REGISTRY_DAYS + 1), POLICY, batch=2)
    assert paged.more and paged.deleted == {"buffer_leads": 2, "buffer_registry": 2}  # a batch at a time
    rest = await purge.purge(NOW + timedelta(days=REGISTRY_DAYS + 1), POLICY, batch=100)
    # Every lead left (the four of both workspaces) and both workspaces' six registry entries.
    assert rest.deleted == {"buffer_leads": 2, "buffer_registry": 4} and not rest.more
    fresh = await buffer.push(WS, NS, records("verified.com", at=NOW + timedelta(days=REGISTRY_DAYS + 2)))
    assert fresh.buffered == 1  # past the registry's period, a lead may come back


__all__ = ["NOTHING", "OTHER_WS", "POLICY", "UNVERIFIED", "check_buffer_retention"]
