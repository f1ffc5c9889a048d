"""The webhook logs: DynamoDB (on moto) and SQLite (on a file) held to the same tests: inbound events recorded
once, attempts listed oldest first, the outbox handing out what is due and giving each entry to one taker.
The SQLite file's own tests (a restart, expiry, threads) are in
`tests/adapters/sqlite/test_sqlite_webhook_log.py`."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from leadenrich.aws.dynamo_schema import create_table
from leadenrich.aws.dynamo_webhooks import DynamoWebhookLog
from leadenrich.sqlite.webhook_log import SqliteWebhookLog
from leadenrich.webhooks.outbound import Attempt, Delivery
from leadenrich.webhooks.wiring import EventLog

TABLE = "leadenrich-hooks"
T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
EPOCH_T0 = T0.timestamp()


def delivery(event_id: str = "msg_1", job_id: str = "job_1") -> Delivery:
    return Delivery("ws-a", job_id, "https://93.184.216.34/hook", event_id, '{"type":"job.completed"}')


@pytest.fixture(params=["dynamo", "sqlite"])
def log(request: pytest.FixtureRequest) -> EventLog:
    """Each adapter in turn, on a fresh table or file."""
    if request.param == "dynamo":
        request.getfixturevalue("mocked_aws")
        client: Any = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, TABLE)
        return DynamoWebhookLog(TABLE, client, serialize_calls=True, now=lambda: EPOCH_T0)
    return SqliteWebhookLog(request.getfixturevalue("database"), now=lambda: EPOCH_T0)


# --- inbound ---------------------------------------------------------------------------------------------


async def test_an_event_is_recorded_once_per_provider(log: EventLog) -> None:
    assert await log.record_event("hunter", "evt_1", {"type": "verification"})
    assert not await log.record_event("hunter", "evt_1", {"type": "verification"})  # a replay
    assert await log.record_event("hunter", "evt_2", {})
    assert await log.record_event("perplexity", "evt_1", {})  # the same id from another provider


async def test_a_forgotten_event_is_recorded_again(log: EventLog) -> None:
    assert await log.record_event("hunter", "evt_1", {})
    await log.forget_event("hunter", "evt_1")
    assert await log.record_event("hunter", "evt_1", {})
    await log.forget_event("hunter", "never-seen")  # nothing to forget: no error


async def test_concurrent_records_of_one_event_let_one_through(log: EventLog) -> None:
    recorded = await asyncio.gather(*(log.record_event("hunter", "evt_1", {}) for _ in range(6)))
    assert recorded.count(True) == 1


# --- attempts --------------------------------------------------------------------------------------------


async def test_attempts_are_listed_oldest_first_per_job(log: EventLog) -> None:
    hook = delivery()
    await log.record_attempt(hook, Attempt(2, T0 + timedelta(minutes=1), error="timeout"))
    await log.record_attempt(hook, Attempt(1, T0, status_code=500))
    await log.record_attempt(hook, Attempt(3, T0 + timedelta(hours=1), status_code=204))
    await log.record_attempt(delivery(job_id="job_2"), Attempt(1, T0, status_code=200))

    assert await log.attempts("ws-a", "job_1") == [
        {
            "attempt": 1,
            "at": T0.isoformat(),
            "status_code": 500,
            "error": None,
            "delivered": False,
            "event_id": "msg_1",
        },
        {
            "attempt": 2,
            "at": (T0 + timedelta(minutes=1)).isoformat(),
            "status_code": None,
            "error": "timeout",
            "delivered": False,
            "event_id": "msg_1",
        },
        {
            "attempt": 3,
            "at": (T0 + timedelta(hours=1)).isoformat(),
            "status_code": 204,
            "error": None,
            "delivered": True,
            "event_id": "msg_1",
        },
    ]
    assert [a["attempt"] for a in await log.attempts("ws-a", "job_2")] == [1]
    assert await log.attempts("ws-b", "job_1") == []  # another workspace sees nothing


async def test_a_long_error_is_cut_to_256_characters(log: EventLog) -> None:
    await log.record_attempt(delivery(), Attempt(1, T0, error="x" * 1000))
    [attempt] = await log.attempts("ws-a", "job_1")
    assert attempt["error"] == "x" * 256


# --- the outbox ------------------------------------------------------------------------------------------


async def test_the_outbox_hands_out_what_is_due_oldest_first(log: EventLog) -> None:
    await log.schedule(delivery("msg_late"), 3, T0 + timedelta(hours=1))
    await log.schedule(delivery("msg_1"), 2, T0 + timedelta(seconds=30))
    await log.schedule(delivery("msg_2"), 2, T0 + timedelta(seconds=10))

    assert await log.due(T0, 10) == []
    due = await log.due(T0 + timedelta(seconds=30), 10)  # due at exactly its time
    assert [(d.event_id, n) for _, d, n in due] == [("msg_2", 2), ("msg_1", 2)]
    assert due[1][1] == delivery("msg_1")  # the delivery comes back whole
    assert len(await log.due(T0 + timedelta(days=1), 2)) == 2  # at most `limit`
    assert len(await log.due(T0 + timedelta(days=1), 10)) == 3


async def test_an_entry_is_taken_once(log: EventLog) -> None:
    await log.schedule(delivery(), 2, T0)
    [(key, _, _)] = await log.due(T0, 10)
    assert await log.take(key)
    assert not await log.take(key)
    assert await log.due(T0 + timedelta(days=1), 10) == []


async def test_concurrent_takers_get_an_entry_once(log: EventLog) -> None:
    await log.schedule(delivery(), 2, T0)
    [(key, _, _)] = await log.due(T0, 10)
    taken = await asyncio.gather(*(log.take(key) for _ in range(6)))
    assert taken.count(True) == 1


async def test_an_event_owed_once_is_put_in_the_outbox_once(log: EventLog) -> None:
    assert await log.schedule_once(delivery("msg_cancelled"), T0)
    assert not await log.schedule_once(delivery("msg_cancelled"), T0 + timedelta(seconds=5))  # a repeat
    assert await log.schedule_once(delivery("msg_paused"), T0)
    due = await log.due(T0 + timedelta(seconds=5), 10)
    assert sorted((d.event_id, n) for _, d, n in due) == [("msg_cancelled", 1), ("msg_paused", 1)]
    for key, _, _ in due:  # taken and sent: still owed once, not again
        assert await log.take(key)
    assert not await log.schedule_once(delivery("msg_cancelled"), T0 + timedelta(minutes=1))
    assert await log.due(T0 + timedelta(days=1), 10) == []


async def test_concurrent_callers_owe_an_event_once(log: EventLog) -> None:
    owed = await asyncio.gather(*(log.schedule_once(delivery("msg_c"), T0) for _ in range(6)))
    assert owed.count(True) == 1
    assert len(await log.due(T0, 10)) == 1
