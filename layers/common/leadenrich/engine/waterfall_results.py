"""A lead's `EnrichmentResult` from what its run found: the status, the reason and when to try again.

`found` needs a verified address; addresses that could not be verified make the lead `risky`; an `unknown`
verdict with nothing better defers it with its addresses; provider problems defer or fail it by outcome
(docs/engine.md, "Lead statuses" and "Statuses and provider outcomes").
"""

from __future__ import annotations

import logging

from leadenrich.engine.budget import BudgetReached
from leadenrich.engine.cache import ResultCache
from leadenrich.engine.models import EmailStatus, EnrichmentResult, FoundEmail, Lead, LeadStatus, Usage
from leadenrich.engine.providers.outcomes import Outcome, ProviderProblem
from leadenrich.engine.waterfall_run import LeadRun

UNKNOWN_RETRY_AFTER = 600.0  # Hunter: an "unknown" verification is worth repeating after a few minutes
PROBLEM_RETRY_AFTER = 30.0  # when a provider that asks to be called later does not say when


async def conclude(
    cache: ResultCache, run: LeadRun, person_key: str, emails: list[FoundEmail]
) -> EnrichmentResult:
    """The result of a run that went to the end; "nothing found" is remembered only when it is final."""
    if not emails and run.inconclusive:
        # The addresses verified `unknown` travel with the deferral: when no try is left, the runtime
        # keeps them as a `risky` result (EnrichmentResult.settled) rather than nothing.
        return result(
            run.lead,
            run.domain,
            LeadStatus.DEFERRED,
            emails=run.unverified,
            usage=run.usage,
            retry_after=UNKNOWN_RETRY_AFTER,
            reason="verification inconclusive (unknown); worth another try in a few minutes",
        )
    if not emails and not run.partial:
        reason = _nothing_found(run)
        for key in {person_key, ""}:  # the domain flow ran for named leads too
            await cache.put_nothing_found(run.domain, key, reason)
    return finish(run, emails, None)


def finish(run: LeadRun, emails: list[FoundEmail], reason: str | None) -> EnrichmentResult:
    if not emails:
        return result(
            run.lead,
            run.domain,
            LeadStatus.NOT_FOUND,
            usage=run.usage,
            reason=reason or _nothing_found(run),
        )
    # `found` means a verified address; only unverifiable ones (a catch-all domain) make the lead risky.
    verified = any(e.status is EmailStatus.ACTIVE for e in emails)
    return result(
        run.lead,
        run.domain,
        LeadStatus.FOUND if verified else LeadStatus.RISKY,
        emails=emails,
        usage=run.usage,
        reason=run.fallback_note,
    )


def _nothing_found(run: LeadRun) -> str:
    return "no decision-maker address found" + (f" ({'; '.join(run.notes)})" if run.notes else "")


def budget_result(run: LeadRun, reached: BudgetReached) -> EnrichmentResult:
    """A lead stopped before a paid call by a spend cap: deferred without an attempt charged, with what it
    spent and the addresses it holds so far (verified `unknown`). Every paid answer it got is cached, so
    the run that resumes it, once the cap is raised, pays for none of them again."""
    return result(
        run.lead,
        run.domain,
        LeadStatus.DEFERRED,
        emails=run.unverified,
        usage=run.usage,
        reason=f"budget_reached: {reached.scope}",
        retry_after=0.0,
        attempt_consumed=False,
        budget_reached=True,
    )


def problem_result(run: LeadRun, problem: ProviderProblem) -> EnrichmentResult:
    if problem.outcome in (Outcome.THROTTLED, Outcome.PENDING, Outcome.TRANSIENT):
        # A rate-limit answer is the provider saying "not now", not a failed try, and it is not billed:
        # the item goes back without an attempt charged, after what the provider asked for.
        return result(
            run.lead,
            run.domain,
            LeadStatus.DEFERRED,
            usage=run.usage,
            reason=str(problem),
            retry_after=problem.retry_after if problem.retry_after is not None else PROBLEM_RETRY_AFTER,
            attempt_consumed=problem.outcome is not Outcome.THROTTLED,
        )
    return result(run.lead, run.domain, LeadStatus.FAILED, usage=run.usage, reason=str(problem))


UNEXPECTED_RETRY_AFTER = 60.0  # a bug or a body nobody foresaw: the lead is tried again a minute later


def unexpected_result(lead: Lead, exc: Exception, log: logging.Logger) -> EnrichmentResult:
    """What a lead (or an address to verify) comes to when the engine raised: deferred and retried, never
    lost. Logged with the error's type and where it was raised, never its text (it may quote a body)."""
    where = exc.__traceback__
    while where is not None and where.tb_next is not None:
        where = where.tb_next
    location = f"{where.tb_frame.f_code.co_filename}:{where.tb_lineno}" if where else "?"
    log.error("unexpected error", extra={"error": type(exc).__name__, "where": location})
    return result(
        lead,
        lead.domain,
        LeadStatus.DEFERRED,
        reason=f"unexpected error ({type(exc).__name__}); will be retried",
        retry_after=UNEXPECTED_RETRY_AFTER,
    )


def result(
    lead: Lead,
    domain: str,
    status: LeadStatus,
    *,
    emails: list[FoundEmail] | None = None,
    reason: str | None = None,
    usage: Usage | None = None,
    retry_after: float | None = None,
    attempt_consumed: bool = True,
    budget_reached: bool = False,
) -> EnrichmentResult:
    return EnrichmentResult(
        domain=domain,
        status=status,
        emails=emails or [],
        reason=reason,
        usage=usage or Usage(),
        retry_after=retry_after,
        attempt_consumed=attempt_consumed,
        external_id=lead.external_id,
        budget_reached=budget_reached,
    )
