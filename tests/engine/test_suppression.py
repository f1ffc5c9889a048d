"""Suppression in the engine: a suppressed domain, person or address is never searched, guessed, verified or
returned, and a Hunter 451 suppresses its address and person service-wide, so a later job of another
workspace, on another process (a fresh cache), neither pays for them nor returns them.

The lists are the real SQLite adapter read through `privacy.suppression.WorkspaceScreen`, as the processor
builds one per item; the providers are the scripted ones, so every call made is in `script.log`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

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
from leadenrich.engine.screen import Address, Screen, drop_suppressed
from leadenrich.engine.verification import Verifier
from leadenrich.privacy.identity import Identity, domain_identity, email_identity, person_identity
from leadenrich.privacy.ports import SERVICE_WIDE, Suppression, SuppressionReason
from leadenrich.privacy.suppression import WorkspaceScreen
from leadenrich.sqlite.db import Database
from leadenrich.sqlite.suppression import SqliteSuppressionList
from tests.support.scripted_providers import OPTED_OUT as CLAIMED
from tests.support.scripted_providers import Script, make_enricher, row

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)
JANE, JOHN = "jane.doe@acme.com", "john.roe@acme.com"


@pytest.fixture
def lists(database: Database) -> SqliteSuppressionList:
    return SqliteSuppressionList(database)


def screen(lists: SqliteSuppressionList, workspace: str = "acme") -> WorkspaceScreen:
    return WorkspaceScreen(lists, workspace, clock=lambda: NOW)


async def suppress(lists: SqliteSuppressionList, workspace: str, *identities: Identity) -> None:
    await lists.add([Suppression(workspace, i, SuppressionReason.MANUAL, NOW) for i in identities])


def addresses(result: EnrichmentResult) -> set[str]:
    return {e.email for e in result.emails}


def asked_about(script: Script, email: str) -> list[str]:
    """The calls that named the address (verifications) or its person (Email Finder)."""
    first = email.split(".", 1)[0]
    return [
        c.method
        for c in script.log
        if c.args.get("email") == email or (c.args.get("first_name") or "").lower() == first
    ]


def two_executives(script: Script) -> None:
    """Jane (CEO) and John (CTO) in Domain Search, neither verified by Hunter: each costs a verification."""
    script.rows["acme.com"] = [row(JANE, "CEO"), row(JOHN, "CTO")]
    script.mailboxes = {JANE, JOHN}


async def test_a_suppressed_domain_is_not_searched_at_all(
    script: Script, lists: SqliteSuppressionList
) -> None:
    two_executives(script)
    await suppress(lists, "acme", domain_identity("ACME.com"))
    lead = Lead(domain="https://www.acme.com/about", first_name="Jane", last_name="Doe")
    result = await make_enricher(script).enrich(lead, screen=screen(lists))
    assert result.status is LeadStatus.NOT_FOUND and result.emails == []
    assert (result.reason or "").startswith("suppressed: acme.com")
    assert script.log == [] and result.usage.paid_calls == 0
    other = await make_enricher(script).enrich(Lead(domain="acme.com"), screen=screen(lists, "globex"))
    assert other.status is LeadStatus.FOUND  # acme's list is acme's own


async def test_a_suppressed_named_person_is_never_searched_and_the_company_s_others_are_returned(
    script: Script, lists: SqliteSuppressionList
) -> None:
    two_executives(script)
    script.finder[("jane", "doe")] = {"email": JANE, "score": 97}
    await suppress(lists, "acme", person_identity("JANE", "Doé", "acme.com"))  # case and accents ignored
    lead = Lead(domain="acme.com", first_name="Jane", last_name="Doe")
    result = await make_enricher(script).enrich(lead, screen=screen(lists))
    assert addresses(result) == {JOHN} and result.status is LeadStatus.FOUND
    assert asked_about(script, JANE) == []  # no Email Finder, no verification of her row
    assert (result.reason or "").startswith("suppressed: the named person")


async def test_a_suppressed_address_is_not_verified_and_the_next_row_is(
    script: Script, lists: SqliteSuppressionList
) -> None:
    two_executives(script)
    await suppress(lists, "acme", email_identity(JANE.upper()))
    result = await make_enricher(script).enrich(Lead(domain="acme.com"), screen=screen(lists))
    assert addresses(result) == {JOHN}
    assert [c.args["email"] for c in script.calls("email_verifier")] == [JOHN]


async def test_a_row_hunter_verified_is_screened_before_it_is_taken(
    script: Script, lists: SqliteSuppressionList
) -> None:
    """A row Hunter verified recently is taken without a call: screened before, so the next row is tried
    (a check only at the end would leave the lead with nothing)."""
    today = "2026-11-20"
    script.rows["acme.com"] = [row(JANE, "CEO", 97, "valid", today), row(JOHN, "CTO")]
    script.mailboxes = {JOHN}
    await suppress(lists, "acme", person_identity("Jane", "Doe", "acme.com"))
    result = await make_enricher(script).enrich(Lead(domain="acme.com"), screen=screen(lists))
    assert addresses(result) == {JOHN} and result.primary is not None and result.primary.email == JOHN


async def test_a_suppressed_person_named_by_perplexity_is_neither_guessed_nor_found(
    script: Script, lists: SqliteSuppressionList
) -> None:
    script.pattern["acme.com"] = "{first}.{last}"
    script.people["acme.com"] = [
        {"name": "Jane Doe", "title": "CEO", "source_urls": ["https://acme.com/about"]},
        {"name": "John Roe", "title": "CFO", "source_urls": ["https://acme.com/about"]},
    ]
    script.mailboxes = {JANE, JOHN}
    await suppress(lists, "acme", person_identity("Jane", "Doe", "acme.com"))
    result = await make_enricher(script).enrich(Lead(domain="acme.com"), screen=screen(lists))
    assert addresses(result) == {JOHN}
    assert asked_about(script, JANE) == []


async def test_an_unverifiable_guess_on_a_catch_all_domain_is_screened_too(
    script: Script, lists: SqliteSuppressionList
) -> None:
    """On an accept-all domain the pattern's guess is returned without any call: it is screened all the
    same, and the next name's guess is returned instead."""
    script.accept_all = {"acme.com"}
    script.pattern["acme.com"] = "{first}.{last}"
    script.people["acme.com"] = [
        {"name": "Jane Doe", "title": "CEO", "source_urls": ["https://acme.com/about"]},
        {"name": "John Roe", "title": "CFO", "source_urls": ["https://acme.com/about"]},
    ]
    await suppress(lists, "acme", email_identity(JANE))
    result = await make_enricher(script).enrich(Lead(domain="acme.com"), screen=screen(lists))
    assert addresses(result) == {JOHN} and result.status is LeadStatus.RISKY


