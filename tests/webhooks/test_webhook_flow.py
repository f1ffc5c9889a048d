"""Webhooks end to end on moto and the simulator: the webhook Lambda with real API Gateway v2 events, the
processor's signed callback to a loopback receiver, and captured logs free of secrets and addresses."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest

import handle_api
import handle_process
import handle_webhook
from enrich_tools.simulator import SHOWCASE_DOMAINS, SimulatorServer
from leadenrich import runtime
from leadenrich.webhooks import signing
from tests.support.lambda_env import lambda_env_on_moto
from tests.support.openapi_conformance import openapi_conformance  # noqa: F401  # checks every answer
from tests.support.simulator import base_config

WORKSPACE = "ws-hooks"
SIGNING_SECRET = "whsec_" + base64.b64encode(b"workspace-signing-key-0123456789").decode()
PROVIDER_SECRET = "whsec_" + base64.b64encode(b"provider-secret-key-0123456789ab").decode()
SECRET_VALUES = ("sim-hunter-key", "sim-pplx-key", SIGNING_SECRET, PROVIDER_SECRET)
ADDRESS = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


class Context:
    function_name = "leadenrich-test"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:leadenrich-test"
    aws_request_id = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


SCHEDULED: dict[str, Any] = {"version": "0", "detail-type": "Scheduled Event", "source": "aws.events"}


def http_event(
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    *,
    workspace: str | None = None,
    base64_body: bool = False,
    path_parameters: dict[str, str] | None = None,
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json", **(headers or {})},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api",
            "domainName": "api.example.test",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1"},
            "requestId": "req-1",
            "routeKey": f"{method} {path}",
            "stage": "$default",
            "timeEpoch": 1795338000000,
        },
        "body": None,
        "isBase64Encoded": base64_body,
    }
    if body is not None:
        event["body"] = base64.b64encode(body).decode() if base64_body else body.decode()
    if workspace is not None:
        event["requestContext"]["authorizer"] = {"lambda": {"workspace_id": workspace, "key_id": "key_1"}}
    if path_parameters is not None:
        event["pathParameters"] = path_parameters
    return event


def api(method: str, path: str, body: object | None = None) -> tuple[int, Any]:
    raw = json.dumps(body).encode() if body is not None else None
    response = handle_api.handler(http_event(method, path, raw, workspace=WORKSPACE), Context())  # type: ignore[arg-type]
    return response["statusCode"], json.loads(response["body"])


def webhook(provider: str, body: bytes, headers: dict[str, str], **kwargs: Any) -> tuple[int, Any]:
    event = http_event("POST", f"/webhooks/{provider}", body, headers, **kwargs)
    event["pathParameters"] = {"provider": provider}
    response = handle_webhook.handler(event, Context())  # type: ignore[arg-type]
    return response["statusCode"], json.loads(response["body"])


def signed(body: bytes, event_id: str = "evt_1", at: int | None = None) -> dict[str, str]:
    return signing.sign_headers(PROVIDER_SECRET, event_id, int(time.time()) if at is None else at, body)


class Receiver:
    """A loopback HTTP server that records what it is sent and answers `status`."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.status = 204
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                outer.requests.append(
                    ({k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length))
                )
                self.send_response(outer.status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorServer]:
    with SimulatorServer(base_config()) as running:
        yield running


