"""A candidate address turned into a graded `FoundEmail`, paying for a verification only when it must.

Candidates come from Domain Search rows, Email Finder hits and guesses (the domain's pattern, permutations).
Hunter's own fresh, confident `valid` is taken as it is; on a catch-all domain, where no verifier can tell
a mailbox from a guess, the address is graded by Hunter's sighting of it; anything else is verified once
(docs/engine.md, "Thresholds, and why" and "Deliverability tiers").
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

from leadenrich.engine.deliverability import catch_all_grade
from leadenrich.engine.models import (
    Deliverability,
    EmailSource,
    EmailStatus,
    EmailType,
    FoundEmail,
    HunterStatus,
    Method,
)
from leadenrich.engine.names import PersonName, person_from_parts
from leadenrich.engine.paid_calls import PaidCalls
from leadenrich.engine.providers.hunter_models import (
    OPTED_OUT,
    DomainEmail,
    Source,
    Verification,
    VerifierResult,
)
from leadenrich.engine.redaction import redact_email
from leadenrich.engine.screen import Address, Subject, people, person_of, suppressed
from leadenrich.engine.waterfall_run import LeadRun
from leadenrich.engine.waterfall_settings import WaterfallSettings


class Addresses:
    """Trust, verification and catch-all grading of single addresses, for every step of the waterfall."""

    def __init__(self, calls: PaidCalls, settings: WaterfallSettings, clock: Callable[[], datetime]) -> None:
        self.calls = calls
        self.settings = settings
        self.clock = clock

    # -- suppression (`engine.screen`): asked before a call about a person or an address -----------------

    async def allowed(self, run: LeadRun, email: str, name: PersonName | None = None) -> bool:
        """Whether the address, and the person it would be for, are on no suppression list."""
        return not await suppressed(run.screen, [Address(email), *people(name, run.domain)])

    async def may_search(self, run: LeadRun, name: PersonName) -> bool:
        """Whether a person may be looked for at all (Email Finder, the pattern, permutations): not after a
        451 in this run, nor when they are on a suppression list (remembered on the run)."""
        key = name.full.lower()
        if key in run.opted_out:
            return False
        if await suppressed(run.screen, people(name, run.domain)):
            run.opted_out.add(key)
            run.notes.append("a person on a suppression list was skipped")
            return False
        return True

    async def allowed_rows(self, run: LeadRun, rows: list[DomainEmail]) -> list[DomainEmail]:
        """The Domain Search rows whose address and person are on no suppression list, in one read."""
        if run.screen is None or not rows:
            return rows
        subjects: list[list[Subject]] = [
            [Address(r.value.lower()), *person_of(r.first_name, r.last_name, run.domain)] for r in rows
        ]
        blocked = await suppressed(run.screen, (s for group in subjects for s in group))
        return [r for r, group in zip(rows, subjects, strict=True) if not blocked.intersection(group)]

    async def opted_out(self, run: LeadRun, email: str | None, name: PersonName | None) -> None:
        """Hunter answered 451 (now, or in a cached answer): the address and the person, when known, go on the
        service-wide list, so no later job of any workspace asks for them again."""
        if run.screen is None:
            return
        spellings = people(name, run.domain)
        await run.screen.opted_out(
            address=Address(email) if email else None, person=spellings[0] if spellings else None
        )

    # -- trust, verification, catch-all grading -----------------------------------------------------------

    def trusted(self, row: DomainEmail) -> bool:
        confident = (row.confidence or 0) >= self.settings.trusted_row_confidence
        return confident and self.fresh_valid(row.verification)

    def fresh_valid(self, verification: Verification) -> bool:
        """Hunter's own `valid`, given within the days we trust it for (a dated verdict only)."""
        if verification.status != "valid" or verification.date is None:
            return False
        age = self.clock().date() - verification.date
        return age <= timedelta(days=self.settings.trusted_verification_days)

    async def accept_row(
        self,
        run: LeadRun,
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
            return self.on_catch_all(
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
        if self.trusted(row):
            return found_email(
                email,
                EmailSource.HUNTER_DIRECT,
                confidence,
                HunterStatus.DELIVERABLE,
                EmailStatus.ACTIVE,
                as_datetime(row.verification.date),
                method,
                person,
                row.position,
                email_type,
            )
        if budgeted and run.verifications >= self.settings.max_verifications_per_lead:
            return None
        found = await self.verify_candidate(
            run, email, method, person, row.position, email_type, name=row_name
        )
        if found is not None:
            found = with_changes(found, source=EmailSource.HUNTER_DIRECT)
        return found

    async def verify_candidate(
        self,
        run: LeadRun,
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
        if not await self.allowed(run, email, name):
            return None  # suppressed: never verified, never returned
        # A permutation is a guess: a 451 on it says the address is someone's, not whose.
        result = await self._verify(run, email, None if method is Method.PERMUTATION else name)
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
            return self.on_catch_all(
                run, email, source, score, method, name, position, result.sources, email_type, person=person
            )
        if status == "valid" and score > self.settings.active_min_score:
            return found_email(
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
                    found_email(
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

    async def _verify(self, run: LeadRun, email: str, owner: PersonName | None) -> VerifierResult | None:
        """Hunter's verdict on one address; None when its owner opted out (451): never stored or retried, and
        on the service-wide suppression list from now on, with its owner when known."""
        result = await self.calls.verification(run, email)
        if result.status == OPTED_OUT:
            run.notes.append(f"{redact_email(email)} opted out (451)")
            if owner is not None:
                run.opted_out.add(owner.full.lower())
            await self.opted_out(run, email, owner)
            return None
        return result

    def on_catch_all(
        self,
        run: LeadRun,
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
        return found_email(
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


def found_email(
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


def as_datetime(day: date | None) -> datetime | None:
    return datetime.combine(day, time(), tzinfo=UTC) if day else None


def with_changes(found: FoundEmail, **changes: object) -> FoundEmail:
    return dataclasses.replace(found, **changes)  # type: ignore[arg-type]
