"""The Lambda authorizer, invoked with the events API Gateway sends it (HTTP API, payload 2.0), on moto."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

import pytest

import handle_authorizer
from leadenrich import runtime
from leadenrich.auth.keys import create_key
from tests.support.lambda_events import Context

pytestmark = pytest.mark.usefixtures("stack")


def authorizer_event(key: str | None, path: str = "/jobs", method: str = "GET") -> dict[str, Any]:
    """A REQUEST authorizer event, payload 2.0, identity source `$request.header.X-API-Key` (AWS docs)."""
    headers = {"content-type": "application/json", "user-agent": "curl/8.5.0"}
    if key is not None:
        headers["x-api-key"] = key
    return {
        "version": "2.0",
        "type": "REQUEST",
        "routeArn": f"arn:aws:execute-api:us-east-1:123456789012:abcdef123/$default/{method}{path}",
        "identitySource": [key] if key is not None else [],
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abcdef123",
            "domainName": "abcdef123.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abcdef123",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": "curl/8.5.0",
            },
            "requestId": "id-1",
            "routeKey": f"{method} {path}",
            "stage": "$default",
            "time": "22/Nov/2026:09:00:00 +0000",
            "timeEpoch": 1795338000000,
        },
        "pathParameters": {},
        "stageVariables": {},
    }


def authorize(key: str | None) -> dict[str, Any]:
    answer: dict[str, Any] = handle_authorizer.handler(authorizer_event(key), Context())  # type: ignore[arg-type]
    return answer


def mint(workspace: str) -> tuple[str, str]:
    made = asyncio.run(create_key(runtime.key_store(), workspace, "test", datetime.now(UTC)))
    return made.secret, made.key.key_id


def test_an_active_key_is_authorized_with_its_workspace_as_context() -> None:
    secret, key_id = mint("acme")
    assert authorize(secret) == {
        "isAuthorized": True,
        "context": {"workspace_id": "acme", "key_id": key_id},
    }


@pytest.mark.parametrize("candidate", [None, "", "nope", "le_" + "A" * 43])
def test_missing_malformed_and_unknown_keys_are_refused(candidate: str | None) -> None:
    assert authorize(candidate) == {"isAuthorized": False}


def test_a_revoked_key_is_refused() -> None:
    secret, key_id = mint("acme")
    assert authorize(secret)["isAuthorized"] is True
    asyncio.run(runtime.key_store().revoke(key_id, datetime.now(UTC)))
    assert authorize(secret) == {"isAuthorized": False}


def test_the_key_falls_back_to_the_header_when_no_identity_source_is_given() -> None:
    secret, _ = mint("acme")
    event = authorizer_event(secret)
    event["identitySource"] = []
    answer = handle_authorizer.handler(event, Context())  # type: ignore[arg-type]
    assert answer["context"]["workspace_id"] == "acme"


def test_the_key_is_never_logged(caplog: pytest.LogCaptureFixture) -> None:
    secret, key_id = mint("acme")
    with caplog.at_level(logging.INFO):
        authorize(secret)
        authorize(secret[:-4] + "AAAA")  # well formed, unknown: its prefix only
    text = " ".join(str(vars(record)) for record in caplog.records)
    assert key_id in text  # what identifies the key in the logs
    assert secret not in text and secret[:-4] not in text and secret[11:] not in text
