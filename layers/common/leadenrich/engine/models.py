"""Typed inputs and results of the enrichment engine.

These are the shapes every caller (the processor Lambda, the command line, the benchmark) sees, so they
carry exactly the fields the `emails` table stores, plus the cost of getting them.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from leadenrich.engine.company.profile import CompanyProfile
from leadenrich.engine.company.resolution import DomainResolution
from leadenrich.engine.domains import DomainError, normalize_domain


class LeadStatus(StrEnum):
    FOUND = "found"  # at least one address is `active` (verified deliverable)
    RISKY = "risky"  # only unverifiable addresses: catch-all domain, or verification `unknown` after retries
    NOT_FOUND = "not_found"
    INVALID = "invalid"  # not a company domain (malformed, webmail, disposable, no mail server)
    DEFERRED = "deferred"  # try again later (provider pending, throttled, transient, out of time)
    FAILED = "failed"  # permanent: bad credentials, quota exhausted, rejected input


class EmailSource(StrEnum):
    HUNTER_DIRECT = "hunter_direct"  # Hunter returned the address itself (Domain Search, Email Finder)
    PERPLEXITY_GENERATED = "perplexity_generated"  # built by us from a name (Perplexity's or the lead's)


class EmailType(StrEnum):
    PRIMARY = "primary"
    SECONDARY = "secondary"


class HunterStatus(StrEnum):
    DELIVERABLE = "deliverable"
    UNDELIVERABLE = "undeliverable"
    RISKY = "risky"
    UNKNOWN = "unknown"


class EmailStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"


class Deliverability(StrEnum):
    """How likely mail to an address arrives; the rules are in docs/engine.md ("Deliverability tiers")."""

    VERIFIED = "verified"  # Hunter verified it deliverable (valid, score above 80, not a catch-all domain)
    HIGH_PROBABILITY = "high_probability"  # catch-all domain, but Hunter saw this person's address live
    CATCH_ALL = "catch_all"  # a guess on a catch-all domain: the server accepts any address
    UNKNOWN = "unknown"  # the mail server would not say (verification `unknown` after its retries)
    UNDELIVERABLE = "undeliverable"  # verified invalid


class Contact(StrEnum):
    """Whom an address reaches, so a `found` that is only `info@` is visible as such."""

    DECISION_MAKER = "decision_maker"
    NAMED_PERSON = "named_person"  # the person the lead named
    GENERIC = "generic"  # a role address (info@, contact@...)


class Method(StrEnum):
    """How an address was obtained: the finer-grained provenance behind `source`."""

    DOMAIN_SEARCH = "domain_search"
    EMAIL_FINDER = "email_finder"
    KNOWN_PATTERN = "known_pattern"
    PERMUTATION = "permutation"
    GENERIC = "generic"


class Provider(StrEnum):
    HUNTER = "hunter"
    PERPLEXITY = "perplexity"


MAX_ADDRESS_LENGTH = 254  # RFC 5321's path limit, less the angle brackets
_LOCAL_PART = re.compile(r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*")


def normalize_email(raw: str) -> str:
    """An address as the verifier and the cache key it: lower-case, its domain in IDNA form. Raises
    ValueError saying what is wrong, never quoting the address (errors reach logs and API answers).

    Why so strict a local part (RFC 5322's dot-atoms, ASCII): it is what Hunter and mail servers accept
    in practice; a quoted or non-ASCII local part is almost always a paste error in a sales list."""
    text = raw.strip().lower()
    local, at, host = text.rpartition("@")
    if not at or not local or not host:
        raise ValueError("not an email address: expected name@domain")
    if len(local) > 64 or not _LOCAL_PART.fullmatch(local):
        raise ValueError("the part before @ is not a valid mailbox name (letters, digits, . _ % + - ...)")
    try:
        ascii_host = host.encode("idna").decode("ascii")
        domain = normalize_domain(host)
    except (DomainError, UnicodeError) as exc:
        raise ValueError(f"the part after @ is not a usable domain ({exc})") from None
    # normalize_domain forgives a scheme, a path or a port in a lead's domain; an address has none of them.
    if domain not in (ascii_host, ascii_host.removeprefix("www.")):
        raise ValueError("the part after @ must be a bare domain name, like acme.com")
    email = f"{local}@{ascii_host}"
    if len(email) > MAX_ADDRESS_LENGTH:
        raise ValueError(f"an address has at most {MAX_ADDRESS_LENGTH} characters")
    return email


def _host(domain: str) -> str:
    """A lead's domain as compared with its address's (as written when it is not a usable domain)."""
    try:
        return normalize_domain(domain)
    except DomainError:
        return domain


NOTHING_TO_SEARCH = "a lead needs a domain, or a company_name to find its domain from"
_NOTHING_TO_SEARCH = object()  # `Lead`'s mark of a missing domain (see `_no_domain_is_empty`)


class Lead(BaseModel):
    """One lead as callers hand it in: a `domain`, or a `company_name` to find the domain from
    (docs/company-data.md), or with `email` neither.

    `email` is set on a verification job's items: the one address to verify (`engine.verification`). The
    lead's domain is then the address's, filled in when absent, so every place that reads a lead's domain
    (logs, counters, the item view) keeps working for addresses too."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    domain: str = Field(
        default="",
        max_length=2048,
        description="the company's domain or website; empty or left out: `company_name` is resolved to one",
    )
    company_name: str | None = Field(default=None, max_length=512)
    first_name: str | None = Field(default=None, max_length=256)
    last_name: str | None = Field(default=None, max_length=256)
    external_id: str | None = Field(default=None, max_length=256)
    email: str | None = Field(
        default=None, max_length=MAX_ADDRESS_LENGTH, description="the address to verify (verification jobs)"
    )

    @classmethod
    def of_address(cls, email: str) -> Lead:
        """A verification item's lead: the address, and its domain (ValidationError naming `email`)."""
        return cls.model_validate({"email": email})

    @model_validator(mode="before")
    @classmethod
    def _no_domain_is_empty(cls, data: object) -> object:
        """No domain, null or blank (an empty spreadsheet cell), is the empty domain: one to resolve from
        the company name. Without a name (or an address) either, the domain is marked missing, so that
        its own validator refuses it and the error names the field to fill in."""
        if not isinstance(data, dict):
            return data
        domain = data.get("domain")
        if domain is None or (isinstance(domain, str) and not domain.strip()):
            name = data.get("company_name")
            if not (isinstance(name, str) and name.strip()) and not data.get("email"):
                return {**data, "domain": _NOTHING_TO_SEARCH}
            return {**data, "domain": ""}
        return data

    @field_validator("domain", mode="before")
    @classmethod
    def _something_to_search(cls, value: object) -> object:
        if value is _NOTHING_TO_SEARCH:
            raise ValueError(NOTHING_TO_SEARCH)
        return value

    @model_validator(mode="before")
    @classmethod
    def _domain_of_the_address(cls, data: object) -> object:
        if isinstance(data, dict) and not data.get("domain") and isinstance(data.get("email"), str):
            try:
                domain = normalize_email(data["email"]).rpartition("@")[2]
            except ValueError:
                domain = data["email"]  # kept as given: the error is the email field's, not the domain's
            return {**data, "domain": domain}
        return data

    @field_validator("company_name", "first_name", "last_name", "external_id")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("email")
    @classmethod
    def _address(cls, value: str | None, info: ValidationInfo) -> str | None:
        if not value:
            return None
        email = normalize_email(value)
        domain = info.data.get("domain")
        if domain is not None and _host(domain) != _host(email.rpartition("@")[2]):
            raise ValueError(f"the lead's domain {domain!r} is not the address's domain")
        return email


