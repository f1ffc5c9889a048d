"""`GET /health` reports the service's dependencies and answers 503 naming the ones that are down.

Given the API Lambda on moto (the table, a queue and its DLQ, Secrets Manager), Supabase's PostgREST from
the test harness and the embedded SQLite backend, when a dependency is deleted, refuses connections, or is
left unset, then the answer is a 503 in the error model whose `errors` name it, with `Retry-After`, and the
report says why in a few public words; every answer is held to docs/openapi.json by the conformance fixture.
The service underneath (`leadenrich.health`) is tested with scripted probes: its timeout, its cache, its
optional dependencies.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

import handle_api
from enrich_tools.supabase_harness import SupabaseTestServer
from leadenrich import runtime
from leadenrich.health import Down, HealthService, Probe
from tests.support.api_stack import TABLE
from tests.support.lambda_events import Context, http_event

HUNTER_KEY = "hunter-key-never-shown"
PPLX_KEY = "pplx-key-never-shown"


@pytest.fixture(autouse=True)
def keys(stack: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The API's moto stack (tests/support/api_stack.py) with the provider keys in the environment, as the
    local stack gives them."""
    monkeypatch.setenv("HUNTER_API_KEY", HUNTER_KEY)
    monkeypatch.setenv("PERPLEXITY_API_KEY", PPLX_KEY)
    runtime.reset()
    yield
    runtime.reset()


def health() -> tuple[int, dict[str, Any], dict[str, str], str]:
    response = handle_api.handler(http_event("GET", "/health", workspace=None), Context())  # type: ignore[arg-type]
    raw = str(response["body"])
    return response["statusCode"], json.loads(raw), response.get("headers") or {}, raw


def fresh() -> tuple[int, dict[str, Any], dict[str, str], str]:
    """A new report: the runtime's services dropped, the last report with them."""
    runtime.reset()
    return health()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def assert_down(answer: dict[str, Any], headers: dict[str, str], *names: str) -> None:
    """A 503 body: the report, in the error model, naming exactly `names` as the required ones down."""
    assert answer["status"] == "unavailable"
    assert [e["field"] for e in answer["errors"]] == [f"dependencies.{n}" for n in names]
    assert answer["field"] is None and answer["message"] == f"unavailable: {', '.join(names)} down"
    for name in names:
        assert answer["dependencies"][name]["status"] == "down"
    assert int(headers["Retry-After"]) >= 1


# --- on moto ----------------------------------------------------------------------------------------------


def test_every_dependency_up_is_a_200_that_shows_no_secret_arn_or_url() -> None:
    status, answer, _, raw = health()

    assert status == 200 and answer["status"] == "ok"
    assert set(answer["dependencies"]) == {
        "table",
        "queue.normal",
        "dead_letter_queue.normal",
        "provider_keys",
    }
    assert all(d["status"] == "ok" and d["required"] for d in answer["dependencies"].values())
    assert answer["dependencies"]["provider_keys"]["detail"] == "HUNTER_API_KEY and PERPLEXITY_API_KEY set"
    for secret_or_address in (HUNTER_KEY, PPLX_KEY, TABLE, "arn:", "http", "sqs"):
        assert secret_or_address not in raw


def test_a_deleted_table_is_a_503_naming_it_once_the_kept_report_is_stale() -> None:
    assert health()[0] == 200
    boto3.client("dynamodb").delete_table(TableName=TABLE)

    assert health()[0] == 200  # the report of a moment ago: a poller cannot hammer the table
    status, answer, headers, _ = fresh()

    assert status == 503
    assert_down(answer, headers, "table")
    assert answer["dependencies"]["table"]["reason"] == "not found"
    assert answer["dependencies"]["queue.normal"]["status"] == "ok"


def test_a_deleted_dead_letter_queue_is_a_503_naming_it() -> None:
    sqs = boto3.client("sqs")
    (dlq,) = [url for url in sqs.list_queues()["QueueUrls"] if "dlq" in url or "dead" in url]
    sqs.delete_queue(QueueUrl=dlq)

    status, answer, headers, _ = fresh()

    assert status == 503
    assert_down(answer, headers, "dead_letter_queue.normal")
    assert answer["dependencies"]["dead_letter_queue.normal"]["reason"] == "not found"


