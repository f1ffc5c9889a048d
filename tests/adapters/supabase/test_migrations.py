"""The migrations: from scratch, again (idempotent), over the original design's tables, and never creating
what a hosted Supabase project already has."""

from __future__ import annotations

import re
from typing import Any

import pytest

from enrich_tools.supabase_harness import MIGRATIONS_DIR, Psql, SqlError, SupabaseTestServer, migration_files
from enrich_tools.supabase_harness.postgres import apply_migrations

TABLES = ("leads", "emails", "jobs", "job_items")

# The original design's tables (before workspaces), as a Supabase project of the first version has them.
ORIGINAL_DESIGN = """
create table leads (
    id uuid primary key default gen_random_uuid(),
    company_name text not null,
    domain text not null,
    industry text,
    company_size text,
    location text,
    created_at timestamp with time zone default now(),
    updated_at timestamp with time zone default now()
);
create table emails (
    id uuid primary key default gen_random_uuid(),
    lead_id uuid references leads(id) on delete cascade,
    email text not null,
    source text not null check (source in ('hunter_direct', 'perplexity_generated')),
    confidence_score integer check (confidence_score >= 0 and confidence_score <= 100),
    email_type text not null check (email_type in ('primary', 'secondary')),
    hunter_status text check (hunter_status in ('deliverable', 'undeliverable', 'risky', 'unknown')),
    verified_at timestamp with time zone default now(),
    status text not null default 'active' check (status in ('active', 'inactive')),
    created_at timestamp with time zone default now(),
    updated_at timestamp with time zone default now(),
    unique(lead_id, email)
);
create index idx_emails_lead_id on emails(lead_id);
create table jobs (
    id uuid primary key default gen_random_uuid(),
    job_id text not null unique,
    lead_ids jsonb,
    domains jsonb,
    process_all boolean default false,
    skip_existing boolean default true,
    max_concurrent integer,
    batch_size integer,
    status text not null
        check (status in ('pending', 'running', 'paused', 'completed', 'failed', 'cancelled')),
    progress jsonb default '{}',
    error_message text,
    started_at timestamp with time zone,
    completed_at timestamp with time zone,
    total_leads integer default 0,
    processed_leads integer default 0,
    failed_leads integer default 0,
    created_emails integer default 0,
    api_calls_hunter integer default 0,
    api_calls_perplexity integer default 0,
    processing_time_seconds float default 0.0,
    created_at timestamp with time zone default now(),
    updated_at timestamp with time zone default now()
);
create index idx_jobs_status on jobs(status);
insert into leads (id, company_name, domain)
    values ('00000000-0000-0000-0000-000000000001', 'Acme', 'acme.com');
insert into emails (lead_id, email, source, email_type)
    values ('00000000-0000-0000-0000-000000000001', 'jane@acme.com', 'hunter_direct', 'primary');
insert into jobs (job_id, status) values ('job-1', 'completed');
"""


def schema_snapshot(db: Psql) -> dict[str, list[dict[str, Any]]]:
    """Everything the migrations define, in a comparable form."""
    in_tables = "(" + ", ".join(f"'{t}'" for t in TABLES) + ")"
    return {
        "columns": db.query(
            "select table_name, column_name, data_type, is_nullable, column_default"
            f" from information_schema.columns where table_schema = 'public' and table_name in {in_tables}"
            " order by table_name, ordinal_position"
        ),
        "indexes": db.query(
            f"select tablename, indexname, indexdef from pg_indexes where schemaname = 'public'"
            f" and tablename in {in_tables} order by indexname"
        ),
        "constraints": db.query(
            "select conrelid::regclass::text as tbl, conname, pg_get_constraintdef(oid) as def"
            " from pg_constraint where connamespace = 'public'::regnamespace order by conname"
        ),
        "policies": db.query(
            "select tablename, policyname, cmd, roles::text[] as roles, qual, with_check from pg_policies"
            " where schemaname = 'public' order by tablename, policyname"
        ),
        "rls": db.query(
            "select relname, relrowsecurity, relforcerowsecurity from pg_class"
            f" where relnamespace = 'public'::regnamespace and relname in {in_tables} order by relname"
        ),
        "triggers": db.query(
            "select event_object_table as tbl, trigger_name, action_timing, event_manipulation"
            " from information_schema.triggers where trigger_schema = 'public' order by 1, 2"
        ),
        "grants": db.query(
            "select table_name, grantee, privilege_type from information_schema.role_table_grants"
            f" where table_schema = 'public' and table_name in {in_tables}"
            " and grantee in ('anon', 'authenticated', 'service_role') order by 1, 2, 3"
        ),
    }


