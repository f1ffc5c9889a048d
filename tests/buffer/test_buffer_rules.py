"""The buffer's domain rules on the embedded store (SQLite) with the engine scripted through its port: what a
lead's identity is, how ids order, how a run's outcome becomes the enrichment record, the workspace's spend
gate, and what `next` does when its claim is lost while enriching. The package itself imports no AWS, HTTP
or SQL (the import rules of tests/test_import_rules.py, applied to it)."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from leadenrich.buffer.enrichment import Engine, WorkspaceGate, enrichment_of
from leadenrich.buffer.models import EnrichmentStatus, lead_key, new_lead_ids
from leadenrich.buffer.requests import BufferLead, NextRequest, PushRequest
from leadenrich.buffer.service import BufferService
from leadenrich.deadline import Deadline
from leadenrich.engine.budget import BudgetReached, SpendGate
from leadenrich.engine.models import EnrichmentResult, Lead, LeadStatus, Provider, Usage
from leadenrich.engine.screen import Screen
from leadenrich.jobs.budget import SpendCaps
from leadenrich.sqlite.buffer import SqliteLeadBuffer
from leadenrich.sqlite.db import Database
from leadenrich.sqlite.spend import SqliteSpendLedger

PACKAGE = Path(__file__).resolve().parents[2] / "layers/common/leadenrich/buffer"
NOW = datetime(2026, 6, 15, 12, tzinfo=UTC)


def test_the_buffer_package_imports_no_aws_http_sql_or_adapter() -> None:
    forbidden: tuple[str, ...] = ("boto3", "botocore", "httpx", "supabase", "postgrest", "sqlite3")
    forbidden += ("leadenrich.aws", "leadenrich.sqlite", "leadenrich.supabase", "leadenrich.runtime")
    found = []
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            names += [node.module] if isinstance(node, ast.ImportFrom) and node.module else []
            found += [f"{path.name}: {n}" for n in names if n.startswith(forbidden)]
    assert found == []


def test_a_leads_identity_is_its_address_else_its_person_else_its_company() -> None:
    company = lead_key(Lead(domain="https://www.Acme.com/about"))
    assert company == lead_key(Lead(domain="acme.com")) == "d:acme.com"
    person = lead_key(Lead(domain="acme.com", first_name="José", last_name="García"))
    assert person == lead_key(Lead(domain="www.acme.com", first_name="jose ", last_name="GARCIA"))
    assert person.startswith("p:") and person != lead_key(
        Lead(domain="globex.io", first_name="José", last_name="García")
    )
    address = lead_key(Lead(email="Ada@Acme.com"))
    assert address.startswith("e:") and address == lead_key(
        Lead(email="ada@acme.com", first_name="Ada", last_name="X")
    )
    assert "ada" not in address and "garcia" not in person


def test_lead_ids_sort_as_leads_were_pushed() -> None:
    first, later = new_lead_ids(NOW, 300), new_lead_ids(NOW + timedelta(milliseconds=1), 2)
    assert first == sorted(first) and len(set(first)) == 300 and max(first) < min(later)
    assert all(i.startswith("lead_") and len(i) == 31 for i in first)


def test_an_address_leads_domain_is_the_addresss_and_a_webmail_address_is_a_person() -> None:
    lead = BufferLead.model_validate({"email": "Someone@Gmail.com"}).lead()
    assert (lead.email, lead.domain) == ("someone@gmail.com", "gmail.com")


def result(
    status: LeadStatus, reason: str | None = None, *, hunter: int = 0, cached: int = 0
) -> EnrichmentResult:
    usage = Usage()
    usage.hunter.calls, usage.hunter.cache_hits = hunter, cached
    return EnrichmentResult("acme.com", status, reason=reason, usage=usage)


def test_a_runs_outcome_becomes_the_enrichment_record() -> None:
    done = enrichment_of(result(LeadStatus.NOT_FOUND, "no decision-maker address found", hunter=2), NOW)
    assert (done.status, done.error, done.sources_used, done.sources_failed) == (
        EnrichmentStatus.COMPLETED,
        None,
        ("hunter",),
        (),
    )
    assert done.result is not None and done.result["status"] == "not_found" and done.enriched_at == NOW
    failed = enrichment_of(
        result(LeadStatus.FAILED, "hunter: permanent: the API key was refused (401)", hunter=1), NOW
    )
    assert (failed.status, failed.sources_failed) == (EnrichmentStatus.FAILED, ("hunter",))
    assert failed.error == "hunter: permanent: the API key was refused (401)"
    waiting = enrichment_of(
        result(LeadStatus.DEFERRED, "time budget ran out before the next provider call"), NOW
    )
    assert (waiting.status, waiting.sources_used, waiting.sources_failed) == (
        EnrichmentStatus.DEFERRED,
        (),
        (),
    )
    assert enrichment_of(result(LeadStatus.FOUND, cached=1), NOW).sources_used == ("hunter",)


async def test_the_workspace_gate_holds_the_monthly_budget_and_records_spend(database: Database) -> None:
    caps = SpendCaps(SqliteSpendLedger(database), default_monthly_credits=2, clock=lambda: NOW)
    gate = WorkspaceGate(caps, "acme", clock=lambda: NOW)
    await gate.allow(Provider.HUNTER)
    await gate.record(Provider.HUNTER, credits=1.5, cost_usd=0.0)
    await gate.record(Provider.PERPLEXITY, credits=0.0, cost_usd=0.01)
    await gate.allow(Provider.HUNTER)  # 1.5 of 2
    await gate.record(Provider.HUNTER, credits=1.0, cost_usd=0.0)
    with pytest.raises(BudgetReached, match="workspace_monthly_credits"):
        await gate.allow(Provider.HUNTER)
    status = await caps.status("acme")
    assert (status.spent.credits, status.spent.cost_usd) == (2.5, 0.01)
    await caps.set_monthly_credits("acme", 0)  # none: no cap
    await WorkspaceGate(caps, "acme", clock=lambda: NOW).allow(Provider.HUNTER)


@dataclass
class Slow:
    """An engine whose run lasts past the claim's lease, during which `meanwhile` runs (another caller)."""

    clock: list[datetime]
    meanwhile: list[object] = field(default_factory=list)
    runs: int = 0

    async def enrich(
        self,
        lead: Lead,
        deadline: Deadline | None = None,
        budget: SpendGate | None = None,
        screen: Screen | None = None,
    ) -> EnrichmentResult:
        self.runs += 1
        if self.runs == 1:
            self.clock[0] += timedelta(seconds=120)  # past the 60 s lease
            for step in self.meanwhile:
                await step  # type: ignore[misc]
        return EnrichmentResult(lead.domain, LeadStatus.NOT_FOUND)


async def test_a_claim_lost_while_enriching_moves_on_to_the_next_lead(database: Database) -> None:
    """Given a call whose enrichment outlasts its lease while another caller takes the lead over, when it
    tries to serve, then it is refused and serves the next lead instead: no lead goes to two callers."""
    now = [NOW]
    store = SqliteLeadBuffer(database)
    slow = Slow(now)
    service = BufferService(store, engine=lambda: Engine(slow, slow), clock=lambda: now[0])
    await service.push(
        "acme",
        PushRequest.model_validate({"namespace": "n", "leads": [{"domain": "a.com"}, {"domain": "b.com"}]}),
    )
    other = BufferService(store, engine=lambda: Engine(slow, slow), clock=lambda: now[0])
    taken: list[str] = []

    async def steal() -> None:
        record = await other.next("acme", NextRequest(namespace="n", parent_run_id="thief"))
        assert record is not None
        taken.append(record.lead.domain)

    slow.meanwhile.append(steal())
    mine = await service.next("acme", NextRequest(namespace="n", parent_run_id="slow"))
    assert taken == ["a.com"] and mine is not None and mine.lead.domain == "b.com"
    assert mine.parent_run_id == "slow"
