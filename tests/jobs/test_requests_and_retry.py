"""Job requests are validated at the edge, naming the field; retries back off with full jitter."""

from __future__ import annotations

import random

import pytest
from pydantic import ValidationError

from leadenrich.jobs.requests import MAX_LEADS_PER_JOB, CreateJobRequest
from leadenrich.jobs.retry import MAX_VISIBILITY_DELAY, RetryPolicy


def error_of(payload: dict[str, object]) -> str:
    with pytest.raises(ValidationError) as caught:
        CreateJobRequest.model_validate(payload)
    first = caught.value.errors()[0]
    return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"


def test_leads_or_domains_become_leads() -> None:
    request = CreateJobRequest.model_validate({"domains": ["acme.com", "https://www.globex.io/x"]})
    assert [lead.domain for lead in request.all_leads()] == ["acme.com", "https://www.globex.io/x"]
    request = CreateJobRequest.model_validate(
        {
            "leads": [{"domain": "acme.com", "first_name": "Jane", "external_id": "x1"}],
            "tags": ["q4", "eu-west"],
        }
    )
    assert request.all_leads()[0].first_name == "Jane" and request.tags == ["q4", "eu-west"]


@pytest.mark.parametrize(
    ("payload", "names"),
    [
        ({"domains": ["acme.com", "not a domain"]}, "domains.1: Value error, domain 'not a domain'"),
        ({"leads": [{"domain": "acme.com"}, {"domain": "x"}]}, "leads.1.domain: Value error"),
        ({"leads": [{"domain": "acme.com", "phone": "1"}]}, "leads.0.phone"),
        ({"domains": ["acme.com"], "priority": 9}, "priority"),
        ({"domains": ["acme.com"], "max_attempts": 0}, "max_attempts"),
        ({"domains": ["acme.com"], "webhook_url": "ftp://x"}, "webhook_url"),
        ({"domains": ["acme.com"], "tags": ["bad tag!"]}, "tags"),
        ({}, "exactly one of"),
        ({"domains": ["a.com"], "leads": [{"domain": "b.com"}]}, "exactly one of"),
        ({"domains": ["acme.com"] * (MAX_LEADS_PER_JOB + 1)}, "domains"),
    ],
)
def test_bad_input_names_the_field(payload: dict[str, object], names: str) -> None:
    assert names in error_of(payload)


def test_backoff_grows_with_full_jitter_and_honours_the_providers_floor() -> None:
    policy = RetryPolicy(base_seconds=30, cap_seconds=900, rng=random.Random(1))
    first = [policy.delay(1) for _ in range(200)]
    fourth = [policy.delay(4) for _ in range(200)]
    assert min(first) >= 0 and max(first) <= 30
    assert max(fourth) <= 240 and max(fourth) > 30  # the ceiling doubled three times
    assert len(set(first)) > 20  # jittered, not one fixed delay
    assert all(policy.delay(1, suggested=120) >= 120 for _ in range(50))
    assert all(policy.delay(30) <= 900 for _ in range(50))
    assert policy.delay(1, suggested=10**9) == MAX_VISIBILITY_DELAY


def test_a_deferral_is_never_immediate() -> None:
    """A zero draw made the message visible at once and the same run charged a second attempt."""

    class LowestDraw(random.Random):
        def uniform(self, a: float, b: float) -> float:
            return a  # the draw that broke it: 0

    policy = RetryPolicy(base_seconds=30, cap_seconds=900, rng=LowestDraw())
    assert policy.delay(1) == 3
    assert RetryPolicy(rng=random.Random(1)).delay(1) >= 3
