"""The Supabase job store on real servers (PostgreSQL, PostgREST, the /rest/v1 gateway): the shared `JobStore`
contract, under real concurrency (PostgREST runs each call in its own transaction on its own connection),
plus what is Supabase's own: the 0002 migration and its privileges, batching, errors, the activity rows,
numbers, and what PostgREST's max-rows limit must not cut.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest
from postgrest import APIError

from enrich_tools.supabase_harness import SupabaseTestServer
from enrich_tools.supabase_harness.postgres import apply_migrations
from leadenrich.engine.models import Lead
from leadenrich.jobs.models import Item, ItemStatus, JobCounters, JobStatus
from leadenrich.jobs.ports import Activity, CounterDelta, IdempotencyConflict, JobStore
from leadenrich.jobs.store_base import PageStored
from leadenrich.supabase import job_rows as supabase_job_rows
from leadenrich.supabase.client import SupabaseSettings, close_supabase_clients, supabase_client
from leadenrich.supabase.job_store import BATCH_ROWS, SupabaseJobStore
from tests.support.store_contract import (
    NOW,
    WS,
    JobStoreContract,
    all_items,
    claim,
    create,
    found,
    item_of,
    job_of,
    new_job,
)

FUNCTIONS = (
    "job_store_activity",
    "job_store_add_counters",
    "job_store_add_items",
    "job_store_cancel_job",
    "job_store_claim_item",
    "job_store_complete_job_if_done",
    "job_store_create_job",
    "job_store_defer_item",
    "job_store_due_jobs",
    "job_store_fail_job",
    "job_store_finish_item",
    "job_store_list_items",
    "job_store_list_jobs",
    "job_store_pause_job",
    "job_store_release_due",
    "job_store_requeue_items",
    "job_store_resume_job",
    "job_store_skip_item",
    "job_store_start_job",
    "job_store_update_job",
)
LEASE_TEXT = "2025-03-01T12:05:00+00:00"


@pytest.fixture
def settings(supabase_db: SupabaseTestServer) -> SupabaseSettings:
    settings = SupabaseSettings.from_env(supabase_db.env())
    assert settings is not None
    return settings


@pytest.fixture
async def store(settings: SupabaseSettings) -> AsyncIterator[SupabaseJobStore]:
    yield SupabaseJobStore(settings)
    await close_supabase_clients()


def conforms(store: SupabaseJobStore) -> JobStore:
    """mypy checks the adapter against the port here."""
    return store


class TestSupabaseJobStore(JobStoreContract):
    """The shared contract (tests/support/store_contract.py) on Supabase."""


async def rpc_calls(settings: SupabaseSettings) -> list[str]:
    """The functions the store's client calls from now on, in order (an httpx hook on the real client)."""
    calls: list[str] = []

    async def record(request: httpx.Request) -> None:
        if "/rpc/" in request.url.path:
            calls.append(request.url.path.rsplit("/", 1)[-1])

    session = (await supabase_client(settings)).postgrest.session
    session.event_hooks = {**session.event_hooks, "request": [*session.event_hooks["request"], record]}
    return calls


# --- the migration --------------------------------------------------------------------------------------


def test_0002_applies_from_scratch_and_again_unchanged(supabase_server: SupabaseTestServer) -> None:
    snapshot = (
        "select p.proname, pg_get_functiondef(p.oid) as def, p.proacl::text[] as acl, p.prosecdef"
        " from pg_proc as p where p.pronamespace = 'public'::regnamespace"
        " and p.proname like 'job\\_store\\_%' order by 1"
    )
    with supabase_server.scratch_database() as db:
        apply_migrations(db)
        first = db.query(snapshot)
        db.execute("insert into job_activity (workspace_id, minute, processed) values ('w', now(), 2)")
        apply_migrations(db)
        assert db.query(snapshot) == first
        assert db.scalar("select processed from job_activity") == 2  # re-applying keeps the data
    assert [f["proname"] for f in first] == list(FUNCTIONS)
    for function in first:
        # SECURITY INVOKER, executable by the owner and service_role only (not PUBLIC, anon, authenticated).
        assert function["prosecdef"] is False, function["proname"]
        assert {entry.split("=")[0] for entry in function["acl"]} == {"postgres", "service_role"}
        assert "SET search_path TO ''" in function["def"], function["proname"]


