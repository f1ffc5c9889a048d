"""The SQLite spend ledger on a real file: adds racing in threads on two `Database` objects (two
processors, or the local gateway's threads) lose nothing, sums of sub-cent prices stay exact, and the
spend and budgets outlive the process's `Database`."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from leadenrich.jobs.budget import Spend, SpendLedger
from leadenrich.sqlite.db import Database
from leadenrich.sqlite.spend import SqliteSpendLedger

JOB, MONTH = "job:j1", "month:2026-11"


def conforms(ledger: SqliteSpendLedger) -> SpendLedger:
    """mypy checks the adapter against the port here."""
    return ledger


def test_adds_racing_in_threads_lose_nothing(path: Path) -> None:
    databases = [Database(path), Database(path)]
    ledgers = [SqliteSpendLedger(db) for db in databases]
    threads, adds = 16, 25
    start = threading.Barrier(threads, timeout=30)

    def spend(index: int) -> None:
        start.wait()  # each thread opens a connection of its own from here

        async def many() -> None:
            for _ in range(adds):
                await ledgers[index % 2].add("acme", [JOB, MONTH], Spend(credits=0.5, cost_usd=0.005))

        asyncio.run(many())

    try:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(spend, range(threads)))
        spent = asyncio.run(ledgers[0].spent("acme", [JOB, MONTH]))
    finally:
        for db in databases:
            db.close()
    calls = threads * adds
    assert spent[JOB] == spent[MONTH] == Spend(credits=0.5 * calls, cost_usd=2.0)  # exact, not approx


async def test_sub_cent_prices_sum_exactly(db: Database) -> None:
    ledger = SqliteSpendLedger(db)
    for _ in range(10):
        await ledger.add("acme", [JOB], Spend(cost_usd=0.001))
    assert (await ledger.spent("acme", [JOB]))[JOB].cost_usd == 0.01  # 0.1 + 0.2 style drift would fail


async def test_scopes_and_workspaces_are_apart(db: Database) -> None:
    ledger = SqliteSpendLedger(db)
    await ledger.add("acme", [JOB, MONTH, JOB], Spend(credits=1))  # a scope named twice counts once
    await ledger.add("globex", [JOB], Spend(credits=7))
    spent = await ledger.spent("acme", [JOB, MONTH, "job:other"])
    assert spent == {JOB: Spend(credits=1), MONTH: Spend(credits=1), "job:other": Spend()}
    assert await ledger.spent("acme", []) == {}


async def test_spend_and_budgets_outlive_the_database_object(path: Path) -> None:
    before = Database(path)
    ledger = SqliteSpendLedger(before)
    await ledger.add("acme", [MONTH], Spend(credits=3, cost_usd=0.25))
    await ledger.set_monthly_credits("acme", 500)
    await ledger.set_monthly_credits("globex", 0)
    before.close()

    after = Database(path)
    try:
        ledger = SqliteSpendLedger(after)
        assert (await ledger.spent("acme", [MONTH]))[MONTH] == Spend(credits=3, cost_usd=0.25)
        assert await ledger.monthly_credits("acme") == 500
        assert await ledger.monthly_credits("globex") == 0  # "no budget" is a setting, not its absence
        assert await ledger.monthly_credits("initech") is None
        await ledger.set_monthly_credits("acme", 800)
        assert await ledger.monthly_credits("acme") == 800
        await ledger.set_monthly_credits("acme", None)
        assert await ledger.monthly_credits("acme") is None
    finally:
        after.close()
