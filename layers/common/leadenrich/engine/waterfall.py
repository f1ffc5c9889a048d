"""The enrichment waterfall: one lead in, verified decision-maker addresses out, for the fewest paid calls.

Order of work for a domain-only lead (architecture.md, "The enrichment waterfall"):
1. normalise the domain; webmail, disposable and malformed domains end `invalid` for zero credits;
2. Hunter Domain Search filtered to personal executive rows: a filtered search that matches nobody is
   free, yet still returns the domain's facts (pattern, accept-all), which step 4 lives on;
3. decision-maker rows ranked by title; rows Hunter verified recently with high confidence are taken as
   they are, the others verified one at a time until the first deliverable one;
4. otherwise Perplexity names the decision-makers, and each name becomes an address in the cheapest order:
   the domain's known pattern, then Hunter Email Finder (billed only on a hit), then ranked permutations
   verified one at a time (only for names a search result supports, when the pattern is unknown, and
   never on accept-all domains);
5. otherwise a generic role address (info@...) as a secondary, last-resort contact.

A lead that names a person goes to that person first, and falls back to the decision-makers when they
are not found. Paid answers come through `paid_calls.PaidCalls`, which caches them and makes concurrent
askers share one call, so a retried or repeated lead pays nothing twice. Provider problems are mapped to
the lead's status: waiting answers (202, throttling, 5xx, timeouts) defer it, quota or credential
failures fail it, 451 drops the address for good.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from leadenrich.deadline import Deadline
from leadenrich.engine.cache import ResultCache
from leadenrich.engine.candidates import infer_pattern, ranked_candidates
from leadenrich.engine.deliverability import catch_all_grade
from leadenrich.engine.domains import DomainError, is_disposable, is_webmail, normalize_domain
from leadenrich.engine.models import (
    Contact,
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
    Provider,
    Usage,
)
from leadenrich.engine.names import PersonName, parse_person_name, person_from_parts
from leadenrich.engine.paid_calls import NotAMailDomain, PaidCalls, SearchQuery, Tab
from leadenrich.engine.providers.http import redact_email, redact_text
from leadenrich.engine.providers.hunter import (
    OPTED_OUT,
    DomainEmail,
    DomainSearch,
    HunterClient,
    Source,
    Verification,
    VerifierResult,
)
from leadenrich.engine.providers.outcomes import DeadlineReached, Outcome, ProviderProblem
from leadenrich.engine.providers.perplexity import PerplexityClient
from leadenrich.engine.ranking import NOT_A_DECISION_MAKER, decision_tier, is_generic_address
from leadenrich.engine.ratelimit import RateLimiter

log = logging.getLogger(__name__)


# Decision-makers are "executive" in Hunter's seniority; "senior" rows are managers and senior staff, and a
# page of them costs a credit for nothing we would use.
PERSONAL_QUERY = SearchQuery("personal", "executive")
GENERIC_QUERY = SearchQuery("generic")
UNKNOWN_RETRY_AFTER = 600.0  # Hunter: an "unknown" verification is worth repeating after a few minutes


@dataclass(frozen=True)
class WaterfallSettings:
    # A Domain Search row must be more confident than this to be used at all (the original design's 70%).
    min_row_confidence: int = 70
    # Rows Hunter itself verified as valid within `trusted_verification_days` with at least this confidence
    # are deliverable without a second verification. Why 90: Hunter's help centre calls 90-95+ a high
    # chance of deliverability, and Hunter's own MCP server skips re-verification at exactly this mark; why
    # 30 days: Hunter only shows verifications younger than about a month.
    trusted_row_confidence: int = 90
    trusted_verification_days: int = 30
    # A verified address is `active` only when valid with a score above this (architecture.md step 5).
    active_min_score: int = 80
    max_verifications_per_lead: int = 6
    # first.last and first (see candidates.py), tried only after the domain's pattern and Email Finder both
    # failed to give an address. Measured (docs/benchmarks.md, issue 11): the third and fourth formats found
    # no lead on two simulated worlds that no other path found, for 27-38 credits per 300 leads.
    max_permutations: int = 2
    # Perplexity names that may get permutations: the first (sourced, most senior) only. The others still
    # get the domain's pattern and Email Finder (billed only on a hit); measured, their permutations
    # found nothing the first name's did not, for 4-22 credits per 300 leads.
    permuted_names: int = 1
    max_names: int = 3
    max_addresses: int = 3
    # Credits one billed verification costs: 1 on Data-Platform plans, 0.5 on All-in-one plans.
    verification_credit: float = 1.0


@dataclass(kw_only=True)
class _Run(Tab):
    """What one lead's pass through the waterfall has learnt and spent so far."""

    lead: Lead
    domain: str
    pattern: str | None = None
    accept_all: bool = False
    tried: set[str] = field(default_factory=set)
    inconclusive: bool = False  # some candidate verified "unknown": worth another try later
    fallback_note: str | None = None  # a named person was not found and the domain flow ran instead
    opted_out: set[str] = field(default_factory=set)  # people (full names, lowercase) who answered 451
    unverified: list[FoundEmail] = field(default_factory=list)  # verified `unknown`: kept if nothing better


