"""The SQS work queue against moto's SQS: the shared `WorkQueue` contract (tests/jobs/queue_contract.py),
plus what is SQS's own: batching into calls, the message bodies, re-timing limits, the reason attribute,
malformed bodies, the fair-queue tenant, and the queues `create_queues` makes.

moto honours visibility timeouts in real time, so the tests use 0-1 s values and the contract's `elapse`
really sleeps; calls are counted with botocore event hooks on the real client, never by patching the adapter.
A redrive ends on an empty long poll of the DLQ (1 s): the contract runs once with it (`TestSqsWorkQueue`)
and, serialised, without it (`redrive_wait_seconds=0`: moto's one queue answers a short poll in full).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from leadenrich.aws.sqs_queue import (
    MALFORMED_REASON,
    MalformedMessage,
    SendFailed,
    SqsWorkQueue,
    create_queues,
    decode_message,
    encode_message,
)
from leadenrich.jobs.models import Band, Received, WorkMessage
from leadenrich.jobs.ports import QueueDepth, WorkQueue
from tests.support.queue_contract import Elapse, MakeQueue, WorkQueueContract


@dataclass
class Env:
    client: Any
    queue: SqsWorkQueue
    queue_url: str
    dlq_url: str


@pytest.fixture
def env(mocked_aws: None) -> Env:
    client = boto3.client("sqs")
    queue_url, dlq_url = create_queues(client, "work")
    return Env(client, SqsWorkQueue(queue_url, dlq_url, client), queue_url, dlq_url)


@pytest.fixture
def queue(env: Env) -> WorkQueue:
    return env.queue


@pytest.fixture
def make_queue(env: Env) -> MakeQueue:
    def make(max_receive_count: int) -> WorkQueue:
        url, dlq = create_queues(
            env.client, f"fragile-{max_receive_count}", max_receive_count=max_receive_count
        )
        return SqsWorkQueue(url, dlq, env.client)

    return make


@pytest.fixture
def elapse() -> Elapse:
    async def sleep(seconds: float) -> None:
        await asyncio.sleep(seconds + 0.1)  # moto's clock is the real one

    return sleep


class TestSqsWorkQueue(WorkQueueContract):
    """The shared contract on SQS (moto)."""


class TestSerializedSqsWorkQueue(WorkQueueContract):
    """The contract again with the calls serialised, as over moto in the processor suite and the local
    stack: a long poll is then made of short polls, and must still return a message sent while it waits."""

    @pytest.fixture
    def queue(self, env: Env) -> WorkQueue:
        return SqsWorkQueue(
            env.queue_url, env.dlq_url, env.client, serialize_calls=True, redrive_wait_seconds=0
        )

    @pytest.fixture
    def make_queue(self, env: Env) -> MakeQueue:
        def make(max_receive_count: int) -> WorkQueue:
            url, dlq = create_queues(
                env.client, f"fragile-{max_receive_count}", max_receive_count=max_receive_count
            )
            return SqsWorkQueue(url, dlq, env.client, serialize_calls=True, redrive_wait_seconds=0)

        return make


def messages(n: int, job: str = "j1") -> list[WorkMessage]:
    return [WorkMessage("ws", job, f"{i:04d}") for i in range(n)]


def count_calls(client: Any, operation: str) -> list[dict[str, Any]]:
    """Each call's API parameters, in order (the hook sees every call the client makes)."""
    calls: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        calls.append(dict(params))

    client.meta.events.register(f"before-parameter-build.sqs.{operation}", record)
    return calls


def dlq_contents(env: Env) -> list[dict[str, Any]]:
    response = env.client.receive_message(
        QueueUrl=env.dlq_url, MaxNumberOfMessages=10, VisibilityTimeout=0, MessageAttributeNames=["All"]
    )
    found: list[dict[str, Any]] = response.get("Messages", [])
    return found


async def test_the_adapter_is_a_work_queue(env: Env) -> None:
    queue: WorkQueue = env.queue
    assert await queue.depth() == QueueDepth(visible=0, in_flight=0, delayed=0, dead_letters=0)


async def test_create_queues_wires_a_dead_letter_queue_like_the_template(env: Env) -> None:
    attributes = env.client.get_queue_attributes(QueueUrl=env.queue_url, AttributeNames=["All"])["Attributes"]
    dlq = env.client.get_queue_attributes(QueueUrl=env.dlq_url, AttributeNames=["All"])["Attributes"]
    policy = json.loads(attributes["RedrivePolicy"])
    assert attributes["VisibilityTimeout"] == "60"
    assert policy["deadLetterTargetArn"] == dlq["QueueArn"]
    assert int(policy["maxReceiveCount"]) == 25
    assert dlq["MessageRetentionPeriod"] == str(14 * 24 * 3600)
    assert create_queues(env.client, "work") == (env.queue_url, env.dlq_url)  # idempotent


