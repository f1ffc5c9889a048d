"""The embedded local stack: the deployed handlers on a laptop, with AWS emulated in-process by moto.

    HTTP client -> Gateway (uvicorn, loopback) -> handle_authorizer.handler (X-API-Key -> workspace)
                                               -> handle_api.handler -> DynamoDB + SQS (moto, in-process)
    Scheduler (every `tick` seconds)           -> handle_process.handler -> providers (or the simulator)

At start the stack mints an API key for the workspace "default" (`stack.api_key`): `enrich run` uses it,
and `enrich local up` prints it. The table lives in this process only, so no other key exists until one
is made here.

With SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY set, the handlers also read and write that Supabase project,
as they do deployed: POST /jobs matches inline leads to its `leads` (or adds them) and the processor writes
the addresses to `emails` (see docs/supabase.md). The stack only checks the pair and reports the URL.

The handlers wire themselves from environment variables (leadenrich.runtime), so the stack sets those
variables for its lifetime and restores them afterwards. moto's `mock_aws` patches botocore for the whole
process, which is why the handlers' worker threads reach the emulated services too, and also why only one
stack may run in a process. Teardown runs in reverse order and waits for the gateway's and the
scheduler's threads: no handler may still be calling boto3 once emulation is off.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
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

TABLE_NAME = "leadenrich-local"
LOCAL_WORKSPACE = "default"
QUEUE_NAME = "leadenrich-local-work"
VISIBILITY_TIMEOUT = 90  # as template.yaml: above the processor's 45 s timeout plus a margin

# Variables that would send boto3 somewhere moto does not intercept, or fail before it gets there.
_AWS_VARIABLES_TO_CLEAR = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_ENDPOINT_URL_SQS",
    "AWS_SESSION_TOKEN",
)
_ACTIVE = threading.Lock()


class StackError(RuntimeError):
    """The stack cannot start (another one runs in this process, or the port is taken)."""


@dataclass(frozen=True)
class StackOptions:
    port: int = 0
    tick_seconds: float = 60.0  # EventBridge rate(1 minute), as deployed
    seed: int = 7  # the simulator's world, when no provider keys are set
    max_items_per_run: int = 50
    budget_seconds: float = 30.0
    handler_log_level: int = logging.INFO  # the handlers' Powertools JSON logs (stdout)
    access_log: AccessLog | None = None
    on_tick: Callable[[dict[str, Any]], None] | None = None


def _mint_key(store: Any) -> str:
    """A key for the local workspace, made in the emulated table (it goes with the stack)."""
    import asyncio
    from datetime import UTC, datetime

    from leadenrich.auth.keys import create_key

    made = asyncio.run(create_key(store, LOCAL_WORKSPACE, "local stack", datetime.now(UTC)))
    return made.secret


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
        self.api_key: str | None = None  # minted at start for the workspace "default"
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
        """Run the processor once now (after any tick in progress): for tests and impatient callers."""
        return self.scheduler.tick()

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
        import boto3

        try:
            from moto import mock_aws
        except ImportError:
            raise StackError(
                "the local stack emulates AWS with moto, which is missing: reinstall the project (make run)"
            ) from None
        from leadenrich import runtime
        from leadenrich.aws.dynamo_store import create_table
        from leadenrich.aws.sqs_queue import create_queues
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
        env: dict[str, str | None] = dict.fromkeys(_AWS_VARIABLES_TO_CLEAR)
        env |= provider_environment(settings)
        env |= {
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "TABLE_NAME": TABLE_NAME,
            "QUEUE_URL": None,  # known once the queue exists; listed so that it is restored
            "DEAD_LETTER_QUEUE_URL": None,
            "SERIALIZE_DYNAMODB_CALLS": "true",  # moto's DynamoDB is not thread-safe
            "MAX_ITEMS_PER_RUN": str(o.max_items_per_run),
            "PROCESSOR_BUDGET_SECONDS": str(o.budget_seconds),
            "QUEUE_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
            # Callbacks to http:// and loopback receivers (never private or metadata addresses): local only.
            "ALLOW_LOCAL_WEBHOOKS": "true",
        }
        on_exit.enter_context(_environment(env))
        on_exit.enter_context(mock_aws())
        create_table(boto3.client("dynamodb", region_name=REGION), TABLE_NAME)
        queue_url, dlq_url = create_queues(
            boto3.client("sqs", region_name=REGION), QUEUE_NAME, visibility_timeout=VISIBILITY_TIMEOUT
        )
        os.environ["QUEUE_URL"], os.environ["DEAD_LETTER_QUEUE_URL"] = queue_url, dlq_url
        runtime.reset()  # services cached by an earlier run point at resources that no longer exist
        on_exit.callback(runtime.reset)
        self.api_key = _mint_key(runtime.key_store())
        previous_level = set_handler_log_level(o.handler_log_level)
        on_exit.callback(set_handler_log_level, previous_level)

        headers = {SIMULATED_HEADER: "true"} if self.simulated else None
        app = create_app(
            api, authorizer=authorizer, webhook=webhook, extra_headers=headers, access_log=o.access_log
        )
        try:
            self._gateway = on_exit.enter_context(Gateway(app, port=o.port))
        except OSError as exc:
            raise StackError(f"cannot listen on 127.0.0.1:{o.port}: {exc.strerror or exc}") from exc

        def tick() -> dict[str, Any]:
            context = LocalContext("leadenrich-processor-local", PROCESSOR_TIMEOUT_SECONDS)
            summary = process(scheduled_event(), context)
            if o.on_tick is not None:
                o.on_tick(summary)
            return summary

        self._scheduler = on_exit.enter_context(Scheduler(tick, o.tick_seconds))

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
