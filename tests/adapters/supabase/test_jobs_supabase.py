"""The whole path with Supabase as lead source and email sink, through the Lambda handlers: real API Gateway
and EventBridge events, DynamoDB and SQS on moto, providers on the simulator, PostgreSQL + PostgREST.

Given leads in Supabase (or sent inline), when a job is created and the processor drains it, then every
found address is in `emails` for its lead, a re-run writes no duplicates, and skip_existing leaves out the
leads that have an active email.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

import handle_process
from enrich_tools.simulator import SHOWCASE_DOMAINS, SimulatorServer
from enrich_tools.supabase_harness import SupabaseTestServer
from leadenrich import runtime
from leadenrich.jobs.models import DEFAULT_WORKSPACE
from tests.support.lambda_env import lambda_env_on_moto
from tests.support.lambda_events import SCHEDULED_EVENT, Context, call
from tests.support.simulator import base_config

FOUND = SHOWCASE_DOMAINS[:3]  # each has an address in the simulator's world


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorServer]:
    with SimulatorServer(base_config()) as running:
        yield running


@pytest.fixture(autouse=True)
def stack(
    simulator: SimulatorServer,
    supabase_db: SupabaseTestServer,
    mocked_aws: None,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[SupabaseTestServer]:
    monkeypatch.delenv("JOB_STORE", raising=False)
    lambda_env_on_moto(simulator, monkeypatch, supabase_db.env())
    yield supabase_db
    runtime.reset()


def drain() -> dict[str, Any]:
    summary: dict[str, Any] = handle_process.handler(SCHEDULED_EVENT, Context())  # type: ignore[arg-type]
    return summary


def items_of(job_id: str) -> list[dict[str, Any]]:
    status, page, _ = call("GET", f"/jobs/{job_id}/items", query={"limit": "1000"})
    assert status == 200
    items: list[dict[str, Any]] = page["items"]
    return items


def seed(db: SupabaseTestServer, domains: tuple[str, ...] | list[str]) -> list[str]:
    ids = [str(uuid.uuid4()) for _ in domains]
    values = ", ".join(
        f"('{i}', '{DEFAULT_WORKSPACE}', '{d}', '{d}')" for i, d in zip(ids, domains, strict=True)
    )
    db.sql(f"insert into leads (id, workspace_id, company_name, domain) values {values}")
    return ids


def emails(db: SupabaseTestServer) -> list[dict[str, Any]]:
    return db.query(
        "select l.domain, e.lead_id::text, e.email, e.email_type, e.status, e.source, e.confidence_score"
        " from emails e join leads l on l.id = e.lead_id order by l.domain, e.email"
    )


def test_inline_leads_write_their_addresses_to_emails_and_a_rerun_writes_no_duplicates(
    stack: SupabaseTestServer,
) -> None:
    leads = [{"domain": d, "external_id": f"crm-{n}"} for n, d in enumerate(FOUND)] + [
        {"domain": "gmail.com"}
    ]
    status, job, _ = call("POST", "/jobs", body={"leads": leads})
    assert status == 202 and job["counters"]["total"] == 4
    assert job["selection"] == {
        "source": "leads",
        "leads": 4,
        "skipped_existing": 0,
        "next_after_lead_id": None,
        "skipped_recent": 0,
    }

    assert drain()["completed_jobs"] == [job["job_id"]]

    items = items_of(job["job_id"])
    stored_leads = stack.query("select id::text, domain, external_id from leads order by domain")
    assert [(row["domain"], row["external_id"]) for row in stored_leads] == sorted(
        [(d, f"crm-{n}") for n, d in enumerate(FOUND)] + [("gmail.com", None)]
    )
    lead_ids = {row["domain"]: row["id"] for row in stored_leads}
    assert [i["lead_id"] for i in items] == [lead_ids[lead["domain"]] for lead in leads]
    written = emails(stack)
    from_items = sorted(
        (
            i["lead"]["domain"],
            i["lead_id"],
            e["email"],
            e["email_type"],
            e["status"],
            e["source"],
            e["confidence_score"],
        )
        for i in items
        for e in i["emails"]
    )
    assert [tuple(row.values()) for row in written] == from_items  # every address found, as found
    assert {row["domain"] for row in written} == set(FOUND)  # gmail.com: invalid, nothing written
    _, done, _ = call("GET", f"/jobs/{job['job_id']}")
    assert done["counters"]["created_emails"] == len(written)

    status, again, _ = call("POST", "/jobs", body={"leads": leads})
    assert status == 202 and drain()["completed_jobs"] == [again["job_id"]]
    assert stack.scalar("select count(*) from leads") == 4  # matched, not added again
    assert emails(stack) == written  # the same rows: no duplicates, nothing changed
    assert stack.scalar("select count(*) from (select lead_id from emails where email_type = 'primary'"
                        " group by lead_id having count(*) > 1) as twice") == 0  # fmt: skip

    status, skipping, _ = call("POST", "/jobs", body={"leads": leads, "skip_existing": True})
    validated = stack.scalar("select count(distinct lead_id) from emails where status = 'active'")
    assert status == 202 and skipping["selection"]["skipped_existing"] == validated
    assert skipping["counters"]["total"] == 4 - validated and skipping["options"]["skip_existing"] is True


def test_lead_ids_and_domains_select_stored_leads_and_skip_existing_honours_active_emails(
    stack: SupabaseTestServer,
) -> None:
    ids = seed(stack, list(FOUND))
    status, job, _ = call("POST", "/jobs", body={"lead_ids": [ids[1], ids[0], ids[1]]})
    assert status == 202 and job["counters"]["total"] == 2  # each lead once, in the order given
    drain()
    assert [i["lead_id"] for i in items_of(job["job_id"])] == [ids[1], ids[0]]
    assert {row["lead_id"] for row in emails(stack)} == {ids[0], ids[1]}

    status, by_domain, _ = call(
        "POST",
        "/jobs",
        body={"domains": [f"https://www.{d.upper()}/" for d in FOUND] + ["new-co.io"], "skip_existing": True},
    )
    assert status == 202
    assert by_domain["selection"]["skipped_existing"] == 2  # ids[0], ids[1] have active emails now
    picked = {i["lead"]["domain"]: i["lead_id"] for i in items_of(by_domain["job_id"])}
    assert picked[FOUND[2]] == ids[2] and set(picked) == {FOUND[2], "new-co.io"}
    assert stack.scalar("select count(*) from leads where domain = 'new-co.io'") == 1  # added for its domain

    status, refused, _ = call("POST", "/jobs", body={"lead_ids": [ids[0], str(uuid.uuid4())]})
    assert status == 422 and refused["field"] == "body.lead_ids.1" and "no lead" in refused["message"]
    status, refused, _ = call("POST", "/jobs", body={"lead_ids": ["not-a-uuid"]})
    assert status == 422 and refused["field"] == "body.lead_ids.0"


def test_process_all_counts_with_a_dry_run_and_continues_after_its_limit(stack: SupabaseTestServer) -> None:
    ids = sorted(seed(stack, [f"{n}-{d}" for n, d in enumerate(SHOWCASE_DOMAINS)]))
    stack.sql(
        "insert into emails (lead_id, email, source, email_type, status)"
        f" values ('{ids[0]}', 'ceo@x.com', 'hunter_direct', 'primary', 'active')"
    )
    jobs_before = call("GET", "/jobs")[1]["jobs"]

    status, counts, _ = call("POST", "/jobs", body={"process_all": True, "dry_run": True, "limit": 3})
    assert status == 200 and counts == {
        "dry_run": True,
        "leads": 3,
        "matching": 4,
        "with_domain": 5,
        "skipped_existing": 1,
        "skipped_recent": 0,
        "skip_existing": True,
    }
    assert call("GET", "/jobs")[1]["jobs"] == jobs_before  # nothing created

    status, first, _ = call("POST", "/jobs", body={"process_all": True, "limit": 3})
    assert status == 202 and first["counters"]["total"] == 3
    assert first["selection"]["next_after_lead_id"] == ids[3]
    status, rest, _ = call("POST", "/jobs", body={"process_all": True, "after_lead_id": ids[3]})
    assert rest["counters"]["total"] == 1 and rest["selection"]["next_after_lead_id"] is None
    assert [i["lead_id"] for j in (first, rest) for i in items_of(j["job_id"])] == ids[1:]

    status, everything, _ = call("POST", "/jobs", body={"process_all": True, "skip_existing": False})
    assert everything["counters"]["total"] == 5
    status, refused, _ = call("POST", "/jobs", body={"lead_ids": [ids[0]], "dry_run": True})
    assert status == 422 and refused["field"] == "body.dry_run"


def test_process_all_with_nothing_to_do_is_a_completed_empty_job(stack: SupabaseTestServer) -> None:
    status, job, _ = call("POST", "/jobs", body={"process_all": True})
    assert status == 202 and job["status"] == "completed" and job["counters"]["total"] == 0


def test_stats_count_leads_addresses_by_source_and_status_and_average_confidence(
    stack: SupabaseTestServer,
) -> None:
    ids = seed(stack, ["a.com", "b.com", "c.com"])
    seed(stack, [""])  # a lead without a domain
    stack.sql(
        "insert into emails (lead_id, email, source, email_type, status, confidence_score) values"
        f" ('{ids[0]}', 'x@a.com', 'hunter_direct', 'primary', 'active', 96),"
        f" ('{ids[0]}', 'y@a.com', 'perplexity_generated', 'secondary', 'inactive', 60),"
        f" ('{ids[1]}', 'z@b.com', 'perplexity_generated', 'primary', 'active', 85)"
    )
    stack.sql("insert into leads (workspace_id, company_name, domain) values ('elsewhere', 'E', 'e.com')")

    status, stats, _ = call("GET", "/stats")

    assert status == 200 and stats == {
        "total_leads": 4,
        "leads_with_domain": 3,
        "leads_with_validated_email": 2,
        "leads_missing_email": 1,
        "emails": {
            "total": 3,
            "by_source": {
                "hunter_direct": {"active": 1, "inactive": 0},
                "perplexity_generated": {"active": 1, "inactive": 1},
            },
        },
        "average_confidence_score": 80.3,
        "average_confidence_score_active": 90.5,
    }


def test_a_failed_email_write_defers_the_item_instead_of_finishing_it(stack: SupabaseTestServer) -> None:
    [lead] = seed(stack, [FOUND[0]])
    status, job, _ = call("POST", "/jobs", body={"lead_ids": [lead]})
    assert status == 202
    stack.sql("alter table emails add constraint test_refuse_all check (false) not valid")
    try:
        summary = drain()
    finally:
        stack.sql("alter table emails drop constraint test_refuse_all")
    assert summary["deferred"] == 1 and summary["finished"] == 0
    [item] = items_of(job["job_id"])
    assert (
        item["status"] == "deferred"
        and item["reason"] == "storing the emails failed (LeadStoreError); retried"
    )
    assert "@" not in item["reason"]


def test_supabase_down_is_a_503_and_never_a_partial_job(
    stack: SupabaseTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUPABASE_URL", "http://127.0.0.1:9")
    runtime.reset()
    status, answer, headers = call("POST", "/jobs", body={"process_all": True})
    assert status == 503 and answer["message"] == "Supabase enrichable_leads: unreachable (ConnectError)"
    assert headers["Retry-After"] == "5"
    assert all(j["status"] == "cancelled" for j in call("GET", "/jobs")[1]["jobs"])  # nothing left to run
    status, answer, _ = call("POST", "/jobs", body={"domains": ["acme.com"]})
    assert status == 503 and call("GET", "/stats")[0] == 503
