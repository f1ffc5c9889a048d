"""A 451 suppresses across workspaces, end to end: jobs run by the processor (each run a new processor with
a fresh cache, as each Lambda invocation has) on every backend (SQLite; DynamoDB + SQS on moto; Supabase +
SQS), the providers on the simulator, the suppression lists where the runtime keeps them (the SQLite file,
or the DynamoDB table whatever holds the jobs). Whoever Hunter answered 451 for in one workspace's job is
never asked for again, nor stored or returned, by a job of another."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from datetime import time as day_time
from pathlib import Path

import pytest

from leadenrich.aws.dynamo_suppression import DynamoSuppressionList
from leadenrich.engine.cache import InMemoryCache, ResultCache
from leadenrich.engine.providers.hunter import HunterClient
from leadenrich.engine.providers.perplexity import PerplexityClient
from leadenrich.engine.verification import Verifier
from leadenrich.engine.waterfall import Enricher
from leadenrich.jobs.models import Item, ItemStatus
from leadenrich.jobs.processor import Processor, ProcessorSettings
from leadenrich.jobs.requests import CreateJobRequest
from leadenrich.privacy.identity import email_identity, person_identity
from leadenrich.privacy.ports import SERVICE_WIDE, SuppressionList, SuppressionReason
from leadenrich.privacy.suppression import WorkspaceScreen
from leadenrich.sqlite.db import Database
from leadenrich.sqlite.suppression import SqliteSuppressionList
from tests.jobs.suite.conftest import backend, simulator
from tests.support.backends import PROCESSOR_DEFAULTS, TABLE, Backend, DynamoBackend, SupabaseBackend
from tests.support.simulator import TODAY

# The processor suite's fixtures, used here: `backend` (one per backend) and the simulator it runs on.
__all__ = ["backend", "simulator"]
DOMAIN = "brightlane.co.uk"
CLAIMED = "aoife.osullivan@brightlane.co.uk"  # the simulator's co-founder who asked Hunter to forget her
AOIFE = {"domain": DOMAIN, "first_name": "Aoife", "last_name": "O'Sullivan"}


@pytest.fixture
async def lists(backend: Backend, tmp_path: Path) -> AsyncIterator[SuppressionList]:
    """The lists beside the backend's limiter: its DynamoDB table, or a SQLite file."""
    if isinstance(backend, DynamoBackend | SupabaseBackend):
        yield DynamoSuppressionList(TABLE, backend.dynamodb, serialize_calls=True)
        return
    db = Database(tmp_path / "suppressions.sqlite3")
    yield SqliteSuppressionList(db)
    db.close()


def processor(backend: Backend, lists: SuppressionList) -> Processor:
    """A new processor, with a cache of its own, screening each item with its workspace's lists."""
    enricher = Enricher(
        HunterClient("sim-hunter-key", base_url=backend.sim.hunter_base_url),
        PerplexityClient("sim-pplx-key", base_url=backend.sim.perplexity_base_url),
        ResultCache(InMemoryCache()),
        clock=lambda: datetime.combine(TODAY, day_time(12), UTC),
    )
    return Processor(
        backend.store,
        backend.queue,
        enricher,
        ProcessorSettings(**PROCESSOR_DEFAULTS),
        clock=backend.now,
        verifier=Verifier.beside(enricher),
        screen=functools.partial(WorkspaceScreen, lists),
    )


async def run(
    backend: Backend, lists: SuppressionList, workspace: str, request: CreateJobRequest
) -> list[Item]:
    created = await backend.service().create_job(workspace, request)
    await processor(backend, lists).drain()
    return await backend.items(created.job.job_id, workspace)


def returned(items: list[Item]) -> set[str]:
    return {str(e["email"]) for item in items for e in (item.result or {}).get("emails", [])}


def statuses_451(backend: Backend, endpoint: str) -> int:
    return int(backend.sim.ledger.snapshot()["statuses"].get(f"hunter.{endpoint}", {}).get("451", 0))


async def test_an_address_hunter_refused_is_never_verified_again_in_any_workspace(
    backend: Backend, lists: SuppressionList
) -> None:
    [first] = await run(backend, lists, "acme", CreateJobRequest(emails=[CLAIMED]))
    assert first.status is ItemStatus.NOT_FOUND and statuses_451(backend, "email_verifier") == 1
    listed = (await lists.list(SERVICE_WIDE)).items
    assert [(s.identity.key, s.reason) for s in listed] == [
        (email_identity(CLAIMED).key, SuppressionReason.OPTED_OUT)
    ]

    calls = backend.sim.ledger.snapshot()["hunter_calls"]
    [again] = await run(backend, lists, "globex", CreateJobRequest(emails=[CLAIMED.upper()]))
    assert again.status is ItemStatus.NOT_FOUND and (again.reason or "").startswith("suppressed")
    assert backend.sim.ledger.snapshot()["hunter_calls"] == calls  # no call at all
    assert returned([first, again]) == set()


async def test_a_person_hunter_refused_is_never_searched_again_in_any_workspace(
    backend: Backend, lists: SuppressionList
) -> None:
    first = await run(backend, lists, "acme", CreateJobRequest.model_validate({"leads": [AOIFE]}))
    assert statuses_451(backend, "email_finder") == 1
    assert await lists.suppressed("initech", [person_identity("Aoife", "O'Sullivan", DOMAIN).key])
    assert CLAIMED not in returned(first) and first[0].status is ItemStatus.FOUND  # her co-founder instead

    again = await run(backend, lists, "globex", CreateJobRequest.model_validate({"leads": [AOIFE]}))
    assert statuses_451(backend, "email_finder") == 1  # never asked for again
    assert statuses_451(backend, "email_verifier") == 0  # nor her address guessed and verified
    assert CLAIMED not in returned(again) and "suppressed" in (again[0].reason or "")
