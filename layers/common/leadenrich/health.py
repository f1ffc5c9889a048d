"""`GET /health`: whether the service can work right now, dependency by dependency.

Each dependency is checked through a `Probe` (a port: a name and a call that raises when the dependency is
down), so `HealthService` knows nothing of AWS, Supabase or SQLite, and its tests script probes directly;
`leadenrich.runtime.health` picks the probes a deployment has (below, "The probes"). The rules:
- every probe runs at once, each bounded by `timeout_seconds`: a dependency that does not answer in time is
  down, and one hanging dependency cannot hold the answer (blocking calls run on threads of their own, not
  the loop's default executor, which `asyncio.run` waits for on its way out);
- a report is kept `cache_seconds` per process: a poller calling many times a second costs the table, the
  queues and the secrets one round of calls per instance and period, and `checked_at` says how old it is;
- the service is up when every required dependency is; an optional one (Supabase when it is only the lead
  source: inline leads still work without it) is reported, and does not make the answer a 503;
- the report is public (the route needs no key): names, up or down, a reason from a short vocabulary or
  written here, and the check's duration. Never a key, an address, an ARN, a URL or an exception's text:
  the log gets the exception's type and code only.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from leadenrich.http_errors import error_code, outage

if TYPE_CHECKING:
    from leadenrich.sqlite.db import Database
    from leadenrich.supabase.client import SupabaseSettings

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 2.0
CACHE_SECONDS = 5.0
# Enough for every probe of a stack with three priority bands at once (a table, six queues, two secrets,
# Supabase); a probe stuck past its timeout holds one until its client gives up.
_THREADS = ThreadPoolExecutor(max_workers=10, thread_name_prefix="health")


class Down(Exception):
    """A dependency that answered, but not as the service needs; the message is public (written here)."""


@dataclass(frozen=True)
class Probe:
    """One dependency: `check` returns a public detail (or None) when it is up and raises when it is down."""

    name: str
    check: Callable[[], Awaitable[str | None]]
    required: bool = True

    @classmethod
    def blocking(cls, name: str, call: Callable[[], str | None], required: bool = True) -> Probe:
        """A probe whose call blocks (boto3, SQLite), run on the health checks' own threads."""

        async def check() -> str | None:
            return await asyncio.get_running_loop().run_in_executor(_THREADS, call)

        return cls(name, check, required)


@dataclass(frozen=True)
class DependencyHealth:
    up: bool
    required: bool
    reason: str | None  # why it is down
    detail: str | None  # what was found, when it is up and there is something to say
    latency_ms: int


@dataclass(frozen=True)
class HealthReport:
    checked_at: datetime
    dependencies: dict[str, DependencyHealth]

    @property
    def up(self) -> bool:
        return all(d.up for d in self.dependencies.values() if d.required)

    @property
    def down(self) -> list[str]:
        """The required dependencies that are down, by name (what makes the answer a 503)."""
        return [name for name, d in self.dependencies.items() if d.required and not d.up]


