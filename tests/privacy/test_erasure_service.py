"""The erasure service (`leadenrich.privacy.erasure`) on the embedded stack's real adapters (one SQLite file:
job store, cache, webhook log, suppression lists): what it suppresses and where, in which order, what its
receipt says (and never says), and what it refuses."""

from __future__ import annotations

import json

import pytest

from leadenrich.jobs.errors import RequestRejected
from leadenrich.privacy.erasure import ErasureKind, ErasureService, ErasureTarget, Scope
from leadenrich.privacy.erasure_views import ErasureView
from leadenrich.privacy.identity import domain_identity, email_identity, person_identity
from leadenrich.privacy.ports import SERVICE_WIDE
from leadenrich.sqlite.cache import SqliteCache
from leadenrich.sqlite.db import Database
from leadenrich.sqlite.erasure import SqliteErasure
from leadenrich.sqlite.job_store import SqliteJobStore
from leadenrich.sqlite.suppression import SqliteSuppressionList
from tests.support.erasure_world import (
    ADA,
    LEAD_ID,
    OTHER,
    WS,
    FailingEraser,
    check_cache,
    check_items,
    seed_cache,
    seed_items,
    traces,
)

EMAIL_KEY = email_identity(ADA).key
PERSON_KEY = person_identity("Ada", "Lovelace", "acme.com").key


@pytest.fixture
async def world(database: Database) -> Database:
    await seed_items(SqliteJobStore(database), lead_ids=False)
    await seed_cache(SqliteCache(database))
    return database


def service(db: Database, *, leads: bool = False) -> ErasureService:
    return ErasureService([SqliteErasure(db)], SqliteSuppressionList(db), leads_configured=leads)


async def test_an_address_erasure_suppresses_the_address_and_its_person_everywhere(world: Database) -> None:
    receipt = await service(world).erase(WS, ErasureTarget(ErasureKind.EMAIL, ADA))

    await check_items(SqliteJobStore(world), lead_ids=False)
    await check_cache(SqliteCache(world))
    assert {(s.identity.key, s.scopes) for s in receipt.suppressed} == {
        (EMAIL_KEY, (Scope.WORKSPACE, Scope.SERVICE)),
        (PERSON_KEY, (Scope.WORKSPACE, Scope.SERVICE)),
    }
    lists = SqliteSuppressionList(world)
    assert await lists.suppressed(OTHER, [EMAIL_KEY, PERSON_KEY]) == {EMAIL_KEY, PERSON_KEY}  # service-wide
    assert {e.identity.key for e in (await lists.list(WS)).items} == {EMAIL_KEY, PERSON_KEY}
    assert {e.reason.value for e in (await lists.list(WS)).items} == {"erased"}
    assert receipt.first_time and receipt.new_entries == 4
    assert receipt.counts() == {
        "job_items": {"removed": 0, "changed": 4},
        "cache": {"removed": 3, "changed": 2},
        "webhooks": {"removed": 0, "changed": 0},
    }


async def test_the_receipt_names_the_person_only_masked_and_hashed(world: Database) -> None:
    receipt = await service(world).erase(WS, ErasureTarget(ErasureKind.EMAIL, ADA))
    view = ErasureView.of(receipt).model_dump(mode="json")
    assert view["target"] == "a***@acme.com" and view["kind"] == "email"
    assert {s["label"] for s in view["suppressed"]} == {"a***@acme.com", "a. l. @ acme.com"}
    assert traces(json.dumps(view)) == [] and ADA not in json.dumps(view)
    assert receipt.target.audit_key == EMAIL_KEY


async def test_a_repeat_erases_nothing_more_and_adds_no_entry(world: Database) -> None:
    erasures = service(world)
    await erasures.erase(WS, ErasureTarget(ErasureKind.EMAIL, ADA))
    again = await erasures.erase(WS, ErasureTarget(ErasureKind.EMAIL, ADA))
    assert not again.first_time and again.new_entries == 0
    assert all(counts == {"removed": 0, "changed": 0} for counts in again.counts().values())


async def test_an_external_id_erasure_finds_the_leads_person_and_address(world: Database) -> None:
    receipt = await service(world).erase(WS, ErasureTarget(ErasureKind.EXTERNAL_ID, "crm-7"))
    assert {s.identity.key for s in receipt.suppressed} == {EMAIL_KEY, PERSON_KEY}
    await check_items(SqliteJobStore(world), lead_ids=False)
    assert receipt.target.label == "c***" and receipt.target.audit_key.startswith("x:")
    assert "crm-7" not in receipt.target.audit_key


async def test_a_domain_erasure_suppresses_the_domain_in_the_workspace_only(world: Database) -> None:
    receipt = await service(world).erase(WS, ErasureTarget(ErasureKind.DOMAIN, "acme.com"))
    key = domain_identity("acme.com").key
    assert [(s.identity.key, s.scopes) for s in receipt.suppressed] == [(key, (Scope.WORKSPACE,))]
    lists = SqliteSuppressionList(world)
    assert await lists.suppressed(WS, [key]) == {key} and await lists.suppressed(OTHER, [key]) == set()
    items = (await SqliteJobStore(world).list_items(WS, "job_erasure")).items
    acme = [i for i in items if i.lead.domain == "acme.com"]
    assert all(i.result is None or i.result["emails"] == [] for i in acme)
    assert all(i.lead.company_name is None and i.lead.first_name is None for i in acme)
    assert receipt.counts()["cache"]["removed"] == 6  # every answer about acme.com


async def test_a_lead_id_needs_supabase(world: Database) -> None:
    with pytest.raises(RequestRejected) as refused:
        await service(world).erase(WS, ErasureTarget(ErasureKind.LEAD_ID, LEAD_ID))
    assert refused.value.field == "lead_id" and "Supabase" in refused.value.message


async def test_the_person_is_suppressed_before_anything_is_erased(world: Database) -> None:
    """Given a store that fails mid-erasure, the suppression stands: no job collects the person while the
    erasure is sent again."""
    lists = SqliteSuppressionList(world)
    failing = ErasureService([SqliteErasure(world), FailingEraser()], lists, leads_configured=False)
    with pytest.raises(ConnectionError):
        await failing.erase(WS, ErasureTarget(ErasureKind.EMAIL, ADA))
    assert await lists.suppressed(OTHER, [EMAIL_KEY]) == {EMAIL_KEY}
    assert await lists.suppressed(SERVICE_WIDE, [PERSON_KEY]) == {PERSON_KEY}