@pytest.fixture(autouse=True)
def aws(simulator: SimulatorServer, mocked_aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    extra = {
        "ALLOW_LOCAL_WEBHOOKS": "true",
        "WEBHOOK_SIGNING_SECRETS": json.dumps({WORKSPACE: SIGNING_SECRET}),
        "WEBHOOK_PROVIDER_SECRETS": json.dumps({"standard": PROVIDER_SECRET}),
    }
    lambda_env_on_moto(simulator, monkeypatch, extra)
    yield
    runtime.reset()


# --- inbound ------------------------------------------------------------------------------------------------


def test_unknown_or_unconfigured_providers_are_404() -> None:
    body = b'{"type":"x"}'
    assert webhook("hunter", body, signed(body))[0] == 404  # no adapter: Hunter sends none
    assert webhook("", body, signed(body))[0] == 404


def test_unconfigured_secret_is_404(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WEBHOOK_PROVIDER_SECRETS")
    runtime.reset()
    body = b'{"type":"x"}'
    assert webhook("standard", body, signed(body))[0] == 404


def test_bad_missing_or_stale_signatures_are_401() -> None:
    body = b'{"type":"verification.completed"}'
    assert webhook("standard", body, {})[0] == 401
    tampered = signed(body)
    assert webhook("standard", body + b" ", tampered)[0] == 401
    other = signing.sign_headers(SIGNING_SECRET, "evt_1", int(time.time()), body)
    assert webhook("standard", body, other)[0] == 401
    stale = signed(body, at=int(time.time()) - 600)
    problem = {"field": "header.webhook-timestamp", "message": "stale timestamp"}
    assert webhook("standard", body, stale) == (
        401,
        {"message": "stale timestamp", "field": "header.webhook-timestamp", "errors": [problem]},
    )


def test_a_replayed_event_is_200_without_a_second_effect() -> None:
    body = b'{"type":"verification.completed","data":{}}'
    assert webhook("standard", body, signed(body, "evt_r")) == (
        200,
        {"status": "accepted", "event_id": "evt_r", "routed": "unrouted"},
    )
    assert webhook("standard", body, signed(body, "evt_r"))[1]["status"] == "duplicate"


def test_the_raw_body_is_verified_after_base64_decoding() -> None:
    body = '{"type":"verification.completed","data":{"note":"caf\u00e9"}}'.encode()
    status, answer = webhook("standard", body, signed(body, "evt_b64"), base64_body=True)
    assert status == 200 and answer["status"] == "accepted"
    assert webhook("standard", b"{}", signed(b"{}", "evt_bad"), base64_body=False)[0] == 400  # no type


@pytest.mark.parametrize(
    "body",
    [b"[" * 1000 + b"]" * 1000, b'{"type":"x","data":' + b'{"a":' * 1000 + b"1" + b"}" * 1001],
    ids=["array", "object"],
)
def test_a_deeply_nested_signed_body_is_a_400_and_not_recorded(body: bytes) -> None:
    status, answer = webhook("standard", body, signed(body, "evt_deep"))
    problem = {"field": "body", "message": "body: nested deeper than 32 levels"}
    assert (status, answer) == (400, {**problem, "errors": [problem]})
    ok = b'{"type":"verification.completed","data":{}}'
    assert webhook("standard", ok, signed(ok, "evt_deep"))[1]["status"] == "accepted"  # no record left


def test_every_webhook_refusal_is_the_error_model() -> None:
    body = b'{"type":"verification.completed"}'
    event = http_event("GET", "/webhooks/standard", path_parameters={"provider": "standard"})
    response = handle_webhook.handler(event, Context())  # type: ignore[arg-type]
    assert response["statusCode"] == 405 and response["headers"]["Allow"] == "POST"
    refusals = [
        (405, json.loads(response["body"])),
        webhook("nobody", body, signed(body)),  # 404
        webhook("standard", b"x" * (handle_webhook.MAX_BODY_BYTES + 1), {}),  # 413
        webhook("standard", body, {}),  # 401, no signature
        webhook("standard", b'{"type":""}', signed(b'{"type":""}', "evt_m1")),  # 400, names body.type
        webhook("standard", b'{"type":"x","data":[1]}', signed(b'{"type":"x","data":[1]}', "evt_m2")),
    ]
    event = http_event("POST", "/webhooks/standard", b"!!", path_parameters={"provider": "standard"})
    event["isBase64Encoded"] = True
    response = handle_webhook.handler(event, Context())  # type: ignore[arg-type]
    refusals.append((response["statusCode"], json.loads(response["body"])))  # 400, not base64
    assert [status for status, _ in refusals] == [405, 404, 413, 401, 400, 400, 400]
    for _, answer in refusals:
        assert set(answer) == {"message", "field", "errors"} and answer["message"], answer
        named = [{"field": answer["field"], "message": answer["message"]}] if answer["field"] else []
        assert answer["errors"] == named
    assert [answer["field"] for _, answer in refusals] == [
        None,
        None,
        "body",
        "header.webhook-signature",
        "body.type",
        "body.data",
        "body",
    ]


def test_a_failure_after_the_signature_is_a_500_in_the_error_model() -> None:
    boto3.client("dynamodb").delete_table(TableName="leadenrich")  # the webhook log cannot be written
    body = b'{"type":"verification.completed","data":{}}'
    status, answer = webhook("standard", body, signed(body, "evt_500"))
    assert status == 500 and answer["field"] is None and answer["errors"] == []
    assert "retry" in answer["message"] and "ResourceNotFound" not in answer["message"]


def _defer_first_item(job_id: str) -> None:
    """The item as a provider's 202 leaves it: deferred for an hour, its message hidden as long."""

    async def defer() -> None:
        service = runtime.job_service()
        received = await service.queue.receive(1, visibility_timeout=30)
        now = datetime.now(UTC)
        msg = received[0].message
        item = await service.store.claim_item(
            WORKSPACE, job_id, msg.item_id, token="t", lease_until=now + timedelta(seconds=30), now=now
        )
        assert item is not None
        assert await service.store.defer_item(
            item,
            reason="verification pending",
            next_attempt_at=now + timedelta(hours=1),
            charge_attempt=True,
            now=now,
        )
        await service.queue.retry_later(received[0], 3600)

    import asyncio

    asyncio.run(defer())


def test_a_verification_event_resumes_its_deferred_item_now() -> None:
    status, job = api("POST", "/jobs", {"domains": [SHOWCASE_DOMAINS[0]]})
    assert status == 202
    _defer_first_item(job["job_id"])
    idle = handle_process.handler(SCHEDULED, Context())  # type: ignore[arg-type]
    assert idle["received"] == 0  # hidden for an hour

    payload = {
        "type": "verification.completed",
        "data": {"workspace_id": WORKSPACE, "job_id": job["job_id"], "item_id": "000000"},
    }
    body = json.dumps(payload).encode()
    assert webhook("standard", body, signed(body, "evt_v1"))[1]["routed"] == "resumed"
    assert webhook("standard", body, signed(body, "evt_v1"))[1]["status"] == "duplicate"

    summary = handle_process.handler(SCHEDULED, Context())  # type: ignore[arg-type]
    assert summary["finished"] == 1 and summary["completed_jobs"] == [job["job_id"]]
    # Once finished, the same kind of event has nothing left to resume.
    body2 = json.dumps(payload | {"type": "verification.updated"}).encode()
    assert webhook("standard", body2, signed(body2, "evt_v2"))[1]["routed"] == "item found: nothing to resume"


# --- outbound -----------------------------------------------------------------------------------------------


def test_a_completed_job_posts_one_signed_callback_and_records_the_attempt() -> None:
    with Receiver() as receiver:
        status, job = api(
            "POST", "/jobs", {"domains": list(SHOWCASE_DOMAINS[:2]), "webhook_url": receiver.url}
        )
        assert status == 202
        summary = handle_process.handler(SCHEDULED, Context())  # type: ignore[arg-type]
        assert summary["completed_jobs"] == [job["job_id"]]
        assert len(receiver.requests) == 1
        headers, body = receiver.requests[0]
        event_id = signing.verify(SIGNING_SECRET, headers, body, now=time.time())
        event = json.loads(body)
        assert event["type"] == "job.completed" and event["data"]["job_id"] == job["job_id"]
        assert event["data"]["counters"]["processed"] == 2

        handle_process.handler(SCHEDULED, Context())  # type: ignore[arg-type]
        assert len(receiver.requests) == 1  # completion is detected once: one callback

    hooks = runtime.webhooks()
    import asyncio

    attempts = asyncio.run(hooks.log.attempts(WORKSPACE, job["job_id"]))
    assert [(a["attempt"], a["status_code"], a["delivered"], a["event_id"]) for a in attempts] == [
        (1, 204, True, event_id)
    ]
    status, shown = api("GET", f"/jobs/{job['job_id']}")  # the caller sees them on the job
    assert status == 200 and shown["callbacks"] == attempts


def test_progress_events_come_after_each_run_that_advanced_the_job_when_asked_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MAX_ITEMS_PER_RUN", "2")
    runtime.reset()
    with Receiver() as receiver:
        both = {"webhook_url": receiver.url, "webhook_events": ["job.progress", "job.completed"]}
        status, job = api("POST", "/jobs", {"domains": list(SHOWCASE_DOMAINS[:5]), **both})
        assert status == 202 and job["options"]["webhook_events"] == ["job.progress", "job.completed"]
        _, quiet = api("POST", "/jobs", {"domains": [SHOWCASE_DOMAINS[0]], "webhook_url": receiver.url})
        assert quiet["options"]["webhook_events"] == ["job.completed"]  # the default

        for _ in range(4):
            handle_process.handler(SCHEDULED, Context())  # type: ignore[arg-type]

        events = [json.loads(body) for _, body in receiver.requests]
        for headers, body in receiver.requests:
            signing.verify(SIGNING_SECRET, headers, body, now=time.time())
    ours = [
        (e["type"], e["data"]["counters"]["processed"])
        for e in events
        if e["data"]["job_id"] == job["job_id"]
    ]
    assert ours == [("job.progress", 2), ("job.progress", 4), ("job.completed", 5)]
    assert [e["type"] for e in events if e["data"]["job_id"] == quiet["job_id"]] == ["job.completed"]
    assert len({e["id"] for e in events}) == len(events)  # each event its own id
    attempts = asyncio.run(runtime.webhooks().log.attempts(WORKSPACE, job["job_id"]))
    assert [a["attempt"] for a in attempts] == [1]  # the record is the completion's; progress is not kept


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"webhook_events": ["job.progress"]}, "webhook_events"),  # without webhook_url
        ({"webhook_url": "http://127.0.0.1:9/h", "webhook_events": ["job.started"]}, "webhook_events.0"),
        ({"webhook_url": "http://127.0.0.1:9/h", "webhook_events": []}, "webhook_events"),
    ],
)
def test_bad_webhook_events_are_a_422_naming_the_field(body: dict[str, Any], field: str) -> None:
    status, answer = api("POST", "/jobs", {"domains": [SHOWCASE_DOMAINS[0]], **body})
    assert status == 422 and answer["field"] == f"body.{field}", answer


