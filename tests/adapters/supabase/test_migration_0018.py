"""Migration 0018 (jobs made from an uploaded CSV) over a database that holds jobs already: the `upload`
column arrives empty, is held to a JSON object, and the functions it replaces still serve the older rows."""

from __future__ import annotations

import pytest

from enrich_tools.supabase_harness import SqlError, SupabaseTestServer, migration_files
from enrich_tools.supabase_harness.postgres import apply_migrations


def test_0018_adds_the_upload_state_to_a_database_holding_jobs(supabase_server: SupabaseTestServer) -> None:
    with supabase_server.scratch_database() as db:
        for path in migration_files():
            if path.name < "0018":
                db.file(path)
        db.execute(
            "insert into jobs (job_id, status, workspace_id, company_data, lawful_basis, total_leads)"
            " values ('j1', 'pending', 'w', true, 'consent', 2);"
        )
        apply_migrations(db)
        apply_migrations(db)  # and again: idempotent with rows in place

        assert db.query("select job_id, upload, company_data, lawful_basis from jobs") == [
            {"job_id": "j1", "upload": None, "company_data": True, "lawful_basis": "consent"}
        ]
        udt = db.scalar(
            "select udt_name from information_schema.columns"
            " where table_name = 'jobs' and column_name = 'upload'"
        )
        assert udt == "jsonb"
        with pytest.raises(SqlError, match="jobs_upload_check"):
            db.execute("""update jobs set upload = '["not", "an", "object"]'""")

        # 0007's update left lawful_basis and company_data as created; 0018's writes every option.
        db.execute(
            "select job_store_update_job('w', 'j1', '{\"priority\": 2, \"max_attempts\": 5,"
            ' "skip_existing": false, "upload": {"upload_id": "u", "key": "k", "size": 3}}\'::jsonb,'
            " null, null)"
        )
        assert db.query("select priority, upload, company_data, lawful_basis from jobs") == [
            {
                "priority": 2,
                "upload": {"upload_id": "u", "key": "k", "size": 3},
                "company_data": False,
                "lawful_basis": "legitimate_interest",
            }
        ]
        # A page is appended where the total stands (2), and only there.
        page = """'[{"item_id": "000002", "lead": {"domain": "a.com"}}]'::jsonb"""
        with pytest.raises(SqlError, match="not where the page starts"):
            db.execute(f"select job_store_add_items('w', 'j1', {page.replace('000002', '000001')}, true)")
        assert db.scalar(f"select job_store_add_items('w', 'j1', {page}, true)") == 1
        assert db.scalar("select total_leads from jobs") == 3

        failed = db.scalar("select job_store_fail_job('w', 'j1', '2025-03-01T12:00:00Z')->>'status'")
        assert failed == "failed"
        assert db.scalar("select job_store_fail_job('w', 'j1', now()) is null") is True
        granted = db.scalar(
            "select has_function_privilege('service_role', 'job_store_fail_job(text, text, timestamptz)',"
            " 'execute')"
        )
        refused = db.scalar(
            "select has_function_privilege('authenticated', 'job_store_fail_job(text, text, timestamptz)',"
            " 'execute')"
        )
        assert (granted, refused) == (True, False)
