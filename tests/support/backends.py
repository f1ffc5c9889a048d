"""The backends the processor and job-service suite runs on: each is one set of real adapters the service
is wired with, behind the same ports.

- `sqlite`: the laptop's `enrich run` (`BACKEND=embedded`): job store, work queue and rate limiter in one
  SQLite file;
- `dynamodb`: the Lambdas' default: DynamoDB (store, limiter) and SQS on moto (a queue per priority band);
- `supabase`: the Lambdas with `JOB_STORE=supabase`: the store on PostgreSQL + PostgREST, and, as
  `leadenrich.runtime` pairs them, SQS and the DynamoDB limiter on moto.

A test asks its backend for what differs between them, never for an adapter's internals: a rate limiter, a
write that fails once as if the processor died, time passing for leases and visibility, the queue's order.
moto's DynamoDB and SQS are not thread-safe, so their adapters serialise their calls here, as the local
stack does over moto.

The DynamoDB adapter is imported here and nowhere else in the tests that use it through a backend, so a
move of its module is one line to follow.
"""

from __future__ import annotations

import asyncio
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as day_time
from typing import Any, ClassVar

import boto3

from enrich_tools.simulator import SimulatorServer
from enrich_tools.supabase_harness import SupabaseTestServer
from leadenrich.aws.dynamo_jobs import DynamoJobStore
from leadenrich.aws.dynamo_limiter import DynamoRateLimiter
from leadenrich.aws.dynamo_schema import create_table
from leadenrich.aws.dynamo_spend import DynamoSpendLedger
from leadenrich.aws.sqs_queue import SqsWorkQueue, create_band_queues
from leadenrich.engine.cache import InMemoryCache, ResultCache
from leadenrich.engine.providers.hunter import HunterClient
from leadenrich.engine.providers.perplexity import PerplexityClient
from leadenrich.engine.ratelimit import LIMITS, Limit, RateLimiter
from leadenrich.engine.waterfall import Enricher
from leadenrich.jobs.budget import SpendLedger
from leadenrich.jobs.models import Item, Job
from leadenrich.jobs.ports import JobStore, WorkQueue
from leadenrich.jobs.priorities import BandedWorkQueue
from leadenrich.jobs.processor import Processor, ProcessorSettings
from leadenrich.jobs.requests import CreateJobRequest
from leadenrich.jobs.retry import RetryPolicy
from leadenrich.jobs.service import JobService
from leadenrich.jobs.window import DEFAULT_WINDOW
from leadenrich.sqlite.db import Database
from leadenrich.sqlite.job_store import SqliteJobStore
from leadenrich.sqlite.limiter import SqliteRateLimiter
from leadenrich.sqlite.queue import SqliteWorkQueue
from leadenrich.sqlite.spend import SqliteSpendLedger
from leadenrich.supabase.client import SupabaseSettings, close_supabase_clients
from leadenrich.supabase.job_store import SupabaseJobStore
from tests.support.simulator import TODAY

WS = "default"
TABLE = "leadenrich"
QUEUE = "leadenrich-work"
VISIBILITY_TIMEOUT = 30
CRASH = "the processor died here"
# What every suite processor runs with unless a test says otherwise: a budget that never cuts a simulated
# item, and the queue's visibility timeout as the lease.
PROCESSOR_DEFAULTS: dict[str, Any] = {
    "budget_seconds": 20.0,
    "visibility_timeout": VISIBILITY_TIMEOUT,
    "min_item_seconds": 2.0,
}

__all__ = [
    "WS",
    "Backend",
    "Crash",
    "DynamoBackend",
    "DynamoJobStore",
    "SqliteBackend",
    "SupabaseBackend",
    "create_table",
]


@dataclass
class Crash:
    """How many writes a `Backend.crash_outcome_of` made fail (at most one)."""

    fired: int = 0


