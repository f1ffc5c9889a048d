"""Priority bands on SQS (moto): `BandedWorkQueue` over one `SqsWorkQueue` (queue and DLQ) per band, as
`create_band_queues` and the SAM template make them. The shared `WorkQueue` contract and the priority
contract run on it; the rest is what only SQS shows: which real queue a message sits in, and where an
acknowledgement goes.

Each band's redrive here skips the DLQ's closing long poll (`redrive_wait_seconds=0`, 1 s a band otherwise:
moto's one queue answers a short poll in full); test_sqs_queue.py runs the contract with it.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from leadenrich.aws.sqs_queue import SqsWorkQueue, create_band_queues
from leadenrich.jobs.models import Band
from leadenrich.jobs.ports import WorkQueue
from leadenrich.jobs.priorities import BandedWorkQueue
from tests.support.priority_queue_contract import PriorityQueueContract, at
from tests.support.queue_contract import Elapse, MakeQueue, WorkQueueContract


@dataclass
class Env:
    client: Any
    urls: dict[Band, tuple[str, str]]
    queue: BandedWorkQueue


def banded(
    client: Any, urls: dict[Band, tuple[str, str]], *, serialize_calls: bool = False
) -> BandedWorkQueue:
    return BandedWorkQueue(
        {
            band: SqsWorkQueue(url, dlq, client, serialize_calls=serialize_calls, redrive_wait_seconds=0)
            for band, (url, dlq) in urls.items()
        }
    )


@pytest.fixture
def env(mocked_aws: None) -> Env:
    client = boto3.client("sqs")
    urls = create_band_queues(client, "work")
    return Env(client, urls, banded(client, urls))


@pytest.fixture
def queue(env: Env) -> WorkQueue:
    return env.queue


@pytest.fixture
def make_queue(env: Env) -> MakeQueue:
    def make(max_receive_count: int) -> WorkQueue:
        urls = create_band_queues(
            env.client, f"fragile-{max_receive_count}", max_receive_count=max_receive_count
        )
        return banded(env.client, urls)

    return make


@pytest.fixture
def elapse() -> Elapse:
    async def sleep(seconds: float) -> None:
        await asyncio.sleep(seconds + 0.1)  # moto's clock is the real one

    return sleep


class TestBandedSqsWorkQueue(WorkQueueContract):
    """The port's contract holds with bands (every test's messages are priority 3: the normal band)."""


class TestBandedSqsPriorities(PriorityQueueContract):
    """The priority contract on SQS queues."""


class TestSerializedBandedSqsPriorities(PriorityQueueContract):
    """Again with the calls serialised, as over moto in the processor suite and the local stack."""

    @pytest.fixture
    def queue(self, env: Env) -> WorkQueue:
        return banded(env.client, env.urls, serialize_calls=True)


def visible(env: Env, url: str) -> list[dict[str, Any]]:
    response = env.client.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    found: list[dict[str, Any]] = response.get("Messages", [])
    return found


def test_create_band_queues_makes_a_queue_and_dlq_per_band_the_normal_one_as_before(env: Env) -> None:
    names = {band: [url.rsplit("/", 1)[1] for url in pair] for band, pair in env.urls.items()}
    assert names == {
        Band.HIGH: ["work-high", "work-high-dlq"],
        Band.NORMAL: ["work", "work-dlq"],  # the queue a stack without bands has
        Band.LOW: ["work-low", "work-low-dlq"],
    }
    for url, dlq in env.urls.values():
        policy = env.client.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])
        target = env.client.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])
        redrive = json.loads(policy["Attributes"]["RedrivePolicy"])
        assert redrive == {"deadLetterTargetArn": target["Attributes"]["QueueArn"], "maxReceiveCount": 25}


async def test_each_message_sits_in_its_bands_queue_and_dies_into_its_bands_dlq(env: Env) -> None:
    await env.queue.send(at(1, 1) + at(2, 1) + at(3, 1) + at(4, 1) + at(5, 1))

    held = {
        band: sorted(json.loads(m["Body"])["p"] for m in visible(env, url))
        for band, (url, _) in env.urls.items()
    }
    assert held == {Band.HIGH: [1, 2], Band.NORMAL: [3], Band.LOW: [4, 5]}

    for received in await env.queue.receive(5, visibility_timeout=30):
        await env.queue.dead_letter(received, "attempts exhausted")
    dead = {
        band: sorted(json.loads(m["Body"])["p"] for m in visible(env, dlq))
        for band, (_, dlq) in env.urls.items()
    }
    assert dead == {Band.HIGH: [1, 2], Band.NORMAL: [3], Band.LOW: [4, 5]}


async def test_an_acknowledgement_goes_to_the_queue_that_delivered_the_message(env: Env) -> None:
    """A body that does not say its band (version 1, sent before priorities: priority 3) in the high queue,
    as after a stack gained its band queues: deleting it must delete it there, not in the normal queue."""
    high_url = env.urls[Band.HIGH][0]
    env.client.send_message(QueueUrl=high_url, MessageBody='{"v":1,"ws":"ws","job":"old","item":"0000"}')

    [received] = await env.queue.receive(1, visibility_timeout=0)
    await env.queue.retry_later(received, 0)
    [again] = await env.queue.receive(1, visibility_timeout=30)
    await env.queue.delete(again)

    assert (received.message.priority, received.band, again.band) == (3, Band.HIGH, Band.HIGH)
    assert visible(env, high_url) == []


async def test_bands_without_a_queue_of_their_own_share_the_normal_one(env: Env) -> None:
    """A stack with a high band queue but no low one: low-priority items wait with the normal ones."""
    normal = SqsWorkQueue(*env.urls[Band.NORMAL], env.client)
    high = SqsWorkQueue(*env.urls[Band.HIGH], env.client)
    queue = BandedWorkQueue({Band.HIGH: high, Band.NORMAL: normal, Band.LOW: normal})
    await queue.send(at(5, 2) + at(3, 2) + at(1, 1))

    received = await queue.receive(5, visibility_timeout=30)
    for r in received[1:3]:
        await queue.dead_letter(r, "x")

    assert [r.message.priority for r in received[:1]] == [1]
    assert sorted(r.message.priority for r in received[1:]) == [3, 3, 5, 5]
    assert visible(env, env.urls[Band.LOW][0]) == []
    depth = await queue.depth()  # the shared queue counted once
    assert (depth.in_flight, depth.dead_letters) == (3, 2)
    assert len(await queue.redrive()) == 2


def test_a_banded_queue_needs_a_queue_for_every_band(env: Env) -> None:
    normal = SqsWorkQueue(*env.urls[Band.NORMAL], env.client)
    with pytest.raises(ValueError, match="missing"):
        BandedWorkQueue({Band.NORMAL: normal})
