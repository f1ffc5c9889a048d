"""The company steps inside the waterfall, against scripted providers: which calls each decision costs.

A lead with a domain and no company option must take exactly the path it always took; a name-only lead
gets its domain first (or an honest refusal); a job that asked for company data gets the profile, cached
until it is older than the maximum age, and never at the price of the lead's addresses.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from leadenrich.engine.company.resolution import ResolutionMethod, ResolutionStatus
from leadenrich.engine.company.steps import CompanySettings
from leadenrich.engine.models import Lead, LeadStatus, Provider
from leadenrich.jobs.requests import CreateJobRequest
from tests.engine.spend_gates import CappedGate
from tests.support.scripted_company import FULL, Clock, ScriptedCompanies, make_company_enricher
from tests.support.scripted_providers import QUOTA_EXHAUSTED, RATE_LIMITED, RECENT, Script, row

DOMAIN = "acme-robotics.com"
CEO = "olivia.martin@acme-robotics.com"


@pytest.fixture
def companies(script: Script) -> ScriptedCompanies:
    script.rows[DOMAIN] = [row(CEO, "Founder & CEO", 96, "valid", RECENT)]
    return ScriptedCompanies(script, profiles={DOMAIN: dict(FULL)})


def methods(script: Script) -> list[str]:
    return [call.method for call in script.log]


async def test_a_lead_with_a_domain_and_no_company_option_takes_the_usual_path(
    script: Script, companies: ScriptedCompanies
) -> None:
    result = await make_company_enricher(script, companies).enrich(Lead(domain=DOMAIN))
    assert result.status is LeadStatus.FOUND
    assert methods(script) == ["domain_search"]
    assert result.company is None and result.resolution is None
    assert "company" not in result.as_record() and "resolution" not in result.as_record()


async def test_the_company_option_adds_the_profile_and_its_credit(
    script: Script, companies: ScriptedCompanies
) -> None:
    clock = Clock()
    enricher = make_company_enricher(script, companies, clock=clock)
    result = await enricher.enrich(Lead(domain=DOMAIN), company_data=True)
    assert result.status is LeadStatus.FOUND and result.emails[0].email == CEO
    assert methods(script) == ["domain_search", "companies_find"]
    assert result.company is not None and result.company.completeness == 100
    assert result.company.fetched_at == clock.now  # aged on the engine's clock, not the provider's
    assert result.usage.hunter.calls == 2 and result.usage.hunter.credits == 2.0  # a search page + a company
    record = result.as_record()["company"]
    assert isinstance(record, dict) and record["industry"] == "Machinery" and record["completeness"] == 100
    assert result.reason is None

    # The same company again: from the cache, no call, no credit.
    again = await enricher.enrich(
        Lead(domain=f"https://www.{DOMAIN}/about", first_name="X"), company_data=True
    )
    assert again.company == result.company
    assert methods(script).count("companies_find") == 1
    assert again.usage.hunter.credits == 0


async def test_company_data_older_than_the_maximum_age_is_fetched_again(
    script: Script, companies: ScriptedCompanies
) -> None:
    clock = Clock()
    settings = CompanySettings(max_age=timedelta(days=90))
    enricher = make_company_enricher(script, companies, clock=clock, settings=settings)
    first = await enricher.enrich(Lead(domain=DOMAIN), company_data=True)
    clock.now += timedelta(days=89)
    assert (await enricher.enrich(Lead(domain=DOMAIN), company_data=True)).company == first.company
    assert methods(script).count("companies_find") == 1
    clock.now += timedelta(days=2)  # 91 days after the first fetch
    fresh = await enricher.enrich(Lead(domain=DOMAIN), company_data=True)
    assert methods(script).count("companies_find") == 2
    assert fresh.company is not None and fresh.company.fetched_at == clock.now


async def test_a_domain_the_provider_does_not_know_is_said_and_remembered(
    script: Script, companies: ScriptedCompanies
) -> None:
    script.rows["unknown.com"] = []
    enricher = make_company_enricher(script, companies)
    result = await enricher.enrich(Lead(domain="unknown.com"), company_data=True)
    assert result.status is LeadStatus.NOT_FOUND and result.company is None
    assert (
        result.reason is not None and "company data not fetched (the provider has no company" in result.reason
    )
    await enricher.enrich(Lead(domain="unknown.com"), company_data=True)
    assert methods(script).count("companies_find") == 1  # "none found" is cached too


async def test_invalid_and_suppressed_leads_get_no_company_call(
    script: Script, companies: ScriptedCompanies
) -> None:
    enricher = make_company_enricher(script, companies)
    for domain in ("gmail.com", "not a domain"):
        result = await enricher.enrich(Lead(domain=domain), company_data=True)
        assert result.status is LeadStatus.INVALID and result.company is None
    assert script.log == []


async def test_company_problems_never_cost_the_lead_its_addresses(
    script: Script, companies: ScriptedCompanies
) -> None:
    script.problems["companies_find"] = RATE_LIMITED
    result = await make_company_enricher(script, companies).enrich(Lead(domain=DOMAIN), company_data=True)
    assert result.status is LeadStatus.FOUND and result.emails[0].email == CEO
    assert result.company is None
    assert result.reason == "company data not fetched (rate limit reached (403))"


async def test_a_spent_cap_stops_the_company_call_but_keeps_the_addresses(
    script: Script, companies: ScriptedCompanies
) -> None:
    gate = CappedGate(script.log, max_credits=1.0)
    result = await make_company_enricher(script, companies).enrich(
        Lead(domain=DOMAIN), budget=gate, company_data=True
    )
    assert result.status is LeadStatus.FOUND and result.company is None
    assert result.reason == "company data not fetched (budget_reached: max_credits)"
    assert "companies_find" not in methods(script)
    assert gate.spent(Provider.HUNTER) == (1, 1.0, 0.0)  # the search page only


# --- a company name and no domain ---------------------------------------------------------------------


async def test_a_name_only_lead_gets_its_domain_from_the_directory_first(
    script: Script, companies: ScriptedCompanies
) -> None:
    companies.listed["acme robotics"] = [(DOMAIN, "Acme Robotics Inc."), ("acme-foods.com", "Acme Foods")]
    result = await make_company_enricher(script, companies).enrich(Lead(company_name="Acme Robotics"))
    assert result.status is LeadStatus.FOUND and result.domain == DOMAIN
    assert methods(script) == ["discover", "domain_search"]
    resolution = result.resolution
    assert resolution is not None
    assert (resolution.status, resolution.method, resolution.domain, resolution.confidence) == (
        ResolutionStatus.RESOLVED,
        ResolutionMethod.DISCOVER,
        DOMAIN,
        100,
    )
    assert result.as_record()["resolution"] == resolution.as_record()
    assert result.usage.hunter.calls == 2 and result.usage.hunter.credits == 1.0  # Discover is free


async def test_an_ambiguous_name_is_reported_and_nothing_is_paid(
    script: Script, companies: ScriptedCompanies
) -> None:
    companies.listed["brightlane"] = [
        ("brightlane.co.uk", "Brightlane Ltd"),
        ("brightlane.io", "Brightlane Inc."),
    ]
    enricher = make_company_enricher(script, companies)
    result = await enricher.enrich(Lead(company_name="Brightlane", first_name="Ann", last_name="Lee"))
    assert result.status is LeadStatus.INVALID
    assert result.reason is not None and result.reason.startswith("company_ambiguous: 'Brightlane' matches 2")
    assert result.resolution is not None and result.resolution.status is ResolutionStatus.AMBIGUOUS
    assert methods(script) == ["discover"]
    assert result.usage.hunter.credits == 0 and result.emails == []
    # Asked again (another row of the same export): the decision is cached.
    await enricher.enrich(Lead(company_name="BRIGHTLANE"))
    assert methods(script) == ["discover"]


async def test_a_name_discover_does_not_list_goes_to_domain_search_whose_page_is_reused(
    script: Script, companies: ScriptedCompanies
) -> None:
    companies.by_company["acme robotics"] = (DOMAIN, "Acme Robotics Inc.")
    result = await make_company_enricher(script, companies).enrich(Lead(company_name="Acme Robotics"))
    assert result.status is LeadStatus.FOUND and result.domain == DOMAIN
    # The waterfall's own Domain Search of the domain is the page the resolution already paid for.
    assert methods(script) == ["discover", "domain_search_company"]
    [by_company] = script.calls("domain_search_company")
    assert by_company.args == {"company": "Acme Robotics", "type": "personal", "seniority": "executive"}
    assert result.resolution is not None and result.resolution.method is ResolutionMethod.DOMAIN_SEARCH
    assert result.usage.hunter.credits == 1.0


async def test_an_unknown_name_ends_not_found_and_a_loose_match_is_not_taken(
    script: Script, companies: ScriptedCompanies
) -> None:
    companies.by_company["acme"] = ("globex.io", "Globex Analytics")  # Hunter's guess, another company
    enricher = make_company_enricher(script, companies)
    for name in ("Zyxwv Holdings", "Acme"):
        result = await enricher.enrich(Lead(company_name=name))
        assert result.status is LeadStatus.NOT_FOUND, name
        assert result.reason is not None and result.reason.startswith("company_unknown:")
        assert result.domain == "" and result.emails == []
    assert "domain_search" not in methods(script)


async def test_resolution_problems_defer_or_fail_the_lead_like_any_provider_problem(
    script: Script, companies: ScriptedCompanies
) -> None:
    script.problems["discover"] = RATE_LIMITED
    throttled = await make_company_enricher(script, companies).enrich(Lead(company_name="Acme"))
    assert throttled.status is LeadStatus.DEFERRED and not throttled.attempt_consumed
    script.problems["discover"] = QUOTA_EXHAUSTED
    enricher = make_company_enricher(script, companies)
    failed = await enricher.enrich(Lead(company_name="Acme"))
    assert failed.status is LeadStatus.FAILED
    # Hunter is switched off for the process: the next name is not even asked.
    after = await enricher.enrich(Lead(company_name="Globex"))
    assert after.status is LeadStatus.FAILED and methods(script).count("discover") == 2


async def test_a_name_only_lead_with_company_data_gets_both(
    script: Script, companies: ScriptedCompanies
) -> None:
    companies.listed["acme robotics inc."] = [(DOMAIN, "Acme Robotics Inc.")]
    result = await make_company_enricher(script, companies).enrich(
        Lead(company_name="Acme Robotics Inc."), company_data=True
    )
    assert result.resolution is not None and result.company is not None
    assert methods(script) == ["discover", "domain_search", "companies_find"]
    assert set(result.as_record()) >= {"company", "resolution"}


def test_a_lead_needs_a_domain_or_a_company_name() -> None:
    assert Lead(company_name="Acme").domain == ""  # no domain: resolved from the name
    assert Lead(domain=" ", company_name="Acme").domain == ""  # a blank cell is no domain
    assert Lead(domain=None, company_name="Acme").domain == ""
    assert Lead(email="ann@acme.com").domain == "acme.com"
    with pytest.raises(ValidationError, match="a lead needs a domain, or a company_name"):
        Lead(first_name="Ann")
    with pytest.raises(ValidationError) as caught:
        CreateJobRequest.model_validate(
            {"leads": [{"domain": "acme.com"}, {"domain": "", "company_name": ""}]}
        )
    [error] = caught.value.errors()
    assert error["loc"] == ("leads", 1, "domain")
