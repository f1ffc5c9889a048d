"""The naive baseline: the waterfall as the original design (seed 000) describes it, for comparison.

Domain Search (unfiltered, one page); keep rows with confidence > 70, role-based people first; when no
personal row is left, ask Perplexity for one decision-maker's name, build the six original permutations
and verify all six, keeping those valid with score > 80 on a domain that is not accept-all. No pattern, no
Email Finder, no cache, no early stop: every lead pays its own way. It shares only the HTTP clients with
the engine, so both are measured on the same wire.
"""

from __future__ import annotations

import unicodedata

from leadenrich.deadline import Deadline
from leadenrich.engine.models import (
    Deliverability,
    EmailSource,
    EmailStatus,
    EmailType,
    EnrichmentResult,
    FoundEmail,
    HunterStatus,
    Lead,
    LeadStatus,
    Method,
)
from leadenrich.engine.providers.hunter import HunterClient
from leadenrich.engine.providers.outcomes import ProviderProblem
from leadenrich.engine.providers.perplexity import PerplexityClient
from leadenrich.engine.ranking import decision_tier, is_generic_address

SIX = ("{first}.{last}", "{f}.{last}", "{first}", "{last}", "{first}.{l}", "{f}{last}")


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if c.isascii() and c.isalnum())


class NaiveEnricher:
    def __init__(
        self, hunter: HunterClient, perplexity: PerplexityClient, verification_credit: float = 1.0
    ) -> None:
        self.hunter = hunter
        self.perplexity = perplexity
        self.verification_credit = verification_credit

    async def enrich(self, lead: Lead) -> EnrichmentResult:
        domain = lead.domain.strip().lower()
        result = EnrichmentResult(domain=domain, status=LeadStatus.NOT_FOUND, external_id=lead.external_id)
        deadline = Deadline.after(120)
        try:
            result.usage.hunter.calls += 1
            search = await self.hunter.domain_search(domain, deadline=deadline)
            result.usage.hunter.credits += search.credits
            rows = [r for r in search.emails if (r.confidence or 0) > 70]
            rows.sort(key=lambda r: (is_generic_address(r.value), decision_tier(r.position, r.seniority)))
            personal = [r for r in rows if not is_generic_address(r.value)]
            if personal:
                for i, row in enumerate(personal):
                    result.emails.append(
                        FoundEmail(
                            email=row.value.lower(),
                            source=EmailSource.HUNTER_DIRECT,
                            confidence_score=row.confidence or 0,
                            email_type=EmailType.PRIMARY if i == 0 else EmailType.SECONDARY,
                            hunter_status=HunterStatus.UNKNOWN,
                            status=EmailStatus.ACTIVE,
                            verified_at=None,
                            method=Method.DOMAIN_SEARCH,
                            deliverability=Deliverability.UNKNOWN,
                        )
                    )
            else:
                result.usage.perplexity.calls += 1
                answer = await self.perplexity.find_decision_makers(
                    domain, lead.company_name, deadline=deadline
                )
                result.usage.perplexity.cost_usd += answer.cost_usd
                if answer.people:
                    tokens = answer.people[0].name.split()
                    first, last = _fold(tokens[0]), _fold(tokens[-1]) if len(tokens) > 1 else ""
                    for pattern in SIX:
                        local = (
                            pattern.replace("{first}", first)
                            .replace("{last}", last)
                            .replace("{f}", first[:1])
                            .replace("{l}", last[:1])
                        )
                        if not local or not last:
                            continue
                        email = f"{local}@{domain}"
                        result.usage.hunter.calls += 1
                        try:
                            verdict = await self.hunter.email_verifier(email, deadline=deadline)
                        except ProviderProblem:
                            continue
                        result.usage.hunter.credits += verdict.credits(self.verification_credit)
                        if verdict.status == "valid" and (verdict.score or 0) > 80 and not search.accept_all:
                            result.emails.append(
                                FoundEmail(
                                    email=email,
                                    source=EmailSource.PERPLEXITY_GENERATED,
                                    confidence_score=verdict.score or 0,
                                    email_type=EmailType.SECONDARY if result.emails else EmailType.PRIMARY,
                                    hunter_status=HunterStatus.DELIVERABLE,
                                    status=EmailStatus.ACTIVE,
                                    verified_at=None,
                                    method=Method.PERMUTATION,
                                    deliverability=Deliverability.VERIFIED,
                                )
                            )
                if not result.emails:
                    generic = [r for r in rows if is_generic_address(r.value)]
                    if generic:
                        row = generic[0]
                        result.emails.append(
                            FoundEmail(
                                email=row.value.lower(),
                                source=EmailSource.HUNTER_DIRECT,
                                confidence_score=row.confidence or 0,
                                email_type=EmailType.SECONDARY,
                                hunter_status=HunterStatus.UNKNOWN,
                                status=EmailStatus.ACTIVE,
                                verified_at=None,
                                method=Method.GENERIC,
                                deliverability=Deliverability.UNKNOWN,
                            )
                        )
        except ProviderProblem as problem:
            result.status, result.reason = LeadStatus.FAILED, str(problem)
            return result
        if result.emails:
            result.status = LeadStatus.FOUND
        return result
