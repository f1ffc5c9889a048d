"""`GET /settings` and `PUT /settings` through the API Lambda on moto, every answer held to docs/openapi.json
(the conftest's `openapi_conformance`): the defaults, a change that keeps what it does not name, the caller's
workspace only, every refusal a 422 naming its field, and the processor's job store keeping what was set."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import boto3
import pytest

from leadenrich import runtime
from leadenrich.aws.dynamo_settings import DynamoWorkspaceSettings
from leadenrich.sqlite.settings import SqliteWorkspaceSettings
from tests.support.api_stack import TABLE, call

DEFAULTS = {
    "unverified_retention_days": 30,
    "results_retention_days": 90,
    "cache_retention_days": 30,
    "audit_retention_days": 365,
    "review_required": False,
    "refused_countries": [],
    "flagged_countries": [],
    "default_lawful_basis": "legitimate_interest",
    "requeue_on_bounce": False,
    "bounce_sns_topics": [],
    "bounce_sendgrid_key": "",
    "bounce_postmark_password_set": False,
    "reenrich_after_days": 30,
    "reverify_after_days": 90,
    "reverify_monthly_credits": 0,
}


def test_the_defaults_until_changed_and_a_change_keeps_what_it_does_not_name(stack: None) -> None:
    status, body, _ = call("GET", "/settings", workspace="acme")
    assert status == 200 and body == {"workspace_id": "acme", **DEFAULTS}

    change = {"results_retention_days": 30, "refused_countries": ["RU", "BY", "RU"], "review_required": True}
    status, body, _ = call("PUT", "/settings", body=change, workspace="acme")
    expected = {**DEFAULTS, **change, "workspace_id": "acme", "refused_countries": ["RU", "BY"]}
    assert status == 200 and body == expected

    status, body, _ = call("PUT", "/settings", body={"flagged_countries": ["US"]}, workspace="acme")
    assert status == 200 and body == {**expected, "flagged_countries": ["US"]}  # the rest kept
    _, again, _ = call("GET", "/settings", workspace="acme")
    assert again == body

    status, body, _ = call("PUT", "/settings", body={"refused_countries": []}, workspace="acme")
    assert status == 200 and body["refused_countries"] == [] and body["review_required"] is True
    _, other, _ = call("GET", "/settings", workspace="globex")
    assert other == {"workspace_id": "globex", **DEFAULTS}  # the caller's workspace only


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"results_retention_days": 0}, "body.results_retention_days", "greater than or equal to 1"),
        ({"reenrich_after_days": 0}, "body.reenrich_after_days", "greater than or equal to 1"),
        ({"unverified_retention_days": 3651}, "body.unverified_retention_days", "less than or equal to 3650"),
        ({"cache_retention_days": "a month"}, "body.cache_retention_days", "integer"),
        ({"audit_retention_days": None}, "body.audit_retention_days", "leave the field out"),
        ({"refused_countries": ["DE", "UK"]}, "body.refused_countries.1", "use GB"),
        ({"flagged_countries": ["de"]}, "body.flagged_countries.0", "as DE"),
        ({"flagged_countries": ["XQ"]}, "body.flagged_countries.0", "not an ISO 3166-1 alpha-2"),
        ({"refused_countries": "DE"}, "body.refused_countries", "list"),
        ({"default_lawful_basis": "vital_interest"}, "body.default_lawful_basis", "legitimate_interest"),
        ({"review_required": "maybe"}, "body.review_required", "boolean"),
        ({"review_required": 0}, "body.review_required", "boolean"),  # strict, as the document says
        ({"results_retention_days": "30"}, "body.results_retention_days", "integer"),
        ({"retention_days": 30}, "body.retention_days", "Extra inputs"),
        ({"requeue_on_bounce": "true"}, "body.requeue_on_bounce", "boolean"),
        ({"reverify_after_days": 10}, "body.reverify_after_days", "at least 30"),
        ({"reverify_monthly_credits": -1}, "body.reverify_monthly_credits", "greater than or equal"),
        (
            {"bounce_sns_topics": ["arn:aws:sqs:us-east-1:123456789012:q"]},
            "body.bounce_sns_topics.0",
            "pattern",
        ),
        ({"bounce_sendgrid_key": "not a key"}, "body.bounce_sendgrid_key", "pattern"),
        ({"bounce_postmark_password": "too-short"}, "body.bounce_postmark_password", "pattern"),
    ],
)
def test_a_bad_change_is_a_422_naming_the_field_and_changes_nothing(
    stack: None, change: dict[str, Any], field: str, words: str
) -> None:
    status, body, _ = call("PUT", "/settings", body=change, workspace="acme")
    assert status == 422 and body["field"] == field and words in body["message"], body
    _, stored, _ = call("GET", "/settings", workspace="acme")
    assert stored == {"workspace_id": "acme", **DEFAULTS}


def test_bounce_sources_are_set_and_the_password_is_never_shown(stack: None) -> None:
    """docs/bounces.md: the workspace's sending tools, as PUT /settings takes them."""
    from tests.support.bounce_world import POSTMARK_PASSWORD, TOPIC, sendgrid_keys

    key = sendgrid_keys()[1]
    change = {
        "requeue_on_bounce": True,
        "bounce_sns_topics": [TOPIC],
        "bounce_sendgrid_key": key,
        "bounce_postmark_password": POSTMARK_PASSWORD,
    }
    status, body, _ = call("PUT", "/settings", body=change, workspace="acme")
    assert status == 200 and POSTMARK_PASSWORD not in str(body)
    shown = {"requeue_on_bounce": True, "bounce_sns_topics": [TOPIC], "bounce_sendgrid_key": key}
    assert body == {"workspace_id": "acme", **DEFAULTS, **shown, "bounce_postmark_password_set": True}
    status, body, _ = call("PUT", "/settings", body={"bounce_postmark_password": ""}, workspace="acme")
    assert (
        status == 200 and body["bounce_postmark_password_set"] is False and body["bounce_sendgrid_key"] == key
    )