def columns(db: Psql, table: str) -> dict[str, dict[str, Any]]:
    rows = db.query(
        "select column_name, data_type, udt_name, is_nullable, column_default from information_schema.columns"
        f" where table_schema = 'public' and table_name = '{table}'"
    )
    return {row["column_name"]: row for row in rows}


def test_the_folder_holds_ordered_migrations_starting_with_the_core() -> None:
    files = migration_files()
    assert files and files[0].name == "0001_core.sql"
    assert [f.name for f in files] == sorted(f.name for f in MIGRATIONS_DIR.glob("*.sql"))


def test_migrations_create_no_roles_and_no_auth_schema() -> None:
    """A hosted Supabase project has its roles and auth.jwt(); the migrations must not touch them."""
    for path in migration_files():
        text = re.sub(r"--[^\n]*", "", path.read_text()).lower()
        for forbidden in ("create role", "alter role", "create schema", "create or replace function auth."):
            assert forbidden not in text, (path.name, forbidden)


def test_migrations_need_supabase_auth_jwt(supabase_server: SupabaseTestServer) -> None:
    """Without the harness's bootstrap (Supabase's auth schema) the migrations fail: they rely on it."""
    with (
        supabase_server.scratch_database(bootstrapped=False) as bare,
        pytest.raises(SqlError, match='schema "auth" does not exist'),
    ):
        apply_migrations(bare)


def test_migrations_apply_from_scratch_and_again_unchanged(supabase_server: SupabaseTestServer) -> None:
    with supabase_server.scratch_database() as db:
        apply_migrations(db)
        first = schema_snapshot(db)
        db.execute(
            "insert into leads (company_name, domain, workspace_id) values ('Acme', 'acme.com', 'w');"
            "insert into jobs (job_id, status, workspace_id) values ('j1', 'pending', 'w');"
        )
        apply_migrations(db)
        assert schema_snapshot(db) == first
        assert db.scalar("select count(*) from leads") == 1  # re-applying keeps the data
        assert db.scalar("select count(*) from jobs") == 1

        leads = columns(db, "leads")
        assert set(leads) == {
            "id", "company_name", "domain", "industry", "company_size", "location", "created_at",
            "updated_at", "workspace_id", "first_name", "last_name", "external_id",
            # 0012: company data and domain resolution
            "company_description", "company_country", "company_data", "company_completeness",
            "company_enriched_at", "domain_confidence", "domain_resolved_by",
            # 0015: the enrichment record (docs/auto-enrichment.md)
            "enrichment_status", "enrichment_outcome", "enriched_at", "enrichment_error", "sources_used",
            "sources_failed",
            # 0017: the lead's pending enrichment (docs/auto-enrichment.md)
            "enrichment_job_id", "enrichment_requested_at",
        }  # fmt: skip
        assert leads["id"]["column_default"] == "gen_random_uuid()"
        assert leads["workspace_id"]["is_nullable"] == "NO"
        assert leads["workspace_id"]["column_default"] == "'default'::text"

        emails = columns(db, "emails")
        assert {
            "lead_id", "email", "source", "confidence_score", "email_type", "hunter_status", "verified_at",
            "status", "workspace_id",
        } <= set(emails)  # fmt: skip
        assert emails["status"]["column_default"] == "'active'::text"

        jobs = columns(db, "jobs")
        assert jobs["tags"]["udt_name"] == "_text" and jobs["tags"]["column_default"] == "'{}'::text[]"
        for name, udt in {
            "found_leads": "int4",
            "credits_hunter": "float8",
            "cost_perplexity_usd": "float8",
            "priority": "int4",
            "max_attempts": "int4",
            "webhook_url": "text",
            "idempotency_key": "text",
            "lead_ids": "jsonb",
            "progress": "jsonb",
            "processing_time_seconds": "float8",
            "queue_window": "int4",
        }.items():
            assert jobs[name]["udt_name"] == udt, name

        items = columns(db, "job_items")
        assert set(items) == {
            "workspace_id", "job_id", "item_id", "lead", "lead_id", "status", "attempts", "reason", "result",
            "lease_token", "lease_until", "next_attempt_at", "created_at", "updated_at", "sent_next",
        }  # fmt: skip
        assert items["lead"]["is_nullable"] == "NO" and items["lead"]["udt_name"] == "jsonb"
        assert jobs["queue_window"]["is_nullable"] == "YES"  # null: every item enqueued at creation
        assert jobs["webhook_events"]["udt_name"] == "_text"
        assert jobs["webhook_events"]["column_default"] == "'{job.completed}'::text[]"
        assert items["sent_next"]["is_nullable"] == "NO" and items["sent_next"]["column_default"] == "false"

        indexes = {row["indexname"]: row["indexdef"] for row in first["indexes"]}
        for name in (
            "idx_emails_lead_id",
            "idx_emails_status",
            "idx_emails_confidence",
            "idx_emails_workspace_id",
            "idx_leads_workspace_domain",
            "idx_leads_workspace_id",
            "idx_jobs_status",
            "idx_jobs_created_at",
            "idx_jobs_job_id",
            "idx_jobs_workspace_created_at",
            "idx_job_items_job_status",
        ):
            assert name in indexes, name
        assert "WHERE (email_type = 'primary'::text)" in indexes["idx_emails_one_primary_per_lead"]
        assert indexes["idx_emails_one_primary_per_lead"].startswith("CREATE UNIQUE INDEX")
        assert (
            "(workspace_id, idempotency_key) WHERE (idempotency_key IS NOT NULL)"
            in (indexes["idx_jobs_workspace_idempotency_key"])
        )
        assert indexes["job_items_pkey"].endswith("(job_id, item_id)")

        triggers = {
            (row["tbl"], row["action_timing"], row["event_manipulation"]) for row in first["triggers"]
        }
        assert triggers == {(table, "BEFORE", "UPDATE") for table in TABLES} | {
            ("emails", "BEFORE", "INSERT"),
            ("leads", "BEFORE", "INSERT"),  # 0017: an inserted lead marked pending (docs/auto-enrichment.md)
        }
        assert all(row["relrowsecurity"] for row in first["rls"])
        assert len(first["rls"]) == 4