class Backend(ABC):
    """A job store, a work queue and a limiter of one backend, with the providers on the simulator."""

    name: ClassVar[str]
    # The queue serves workspaces round-robin (the SQLite queue). SQS fair queues reorder only under load
    # and moto not at all, so there a small job created after a large one waits behind it.
    fair_queue: ClassVar[bool] = False

    def __init__(self, store: JobStore, queue: WorkQueue, sim: SimulatorServer) -> None:
        self.store = store
        self.queue = queue
        self.sim = sim
        self.supabase: SupabaseTestServer | None = None  # the database, on the Supabase backend

    # --- building the service and processors ----------------------------------------------------------------

    def service(self, *, queue_window: int | None = DEFAULT_WINDOW) -> JobService:
        return JobService(self.store, self.queue, self.now, queue_window=queue_window)

    def processor(self, limiter: RateLimiter | None = None, **settings: Any) -> Processor:
        """A processor of its own (as each Lambda invocation has), on the simulator's providers."""
        enricher = Enricher(
            HunterClient("sim-hunter-key", base_url=self.sim.hunter_base_url),
            PerplexityClient("sim-pplx-key", base_url=self.sim.perplexity_base_url),
            ResultCache(InMemoryCache()),
            clock=lambda: datetime.combine(TODAY, day_time(12), UTC),
            limiter=limiter,
        )
        return Processor(
            self.store,
            self.queue,
            enricher,
            ProcessorSettings(**(PROCESSOR_DEFAULTS | settings)),
            RetryPolicy(),
            clock=self.now,
        )

    def leads(self, n: int) -> CreateJobRequest:
        """A job of up to `n` of the simulated world's companies (those with a usable domain)."""
        sample = self.sim.world.sample_leads(n, seed=21)
        return CreateJobRequest.model_validate(
            {
                "leads": [
                    {"domain": s.domain, "company_name": s.company_name} for s in sample if "." in s.domain
                ]
            }
        )

    # --- reading --------------------------------------------------------------------------------------------

    async def job(self, job_id: str, workspace_id: str = WS) -> Job:
        job = await self.store.get_job(workspace_id, job_id)
        assert job is not None, job_id
        return job

    async def items(self, job_id: str, workspace_id: str = WS) -> list[Item]:
        """Every item of the job, in input order."""
        return (await self.store.list_items(workspace_id, job_id, limit=1000)).items

    # --- what differs between backends ----------------------------------------------------------------------

    def now(self) -> datetime:
        """The time the service and processors write (leases, deferrals) and the queue hides messages by."""
        return datetime.now(UTC)

    async def elapse(self, seconds: float) -> None:
        """Let `seconds` pass for leases and visibility timeouts (moto's and PostgreSQL's are real time)."""
        await asyncio.sleep(seconds)

    @abstractmethod
    def limiter(self, limits: Mapping[str, Limit] = LIMITS) -> RateLimiter:
        """The rate limiter this backend's processors share."""

    @abstractmethod
    def spend_ledger(self) -> SpendLedger:
        """The spend ledger this backend's processors share (beside the limiter, as deployed)."""

    @abstractmethod
    def crash_outcome_of(self, job_id: str, item_id: str) -> AbstractContextManager[Crash]:
        """Within the block, the first write of the item's outcome (a finish, deferral or skip of it while
        running) fails as if its processor died there; its claim and everything else goes through."""

    @abstractmethod
    async def close(self) -> None:
        """Release what the backend holds open."""


class SqliteBackend(Backend):
    """The embedded adapters on one file (a file, not `:memory:`: `Database` opens one connection per thread,
    and each thread would get a database of its own). Time is the wall clock plus what `elapse` added: the
    queue and the processors read the same clock, so leases and visibility run out without waiting."""

    name = "sqlite"
    fair_queue = True

    def __init__(self, db: Database, sim: SimulatorServer) -> None:
        self._db = db
        self._skipped = 0.0
        super().__init__(SqliteJobStore(db), SqliteWorkQueue(db, clock=self._epoch), sim)

    def _epoch(self) -> float:
        return time.time() + self._skipped

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self._skipped)

    async def elapse(self, seconds: float) -> None:
        self._skipped += seconds

    def limiter(self, limits: Mapping[str, Limit] = LIMITS) -> RateLimiter:
        return SqliteRateLimiter(self._db, limits)

    def spend_ledger(self) -> SpendLedger:
        return SqliteSpendLedger(self._db)

    async def close(self) -> None:
        self._db.close()

    @contextmanager
    def crash_outcome_of(self, job_id: str, item_id: str) -> Iterator[Crash]:
        """A temporary trigger on the processor's connection (the event loop's thread) aborts the update."""
        crash = Crash()

        def fire() -> int:
            if crash.fired:
                return 0
            crash.fired = 1
            return 1

        conn = self._db.connection()
        conn.create_function("test_crash_once", 0, fire)
        conn.execute(
            "CREATE TEMP TRIGGER test_crash_once BEFORE UPDATE ON main.job_items"
            f" WHEN OLD.job_id = {_sql_text(job_id)} AND OLD.item_id = {_sql_text(item_id)}"
            " AND OLD.status = 'running' AND NEW.status <> 'running'"
            f" BEGIN SELECT RAISE(ABORT, '{CRASH}') WHERE test_crash_once(); END"
        )
        try:
            yield crash
        finally:
            conn.execute("DROP TRIGGER temp.test_crash_once")