def test_the_float_counters_keep_0001s_column_types(supabase_db: SupabaseTestServer) -> None:
    """0002 adds in numeric inside the functions instead of changing the columns' types."""
    types = supabase_db.query(
        "select column_name, udt_name from information_schema.columns where table_schema = 'public'"
        " and table_name = 'jobs' and column_name in ('credits_hunter', 'cost_perplexity_usd',"
        " 'processing_time_seconds')"
    )
    assert {t["udt_name"] for t in types} == {"float8"} and len(types) == 3


def test_every_counter_has_its_column() -> None:
    columns = supabase_job_rows.COUNTER_COLUMNS
    assert set(columns) == {name for name in JobCounters.__dataclass_fields__}
    assert columns["total"] == "total_leads" and columns["failed"] == "failed_leads"


async def test_only_the_service_role_may_call_the_functions_or_read_activity(
    store: SupabaseJobStore, supabase_db: SupabaseTestServer
) -> None:
    await create(store, "j", 1)
    callers = {
        "anon": {"apikey": supabase_db.anon_key},
        "authenticated": {
            "apikey": supabase_db.anon_key,
            "Authorization": f"Bearer {supabase_db.user_token(WS)}",
        },
    }
    claim_args = {
        "p_workspace_id": WS,
        "p_job_id": "j",
        "p_item_id": "000000",
        "p_token": "t",
        "p_lease_until": LEASE_TEXT,
        "p_now": LEASE_TEXT,
    }
    async with httpx.AsyncClient(base_url=supabase_db.rest_url) as http:
        for role, headers in callers.items():
            response = await http.post("/rpc/job_store_claim_item", json=claim_args, headers=headers)
            assert response.status_code in (401, 403), role
            assert response.json()["code"] == "42501", role  # permission denied for function
            response = await http.get("/job_activity", headers=headers)
            assert response.json()["code"] == "42501", role
    assert (await item_of(store, "j")).status is ItemStatus.QUEUED


# --- creating -------------------------------------------------------------------------------------------


async def test_items_are_created_500_per_request(store: SupabaseJobStore, settings: SupabaseSettings) -> None:
    calls = await rpc_calls(settings)

    await create(store, "big", 2500)

    assert calls == ["job_store_create_job"] + ["job_store_add_items"] * 4
    assert len(await all_items(store, "big")) == 2500


async def test_a_failed_later_batch_marks_the_job_failed(store: SupabaseJobStore) -> None:
    job, items = new_job("j", 700)
    items[600].attempts = -1  # the table's check constraint refuses the second batch

    with pytest.raises(APIError) as refused:
        await store.create_job(job, items)

    assert refused.value.code == "23514"
    stored = await job_of(store, "j")
    assert stored.status is JobStatus.FAILED and stored.counters.total == 700
    assert len(await all_items(store, "j")) == 500  # the first batch, committed with the job


async def test_concurrent_creates_with_one_idempotency_key_make_one_job(store: SupabaseJobStore) -> None:
    async def attempt(n: int) -> str:
        try:
            return (await create(store, f"j{n}", 3, key="same")).job_id
        except IdempotencyConflict as conflict:
            return f"conflict:{conflict.job.job_id}"

    outcomes = await asyncio.gather(*(attempt(n) for n in range(4)))

    created = [o for o in outcomes if not o.startswith("conflict:")]
    assert len(created) == 1
    assert sorted(outcomes) == sorted([created[0]] + [f"conflict:{created[0]}"] * 3)
    assert [j.job_id for j in (await store.list_jobs(WS)).items] == created
    assert len(await all_items(store, created[0])) == 3


async def test_append_items_writes_a_batch_and_its_total_together(
    store: SupabaseJobStore, settings: SupabaseSettings
) -> None:
    job = await create(store, "j", 1)
    _, items = new_job("j", 1001)
    calls = await rpc_calls(settings)

    await store.append_items(job, items[1:])

    assert calls == ["job_store_add_items"] * 2  # 500 rows per request
    with pytest.raises(ValueError, match=r"^items: an item id"):  # the batch is refused as a whole
        await store.append_items(
            job, [replace(items[0], item_id="001000"), replace(items[0], item_id="002000")]
        )
    assert (await job_of(store, "j")).counters.total == 1001
    assert await store.get_item(WS, "j", "002000") is None