def test_migrations_upgrade_the_original_design(supabase_server: SupabaseTestServer) -> None:
    """A project created from the first version's schema gets the new columns; its rows land in 'default'."""
    with supabase_server.scratch_database() as db:
        db.execute(ORIGINAL_DESIGN)
        apply_migrations(db)
        apply_migrations(db)
        assert db.query("select workspace_id, domain from leads") == [
            {"workspace_id": "default", "domain": "acme.com"}
        ]
        assert db.scalar("select workspace_id from emails") == "default"
        job = db.query("select workspace_id, priority, max_attempts, tags, found_leads from jobs")[0]
        assert job == {
            "workspace_id": "default",
            "priority": 3,
            "max_attempts": 5,
            "tags": [],
            "found_leads": 0,
        }
        constraints = {row["conname"] for row in db.query("select conname from pg_constraint")}
        assert "emails_lead_workspace_fkey" in constraints and "emails_lead_id_fkey" not in constraints
        assert db.scalar("select count(*) from pg_policies where schemaname = 'public'") == 16
        db.execute("delete from leads")
        assert db.scalar("select count(*) from emails") == 0  # still cascades


def test_policies_let_authenticated_users_into_their_workspace_only(
    supabase_server: SupabaseTestServer,
) -> None:
    policies = supabase_server.query(
        "select tablename, cmd, roles::text[] as roles, qual, with_check from pg_policies"
        " where schemaname = 'public'"
    )
    assert {(p["tablename"], p["cmd"]) for p in policies} == {
        (table, cmd) for table in TABLES for cmd in ("SELECT", "INSERT", "UPDATE", "DELETE")
    }
    rule = "(workspace_id = ( SELECT request_workspace_id() AS request_workspace_id))"
    for policy in policies:
        assert policy["roles"] == ["authenticated"], policy  # no policy for anon: it sees nothing
        if policy["cmd"] != "INSERT":
            assert policy["qual"] == rule, policy
        if policy["cmd"] in ("INSERT", "UPDATE"):
            assert policy["with_check"] == rule, policy
    assert supabase_server.scalar("select rolbypassrls from pg_roles where rolname = 'service_role'") is True


