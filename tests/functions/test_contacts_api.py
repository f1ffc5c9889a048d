"""Lawful basis, region rules and contact approval through the Lambda handlers with real events, on moto and
the simulator: the workspace's settings in the table, POST /jobs, the processor Lambda as the runtime wires
it, then the items, the review queue and the decisions, every answer held to docs/openapi.json."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

import handle_process
from enrich_tools.simulator import SimulatorServer
from leadenrich import runtime
from leadenrich.privacy.identity import email_identity
from leadenrich.privacy.ports import SERVICE_WIDE, Suppression, SuppressionReason, WorkspaceSettings
from tests.support.lambda_env import lambda_env_on_moto
from tests.support.lambda_events import SCHEDULED_EVENT, Context, call
from tests.support.openapi_conformance import openapi_conformance  # noqa: F401  # checks every answer
from tests.support.simulator import base_config

FOUND = ["acme-robotics.com", "brightlane.co.uk"]  # the simulator's: a decision-maker's address each


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorServer]:
    with SimulatorServer(base_config()) as running:
        yield running


@pytest.fixture(autouse=True)
def aws(simulator: SimulatorServer, mocked_aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    lambda_env_on_moto(simulator, monkeypatch)
    yield
    runtime.reset()


def settle(settings: WorkspaceSettings, workspace: str = "default") -> None:
    asyncio.run(runtime.workspace_settings().put(workspace, settings))


def run_job(body: dict[str, Any], workspace: str = "default") -> dict[str, Any]:
    """Create the job, run the processor until it is done; the job as GET answers it."""
    status, job, _ = call("POST", "/jobs", body=body, workspace=workspace)
    assert status == 202, job
    for _ in range(5):
        handle_process.handler(SCHEDULED_EVENT, Context())  # type: ignore[arg-type]
        status, done, _ = call("GET", f"/jobs/{job['job_id']}", workspace=workspace)
        if done["status"] == "completed":
            return dict(done)
    raise AssertionError("the job did not complete in 5 processor runs")


def items_of(job_id: str, workspace: str = "default") -> list[dict[str, Any]]:
    status, page, _ = call("GET", f"/jobs/{job_id}/items", workspace=workspace)
    assert status == 200
    return list(page["items"])


def queue(workspace: str = "default", limit: int = 100) -> list[dict[str, Any]]:
    """Every pending contact, page by page."""
    contacts: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        query = {"review": "pending", "limit": str(limit), **({"cursor": cursor} if cursor else {})}
        status, page, _ = call("GET", "/contacts", query=query, workspace=workspace)
        assert status == 200
        contacts += page["contacts"]
        cursor = page["cursor"]
        if cursor is None:
            return contacts


def test_found_addresses_wait_for_review_and_only_approved_ones_are_shown() -> None:
    settle(WorkspaceSettings(review_required=True))
    job = run_job({"domains": FOUND, "lawful_basis": "consent"})
    assert job["options"]["lawful_basis"] == "consent" and job["counters"]["found"] == 2

    held = items_of(job["job_id"])
    assert [(i["emails"], i["held_for_review"]) for i in held] == [([], 1), ([], 1)]
    contacts = queue(limit=1)
    assert [(c["job_id"], c["item_id"]) for c in contacts] == [(job["job_id"], i["item_id"]) for i in held]
    assert {(c["email"]["review"], c["email"]["lawful_basis"]) for c in contacts} == {("pending", "consent")}
    assert queue("another-workspace") == []

    approve, reject = contacts[0], contacts[1]
    status, approved, _ = call("POST", f"/contacts/{approve['contact_id']}/approve")
    assert status == 200 and approved["email"]["review"] == "approved"
    assert call("POST", f"/contacts/{approve['contact_id']}/approve")[0] == 200  # again: nothing changes
    assert call("POST", f"/contacts/{reject['contact_id']}/reject")[1]["email"]["review"] == "rejected"
    status, refused, _ = call("POST", f"/contacts/{reject['contact_id']}/approve")
    assert status == 409 and refused["field"] == "path.contact_id"
    status, _, _ = call("POST", f"/contacts/{approve['contact_id']}/approve", workspace="another-workspace")
    assert status == 404

    status, audit, _ = call("GET", "/audit", query={"action": "contact.approve"})
    assert status == 200 and [(e["target"], e["job_id"]) for e in audit["entries"]] == [
        (approve["contact_id"], job["job_id"]),
        (approve["contact_id"], job["job_id"]),  # the second approval, which changed nothing, answered too
    ]
    assert "@" not in str(audit)  # the trail names contacts by id, never by address

    shown = items_of(job["job_id"])
    assert [[e["email"] for e in i["emails"]] for i in shown] == [[approve["email"]["email"]], []]
    assert shown[0]["emails"][0]["review"] == "approved" and "held_for_review" not in shown[0]
    assert "held_for_review" not in shown[1]  # a rejected address is neither shown nor held
    assert queue() == []


def service_wide_opt_out(email: str) -> None:
    """What the engine does when any workspace's job meets Hunter's 451 for the address."""
    entry = Suppression(SERVICE_WIDE, email_identity(email), SuppressionReason.OPTED_OUT, datetime.now(UTC))
    asyncio.run(runtime.suppressions().add([entry]))


def test_an_address_suppressed_after_it_was_stored_is_never_returned_or_approved() -> None:
    """Stored results stay until erased or expired (docs/privacy.md), but no read returns them once the
    person is suppressed: here by a 451 met by another workspace's job, after this job had finished."""
    plain = run_job({"domains": FOUND})
    stored = [e["email"] for i in items_of(plain["job_id"]) for e in i["emails"]]
    assert len(stored) == 2
    settle(WorkspaceSettings(review_required=True), "reviewed")
    held = run_job({"domains": FOUND}, "reviewed")
    pending = queue("reviewed")
    assert len(pending) == 2

    service_wide_opt_out(stored[0])

    shown = items_of(plain["job_id"])
    assert [[e["email"] for e in i["emails"]] for i in shown] == [[], [stored[1]]]
    assert shown[0]["withheld"] == 1 and "withheld" not in shown[1]
    assert [i["status"] for i in shown] == ["not_found", "found"]
    assert [c["email"]["email"] for c in queue("reviewed")] == [stored[1]]
    opted_out = next(c for c in pending if c["email"]["email"] == stored[0])
    status, refused, _ = call("POST", f"/contacts/{opted_out['contact_id']}/approve", workspace="reviewed")
    assert status == 409 and "suppressed" in refused["message"]
    assert stored[0] not in str(items_of(held["job_id"], "reviewed"))


