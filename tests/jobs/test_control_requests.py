"""What a PATCH, a bulk action and a job's schedule and caps accept, each refusal naming its field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from leadenrich.jobs.control_requests import BulkJobsRequest, UpdateJobRequest
from leadenrich.jobs.requests import CreateJobRequest


def refused_field(model: type[UpdateJobRequest | BulkJobsRequest | CreateJobRequest], body: object) -> str:
    with pytest.raises(ValidationError) as refused:
        model.model_validate(body)
    return ".".join(str(part) for part in refused.value.errors()[0]["loc"])


def test_only_the_fields_given_change_and_null_clears_what_can_be_cleared() -> None:
    update = UpdateJobRequest.model_validate({"max_credits": None, "tags": ["a-1"]})
    assert update.model_fields_set == {"max_credits", "tags"} and update.max_credits is None
    for field in ("priority", "tags", "paused"):
        assert refused_field(UpdateJobRequest, {field: None}) == field
    assert refused_field(UpdateJobRequest, {"priority": 6}) == "priority"
    assert refused_field(UpdateJobRequest, {"tags": ["no spaces"]}) == "tags"
    assert refused_field(UpdateJobRequest, {"webhook_url": "http://127.0.0.1/x"}) == "webhook_url"
    assert refused_field(UpdateJobRequest, {"status": "paused"}) == "status"  # not a field: extra refused
    with pytest.raises(ValidationError, match="at least one field"):
        UpdateJobRequest.model_validate({})


def test_a_schedule_needs_a_zone_and_stays_within_30_days() -> None:
    soon = datetime.now(UTC) + timedelta(days=2)
    assert CreateJobRequest.model_validate({"domains": ["a.com"], "run_at": soon.isoformat()}).run_at == soon
    naive = soon.replace(tzinfo=None).isoformat()
    assert refused_field(CreateJobRequest, {"domains": ["a.com"], "run_at": naive}) == "run_at"
    far = (datetime.now(UTC) + timedelta(days=31)).isoformat()
    assert refused_field(UpdateJobRequest, {"run_at": far}) == "run_at"
    paris = UpdateJobRequest.model_validate({"run_at": "2026-12-08T10:00:00+01:00"}).run_at
    assert paris is not None and paris.tzinfo is UTC and paris.hour == 9


def test_caps_are_positive() -> None:
    assert refused_field(CreateJobRequest, {"domains": ["a.com"], "max_credits": 0}) == "max_credits"
    assert refused_field(UpdateJobRequest, {"max_cost_usd": -1}) == "max_cost_usd"


def test_a_bulk_action_names_its_jobs_once_and_an_action_it_knows() -> None:
    bulk = BulkJobsRequest.model_validate({"job_ids": ["a", "b", "a"], "action": "pause"})
    assert bulk.job_ids == ["a", "b"]
    assert refused_field(BulkJobsRequest, {"job_ids": ["a"], "action": "delete"}) == "action"
    assert refused_field(BulkJobsRequest, {"job_ids": [], "action": "pause"}) == "job_ids"
    assert refused_field(BulkJobsRequest, {"job_ids": ["x"] * 101, "action": "pause"}) == "job_ids"
