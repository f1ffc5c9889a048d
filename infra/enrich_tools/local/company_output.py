"""The company columns of a results CSV (docs/company-data.md): added after the contact's when the run
asked for company data or had name-only leads, so every other run's file keeps the columns it always had.

A record carries `company` (the profile, as the API's item shows it) and `resolution` (how a name-only lead
got its domain); JSON Lines keeps them as objects, CSV flattens them into these columns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from enrich_tools.local.output import LEADS, RESULT_COLUMNS, Layout, lead_cells
from enrich_tools.local.reporting import Report
from enrich_tools.local.rows import CsvRow

COMPANY_COLUMNS = (
    "company_industry",
    "company_size",
    "company_country",
    "company_city",
    "company_description",
    "company_founded_year",
    "company_linkedin",
    "company_completeness",
    "company_fetched_at",
    "resolved_domain",
    "domain_confidence",
    "domain_resolution",
)


def company_cells(record: Mapping[str, Any]) -> list[Any]:
    """The contact's cells (`lead_cells`), then the company's and the resolution's."""
    company: Mapping[str, Any] = record.get("company") or {}
    resolution: Mapping[str, Any] = record.get("resolution") or {}
    return [
        *lead_cells(record),
        company.get("industry"),
        company.get("employees"),
        company.get("country_code") or company.get("country"),
        company.get("city"),
        company.get("description"),
        company.get("founded_year"),
        company.get("linkedin"),
        company.get("completeness"),
        company.get("fetched_at"),
        resolution.get("domain"),
        resolution.get("confidence") if resolution.get("status") == "resolved" else None,
        resolution.get("status"),
    ]


LEADS_WITH_COMPANY = Layout(RESULT_COLUMNS + COMPANY_COLUMNS, company_cells)


def company_report(leads: Sequence[CsvRow], company_data: bool | None) -> Report:
    """The report of a run: with the company columns when it asked for company data or some lead comes
    without a domain (its resolution is worth a column), else the usual one."""
    name_only = any(row.lead is not None and not row.lead.get("domain") for row in leads)
    return Report(layout=LEADS_WITH_COMPANY if company_data or name_only else LEADS)


__all__ = ["COMPANY_COLUMNS", "LEADS_WITH_COMPANY", "company_cells", "company_report"]
