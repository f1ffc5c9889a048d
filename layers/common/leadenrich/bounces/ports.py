"""The ports a bounce's effects go through (docs/bounces.md, "Effects"), beside the suppression list, the
audit trail, the cache and the job service the other effects use as they are."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from leadenrich.engine.models import Lead


@dataclass(frozen=True)
class Holding:
    """One place of the workspace's that held a bounced address: an address of a job item's result, or a
    Supabase `emails` row."""

    place: str  # job_items | supabase.emails
    email: str  # lower case
    changed: bool  # marked undeliverable by this call (False: it was already)
    guessed: bool  # our guess: the domain's pattern or a permutation (`rules.guessed`)
    lead: Lead | None = None  # an item's lead as given (what a re-queue enriches again)
    lead_id: str | None = None  # the stored lead (Supabase `leads.id`) the address belongs to


class BouncedAddresses(Protocol):
    """One store's part of a hard bounce: every call is scoped to the workspace, nothing else is read or
    written. Idempotent: an address marked already is reported with `changed` False."""

    @property
    def places(self) -> tuple[str, ...]: ...

    async def mark_undeliverable(
        self, workspace_id: str, emails: Sequence[str], now: datetime
    ) -> list[Holding]:
        """Mark each of `emails` (lower case) undeliverable wherever the workspace holds it here; what held
        it, one `Holding` per address entry or row."""
        ...


__all__ = ["BouncedAddresses", "Holding"]
