"""A bounce's effects on the embedded stack's real adapters (one SQLite file): the address marked in the
workspace's items, suppressed, the domain's pattern doubted, the lead re-queued when the workspace asks,
everything once however often the feedback comes, audited by hash, and nothing of another workspace's
touched."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from leadenrich.bounces.models import BounceEvent, BounceKind
from leadenrich.bounces.service import REQUEUE_TAG, BounceService, requeue_key
from leadenrich.engine.cache import ResultCache
from leadenrich.jobs.creation import JobCreation
from leadenrich.privacy.identity import email_identity
from leadenrich.privacy.ports import AuditQuery, SuppressionReason, WorkspaceSettings
from leadenrich.sqlite.audit import SqliteAuditLog
from leadenrich.sqlite.bounces import SqliteBouncedAddresses
from leadenrich.sqlite.cache import SqliteCache
from leadenrich.sqlite.db import Database
from leadenrich.sqlite.job_store import SqliteJobStore
from leadenrich.sqlite.queue import SqliteWorkQueue
from leadenrich.sqlite.suppression import SqliteSuppressionList
from tests.support.bounce_world import (
    BOUNCED,
    COMPLAINED,
    JOB_ID,
    KEPT,
    LEAD,
    OTHER,
    UNDELIVERABLE,
    WS,
    addresses_of,
    found_result,
    seed_items,
)

REQUEUE = WorkspaceSettings(requeue_on_bounce=True)


class World:
    def __init__(self, db: Database) -> None:
        self.store = SqliteJobStore(db)
        self.queue = SqliteWorkQueue(db)
        self.suppressions = SqliteSuppressionList(db)
        self.audit = SqliteAuditLog(db)
        self.cache = ResultCache(SqliteCache(db))
        self.service = BounceService(
            [SqliteBouncedAddresses(db)],
            self.suppressions,
            self.audit,
            self.cache,
            jobs=JobCreation(self.store, self.queue),
        )

    async def item(self, workspace: str) -> dict[str, tuple[str, str, str]]:
        found = await self.store.get_item(workspace, JOB_ID[workspace], "000000")
        assert found is not None
        return addresses_of(found)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    db = Database(tmp_path / "state.sqlite3")
    yield World(db)
    db.close()


async def test_a_hard_bounce_marks_suppresses_doubts_the_pattern_and_requeues_once(world: World) -> None:
    await seed_items(world.store)
    hard = BounceEvent("msg-1", BounceKind.HARD, BOUNCED, "Permanent/General")
    report = await world.service.apply(WS, "ses", [hard], REQUEUE, source_ip="203.0.113.9")

    assert await world.item(WS) == {BOUNCED: UNDELIVERABLE, KEPT: ("active", "deliverable", "verified")}
    assert report.marked == {"job_items": 1} and report.suppressed == 1
    entry = (await world.suppressions.list(WS)).items[0]
    assert (entry.identity.key, entry.reason) == (email_identity(BOUNCED).key, SuppressionReason.BOUNCE)
    assert await world.cache.pattern_bounced("acme.com") and not await world.cache.pattern_bounced(
        "globex.io"
    )
    job_id = report.requeued[BOUNCED].job_id
    assert job_id is not None
    requeued = await world.store.get_job(WS, job_id)
    assert requeued is not None and requeued.options.tags == (REQUEUE_TAG,)
    assert requeued.idempotency_key == requeue_key(BOUNCED) and BOUNCED not in requeued.idempotency_key
    [item] = (await world.store.list_items(WS, job_id)).items
    assert item.lead == LEAD
    assert len(await world.queue.receive(10, visibility_timeout=30)) == 1  # the new item is queued

    # Another bounce of the same address (SES sends one per message): nothing more changes.
    again = await world.service.apply(WS, "ses", [BounceEvent("msg-2", BounceKind.HARD, BOUNCED)], REQUEUE)
    assert again.marked == {} and again.suppressed == 0 and again.requeued[BOUNCED].job_id == job_id
    assert len((await world.store.list_jobs(WS)).items) == 2

    # The other workspace: its item, list and jobs as they were.
    other = await world.store.get_item(OTHER, JOB_ID[OTHER], "000000")
    assert other is not None and other.result == found_result()
    assert (await world.suppressions.list(OTHER)).items == []
    assert len((await world.store.list_jobs(OTHER)).items) == 1


async def test_complaints_suppress_soft_bounces_change_nothing_and_every_event_is_audited(
    world: World,
) -> None:
    await seed_items(world.store)
    events = [
        BounceEvent("sg-1", BounceKind.COMPLAINT, COMPLAINED, "spamreport"),
        BounceEvent("sg-2", BounceKind.SOFT, KEPT, "bounce/blocked"),
        BounceEvent("sg-3", BounceKind.SOFT, BOUNCED, "bounce/blocked"),
    ]
    report = await world.service.apply(WS, "sendgrid", events, WorkspaceSettings(), source_ip="203.0.113.9")
    assert report.marked == {} and report.suppressed == 1 and report.requeued == {}
    entries = (await world.suppressions.list(WS)).items
    assert [(e.identity.key, e.reason) for e in entries] == [
        (email_identity(COMPLAINED).key, SuppressionReason.COMPLAINT)
    ]
    assert (await world.item(WS))[BOUNCED] != UNDELIVERABLE
    assert not await world.cache.pattern_bounced("acme.com")
    trail = (await world.audit.query(AuditQuery(WS))).items
    assert sorted((e.action, e.target, e.actor) for e in trail) == sorted(
        [
            ("bounce.complaint", email_identity(COMPLAINED).key, "webhook"),
            ("bounce.soft", email_identity(KEPT).key, "webhook"),
            ("bounce.soft", email_identity(BOUNCED).key, "webhook"),
        ]
    )
    assert {e.source_ip for e in trail} == {"203.0.113.9"}
    text = json.dumps([e.detail for e in trail] + [e.target for e in trail])
    assert "@" not in text  # hashed targets, no address in any detail


async def test_without_the_setting_nothing_is_requeued_and_the_audit_says_why(world: World) -> None:
    await seed_items(world.store)
    report = await world.service.apply(WS, "postmark", [BounceEvent("Bounce-42", BounceKind.HARD, BOUNCED)],
                                       WorkspaceSettings())  # fmt: skip
    assert report.requeued[BOUNCED].job_id is None and report.requeued[BOUNCED].note == "off"
    assert len((await world.store.list_jobs(WS)).items) == 1
    [entry] = (await world.audit.query(AuditQuery(WS))).items
    assert entry.action == "bounce.hard" and entry.job_id is None
    assert entry.detail["held"] == {"job_items": 1} and entry.detail["pattern_doubted"] is True
    assert entry.detail["requeue"] == {"note": "off"}


async def test_a_bounce_of_an_address_no_item_holds_is_suppressed_and_nothing_else(world: World) -> None:
    await seed_items(world.store)
    stranger = "someone@initech.example"
    report = await world.service.apply(WS, "ses", [BounceEvent("m", BounceKind.HARD, stranger)], REQUEUE)
    assert report.marked == {} and report.doubted_domains == [] and report.suppressed == 1
    assert report.requeued[stranger].note == "no lead held the address"
    assert len((await world.store.list_jobs(WS)).items) == 1
