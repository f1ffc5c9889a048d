"""The port a re-verification sweep reads stale addresses from and writes verdicts to: one per store that
holds a workspace's addresses (job item results on SQLite or DynamoDB, Supabase `emails`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from leadenrich.reverify.rules import Verdict


@dataclass(frozen=True)
class StaleAddress:
    """An address verified before the cut-off: its oldest `verified_at` in the place, and how many
    records of the place hold it (items, or Supabase lead rows): how much it is used."""

    email: str  # lower case
    verified_at: datetime
    uses: int


@dataclass(frozen=True)
class Rewrite:
    """One record of a place that held the address, and the verdict it had before the new one."""

    place: str
    email: str
    before: Verdict
    changed: bool  # its graded fields differ from the new verdict's (False: only verified_at moved)
    job_id: str | None = None
    lead_id: str | None = None


class ReverifyPlace(Protocol):
    """One store's part: every call is scoped to the workspace, nothing else is read or written."""

    name: str

    async def stale(self, workspace_id: str, before: datetime, limit: int) -> list[StaleAddress]:
        """At most `limit` of the workspace's addresses verified before `before`, oldest first and, among
        equals, most used first."""
        ...

    async def apply(self, workspace_id: str, email: str, verdict: Verdict, now: datetime) -> list[Rewrite]:
        """Write `verdict` wherever the workspace holds `email` here; what was rewritten. Idempotent: a
        record carrying the verdict already is not rewritten."""
        ...


__all__ = ["ReverifyPlace", "Rewrite", "StaleAddress"]
