"""Terse constructors for the hand-written showcase companies: the `Person` and `Company` fields that
follow from a few choices (indexed when Hunter has a confidence, the pattern known for the kinds Hunter has
crawled, addresses on the company's domain), so each entry states only what makes it a showcase.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

from enrich_tools.simulator.entities import Company, Kind, PerplexityAnswer, Person, SearchPage
from enrich_tools.simulator.names import Spelling

_STRIP = Spelling()


def person(
    as_of: date,
    domain: str | None,
    name: tuple[str, str],
    position: str,
    seniority: Literal["junior", "senior", "executive"],
    department: str,
    local: str,
    *,
    dm: bool = False,
    confidence: int = 0,
    verified_days_ago: int | None = None,
    claimed: bool = False,
    left: bool = False,
    follows: bool = True,
    gender: Literal["m", "f"] = "m",
) -> Person:
    return Person(
        first_name=name[0],
        last_name=name[1],
        position=position,
        seniority=seniority,
        department=department,
        email=f"{local}@{domain}" if domain else None,
        is_decision_maker=dm,
        indexed_by_hunter=confidence > 0,
        hunter_confidence=confidence,
        hunter_verified_on=None if verified_days_ago is None else as_of - timedelta(days=verified_days_ago),
        claimed=claimed,
        left_company=left,
        gender=gender,
        follows_pattern=follows,
        findable_by_hunter=follows,
    )


def company(
    domain: str,
    name: str,
    kind: Kind,
    country: str,
    culture: str,
    pattern: str,
    people: list[Person],
    generics: tuple[str, ...],
    answers: list[PerplexityAnswer],
    pages: list[SearchPage],
    spelling: Spelling = _STRIP,
) -> Company:
    return Company(
        domain=domain,
        name=name,
        kind=kind,
        country=country,
        culture=culture,
        pattern=pattern,
        pattern_known_to_hunter=kind in ("indexed", "dm_unindexed", "accept_all"),
        accept_all=kind == "accept_all",
        has_mx=True,
        people=tuple(people),
        generic_mailboxes=tuple(f"{g}@{domain}" for g in generics),
        transliteration=spelling,
        perplexity=tuple(answers),
        search_pages=tuple(pages),
        showcase=True,
    )
