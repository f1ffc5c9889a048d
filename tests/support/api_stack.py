"""The API's AWS wiring on moto, for the handlers (API, authorizer) and the key and quota adapters: fixtures
imported by the conftests that need them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

import handle_api
from leadenrich import runtime
from leadenrich.aws.dynamo_schema import create_table
from leadenrich.aws.sqs_queue import create_queues
from tests.support.lambda_events import Context, http_event

TABLE = "leadenrich-auth"


@pytest.fixture
def dynamodb(mocked_aws: None) -> Any:
    client = boto3.client("dynamodb")
    create_table(client, TABLE)
    return client


@pytest.fixture
def stack(dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The environment the API Lambda and the authorizer get from template.yaml, on moto."""
    queue_url, dlq_url = create_queues(boto3.client("sqs"), "leadenrich-auth-work", visibility_timeout=30)
    for name, value in {
        "TABLE_NAME": TABLE,
        "QUEUE_URL": queue_url,
        "DEAD_LETTER_QUEUE_URL": dlq_url,
        "SERIALIZE_AWS_CALLS": "true",
        "HUNTER_API_KEY": "test-hunter-key",  # GET /health reports the provider keys present
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DAILY_LEAD_QUOTA", raising=False)
    runtime.reset()
    yield
    runtime.reset()


def call(
    method: str, path: str, workspace: str | None = "default", **kwargs: Any
) -> tuple[int, Any, dict[str, str]]:
    """The API handler with an event whose authorizer context names `workspace`."""
    event = http_event(method, path, workspace=workspace, **kwargs)
    response = handle_api.handler(event, Context())  # type: ignore[arg-type]
    return response["statusCode"], json.loads(response["body"]), response.get("headers") or {}
