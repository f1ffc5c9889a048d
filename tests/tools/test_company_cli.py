"""The `enrich` command's part of company data: leads files with company names and no domains, the
`--company-data` option, and the company columns of a results file."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path
from typing import Any

from enrich_tools.local.company_output import COMPANY_COLUMNS, LEADS_WITH_COMPANY, company_report
from enrich_tools.local.job_options import add_company_argument, add_option_arguments, job_options
from enrich_tools.local.output import LEADS, RESULT_COLUMNS, write_results
from enrich_tools.local.results import item_record
from enrich_tools.local.rows import read_rows

COMPANY = {
    "domain": "nordlicht-energie.de",
    "fetched_at": "2026-06-15T12:00:00+00:00",
    "industry": "Renewable Energy",
    "employees": "11-50",
    "country_code": "DE",
    "country": "Germany",
    "city": "Hamburg",
    "description": "Nordlicht Energie GmbH is a renewable energy company.",
    "founded_year": 2009,
    "linkedin": "company/nordlicht-energie",
    "completeness": 100,
}
RESOLUTION = {
    "company_name": "Nordlicht Energie",
    "status": "resolved",
    "method": "discover",
    "domain": "nordlicht-energie.de",
    "confidence": 100,
    "matched_name": "Nordlicht Energie GmbH",
    "candidates": [],
}


def test_a_leads_file_may_name_companies_instead_of_domains(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_text("Company,First Name,Record ID\nNordlicht Energie,Jürgen,1\n,Ann,2\nAcme Robotics,,3\n")
    named, nameless, acme = read_rows(path)
    assert named.lead == {"company_name": "Nordlicht Energie", "first_name": "Jürgen", "external_id": "1"}
    assert nameless.lead is None and nameless.problem is not None
    assert nameless.problem.startswith("line 3: field 'domain': a lead needs a domain, or a company_name")
    assert acme.sendable and acme.lead == {"company_name": "Acme Robotics", "external_id": "3"}
    assert company_report([named, acme], company_data=None).layout is LEADS_WITH_COMPANY


def test_without_company_data_or_name_only_leads_the_file_keeps_its_columns(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_text("domain,company_name\nacme-robotics.com,Acme\n")
    rows = read_rows(path)
    assert company_report(rows, company_data=None).layout is LEADS
    assert company_report(rows, company_data=True).layout is LEADS_WITH_COMPANY


def test_the_results_file_flattens_company_and_resolution(tmp_path: Path) -> None:
    source = tmp_path / "leads.csv"
    source.write_text("Company,Record ID\nNordlicht Energie,1\nBrightlane,2\n")
    rows = read_rows(source)
    item: dict[str, Any] = {
        "item_id": "000000",
        "status": "found",
        "reason": None,
        "lead": rows[0].lead,
        "emails": [],
        "company": COMPANY,
        "resolution": RESOLUTION,
    }
    ambiguous: dict[str, Any] = {
        "item_id": "000001",
        "status": "invalid",
        "reason": "company_ambiguous: 'Brightlane' matches 2 companies",
        "lead": rows[1].lead,
        "emails": [],
        "resolution": RESOLUTION | {"status": "ambiguous", "domain": None, "confidence": 0},
    }
    records = [item_record(rows[0], item, ("failed", "x")), item_record(rows[1], ambiguous, ("failed", "x"))]
    assert records[0]["domain"] == "nordlicht-energie.de"  # the domain it was resolved to
    assert records[0]["company"] == COMPANY and records[0]["resolution"] == RESOLUTION
    output = tmp_path / "out.csv"
    write_results(output, "csv", rows, records, layout=LEADS_WITH_COMPANY)
    with output.open(encoding="utf-8-sig", newline="") as handle:
        header, found, refused = list(csv.reader(handle))
    assert header == ["Company", "Record ID", *RESULT_COLUMNS, *COMPANY_COLUMNS]
    cells = dict(zip(header, found, strict=True))
    assert (cells["company_industry"], cells["company_size"], cells["company_country"]) == (
        "Renewable Energy",
        "11-50",
        "DE",
    )
    assert (cells["resolved_domain"], cells["domain_confidence"], cells["domain_resolution"]) == (
        "nordlicht-energie.de",
        "100",
        "resolved",
    )
    assert cells["company_completeness"] == "100"
    other = dict(zip(header, refused, strict=True))
    assert (other["status"], other["domain_resolution"], other["domain_confidence"]) == (
        "invalid",
        "ambiguous",
        "",
    )


def test_company_data_is_a_job_option_of_run_and_create_only() -> None:
    create = argparse.ArgumentParser()
    add_option_arguments(create)
    add_company_argument(create)
    assert job_options(create.parse_args(["--company-data"])) == {"company_data": True}
    assert job_options(create.parse_args([])) == {}
    update = argparse.ArgumentParser()
    add_option_arguments(update)  # `jobs update`: a job's company option cannot change
    assert job_options(update.parse_args(["--priority", "2"])) == {"priority": 2}
