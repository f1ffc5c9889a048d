"""Lambda events and a context as AWS sends them: what the handler tests, the auth tests and the benchmarks
invoke the handlers with."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import handle_api


@dataclass
class Context:
    """The attributes of a Lambda context the handlers and Powertools read."""

    function_name: str = "leadenrich-test"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:leadenrich-test"
    aws_request_id: str = "req-1"
    remaining_ms: int = 60_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def http_event(
    method: str,
    path: str,
    body: object | None = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    workspace: str | None = "default",
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event as AWS sends it, after the Lambda authorizer resolved
    the API key to `workspace` (None: no authorizer context, as on the public route)."""
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": urlencode(query or {}),
        "headers": {"content-type": "application/json", "user-agent": "pytest", **(headers or {})},
        "queryStringParameters": query or None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api",
            "domainName": "api.example.test",
            "domainPrefix": "api",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "pytest",
            },
            "requestId": "req-1",
            "routeKey": "$default",
            "stage": "$default",
            "time": "22/Nov/2026:09:00:00 +0000",
            "timeEpoch": 1795338000000,
        },
        "body": json.dumps(body) if body is not None else None,
        "isBase64Encoded": False,
    }
    if workspace is not None:
        event["requestContext"]["authorizer"] = {
            "lambda": {"workspace_id": workspace, "key_id": f"key_{workspace}"}
        }
    return event


SCHEDULED_EVENT: dict[str, Any] = {
    "version": "0",
    "id": "e6a1b1d6-0000-0000-0000-000000000000",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "123456789012",
    "time": "2026-11-22T09:00:00Z",
    "region": "us-east-1",
    "resources": ["arn:aws:events:us-east-1:123456789012:rule/leadenrich-processor"],
    "detail": {},
}


def call(method: str, path: str, **kwargs: Any) -> tuple[int, Any, dict[str, str]]:
    response = handle_api.handler(http_event(method, path, **kwargs), Context())  # type: ignore[arg-type]
    return response["statusCode"], json.loads(response["body"]), response.get("headers") or {}
