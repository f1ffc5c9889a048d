"""The API Lambda's edges, with real API Gateway v2 events on moto: nesting and size limits on everything it
parses, the empty Idempotency-Key, and one error body for every 4xx and 5xx it sends."""

from __future__ import annotations

import base64
import json
from typing import Any

import boto3
import pytest

import handle_api
from leadenrich import runtime
from leadenrich.http_errors import ErrorBody
from leadenrich.jsonguard import MAX_DEPTH
from tests.support.lambda_events import Context, http_event
from tests.support.openapi_conformance import openapi_conformance  # noqa: F401  # checks every answer


@pytest.fixture(autouse=True)
def on_moto(stack: None) -> None:
    """The API Lambda's environment from template.yaml on moto (`tests/support/api_stack.py`); no provider
    is called here."""


def send(event: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
    response = handle_api.handler(event, Context())  # type: ignore[arg-type]
    return response["statusCode"], json.loads(response["body"]), response.get("headers") or {}


def call(
    method: str, path: str, raw_body: str | None = None, **kwargs: Any
) -> tuple[int, Any, dict[str, str]]:
    event = http_event(method, path, **kwargs)
    if raw_body is not None:
        event["body"] = raw_body
    return send(event)


def assert_error_model(answer: Any, *extra: str) -> ErrorBody:
    """Exactly `{message, field, errors: [{field, message}]}` (a 429 adds `quota` and `limit`)."""
    assert set(answer) == {"message", "field", "errors", *extra}, answer
    model = ErrorBody.model_validate(answer)
    assert model.message and all(set(e) == {"field", "message"} for e in answer["errors"])
    if model.field is not None:
        assert answer["errors"][0] == {"field": model.field, "message": model.message}
    return model


def nested(depth: int, kind: str = "array") -> str:
    if kind == "array":
        return "[" * depth + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


def cursor_of(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


# --- nesting and size limits --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["array", "object"])
def test_a_deeply_nested_body_is_a_422_not_a_500(kind: str) -> None:
    status, answer, _ = call("POST", "/jobs", raw_body=nested(1000, kind))
    assert status == 422 and answer["field"] == "body"
    assert answer["message"] == f"the request body is nested deeper than {MAX_DEPTH} levels"
    assert_error_model(answer)
    assert call("GET", "/jobs")[1]["jobs"] == []


def test_a_deeply_nested_base64_body_is_a_422_too() -> None:
    event = http_event("POST", "/jobs")
    event["body"], event["isBase64Encoded"] = base64.b64encode(nested(1000).encode()).decode(), True
    status, answer, _ = send(event)
    assert status == 422 and answer["field"] == "body" and "nested deeper" in answer["message"]


def test_the_depth_limit_is_exact_and_brackets_in_strings_do_not_count() -> None:
    at_limit = '{"domains": ["acme.com"], "surprise": ' + nested(MAX_DEPTH - 1) + "}"
    status, answer, _ = call("POST", "/jobs", raw_body=at_limit)
    assert (status, answer["field"]) == (422, "body.surprise")  # parsed: pydantic names the field
    past = '{"domains": ["acme.com"], "surprise": ' + nested(MAX_DEPTH) + "}"
    assert call("POST", "/jobs", raw_body=past)[1]["field"] == "body"
    brackets = json.dumps({"domains": ["acme.com"], "tags": ["[" * 60 + "{" * 60]})
    assert call("POST", "/jobs", raw_body=brackets)[1]["field"] == "body.tags"  # a tag problem, not depth


def test_a_body_over_the_lambda_payload_limit_is_a_413() -> None:
    padding = "x" * (handle_api.MAX_BODY_BYTES + 1)
    status, answer, _ = call("POST", "/jobs", raw_body=json.dumps({"domains": [padding]}))
    assert status == 413 and answer["field"] == "body" and "larger than 6 MB" in answer["message"]
    assert_error_model(answer)


@pytest.mark.parametrize("kind", ["array", "object"])
def test_a_deeply_nested_cursor_is_a_422_naming_it(kind: str) -> None:
    created = call("POST", "/jobs", body={"domains": ["acme.com"]})[1]["job_id"]
    depth = 768 if kind == "array" else 250  # the most that fits the cursor's 2,048 characters
    cursor = cursor_of(nested(depth, kind))
    assert len(cursor) <= 2048
    for path in ("/jobs", f"/jobs/{created}/items"):
        status, answer, _ = call("GET", path, query={"cursor": cursor})
        assert (status, answer["field"]) == (422, "query.cursor"), answer
        assert answer["message"] == "not a cursor this service returned"
        assert_error_model(answer)


def test_a_flat_cursor_still_works_and_a_foreign_one_is_still_refused() -> None:
    for _ in range(3):
        call("POST", "/jobs", body={"domains": ["acme.com"]})
    first = call("GET", "/jobs", query={"limit": "2"})[1]
    status, second, _ = call("GET", "/jobs", query={"limit": "2", "cursor": first["cursor"]})
    assert status == 200 and len(second["jobs"]) == 1
    status, answer, _ = call("GET", "/jobs", query={"cursor": cursor_of('{"x": "y"}')})
    assert (status, answer["field"]) == (422, "query.cursor")


# --- Idempotency-Key ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["", "   "])
def test_an_empty_idempotency_key_is_refused_naming_the_header(key: str) -> None:
    status, answer, _ = call(
        "POST", "/jobs", body={"domains": ["acme.com"]}, headers={"idempotency-key": key}
    )
    assert (status, answer["field"]) == (422, "header.idempotency-key")
    assert "must not be empty" in answer["message"]
    assert_error_model(answer)
    assert call("GET", "/jobs")[1]["jobs"] == []  # nothing was created


def test_a_real_idempotency_key_still_replays_and_is_named_in_the_header_when_reused() -> None:
    headers = {"idempotency-key": "k-1"}
    first = call("POST", "/jobs", body={"domains": ["acme.com"]}, headers=headers)
    again = call("POST", "/jobs", body={"domains": ["acme.com"]}, headers=headers)
    assert first[0] == again[0] == 202 and first[1]["job_id"] == again[1]["job_id"]
    status, answer, _ = call("POST", "/jobs", body={"domains": ["globex.io"]}, headers=headers)
    assert (status, answer["field"]) == (422, "header.idempotency-key")  # not `body.`: it is the header
    assert_error_model(answer)


# --- one error model ----------------------------------------------------------------------------------------


def test_not_found_is_the_error_model() -> None:
    status, answer, _ = call("GET", "/jobs/job_nope")
    assert status == 404 and answer == {"message": "job job_nope not found", "field": None, "errors": []}
    status, answer, _ = call("GET", "/no/such/route")
    assert status == 404 and assert_error_model(answer).field is None


def test_a_known_path_with_another_method_is_a_405_with_allow() -> None:
    status, answer, headers = call("PUT", "/jobs")
    assert status == 405 and headers["Allow"] == "GET, POST"
    assert answer == {"message": "PUT is not allowed here; use GET, POST", "field": None, "errors": []}
    status, _, headers = call("PUT", "/jobs/job_1")
    assert status == 405 and headers["Allow"] == "DELETE, GET, PATCH"
    assert call("DELETE", "/health")[2]["Allow"] == "GET"


def test_validation_messages_carry_no_library_prefix() -> None:
    for body, field in (
        ({"domains": ["acme.com"], "tags": ["a b"]}, "body.tags"),
        ({"domains": []}, "body"),
        ({"domains": ["acme.com"], "webhook_url": "https://127.1/hook"}, "body.webhook_url"),
    ):
        status, answer, _ = call("POST", "/jobs", body=body)
        assert (status, answer["field"]) == (422, field), answer
        texts = [answer["message"], *(e["message"] for e in answer["errors"])]
        assert not [t for t in texts if t.startswith(("Value error", "Assertion failed"))], texts
        assert_error_model(answer)


def test_a_body_that_is_not_json_typed_is_a_415_in_the_model() -> None:
    status, answer, _ = call(
        "POST", "/jobs", body={"domains": ["acme.com"]}, headers={"content-type": "text/csv"}
    )
    assert (status, answer["field"]) == (415, "header.content-type")
    assert_error_model(answer)


def test_not_configured_and_over_quota_are_the_error_model(monkeypatch: pytest.MonkeyPatch) -> None:
    status, answer, _ = call("GET", "/stats")
    assert status == 501 and assert_error_model(answer).field is None
    monkeypatch.setenv("DAILY_LEAD_QUOTA", "1")
    runtime.reset()
    status, answer, headers = call("POST", "/jobs", body={"domains": ["acme.com", "globex.io"]})
    assert status == 429 and int(headers["Retry-After"]) > 0
    assert assert_error_model(answer, "quota", "limit").field is None and answer["limit"] == 1


def test_an_unexpected_failure_is_a_generic_500_in_the_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """A store that refuses the request itself (a table of another key schema: a ValidationException) is a
    fault of the deployment, not an outage: a 500 (a missing table is a 503, test_store_unavailable)."""
    boto3.client("dynamodb").create_table(
        TableName="not-ours",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    monkeypatch.setenv("TABLE_NAME", "not-ours")
    runtime.reset()
    status, answer, _ = call("GET", "/jobs/job_1")  # a GetItem by a key the table does not have
    assert status == 500
    assert answer == {
        "message": "Internal server error: the request was not completed, retry later",
        "field": None,
        "errors": [],
    }
    assert "ValidationException" not in json.dumps(answer)  # nothing of the code or the store leaks


def test_no_authorizer_context_is_a_401_in_the_model() -> None:
    status, answer, _ = call("GET", "/jobs", workspace=None)
    assert status == 401 and answer == {"message": "Unauthorized", "field": None, "errors": []}


@pytest.mark.parametrize(
    "content_type",
    ["multipart/form-data", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded"],
)
def test_a_form_body_where_json_is_read_is_a_415_not_a_500(content_type: str) -> None:
    """Found by schemathesis: Powertools parses form bodies itself, and a multipart type without a boundary
    raised (500). The API reads JSON only."""
    status, answer, _ = call(
        "POST", "/jobs", body={"domains": ["acme.com"]}, headers={"content-type": content_type}
    )
    assert (status, answer["field"]) == (415, "header.content-type")
    assert_error_model(answer)
    assert call("GET", "/jobs")[1]["jobs"] == []  # nothing was created