@dataclass(frozen=True)
class FoundEmail:
    email: str
    source: EmailSource
    confidence_score: int
    email_type: EmailType
    hunter_status: HunterStatus
    status: EmailStatus
    verified_at: datetime | None
    method: Method
    deliverability: Deliverability
    person: str | None = None
    position: str | None = None
    contact: Contact = Contact.DECISION_MAKER

    def as_record(self) -> dict[str, object]:
        """The stored shape (the `emails` table columns plus provenance), JSON-ready."""
        return {
            "email": self.email,
            "source": self.source.value,
            "confidence_score": self.confidence_score,
            "email_type": self.email_type.value,
            "hunter_status": self.hunter_status.value,
            "status": self.status.value,
            "verified_at": self.verified_at.isoformat() if self.verified_at else None,
            "method": self.method.value,
            "person": self.person,
            "position": self.position,
            "deliverability": self.deliverability.value,
            "contact": self.contact.value,
        }


@dataclass
class ProviderUsage:
    """Calls made and credits spent on one provider; credits are Hunter's, cost_usd is Perplexity's."""

    calls: int = 0
    credits: float = 0.0
    cost_usd: float = 0.0
    cache_hits: int = 0

    def add(self, other: ProviderUsage) -> None:
        self.calls += other.calls
        self.credits += other.credits
        self.cost_usd += other.cost_usd
        self.cache_hits += other.cache_hits