def test_without_the_authorizer_s_workspace_it_is_401(stack: None) -> None:
    for method in ("GET", "PUT"):
        status, body, _ = call(method, "/settings", body={} if method == "PUT" else None, workspace=None)
        assert status == 401 and body["message"] == "Unauthorized"


def test_the_processor_s_job_store_expires_rows_by_the_setting(stack: None) -> None:
    """What PUT stores is what the job store reads when a job ends: a cancel through the API expires the
    job row 7 days on."""
    call("PUT", "/settings", body={"results_retention_days": 7}, workspace="acme")
    status, job, _ = call("POST", "/jobs", body={"domains": ["acme.com"]}, workspace="acme")
    assert status == 202
    before = time.time()
    status, _, _ = call("DELETE", f"/jobs/{job['job_id']}", workspace="acme")
    assert status == 200
    row = boto3.client("dynamodb").get_item(
        TableName=TABLE, Key={"PK": {"S": f"WS#acme#JOB#{job['job_id']}"}, "SK": {"S": "JOB"}}
    )["Item"]
    expires = int(row["expires_at"]["N"])
    assert before + 7 * 86_400 - 1 <= expires <= time.time() + 7 * 86_400 + 1


def test_the_store_follows_the_backend(stack: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert isinstance(runtime.workspace_settings(), DynamoWorkspaceSettings)
    monkeypatch.setenv("JOB_STORE", "supabase")  # jobs in Supabase: the settings stay in the table
    runtime.reset()
    assert isinstance(runtime.workspace_settings(), DynamoWorkspaceSettings)
    monkeypatch.setenv("BACKEND", "embedded")
    monkeypatch.setenv("STATE_DB", str(tmp_path / "state.sqlite3"))
    monkeypatch.delenv("JOB_STORE")
    runtime.reset()
    assert isinstance(runtime.workspace_settings(), SqliteWorkspaceSettings)
    status, body, _ = call("PUT", "/settings", body={"default_lawful_basis": "consent"}, workspace="acme")
    assert status == 200 and body["default_lawful_basis"] == "consent"