async def test_every_message_names_its_workspace_as_the_fair_queue_tenant(env: Env) -> None:
    # SQS fair queues tell tenants apart by MessageGroupId; redriven messages must keep it too.
    sent = [WorkMessage("ws-big", "j", f"{i:04d}") for i in range(12)] + [WorkMessage("ws-small", "k", "0")]
    await env.queue.send(sent)
    received = await env.queue.receive(13, visibility_timeout=30)
    for r in received:
        await env.queue.dead_letter(r, "x")
    await env.queue.redrive()

    groups: dict[str, str] = {}
    while raw := env.client.receive_message(
        QueueUrl=env.queue_url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["MessageGroupId"]
    ).get("Messages", []):
        for m in raw:
            groups[m["Body"]] = m["Attributes"]["MessageGroupId"]
    assert len(groups) == 13
    assert all(json.loads(body)["ws"] == group for body, group in groups.items())


async def test_25_messages_take_exactly_3_send_message_batch_calls(env: Env) -> None:
    calls: list[str] = []
    env.client.meta.events.register(
        "before-call.sqs.SendMessageBatch", lambda **kwargs: calls.append(kwargs["model"].name)
    )
    sent = messages(25)

    assert await env.queue.send(sent) == 3

    assert len(calls) == 3
    received = await env.queue.receive(30, visibility_timeout=30)
    assert sorted(r.message.item_id for r in received) == [m.item_id for m in sent]
    assert (await env.queue.depth()).in_flight == 25


async def test_sending_nothing_makes_no_call(env: Env) -> None:
    calls = count_calls(env.client, "SendMessageBatch")
    assert await env.queue.send([]) == 0
    assert calls == []


@pytest.mark.parametrize("delay", [-1, 901])
async def test_delay_outside_0_to_900_is_refused_before_any_call(env: Env, delay: int) -> None:
    calls = count_calls(env.client, "SendMessageBatch")
    with pytest.raises(ValueError, match="delay_seconds"):
        await env.queue.send(messages(1), delay_seconds=delay)
    assert calls == []


async def test_delayed_messages_are_counted_as_delayed_not_visible(env: Env) -> None:
    calls = count_calls(env.client, "SendMessageBatch")
    await env.queue.send(messages(2), delay_seconds=900)
    assert [e["DelaySeconds"] for e in calls[0]["Entries"]] == [900, 900]
    assert await env.queue.receive(10, visibility_timeout=0) == []
    assert await env.queue.depth() == QueueDepth(visible=0, in_flight=0, delayed=2, dead_letters=0)


