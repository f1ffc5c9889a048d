"""The embedded local stack: the deployed handlers on a laptop, over one SQLite file (or moto).

    HTTP client -> Gateway (uvicorn, loopback) -> handle_authorizer.handler (X-API-Key -> workspace)
                                               -> handle_api.handler -> jobs + work queue
    Scheduler (back to back while work is due) -> handle_process.handler -> providers (or the simulator)

By default (`embedded`) jobs, the work queue, the provider cache, the rate limiter's state, API keys and
webhook records live in `<state>/leadenrich.sqlite3` (the standard library's sqlite3), so a run survives
Ctrl-C, a crash or a reboot, and the next run on the same state continues where it stopped. One process
at a time holds a state directory (a lock file): a second one is refused with a clear message rather
than racing the first. At start the stack takes back whatever a dead process left in flight (leases and
hidden messages): nobody else can hold them.

With `aws=True` the same handlers run over moto (DynamoDB and SQS emulated in-process, gone at stop): the
way to check the AWS adapters end to end. moto's `mock_aws` patches botocore for the whole process, so
only one stack may run in a process, and teardown waits for the gateway's and the scheduler's threads.

The stack's API key for the workspace "default" (`stack.api_key`) is kept in the state (`local-api-key`,
readable by its owner only) and reused while it is valid; with moto a new one is minted each start.

With SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY set, the handlers also read and write that Supabase project,
as they do deployed: POST /jobs matches inline leads to its `leads` (or adds them) and the processor writes
the addresses to `emails` (see docs/supabase.md).

Uploads and exports (docs/uploads.md) have no S3 here: files under `<state>/blobs` (moto: a temporary folder)
behind presigned URLs the gateway serves (`/_blobs/...`), signed with the state's `local-blob-secret`.

The handlers wire themselves from environment variables (leadenrich.runtime), so the stack sets those
variables for its lifetime and restores them afterwards.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from enrich_tools.local.gateway import AccessLog, Gateway, create_app
from enrich_tools.local.lambdas import (
    PROCESSOR_TIMEOUT_SECONDS,
    REGION,
    LocalContext,
    load_authorizer,
    load_handlers,
    load_webhook_handler,
    scheduled_event,
    set_handler_log_level,
)
from enrich_tools.local.providers import SIMULATED_HEADER, provider_environment, provider_settings
from enrich_tools.local.scheduler import Scheduler
from enrich_tools.local.state import (
    BLOB_DIR,
    DEFAULT_STATE_DIR,
    StateLock,
    kept_blob_secret,
    load_local_key,
    record_simulated,
    recorded_simulated,
    save_local_key,
)
from leadenrich.engine.settings import EngineSettings
from leadenrich.sqlite.db import FILE_NAME as DB_FILE
from leadenrich.uploads.local_files import FileBlobStore, new_secret

TABLE_NAME = "leadenrich-local"
LOCAL_WORKSPACE = "default"
QUEUE_NAME = "leadenrich-local-work"
MOTO_TICK_SECONDS = 1.0
VISIBILITY_TIMEOUT = 90  # as template.yaml: above the processor's 45 s timeout plus a margin

# The queues' variables (`leadenrich.runtime`): the normal band's, then the other bands'.
_QUEUE_VARIABLES = (
    "QUEUE_URL",
    "DEAD_LETTER_QUEUE_URL",
    "HIGH_PRIORITY_QUEUE_URL",
    "HIGH_PRIORITY_DEAD_LETTER_QUEUE_URL",
    "LOW_PRIORITY_QUEUE_URL",
    "LOW_PRIORITY_DEAD_LETTER_QUEUE_URL",
)

# Variables that would send boto3 somewhere moto does not intercept, or fail before it gets there.
_AWS_VARIABLES_TO_CLEAR = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_ENDPOINT_URL_SQS",
    "AWS_SESSION_TOKEN",
)
# The object store's (`leadenrich.runtime_uploads`): the stack's files, never an S3 bucket from the shell.
_BLOB_VARIABLES = ("UPLOAD_BUCKET", "LOCAL_BLOB_DIR", "LOCAL_BLOB_URL", "LOCAL_BLOB_SECRET")
_ACTIVE = threading.Lock()


class StackError(RuntimeError):
    """The stack cannot start (another one runs in this process or on this state, the port is taken)."""


@dataclass(frozen=True)
class StackOptions:
    port: int = 0
    # None: the processor runs back to back while work is due; S: every S seconds, as deployed (60).
    tick_seconds: float | None = None
    state_dir: Path = DEFAULT_STATE_DIR
    aws: bool = False  # moto instead of the SQLite state: checks the AWS adapters end to end
    process: bool = True  # False: the API only (reading results), no processor runs
    seed: int = 7  # the simulator's world, when no provider keys are set
    # A run locally is not bounded by a Lambda's memory: it takes what it can finish in its budget.
    max_items_per_run: int = 1000
    concurrency: int = 32  # PROCESSOR_CONCURRENCY unless the environment sets it
    # Items of a job in the queue at a time (QUEUE_WINDOW unless the environment sets it): enough to keep
    # every concurrent slot busy; small enough that the queue's fair ordering stays cheap.
    queue_window: int = 1000
    budget_seconds: float = 30.0
    handler_log_level: int = logging.INFO  # the handlers' Powertools JSON logs (stdout)
    access_log: AccessLog | None = None
    on_tick: Callable[[dict[str, Any]], None] | None = None


def _mint_key(store: Any) -> str:
    """A key for the local workspace."""
    from leadenrich.auth.keys import create_key

    made = asyncio.run(create_key(store, LOCAL_WORKSPACE, "local stack", datetime.now(UTC)))
    return made.secret


def _kept_key(store: Any, state_dir: Path) -> tuple[str, bool]:
    """The state's key while it is still valid (not revoked), else a new one, kept for next time; and
    whether it was made now."""
    from leadenrich.auth.keys import authenticate

    kept = load_local_key(state_dir)
    if kept is not None and asyncio.run(authenticate(store, kept)) is not None:
        return kept, False
    secret = _mint_key(store)
    save_local_key(state_dir, secret)
    return secret, True


@contextmanager
def _environment(values: dict[str, str | None]) -> Iterator[None]:
    """Set (or, for None, remove) variables; restore every one of them on exit, including any the block
    set itself."""
    saved = {name: os.environ.get(name) for name in values}
    try:
        for name, value in values.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, old in saved.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old


class LocalStack:
    """Context manager: `with LocalStack(StackOptions(tick_seconds=1)) as stack: ... stack.url ...`."""

    def __init__(self, options: StackOptions | None = None) -> None:
        self.options = options or StackOptions()
        self.simulated = False
        self.supabase_url: str | None = None  # the Supabase project the handlers use, if any
        self.api_key: str | None = None  # the workspace "default"'s, kept in the state or minted at start
        self.engine_settings: EngineSettings | None = None  # the providers the processor talks to
        self.key_created = False  # the key was made by this start (else it was kept in the state)
        self._exit: ExitStack | None = None
        self._gateway: Gateway | None = None
        self._scheduler: Scheduler | None = None

    @property
    def url(self) -> str:
        if self._gateway is None:
            raise StackError("the local stack is not running")
        return self._gateway.url

    @property
    def scheduler(self) -> Scheduler:
        if self._scheduler is None:
            raise StackError("the local stack is not running")
        return self._scheduler

    def tick(self) -> Any:
        """Run the processor once now (after any run in progress): for tests and impatient callers."""
        return self.scheduler.tick()

    @property
    def state_db(self) -> Path | None:
        """The SQLite file of the state (None with moto)."""
        return None if self.options.aws else self.options.state_dir.resolve() / DB_FILE

    def start(self) -> LocalStack:
        if self._exit is not None:
            return self
        if not _ACTIVE.acquire(blocking=False):
            raise StackError("a local stack is already running in this process")
        exit_stack = ExitStack()
        exit_stack.callback(_ACTIVE.release)
        try:
            self._start(exit_stack)
        except BaseException:
            exit_stack.close()
            raise
        self._exit = exit_stack
        return self

    def _start(self, on_exit: ExitStack) -> None:
        from leadenrich import runtime, runtime_uploads
        from leadenrich.supabase.client import SupabaseSettings

        o = self.options
        supabase = SupabaseSettings.from_env()  # a SettingsError naming the variable when half set
        self.supabase_url = supabase.url if supabase else None
        try:
            api, process = load_handlers()
            authorizer = load_authorizer()
            webhook = load_webhook_handler()
        except ModuleNotFoundError as exc:  # an install without the repository's functions/ folder
            raise StackError(
                f"cannot load the Lambda handlers ({exc}); run from a checkout of the repository"
            ) from exc
        settings, self.simulated = on_exit.enter_context(provider_settings(o.seed))
        self.engine_settings = settings
        env: dict[str, str | None] = dict(provider_environment(settings))
        env |= {
            "MAX_ITEMS_PER_RUN": str(o.max_items_per_run),
            "PROCESSOR_CONCURRENCY": os.environ.get("PROCESSOR_CONCURRENCY") or str(o.concurrency),
            "QUEUE_WINDOW": os.environ.get("QUEUE_WINDOW") or str(o.queue_window),
            "PROCESSOR_BUDGET_SECONDS": str(o.budget_seconds),
            # The deployed daily quota protects a shared service; a laptop's lists are its owner's.
            "DAILY_LEAD_QUOTA": os.environ.get("DAILY_LEAD_QUOTA") or "0",
            # Likewise the per-workspace request rate: a laptop's API has one caller (and schemathesis).
            "WORKSPACE_REQUESTS_PER_SECOND": os.environ.get("WORKSPACE_REQUESTS_PER_SECOND") or "0",
            "QUEUE_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
            # Callbacks to http:// and loopback receivers (never private or metadata addresses): local only.
            "ALLOW_LOCAL_WEBHOOKS": "true",
            **dict.fromkeys(_BLOB_VARIABLES),  # set once the gateway listens
        }
        if o.aws:
            self._start_moto(on_exit, env)
        else:
            self._start_embedded(on_exit, env)
            self._same_providers_as_before()
        runtime.reset()  # services cached by an earlier run point at resources that no longer exist
        on_exit.callback(runtime.reset)
        if o.aws:
            self.api_key, self.key_created = _mint_key(runtime.key_store()), True
        else:
            self.api_key, self.key_created = _kept_key(runtime.key_store(), o.state_dir)
            if o.process:
                self._recover(runtime)
        previous_level = set_handler_log_level(o.handler_log_level)
        on_exit.callback(set_handler_log_level, previous_level)

        headers = {SIMULATED_HEADER: "true"} if self.simulated else None
        blob_root, blob_secret = self._blob_files(on_exit)
        blobs = FileBlobStore(blob_root, "", blob_secret)  # the gateway's: it verifies URLs, makes none
        app = create_app(
            api,
            authorizer=authorizer,
            webhook=webhook,
            extra_headers=headers,
            access_log=o.access_log,
            blobs=blobs,
        )
        try:
            self._gateway = on_exit.enter_context(Gateway(app, port=o.port))
        except OSError as exc:
            raise StackError(f"cannot listen on 127.0.0.1:{o.port}: {exc.strerror or exc}") from exc
        # The handlers' store (`runtime_uploads`) at the gateway's URL, known now: services built before
        # (recovery's job service) are built again with it.
        os.environ.update(
            LOCAL_BLOB_DIR=str(blob_root), LOCAL_BLOB_URL=self.url, LOCAL_BLOB_SECRET=blob_secret
        )
        runtime_uploads.reset()
        runtime.job_service.cache_clear()
        if not o.process:
            return

        def tick() -> dict[str, Any]:
            context = LocalContext("leadenrich-processor-local", PROCESSOR_TIMEOUT_SECONDS)
            summary = process(scheduled_event(), context)
            if o.on_tick is not None:
                o.on_tick(summary)
            return summary

        # moto has no "next due" to read: it ticks every second unless told otherwise.
        interval = o.tick_seconds if o.tick_seconds is not None or not o.aws else MOTO_TICK_SECONDS
        due = None if o.aws else _due(runtime)
        self._scheduler = on_exit.enter_context(Scheduler(tick, interval, due))

    def _start_embedded(self, on_exit: ExitStack, env: dict[str, str | None]) -> None:
        """The processor needs the state to itself (the lock); reading it (no processor) does not: SQLite's
        WAL lets it read while another process writes, and it must find a state there already."""
        state_dir = self.options.state_dir
        try:
            if self.options.process:
                on_exit.enter_context(StateLock(state_dir))
            elif not (state_dir / DB_FILE).is_file():
                raise RuntimeError(f"no local state in {state_dir}: nothing was run there")
        except (OSError, RuntimeError) as exc:
            raise StackError(str(exc)) from exc
        env |= {
            "BACKEND": "embedded",
            "STATE_DB": str(self.state_db),
            "TABLE_NAME": None,
            **dict.fromkeys(_QUEUE_VARIABLES),
        }
        on_exit.enter_context(_environment(env))

    def _start_moto(self, on_exit: ExitStack, env: dict[str, str | None]) -> None:
        import boto3

        try:
            from moto import mock_aws
        except ImportError:
            raise StackError(
                "--aws emulates AWS with moto, which is missing: reinstall the project"
            ) from None
        from leadenrich import runtime
        from leadenrich.aws.dynamo_schema import create_table
        from leadenrich.aws.sqs_queue import create_band_queues

        env |= dict.fromkeys(_AWS_VARIABLES_TO_CLEAR)
        env |= {
            "BACKEND": "aws",
            "STATE_DB": None,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "TABLE_NAME": TABLE_NAME,
            **dict.fromkeys(_QUEUE_VARIABLES),  # known once the queues exist; listed so they are restored
            "SERIALIZE_AWS_CALLS": "true",  # moto's DynamoDB and SQS are not thread-safe
        }
        on_exit.enter_context(_environment(env))
        on_exit.enter_context(mock_aws())
        create_table(boto3.client("dynamodb", region_name=REGION), TABLE_NAME)
        queues = create_band_queues(  # a queue and DLQ per priority band, as deployed
            boto3.client("sqs", region_name=REGION), QUEUE_NAME, visibility_timeout=VISIBILITY_TIMEOUT
        )
        os.environ.update(runtime.queue_environment(queues))

    def _blob_files(self, on_exit: ExitStack) -> tuple[Path, str]:
        """Where uploads and exports go, and the secret their URLs are signed with: under the state with its
        kept secret; with moto, a temporary folder and a new secret."""
        if self.options.aws:
            root = Path(tempfile.mkdtemp(prefix="enrich-blobs-"))
            on_exit.callback(shutil.rmtree, root, ignore_errors=True)
            return root, new_secret()
        state_dir = self.options.state_dir.resolve()
        return state_dir / BLOB_DIR, kept_blob_secret(state_dir)

    def _same_providers_as_before(self) -> None:
        """Simulated and real data never mix in one state: its jobs and its cache hold one or the other.
        Reading a state (no processor) takes its label from the state instead of from the environment."""
        state_dir = self.options.state_dir
        before = recorded_simulated(state_dir)
        if not self.options.process:
            self.simulated = bool(before)
            return
        if before is not None and before != self.simulated:
            held = "the provider simulator's (SIMULATED DATA)" if before else "real providers'"
            now = "the simulator (no HUNTER_API_KEY set)" if self.simulated else "real providers"
            raise StackError(
                f"the state {state_dir} holds {held} results and cached answers; this run would use {now}. "
                "Pass another --state (or delete that one) so the two never mix"
            )
        record_simulated(state_dir, self.simulated)

    @staticmethod
    def _recover(runtime: Any) -> None:
        """Take back what a process that died on this state left in flight: this process holds the state's
        lock, so no other processor can be running those items. Their messages become visible now and their
        leases expire now, instead of in `VISIBILITY_TIMEOUT` seconds. Expired cache entries and webhook
        records go too (DynamoDB's TTL does that deployed), so a state used for months does not only grow."""
        from leadenrich.sqlite.cache import SqliteCache
        from leadenrich.sqlite.job_store import SqliteJobStore
        from leadenrich.sqlite.queue import SqliteWorkQueue
        from leadenrich.sqlite.recovery import requeue_orphans
        from leadenrich.sqlite.webhook_log import SqliteWebhookLog

        store, queue = runtime.job_service().store, runtime.work_queue()
        if isinstance(queue, SqliteWorkQueue):
            queue.release_in_flight()
        if isinstance(store, SqliteJobStore):
            store.release_leases(datetime.now(UTC))
        if isinstance(store, SqliteJobStore) and isinstance(queue, SqliteWorkQueue):
            requeue_orphans(runtime.database())
        SqliteCache(runtime.database()).purge_expired()
        SqliteWebhookLog(runtime.database()).purge_expired()

    def quiesce(self) -> None:
        """Take no new work and return once the processor run in progress has finished its items (Ctrl-C:
        what is being paid for is finished and kept, nothing more is started). Embedded state only."""
        from leadenrich import runtime
        from leadenrich.sqlite.queue import SqliteWorkQueue

        queue = runtime.work_queue() if not self.options.aws else None
        if isinstance(queue, SqliteWorkQueue):
            queue.stop_receiving()
        if self._scheduler is not None:
            with self._scheduler.paused():
                pass

    def stop(self) -> None:
        exit_stack, self._exit = self._exit, None
        self._gateway = self._scheduler = None
        self.api_key = None
        if exit_stack is not None:
            exit_stack.close()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _due(runtime: Any) -> Callable[[], float | None]:
    """Seconds until the embedded queue has a visible message or a scheduled job comes due (0 or less:
    now), None when there is neither. A scheduled job has no message until a run releases it, so the
    queue alone would leave it waiting for the idle tick."""

    def due() -> float | None:
        at: float | None = runtime.work_queue().next_visible_at()
        earliest = asyncio.run(runtime.job_service().store.due_jobs(_NEVER, 1))  # earliest first
        if earliest and earliest[0].due_at is not None:
            job_at = earliest[0].due_at.timestamp()
            at = job_at if at is None else min(at, job_at)
        return None if at is None else at - time.time()

    return due


_NEVER = datetime(9999, 1, 1, tzinfo=UTC)
