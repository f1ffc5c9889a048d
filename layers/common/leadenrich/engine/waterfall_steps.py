"""The waterfall's steps, each a way to an address for one lead: the named person, the decision-makers'
Domain Search rows, the people Perplexity names, and generic role addresses as a last resort.

Each step returns what it found and leaves what it learnt on the run (the domain's pattern, accept-all,
who opted out, what was tried); `waterfall.Enricher` decides the order. Paid answers come through
`PaidCalls`; single addresses are judged by `waterfall_addresses.Addresses`.
"""

from __future__ import annotations

from leadenrich.engine.cache import ResultCache
from leadenrich.engine.candidates import infer_pattern, ranked_candidates
from leadenrich.engine.models import (
    Contact,
    EmailSource,
    EmailStatus,
    EmailType,
    FoundEmail,
    HunterStatus,
    Method,
)
from leadenrich.engine.names import PersonName, parse_person_name, person_from_parts
from leadenrich.engine.paid_calls import NotAMailDomain, PaidCalls, SearchQuery
from leadenrich.engine.providers.hunter_models import DomainEmail, DomainSearch
from leadenrich.engine.ranking import NOT_A_DECISION_MAKER, decision_tier, is_generic_address
from leadenrich.engine.waterfall_addresses import Addresses, as_datetime, found_email, with_changes
from leadenrich.engine.waterfall_run import LeadRun
from leadenrich.engine.waterfall_settings import WaterfallSettings

# Decision-makers are "executive" in Hunter's seniority; "senior" rows are managers and senior staff, and a
# page of them costs a credit for nothing we would use.
PERSONAL_QUERY = SearchQuery("personal", "executive")
GENERIC_QUERY = SearchQuery("generic")


