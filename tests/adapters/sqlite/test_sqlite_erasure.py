"""The erasure's SQLite erasers on a real file: the workspace's job items, the cache and the webhook records,
and the lead buffer, by the rules every store shares (tests/support/erasure_world.py)."""

from __future__ import annotations

from leadenrich.sqlite.buffer import SqliteLeadBuffer
from leadenrich.sqlite.buffer_erasure import SqliteBufferErasure
from leadenrich.sqlite.cache import SqliteCache
from leadenrich.sqlite.db import Database
from leadenrich.sqlite.erasure import SqliteErasure
from leadenrich.sqlite.job_store import SqliteJobStore
from leadenrich.sqlite.webhook_log import SqliteWebhookLog
from tests.support.erasure_world import (
    ADA_HOOK,
    ADA_PERSON,
    BUFFER_ERASED,
    ERASED_COUNTS,
    NOW,
    OTHER,
    WS,
    check_buffer,
    check_cache,
    check_items,
    erase_ada,
    hook_delivery,
    seed_buffer,
    seed_cache,
    seed_items,
    sqlite_text,
    traces,
)


async def test_an_erasure_leaves_nothing_of_the_person_in_the_workspace_or_the_shared_records(
    db: Database,
) -> None:
    store, cache, hooks = SqliteJobStore(db), SqliteCache(db), SqliteWebhookLog(db)
    await seed_items(store)
    await seed_cache(cache)
    await hooks.schedule(hook_delivery(WS, ADA_HOOK), 1, NOW)
    await hooks.schedule(hook_delivery(OTHER, ADA_HOOK), 1, NOW)  # another workspace's callback
    await hooks.schedule(hook_delivery(WS, "https://hooks.example.com/plain"), 2, NOW)
    eraser = SqliteErasure(db)

    counts, links = await erase_ada(eraser)

    assert ADA_PERSON in links.people  # her address named her: she is erased by name too
    assert counts == ERASED_COUNTS
    await check_items(store)
    await check_cache(cache)
    due = await hooks.due(NOW, 10)
    assert {(d.workspace_id, d.url) for _, d, _ in due} == {
        (OTHER, ADA_HOOK),
        (WS, "https://hooks.example.com/plain"),
    }
    mine = {"job_items": f"workspace_id = '{WS}'", "webhook_outbox": f"delivery NOT LIKE '%{OTHER}%'"}
    assert traces(sqlite_text(db, mine)) == []
    again, _ = await erase_ada(eraser)
    assert again == {place: (0, 0) for place in ERASED_COUNTS}  # a repeat finds nothing more


async def test_without_the_job_items_and_on_a_file_without_the_tables_it_erases_what_there_is(
    db: Database,
) -> None:
    eraser = SqliteErasure(db, items=False)
    assert eraser.places == ("cache", "webhooks")
    counts, links = await erase_ada(eraser)
    assert counts == {"cache": (0, 0), "webhooks": (0, 0)} and links.empty
    await seed_items(SqliteJobStore(db))
    await erase_ada(eraser)
    assert "ada.lovelace" in sqlite_text(db, {"job_items": f"workspace_id = '{WS}'"})  # not its place


async def test_an_erasure_reaches_the_lead_buffer_and_keeps_only_its_registrys_hash(db: Database) -> None:
    buffer = SqliteLeadBuffer(db)
    await seed_buffer(buffer)
    eraser = SqliteBufferErasure(db)

    counts, links = await erase_ada(eraser)

    assert ADA_PERSON in links.people  # her served lead's result names her
    assert counts == {"buffer": BUFFER_ERASED}
    await check_buffer(buffer)
    mine = {
        "buffer_leads": f"workspace_id = '{WS}'",
        "buffer_cursors": f"workspace_id = '{WS}'",
        "buffer_served": f"workspace_id = '{WS}'",
    }
    assert traces(sqlite_text(db, mine)) == []
    again, _ = await erase_ada(eraser)
    assert again == {"buffer": (0, 0)}
