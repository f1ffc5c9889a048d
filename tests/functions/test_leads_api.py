"""`POST /leads` without Supabase, through the API Lambda on moto (DynamoDB + SQS), every answer held to
docs/openapi.json (the conftest's `openapi_conformance`): a lead lives in its job's item, a repeat within a
request is enqueued once, an Idempotency-Key is honoured as POST /jobs honours it, nothing is paid for in
the request, and bad input is a 422 naming the field. Supabase's side: tests/adapters/supabase/
test_lead_intake.py."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from leadenrich import runtime
from tests.support.api_stack import call


def post(
    body: dict[str, Any], key: str | None = None, workspace: str = "acme"
) -> tuple[int, Any, dict[str, str]]:
    headers = {"idempotency-key": key} if key is not None else None
    return call("POST", "/leads", body=body, headers=headers, workspace=workspace)


def queued() -> int:
    url = runtime.settings().queue_url
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
    )
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def test_one_lead_is_a_job_of_one_item_enqueued_with_no_provider_called(stack: None) -> None:
    status, body, headers = post(
        {"lead": {"domain": "https://www.Acme-Robotics.com/about", "first_name": "Ada"}}
    )

    assert status == 202
    assert body["leads"] == [
        {"index": 0, "lead_id": None, "outcome": "created", "enqueued": True, "reason": None}
    ]
    assert (body["created"], body["duplicates"], body["enqueued"], body["replayed"]) == (1, 0, 1, False)
    assert headers["Location"] == f"/jobs/{body['job_id']}"
    _, job, _ = call("GET", f"/jobs/{body['job_id']}", workspace="acme")
    assert job["status"] == "pending" and job["counters"]["total"] == 1  # nothing ran: no provider called
    _, items, _ = call("GET", f"/jobs/{body['job_id']}/items", workspace="acme")
    assert [item["status"] for item in items["items"]] == ["queued"]
    assert queued() == 1
    assert call("GET", f"/jobs/{body['job_id']}", workspace="globex")[0] == 404  # the caller's workspace


def test_a_batch_enqueues_each_lead_once_and_names_the_repeats(stack: None) -> None:
    leads = [
        {"domain": "acme-robotics.com", "first_name": "Ada", "last_name": "Byron"},
        {"domain": "ACME-robotics.com", "first_name": "ada", "last_name": "byron"},  # the same person
        {"domain": "acme-robotics.com"},  # the company: another lead
        {"company_name": "Globex Analytics", "external_id": "crm-2"},
        {"domain": "globex-analytics.io", "external_id": "crm-2"},  # the same external id
    ]
    status, body, _ = post({"leads": leads, "priority": 1, "tags": ["signup"]})

    assert status == 202
    assert [(o["outcome"], o["enqueued"], o["reason"]) for o in body["leads"]] == [
        ("created", True, None),
        ("duplicate", False, "repeated"),
        ("created", True, None),
        ("created", True, None),
        ("duplicate", False, "repeated"),
    ]
    _, job, _ = call("GET", f"/jobs/{body['job_id']}", workspace="acme")
    assert job["counters"]["total"] == 3
    assert job["options"]["priority"] == 1 and job["options"]["tags"] == ["signup"]
    assert queued() == 3


def test_an_idempotency_key_replays_its_job_and_refuses_another_body(stack: None) -> None:
    lead = {"lead": {"domain": "acme-robotics.com"}}
    _, first, _ = post(lead, key="signup-42")
    status, again, headers = post({"leads": [{"domain": "acme-robotics.com"}]}, key="signup-42")  # the same

    assert status == 202 and again["job_id"] == first["job_id"] and again["replayed"] is True
    assert headers["Idempotent-Replayed"] == "true" and again["leads"] == [] and again["created"] is None
    assert queued() == 1  # enqueued once

    status, refused, _ = post({"lead": {"domain": "globex-analytics.io"}}, key="signup-42")
    assert status == 422 and refused["field"] == "header.idempotency-key"
    _, own, _ = post(lead, key="signup-42", workspace="globex")  # keys are per workspace
    assert own["job_id"] != first["job_id"] and own["replayed"] is False


def test_the_daily_quota_refuses_the_batch_and_enqueues_nothing(
    stack: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAILY_LEAD_QUOTA", "2")
    runtime.reset()
    status, body, headers = post({"leads": [{"domain": f"company-{n}.com"} for n in range(3)]})

    assert status == 429 and int(headers["Retry-After"]) > 0, body
    assert queued() == 0
    assert post({"leads": [{"domain": "company-1.com"}, {"domain": "company-1.com"}]})[0] == 202  # one lead


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({}, "body", "exactly one of 'lead' or 'leads'"),
        ({"lead": {"domain": "acme.com"}, "leads": [{"domain": "acme.com"}]}, "body", "exactly one"),
        ({"leads": []}, "body.leads", "at least 1"),
        ({"leads": [{"domain": "acme.com"}] * 1001}, "body.leads", "at most 1000"),
        ({"leads": [{"domain": "acme.com"}, {"domain": "not a domain"}]}, "body.leads.1.domain", ""),
        ({"lead": {"first_name": "Ada"}}, "body.lead.domain", ""),
        ({"lead": {"domain": "acme.com", "email": "ada@acme.com"}}, "body.lead.email", "emails"),
        ({"lead": {"domain": "acme.com"}, "priority": 9}, "body.priority", "less than or equal to 5"),
        ({"lead": {"domain": "acme.com"}, "tags": ["no spaces"]}, "body.tags", "tag"),
        ({"lead": {"domain": "acme.com"}, "webhook": "x"}, "body.webhook", "Extra inputs"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(
    stack: None, body: dict[str, Any], field: str, words: str
) -> None:
    status, answer, _ = post(body)

    assert status == 422 and answer["field"] == field, answer
    assert words in answer["message"]
    assert queued() == 0


def test_an_empty_idempotency_key_is_refused(stack: None) -> None:
    status, answer, _ = post({"lead": {"domain": "acme.com"}}, key=" ")
    assert status == 422 and answer["field"] == "header.idempotency-key"
