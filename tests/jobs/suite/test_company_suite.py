"""Company data through the job runtime on every backend (SQLite, DynamoDB + SQS, Supabase + SQS), with the
providers on the simulator.

Given a job with `company_data` (leads with a domain, a name-only lead, a brand two companies share), when a
processor drains it, then each item's stored result keeps its company profile and its domain resolution,
the item view shows them, the job records the option, and its cost counters include the company calls. A
job without the option pays for no company call and stores no company, exactly as before.
"""

from __future__ import annotations

from datetime import UTC, datetime
from datetime import time as day_time

from leadenrich.engine.cache import InMemoryCache, ResultCache
from leadenrich.engine.providers.hunter_company import HunterCompanyClient
from leadenrich.engine.providers.perplexity import PerplexityClient
from leadenrich.engine.waterfall import Enricher
from leadenrich.jobs.models import ItemStatus, JobStatus
from leadenrich.jobs.processor import Processor, ProcessorSettings
from leadenrich.jobs.requests import CreateJobRequest
from leadenrich.jobs.retry import RetryPolicy
from leadenrich.jobs.views import ItemView, JobView
from leadenrich.privacy.ports import WorkspaceSettings
from tests.support.backends import PROCESSOR_DEFAULTS, WS, Backend
from tests.support.simulator import HUNTER_KEY, PPLX_KEY, TODAY

LEADS = [
    {"domain": "acme-robotics.com"},
    {"domain": "maison-dupont.fr", "external_id": "crm-2"},
    {"company_name": "Nordlicht Energie"},
    {"company_name": "Brightlane"},
]


def company_processor(backend: Backend) -> Processor:
    """A processor wired as the runtime wires it: jobs with company_data run the company step."""
    hunter = HunterCompanyClient(HUNTER_KEY, base_url=backend.sim.hunter_base_url)
    enricher = Enricher(
        hunter,
        PerplexityClient(PPLX_KEY, base_url=backend.sim.perplexity_base_url),
        ResultCache(InMemoryCache()),
        clock=lambda: datetime.combine(TODAY, day_time(12), UTC),
        companies=hunter,
        directory=hunter,
    )
    return Processor(
        backend.store,
        backend.queue,
        enricher,
        ProcessorSettings(**PROCESSOR_DEFAULTS),
        RetryPolicy(),
        clock=backend.now,
        company_runner=enricher.with_company_data(),
    )


async def test_company_data_and_resolutions_are_kept_on_every_store(backend: Backend) -> None:
    request = CreateJobRequest.model_validate({"leads": LEADS, "company_data": True})
    created = await backend.service().create_job(WS, request)
    assert created.job.options.company_data

    await company_processor(backend).drain()

    job = await backend.job(created.job.job_id)
    assert job.status is JobStatus.COMPLETED and job.options.company_data  # read back from the store
    view = JobView.model_validate(JobView.fields_of(job)).model_dump(exclude_unset=True)
    assert view["options"]["company_data"] is True
    acme, maison, nordlicht, brightlane = await backend.items(job.job_id)

    for item, domain in ((acme, "acme-robotics.com"), (maison, "maison-dupont.fr")):
        assert item.result is not None and item.result["company"]["domain"] == domain
        assert item.result["company"]["completeness"] == 100
        assert "resolution" not in item.result
    shown = ItemView.from_item(acme)
    assert shown.company is not None and shown.company.industry == "Machinery"
    assert shown.resolution is None

    assert nordlicht.status in (ItemStatus.FOUND, ItemStatus.RISKY)
    assert nordlicht.result is not None
    assert nordlicht.result["domain"] == "nordlicht-energie.de"
    assert nordlicht.result["resolution"]["status"] == "resolved"
    assert nordlicht.result["resolution"]["method"] == "discover"
    assert nordlicht.result["company"]["name"] == "Nordlicht Energie GmbH"
    shown = ItemView.from_item(nordlicht)
    assert shown.resolution is not None and shown.resolution.confidence == 100
    assert "domain" not in shown.model_dump(exclude_unset=True)["lead"]  # the lead as given: a name

    assert brightlane.status is ItemStatus.INVALID
    assert brightlane.reason is not None and brightlane.reason.startswith("company_ambiguous:")
    assert brightlane.result is not None and "company" not in brightlane.result
    assert brightlane.result["resolution"]["status"] == "ambiguous"

    billed = backend.sim.ledger.snapshot()
    assert billed["calls"]["hunter.companies_find"] == 3  # acme, maison, nordlicht: not the ambiguous one
    assert job.counters.api_calls_hunter == billed["hunter_calls"]
    assert job.counters.credits_hunter == billed["credits_search"] + billed["credits_verification"]


async def test_a_job_without_the_option_pays_for_no_company(backend: Backend) -> None:
    request = CreateJobRequest.model_validate({"leads": LEADS[:2]})
    created = await backend.service().create_job(WS, request)
    assert not created.job.options.company_data

    await company_processor(backend).drain()

    job = await backend.job(created.job.job_id)
    assert job.status is JobStatus.COMPLETED and not job.options.company_data
    view = JobView.model_validate(JobView.fields_of(job)).model_dump(exclude_unset=True)
    assert "company_data" not in view["options"]  # bodies of jobs without it are as they were
    for item in await backend.items(job.job_id):
        assert item.result is not None and "company" not in item.result
    calls = backend.sim.ledger.snapshot()["calls"]
    assert "hunter.companies_find" not in calls and "hunter.discover" not in calls


class RefusedGermany:
    """A workspace whose region rules refuse Germany (`WorkspaceSettingsStore` in memory)."""

    async def get(self, workspace_id: str) -> WorkspaceSettings:
        return WorkspaceSettings(refused_countries=("DE",))

    async def put(self, workspace_id: str, settings: WorkspaceSettings) -> None:
        raise NotImplementedError


async def test_a_name_only_lead_resolved_into_a_refused_region_keeps_nothing(backend: Backend) -> None:
    """Its country is known only once its domain is: the region rule refuses it then, and nothing the
    waterfall found is kept (the searches were made: docs/company-data.md, "Limits")."""
    request = CreateJobRequest.model_validate({"leads": [{"company_name": "Nordlicht Energie"}]})
    created = await backend.service().create_job(WS, request)
    processor = company_processor(backend)
    processor.privacy = RefusedGermany()
    await processor.drain()
    [item] = await backend.items(created.job.job_id)
    assert (item.status, item.reason) == (ItemStatus.INVALID, "region refused: DE")
    assert item.result is not None and item.result["emails"] == []
    assert item.result["resolution"]["domain"] == "nordlicht-energie.de"
