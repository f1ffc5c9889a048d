"""Hunter's company endpoints over HTTP: the `CompanyData` and `CompanyDirectory` ports' adapter.

- `/companies/find?domain=` (company enrichment): the company's firmographics. Billed per company found
  (0.2 credit on All-in-one plans, 1 search credit on Data-Platform plans: providers.md §5; `credit`),
  nothing for a 404 ("no company for this domain");
- `POST /discover` with an organization-name filter: the companies listed under a name; free ("no credits
  are counted for finding companies", Hunter's help centre), 5 requests/s and 50/min;
- `/domain-search?company=`: Hunter picks the company itself; billed like any Domain Search.

Statuses are classified as for every Hunter call (`hunter.classify_hunter_response`), but for the 404 of
`/companies/find`, which is an answer ("not found"), not a problem.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import ValidationError

from leadenrich.deadline import Deadline
from leadenrich.engine.company.ports import CompanyAnswer, CompanyDomainSearch, NamedCompany
from leadenrich.engine.company.profile import (
    MAX_DESCRIPTION,
    MAX_TECHNOLOGIES,
    CompanyProfile,
    clean_text,
)
from leadenrich.engine.models import Provider
from leadenrich.engine.providers.http import json_body
from leadenrich.engine.providers.hunter import (
    DEFAULT_BASE_URL,
    SEARCH_TIMEOUT,
    HunterClient,
    classify_hunter_response,
)
from leadenrich.engine.providers.hunter_company_models import DiscoverAnswer, HunterCompany
from leadenrich.engine.providers.hunter_models import DomainSearch
from leadenrich.engine.providers.outcomes import Outcome, ProviderProblem

COMPANIES_FIND = "/companies/find"
DISCOVER = "/discover"
DISCOVER_LIMIT = 10  # companies asked for a name: more than any real brand clash, and one page


class HunterCompanyClient(HunterClient):
    """`HunterClient` plus the company endpoints (one key, one transport, one error mapping)."""

    rate_key = "hunter.companies_find"

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        http: httpx.AsyncClient | None = None,
        credit: float = 1.0,
    ) -> None:
        super().__init__(api_key, base_url=base_url, http=http)
        self.credit = credit  # credits per company found: 1 (Data-Platform plans) or 0.2 (All-in-one)

    async def find(self, domain: str, *, deadline: Deadline) -> CompanyAnswer:
        response = await self._request("GET", COMPANIES_FIND, deadline, params={"domain": domain})
        if response.status_code == 404:
            return CompanyAnswer(None)
        data = classify_hunter_response(response, COMPANIES_FIND)
        try:
            company = HunterCompany.model_validate(data)
        except ValidationError as exc:
            raise _odd_shape(COMPANIES_FIND, response) from exc
        if company.is_empty:
            return CompanyAnswer(None)
        return CompanyAnswer(profile_of(domain, company, datetime.now(UTC)), credits=self.credit)

    async def companies_named(self, name: str, *, deadline: Deadline) -> list[NamedCompany]:
        body = {"organization": {"name": [name]}, "limit": DISCOVER_LIMIT}
        response = await self._request("POST", DISCOVER, deadline, json=body)
        parsed = json_body(response) if response.status_code == 200 else None
        if parsed is None or "data" not in parsed:
            classify_hunter_response(response, DISCOVER)  # raises for every status but a usable 200
            raise _odd_shape(DISCOVER, response)
        answer = DiscoverAnswer.of(parsed["data"])
        return [
            NamedCompany(c.domain, c.organization) for c in answer.companies if c.domain and c.organization
        ]

    async def domain_search_by_company(
        self, name: str, *, deadline: Deadline, type: str, seniority: str | None
    ) -> CompanyDomainSearch:
        params: dict[str, str | int] = {"company": name, "limit": 10, "offset": 0, "type": type}
        if seniority:
            params["seniority"] = seniority
        response = await self._request("GET", "/domain-search", deadline, params=params)
        data = classify_hunter_response(response, "/domain-search")
        domain, organization = data.get("domain"), data.get("organization")
        if not isinstance(domain, str) or not domain:
            return CompanyDomainSearch(None, None)
        try:
            search = DomainSearch.model_validate(data)
        except ValidationError as exc:
            raise _odd_shape("/domain-search", response) from exc
        return CompanyDomainSearch(domain, organization if isinstance(organization, str) else None, search)

    async def _request(self, method: str, path: str, deadline: Deadline, **kwargs: Any) -> httpx.Response:
        return await self._send(
            method,
            path,
            deadline=deadline,
            cap=SEARCH_TIMEOUT,
            headers={"X-API-KEY": self._key, "Accept": "application/json"},
            **kwargs,
        )


def profile_of(domain: str, company: HunterCompany, fetched_at: datetime) -> CompanyProfile:
    """Hunter's company as the engine keeps it (`CompanyProfile`)."""
    category, geo = company.category, company.geo
    code = (geo.country_code or "").strip().upper()
    year = company.founded_year if company.founded_year and 1500 <= company.founded_year <= 2100 else None
    return CompanyProfile(
        domain=domain,
        fetched_at=fetched_at,
        name=clean_text(company.name),
        legal_name=clean_text(company.legal_name),
        industry=clean_text(category.industry or category.industry_group or category.sub_industry),
        sector=clean_text(category.sector),
        employees=clean_text(company.metrics.employees, 32),
        country=clean_text(geo.country),
        country_code=code if len(code) == 2 and code.isalpha() else None,
        state=clean_text(geo.state),
        city=clean_text(geo.city),
        description=clean_text(company.description, MAX_DESCRIPTION),
        founded_year=year,
        company_type=clean_text(company.company_type or company.type, 64),
        linkedin=clean_text(company.linkedin.handle),
        twitter=clean_text(company.twitter.handle),
        technologies=tuple(t for t in (clean_text(t, 64) for t in company.tech[:MAX_TECHNOLOGIES]) if t),
        source=Provider.HUNTER.value,
    )


def _odd_shape(path: str, response: httpx.Response) -> ProviderProblem:
    return ProviderProblem(
        Provider.HUNTER,
        Outcome.TRANSIENT,
        f"{path} answered a body of an unexpected shape",
        http_status=response.status_code,
    )


__all__ = ["COMPANIES_FIND", "DISCOVER", "HunterCompanyClient", "profile_of"]