async def test_a_451_from_email_finder_suppresses_the_person_in_every_workspace(
    script: Script, lists: SqliteSuppressionList
) -> None:
    two_executives(script)
    script.rows["acme.com"] = [row(JOHN, "CTO")]  # Hunter leaves opted-out people out of Domain Search
    script.problems["email_finder"] = CLAIMED
    lead = Lead(domain="acme.com", first_name="Jane", last_name="Doe")
    first = await make_enricher(script).enrich(lead, screen=screen(lists, "acme"))
    assert len(script.calls("email_finder")) == 1 and addresses(first) == {JOHN}
    listed = (await lists.list(SERVICE_WIDE)).items
    assert [(s.identity, s.reason) for s in listed] == [
        (person_identity("Jane", "Doe", "acme.com"), SuppressionReason.OPTED_OUT)
    ]
    assert (await lists.list("acme")).items == []  # not the workspace's own: it cannot lift it

    script.log.clear()
    again = await make_enricher(script).enrich(lead, screen=screen(lists, "globex"))  # a fresh cache
    assert script.calls("email_finder") == [] and addresses(again) == {JOHN}


async def test_a_451_from_the_verifier_suppresses_the_address_and_its_owner_everywhere(
    script: Script, lists: SqliteSuppressionList
) -> None:
    two_executives(script)
    script.verdicts[JANE] = CLAIMED
    first = await make_enricher(script).enrich(Lead(domain="acme.com"), screen=screen(lists, "acme"))
    assert addresses(first) == {JOHN}
    assert [c.args["email"] for c in script.calls("email_verifier")] == [JANE, JOHN]
    keys = {s.identity.key for s in (await lists.list(SERVICE_WIDE)).items}
    assert keys == {email_identity(JANE).key, person_identity("Jane", "Doe", "acme.com").key}

    # Another workspace, another process: Jane's row is dropped before it costs anything.
    script.log.clear()
    enricher = make_enricher(script)
    again = await enricher.enrich(Lead(domain="acme.com"), screen=screen(lists, "globex"))
    assert addresses(again) == {JOHN} and asked_about(script, JANE) == []
    named = await enricher.enrich(
        Lead(domain="acme.com", first_name="jane", last_name="DOE"), screen=screen(lists, "initech")
    )
    assert JANE not in addresses(named) and asked_about(script, JANE) == []
    # A verification job of her address, in a third workspace: no call, nothing returned.
    verified = await Verifier.beside(enricher).enrich(Lead.of_address(JANE), screen=screen(lists, "hooli"))
    assert verified.status is LeadStatus.NOT_FOUND and verified.emails == []
    assert (verified.reason or "").startswith("suppressed") and asked_about(script, JANE) == []


