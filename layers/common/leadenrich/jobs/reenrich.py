"""The re-enrichment window of `process_all` (docs/auto-enrichment.md): the nightly cost leak's end.

`enrich jobs create --all` selects every stored lead without an active address. Run nightly, that took again
each lead whose enrichment had ended without one (a webmail or parked domain, no mail server, a catch-all,
nobody found) and paid for it every night. Each lead now keeps the outcome and time of its last enrichment
(Supabase `leads.enrichment_outcome`, `enriched_at`), and a lead that ended `invalid`, `not_found` or
`risky` less than the workspace's `reenrich_after_days` ago (default 30) is left out, and counted as
skipped; `force` takes them all the same.
"""

from __future__ import annotations

from leadenrich.jobs.ports import LeadSource
from leadenrich.privacy.ports import WorkspaceSettings, WorkspaceSettingsStore

UNRESOLVED_OUTCOMES = ("invalid", "not_found", "risky")  # the outcomes the window holds back


async def reenrich_days(settings: WorkspaceSettingsStore | None, workspace_id: str, *, force: bool) -> int:
    """The window in days for this workspace's process_all job: 0 (no window) with `force`."""
    if force:
        return 0
    if settings is None:
        return WorkspaceSettings().reenrich_after_days
    return (await settings.get(workspace_id)).reenrich_after_days


async def skipped_recent(
    source: LeadSource,
    workspace_id: str,
    days: int,
    *,
    skip: bool,
    first: str | None,
    last: str | None,
) -> int:
    """The leads the window left out of the id range a job scanned (after `first`, through `last` when it
    stopped at its limit): one count. With skip_existing only those without an active address count, the
    others were left out for that already."""
    if not days:
        return 0
    counts = await source.count_enrichable(
        workspace_id, after_id=first, reenrich_after_days=days, through_id=last
    )
    return counts.recent_missing_email if skip else counts.recent


__all__ = ["UNRESOLVED_OUTCOMES", "reenrich_days", "skipped_recent"]
