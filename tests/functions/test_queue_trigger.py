"""The processor fed by an SQS event source mapping (`ProcessorTrigger: queue`, docs/runtime.md "Scaling"),
on moto and the simulator: the test plays Lambda's poller (ReceiveMessage on the band's queue, the records
of a real SQS event, the partial batch response read back) and checks the exactly-once rules hold as they
do for the schedule: finished messages are done, every other one is a batch item failure left in the queue,
a duplicate delivery or a second worker never runs an item twice, a crash mid-batch loses nothing, and the
schedule keeps the house without taking items."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

import handle_process
from enrich_tools.simulator import SHOWCASE_DOMAINS, SimulatorServer
from leadenrich import runtime
from tests.support.lambda_env import lambda_env_on_moto
from tests.support.lambda_events import SCHEDULED_EVENT, Context, call
from tests.support.simulator import base_config

ACCOUNT_ARN = "arn:aws:sqs:us-east-1:123456789012:"


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorServer]:
    with SimulatorServer(base_config()) as running:
        yield running


@pytest.fixture(autouse=True)
def aws(simulator: SimulatorServer, mocked_aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    lambda_env_on_moto(simulator, monkeypatch, {"PROCESSOR_TRIGGER": "queue"})
    yield
    runtime.reset()


def poll(max_messages: int = 10) -> dict[str, Any]:
    """What Lambda's poller does for the normal band's mapping: receive, and wrap the messages as records."""
    url = runtime.settings().queue_url
    assert url is not None
    sqs = boto3.client("sqs")
    messages = sqs.receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=max_messages,
        VisibilityTimeout=30,
        MessageSystemAttributeNames=["ApproximateReceiveCount"],
    ).get("Messages", [])
    return {"Records": [record(m, url.rsplit("/", 1)[-1]) for m in messages]}


def record(message: dict[str, Any], queue_name: str) -> dict[str, Any]:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {"ApproximateReceiveCount": message["Attributes"]["ApproximateReceiveCount"]},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": ACCOUNT_ARN + queue_name,
        "awsRegion": "us-east-1",
    }


def deliver(event: dict[str, Any]) -> list[str]:
    """Invoke the processor with the batch; the ids it reported as failures."""
    response = handle_process.handler(event, Context())  # type: ignore[arg-type]
    return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]


def create(domains: list[str], **options: Any) -> dict[str, Any]:
    status, job, _ = call("POST", "/jobs", body={"domains": domains, **options})
    assert status == 202, job
    return dict(job)


def job_of(job_id: str) -> dict[str, Any]:
    return dict(call("GET", f"/jobs/{job_id}")[1])


def depth() -> tuple[int, int]:
    _, metrics, _ = call("GET", "/metrics")
    return metrics["queue_depth"], metrics["in_flight"]


def test_a_batch_is_finished_and_done_and_the_job_completes_once() -> None:
    job = create(list(SHOWCASE_DOMAINS[:3]))
    event = poll()
    assert len(event["Records"]) == 3
    assert deliver(event) == []  # all finished: Lambda may delete them (they are deleted already)
    done = job_of(job["job_id"])
    assert done["status"] == "completed" and done["counters"]["processed"] == 3
    assert depth() == (0, 0)

    assert deliver(event) == []  # the same batch again (a duplicate delivery): nothing runs twice
    again = job_of(job["job_id"])
    assert (
        again["counters"]["processed"] == 3
        and again["counters"]["api_calls_hunter"] == (done["counters"]["api_calls_hunter"])
    )


def test_a_deferred_item_is_a_failure_left_in_the_queue_and_finished_later(
    simulator: SimulatorServer,
) -> None:
    job = create([SHOWCASE_DOMAINS[0]])
    simulator.configure(share_5xx=1.0)  # every provider call fails: the item is deferred with a backoff
    event = poll()
    assert deliver(event) == [event["Records"][0]["messageId"]]
    assert job_of(job["job_id"])["counters"]["processed"] == 0
    assert sum(depth()) == 1  # still in the queue, hidden for its backoff, not deleted

    simulator.configure(share_5xx=0.0)
    boto3.client("sqs").change_message_visibility(  # its backoff over (the test does not wait minutes)
        QueueUrl=runtime.settings().queue_url,
        ReceiptHandle=event["Records"][0]["receiptHandle"],
        VisibilityTimeout=0,
    )
    items = call("GET", f"/jobs/{job['job_id']}/items")[1]["items"]
    assert items[0]["status"] == "deferred"
    assert deliver(poll()) == []
    finished = job_of(job["job_id"])
    assert finished["status"] == "completed" and finished["counters"]["processed"] == 1


def test_a_second_worker_with_the_same_message_never_runs_it_twice() -> None:
    job = create([SHOWCASE_DOMAINS[1]])
    event = poll()

    async def both() -> list[list[str]]:
        return list(
            await asyncio.gather(asyncio.to_thread(deliver, event), asyncio.to_thread(deliver, event))
        )

    reported = asyncio.run(both())
    done = job_of(job["job_id"])
    assert done["counters"]["processed"] == 1 and done["status"] == "completed"
    # One finished it; the other found it held or finished: at most one failure, left to come back.
    assert sum(len(r) for r in reported) <= 1


def test_records_from_an_unknown_queue_or_malformed_are_never_lost() -> None:
    create([SHOWCASE_DOMAINS[2]])
    event = poll()
    stranger = dict(event["Records"][0], eventSourceARN=ACCOUNT_ARN + "someone-elses-queue")
    assert deliver({"Records": [stranger]}) == [stranger["messageId"]]  # left in the queue, not deleted
    url = runtime.settings().queue_url
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=url, MessageBody="not a work message")
    boto3.client("sqs").change_message_visibility(
        QueueUrl=url, ReceiptHandle=event["Records"][0]["receiptHandle"], VisibilityTimeout=60
    )
    malformed = poll()
    [bad] = [r for r in malformed["Records"] if r["body"] == "not a work message"]
    assert deliver({"Records": [bad]}) == []  # moved to the DLQ: done with
    _, metrics, _ = call("GET", "/metrics")
    assert metrics["dlq_depth"] == 1


def test_the_schedule_keeps_the_house_and_takes_no_items() -> None:
    job = create(list(SHOWCASE_DOMAINS[:2]))
    summary = handle_process.handler(SCHEDULED_EVENT, Context())  # type: ignore[arg-type]
    assert summary["received"] == 0 and depth() == (2, 0)
    assert job_of(job["job_id"])["counters"]["processed"] == 0
    assert deliver(poll()) == []
    assert job_of(job["job_id"])["status"] == "completed"


def test_the_trigger_is_checked_at_startup(monkeypatch: pytest.MonkeyPatch) -> None:
    from leadenrich.settings_errors import SettingsError

    monkeypatch.setenv("PROCESSOR_TRIGGER", "cron")
    runtime.reset()
    with pytest.raises(SettingsError, match=r"^PROCESSOR_TRIGGER: "):
        runtime.settings()
