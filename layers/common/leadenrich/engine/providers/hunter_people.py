"""Hunter's Email Enrichment over HTTP (`GET /v2/people/find?email=`): the `PersonEnrichment` adapter.

The answer's `data` is Clearbit-shaped (`name.fullName`, `employment.title`, `linkedin.handle`...), as seen in
client code that reads the live v2 endpoint (providers.md §5 lists the endpoint, not the body); unknown and
missing fields are ignored. 404 means Hunter holds no one for the address (not an error: None); every other
status is classified as the other Hunter endpoints' are (`hunter.classify_hunter_response`): 451 opted out,
403/429 throttled, 402 quota, 401 refused key, 5xx transient. The key travels in `X-API-KEY`.
"""

from __future__ import annotations

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from leadenrich.deadline import Deadline
from leadenrich.engine.models import Provider
from leadenrich.engine.people import PersonProfile
from leadenrich.engine.providers.http import ProviderHttp
from leadenrich.engine.providers.hunter import DEFAULT_BASE_URL, SEARCH_TIMEOUT, classify_hunter_response
from leadenrich.engine.providers.outcomes import Outcome, ProviderProblem

_PATH = "/people/find"


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Name(_Loose):
    fullName: str | None = None
    givenName: str | None = None
    familyName: str | None = None


class _Employment(_Loose):
    domain: str | None = None
    name: str | None = None
    title: str | None = None
    role: str | None = None
    seniority: str | None = None


class _Geo(_Loose):
    countryCode: str | None = None


class _Handle(_Loose):
    handle: str | None = None


class HunterPerson(_Loose):
    """`data` of a people/find answer, the parts we keep."""

    email: str | None = None
    name: _Name | None = None
    employment: _Employment | None = None
    location: str | None = None
    geo: _Geo | None = None
    linkedin: _Handle | None = None
    twitter: _Handle | None = None

    def profile(self, asked: str) -> PersonProfile:
        name, job = self.name or _Name(), self.employment or _Employment()
        linkedin = self.linkedin.handle if self.linkedin else None
        return PersonProfile(
            email=(self.email or asked).lower(),
            full_name=name.fullName,
            first_name=name.givenName,
            last_name=name.familyName,
            title=job.title,
            role=job.role,
            seniority=job.seniority,
            company_name=job.name,
            company_domain=job.domain,
            location=self.location,
            country_code=self.geo.countryCode if self.geo else None,
            linkedin_url=f"https://www.linkedin.com/in/{linkedin}" if linkedin else None,
            twitter=self.twitter.handle if self.twitter else None,
        )


class HunterPeopleClient(ProviderHttp):
    provider = Provider.HUNTER
    key_variable = "HUNTER_API_KEY"

    def __init__(
        self, api_key: str, *, base_url: str = DEFAULT_BASE_URL, http: httpx.AsyncClient | None = None
    ) -> None:
        super().__init__(api_key, base_url=base_url, http=http)

    async def person(self, email: str, *, deadline: Deadline) -> PersonProfile | None:
        response = await self._send(
            "GET",
            _PATH,
            deadline=deadline,
            cap=SEARCH_TIMEOUT,
            params={"email": email},
            headers={"X-API-KEY": self._key, "Accept": "application/json"},
        )
        if response.status_code == 404:
            return None
        data = classify_hunter_response(response, _PATH)
        try:
            return HunterPerson.model_validate(data).profile(email)
        except ValidationError as exc:
            raise ProviderProblem(
                Provider.HUNTER,
                Outcome.TRANSIENT,
                f"{_PATH} answered a body of an unexpected shape",
                http_status=response.status_code,
            ) from exc


__all__ = ["HunterPeopleClient", "HunterPerson"]
