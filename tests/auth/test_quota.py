"""The per-workspace daily lead quota: through the handler (429 + Retry-After), the service (given back
when a job is not created, untouched by dry runs) and the adapters (atomic under concurrency), DynamoDB and
SQLite held to the same tests. The SQLite file's own tests (a restart, threads) are in
`tests/adapters/sqlite/test_sqlite_quota.py`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from leadenrich import runtime
from leadenrich.auth.quota import LeadQuota, QuotaExceeded, seconds_to_midnight, utc_day
from leadenrich.aws.dynamo_quota import DynamoLeadQuota
from leadenrich.engine.models import Lead
from leadenrich.jobs.models import SourcedLead
from leadenrich.jobs.ports import EnrichableCount
from leadenrich.jobs.requests import CreateJobRequest
from leadenrich.jobs.service import JobService
from leadenrich.sqlite.quota import SqliteLeadQuota
from tests.support.api_stack import TABLE, call

DAY = date(2026, 11, 22)


def test_retry_after_is_the_seconds_to_the_next_utc_midnight() -> None:
    assert seconds_to_midnight(datetime(2026, 11, 22, 23, 59, 30, tzinfo=UTC)) == 30
    assert seconds_to_midnight(datetime(2026, 11, 22, 0, 0, tzinfo=UTC)) == 86_400
    assert seconds_to_midnight(datetime(2026, 11, 22, 23, 59, 59, 999_000, tzinfo=UTC)) == 1
    later = datetime(2026, 11, 22, 20, 0, tzinfo=UTC).astimezone(
        __import__("zoneinfo").ZoneInfo("Asia/Tokyo")
    )  # 05:00 the next day in Tokyo: still UTC's 22nd
    assert seconds_to_midnight(later) == 4 * 3600 and utc_day(later) == DAY


@pytest.fixture
def dynamo_quota(dynamodb: Any) -> DynamoLeadQuota:
    return DynamoLeadQuota(TABLE, dynamodb, serialize_calls=True)


@pytest.fixture(params=["dynamo", "sqlite"])
def quota(request: pytest.FixtureRequest) -> LeadQuota:
    """Each adapter in turn, on a fresh table or file."""
    if request.param == "dynamo":
        dynamo_quota: DynamoLeadQuota = request.getfixturevalue("dynamo_quota")
        return dynamo_quota
    return SqliteLeadQuota(request.getfixturevalue("database"))


async def test_reservations_are_conditional_per_workspace_and_day(quota: LeadQuota) -> None:
    assert await quota.reserve("acme", DAY, 3, 5)
    assert not await quota.reserve("acme", DAY, 3, 5)  # 6 > 5: nothing taken
    assert await quota.used("acme", DAY) == 3
    assert await quota.reserve("acme", DAY, 2, 5)  # exactly the limit
    assert not await quota.reserve("acme", DAY, 1, 5)
    assert await quota.reserve("globex", DAY, 5, 5)  # another workspace
    assert await quota.reserve("acme", DAY + timedelta(days=1), 5, 5)  # another day
    assert not await quota.reserve("acme", DAY, 6, 5)  # more than a whole day's quota
    await quota.release("acme", DAY, 2)
    assert await quota.used("acme", DAY) == 3


async def test_concurrent_reservations_never_pass_the_limit(quota: LeadQuota) -> None:
    taken = await asyncio.gather(*(quota.reserve("acme", DAY, 3, 10) for _ in range(8)))
    assert taken.count(True) == 3 and await quota.used("acme", DAY) == 9


async def test_zero_and_negative_counts_take_and_give_nothing(quota: LeadQuota) -> None:
    assert await quota.reserve("acme", DAY, 0, 5)
    assert await quota.reserve("acme", DAY, -3, 5)
    assert await quota.used("acme", DAY) == 0
    assert await quota.reserve("acme", DAY, 5, 5)
    await quota.release("acme", DAY, 0)
    await quota.release("acme", DAY, -2)
    assert await quota.used("acme", DAY) == 5


async def test_the_counter_row_expires_by_the_tables_ttl(
    dynamo_quota: DynamoLeadQuota, dynamodb: Any
) -> None:
    await dynamo_quota.reserve("acme", DAY, 1, 5)
    row = dynamodb.get_item(
        TableName=TABLE, Key={"PK": {"S": "WS#acme#QUOTA"}, "SK": {"S": "DAY#2026-11-22"}}
    )
    expires = int(row["Item"]["expires_at"]["N"])
    assert expires == int(datetime(2026, 11, 24, tzinfo=UTC).timestamp())


# --- through the API handler ----------------------------------------------------------------------------


@pytest.fixture
def small_quota(stack: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAILY_LEAD_QUOTA", "5")
    runtime.reset()


def domains(n: int) -> dict[str, Any]:
    return {"domains": [f"company-{i}.com" for i in range(n)]}


@pytest.mark.usefixtures("small_quota")
def test_past_the_daily_quota_the_api_answers_429_with_retry_after() -> None:
    assert call("POST", "/jobs", workspace="acme", body=domains(3))[0] == 202
    before = datetime.now(UTC)
    status, answer, headers = call("POST", "/jobs", workspace="acme", body=domains(3))
    after = datetime.now(UTC)
    assert status == 429
    assert "daily lead quota" in answer["message"] and answer["quota"] == "daily_lead_quota"
    assert answer["limit"] == 5 and "2 left today" in answer["message"]
    assert seconds_to_midnight(after) <= int(headers["Retry-After"]) <= seconds_to_midnight(before)
    assert call("POST", "/jobs", workspace="acme", body=domains(2))[0] == 202  # exactly the limit
    assert call("POST", "/jobs", workspace="acme", body=domains(1))[0] == 429
    assert call("POST", "/jobs", workspace="globex", body=domains(5))[0] == 202  # its own quota
    assert len(call("GET", "/jobs", workspace="acme")[1]["jobs"]) == 2  # the refused ones were not made


@pytest.mark.usefixtures("small_quota")
def test_an_idempotent_replay_takes_no_quota() -> None:
    key = {"idempotency-key": "once"}
    first = call("POST", "/jobs", workspace="acme", body=domains(4), headers=key)
    for _ in range(3):
        status, again, headers = call("POST", "/jobs", workspace="acme", body=domains(4), headers=key)
        assert status == 202 and again["job_id"] == first[1]["job_id"]
        assert headers["Idempotent-Replayed"] == "true"
    assert call("POST", "/jobs", workspace="acme", body=domains(1))[0] == 202
    assert call("POST", "/jobs", workspace="acme", body=domains(1))[0] == 429


def test_zero_turns_the_quota_off(stack: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAILY_LEAD_QUOTA", "0")
    runtime.reset()
    for _ in range(3):
        assert call("POST", "/jobs", workspace="acme", body=domains(50))[0] == 202


def test_a_bad_setting_is_named(stack: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAILY_LEAD_QUOTA", "-1")
    runtime.reset()
    with pytest.raises(Exception, match="DAILY_LEAD_QUOTA"):
        runtime.job_service()


# --- the service: given back when no job is made; dry runs and process_all ----------------------------------


@pytest.mark.usefixtures("small_quota")
async def test_a_job_the_store_fails_to_create_gives_its_leads_back(monkeypatch: pytest.MonkeyPatch) -> None:
    service = runtime.job_service()

    async def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("the store is down")

    monkeypatch.setattr(service.store, "create_job", broken)
    request = CreateJobRequest.model_validate(domains(4))
    with pytest.raises(RuntimeError, match="down"):
        await service.create_job("acme", request)
    assert service.quota is not None
    assert await service.quota.used("acme", utc_day(datetime.now(UTC))) == 0


class StoredLeads:
    """A lead source holding `n` leads with a domain (the Supabase adapter's shape), in pages of 2."""

    def __init__(self, n: int) -> None:
        self.leads = [SourcedLead(f"lead-{i:03d}", Lead(domain=f"company-{i}.com")) for i in range(n)]

    async def enrichable(
        self,
        workspace_id: str,
        *,
        skip_existing: bool,
        after_id: str | None = None,
        limit: int = 10_000,
        reenrich_after_days: int = 0,
    ) -> AsyncGenerator[list[SourcedLead], None]:
        chosen = [s for s in self.leads if after_id is None or s.lead_id > after_id][:limit]
        for start in range(0, len(chosen), 2):
            yield chosen[start : start + 2]

    async def count_enrichable(
        self,
        workspace_id: str,
        *,
        after_id: str | None = None,
        reenrich_after_days: int = 0,
        through_id: str | None = None,
    ) -> EnrichableCount:
        return EnrichableCount(with_domain=len(self.leads), missing_email=len(self.leads))

    def by_ids(self, workspace_id: str, lead_ids: Sequence[str]) -> AsyncGenerator[list[SourcedLead], None]:
        raise NotImplementedError

    def by_domains(
        self, workspace_id: str, domains: Sequence[str]
    ) -> AsyncGenerator[list[SourcedLead], None]:
        raise NotImplementedError

    def register(self, workspace_id: str, leads: Sequence[Lead]) -> AsyncGenerator[list[SourcedLead], None]:
        raise NotImplementedError


def service_with(leads: StoredLeads) -> JobService:
    base = runtime.job_service()
    return JobService(base.store, base.queue, leads=leads, quota=base.quota, daily_lead_quota=5)


@pytest.mark.usefixtures("small_quota")
async def test_a_dry_run_takes_nothing_and_process_all_is_counted_page_by_page() -> None:
    service = service_with(StoredLeads(7))
    assert service.quota is not None
    today = utc_day(datetime.now(UTC))
    preview = await service.preview("acme", CreateJobRequest(process_all=True, dry_run=True))
    assert preview.leads == 7 and await service.quota.used("acme", today) == 0
    # 7 leads > 5: the job stops at the page that would pass the quota, is cancelled (nothing was
    # enqueued), and every lead reserved for it is given back.
    with pytest.raises(QuotaExceeded):
        await service.create_job("acme", CreateJobRequest(process_all=True))
    assert await service.quota.used("acme", today) == 0
    created = await service.create_job("acme", CreateJobRequest(process_all=True, limit=5))
    assert created.job.counters.total == 5 and await service.quota.used("acme", today) == 5