async def test_a_page_appended_again_after_a_failure_between_its_batches_is_completed(
    store: SupabaseJobStore,
) -> None:
    """A page of 1,001 items is three requests, not one transaction: when only its first batch landed (the
    state a failure before the second request leaves), the same page appended again skips that batch and
    stores the rest, each counted once; appended a third time, it is `PageStored`."""
    job = await create(store, "j", 0)
    _, items = new_job("j", 1001)
    await store.append_items(job, items[:BATCH_ROWS])

    await store.append_items(job, items)

    assert (await job_of(store, "j")).counters.total == 1001
    assert [i.item_id for i in await all_items(store, "j")] == [i.item_id for i in items]
    with pytest.raises(PageStored, match=r"^items: an item id of job j is stored already"):
        await store.append_items(job, items)
    assert (await job_of(store, "j")).counters.total == 1001


async def test_items_keep_their_stored_lead(store: SupabaseJobStore, supabase_db: SupabaseTestServer) -> None:
    lead_id = supabase_db.sql(
        f"insert into leads (workspace_id, company_name, domain) values ('{WS}', 'Acme', 'acme.com')"
        " returning id"
    ).strip()
    job, items = new_job("j", 2)
    items[0].lead_id = lead_id
    await store.create_job(job, items)

    assert (await item_of(store, "j")).lead_id == lead_id
    assert (await claim(store, "j")).lead_id == lead_id
    assert (await item_of(store, "j", "000001")).lead_id is None
    supabase_db.sql(f"delete from leads where id = '{lead_id}'")
    assert (await item_of(store, "j")).lead_id is None  # the item stays, unlinked (0001: on delete set null)


# --- rows and numbers -----------------------------------------------------------------------------------


async def test_updated_at_is_kept_by_the_database(store: SupabaseJobStore) -> None:
    await create(store, "j", 1)
    queued = await item_of(store, "j")
    assert queued.updated_at is not None and queued.updated_at.tzinfo is not None
    await asyncio.sleep(0.002)
    held = await claim(store, "j")
    assert held.updated_at is not None and held.updated_at > queued.updated_at


async def test_money_and_time_counters_add_in_decimal(
    store: SupabaseJobStore, supabase_db: SupabaseTestServer
) -> None:
    await create(store, "j", 10)
    for n in range(10):
        held = await claim(store, "j", f"{n:06d}", token=f"t{n}")
        delta = CounterDelta(credits_hunter=0.1, cost_perplexity_usd=0.007, processing_time_seconds=1.001)
        assert await store.finish_item(
            held, ItemStatus.NOT_FOUND, reason=None, result=None, delta=delta, now=NOW
        )

    counters = (await job_of(store, "j")).counters
    assert (counters.credits_hunter, counters.cost_perplexity_usd) == (1.0, 0.07)
    assert counters.processing_time_seconds == 10.01
    assert supabase_db.scalar("select cost_perplexity_usd = 0.07::float8 from jobs") is True


async def test_activity_is_one_row_per_minute_and_old_minutes_are_pruned(
    store: SupabaseJobStore, supabase_db: SupabaseTestServer
) -> None:
    await create(store, "j", 5)
    moments = [NOW - timedelta(days=3), NOW - timedelta(minutes=5), NOW, NOW + timedelta(seconds=59)]
    for n, when in enumerate(moments):
        held = await claim(store, "j", f"{n:06d}", token=f"t{n}")
        assert await store.finish_item(
            held, ItemStatus.FOUND, reason=None, result=None, delta=found(), now=when
        )

    rows = supabase_db.query("select minute, processed, found from job_activity order by minute")

    # The 3-day-old minute went when a newer minute got its first finish (kept two days, as on DynamoDB).
    assert rows == [
        {"minute": "2025-03-01T11:55:00+00:00", "processed": 1, "found": 1},
        {"minute": "2025-03-01T12:00:00+00:00", "processed": 2, "found": 2},
    ]
    assert await store.activity(WS, since=NOW - timedelta(days=4), now=NOW) == Activity(3, 3, 0)


# --- what max-rows must not cut, and what a concurrent change must not lose -------------------------------


async def test_requeue_returns_every_item_past_postgrests_max_rows(store: SupabaseJobStore) -> None:
    job, items = new_job("j", 1200, item_status=ItemStatus.FAILED)
    job.counters.processed = job.counters.failed = 1200
    await store.create_job(job, items)

    requeued = await store.requeue_items(WS, "j", frozenset({ItemStatus.FAILED}), NOW)

    assert [i.item_id for i in requeued] == [f"{n:06d}" for n in range(1200)]
    counters = (await job_of(store, "j")).counters
    assert (counters.processed, counters.failed) == (0, 0)
    page = await store.list_items(WS, "j", status=ItemStatus.QUEUED, limit=1000)
    assert len(page.items) == 1000 and page.cursor is not None  # the look-ahead row got past max-rows