class Enricher:
    """Runs the waterfall. One instance per process: it also remembers providers that must not be called."""

    def __init__(
        self,
        hunter: HunterClient,
        perplexity: PerplexityClient | None,
        cache: ResultCache,
        settings: WaterfallSettings | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        limiter: RateLimiter | None = None,
    ) -> None:
        self.cache = cache
        self.settings = settings or WaterfallSettings()
        self.clock = clock
        self.calls = PaidCalls(
            hunter, perplexity, cache, self.settings.verification_credit, limiter, clock=clock
        )

    @property
    def perplexity(self) -> PerplexityClient | None:
        return self.calls.perplexity

    @property
    def disabled(self) -> dict[Provider, str]:
        """Providers switched off for this process (quota exhausted, key refused), with the reason."""
        return self.calls.disabled

    async def enrich(self, lead: Lead, deadline: Deadline | None = None) -> EnrichmentResult:
        try:
            result = await self._enrich(lead, deadline or Deadline.unbounded())
        except Exception as exc:  # a bug or a provider body nobody foresaw must not lose the lead
            where = exc.__traceback__
            while where is not None and where.tb_next is not None:
                where = where.tb_next
            location = f"{where.tb_frame.f_code.co_filename}:{where.tb_lineno}" if where else "?"
            log.error("unexpected error", extra={"error": type(exc).__name__, "where": location})
            result = self._result(
                lead,
                lead.domain,
                LeadStatus.DEFERRED,
                reason=f"unexpected error ({type(exc).__name__}); will be retried",
                retry_after=60.0,
            )
        # One line per lead: domain, outcome and cost. Addresses never go to logs, only their count.
        log.info(
            "lead enriched",
            extra={
                "domain": redact_text(result.domain),
                "status": result.status.value,
                "addresses": len(result.emails),
                "hunter_calls": result.usage.hunter.calls,
                "hunter_credits": result.usage.hunter.credits,
                "perplexity_calls": result.usage.perplexity.calls,
                "reason": redact_text(result.reason or ""),
            },
        )
        return result

    async def _enrich(self, lead: Lead, deadline: Deadline) -> EnrichmentResult:
        try:
            domain = normalize_domain(lead.domain)
        except DomainError as exc:
            return self._result(lead, lead.domain, LeadStatus.INVALID, reason=str(exc))
        if is_webmail(domain) or is_disposable(domain):
            kind = "webmail" if is_webmail(domain) else "disposable"
            return self._result(
                lead, domain, LeadStatus.INVALID, reason=f"{domain} is a {kind} domain, not a company's"
            )
        if Provider.HUNTER in self.disabled:
            return self._result(lead, domain, LeadStatus.FAILED, reason=self.disabled[Provider.HUNTER])

        run = _Run(lead=lead, domain=domain, deadline=deadline)
        try:
            return await self._waterfall(run)
        except NotAMailDomain as exc:
            return self._result(lead, domain, LeadStatus.INVALID, reason=str(exc), usage=run.usage)
        except DeadlineReached:
            return self._result(
                lead,
                domain,
                LeadStatus.DEFERRED,
                reason="time budget ran out before the next provider call",
                usage=run.usage,
                retry_after=0.0,
                attempt_consumed=False,
            )
        except ProviderProblem as problem:
            return self._problem_result(run, problem)

    # -- the steps ---------------------------------------------------------------------------------------

    async def _waterfall(self, run: _Run) -> EnrichmentResult:
        named = person_from_parts(run.lead.first_name, run.lead.last_name)
        person_key = named.full.lower() if named else ""
        if await self.cache.nothing_found(run.domain, person_key):
            run.usage.hunter.cache_hits += 1
            return self._finish(run, [], "nothing found recently (cached)")

        if named is not None:
            found = await self._named_person(run, named)
            if found:
                return await self._conclude(run, person_key, [_with(found, contact=Contact.NAMED_PERSON)])
            # The person may have left, or be spelt otherwise: the company's decision-makers are what a
            # salesperson wants next, and the reason says the named person was not found.
            run.notes.append(f"{named.full} not found")
            run.fallback_note = (
                f"{named.full} not found at {run.domain}; returning the company's decision-makers"
            )
            if await self.cache.nothing_found(run.domain, ""):
                return self._finish(run, [], "nothing found recently (cached)")

        search = await self._domain_search(run, PERSONAL_QUERY)
        emails = await self._from_rows(run, self._usable(search.emails))
        if not emails:
            emails = await self._from_perplexity(run)
        if not emails:
            emails = await self._generic(run)
        return await self._conclude(run, person_key, emails)

    def _usable(self, rows: list[DomainEmail]) -> list[DomainEmail]:
        return [r for r in rows if (r.confidence or 0) > self.settings.min_row_confidence]

    async def _named_person(self, run: _Run, name: PersonName) -> FoundEmail | None:
        """A named person: their Domain Search row if we hold one, else Email Finder, else their pattern.

        Email Finder comes before a fresh Domain Search here: it is billed only when it finds the person
        and includes a verification, while a search page is billed whenever it has rows, and the named
        person is often not an executive, so not on the page at all.
        """
        cached = await self.cache.domain_search(run.domain, PERSONAL_QUERY.key)
        if cached is None:
            found = await self._finder(run, name, None)
            if found or run.accept_all or name.full.lower() in run.opted_out:
                return found
        search = await self._domain_search(run, PERSONAL_QUERY)
        wanted = {(v.first, v.last) for v in name.variants()}
        for row in self._usable(search.emails):
            row_name = person_from_parts(row.first_name, row.last_name)
            if row_name and wanted & {(v.first, v.last) for v in row_name.variants()}:
                accepted = await self._accept_row(run, row, EmailType.PRIMARY)
                if accepted:
                    return accepted
        return await self._name_to_email(run, name, position=None, allow_permutations=True)

    async def _from_rows(self, run: _Run, rows: list[DomainEmail]) -> list[FoundEmail]:
        ranked = sorted(
            (r for r in rows if r.type != "generic" and not is_generic_address(r.value)),
            key=lambda r: (decision_tier(r.position, r.seniority), -(r.confidence or 0)),
        )
        ranked = [r for r in ranked if decision_tier(r.position, r.seniority) != NOT_A_DECISION_MAKER]
        emails: list[FoundEmail] = []
        for row in ranked:
            if not emails:
                primary = await self._accept_row(run, row, EmailType.PRIMARY)
                if primary:
                    emails.append(primary)
            elif len(emails) < self.settings.max_addresses and self._trusted(row):
                # Further decision-makers only when they cost nothing more to confirm.
                secondary = await self._accept_row(run, row, EmailType.SECONDARY)
                if secondary:
                    emails.append(secondary)
        return emails

    async def _from_perplexity(self, run: _Run) -> list[FoundEmail]:
        answer = await self.calls.decision_makers(run, run.domain, run.lead.company_name)
        if answer is None:
            return []
        people: list[tuple[int, bool, PersonName, str]] = []
        for person in answer.people:
            name = parse_person_name(person.name)
            if name is None:
                run.notes.append("Perplexity named something that is not a person")
                continue
            people.append((decision_tier(person.title), person.sourced, name, person.title))
        # Names a search result supports first, then by how senior the title is.
        people.sort(key=lambda p: (not p[1], p[0]))
        for rank, (_tier, sourced, name, title) in enumerate(people[: self.settings.max_names]):
            permute = sourced and rank < self.settings.permuted_names
            found = await self._name_to_email(run, name, position=title or None, allow_permutations=permute)
            if found:
                if not sourced:
                    # An unsupported name whose address nonetheless verifies: keep it, with less confidence.
                    found = _with(found, confidence_score=min(found.confidence_score, 60))
                return [found]
        return []

    async def _generic(self, run: _Run) -> list[FoundEmail]:
        search = await self._domain_search(run, GENERIC_QUERY)
        rows = sorted(
            self._usable(search.emails), key=lambda r: (_generic_rank(r.value), -(r.confidence or 0))
        )
        for row in rows[:2]:
            found = await self._accept_row(
                run, row, EmailType.SECONDARY, method=Method.GENERIC, budgeted=False
            )
            if found:
                return [_with(found, contact=Contact.GENERIC)]
        return []

    async def _name_to_email(
        self, run: _Run, name: PersonName, *, position: str | None, allow_permutations: bool
    ) -> FoundEmail | None:
        """Known pattern, then Email Finder, then ranked permutations; stops at the first deliverable one."""
        candidates = ranked_candidates(name, run.domain, pattern=run.pattern)
        from_pattern = [c for c in candidates if c.from_known_pattern]
        person = name.full
        if person.lower() in run.opted_out:
            return None  # they asked not to be processed: no guess, no verification

        if from_pattern and run.accept_all:
            # Nothing on an accept-all domain can be verified: the known pattern is the best guess, free.
            return self._on_catch_all(
                run,
                from_pattern[0].email,
                EmailSource.PERPLEXITY_GENERATED,
                50,
                Method.KNOWN_PATTERN,
                name,
                position,
                sources=[],
            )
        for candidate in from_pattern[:2]:
            found = await self._verify_candidate(
                run, candidate.email, Method.KNOWN_PATTERN, person, position, name=name
            )
            if found or run.accept_all:
                return found

        found = await self._finder(run, name, position)
        if found or run.accept_all or not allow_permutations or person.lower() in run.opted_out:
            return found
        if from_pattern:
            # The domain's own pattern and Hunter's finder both missed: this person most likely has no
            # mailbox here, and permutations would only pay to confirm it.
            run.notes.append(f"no mailbox for {person} in the domain's pattern or in Email Finder")
            return None

        permutations = [c for c in candidates if not c.from_known_pattern and c.email not in run.tried]
        for candidate in permutations[: self.settings.max_permutations]:
            if run.verifications >= self.settings.max_verifications_per_lead:
                run.notes.append("verification budget for this lead used up")
                run.partial = True
                break
            found = await self._verify_candidate(
                run, candidate.email, Method.PERMUTATION, person, position, name=name
            )
            if found:
                if found.status is EmailStatus.ACTIVE and run.pattern is None:
                    run.pattern = infer_pattern(candidate.email.split("@", 1)[0], name)
                return found
            if run.accept_all:
                run.notes.append("domain is accept-all: permutations cannot be told apart")
                return None
        return None

    async def _finder(self, run: _Run, name: PersonName, position: str | None) -> FoundEmail | None:
        first, last = name.given, name.family
        if not last:
            return None  # Email Finder needs a last name
        result = await self.calls.finder(run, run.domain, first, last)
        if result.opted_out:
            run.opted_out.add(name.full.lower())
            run.notes.append("a person asked Hunter not to process their data (451)")
            return None
        if not result.email:
            return None
        email = result.email.lower()
        run.tried.add(email)
        score = result.score or 0
        if result.accept_all or run.accept_all or result.verification.status == "accept_all":
            run.accept_all = True
            return self._on_catch_all(
                run,
                email,
                EmailSource.HUNTER_DIRECT,
                score,
                Method.EMAIL_FINDER,
                name,
                position,
                result.sources,
            )
        if score > self.settings.active_min_score and self._fresh_valid(result.verification):
            # Hunter bills the finder "verification included": a fresh `valid` is the verification we
            # would otherwise pay for again (docs/engine.md, "Reusing Hunter's verifications").
            return self._email(
                email,
                EmailSource.HUNTER_DIRECT,
                score,
                HunterStatus.DELIVERABLE,
                EmailStatus.ACTIVE,
                _as_datetime(result.verification.date),
                Method.EMAIL_FINDER,
                name.full,
                position,
            )
        return await self._verify_candidate(run, email, Method.EMAIL_FINDER, name.full, position, name=name)

    # -- rows and verification ---------------------------------------------------------------------------

    def _trusted(self, row: DomainEmail) -> bool:
        confident = (row.confidence or 0) >= self.settings.trusted_row_confidence
        return confident and self._fresh_valid(row.verification)

    def _fresh_valid(self, verification: Verification) -> bool:
        """Hunter's own `valid`, given within the days we trust it for (a dated verdict only)."""
        if verification.status != "valid" or verification.date is None:
            return False
        age = self.clock().date() - verification.date
        return age <= timedelta(days=self.settings.trusted_verification_days)

    async def _accept_row(
        self,
        run: _Run,
        row: DomainEmail,
        email_type: EmailType,
        method: Method = Method.DOMAIN_SEARCH,
        *,
        budgeted: bool = True,
    ) -> FoundEmail | None:
        email = row.value.lower()
        person = " ".join(p for p in (row.first_name, row.last_name) if p) or None
        row_name = person_from_parts(row.first_name, row.last_name)
        if row_name is not None and row_name.full.lower() in run.opted_out:
            return None  # the person asked Hunter not to process their data
        confidence = row.confidence or 0
        if run.accept_all or row.verification.status == "accept_all":
            # Checked before trust: on an accept-all domain even a "valid" verification proves nothing.
            # Re-verifying on an accept-all domain is billed and always answers accept_all: Hunter's own
            # sighting of the address is the best evidence there is.
            run.accept_all = True
            return self._on_catch_all(
                run,
                email,
                EmailSource.HUNTER_DIRECT,
                confidence,
                method,
                row_name,
                row.position,
                row.sources,
                email_type,
                person=person,
            )
        if self._trusted(row):
            return self._email(
                email,
                EmailSource.HUNTER_DIRECT,
                confidence,
                HunterStatus.DELIVERABLE,
                EmailStatus.ACTIVE,
                _as_datetime(row.verification.date),
                method,
                person,
                row.position,
                email_type,
            )
        if budgeted and run.verifications >= self.settings.max_verifications_per_lead:
            return None
        found = await self._verify_candidate(
            run, email, method, person, row.position, email_type, name=row_name
        )
        if found is not None:
            found = _with(found, source=EmailSource.HUNTER_DIRECT)
        return found

    async def _verify_candidate(
        self,
        run: _Run,
        email: str,
        method: Method,
        person: str | None,
        position: str | None,
        email_type: EmailType = EmailType.PRIMARY,
        *,
        name: PersonName | None = None,
    ) -> FoundEmail | None:
        """Verify one address; a FoundEmail when it is usable, None when it is not (try the next one).

        An `unknown` verdict is kept aside on the run: should nothing verify, it is the best there is."""
        run.tried.add(email)
        result = await self._verify(run, email)
        if result is None:
            return None
        source = (
            EmailSource.HUNTER_DIRECT
            if method in (Method.DOMAIN_SEARCH, Method.EMAIL_FINDER, Method.GENERIC)
            else EmailSource.PERPLEXITY_GENERATED
        )
        score = result.score or 0
        status = result.status
        if status == "accept_all" or result.accept_all:
            run.accept_all = True
            if method is Method.PERMUTATION:
                return None  # an unverifiable guess is not a result
            return self._on_catch_all(
                run, email, source, score, method, name, position, result.sources, email_type, person=person
            )
        if status == "valid" and score > self.settings.active_min_score:
            return self._email(
                email,
                source,
                score,
                HunterStatus.DELIVERABLE,
                EmailStatus.ACTIVE,
                result.checked_at or self.clock(),  # a cached verdict keeps the time it was given
                method,
                person,
                position,
                email_type,
            )
        if status == "unknown":
            run.inconclusive = True
            if method is not Method.PERMUTATION and len(run.unverified) < self.settings.max_addresses:
                run.unverified.append(
                    self._email(
                        email,
                        source,
                        score,
                        HunterStatus.UNKNOWN,
                        EmailStatus.INACTIVE,
                        None,
                        method,
                        person,
                        position,
                        email_type,
                        Deliverability.UNKNOWN,
                    )
                )
        return None

    async def _verify(self, run: _Run, email: str) -> VerifierResult | None:
        """Hunter's verdict on one address; None when its owner opted out (451): never stored or retried."""
        result = await self.calls.verification(run, email)
        if result.status == OPTED_OUT:
            run.notes.append(f"{redact_email(email)} opted out (451)")
            return None
        return result

    async def _domain_search(self, run: _Run, query: SearchQuery) -> DomainSearch:
        """A Domain Search page, and the domain facts it carries kept on the run."""
        search = await self.calls.domain_search(run, run.domain, query)
        if search.webmail or search.disposable:
            raise NotAMailDomain(f"{run.domain} is a {'webmail' if search.webmail else 'disposable'} domain")
        run.pattern = run.pattern or search.pattern
        run.accept_all = run.accept_all or search.accept_all
        return search

    # -- results -----------------------------------------------------------------------------------------

    async def _conclude(self, run: _Run, person_key: str, emails: list[FoundEmail]) -> EnrichmentResult:
        if not emails and run.inconclusive:
            # The addresses verified `unknown` travel with the deferral: when no try is left, the runtime
            # keeps them as a `risky` result (EnrichmentResult.settled) rather than nothing.
            return self._result(
                run.lead,
                run.domain,
                LeadStatus.DEFERRED,
                emails=run.unverified,
                usage=run.usage,
                retry_after=UNKNOWN_RETRY_AFTER,
                reason="verification inconclusive (unknown); worth another try in a few minutes",
            )
        if not emails and not run.partial:
            reason = "no decision-maker address found" + (f" ({'; '.join(run.notes)})" if run.notes else "")
            for key in {person_key, ""}:  # the domain flow ran for named leads too
                await self.cache.put_nothing_found(run.domain, key, reason)
        return self._finish(run, emails, None)

    def _finish(self, run: _Run, emails: list[FoundEmail], reason: str | None) -> EnrichmentResult:
        if not emails:
            return self._result(
                run.lead,
                run.domain,
                LeadStatus.NOT_FOUND,
                usage=run.usage,
                reason=reason
                or "no decision-maker address found" + (f" ({'; '.join(run.notes)})" if run.notes else ""),
            )
        # `found` means a verified address; only unverifiable ones (a catch-all domain) make the lead risky.
        verified = any(e.status is EmailStatus.ACTIVE for e in emails)
        return self._result(
            run.lead,
            run.domain,
            LeadStatus.FOUND if verified else LeadStatus.RISKY,
            emails=emails,
            usage=run.usage,
            reason=run.fallback_note,
        )

    def _problem_result(self, run: _Run, problem: ProviderProblem) -> EnrichmentResult:
        if problem.outcome is Outcome.THROTTLED:
            # A rate-limit answer is the provider saying "not now", not a failed try, and it is not billed:
            # the item goes back without an attempt charged, after what the provider asked for.
            return self._result(
                run.lead,
                run.domain,
                LeadStatus.DEFERRED,
                usage=run.usage,
                reason=str(problem),
                retry_after=problem.retry_after if problem.retry_after is not None else 30.0,
                attempt_consumed=False,
            )
        if problem.outcome in (Outcome.PENDING, Outcome.TRANSIENT):
            return self._result(
                run.lead,
                run.domain,
                LeadStatus.DEFERRED,
                usage=run.usage,
                reason=str(problem),
                retry_after=problem.retry_after if problem.retry_after is not None else 30.0,
            )
        return self._result(run.lead, run.domain, LeadStatus.FAILED, usage=run.usage, reason=str(problem))

    def _result(
        self,
        lead: Lead,
        domain: str,
        status: LeadStatus,
        *,
        emails: list[FoundEmail] | None = None,
        reason: str | None = None,
        usage: Usage | None = None,
        retry_after: float | None = None,
        attempt_consumed: bool = True,
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
        )

    def _email(
        self,
        email: str,
        source: EmailSource,
        confidence: int,
        hunter_status: HunterStatus,
        status: EmailStatus,
        verified_at: datetime | None,
        method: Method,
        person: str | None,
        position: str | None,
        email_type: EmailType = EmailType.PRIMARY,
        deliverability: Deliverability = Deliverability.VERIFIED,
    ) -> FoundEmail:
        return FoundEmail(
            email=email,
            source=source,
            confidence_score=max(0, min(100, confidence)),
            email_type=email_type,
            hunter_status=hunter_status,
            status=status,
            verified_at=verified_at,
            method=method,
            person=person,
            position=position,
            deliverability=deliverability,
        )

    def _on_catch_all(
        self,
        run: _Run,
        email: str,
        source: EmailSource,
        confidence: int,
        method: Method,
        name: PersonName | None,
        position: str | None,
        sources: list[Source],
        email_type: EmailType = EmailType.PRIMARY,
        *,
        person: str | None = None,
    ) -> FoundEmail:
        """An address on a catch-all domain: unverifiable, so graded by Hunter's sighting of it."""
        grade = catch_all_grade(email, sources, today=self.clock().date(), name=name, pattern=run.pattern)
        return self._email(
            email,
            source,
            confidence,
            HunterStatus.RISKY,
            EmailStatus.INACTIVE,
            None,
            method,
            person if person is not None else (name.full if name else None),
            position,
            email_type,
            grade,
        )


_GENERIC_PREFERENCE = (
    "info",
    "contact",
    "hello",
    "office",
    "team",
    "sales",
    "enquiries",
    "inquiries",
    "admin",
)


def _generic_rank(email: str) -> int:
    """Role addresses a salesperson can write to first; support desks and no-reply boxes last."""
    local = email.split("@", 1)[0].lower()
    return _GENERIC_PREFERENCE.index(local) if local in _GENERIC_PREFERENCE else len(_GENERIC_PREFERENCE)


def _as_datetime(day: date | None) -> datetime | None:
    return datetime.combine(day, time(), tzinfo=UTC) if day else None


def _with(found: FoundEmail, **changes: object) -> FoundEmail:
    return dataclasses.replace(found, **changes)  # type: ignore[arg-type]