async def test_a_451_in_a_verification_job_suppresses_the_address_everywhere(
    script: Script, lists: SqliteSuppressionList
) -> None:
    script.verdicts[JANE] = CLAIMED
    first = await Verifier.beside(make_enricher(script)).enrich(Lead.of_address(JANE), screen=screen(lists))
    assert first.status is LeadStatus.NOT_FOUND and len(script.calls("email_verifier")) == 1
    assert await lists.suppressed("globex", [email_identity(JANE).key]) == {email_identity(JANE).key}
    script.log.clear()
    two_executives(script)
    result = await make_enricher(script).enrich(Lead(domain="acme.com"), screen=screen(lists, "globex"))
    assert addresses(result) == {JOHN} and asked_about(script, JANE) == []


async def test_a_verification_job_s_suppressed_domain_or_address_costs_nothing(
    script: Script, lists: SqliteSuppressionList
) -> None:
    await suppress(lists, "acme", domain_identity("globex.io"), email_identity(JOHN))
    verifier = Verifier.beside(make_enricher(script))
    for address in ("info@globex.io", JOHN):
        result = await verifier.enrich(Lead.of_address(address), Deadline.after(10), screen=screen(lists))
        assert result.status is LeadStatus.NOT_FOUND and (result.reason or "").startswith("suppressed")
    assert script.log == []
    found = await verifier.enrich(Lead.of_address(JOHN), screen=screen(lists, "globex"))
    assert found.status is LeadStatus.INVALID and len(script.log) == 1  # not globex's: verified


def found(email: str, status: EmailStatus, email_type: EmailType, person: str | None = None) -> FoundEmail:
    return FoundEmail(
        email=email,
        source=EmailSource.HUNTER_DIRECT,
        confidence_score=90,
        email_type=email_type,
        hunter_status=HunterStatus.DELIVERABLE,
        status=status,
        verified_at=None,
        method=Method.DOMAIN_SEARCH,
        deliverability=Deliverability.VERIFIED,
        person=person,
    )


async def test_the_last_check_drops_suppressed_addresses_from_any_result(
    lists: SqliteSuppressionList,
) -> None:
    """Whatever path found them: the primary dropped promotes the next; a lead left without a verified
    address is risky, without any is not_found; a deferral keeps its status."""
    await suppress(lists, "acme", email_identity(JANE), person_identity("John", "Roe", "acme.com"))
    jane = found(JANE, EmailStatus.ACTIVE, EmailType.PRIMARY)
    ann = found("ann@acme.com", EmailStatus.INACTIVE, EmailType.SECONDARY)
    john = found("jr@acme.com", EmailStatus.ACTIVE, EmailType.SECONDARY, person="John Roe")
    result = EnrichmentResult("acme.com", LeadStatus.FOUND, emails=[jane, ann, john])
    kept = await drop_suppressed(screen(lists), result)
    assert [(e.email, e.email_type) for e in kept.emails] == [("ann@acme.com", EmailType.PRIMARY)]
    assert kept.status is LeadStatus.RISKY
    none = await drop_suppressed(screen(lists), EnrichmentResult("acme.com", LeadStatus.FOUND, emails=[jane]))
    assert none.status is LeadStatus.NOT_FOUND and (none.reason or "").startswith("suppressed")
    deferred = EnrichmentResult("acme.com", LeadStatus.DEFERRED, emails=[jane], retry_after=600)
    assert (await drop_suppressed(screen(lists), deferred)).status is LeadStatus.DEFERRED
    assert await drop_suppressed(None, result) is result
    assert await drop_suppressed(screen(lists, "globex"), result) == result  # acme's list only


class Unreachable:
    """A screen whose store cannot be read."""

    async def suppressed(self, subjects: object) -> set[Address]:
        raise ConnectionError("the suppression list cannot be reached")

    async def opted_out(self, *, address: object = None, person: object = None) -> None:
        raise ConnectionError("the suppression list cannot be reached")


async def test_an_unreadable_list_defers_the_lead_before_any_call(script: Script) -> None:
    two_executives(script)
    unreachable: Screen = Unreachable()  # type: ignore[assignment]  # a screen that only fails
    result = await make_enricher(script).enrich(Lead(domain="acme.com"), screen=unreachable)
    assert result.status is LeadStatus.DEFERRED and result.emails == [] and script.log == []


class CountingList(SqliteSuppressionList):
    """The SQLite list, remembering every key it was asked about."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self.asked: list[str] = []

    async def suppressed(self, workspace_id: str, keys: Sequence[str]) -> set[str]:
        self.asked += keys
        return await super().suppressed(workspace_id, keys)


async def test_a_screen_reads_each_identity_once_per_item(script: Script, database: Database) -> None:
    """The steps ask about the same person or address more than once (the row, its verification, the last
    check); the store is asked about each once."""
    two_executives(script)
    counting = CountingList(database)
    result = await make_enricher(script).enrich(
        Lead(domain="acme.com"), screen=WorkspaceScreen(counting, "acme")
    )
    assert addresses(result) == {JANE}
    assert len(counting.asked) == len(set(counting.asked))
    assert email_identity(JANE).key in counting.asked and domain_identity("acme.com").key in counting.asked