def test_a_table_endpoint_refusing_connections_is_down_and_answered_in_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", f"http://127.0.0.1:{closed_port()}")
    started = time.monotonic()
    status, answer, headers, _ = fresh()

    assert time.monotonic() - started < 4.0  # each check bounded (2 s), all at once
    assert status == 503
    assert_down(answer, headers, "table")
    assert answer["dependencies"]["table"]["reason"] in ("unreachable", "no answer within 2 s")


def test_without_the_hunter_key_the_service_cannot_enrich_and_says_what_to_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PERPLEXITY_API_KEY")
    status, answer, _, _ = fresh()
    assert status == 200  # Perplexity's step is skipped without its key: said, not a failure
    assert "PERPLEXITY_API_KEY not set" in answer["dependencies"]["provider_keys"]["detail"]

    monkeypatch.delenv("HUNTER_API_KEY")
    status, answer, headers, _ = fresh()
    assert status == 503
    assert_down(answer, headers, "provider_keys")
    assert answer["errors"][0]["message"] == "HUNTER_API_KEY is not set"


def test_the_app_secret_must_be_readable(monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = boto3.client("secretsmanager")
    arn = secrets.create_secret(
        Name="leadenrich-app", SecretString=json.dumps({"WEBHOOK_SIGNING_SECRETS": {}})
    )["ARN"]
    monkeypatch.setenv("APP_SECRET_ARN", arn)
    status, answer, _, raw = fresh()
    assert status == 200 and answer["dependencies"]["app_secret"]["status"] == "ok"
    assert "leadenrich-app" not in raw

    secrets.delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)
    status, answer, headers, _ = fresh()
    assert status == 503
    assert_down(answer, headers, "app_secret")
    assert answer["dependencies"]["app_secret"]["reason"] == "not found"


def test_in_aws_the_provider_keys_are_checked_without_reading_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """The API may not read the provider secret (template.yaml): its metadata says whether the keys were
    set after the deploy created it with empty ones."""
    monkeypatch.delenv("HUNTER_API_KEY")
    monkeypatch.delenv("PERPLEXITY_API_KEY")
    secrets = boto3.client("secretsmanager")
    placeholder = json.dumps({"HUNTER_API_KEY": "", "PERPLEXITY_API_KEY": ""})
    arn = secrets.create_secret(Name="leadenrich-providers", SecretString=placeholder)["ARN"]
    monkeypatch.setenv("PROVIDER_SECRET_ARN", arn)

    status, answer, headers, _ = fresh()
    assert status == 503
    assert_down(answer, headers, "provider_keys")
    assert "placeholder" in answer["dependencies"]["provider_keys"]["reason"]

    secrets.put_secret_value(
        SecretId=arn, SecretString=json.dumps({"HUNTER_API_KEY": HUNTER_KEY, "PERPLEXITY_API_KEY": PPLX_KEY})
    )
    status, answer, _, raw = fresh()
    assert status == 200 and "set after deploy" in answer["dependencies"]["provider_keys"]["detail"]
    assert HUNTER_KEY not in raw and "leadenrich-providers" not in raw


# --- Supabase -----------------------------------------------------------------------------------------------


