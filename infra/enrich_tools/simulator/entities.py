"""The synthetic world's records: companies, people, what each provider knows, and the ground truth.

Plain frozen data: generation lives in generate.py / knowledge.py / showcase.py, lookups in world.py, and
the fake providers only read these records. Fields prefixed `hunter_` or named `perplexity`/`search_pages`
are what a provider *believes*; the rest is the truth a benchmark scores against.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from enrich_tools.simulator.names import Spelling

Kind = Literal["indexed", "dm_unindexed", "accept_all", "no_mx", "generic_only", "unknown"]
DomainClass = Literal[Kind, "webmail", "disposable", "nonexistent"]
AnswerLabel = Literal["current", "former", "misattributed", "hallucinated"]


@dataclass(frozen=True)
class Person:
    """One person who works (or worked) at a company.

    `email` is the real mailbox (None when the company gives staff no personal mailbox). `left_company`
    people are stale: Hunter may still list them, but their mailbox no longer exists. `is_decision_maker`
    describes the role they hold or held; ground truth counts only current ones.
    """

    first_name: str
    last_name: str  # "" for people known by one name
    position: str
    seniority: Literal["junior", "senior", "executive"]
    department: str
    email: str | None
    is_decision_maker: bool
    indexed_by_hunter: bool
    hunter_confidence: int  # 0 when not indexed
    hunter_verified_on: date | None  # the last verification Hunter holds; shown only if < 30 days old
    claimed: bool  # opted out of Hunter: every Hunter call about this address answers 451
    left_company: bool
    middle_name: str | None = None
    gender: Literal["m", "f"] = "m"
    follows_pattern: bool = True  # False for exceptions (name collisions "john.smith2", odd formats)
    findable_by_hunter: bool = True  # Email Finder's pattern + SMTP probe finds them even when not indexed
    hunter_has_position: bool = True  # Hunter rows without a position (seniority/department null too)
    linkedin_url: str | None = None

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


@dataclass(frozen=True)
class SearchPage:
    """A page the Perplexity fake's web search can return for a company."""

    url: str
    title: str
    snippet: str
    published: date | None = None


@dataclass(frozen=True)
class PerplexityAnswer:
    """One person Perplexity names as a decision-maker, with the labels a benchmark needs.

    `label`: current (a real current decision-maker), former (left the company), misattributed (a real
    employee who is not a decision-maker), hallucinated (nobody by that name works there). `cited` is true
    when `source_url` is among the company's `search_pages`, i.e. the search result backs the claim.
    """

    name: str
    title: str
    source_url: str | None
    label: AnswerLabel
    cited: bool


@dataclass(frozen=True)
class Company:
    domain: str
    name: str
    kind: Kind
    country: str
    culture: str
    pattern: str  # the real address format, Hunter-style
    pattern_known_to_hunter: bool  # Domain Search returns `pattern` only when true
    accept_all: bool
    has_mx: bool
    people: tuple[Person, ...]
    generic_mailboxes: tuple[str, ...]  # full addresses (info@..., contact@...) that really exist
    transliteration: Spelling
    perplexity: tuple[PerplexityAnswer, ...]  # empty: Perplexity does not know the company
    search_pages: tuple[SearchPage, ...]
    showcase: bool = False

    @property
    def current_people(self) -> tuple[Person, ...]:
        return tuple(p for p in self.people if not p.left_company)

    @property
    def decision_makers(self) -> tuple[Person, ...]:
        return tuple(p for p in self.people if p.is_decision_maker and not p.left_company)

    @property
    def generic_indexed_by_hunter(self) -> bool:
        return self.kind not in ("unknown", "no_mx")


@dataclass(frozen=True)
class Truth:
    """What is really true about a domain, for scoring. Sets hold lower-case addresses."""

    domain: str
    kind: DomainClass
    decision_maker_emails: frozenset[str]  # current decision-makers' real mailboxes (claimed ones too)
    mailboxes: frozenset[str]  # every address that exists; on accept-all domains still only the real ones
    claimed_emails: frozenset[str]  # real but opted out of Hunter: must never be stored
    accept_all: bool
    has_mx: bool
    pattern: str | None
    pattern_known_to_hunter: bool
    decision_maker_names: tuple[str, ...]


@dataclass(frozen=True)
class SimLead:
    """A benchmark input row; `true_domain`/`person_email` are answers, not to be fed to the engine."""

    external_id: str
    domain: str
    company_name: str | None
    first_name: str | None
    last_name: str | None
    true_domain: str | None = None  # the normalised domain, None when the input is not a domain at all
    person_email: str | None = None  # the named person's current mailbox, when they have one
