"""Verification jobs: one address in, Hunter's verdict on it out, graded the way the waterfall grades it.

A verification job's items are leads that carry one address (`Lead.email`). `Verifier.enrich` has the
processor's `LeadEnricher` shape, so the same processor, queue, retries, counters, costs and callbacks
serve both kinds of job (docs/verification.md).

The verdict comes through the waterfall's `PaidCalls`, shared with the process's `Enricher`
(`Verifier.beside`): the same cache (a verdict the waterfall paid for is free here, and the other way
round), single flight, rate limiter, spend gate, 451 -> "opted out" (cached, never stored or returned), and
401/402 switching Hunter off for the process. Unlike the waterfall, no domain rule is applied before the
call: a webmail address is a person's address, and Hunter's answer on it is what the caller asked for. The
suppression lists are (`engine.screen`): an address, or a domain, on the workspace's list or the
service-wide one is `not_found`, reason `suppressed: ...`, with no call; a 451 puts the address on the
service-wide list.

How Hunter's answer becomes a result (docs/verification.md, "The result"):

| Hunter `status`               | hunter_status | deliverability                  | status   | the item   |
|-------------------------------|---------------|---------------------------------|----------|------------|
| valid, score above 80         | deliverable   | verified                        | active   | found      |
| valid, score 80 or less       | deliverable   | unknown                         | inactive | risky      |
| accept_all (or accept_all set)| risky         | high_probability or catch_all   | inactive | risky      |
| webmail                       | risky         | unknown                         | inactive | risky      |
| unknown (and anything else)   | unknown       | unknown                         | inactive | deferred   |
| invalid                       | undeliverable | undeliverable                   | inactive | invalid    |
| disposable                    | risky         | undeliverable                   | inactive | invalid    |
| 451 (opted out)               | -             | - (the address is not returned) | -        | not_found  |
| (suppressed: no call)         | -             | - (the address is not returned) | -        | not_found  |

A catch-all verdict is graded by Hunter's own sighting of the address (`deliverability.catch_all_grade`,
the waterfall's `Addresses.on_catch_all`). An `unknown` verdict defers the item for a few minutes with the
address; on its last attempt the runtime keeps it as `risky` (`EnrichmentResult.settled`), as the
waterfall does. Provider problems map as in the waterfall (`waterfall_results.problem_result`): 202,
throttling, 5xx and timeouts defer; a refused key or a spent quota fails; Hunter's 400 `invalid_email` is
`invalid`.

The address's `score` is `confidence_score` (Hunter's score; 0 when Hunter gave none), `contact` is
`generic` for a role address (info@...) and `named_person` otherwise. Provenance has no value of its own
for an address the caller gave (the stored vocabulary is the waterfall's, and Supabase's `emails.source`
is constrained to it): `source` is `hunter_direct` (the verdict is Hunter's, nothing was generated), and
`method` is `generic` for a role address, `email_finder` otherwise.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from leadenrich.deadline import Deadline
from leadenrich.engine.budget import BudgetReached, SpendGate
from leadenrich.engine.models import (
    Contact,
    Deliverability,
    EmailSource,
    EmailStatus,
    EnrichmentResult,
    FoundEmail,
    HunterStatus,
    Lead,
    LeadStatus,
    Method,
    Provider,
    normalize_email,
)
from leadenrich.engine.paid_calls import PaidCalls
from leadenrich.engine.providers.hunter_models import OPTED_OUT, VerifierResult
from leadenrich.engine.providers.outcomes import DeadlineReached, Outcome, ProviderProblem
from leadenrich.engine.ranking import is_generic_address
from leadenrich.engine.redaction import redact_email, redact_text
from leadenrich.engine.screen import SUPPRESSED, Address, Domain, Screen, suppressed
from leadenrich.engine.waterfall import Enricher
from leadenrich.engine.waterfall_addresses import Addresses, found_email, with_changes
from leadenrich.engine.waterfall_results import (
    UNKNOWN_RETRY_AFTER,
    budget_result,
    problem_result,
    result,
    unexpected_result,
)
from leadenrich.engine.waterfall_run import LeadRun
from leadenrich.engine.waterfall_settings import WaterfallSettings

__all__ = ["Verifier"]

log = logging.getLogger(__name__)


class Verifier:
    """Verifies one address per lead. One per process, beside the `Enricher` whose paid calls it shares."""

    def __init__(
        self,
        calls: PaidCalls,
        settings: WaterfallSettings | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.calls = calls
        self.settings = settings or WaterfallSettings()
        self.clock = clock
        self.addresses = Addresses(calls, self.settings, clock)

    @classmethod
    def beside(cls, enricher: Enricher) -> Verifier:
        """A verifier on the enricher's paid calls: one cache, one limiter, one set of switched-off
        providers and one single flight for both kinds of job in the process."""
        return cls(enricher.calls, enricher.settings, enricher.clock)

    async def enrich(
        self,
        lead: Lead,
        deadline: Deadline | None = None,
        budget: SpendGate | None = None,
        screen: Screen | None = None,
    ) -> EnrichmentResult:
        """The verdict on `lead.email` (the processor's `LeadEnricher` call, hence the name)."""
        try:
            verified = await self._verify(lead, deadline or Deadline.unbounded(), budget, screen)
        except Exception as exc:  # a bug or an odd answer must not lose the item: it is tried again
            verified = unexpected_result(lead, exc, log)
        # One line per address, never the address itself (engine/redaction.py).
        log.info(
            "address verified",
            extra={
                "address": redact_email(lead.email or ""),
                "status": verified.status.value,
                "hunter_calls": verified.usage.hunter.calls,
                "hunter_credits": verified.usage.hunter.credits,
                "reason": redact_text(verified.reason or ""),
            },
        )
        return verified

    async def _verify(
        self, lead: Lead, deadline: Deadline, budget: SpendGate | None, screen: Screen | None
    ) -> EnrichmentResult:
        if not lead.email:
            return result(lead, lead.domain, LeadStatus.INVALID, reason="email: no address to verify")
        try:
            email = normalize_email(lead.email)
        except ValueError as exc:
            return result(lead, lead.domain, LeadStatus.INVALID, reason=f"email: {exc}")
        domain = email.rpartition("@")[2]
        if await suppressed(screen, [Address(email), Domain(domain)]):
            reason = f"{SUPPRESSED}: the address or its domain is on a suppression list; not verified"
            return result(lead, domain, LeadStatus.NOT_FOUND, reason=reason)
        if Provider.HUNTER in self.calls.disabled:
            return result(lead, domain, LeadStatus.FAILED, reason=self.calls.disabled[Provider.HUNTER])
        run = LeadRun(lead=lead, domain=domain, deadline=deadline, budget=budget, screen=screen)
        try:
            verdict = await self.calls.verification(run, email)
        except BudgetReached as reached:
            return budget_result(run, reached)
        except DeadlineReached:
            return result(
                lead,
                domain,
                LeadStatus.DEFERRED,
                reason="time budget ran out before the verification",
                usage=run.usage,
                retry_after=0.0,
                attempt_consumed=False,
            )
        except ProviderProblem as problem:
            if problem.outcome is Outcome.PERMANENT and problem.http_status == 400:
                reason = f"Hunter does not accept the address ({problem.error_id or 'bad request'})"
                return result(lead, domain, LeadStatus.INVALID, reason=reason, usage=run.usage)
            return problem_result(run, problem)
        if verdict.status == OPTED_OUT and screen is not None:
            await screen.opted_out(address=Address(email))  # service-wide: no job of any workspace asks again
        return self._graded(run, email, verdict)

    def _graded(self, run: LeadRun, email: str, verdict: VerifierResult) -> EnrichmentResult:
        """Hunter's verdict as a result: the table in the module docstring."""
        lead, domain, usage = run.lead, run.domain, run.usage
        status = verdict.status
        if status == OPTED_OUT:
            reason = f"{redact_email(email)}: its owner asked Hunter not to process it (451); not returned"
            return result(lead, domain, LeadStatus.NOT_FOUND, reason=reason, usage=usage)
        score = verdict.score or 0
        if status == "accept_all" or verdict.accept_all:
            graded = self.addresses.on_catch_all(
                run, email, EmailSource.HUNTER_DIRECT, score, Method.EMAIL_FINDER, None, None, verdict.sources
            )
            reason = "catch-all domain: the server accepts any address, so none can be verified"
            return self._one(run, graded, LeadStatus.RISKY, reason)
        if status == "valid" and score > self.settings.active_min_score:
            verified = self._address(
                email, score, HunterStatus.DELIVERABLE, Deliverability.VERIFIED, verdict.checked_at
            )
            return self._one(run, verified, LeadStatus.FOUND, None)
        if status == "valid":
            unsure = self._address(email, score, HunterStatus.DELIVERABLE, Deliverability.UNKNOWN)
            needed = self.settings.active_min_score
            reason = f"Hunter says valid, with a score of {score} (active needs above {needed})"
            return self._one(run, unsure, LeadStatus.RISKY, reason)
        if status == "webmail":
            webmail = self._address(email, score, HunterStatus.RISKY, Deliverability.UNKNOWN)
            return self._one(run, webmail, LeadStatus.RISKY, "webmail address: its mailbox cannot be checked")
        if status in ("invalid", "disposable"):
            hunter_status = HunterStatus.UNDELIVERABLE if status == "invalid" else HunterStatus.RISKY
            bounced = self._address(email, score, hunter_status, Deliverability.UNDELIVERABLE)
            reason = "Hunter says it does not exist" if status == "invalid" else "a disposable mailbox"
            return self._one(run, bounced, LeadStatus.INVALID, reason)
        # `unknown` (the mail server would not say), or a status Hunter added since: worth another try
        # in a few minutes; on the last try it is kept as `risky` (EnrichmentResult.settled).
        unknown = self._address(email, score, HunterStatus.UNKNOWN, Deliverability.UNKNOWN)
        return result(
            lead,
            domain,
            LeadStatus.DEFERRED,
            emails=[unknown],
            usage=usage,
            retry_after=UNKNOWN_RETRY_AFTER,
            reason=f"verification inconclusive ({status or 'no status'}); worth another try in a few minutes",
        )

    def _address(
        self,
        email: str,
        score: int,
        hunter_status: HunterStatus,
        deliverability: Deliverability,
        checked_at: datetime | None = None,
    ) -> FoundEmail:
        """The address with its verdict; `verified_at` only for a verified one (the time of the verdict,
        kept with it in the cache, so a reused verdict keeps its own time)."""
        verified = deliverability is Deliverability.VERIFIED
        return found_email(
            email,
            EmailSource.HUNTER_DIRECT,
            score,
            hunter_status,
            EmailStatus.ACTIVE if verified else EmailStatus.INACTIVE,
            (checked_at or self.clock()) if verified else None,
            Method.EMAIL_FINDER,
            None,
            None,
            deliverability=deliverability,
        )

    @staticmethod
    def _one(run: LeadRun, email: FoundEmail, status: LeadStatus, reason: str | None) -> EnrichmentResult:
        """A final result with the one address, marked as whom it reaches (a role address or a person)."""
        if is_generic_address(email.email):
            marked = with_changes(email, contact=Contact.GENERIC, method=Method.GENERIC)
        else:
            marked = with_changes(email, contact=Contact.NAMED_PERSON)
        return result(run.lead, run.domain, status, emails=[marked], reason=reason, usage=run.usage)
