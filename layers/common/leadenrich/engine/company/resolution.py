"""Finding a lead's domain from its company name, and saying how sure that is.

Exported lists often carry a company name and no website. Before the waterfall can search anyone, the name
must become one domain; a wrong one would be worse than none (addresses of another company, paid for and
sent to), so the rules refuse to guess:

- candidates are the companies the directory answers for the name (Hunter Discover, free), each scored
  against the name (`names.name_score`); those under `MATCH_MIN` are not the company asked for;
- none left: the name is `unknown` (Domain Search with `company=`, Hunter's own fuzzier match, is asked
  next by `CompanySteps.resolve`, and its answer scored the same way);
- one domain left, or one whose score leads every other by more than `AMBIGUITY_MARGIN`: `resolved`, with
  that score as the match's confidence;
- several domains within the margin of the best (two companies sharing a brand, "Acme" matching "Acme
  Robotics" and "Acme Foods" alike): `ambiguous`, reported with the candidates, never guessed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from leadenrich.engine.company.names import name_score

MATCH_MIN = 80  # a candidate scoring less is another company
AMBIGUITY_MARGIN = 10  # a rival this close to the best makes the name ambiguous
MAX_REPORTED = 5  # candidates kept on an ambiguous resolution (the reason lists them)


class ResolutionStatus(StrEnum):
    RESOLVED = "resolved"
    AMBIGUOUS = "ambiguous"
    UNKNOWN = "unknown"


class ResolutionMethod(StrEnum):
    DISCOVER = "discover"  # Hunter Discover's company list, filtered by name
    DOMAIN_SEARCH = "domain_search"  # Hunter Domain Search with `company=` (Hunter chose the company)


@dataclass(frozen=True)
class Candidate:
    domain: str
    name: str
    score: int  # name_score against the lead's company name


@dataclass(frozen=True)
class DomainResolution:
    """How a name-only lead got its domain, or why it did not."""

    company_name: str  # as the lead gave it
    status: ResolutionStatus
    method: ResolutionMethod | None = None
    domain: str | None = None  # set when resolved
    confidence: int = 0  # 0-100: the matched name's score; 0 unless resolved
    matched_name: str | None = None  # the provider's name of the company matched
    candidates: tuple[Candidate, ...] = ()  # the rivals of an ambiguous name, best first

    @property
    def reason(self) -> str:
        """Why the lead ends without a domain (ambiguous or unknown), naming what to do."""
        name = self.company_name
        if self.status is ResolutionStatus.AMBIGUOUS:
            listed = ", ".join(f"{c.domain} ({c.name})" for c in self.candidates)
            return (
                f"company_ambiguous: {name!r} matches {len(self.candidates)} companies: {listed}; "
                "give the lead's domain"
            )
        if self.status is ResolutionStatus.UNKNOWN:
            return f"company_unknown: no company named {name!r} was found; give the lead's domain"
        return f"domain {self.domain} resolved from {name!r} (confidence {self.confidence})"

    def as_record(self) -> dict[str, Any]:
        return {
            "company_name": self.company_name,
            "status": self.status.value,
            "method": self.method.value if self.method else None,
            "domain": self.domain,
            "confidence": self.confidence,
            "matched_name": self.matched_name,
            "candidates": [{"domain": c.domain, "name": c.name, "score": c.score} for c in self.candidates],
        }

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> DomainResolution | None:
        """From `as_record`'s shape (a cache entry); None when it is not one."""
        try:
            candidates = tuple(
                Candidate(str(c["domain"]), str(c["name"]), int(c["score"]))
                for c in record.get("candidates") or []
            )
            method = record.get("method")
            return cls(
                company_name=str(record["company_name"]),
                status=ResolutionStatus(record["status"]),
                method=ResolutionMethod(method) if method else None,
                domain=record.get("domain") or None,
                confidence=int(record.get("confidence") or 0),
                matched_name=record.get("matched_name") or None,
                candidates=candidates,
            )
        except (KeyError, TypeError, ValueError):
            return None


def decide(company_name: str, found: Iterable[tuple[str, str]], method: ResolutionMethod) -> DomainResolution:
    """The resolution of `company_name` from (domain, provider's name) pairs (see the module docstring)."""
    best_by_domain: dict[str, Candidate] = {}
    for domain, name in found:
        domain = domain.strip().lower()
        if not domain or not name:
            continue
        candidate = Candidate(domain, name, name_score(company_name, name))
        kept = best_by_domain.get(domain)
        if kept is None or candidate.score > kept.score:
            best_by_domain[domain] = candidate
    matching = sorted(
        (c for c in best_by_domain.values() if c.score >= MATCH_MIN),
        key=lambda c: (-c.score, c.domain),
    )
    if not matching:
        return DomainResolution(company_name, ResolutionStatus.UNKNOWN, method)
    best = matching[0]
    rivals = [c for c in matching if c.score >= best.score - AMBIGUITY_MARGIN]
    if len(rivals) > 1:
        return DomainResolution(
            company_name, ResolutionStatus.AMBIGUOUS, method, candidates=tuple(rivals[:MAX_REPORTED])
        )
    return DomainResolution(
        company_name,
        ResolutionStatus.RESOLVED,
        method,
        domain=best.domain,
        confidence=best.score,
        matched_name=best.name,
    )


__all__ = [
    "AMBIGUITY_MARGIN",
    "MATCH_MIN",
    "Candidate",
    "DomainResolution",
    "ResolutionMethod",
    "ResolutionStatus",
    "decide",
]