class _OnMoto(Backend):
    """SQS (and the DynamoDB table, for the limiter) on moto, which must be active."""

    def __init__(self, store: JobStore | None, sim: SimulatorServer) -> None:
        self.dynamodb = boto3.client("dynamodb")
        create_table(self.dynamodb, TABLE)
        sqs = boto3.client("sqs")
        # One queue and DLQ per priority band, as deployed (template.yaml). A redrive skips the DLQ's
        # closing long poll (1 s a band): moto's one queue answers a short poll in full.
        urls = create_band_queues(sqs, QUEUE, visibility_timeout=VISIBILITY_TIMEOUT)
        queue = BandedWorkQueue(
            {
                band: SqsWorkQueue(url, dlq, sqs, serialize_calls=True, redrive_wait_seconds=0)
                for band, (url, dlq) in urls.items()
            }
        )
        store = store or DynamoJobStore(TABLE, self.dynamodb, serialize_calls=True)
        super().__init__(store, queue, sim)

    def limiter(self, limits: Mapping[str, Limit] = LIMITS) -> RateLimiter:
        return DynamoRateLimiter(TABLE, self.dynamodb, limits, serialize_calls=True)

    def spend_ledger(self) -> SpendLedger:
        return DynamoSpendLedger(TABLE, self.dynamodb, serialize_calls=True)

    async def close(self) -> None:
        """Nothing: moto's state goes with the test's `mock_aws`."""


class DynamoBackend(_OnMoto):
    name = "dynamodb"

    def __init__(self, sim: SimulatorServer) -> None:
        super().__init__(None, sim)

    @contextmanager
    def crash_outcome_of(self, job_id: str, item_id: str) -> Iterator[Crash]:
        """A botocore hook raises before the outcome's TransactWriteItems is sent (the claim writes no
        `sent_next`; every outcome does)."""
        crash = Crash()

        def fail_once(params: dict[str, Any], **_: Any) -> None:
            for action in params.get("TransactItems", []):
                update = action.get("Update", {})
                pk, sk = (update.get("Key", {}).get(name, {}).get("S", "") for name in ("PK", "SK"))
                ours = sk == f"ITEM#{item_id}" and pk.endswith(f"#JOB#{job_id}")
                outcome = "#sent_next" in update.get("ExpressionAttributeNames", {})
                if ours and outcome and not crash.fired:
                    crash.fired = 1
                    raise ConnectionError(CRASH)

        event = "before-parameter-build.dynamodb.TransactWriteItems"
        self.dynamodb.meta.events.register(event, fail_once)
        try:
            yield crash
        finally:
            self.dynamodb.meta.events.unregister(event, fail_once)


class SupabaseBackend(_OnMoto):
    name = "supabase"

    def __init__(self, server: SupabaseTestServer, sim: SimulatorServer) -> None:
        settings = SupabaseSettings.from_env(server.env())
        assert settings is not None
        super().__init__(SupabaseJobStore(settings), sim)
        self.supabase = server

    @contextmanager
    def crash_outcome_of(self, job_id: str, item_id: str) -> Iterator[Crash]:
        """A trigger raises in the outcome's transaction. A sequence counts the firings: it is not rolled
        back with the transaction it raised in, so only the first one raises."""
        server = self._server
        server.sql(
            "create sequence public.test_crash_once;"
            " create function public.test_crash_once() returns trigger language plpgsql security definer"
            " set search_path = '' as $$ begin"
            f" if nextval('public.test_crash_once') = 1 then raise exception '{CRASH}'; end if;"
            " return new; end $$;"
            " create trigger test_crash_once before update on public.job_items for each row"
            f" when (old.job_id = {_sql_text(job_id)} and old.item_id = {_sql_text(item_id)}"
            " and old.status = 'running' and new.status <> 'running')"
            " execute function public.test_crash_once();"
        )
        crash = Crash()
        try:
            yield crash
        finally:
            fired = server.scalar(
                "select case when is_called then last_value else 0 end from public.test_crash_once"
            )
            crash.fired = min(int(fired), 1)
            server.sql(
                "drop trigger test_crash_once on public.job_items;"
                " drop function public.test_crash_once(); drop sequence public.test_crash_once;"
            )

    @property
    def _server(self) -> SupabaseTestServer:
        assert self.supabase is not None
        return self.supabase

    async def close(self) -> None:
        await close_supabase_clients()
        await super().close()


def _sql_text(value: str) -> str:
    """A string literal (SQLite and PostgreSQL quote the same way)."""
    return "'" + value.replace("'", "''") + "'"
