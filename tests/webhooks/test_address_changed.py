"""`address.changed` into the signed callbacks' outbox (SQLite's webhook log and job store): owed to each job
that held the address and asked for it, once per sweep job however often reconciled, with a body naming the
address, both verdicts and that job's own leads; a job that did not ask, or has no webhook_url, gets
nothing; the dispatcher then delivers it like any owed callback, and the logs never carry the address."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from leadenrich.deadline import Deadline
from leadenrich.jobs.models import Job, JobOptions, JobStatus
from leadenrich.reverify.rules import Verdict
from leadenrich.reverify.service import AddressChange
from leadenrich.reverify.views import AddressChangedEvent
from leadenrich.sqlite.db import Database
from leadenrich.sqlite.job_store import SqliteJobStore
from leadenrich.sqlite.webhook_log import SqliteWebhookLog
from leadenrich.webhooks import signing
from leadenrich.webhooks.address_changed import AddressChangedCallbacks
from leadenrich.webhooks.outbound import CallbackDispatcher, CallbackSender

WS = "ws-changes"
SECRET = "whsec_c2VjcmV0LXNpZ25pbmcta2V5LTAxMjM0NTY3ODlhYmM="
EMAIL = "jane.doe@acme.com"
HOOK = "https://93.184.216.34/hook"  # a public address, no DNS (as tests/webhooks/test_outbound.py)
BEFORE = Verdict("active", "deliverable", "verified", "2026-01-02T03:04:05+00:00")
AFTER = Verdict("inactive", "undeliverable", "undeliverable", None)


def job(job_id: str, events: tuple[str, ...], url: str | None = HOOK) -> Job:
    options = JobOptions(webhook_url=url, webhook_events=events)
    return Job(WS, job_id, JobStatus.COMPLETED, datetime(2026, 1, 2, tzinfo=UTC), options=options)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "state.sqlite3")
    yield database
    database.close()


async def test_owed_once_to_each_job_that_asked_and_delivered_signed(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    store, outbox = SqliteJobStore(db), SqliteWebhookLog(db)
    await store.create_job(job("job_asked", ("job.completed", "address.changed")), [])
    await store.create_job(job("job_not_asked", ("job.completed",)), [])
    await store.create_job(job("job_no_url", ("job.completed",), url=None), [])
    change = AddressChange(
        WS,
        EMAIL,
        "job_sweep",
        BEFORE,
        AFTER,
        {"job_items": 3},
        ("lead-1", "lead-2"),
        ("job_asked", "job_gone", "job_no_url", "job_not_asked"),
        (("job_asked", "lead-1"), ("job_not_asked", "lead-2"), ("job_asked", None)),
    )
    callbacks = AddressChangedCallbacks(store, outbox)
    await callbacks.address_changed(change)
    await callbacks.address_changed(change)  # the same sweep job reconciled again: owed once

    owed = await outbox.due(datetime.now(UTC), 10)
    assert [(d.job_id, d.url) for _, d, _ in owed] == [("job_asked", HOOK)]
    event = AddressChangedEvent.model_validate_json(owed[0][1].body)
    assert (event.type, event.id, event.data.email, event.data.job_id) == (
        "address.changed",
        owed[0][1].event_id,
        EMAIL,
        "job_asked",
    )
    assert (event.data.lead_ids, event.data.reverification_job_id) == (["lead-1"], "job_sweep")
    assert event.data.previous.status == "active" and event.data.previous.verified_at is not None
    assert (event.data.current.hunter_status, event.data.current.verified_at) == ("undeliverable", None)

    received: list[httpx.Request] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(204)

    sender = CallbackSender({WS: SECRET}, transport=httpx.MockTransport(receiver))
    dispatcher = CallbackDispatcher(sender, outbox)

    assert await dispatcher.retry_due(Deadline.after(20)) == 1
    assert len(received) == 1
    assert signing.verify(
        SECRET, dict(received[0].headers), received[0].content, now=datetime.now(UTC).timestamp()
    )
    attempts = await outbox.attempts(WS, "job_asked")
    assert [a["delivered"] for a in attempts] == [True]
    assert await outbox.due(datetime.now(UTC), 10) == []
    assert EMAIL not in " ".join(repr(vars(r)) for r in caplog.records)