class RefusingClient:
    """The moto client, except that SendMessageBatch leaves out the entries for `refused` items and lists
    them as Failed, the first `times` times each is sent: SQS refusing part of a batch."""

    def __init__(self, client: Any, refused: set[str], times: int) -> None:
        self._client = client
        self._left = dict.fromkeys(refused, times)
        self.batch_calls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def send_message_batch(self, *, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.batch_calls += 1
        kept, failed = [], []
        for entry in Entries:
            item = json.loads(entry["MessageBody"])["item"]
            if self._left.get(item, 0) > 0:
                self._left[item] -= 1
                failed.append(
                    {"Id": entry["Id"], "SenderFault": False, "Code": "InternalError", "Message": "x"}
                )
            else:
                kept.append(entry)
        response: dict[str, Any] = (
            self._client.send_message_batch(QueueUrl=QueueUrl, Entries=kept) if kept else {"Successful": []}
        )
        return {**response, "Failed": [*response.get("Failed", []), *failed]}


async def test_entries_a_batch_refuses_are_retried_once_in_a_new_batch(env: Env) -> None:
    client = RefusingClient(env.client, {"0003", "0017"}, times=1)
    queue = SqsWorkQueue(env.queue_url, env.dlq_url, client)

    calls = await queue.send(messages(25))

    assert calls == client.batch_calls == 4  # three batches, then one batch of the two refused
    received = await queue.receive(30, visibility_timeout=30)
    assert sorted(r.message.item_id for r in received) == [m.item_id for m in messages(25)]


async def test_entries_refused_twice_raise_naming_how_many_after_the_rest_is_sent(env: Env) -> None:
    client = RefusingClient(env.client, {"0003", "0017"}, times=2)
    queue = SqsWorkQueue(env.queue_url, env.dlq_url, client)

    with pytest.raises(SendFailed, match="2 of 25") as raised:
        await queue.send(messages(25))

    assert sorted(m.item_id for m in raised.value.failed) == ["0003", "0017"]
    assert client.batch_calls == 4  # retried once only
    assert (await queue.depth()).visible == 23


async def test_receive_gathers_in_calls_of_ten_and_only_the_first_waits(env: Env) -> None:
    await env.queue.send(messages(25))
    calls = count_calls(env.client, "ReceiveMessage")

    received = await env.queue.receive(25, visibility_timeout=30, wait_seconds=1)

    assert len(received) == 25
    assert [c["MaxNumberOfMessages"] for c in calls] == [10, 10, 5]
    assert [c["WaitTimeSeconds"] for c in calls] == [1, 0, 0]
    assert all(c["VisibilityTimeout"] == 30 for c in calls)
    assert all(c["MessageSystemAttributeNames"] == ["ApproximateReceiveCount"] for c in calls)


async def test_receive_stops_when_a_call_returns_nothing(env: Env) -> None:
    await env.queue.send(messages(3))
    calls = count_calls(env.client, "ReceiveMessage")

    assert len(await env.queue.receive(25, visibility_timeout=30)) == 3
    assert len(calls) == 2


async def test_delete_swallows_an_invalid_receipt_handle_but_not_other_errors(env: Env) -> None:
    gone = Received(messages(1)[0], receipt_handle="no-such-handle", receive_count=1, message_id="m")
    await env.queue.delete(gone)

    env.client.delete_queue(QueueUrl=env.queue_url)
    with pytest.raises(ClientError):
        await env.queue.delete(gone)


async def test_retry_later_clamps_to_12_hours_from_the_receive(env: Env) -> None:
    calls = count_calls(env.client, "ChangeMessageVisibility")
    await env.queue.send(messages(1))
    [received] = await env.queue.receive(1, visibility_timeout=30)

    await env.queue.retry_later(received, 50_000)

    assert 43_190 <= calls[0]["VisibilityTimeout"] < 43_200  # 12 h minus the (rounded-up) time since
    with pytest.raises(ValueError, match="delay_seconds"):
        await env.queue.retry_later(received, -1)


async def test_dead_letter_moves_the_message_with_its_reason(env: Env) -> None:
    await env.queue.send(messages(1))
    [received] = await env.queue.receive(1, visibility_timeout=30)

    await env.queue.dead_letter(received, "attempts exhausted: " + "x" * 300)

    assert await env.queue.depth() == QueueDepth(visible=0, in_flight=0, delayed=0, dead_letters=1)
    [dead] = dlq_contents(env)
    assert decode_message(dead["Body"]) == received.message
    assert dead["Body"] == encode_message(received.message)
    reason = dead["MessageAttributes"]["reason"]
    assert reason["DataType"] == "String"
    assert reason["StringValue"] == ("attempts exhausted: " + "x" * 300)[:256]
    assert set(dead["MessageAttributes"]) == {"reason"}


async def test_the_reason_holds_only_what_the_caller_gave(env: Env) -> None:
    await env.queue.send(messages(2))
    first, second = await env.queue.receive(2, visibility_timeout=30)

    await env.queue.dead_letter(first, "bad\x00 byte\x1b")  # characters SQS refuses are dropped
    await env.queue.dead_letter(
        second, ""
    )  # SQS refuses empty values: no attribute rather than a made-up one

    reasons = {decode_message(d["Body"]).item_id: d.get("MessageAttributes") for d in dlq_contents(env)}
    assert reasons == {
        first.message.item_id: {"reason": {"DataType": "String", "StringValue": "bad byte"}},
        second.message.item_id: None,
    }


async def test_a_malformed_body_is_dead_lettered_and_not_returned(env: Env) -> None:
    bad = ["not json", '{"v":2,"ws":"ws","job":"j","item":"i"}', '{"v":1,"ws":"ws","job":"j"}']
    for body in bad:
        env.client.send_message(QueueUrl=env.queue_url, MessageBody=body)
    await env.queue.send(messages(1))

    received = await env.queue.receive(10, visibility_timeout=30)

    assert [r.message for r in received] == messages(1)
    assert await env.queue.depth() == QueueDepth(visible=0, in_flight=1, delayed=0, dead_letters=3)
    dead = dlq_contents(env)
    assert sorted(d["Body"] for d in dead) == sorted(bad)
    assert {d["MessageAttributes"]["reason"]["StringValue"] for d in dead} == {MALFORMED_REASON}


async def test_redrive_moves_dead_letters_back_and_leaves_malformed_ones(env: Env) -> None:
    await env.queue.send(messages(3))
    for r in await env.queue.receive(10, visibility_timeout=30):
        await env.queue.dead_letter(r, "provider down")
    env.client.send_message(QueueUrl=env.dlq_url, MessageBody="garbage")

    moved = await env.queue.redrive()

    assert sorted(moved, key=lambda m: m.item_id) == messages(3)
    assert await env.queue.depth() == QueueDepth(visible=3, in_flight=0, delayed=0, dead_letters=1)
    assert [d["Body"] for d in dlq_contents(env)] == ["garbage"]  # visible again at once
    back = env.client.receive_message(
        QueueUrl=env.queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    )
    assert all("MessageAttributes" not in m for m in back["Messages"])  # the reason stays behind


def test_bodies_are_compact_versioned_json() -> None:
    message = WorkMessage("ws", "job-1", "0007")
    body = encode_message(message)
    assert body == '{"v":2,"ws":"ws","job":"job-1","item":"0007","p":3}'
    assert decode_message(body) == message
    urgent = WorkMessage("ws", "job-1", "0007", priority=1)
    assert encode_message(urgent) == '{"v":2,"ws":"ws","job":"job-1","item":"0007","p":1}'
    assert decode_message(encode_message(urgent)) == urgent
    with pytest.raises(ValueError, match="non-empty"):
        encode_message(WorkMessage("ws", "", "0007"))
    for priority in (0, 6, True):
        with pytest.raises(ValueError, match="priority must be an integer from 1 to 5"):
            encode_message(WorkMessage("ws", "job-1", "0007", priority=priority))


def test_a_version_1_body_from_before_priorities_decodes_as_the_normal_band() -> None:
    """Messages a deployed stack sent before priorities are still in its queue (the normal band's)."""
    message = decode_message('{"v":1,"ws":"ws","job":"job-1","item":"0007"}')
    assert message == WorkMessage("ws", "job-1", "0007", priority=3)
    assert message.band is Band.NORMAL


@pytest.mark.parametrize(
    "body",
    [
        "",
        "[]",
        '"text"',
        '{"v":1,"ws":"ws","job":"j"}',
        '{"v":1,"ws":"ws","job":"j","item":"i","extra":1}',
        '{"v":true,"ws":"ws","job":"j","item":"i"}',
        '{"v":"1","ws":"ws","job":"j","item":"i"}',
        '{"v":1,"ws":"","job":"j","item":"i"}',
        '{"v":1,"ws":"ws","job":7,"item":"i"}',
        '{"v":1,"ws":"ws","job":"j","item":"i","item":"k"}',
        '{"v":1,"ws":"ws","job":"j","item":"i","p":1}',
        '{"v":2,"ws":"ws","job":"j","item":"i"}',
        '{"v":2,"ws":"ws","job":"j","item":"i","p":0}',
        '{"v":2,"ws":"ws","job":"j","item":"i","p":6}',
        '{"v":2,"ws":"ws","job":"j","item":"i","p":true}',
        '{"v":2,"ws":"ws","job":"j","item":"i","p":"1"}',
        '{"v":3,"ws":"ws","job":"j","item":"i","p":1}',
    ],
)
def test_decoding_is_strict(body: str) -> None:
    with pytest.raises(MalformedMessage):
        decode_message(body)


class OverlapCountingClient:
    """The moto client, counting how many of its calls run at once (each takes a little while)."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._lock = threading.Lock()
        self._running = 0
        self.most_at_once = 0

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)

        def call(**params: Any) -> Any:
            with self._lock:
                self._running += 1
                self.most_at_once = max(self.most_at_once, self._running)
            try:
                time.sleep(0.02)  # long enough for the other threads' calls to start meanwhile
                return method(**params)
            finally:
                with self._lock:
                    self._running -= 1

        return call


@pytest.mark.parametrize("serialize_calls", [True, False])
async def test_serialised_calls_never_overlap(env: Env, serialize_calls: bool) -> None:
    """moto's SQS is not thread-safe: a receive checks that a message is visible and marks it received in
    two steps, so two receives at once can both take it (the processor suite's race test saw 61 deliveries
    of 60 messages). Serialised, no two calls run at once; the control shows that they otherwise do."""
    client = OverlapCountingClient(env.client)
    queue = SqsWorkQueue(env.queue_url, env.dlq_url, client, serialize_calls=serialize_calls)
    await queue.send(messages(40))

    batches = await asyncio.gather(*(queue.receive(5, visibility_timeout=30) for _ in range(8)))

    received = [r.message.item_id for batch in batches for r in batch]
    assert (client.most_at_once == 1) is serialize_calls
    if serialize_calls:
        assert sorted(received) == [m.item_id for m in messages(40)]  # each delivered once