async def test_requeue_leaves_an_item_changed_meanwhile_alone(
    store: SupabaseJobStore, supabase_db: SupabaseTestServer
) -> None:
    job, items = new_job("j", 3, item_status=ItemStatus.FAILED)
    job.counters.processed = job.counters.failed = 3
    await store.create_job(job, items)
    # Another transaction holds item 000001 and moves it out of 'failed' while the requeue waits for it.
    other = threading.Thread(
        target=supabase_db.sql,
        args=(
            "begin; update job_items set status = 'found' where item_id = '000001';"
            " select pg_sleep(0.5); commit;",
        ),
    )
    other.start()
    try:
        deadline = time.monotonic() + 5
        while not supabase_db.scalar(
            "select count(*) from pg_stat_activity"
            " where query like '%pg_sleep(0.5)%' and pid <> pg_backend_pid()"
        ):
            assert time.monotonic() < deadline, "the other transaction never started"
            await asyncio.sleep(0.01)

        requeued = await store.requeue_items(WS, "j", frozenset({ItemStatus.FAILED}), NOW)
    finally:
        other.join()

    assert [i.item_id for i in requeued] == ["000000", "000002"]
    assert (await item_of(store, "j", "000001")).status is ItemStatus.FOUND
    counters = (await job_of(store, "j")).counters
    assert (counters.processed, counters.failed) == (1, 1)


# --- errors and imports ---------------------------------------------------------------------------------


async def test_a_function_missing_from_the_api_names_the_migration(store: SupabaseJobStore) -> None:
    with pytest.raises(RuntimeError, match=r"apply infra/supabase/migrations/0002_job_store\.sql"):
        await store._rpc("job_store_missing", {"p_workspace_id": WS})


async def test_a_non_terminal_status_is_refused_by_the_database_too(
    store: SupabaseJobStore, settings: SupabaseSettings
) -> None:
    await create(store, "j", 1)
    held = await claim(store, "j")
    client = await supabase_client(settings)
    with pytest.raises(APIError) as refused:
        await client.rpc(
            "job_store_finish_item",
            {
                "p_workspace_id": WS,
                "p_job_id": "j",
                "p_item_id": "000000",
                "p_token": held.lease_token,
                "p_status": "queued",
                "p_reason": None,
                "p_result": None,
                "p_delta": {"processed_leads": 1},
                "p_now": LEASE_TEXT,
            },
        ).execute()
    assert refused.value.code == "22023" and "status: queued is not terminal" in str(refused.value.message)
    assert (await job_of(store, "j")).counters.processed == 0


def test_importing_the_store_does_not_import_supabase() -> None:
    """Handlers import the runtime at cold start; the client library loads on first use only."""
    code = (
        "import sys, leadenrich.runtime, leadenrich.supabase.job_store;"
        "loaded = sorted(m for m in ('supabase', 'postgrest', 'httpx') if m in sys.modules);"
        "assert loaded == [], loaded"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env=None)


def test_items_keep_leads_results_and_times_exactly() -> None:
    """An item as stored, read back through PostgREST, equals the one written (times in UTC)."""
    row: dict[str, Any] = {
        "workspace_id": WS,
        "job_id": "j",
        "item_id": "000000",
        "lead": {"domain": "acme.com", "first_name": "Zoë"},
        "status": "deferred",
        "attempts": 2,
        "reason": "202",
        "result": {"score": 0.1, "emails": []},
        "updated_at": "2025-03-01T13:00:00.000001+01:00",
        "lease_token": None,
        "lease_until": None,
        "next_attempt_at": "2025-03-01T12:00:00.5+00:00",
    }
    item = supabase_job_rows.item_from_row(row)
    assert item == Item(
        WS,
        "j",
        "000000",
        Lead(domain="acme.com", first_name="Zoë"),
        status=ItemStatus.DEFERRED,
        attempts=2,
        reason="202",
        result={"score": 0.1, "emails": []},
        updated_at=NOW + timedelta(microseconds=1),
        next_attempt_at=NOW + timedelta(milliseconds=500),
    )
    assert item.updated_at is not None and item.updated_at.utcoffset() == timedelta(0)
