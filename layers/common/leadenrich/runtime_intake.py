"""The wiring of enrichment on creation (docs/auto-enrichment.md) beside `leadenrich.runtime`: `POST /leads`
over the runtime's job service, and the processor's sweep of leads inserted into Supabase.

Not cached: small objects over the runtime's cached services, so `runtime.reset()` and a changed
environment need nothing of their own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from leadenrich import runtime as core

if TYPE_CHECKING:
    from leadenrich.jobs.auto_enrich import AutoEnrichment
    from leadenrich.jobs.lead_intake import LeadIntake, LeadIntakeStore


def intake_store() -> LeadIntakeStore | None:
    """Supabase's `leads` when SUPABASE_URL is set (whatever JOB_STORE says, like the lead source)."""
    from leadenrich.supabase.client import SupabaseSettings

    project = SupabaseSettings.from_env(core.app_env())
    if project is None:
        return None
    from leadenrich.supabase.lead_intake import SupabaseLeadIntake
    from leadenrich.supabase.rpc import connect_with

    return SupabaseLeadIntake(connect_with(project))


def lead_intake() -> LeadIntake:
    from leadenrich.jobs.lead_intake import LeadIntake

    return LeadIntake(core.job_service(), intake_store(), core.workspace_settings())


def auto_enrichment() -> AutoEnrichment | None:
    """The sweep; None without Supabase (nothing inserts leads behind the API then)."""
    from leadenrich.jobs.auto_enrich import AutoEnrichment

    store = intake_store()
    if store is None:
        return None
    return AutoEnrichment(core.job_service(), store, core.workspace_settings())


__all__ = ["auto_enrichment", "intake_store", "lead_intake"]