def test_supabase_reachable_is_up(supabase_db: SupabaseTestServer, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in supabase_db.env().items():
        monkeypatch.setenv(name, value)
    status, answer, _, raw = fresh()
    assert status == 200 and answer["dependencies"]["supabase"]["status"] == "ok"
    assert supabase_db.service_role_key not in raw and supabase_db.url not in raw


def test_supabase_unreachable_is_down_and_a_503_only_where_it_holds_the_jobs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SUPABASE_URL", f"http://127.0.0.1:{closed_port()}")
    monkeypatch.setenv("SUPABASE_SERVICE_ROLE_KEY", "service-role-key")
    status, answer, _, _ = fresh()
    # Only the lead source: inline leads still enrich, so the service is up and says Supabase is not.
    assert status == 200
    supabase = answer["dependencies"]["supabase"]
    assert (supabase["status"], supabase["required"], supabase["detail"]) == ("down", False, None)
    assert supabase["reason"] in ("unreachable", "no answer within 2 s")

    monkeypatch.setenv("JOB_STORE", "supabase")
    status, answer, headers, _ = fresh()
    assert status == 503
    assert_down(answer, headers, "supabase")


# --- the embedded backend ---------------------------------------------------------------------------------


def test_the_embedded_backend_reports_its_state_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKEND", "embedded")
    monkeypatch.setenv("STATE_DB", str(tmp_path / "state.sqlite3"))
    status, answer, _, raw = fresh()
    assert status == 200 and set(answer["dependencies"]) == {"state_db", "provider_keys"}
    assert str(tmp_path) not in raw


# --- the service, with scripted probes ---------------------------------------------------------------------


def probe(
    name: str, result: str | None = None, error: Exception | None = None, required: bool = True
) -> Probe:
    async def check() -> str | None:
        if error is not None:
            raise error
        return result

    return Probe(name, check, required)


def test_a_hanging_dependency_is_down_after_the_timeout_and_holds_nothing_back() -> None:
    """A blocking call that never returns (a black-holed endpoint): the report comes at the timeout, and the
    event loop closes without waiting for the stuck thread."""
    release = threading.Event()
    service = HealthService(
        [Probe.blocking("stuck", lambda: str(release.wait(10))), probe("table")],
        timeout_seconds=0.2,
    )
    started = time.monotonic()
    try:
        report = asyncio.run(service.report())
        elapsed = time.monotonic() - started
    finally:
        release.set()
    assert elapsed < 1.0
    assert not report.up and report.down == ["stuck"]
    assert report.dependencies["stuck"].reason == "no answer within 0.2 s"
    assert report.dependencies["table"].up


def test_a_report_is_kept_for_its_cache_period() -> None:
    calls: list[float] = []
    now = [100.0]

    async def counted() -> str | None:
        calls.append(now[0])
        return None

    service = HealthService([Probe("table", counted)], cache_seconds=5.0, clock=lambda: now[0])
    first = asyncio.run(service.report())
    now[0] += 4.5
    assert asyncio.run(service.report()) is first
    now[0] += 0.5
    assert asyncio.run(service.report()) is not first
    assert calls == [100.0, 105.0]


def test_reasons_are_a_few_public_words_never_the_errors_text() -> None:
    def client_error(code: str, status: int = 400) -> ClientError:
        response: Any = {
            "Error": {"Code": code, "Message": "arn:aws:dynamodb:us-east-1:123:table/secret-name"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        }
        return ClientError(response, "DescribeTable")

    service = HealthService(
        [
            probe("throttled", error=client_error("ThrottlingException")),
            probe("failing", error=client_error("Whatever", 500)),
            probe("denied", error=client_error("AccessDeniedException")),
            probe("said", error=Down("table status DELETING")),
            probe("odd", error=ValueError("arn:aws:secret")),
            probe("optional", error=ConnectionRefusedError("10.0.0.1"), required=False),
            probe("fine", result="all set"),
        ]
    )
    report = asyncio.run(service.report())
    reasons = {name: d.reason for name, d in report.dependencies.items()}
    assert reasons == {
        "throttled": "throttled",
        "failing": "failing",
        "denied": "access denied",
        "said": "table status DELETING",
        "odd": "failing",
        "optional": "unreachable",
        "fine": None,
    }
    assert report.dependencies["fine"].detail == "all set"
    assert report.down == ["throttled", "failing", "denied", "said", "odd"]  # not the optional one
    only_optional = asyncio.run(HealthService([probe("x", error=TimeoutError(), required=False)]).report())
    assert only_optional.up and only_optional.down == []
