"""The lawful basis a job records (`JobOptions.lawful_basis`, `CreateJobRequest.lawful_basis`): its default
for rows made before it existed, and a request fingerprint that did not change for requests without it."""

from __future__ import annotations

import hashlib
import json

import pytest
from pydantic import ValidationError

from leadenrich.jobs.creation import request_fingerprint
from leadenrich.jobs.models import JobOptions, LawfulBasis
from leadenrich.jobs.requests import CreateJobRequest


def test_a_row_made_before_the_basis_was_kept_reads_as_legitimate_interest() -> None:
    row = JobOptions(lawful_basis=LawfulBasis.CONSENT).as_row()
    assert row["lawful_basis"] == "consent" and JobOptions.from_row(row).lawful_basis is LawfulBasis.CONSENT
    del row["lawful_basis"]
    assert JobOptions.from_row(row).lawful_basis is LawfulBasis.LEGITIMATE_INTEREST
    assert JobOptions.from_row({**row, "lawful_basis": None}).lawful_basis is LawfulBasis.LEGITIMATE_INTEREST


def test_a_request_without_a_basis_keeps_the_fingerprint_it_had_before_the_field_existed() -> None:
    """An Idempotency-Key replayed across the deployment that added the field is still a replay."""
    request = CreateJobRequest(domains=["acme.com"])
    before = request.model_dump(mode="json")
    del before["lawful_basis"]
    canonical = json.dumps(before, sort_keys=True, separators=(",", ":"))
    assert request_fingerprint(request) == hashlib.sha256(canonical.encode()).hexdigest()
    named = CreateJobRequest.model_validate({"domains": ["acme.com"], "lawful_basis": "consent"})
    assert request_fingerprint(named) != request_fingerprint(request)
    assert named.lawful_basis is LawfulBasis.CONSENT


def test_an_unknown_basis_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError) as refused:
        CreateJobRequest.model_validate({"domains": ["acme.com"], "lawful_basis": "vital_interests"})
    assert [error["loc"] for error in refused.value.errors()] == [("lawful_basis",)]
