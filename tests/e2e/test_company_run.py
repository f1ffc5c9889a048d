"""`enrich run --company-data` as a user runs it, in a process of its own on a state directory of its own,
against a provider simulator the test starts: a file of company names (some without a domain) in, the
contacts and the company columns out, and the cost the simulator billed."""

from __future__ import annotations

import csv
from pathlib import Path

from enrich_tools.simulator import SimulatorServer
from tests.e2e.test_enrich_run import configured, enrich_run
from tests.support.simulator import base_config


def test_a_file_of_company_names_gets_domains_contacts_and_company_data(tmp_path: Path) -> None:
    leads = tmp_path / "leads.csv"
    leads.write_text(
        "Website,Company,Record ID\nacme-robotics.com,Acme Robotics,1\n,Nordlicht Energie,2\n,Brightlane,3\n"
    )
    output = tmp_path / "out.csv"
    with SimulatorServer(base_config()) as sim:
        done = enrich_run(
            leads, output, tmp_path / "state", "--company-data", cwd=tmp_path, env=configured(sim)
        )
        billed = sim.ledger.snapshot()
    assert done.returncode == 0, done.stderr
    with output.open(encoding="utf-8-sig", newline="") as handle:
        rows = {row["Record ID"]: row for row in csv.DictReader(handle)}
    acme, nordlicht, brightlane = rows["1"], rows["2"], rows["3"]
    assert acme["status"] == "found" and acme["company_industry"] == "Machinery"
    assert acme["company_completeness"] == "100" and acme["resolved_domain"] == ""
    assert nordlicht["resolved_domain"] == "nordlicht-energie.de" and nordlicht["domain_confidence"] == "100"
    assert nordlicht["status"] in ("found", "risky") and nordlicht["company_size"]
    assert brightlane["status"] == "invalid" and brightlane["domain_resolution"] == "ambiguous"
    assert brightlane["reason"].startswith("company_ambiguous:")
    assert billed["calls"]["hunter.companies_find"] == 2 and billed["calls"]["hunter.discover"] == 2
    assert "credits" in done.stderr  # the cost line
