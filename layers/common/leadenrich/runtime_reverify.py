"""The wiring of the re-verification sweep (docs/reverification.md) beside `leadenrich.runtime`: where the
deployment stores addresses, the sweep over the runtime's job service, ledger and audit trail, its
`address.changed` callbacks, and the processor's schedule.

`reverify_sweep()` is not cached: a small object over the runtime's cached services, so `runtime.reset()`
and a changed environment need nothing of their own. The schedule is kept for the process (it remembers
when it last looked); `runtime.reset()` drops it. `CLOCK` moves the sweep's time (tests; None: now).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from leadenrich import runtime as core

if TYPE_CHECKING:
    from leadenrich.reverify.ports import ReverifyPlace
    from leadenrich.reverify.schedule import ReverifySchedule
    from leadenrich.reverify.service import ReverifySweep
    from leadenrich.webhooks.address_changed import AddressChangedCallbacks

CLOCK: Callable[[], datetime] | None = None


def now() -> datetime:
    return CLOCK() if CLOCK is not None else datetime.now(UTC)


def reverify_places() -> list[ReverifyPlace]:
    """Where the workspaces' addresses are: the job items (the DynamoDB table or the SQLite file, unless
    JOB_STORE=supabase) and, when Supabase is configured, its `emails` (which also hold the found addresses
    of jobs kept in Supabase)."""
    from leadenrich.supabase.client import SupabaseSettings

    config = core.settings()
    places: list[ReverifyPlace] = []
    if config.job_store != "supabase":
        if core._embedded():
            from leadenrich.sqlite.reverify import SqliteReverifyPlace

            places.append(SqliteReverifyPlace(core.database()))
        else:
            from leadenrich.aws.dynamo_reverify import DynamoReverifyPlace

            _config, dynamodb, _sqs = core._aws()
            places.append(
                DynamoReverifyPlace(core._table(config), dynamodb, serialize_calls=config.serialize_aws_calls)
            )
    project = SupabaseSettings.from_env(core.app_env())
    if project is not None:
        from leadenrich.supabase.reverify import SupabaseReverifyPlace
        from leadenrich.supabase.rpc import connect_with

        places.append(SupabaseReverifyPlace(connect_with(project)))
    return places


def change_callbacks() -> AddressChangedCallbacks:
    """`address.changed` into the signed callbacks' outbox, for the jobs that asked for it."""
    from leadenrich.webhooks.address_changed import AddressChangedCallbacks

    # The outbox's clock, not the sweep's: a delivery is due by the time the callbacks' sweeps read.
    return AddressChangedCallbacks(core.job_service().store, core.webhooks().log)


def reverify_sweep() -> ReverifySweep:
    """The sweep, counting a verification as the processor does (HUNTER_VERIFICATION_CREDIT)."""
    from leadenrich.engine.settings import EngineSettings
    from leadenrich.reverify.service import ReverifySweep

    service = core.job_service()
    credit = EngineSettings.from_env().hunter_verification_credit
    return ReverifySweep(
        reverify_places(),
        service,
        service.store,
        core.spend_ledger(),
        core.audit_log(),
        change_callbacks(),
        clock=now,
        credits_per_verification=credit,
    )


@functools.cache
def reverify_schedule() -> ReverifySchedule:
    """The processor's: the budgeted workspaces' sweeps, looked at hourly (`reverify.schedule`)."""
    from leadenrich.reverify.schedule import ReverifySchedule

    return ReverifySchedule(reverify_sweep, core.workspace_settings(), clock=now)


def reset() -> None:
    reverify_schedule.cache_clear()


__all__ = [
    "CLOCK",
    "change_callbacks",
    "now",
    "reset",
    "reverify_places",
    "reverify_schedule",
    "reverify_sweep",
]