def test_0005_grades_the_addresses_an_existing_database_holds_and_admits_risky_items(
    supabase_server: SupabaseTestServer,
) -> None:
    """A database at 0004 with addresses and items in it: 0005 gives every address the grade its fields
    allow, holds new rows to `active` exactly when `verified`, and lets an item finish `risky`."""
    with supabase_server.scratch_database() as db:
        for path in migration_files():
            if path.name < "0005":
                db.file(path)
        db.execute(
            "insert into leads (id, company_name, domain, workspace_id) values"
            " ('00000000-0000-0000-0000-000000000001', 'Acme', 'acme.com', 'w');"
            "insert into emails (lead_id, workspace_id, email, source, email_type, hunter_status, status)"
            " values"
            " ('00000000-0000-0000-0000-000000000001', 'w', 'a@acme.com', 'hunter_direct', 'primary',"
            "  'deliverable', 'active'),"
            " ('00000000-0000-0000-0000-000000000001', 'w', 'b@acme.com', 'hunter_direct', 'secondary',"
            "  'risky', 'inactive'),"
            " ('00000000-0000-0000-0000-000000000001', 'w', 'c@acme.com', 'perplexity_generated',"
            "  'secondary', 'unknown', 'inactive'),"
            " ('00000000-0000-0000-0000-000000000001', 'w', 'd@acme.com', 'perplexity_generated',"
            "  'secondary', 'undeliverable', 'inactive');"
            "insert into jobs (job_id, status, workspace_id) values ('j1', 'running', 'w');"
            "insert into job_items (workspace_id, job_id, item_id, lead, status)"
            " values ('w', 'j1', '000000', '{\"domain\": \"acme.com\"}', 'found');"
        )
        apply_migrations(db)
        apply_migrations(db)  # and again: idempotent with rows in place

        grades = db.query("select email, deliverability, contact from emails order by email")
        assert grades == [
            {"email": "a@acme.com", "deliverability": "verified", "contact": None},
            {"email": "b@acme.com", "deliverability": "catch_all", "contact": None},
            {"email": "c@acme.com", "deliverability": "unknown", "contact": None},
            {"email": "d@acme.com", "deliverability": "undeliverable", "contact": None},
        ]
        assert columns(db, "emails")["deliverability"]["is_nullable"] == "NO"
        with pytest.raises(SqlError, match="emails_deliverability_check"):
            db.execute("update emails set deliverability = 'catch_all' where email = 'a@acme.com'")
        with pytest.raises(SqlError, match="emails_deliverability_check"):
            db.execute("update emails set deliverability = 'safe' where email = 'b@acme.com'")
        with pytest.raises(SqlError, match="emails_contact_check"):
            db.execute("update emails set contact = 'ceo' where email = 'b@acme.com'")

        db.execute(
            "update emails set status = 'inactive', hunter_status = 'risky' where email = 'a@acme.com'"
        )
        assert db.scalar("select deliverability from emails where email = 'a@acme.com'") == "catch_all"
        db.execute(
            "insert into emails (lead_id, workspace_id, email, source, email_type, status) values"
            " ('00000000-0000-0000-0000-000000000001', 'w', 'e@acme.com', 'hunter_direct', 'secondary',"
            "  'active')"
        )  # a writer that knows nothing of grades
        assert db.scalar("select deliverability from emails where email = 'e@acme.com'") == "verified"

        db.execute("update job_items set status = 'risky' where item_id = '000000'")
        assert db.scalar("select status from job_items") == "risky"
        with pytest.raises(SqlError, match="job_items_status_check"):
            db.execute("update job_items set status = 'maybe' where item_id = '000000'")


def test_0007_adds_job_control_to_a_database_holding_jobs(supabase_server: SupabaseTestServer) -> None:
    """A database at 0006 with a job in it: 0007 makes it an enrichment job with no schedule, caps, reason
    or due time, holds kind and caps to their values, and the due look-up reads through the partial due
    index without sorting."""
    with supabase_server.scratch_database() as db:
        for path in migration_files():
            if path.name < "0007":
                db.file(path)
        db.execute("insert into jobs (job_id, status, workspace_id) values ('j1', 'running', 'w');")
        apply_migrations(db)
        apply_migrations(db)  # and again: idempotent with rows in place

        job = db.query("select kind, run_at, max_credits, max_cost_usd, paused_reason, due_at from jobs")
        assert job == [
            {
                "kind": "enrichment",
                "run_at": None,
                "max_credits": None,
                "max_cost_usd": None,
                "paused_reason": None,
                "due_at": None,
            }
        ]
        jobs = columns(db, "jobs")
        assert {name: jobs[name]["udt_name"] for name in ("kind", "run_at", "max_credits", "due_at")} == {
            "kind": "text",
            "run_at": "timestamptz",
            "max_credits": "float8",
            "due_at": "timestamptz",
        }
        assert jobs["kind"]["is_nullable"] == "NO" and jobs["paused_reason"]["udt_name"] == "text"
        index = db.scalar("select indexdef from pg_indexes where indexname = 'idx_jobs_due'")
        assert index.endswith("(due_at, workspace_id, job_id) WHERE (due_at IS NOT NULL)")
        with pytest.raises(SqlError, match="jobs_kind_check"):
            db.execute("update jobs set kind = 'scraping'")
        with pytest.raises(SqlError, match="jobs_caps_check"):
            db.execute("update jobs set max_cost_usd = -1")
        db.execute("update jobs set status = 'paused', paused_reason = 'budget_reached', max_credits = 5")

        plan = db.execute(
            "set enable_seqscan = off; explain select j.* from public.jobs as j where j.due_at <= now()"
            " order by j.due_at, j.workspace_id, j.job_id limit 10"
        )
        assert "idx_jobs_due" in plan and "Sort" not in plan
