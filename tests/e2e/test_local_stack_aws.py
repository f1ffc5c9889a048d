"""The local stack over moto (`StackOptions(aws=True)`, `enrich run --aws`): the same handlers on the AWS
adapters (DynamoDB and SQS emulated in-process), end to end over HTTP, with a periodic processor.

A module of its own: only one stack may run in a process (moto patches botocore process-wide), and
test_local_stack.py's embedded stack is torn down at the end of that module, before this one starts.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest

from enrich_tools.local.lambdas import REGION
from enrich_tools.local.stack import MOTO_TICK_SECONDS, QUEUE_NAME, TABLE_NAME, LocalStack, StackOptions
from enrich_tools.simulator import SHOWCASE_DOMAINS
from tests.e2e.test_local_stack import KEY_SHAPE, PROVIDER_VARIABLES, wait_for


def test_moto_without_a_tick_interval_runs_every_second(tmp_path: Path) -> None:
    """moto has no "next due" time to read: without --tick the processor runs every second (not back to
    back), and the stack leaves nothing behind. (First in the module: the module's stack is not up yet.)"""
    environment = dict(os.environ)
    with LocalStack(StackOptions(aws=True, state_dir=tmp_path / "state")) as stack:
        assert stack.scheduler.interval == MOTO_TICK_SECONDS
    assert dict(os.environ) == environment  # every variable the start set is restored
    assert not (tmp_path / "state").exists()  # moto keeps nothing in a state directory


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    state = tmp_path_factory.mktemp("unused-state")  # given all the same: nothing may land in the CWD
    with pytest.MonkeyPatch.context() as patch:
        for name in PROVIDER_VARIABLES:
            patch.delenv(name, raising=False)
        with LocalStack(StackOptions(aws=True, tick_seconds=0.3, state_dir=state)) as running:
            yield running
    assert list(state.iterdir()) == []


def test_a_job_goes_through_dynamodb_and_sqs_and_back_over_http(stack: LocalStack) -> None:
    assert stack.state_db is None and stack.api_key and KEY_SHAPE.fullmatch(stack.api_key)
    assert os.environ["BACKEND"] == "aws" and os.environ["TABLE_NAME"] == TABLE_NAME
    assert "STATE_DB" not in os.environ and QUEUE_NAME in os.environ["QUEUE_URL"]

    with httpx.Client(base_url=stack.url, timeout=30, headers={"X-API-Key": stack.api_key}) as api:
        assert httpx.get(f"{stack.url}/jobs", timeout=30).status_code == 401  # the authorizer runs too
        leads = [{"domain": d, "external_id": f"aws-{i}"} for i, d in enumerate(SHOWCASE_DOMAINS[:2])]
        created = api.post("/jobs", json={"leads": [*leads, {"domain": "gmail.com"}], "tags": ["aws"]})
        assert created.status_code == 202 and created.headers["x-simulated"] == "true"
        job_id = created.json()["job_id"]

        done = wait_for(api, job_id, timeout=60)  # the scheduler's periodic runs, and nobody else
        assert done["status"] == "completed" and done["counters"]["processed"] == 3
        items = api.get(f"/jobs/{job_id}/items").json()["items"]
        assert [i["lead"].get("external_id") for i in items] == ["aws-0", "aws-1", None]
        assert [i["status"] for i in items] == ["found", "found", "invalid"]
        assert api.get("/metrics").json()["queue_depth"] == 0
    assert stack.scheduler.interval == 0.3 and stack.scheduler.errors == 0

    with stack.scheduler.paused():  # moto's DynamoDB is not thread-safe: no processor run meanwhile
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        stored = dynamodb.scan(TableName=TABLE_NAME)["Items"]
        sqs = boto3.client("sqs", region_name=REGION)
        depth = sqs.get_queue_attributes(
            QueueUrl=os.environ["QUEUE_URL"], AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]["ApproximateNumberOfMessages"]
    assert any(job_id in str(item) for item in stored)  # the job lives in the emulated DynamoDB table
    assert depth == "0"
