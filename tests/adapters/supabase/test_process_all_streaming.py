"""process_all over 10,000 leads, streamed: Supabase is read in keyset pages of at most 500 rows, each page's
items are stored before the next page is asked for, and the service never holds more than two pages.

The lead source is the real one (PostgreSQL + PostgREST), and so is each job store it streams into: SQLite,
DynamoDB on moto, and Supabase (the backends of tests/support/backends.py). The queue records what it is
sent instead of being moto's SQS: moto recounts its whole queue on every send, so 10,000 messages take about
20 minutes there (SqsWorkQueue's batching has its own tests, and `bench.runtime` counts its calls).

How "bounded memory" is shown: before every request to Supabase (that is, before each next page) an httpx
event hook counts the `Item` and `SourcedLead` objects alive in the process (gc.get_objects). Were the
leads collected before being stored, that count would reach 10,000; streamed, it stays within two pages.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import boto3
import pytest

from enrich_tools.supabase_harness import SupabaseTestServer
from leadenrich.jobs.models import Item, ItemStatus, JobStatus, Received, SourcedLead, WorkMessage
from leadenrich.jobs.ports import JobStore, QueueDepth
from leadenrich.jobs.requests import CreateJobRequest
from leadenrich.jobs.service import JobService
from leadenrich.sqlite.db import FILE_NAME, Database
from leadenrich.sqlite.job_store import SqliteJobStore
from leadenrich.supabase.client import SupabaseSettings, close_supabase_clients
from leadenrich.supabase.job_store import SupabaseJobStore
from leadenrich.supabase.lead_source import SupabaseLeadSource
from tests.support.backends import DynamoJobStore, create_table
from tests.support.supabase_recording import RecordingConnect

WS = "default"
LEADS = 10_000
PAGE = 500


@dataclass
class RecordingQueue:
    """A WorkQueue that keeps what it is sent (see the module docstring for why not moto's SQS)."""

    sent: list[str] = field(default_factory=list)
    largest_send: int = 0

    async def send(self, messages: Sequence[WorkMessage], *, delay_seconds: int = 0) -> int:
        self.sent += [m.item_id for m in messages]
        self.largest_send = max(self.largest_send, len(messages))
        return -(-len(messages) // 10)

    async def receive(
        self, max_messages: int, *, visibility_timeout: int, wait_seconds: int = 0
    ) -> list[Received]:
        return []

    async def delete(self, received: Received) -> None: ...

    async def retry_later(self, received: Received, delay_seconds: int) -> None: ...

    async def dead_letter(self, received: Received, reason: str) -> None: ...

    async def redrive(self, max_messages: int = 1000, workspace_id: str | None = None) -> list[WorkMessage]:
        return []

    async def depth(self) -> QueueDepth:
        return QueueDepth(len(self.sent), 0, 0, 0)


@pytest.fixture
async def connect(supabase_db: SupabaseTestServer) -> AsyncIterator[RecordingConnect]:
    recording = RecordingConnect(supabase_db.url, supabase_db.service_role_key)
    yield recording
    await recording.aclose()


def dynamodb_store() -> DynamoJobStore:
    """The DynamoDB store on a fresh table (moto must be active)."""
    dynamodb = boto3.client("dynamodb")
    create_table(dynamodb, "leadenrich")
    return DynamoJobStore("leadenrich", dynamodb, serialize_calls=True)


@pytest.fixture(params=["sqlite", "dynamodb", "supabase"])
async def store(
    request: pytest.FixtureRequest, supabase_db: SupabaseTestServer, tmp_path: Path
) -> AsyncIterator[JobStore]:
    if request.param == "sqlite":
        db = Database(tmp_path / FILE_NAME)
        yield SqliteJobStore(db)
        db.close()
    elif request.param == "dynamodb":
        request.getfixturevalue("mocked_aws")
        yield dynamodb_store()
    else:
        settings = SupabaseSettings.from_env(supabase_db.env())
        assert settings is not None
        yield SupabaseJobStore(settings)
        await close_supabase_clients()


class WithoutAppend:
    """A store minus `append_items`: the service must then collect every item first."""

    def __init__(self, store: JobStore) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        if name == "append_items":
            raise AttributeError(name)
        return getattr(self._store, name)


def seed(db: SupabaseTestServer, count: int) -> None:
    db.sql(
        "insert into leads (workspace_id, company_name, domain)"
        f" select '{WS}', 'Company ' || n, 'company-' || n || '.example.com'"
        f" from generate_series(1, {count}) n"
    )


def live_leads() -> int:
    return sum(1 for o in gc.get_objects() if type(o) in (Item, SourcedLead))


async def test_process_all_over_10_000_leads_streams_pages_into_the_store(
    supabase_db: SupabaseTestServer, connect: RecordingConnect, store: JobStore
) -> None:
    seed(supabase_db, LEADS)
    supabase_db.sql(
        "insert into leads (workspace_id, company_name, domain)"
        f" select '{WS}', 'Done ' || n, 'done-' || n || '.example.com' from generate_series(1, 7) n;"
        " insert into emails (workspace_id, lead_id, email, source, email_type, status)"
        f" select '{WS}', id, 'ceo@' || domain, 'hunter_direct', 'primary', 'active' from leads"
        " where domain like 'done-%'"
    )
    queue = RecordingQueue()
    # No queue window: every message is sent at creation, which is what shows the chunked enqueue.
    service = JobService(store, queue, leads=SupabaseLeadSource(connect, page_size=PAGE), queue_window=0)
    alive: list[int] = []
    connect.on_request = lambda: alive.append(live_leads())

    created = await service.create_job(WS, CreateJobRequest(process_all=True))

    job = created.job
    assert job.status is JobStatus.PENDING and job.counters.total == LEADS  # the 7 done leads skipped
    assert created.selection is not None and created.selection.leads == LEADS
    assert created.selection.next_after_lead_id is None

    pages = connect.calls("enrichable_leads")
    assert len(pages) == LEADS // PAGE + 1  # 20 pages, and one look past the limit: nothing left
    assert max(e.rows_answered or 0 for e in pages) == PAGE  # never more than a page per request
    # Nothing else read but the one count of the leads the re-enrichment window left out (jobs.reenrich).
    assert len(connect.exchanges) == len(pages) + 1 and len(connect.calls("count_enrichable_leads")) == 1
    assert max(alive) <= 2 * PAGE, alive  # bounded by pages, not by the table (in practice: 0)

    assert queue.sent == [f"{i:06d}" for i in range(LEADS)]  # enqueued once everything was stored
    assert queue.largest_send <= 1000 and created.queue_calls == LEADS // 10
    first = await store.get_item(WS, job.job_id, "000000")
    last = await store.get_item(WS, job.job_id, f"{LEADS - 1:06d}")
    assert first is not None and last is not None and first.status is ItemStatus.QUEUED
    ids = supabase_db.query("select id::text from leads where domain like 'company-%' order by id")
    assert (first.lead_id, last.lead_id) == (ids[0]["id"], ids[-1]["id"])  # id order, lead ids stored
    assert first.lead.domain.startswith("company-")


async def test_the_measure_sees_leads_collected_by_a_store_that_cannot_append(
    supabase_db: SupabaseTestServer, connect: RecordingConnect, mocked_aws: None
) -> None:
    """The control for the test above: the same count reaches the number of leads when they are held."""
    seed(supabase_db, 3 * PAGE)
    store = cast(JobStore, WithoutAppend(dynamodb_store()))
    service = JobService(store, RecordingQueue(), leads=SupabaseLeadSource(connect, page_size=PAGE))
    alive: list[int] = []
    connect.on_request = lambda: alive.append(live_leads())

    created = await service.create_job(WS, CreateJobRequest(process_all=True, limit=3 * PAGE))

    assert created.job.counters.total == 3 * PAGE
    assert alive[-1] >= 3 * PAGE  # at the look past the limit, every item is still held
