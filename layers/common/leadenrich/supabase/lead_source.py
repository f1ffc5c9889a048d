"""Supabase as the lead source: leads by id, by domain, inline leads matched or added, and process_all.

Every read is one RPC per page of at most 500 rows (keyset pagination by id), and every page is handed to
the caller before the next is asked for, so a job over a large table never holds more than a page of it.
The SQL functions (and the matching rules) are in infra/supabase/migrations/0003_lead_source_email_sink.sql.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from typing import Any

from leadenrich.engine.domains import DomainError, normalize_domain
from leadenrich.engine.models import Lead
from leadenrich.jobs.models import SourcedLead
from leadenrich.jobs.ports import EnrichableCount
from leadenrich.supabase.rpc import PAGE_ROWS, Connect, call, chunks, object_of, rows_of

# The Lead model's bounds: a stored value longer than that is cut, not refused (it is only a hint).
_MAX_LENGTHS = {"domain": 2048, "company_name": 512, "first_name": 256, "last_name": 256, "external_id": 256}


def lead_of(row: dict[str, Any]) -> Lead:
    """The Lead a stored row asks to enrich (blank fields absent)."""
    values = {
        name: str(row[name])[:limit]
        for name, limit in _MAX_LENGTHS.items()
        if isinstance(row.get(name), str) and row[name].strip()
    }
    return Lead.model_validate(values)


def stored_domain(domain: str) -> str:
    """How a new lead's domain is stored: the normal form the engine uses (as given if it has none)."""
    try:
        return normalize_domain(domain)
    except DomainError:
        return domain.strip()


class SupabaseLeadSource:
    """`LeadSource` over the 0003 functions; `connect` gives the loop's client (rpc.connect_with)."""

    def __init__(self, connect: Connect, page_size: int = PAGE_ROWS) -> None:
        if not 1 <= page_size <= 1000:
            raise ValueError("page_size: between 1 and 1000 (PostgREST's max rows)")
        self._connect = connect
        self.page_size = page_size

    def _sourced(self, row: dict[str, Any], lead: Lead | None = None) -> SourcedLead | None:
        """None for a stored lead with neither a domain nor a company name (one to find the domain from,
        docs/company-data.md): there is nothing to enrich."""
        searchable = ("domain", "company_name")
        if not any(isinstance(row.get(name), str) and row[name].strip() for name in searchable):
            return None
        return SourcedLead(str(row["id"]), lead or lead_of(row), bool(row.get("has_active_email")))

    async def by_ids(
        self, workspace_id: str, lead_ids: Sequence[str]
    ) -> AsyncGenerator[list[SourcedLead], None]:
        """In the order of `lead_ids`; an id that is no lead of the workspace (or has neither a domain nor a
        company name) is absent."""
        for chunk in chunks(lead_ids, self.page_size):
            data = await call(self._connect, "leads_by_ids", {"p_workspace_id": workspace_id, "p_ids": chunk})
            found = {str(row["id"]): row for row in rows_of(data, "leads_by_ids")}
            page = [self._sourced(found[i]) for i in chunk if i in found]
            yield [lead for lead in page if lead is not None]

    async def by_domains(
        self, workspace_id: str, domains: Sequence[str]
    ) -> AsyncGenerator[list[SourcedLead], None]:
        """`domains` in normal form (normalize_domain). Per 500 domains: one call adds the leads missing,
        then keyset pages of the matching leads."""
        for chunk in chunks(domains, self.page_size):
            params: dict[str, Any] = {"p_workspace_id": workspace_id, "p_domains": list(chunk)}
            await call(self._connect, "add_leads_for_domains", params)
            after: str | None = None
            while True:
                data = await call(
                    self._connect,
                    "leads_by_domains",
                    params | {"p_after_id": after, "p_limit": self.page_size},
                )
                rows = rows_of(data, "leads_by_domains")
                if rows:
                    yield [lead for lead in map(self._sourced, rows) if lead is not None]
                    after = str(rows[-1]["id"])
                if len(rows) < self.page_size:
                    break

    async def register(
        self, workspace_id: str, leads: Sequence[Lead]
    ) -> AsyncGenerator[list[SourcedLead], None]:
        """Matched or added, in input order; each SourcedLead keeps the lead as given."""
        for chunk in chunks(leads, self.page_size):
            payload = [
                lead.model_dump(exclude_none=True) | {"domain": stored_domain(lead.domain)} for lead in chunk
            ]
            data = await call(
                self._connect, "register_leads", {"p_workspace_id": workspace_id, "p_leads": payload}
            )
            rows = sorted(rows_of(data, "register_leads"), key=lambda row: int(row["ord"]))
            if len(rows) != len(chunk):
                raise ValueError(f"register_leads answered {len(rows)} rows for {len(chunk)} leads")
            yield [
                SourcedLead(str(row["id"]), lead, bool(row["has_active_email"]))
                for row, lead in zip(rows, chunk, strict=True)
            ]

    async def enrichable(
        self,
        workspace_id: str,
        *,
        skip_existing: bool,
        after_id: str | None = None,
        limit: int = 10_000,
        reenrich_after_days: int = 0,
    ) -> AsyncGenerator[list[SourcedLead], None]:
        taken = 0
        while taken < limit:
            want = min(self.page_size, limit - taken)
            data = await call(
                self._connect,
                "enrichable_leads",
                {
                    "p_workspace_id": workspace_id,
                    "p_skip_existing": skip_existing,
                    "p_after_id": after_id,
                    "p_limit": want,
                    "p_reenrich_after_days": reenrich_after_days,
                },
            )
            rows = rows_of(data, "enrichable_leads")
            if rows:
                taken += len(rows)
                after_id = str(rows[-1]["id"])
                yield [lead for lead in map(self._sourced, rows) if lead is not None]
            if len(rows) < want:
                return

    async def count_enrichable(
        self,
        workspace_id: str,
        *,
        after_id: str | None = None,
        reenrich_after_days: int = 0,
        through_id: str | None = None,
    ) -> EnrichableCount:
        params = {
            "p_workspace_id": workspace_id,
            "p_after_id": after_id,
            "p_reenrich_after_days": reenrich_after_days,
            "p_through_id": through_id,
        }
        counts = object_of(
            await call(self._connect, "count_enrichable_leads", params), "count_enrichable_leads"
        )
        return EnrichableCount(
            with_domain=int(counts["with_domain"]),
            missing_email=int(counts["missing_email"]),
            recent=int(counts.get("recent") or 0),
            recent_missing_email=int(counts.get("recent_missing_email") or 0),
        )
