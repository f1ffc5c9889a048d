"""A store or queue that cannot serve is a 503 in the error model with `Retry-After`, never a 500.

Given the API Lambda on moto, when its table is deleted, its queue is deleted, its DynamoDB endpoint refuses
connections, answers throttling errors or 500s (a small HTTP server speaking DynamoDB's JSON protocol), or its
Supabase job store is unreachable, then every answer is a 503 whose message says the kind of outage and
never the resource (no table name, error code or address), with `Retry-After`; a bug stays a 500. Answers
are held to docs/openapi.json by the conformance fixture.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest

from leadenrich import runtime
from tests.support.api_stack import TABLE, call


@pytest.fixture(autouse=True)
def api(stack: None) -> Iterator[None]:
    runtime.reset()
    yield
    runtime.reset()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def assert_outage(answer: tuple[int, Any, dict[str, str]], says: str) -> None:
    status, body, headers = answer
    assert status == 503, body
    assert body == {
        "message": f"A store or queue of the service {says}: retry later",
        "field": None,
        "errors": [],
    }
    assert int(headers["Retry-After"]) > 0
    for leak in (TABLE, "Exception", "arn:", "127.0.0.1"):
        assert leak not in json.dumps(body)


class FakeDynamoDB(BaseHTTPRequestHandler):
    """DynamoDB's JSON protocol answering every request with one error (`error`, `status`)."""

    error = "ThrottlingException"
    status = 400

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{self.error}", "message": "no"})
        self.send_response(self.status)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, format: str, *args: Any) -> None:
        pass


def dynamodb_answering(error: str, status: int) -> Iterator[str]:
    handler = type("Handler", (FakeDynamoDB,), {"error": error, "status": status})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def throttling() -> Iterator[str]:
    yield from dynamodb_answering("ThrottlingException", 400)


@pytest.fixture
def failing() -> Iterator[str]:
    yield from dynamodb_answering("InternalServerError", 500)


@pytest.fixture
def refusing() -> Iterator[str]:
    yield from dynamodb_answering("ValidationException", 400)


def test_a_deleted_table_is_a_503_on_reads_and_writes() -> None:
    status, job, _ = call("POST", "/jobs", body={"domains": ["acme.com"]})
    assert status == 202
    boto3.client("dynamodb").delete_table(TableName=TABLE)

    assert_outage(call("GET", "/jobs"), "is missing from this deployment")
    assert_outage(call("GET", f"/jobs/{job['job_id']}"), "is missing from this deployment")
    assert_outage(call("POST", "/jobs", body={"domains": ["acme.com"]}), "is missing from this deployment")


def test_a_deleted_queue_is_a_503() -> None:
    sqs = boto3.client("sqs")
    for url in sqs.list_queues()["QueueUrls"]:
        sqs.delete_queue(QueueUrl=url)
    assert_outage(call("GET", "/metrics"), "is missing from this deployment")


def test_a_dynamodb_endpoint_refusing_connections_is_a_503(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", f"http://127.0.0.1:{closed_port()}")
    runtime.reset()
    assert_outage(call("GET", "/jobs"), "cannot be reached")
    assert_outage(call("POST", "/jobs", body={"domains": ["acme.com"]}), "cannot be reached")


def test_dynamodb_throttling_past_its_retries_is_a_503(
    throttling: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", throttling)
    runtime.reset()
    assert_outage(call("GET", "/jobs"), "is throttling requests")


def test_dynamodb_answering_500s_is_a_503(failing: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", failing)
    runtime.reset()
    assert_outage(call("GET", "/jobs"), "is failing")


def test_an_unreachable_supabase_job_store_is_a_503(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "JOB_STORE": "supabase",
        "SUPABASE_URL": f"http://127.0.0.1:{closed_port()}",
        "SUPABASE_SERVICE_ROLE_KEY": "service-role-key",
    }.items():
        monkeypatch.setenv(name, value)
    runtime.reset()
    # The adapter lets httpx's ConnectError through (it was a 500): the same outage as DynamoDB's.
    assert_outage(call("GET", "/jobs"), "cannot be reached")


def test_a_refused_request_is_still_a_500_not_an_outage(
    refusing: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ValidationException is the request's or the code's fault, not the store's: retrying will not help."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", refusing)
    runtime.reset()
    status, body, headers = call("GET", "/jobs")
    assert status == 500 and "Retry-After" not in headers
    assert body["message"] == "Internal server error: the request was not completed, retry later"