def test_a_failed_callback_is_recorded_and_put_in_the_outbox() -> None:
    import asyncio

    with Receiver() as receiver:
        receiver.status = 500
        _, job = api("POST", "/jobs", {"domains": [SHOWCASE_DOMAINS[0]], "webhook_url": receiver.url})
        handle_process.handler(SCHEDULED, Context())  # type: ignore[arg-type]
        assert len(receiver.requests) == 1
    log = runtime.webhooks().log
    attempts = asyncio.run(log.attempts(WORKSPACE, job["job_id"]))
    assert [(a["attempt"], a["status_code"], a["delivered"]) for a in attempts] == [(1, 500, False)]
    assert asyncio.run(log.due(datetime.now(UTC), 10)) == []  # not due before the backoff
    ((_, delivery, number),) = asyncio.run(log.due(datetime.now(UTC) + timedelta(minutes=5), 10))
    assert number == 2 and delivery.job_id == job["job_id"]


def test_aws_mode_refuses_loopback_callbacks_at_creation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ALLOW_LOCAL_WEBHOOKS")
    runtime.reset()
    status, answer = api("POST", "/jobs", {"domains": ["acme.com"], "webhook_url": "http://127.0.0.1:9/h"})
    assert status == 422 and "webhook_url" in json.dumps(answer)


