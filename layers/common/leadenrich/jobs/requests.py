"""What a caller may ask of the job service, validated once at the edge.

Every rule names its field, so the API answers a 4xx such as `leads[41].domain: ...` and never a 500. A
domain that cannot be a host name at all is refused here (the caller can fix the row); a well-formed
webmail or disposable domain is accepted and ends its item `invalid`, as the waterfall decides.
"""

from __future__ import annotations

from typing import Annotated, Self
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from leadenrich.domains import DomainError, normalize_domain
from leadenrich.models import Lead

MAX_LEADS_PER_JOB = 10_000
MAX_ATTEMPTS = 10  # per item; the queue's redrive policy must allow more receives than this


def _host_name(value: str) -> str:
    try:
        normalize_domain(value)
    except DomainError as exc:
        raise ValueError(str(exc)) from None
    return value


# Checked per element, so an error names its row: `domains.41`, `leads.41.domain`.
CompanyDomain = Annotated[str, Field(min_length=1, max_length=2048), AfterValidator(_host_name)]


class JobLead(Lead):
    domain: CompanyDomain


class CreateJobRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    leads: list[JobLead] | None = Field(default=None, max_length=MAX_LEADS_PER_JOB)
    domains: list[CompanyDomain] | None = Field(default=None, max_length=MAX_LEADS_PER_JOB)
    priority: int = Field(default=3, ge=1, le=5)
    max_attempts: int = Field(default=5, ge=1, le=MAX_ATTEMPTS)
    webhook_url: str | None = Field(default=None, max_length=2048)
    tags: list[str] = Field(default_factory=list, max_length=10)
    skip_existing: bool = False

    @field_validator("tags")
    @classmethod
    def _tags(cls, tags: list[str]) -> list[str]:
        for tag in tags:
            if not 1 <= len(tag) <= 64 or not tag.replace("-", "").replace("_", "").isalnum():
                raise ValueError("each tag is 1-64 letters, digits, '-' or '_'")
        return tags

    @field_validator("webhook_url")
    @classmethod
    def _webhook(cls, url: str | None) -> str | None:
        if url is None:
            return None
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError("must be an absolute http(s) URL")
        return url

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        given = [name for name in ("leads", "domains") if getattr(self, name)]
        if len(given) != 1:
            raise ValueError("give exactly one of 'leads' or 'domains', not empty")
        return self

    def all_leads(self) -> list[Lead]:
        if self.leads:
            return [Lead.model_validate(lead.model_dump()) for lead in self.leads]
        return [Lead(domain=d) for d in self.domains or []]