class HealthService:
    def __init__(
        self,
        probes: Sequence[Probe],
        timeout_seconds: float = TIMEOUT_SECONDS,
        cache_seconds: float = CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.probes = tuple(probes)
        self.timeout_seconds = timeout_seconds
        self.cache_seconds = cache_seconds
        self.clock = clock
        self._cached: tuple[float, HealthReport] | None = None

    async def report(self) -> HealthReport:
        """The last report while it is fresh, else a new one."""
        now = self.clock()
        if self._cached is not None and now - self._cached[0] < self.cache_seconds:
            return self._cached[1]
        checked = await asyncio.gather(*(self._run(probe) for probe in self.probes))
        report = HealthReport(
            datetime.now(UTC), dict(zip((p.name for p in self.probes), checked, strict=True))
        )
        self._cached = (now, report)
        return report

    async def _run(self, probe: Probe) -> DependencyHealth:
        started = time.monotonic()
        try:
            detail = await asyncio.wait_for(probe.check(), self.timeout_seconds)
        except Exception as exc:
            reason = self._reason(exc)
            cause = exc.__cause__ or exc.__context__ or exc
            log.warning(
                "dependency down",
                extra={"dependency": probe.name, "error": type(exc).__name__, "code": error_code(cause)},
            )
            return DependencyHealth(False, probe.required, reason, None, _ms_since(started))
        return DependencyHealth(True, probe.required, None, detail, _ms_since(started))

    def _reason(self, exc: Exception) -> str:
        if isinstance(exc, Down):
            return str(exc)
        if isinstance(exc, TimeoutError):
            return f"no answer within {self.timeout_seconds:g} s"
        # Powertools' parameters raise their own error, raised while handling botocore's: read that one.
        for error in (exc, exc.__cause__ or exc.__context__):
            kind = outage(error) if error is not None else None
            if kind is not None:
                return "not found" if kind == "missing" else kind
            if error is not None and (error_code(error) or "").startswith("AccessDenied"):
                return "access denied"
        return "failing"


def _ms_since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


# --- The probes: calls on the clients `leadenrich.runtime` made (this module imports no boto3) ------------


def table_probe(dynamodb: Any, table: str) -> Probe:
    """The DynamoDB table (jobs and items, and always the cache, the rate limiter's and quota rows): one
    DescribeTable, which reads no item and costs no capacity."""

    def call() -> str | None:
        status = dynamodb.describe_table(TableName=table)["Table"]["TableStatus"]
        if status not in ("ACTIVE", "UPDATING"):
            raise Down(f"table status {status}")
        return None

    return Probe.blocking("table", call)


def queue_probe(sqs: Any, name: str, url: str) -> Probe:
    """A work queue or dead-letter queue: one GetQueueAttributes (its depth is not reported: it is the
    workspaces' business, and `GET /metrics` shows it to a caller with a key)."""

    def call() -> str | None:
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        return None

    return Probe.blocking(name, call)


def secret_probe(secrets: Any, arn: str) -> Probe:
    """`APP_SECRET_ARN` readable (GetSecretValue, never cached here) and a JSON object, as the services read
    it. `secrets` is a Powertools `SecretsProvider`; the value is read and dropped, never returned."""

    def call() -> str | None:
        if not isinstance(secrets.get(arn, transform="json", force_fetch=True, max_age=0), dict):
            raise Down("not a JSON object of named secrets")
        return None

    return Probe.blocking("app_secret", call)


def provider_secret_probe(secrets_client: Any, arn: str) -> Probe:
    """The provider keys in AWS. Only the processor may read them (template.yaml, a tested invariant), so
    this reads the secret's metadata (DescribeSecret): there, not being deleted, and set since the deploy
    created it with empty keys (`put-secret-value` moved that placeholder to AWSPREVIOUS)."""

    def call() -> str | None:
        described = secrets_client.describe_secret(SecretId=arn)
        if described.get("DeletedDate") is not None:
            raise Down("the provider secret is scheduled for deletion")
        stages = {s for labels in (described.get("VersionIdsToStages") or {}).values() for s in labels}
        if "AWSPREVIOUS" not in stages:
            raise Down("the provider secret still holds the deploy's empty placeholder: set the keys")
        return "the provider secret was set after deploy (its values are the processor's alone to read)"

    return Probe.blocking("provider_keys", call)


def provider_env_probe(env: Mapping[str, str] | None = None) -> Probe:
    """The provider keys where this process is given them (the local stack, tests): Hunter's is required
    (no enrichment without it), Perplexity's optional (the waterfall skips its step)."""

    async def check() -> str | None:
        source = os.environ if env is None else env
        if not source.get("HUNTER_API_KEY"):
            raise Down("HUNTER_API_KEY is not set")
        if not source.get("PERPLEXITY_API_KEY"):
            return "HUNTER_API_KEY set; PERPLEXITY_API_KEY not set (the Perplexity step is skipped)"
        return "HUNTER_API_KEY and PERPLEXITY_API_KEY set"

    return Probe("provider_keys", check)


def sqlite_probe(database: Database) -> Probe:
    """The embedded stack's one SQLite file (jobs, queue, cache): a read of its schema."""

    def call() -> str | None:
        database.read().execute("SELECT count(*) FROM sqlite_master").fetchone()
        return None

    return Probe.blocking("state_db", call)


def supabase_probe(settings: Callable[[], SupabaseSettings | None], *, required: bool) -> Probe:
    """Supabase's PostgREST with the service key: a HEAD of one lead row (no body, no count). The settings
    are read at each check: their key is in the app secret, whose own failure this then reports too."""

    async def check() -> str | None:
        from leadenrich.supabase.client import supabase_client

        project = settings()
        if project is None:
            raise Down("SUPABASE_SERVICE_ROLE_KEY is not set")
        client = await supabase_client(project)
        await client.table("leads").select("id", head=True).limit(1).execute()
        return None

    return Probe("supabase", check, required)
