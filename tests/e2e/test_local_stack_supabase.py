"""`enrich run` with SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY set: the CSV's rows become (or match) leads in
that Supabase, their addresses land in `emails`, and the results file is the same as without Supabase.

Every stack runs on a state directory in the test's tmp_path (embedded, processor back to back)."""

from __future__ import annotations

import json
import logging
import uuid
from pathlib import Path

import pytest

from enrich_tools.cli import main
from enrich_tools.local.stack import LocalStack, StackOptions
from enrich_tools.simulator import SHOWCASE_DOMAINS
from enrich_tools.supabase_harness import SupabaseTestServer
from tests.e2e.test_local_stack import LEADS_CSV, PROVIDER_VARIABLES, enrich_run

ADDRESSES = (
    "select l.external_id, e.email, e.email_type, e.status from emails e join leads l on l.id = e.lead_id"
    " order by l.external_id, e.email"
)


def test_enrich_run_reads_and_writes_the_configured_supabase(
    supabase_db: SupabaseTestServer, tmp_path: Path
) -> None:
    output = tmp_path / "results.jsonl"
    done = enrich_run(LEADS_CSV, output, env=supabase_db.env())

    assert done.returncode == 0, done.stderr
    assert f"Supabase at {supabase_db.url}" in done.stderr
    assert supabase_db.service_role_key not in done.stdout + done.stderr
    records = [json.loads(line) for line in output.read_text().splitlines()]
    assert [r["external_id"] for r in records] == [f"lead-00{i}" for i in range(1, 9)]  # as without Supabase
    leads = supabase_db.query("select external_id, domain, company_name from leads order by external_id")
    assert [row["external_id"] for row in leads] == [f"lead-00{i}" for i in range(1, 8)]  # lead-008 refused
    assert leads[1] == {
        "external_id": "lead-002",
        "domain": "nordlicht-energie.de",
        "company_name": "Nordlicht Energie GmbH",
    }

    written = supabase_db.query(ADDRESSES)
    expected = sorted(
        (r["external_id"], e["email"], e["email_type"], e["status"]) for r in records for e in r["emails"]
    )
    assert [tuple(row.values()) for row in written] == expected and written

    # A new state (a new job, not the first one resumed): its leads are matched, not added again.
    again = enrich_run(
        LEADS_CSV, tmp_path / "again.jsonl", state=tmp_path / "new-state", env=supabase_db.env()
    )
    assert again.returncode == 0, again.stderr
    assert supabase_db.scalar("select count(*) from leads") == 7  # matched by external_id: none added
    assert supabase_db.query(ADDRESSES) == written  # upserted: no duplicates


def test_the_jobs_and_stats_commands_work_on_stored_leads(
    supabase_db: SupabaseTestServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in PROVIDER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in supabase_db.env().items():
        monkeypatch.setenv(name, value)
    ids = [str(uuid.uuid4()) for _ in SHOWCASE_DOMAINS[:3]]
    values = ", ".join(f"('{i}', '{d}', '{d}')" for i, d in zip(ids, SHOWCASE_DOMAINS, strict=False))
    supabase_db.sql(f"insert into leads (id, company_name, domain) values {values}")
    output = tmp_path / "all.jsonl"

    # The handlers' JSON logs would go to this test's captured stdout (when this test is the first to load
    # them) and spoil `stats --json`: keep them to warnings, as `enrich run` does.
    options = StackOptions(state_dir=tmp_path / "state", handler_log_level=logging.WARNING)
    with LocalStack(options) as stack:
        api = ["--api-url", stack.url, "--api-key", str(stack.api_key)]
        assert main(["jobs", "create", "--all", "--dry-run", *api]) == 0
        assert "3 leads would be enriched (3 with a domain, 0 of them skipped" in capsys.readouterr().out

        wait = ["--wait", "--timeout", "30", "--poll", "0.2", "--output", str(output)]
        assert main(["jobs", "create", "--all", *wait, *api]) == 0
        printed = capsys.readouterr().out
        assert "3 leads queued" in printed and "3/3 leads found" in printed
        records = [json.loads(line) for line in output.read_text().splitlines()]
        assert sorted(r["domain"] for r in records) == sorted(SHOWCASE_DOMAINS[:3])
        assert supabase_db.scalar("select count(distinct lead_id) from emails where status = 'active'") == 3

        assert main(["jobs", "create", "--lead-ids", ids[0], "--skip-existing", *api]) == 0
        assert "0 leads queued (1 skipped: an active email already)" in capsys.readouterr().out
        assert main(["jobs", "create", "--all", *api]) == 0  # nothing missing an email: an empty job
        assert " 0 leads queued" in capsys.readouterr().out

        csv_file = tmp_path / "leads.csv"
        csv_file.write_text(
            "domain,external_id\n" + "".join(f"{d},x-{n}\n" for n, d in enumerate(SHOWCASE_DOMAINS[:4]))
        )
        mixed = tmp_path / "mixed.jsonl"
        csv_wait = ["--wait", "--timeout", "30", "--poll", "0.2", "--output", str(mixed)]
        assert main(["jobs", "create", "--csv", str(csv_file), "--skip-existing", *csv_wait, *api]) == 0
        rows = [json.loads(line) for line in mixed.read_text().splitlines()]
        assert [(r["external_id"], r["status"]) for r in rows] == [
            ("x-0", "skipped"),
            ("x-1", "skipped"),
            ("x-2", "skipped"),
            ("x-3", "risky"),  # no active email yet (an accept-all domain): a row per input line still
        ]
        assert rows[0]["reason"] == "the lead already has an active email (skip_existing)"
        capsys.readouterr()

        assert main(["stats", *api]) == 0
        shown = capsys.readouterr().out
        validated = supabase_db.scalar("select count(distinct lead_id) from emails where status = 'active'")
        assert "leads                       4" in shown and f"with a validated email    {validated}" in shown
        assert main(["stats", "--json", *api]) == 0
        assert json.loads(capsys.readouterr().out)["leads_missing_email"] == 4 - validated

        assert main(["jobs", "create", "--domains", "acme.com", "--dry-run", *api]) == 2
        assert "--dry-run goes with --all" in capsys.readouterr().err