# --- logs ---------------------------------------------------------------------------------------------------


def test_no_secret_and_no_full_address_reaches_the_logs(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO")  # what the functions run at (LOG_LEVEL); botocore's DEBUG dumps bodies
    caplog.set_level("DEBUG", logger="leadenrich")
    with Receiver() as receiver:
        receiver.status = 500  # a failed attempt logs too
        status, job = api(
            "POST", "/jobs", {"domains": list(SHOWCASE_DOMAINS[:3]), "webhook_url": receiver.url}
        )
        handle_process.handler(SCHEDULED, Context())  # type: ignore[arg-type]
        status, items = api("GET", f"/jobs/{job['job_id']}/items")
        assert status == 200 and any(i["emails"] for i in items["items"])  # results do carry addresses
    body = json.dumps({"type": "verification.completed", "data": {"email": "jane.doe@acme.com"}}).encode()
    webhook("standard", body, signed(body, "evt_log"))
    webhook("standard", body, signed(body, "evt_log"))
    webhook("standard", body, {"webhook-id": "x", "webhook-timestamp": "1", "webhook-signature": "v1,x"})

    captured = capsys.readouterr()
    text = "\n".join([captured.out, captured.err, caplog.text])
    assert "webhook accepted" in text and "drained" in text  # the logs were captured at all
    for secret in SECRET_VALUES:
        assert secret not in text
        assert secret.removeprefix("whsec_") not in text
    assert not ADDRESS.search(text), ADDRESS.search(text)


def test_the_package_log_lines_keep_their_context_as_powertools_json(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`log.warning("webhook attempt failed", extra={"job": ..., "attempt": ..., "status_code": ...})` in
    leadenrich.webhooks.outbound, from the processor Lambda: one JSON line with the context."""
    # Powertools' handler writes to the stdout of when it was made; make that this test's captured one.
    monkeypatch.setattr(handle_process.logger.registered_handler, "stream", sys.stdout)
    with Receiver() as receiver:
        receiver.status = 500
        _, job = api("POST", "/jobs", {"domains": [SHOWCASE_DOMAINS[0]], "webhook_url": receiver.url})
        capsys.readouterr()
        handle_process.handler(SCHEDULED, Context())  # type: ignore[arg-type]
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    (failed,) = [line for line in lines if line.get("message") == "webhook attempt failed"]
    assert failed["level"] == "WARNING" and failed["name"] == "leadenrich.webhooks.outbound"
    assert (failed["job"], failed["attempt"], failed["status_code"]) == (job["job_id"], 1, 500)
    assert failed["function_name"] == Context.function_name  # the invocation's context, as on every line
    assert any(line.get("message") == "drained" for line in lines)  # the handler's own line, same stream


# --- secrets -------------------------------------------------------------------------------------------


def test_webhook_secrets_and_the_supabase_key_come_from_the_app_secret_in_aws(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret = boto3.client("secretsmanager").create_secret(
        Name="leadenrich/app",
        SecretString=json.dumps(
            {
                "SUPABASE_SERVICE_ROLE_KEY": "",
                "WEBHOOK_SIGNING_SECRETS": {WORKSPACE: SIGNING_SECRET},
                "WEBHOOK_PROVIDER_SECRETS": {"standard": PROVIDER_SECRET},
            }
        ),
    )
    monkeypatch.delenv("WEBHOOK_SIGNING_SECRETS")
    monkeypatch.delenv("WEBHOOK_PROVIDER_SECRETS")
    runtime.reset()
    body = b'{"type":"x"}'
    assert webhook("standard", body, signed(body, "evt_s0"))[0] == 404  # no secret anywhere: not served
    monkeypatch.setenv("APP_SECRET_ARN", secret["ARN"])
    runtime.reset()
    assert webhook("standard", body, signed(body, "evt_s1"))[1]["status"] == "accepted"
    assert runtime.webhooks().settings.signing_secrets == {WORKSPACE: SIGNING_SECRET}
    assert runtime.supabase() is None  # an empty key is no key
    assert "WEBHOOK_PROVIDER_SECRETS" not in os.environ  # never put in the environment