@dataclass
class Usage:
    hunter: ProviderUsage = field(default_factory=ProviderUsage)
    perplexity: ProviderUsage = field(default_factory=ProviderUsage)

    def of(self, provider: Provider) -> ProviderUsage:
        return self.hunter if provider is Provider.HUNTER else self.perplexity

    def add(self, other: Usage) -> None:
        self.hunter.add(other.hunter)
        self.perplexity.add(other.perplexity)

    @property
    def paid_calls(self) -> int:
        return self.hunter.calls + self.perplexity.calls

    def as_record(self) -> dict[str, dict[str, float]]:
        return {
            p.value: {
                "calls": self.of(p).calls,
                "credits": round(self.of(p).credits, 3),
                "cost_usd": round(self.of(p).cost_usd, 6),
                "cache_hits": self.of(p).cache_hits,
            }
            for p in Provider
        }


@dataclass
class EnrichmentResult:
    domain: str
    status: LeadStatus
    emails: list[FoundEmail] = field(default_factory=list)
    reason: str | None = None
    usage: Usage = field(default_factory=Usage)
    retry_after: float | None = None  # seconds, for DEFERRED
    attempt_consumed: bool = True  # False when deferred only because time ran out before a call
    external_id: str | None = None
    # Deferred before a paid call because a spend cap was reached (`engine.budget`): not an attempt, not a
    # failure; the job waits for a higher cap. `reason` is `budget_reached: <scope>`.
    budget_reached: bool = False
    # The lead's company (docs/company-data.md): set when the job asked for company data and the provider
    # knows the domain; `resolution` when the domain was found from the company name. Both stay out of the
    # record when None, so results without them are stored exactly as before.
    company: CompanyProfile | None = None
    resolution: DomainResolution | None = None

    @property
    def primary(self) -> FoundEmail | None:
        return next((e for e in self.emails if e.email_type is EmailType.PRIMARY), None)

    def settled(self) -> EnrichmentResult:
        """The result to keep when no try is left: a deferral that holds addresses Hunter could not settle
        (verified `unknown`) ends `risky` with them rather than with nothing; any other result stays."""
        if self.status is not LeadStatus.DEFERRED or not self.emails:
            return self
        return dataclasses.replace(self, status=LeadStatus.RISKY, retry_after=None, attempt_consumed=True)

    @property
    def contact(self) -> Contact | None:
        """Whom the best address reaches (the first one: addresses come best first)."""
        return self.emails[0].contact if self.emails else None

    def as_record(self) -> dict[str, object]:
        contact = self.contact
        return {
            "external_id": self.external_id,
            "domain": self.domain,
            "status": self.status.value,
            "contact": contact.value if contact else None,
            "emails": [e.as_record() for e in self.emails],
            "reason": self.reason,
            "retry_after": self.retry_after,
            "usage": self.usage.as_record(),
            **({"company": self.company.as_record()} if self.company is not None else {}),
            **({"resolution": self.resolution.as_record()} if self.resolution is not None else {}),
        }
