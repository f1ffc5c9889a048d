"""How long the buffer keeps a lead, and how long its namespace remembers serving it (docs/buffer.md,
"Personal data"; docs/privacy.md, "Retention").

A lead record holds a person's data (names, an address, the caller's `data`, the addresses found), so it
goes by its workspace's periods (`WorkspaceSettings`), counted from its last change:

- a lead waiting to be served (buffered, or claimed under a lease that ran out): `results_retention_days`
  after its push;
- a served lead: `results_retention_days` after it was served (a retried run's new enrichment counts from
  then), or `unverified_retention_days` (when shorter) if its enrichment found addresses and none of them
  is verified: seed 004's period for found addresses that are not verified.

The served registry outlives the lead: what a namespace served is remembered as the lead's identity only
(`models.lead_key`: the keyed hash the suppression lists use, or a company's domain), never a name or an
address, for `REGISTRY_DAYS` after it was served, so a lead whose data has expired (or was erased) is still
never served twice in its namespace within that period. Two years: the life of a long campaign and its
follow-ups, past any results period a workspace is likely to set; a hash kept for ever would be personal
data kept for ever.
"""

from __future__ import annotations

from datetime import datetime

from leadenrich.buffer.models import Enrichment
from leadenrich.jobs.retention import retention_epoch
from leadenrich.privacy.ports import WorkspaceSettings

REGISTRY_DAYS = 730


def unverified_only(enrichment: Enrichment) -> bool:
    """Whether the enrichment found addresses and none of them is verified (active)."""
    return bool(enrichment.emails) and not enrichment.has_active_address


def served_days(settings: WorkspaceSettings, enrichment: Enrichment) -> int:
    """A served lead's period (module docstring)."""
    if unverified_only(enrichment):
        return min(settings.unverified_retention_days, settings.results_retention_days)
    return settings.results_retention_days


def waiting_expiry(settings: WorkspaceSettings, pushed_at: datetime) -> int:
    """The TTL (epoch seconds) of a lead pushed at `pushed_at` and not served yet."""
    return retention_epoch(pushed_at, settings.results_retention_days)


def served_expiry(settings: WorkspaceSettings, enrichment: Enrichment, served_at: datetime) -> int:
    """The TTL of a lead served (or re-enriched) at `served_at` with `enrichment`."""
    return retention_epoch(served_at, served_days(settings, enrichment))


def registry_expiry(served_at: datetime) -> int:
    """The TTL of a namespace's registry entry for a lead served at `served_at`."""
    return retention_epoch(served_at, REGISTRY_DAYS)


__all__ = [
    "REGISTRY_DAYS",
    "registry_expiry",
    "served_days",
    "served_expiry",
    "unverified_only",
    "waiting_expiry",
]
