"""Lawful basis, region rules and contact approval through the processor, on every backend of the job suite
(SQLite, DynamoDB + SQS on moto, Supabase): what the processor stores for an item under its workspace's
settings, what it never sends to a provider, and the review queue and decisions over what it stored."""

# ruff: noqa: F811  # the tests take the suite's `backend` fixture, imported below, as their parameter

from __future__ import annotations

from typing import Any

import pytest

from leadenrich.jobs.models import ItemStatus, LawfulBasis, ReviewState
from leadenrich.jobs.requests import CreateJobRequest
from leadenrich.privacy.contacts import ContactConflict, ContactReview
from leadenrich.privacy.ports import WorkspaceSettings
from leadenrich.privacy.review import addresses, pending_count, review_of
from tests.jobs.suite.conftest import backend, simulator  # noqa: F401  # fixtures: one backend per case
from tests.support.backends import WS, Backend


class Settings:
    """`WorkspaceSettingsStore` in memory: the settings are not what these tests test (their adapters have
    their own), what the processor does with them is."""

    def __init__(self, settings: WorkspaceSettings) -> None:
        self.settings = settings
        self.reads = 0

    async def get(self, workspace_id: str) -> WorkspaceSettings:
        self.reads += 1
        return self.settings if workspace_id == WS else WorkspaceSettings()

    async def put(self, workspace_id: str, settings: WorkspaceSettings) -> None:
        self.settings = settings


async def run(backend: Backend, settings: Settings, body: dict[str, Any]) -> str:
    created = await backend.service().create_job(WS, CreateJobRequest.model_validate(body))
    processor = backend.processor()
    processor.privacy = settings
    await processor.drain()
    assert (await backend.job(created.job.job_id)).counters.processed == created.job.counters.total
    return created.job.job_id


async def test_a_refused_country_is_never_sent_to_a_provider(backend: Backend) -> None:
    settings = Settings(WorkspaceSettings(refused_countries=("DE", "GB")))
    job_id = await run(backend, settings, {"domains": ["nordlicht-energie.de", "brightlane.co.uk"]})

    assert backend.sim.ledger.calls() == 0
    items = await backend.items(job_id)
    assert [(i.status, i.reason) for i in items] == [
        (ItemStatus.INVALID, "region refused: DE"),
        (ItemStatus.INVALID, "region refused: GB"),
    ]
    counters = (await backend.job(job_id)).counters
    assert (counters.api_calls_hunter, counters.api_calls_perplexity, counters.credits_hunter) == (0, 0, 0.0)


async def test_found_addresses_are_stamped_queued_for_review_and_decided(backend: Backend) -> None:
    settings = Settings(WorkspaceSettings(review_required=True, flagged_countries=("GB",)))
    body = {"domains": ["acme-robotics.com", "brightlane.co.uk"], "lawful_basis": "consent"}
    job_id = await run(backend, settings, body)

    plain, flagged = await backend.items(job_id)
    assert backend.sim.ledger.calls() > 0 and plain.status is flagged.status is ItemStatus.FOUND
    for item in (plain, flagged):
        found = addresses(item.result)
        assert found and {(a["lawful_basis"], a["review"]) for a in found} == {("consent", "pending")}
        assert pending_count(item.result) == len(found)
    assert (flagged.result or {}).get("region_flag") == "GB" and "region_flag" not in (plain.result or {})
    assert (await backend.job(job_id)).options.lawful_basis is LawfulBasis.CONSENT

    review = ContactReview(backend.store, clock=backend.now)
    page = await review.queue(WS, limit=1)  # whole items: one item's addresses, then the other's
    assert {c.item.item_id for c in page.items} == {plain.item_id} and page.cursor is not None
    rest = await review.queue(WS, cursor=page.cursor)
    assert {c.item.item_id for c in rest.items} == {flagged.item_id} and rest.cursor is None
    first = page.items[0]
    decided = await review.decide(WS, first.contact_id, ReviewState.APPROVED)
    assert review_of(decided.address) is ReviewState.APPROVED
    with pytest.raises(ContactConflict):
        await review.decide(WS, first.contact_id, ReviewState.REJECTED)
    remaining = [c.contact_id for c in (await review.queue(WS)).items]
    assert (
        first.contact_id not in remaining
        and len(remaining) == sum(len(addresses(i.result)) for i in (plain, flagged)) - 1
    )


async def test_without_settings_a_job_keeps_its_basis_and_nothing_waits(backend: Backend) -> None:
    settings = Settings(WorkspaceSettings())
    job_id = await run(backend, settings, {"domains": ["acme-robotics.com"]})
    [item] = await backend.items(job_id)
    assert {a["lawful_basis"] for a in addresses(item.result)} == {"legitimate_interest"}
    assert all("review" not in a for a in addresses(item.result))
    assert (await backend.store.review_queue(WS)).items == [] and settings.reads >= 1