class Steps:
    """The steps, shared by every lead of the process: a lead's own state travels in its `LeadRun`."""

    def __init__(
        self, calls: PaidCalls, cache: ResultCache, settings: WaterfallSettings, addresses: Addresses
    ) -> None:
        self.calls = calls
        self.cache = cache
        self.settings = settings
        self.addresses = addresses

    def usable(self, rows: list[DomainEmail]) -> list[DomainEmail]:
        return [r for r in rows if (r.confidence or 0) > self.settings.min_row_confidence]

    async def domain_search(self, run: LeadRun, query: SearchQuery) -> DomainSearch:
        """A Domain Search page, and the domain facts it carries kept on the run."""
        search = await self.calls.domain_search(run, run.domain, query)
        if search.webmail or search.disposable:
            raise NotAMailDomain(f"{run.domain} is a {'webmail' if search.webmail else 'disposable'} domain")
        run.pattern = run.pattern or search.pattern
        run.accept_all = run.accept_all or search.accept_all
        return search

    async def named_person(self, run: LeadRun, name: PersonName) -> FoundEmail | None:
        """A named person: their Domain Search row if we hold one, else Email Finder, else their pattern.

        Email Finder comes before a fresh Domain Search here: it is billed only when it finds the person
        and includes a verification, while a search page is billed whenever it has rows, and the named
        person is often not an executive, so not on the page at all.
        """
        cached = await self.cache.domain_search(run.domain, PERSONAL_QUERY.key)
        if cached is None:
            found = await self.finder(run, name, None)
            if found or run.accept_all or name.full.lower() in run.opted_out:
                return found
        search = await self.domain_search(run, PERSONAL_QUERY)
        wanted = {(v.first, v.last) for v in name.variants()}
        for row in await self.addresses.allowed_rows(run, self.usable(search.emails)):
            row_name = person_from_parts(row.first_name, row.last_name)
            if row_name and wanted & {(v.first, v.last) for v in row_name.variants()}:
                accepted = await self.addresses.accept_row(run, row, EmailType.PRIMARY)
                if accepted:
                    return accepted
        return await self.name_to_email(run, name, position=None, allow_permutations=True)

    async def from_rows(self, run: LeadRun, rows: list[DomainEmail]) -> list[FoundEmail]:
        ranked = sorted(
            (r for r in rows if r.type != "generic" and not is_generic_address(r.value)),
            key=lambda r: (decision_tier(r.position, r.seniority), -(r.confidence or 0)),
        )
        ranked = [r for r in ranked if decision_tier(r.position, r.seniority) != NOT_A_DECISION_MAKER]
        ranked = await self.addresses.allowed_rows(run, ranked)
        emails: list[FoundEmail] = []
        for row in ranked:
            if not emails:
                primary = await self.addresses.accept_row(run, row, EmailType.PRIMARY)
                if primary:
                    emails.append(primary)
            elif len(emails) < self.settings.max_addresses and self.addresses.trusted(row):
                # Further decision-makers only when they cost nothing more to confirm.
                secondary = await self.addresses.accept_row(run, row, EmailType.SECONDARY)
                if secondary:
                    emails.append(secondary)
        return emails

    async def from_perplexity(self, run: LeadRun) -> list[FoundEmail]:
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
            found = await self.name_to_email(run, name, position=title or None, allow_permutations=permute)
            if found:
                if not sourced:
                    # An unsupported name whose address nonetheless verifies: keep it, with less confidence.
                    found = with_changes(found, confidence_score=min(found.confidence_score, 60))
                return [found]
        return []

    async def generic(self, run: LeadRun) -> list[FoundEmail]:
        search = await self.domain_search(run, GENERIC_QUERY)
        rows = sorted(
            await self.addresses.allowed_rows(run, self.usable(search.emails)),
            key=lambda r: (_generic_rank(r.value), -(r.confidence or 0)),
        )
        for row in rows[:2]:
            found = await self.addresses.accept_row(
                run, row, EmailType.SECONDARY, method=Method.GENERIC, budgeted=False
            )
            if found:
                return [with_changes(found, contact=Contact.GENERIC)]
        return []

    async def name_to_email(
        self, run: LeadRun, name: PersonName, *, position: str | None, allow_permutations: bool
    ) -> FoundEmail | None:
        """Known pattern, then Email Finder, then ranked permutations; stops at the first deliverable one.

        A doubted pattern (a guess from it bounced lately: `pattern_doubted`) is not trusted: its guess is
        never returned unverified on an accept-all domain, counts only when it verifies `active`, and
        missing with it is no reason to skip the permutations."""
        candidates = ranked_candidates(name, run.domain, pattern=run.pattern)
        from_pattern = [c for c in candidates if c.from_known_pattern]
        person = name.full
        if not await self.addresses.may_search(run, name):
            return None  # a 451 or a suppression list: no guess, no verification
        doubted = bool(from_pattern) and await self.pattern_doubted(run)

        if from_pattern and run.accept_all and not doubted:
            # Nothing on an accept-all domain can be verified: the known pattern is the best guess, free.
            if not await self.addresses.allowed(run, from_pattern[0].email):
                return None
            return self.addresses.on_catch_all(
                run,
                from_pattern[0].email,
                EmailSource.PERPLEXITY_GENERATED,
                50,
                Method.KNOWN_PATTERN,
                name,
                position,
                sources=[],
            )
        checked = [] if doubted and run.accept_all else from_pattern[:2]  # no verifier can tell there
        for candidate in checked:
            found = await self.addresses.verify_candidate(
                run, candidate.email, Method.KNOWN_PATTERN, person, position, name=name
            )
            if doubted and found is not None and found.status is not EmailStatus.ACTIVE:
                found = None  # accepted by a catch-all server: proves nothing of a doubted pattern
            if found or (run.accept_all and not doubted):
                return found
            if run.accept_all:
                break

        found = await self.finder(run, name, position)
        if found or run.accept_all or not allow_permutations or person.lower() in run.opted_out:
            return found
        if from_pattern and not doubted:
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
            found = await self.addresses.verify_candidate(
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

    async def pattern_doubted(self, run: LeadRun) -> bool:
        """Whether a guess from the domain's pattern bounced lately (read once per lead, when it matters)."""
        if run.pattern_doubted is None:
            run.pattern_doubted = await self.cache.pattern_bounced(run.domain)
            if run.pattern_doubted:
                run.notes.append("the domain's pattern is doubted (a guess from it bounced): verified")
        return run.pattern_doubted

    async def finder(self, run: LeadRun, name: PersonName, position: str | None) -> FoundEmail | None:
        first, last = name.given, name.family
        if not last:
            return None  # Email Finder needs a last name
        if not await self.addresses.may_search(run, name):
            return None
        result = await self.calls.finder(run, run.domain, first, last)
        if result.opted_out:
            run.opted_out.add(name.full.lower())
            run.notes.append("a person asked Hunter not to process their data (451)")
            await self.addresses.opted_out(run, None, name)
            return None
        if not result.email:
            return None
        email = result.email.lower()
        run.tried.add(email)
        if not await self.addresses.allowed(run, email):
            return None  # Hunter's answer is someone's on a suppression list: not returned
        score = result.score or 0
        if result.accept_all or run.accept_all or result.verification.status == "accept_all":
            run.accept_all = True
            return self.addresses.on_catch_all(
                run,
                email,
                EmailSource.HUNTER_DIRECT,
                score,
                Method.EMAIL_FINDER,
                name,
                position,
                result.sources,
            )
        if score > self.settings.active_min_score and self.addresses.fresh_valid(result.verification):
            # Hunter bills the finder "verification included": a fresh `valid` is the verification we
            # would otherwise pay for again (docs/engine.md, "Reusing Hunter's verifications").
            return found_email(
                email,
                EmailSource.HUNTER_DIRECT,
                score,
                HunterStatus.DELIVERABLE,
                EmailStatus.ACTIVE,
                as_datetime(result.verification.date),
                Method.EMAIL_FINDER,
                name.full,
                position,
            )
        return await self.addresses.verify_candidate(
            run, email, Method.EMAIL_FINDER, name.full, position, name=name
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
