"""Supabase's `leads` as the home of created leads (`jobs.lead_intake.LeadIntakeStore`, migration 0017):
POST /leads' registration and claim in one transaction, and the sweep's claims of inserted leads."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from leadenrich.engine.models import Lead
from leadenrich.jobs.lead_intake import IntakeRow, LeadIntakeStore, NotEnqueued
from leadenrich.jobs.models import SourcedLead
from leadenrich.supabase.lead_source import lead_of, stored_domain
from leadenrich.supabase.rpc import Connect, call, rows_of

MAX_INTAKE = 1000  # intake_leads' (and register_leads') bound per call: POST /leads' batch
_REASONS = ("pending", "recent", "repeated")


class SupabaseLeadIntake:
    """`LeadIntakeStore` over the 0017 functions; `connect` gives the loop's client (rpc.connect_with)."""

    def __init__(self, connect: Connect) -> None:
        self._connect = connect

    async def intake(
        self, workspace_id: str, leads: Sequence[Lead], job_id: str, reenrich_after_days: int
    ) -> list[IntakeRow]:
        if len(leads) > MAX_INTAKE:  # one transaction: the claims and the registrations together
            raise ValueError(f"at most {MAX_INTAKE} leads per call")
        payload = [
            lead.model_dump(exclude_none=True) | {"domain": stored_domain(lead.domain)} for lead in leads
        ]
        params = {
            "p_workspace_id": workspace_id,
            "p_leads": payload,
            "p_job_id": job_id,
            "p_reenrich_after_days": reenrich_after_days,
        }
        rows = sorted(rows_of(await call(self._connect, "intake_leads", params), "intake_leads"), key=_ord)
        if len(rows) != len(leads):
            raise ValueError(f"intake_leads answered {len(rows)} rows for {len(leads)} leads")
        return [
            IntakeRow(
                str(row["lead_id"]),
                created=bool(row["created"]),
                enqueued=bool(row["enqueued"]),
                reason=cast(NotEnqueued, row["reason"]) if row.get("reason") in _REASONS else None,
            )
            for row in rows
        ]

    async def release(self, workspace_id: str, job_id: str, *, requeue: bool) -> int:
        params = {"p_workspace_id": workspace_id, "p_job_id": job_id, "p_requeue": requeue}
        answer = await call(self._connect, "release_lead_claims", params)
        return int(answer) if isinstance(answer, int) else 0

    async def pending_workspaces(self, limit: int) -> list[str]:
        data = await call(self._connect, "pending_lead_workspaces", {"p_limit": limit})
        return [str(row["workspace_id"]) for row in rows_of(data, "pending_lead_workspaces")]

    async def claim(
        self, workspace_id: str, job_id: str, limit: int, reenrich_after_days: int
    ) -> list[SourcedLead]:
        params = {
            "p_workspace_id": workspace_id,
            "p_job_id": job_id,
            "p_limit": limit,
            "p_reenrich_after_days": reenrich_after_days,
        }
        rows = rows_of(await call(self._connect, "claim_pending_leads", params), "claim_pending_leads")
        return [SourcedLead(str(row["id"]), lead_of(row)) for row in rows]


def _ord(row: dict[str, Any]) -> int:
    return int(row["ord"])


def conforms(store: SupabaseLeadIntake) -> LeadIntakeStore:
    """mypy checks the adapter against the port here."""
    return store


__all__ = ["MAX_INTAKE", "SupabaseLeadIntake"]
