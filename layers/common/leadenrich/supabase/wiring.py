"""The Supabase lead source, email sink, stats and company sink of one project, built together
(leadenrich.runtime)."""

from __future__ import annotations

from dataclasses import dataclass

from leadenrich.supabase.client import SupabaseSettings
from leadenrich.supabase.company_sink import SupabaseCompanySink
from leadenrich.supabase.email_sink import SupabaseEmailSink
from leadenrich.supabase.lead_enrichment import SupabaseLeadEnrichment
from leadenrich.supabase.lead_source import SupabaseLeadSource
from leadenrich.supabase.rpc import connect_with
from leadenrich.supabase.stats import SupabaseStats


@dataclass(frozen=True)
class SupabaseAdapters:
    leads: SupabaseLeadSource
    emails: SupabaseEmailSink
    stats: SupabaseStats
    companies: SupabaseCompanySink
    lead_records: SupabaseLeadEnrichment  # a finished item's record on its lead (migration 0015)

    @classmethod
    def for_settings(cls, settings: SupabaseSettings) -> SupabaseAdapters:
        """All of them share the event loop's client for `settings` (made on first use, never at import)."""
        connect = connect_with(settings)
        return cls(
            SupabaseLeadSource(connect),
            SupabaseEmailSink(connect),
            SupabaseStats(connect),
            SupabaseCompanySink(connect),
            SupabaseLeadEnrichment(connect),
        )