def test_the_bulk_form_decides_each_contact_on_its_own() -> None:
    settle(WorkspaceSettings(review_required=True))
    run_job({"domains": FOUND})
    first, second = (c["contact_id"] for c in queue())
    unknown = "job_nope.000000.0.0123abcd"
    body = {"approve": [first, unknown, first], "reject": [second, first]}
    status, answer, _ = call("POST", "/contacts/review", body=body)
    assert status == 200
    assert [(r["contact_id"], r["outcome"]) for r in answer["results"]] == [
        (first, "approved"),
        (unknown, "not_found"),
        (second, "rejected"),
        (first, "conflict"),  # in both lists: approved first, the rejection refused
    ]
    status, refused, _ = call("POST", "/contacts/review", body={"approve": ["nope"]})
    assert status == 422 and refused["field"] == "body.approve.0"


def test_a_refused_country_costs_nothing_and_a_flagged_one_is_marked() -> None:
    settle(WorkspaceSettings(refused_countries=("DE",), flagged_countries=("FR",)))
    job = run_job({"domains": ["nordlicht-energie.de", "maison-dupont.fr", "acme-robotics.com"]})
    refused, flagged, plain = items_of(job["job_id"])
    assert (refused["status"], refused["reason"], refused["emails"]) == ("invalid", "region refused: DE", [])
    assert flagged["region_flag"] == "FR" and "region_flag" not in plain and "region_flag" not in refused
    assert job["counters"]["api_calls_hunter"] > 0  # the others were searched
    alone = run_job({"domains": ["nordlicht-energie.de"]})
    assert alone["counters"]["api_calls_hunter"] == alone["counters"]["api_calls_perplexity"] == 0
    assert alone["cost"] == {"hunter_credits": 0.0, "perplexity_usd": 0.0}


def test_a_job_takes_the_workspaces_default_lawful_basis_unless_it_names_one() -> None:
    settle(WorkspaceSettings(default_lawful_basis="contract"))
    defaulted = run_job({"domains": ["acme-robotics.com"]})
    assert defaulted["options"]["lawful_basis"] == "contract"
    [item] = items_of(defaulted["job_id"])
    assert [e["lawful_basis"] for e in item["emails"]] == ["contract"] and "review" not in item["emails"][0]
    status, named, _ = call(
        "POST", "/jobs", body={"domains": ["acme-robotics.com"], "lawful_basis": "consent"}
    )
    assert status == 202 and named["options"]["lawful_basis"] == "consent"
    status, refused, _ = call("POST", "/jobs", body={"domains": ["acme.com"], "lawful_basis": "whim"})
    assert status == 422 and refused["field"] == "body.lawful_basis"
    status, other, _ = call("POST", "/jobs", body={"domains": ["acme.com"]}, workspace="another-workspace")
    assert other["options"]["lawful_basis"] == "legitimate_interest"  # that workspace set nothing
