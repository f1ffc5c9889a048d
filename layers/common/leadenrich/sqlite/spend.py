"""`SpendLedger` in the embedded SQLite file: one row per workspace and scope, and one budget row per
workspace.

An add is one upsert per scope (`ON CONFLICT ... DO UPDATE SET credits = credits + excluded.credits`), all
the scopes of one call in one `BEGIN IMMEDIATE` transaction: two processors (or the local gateway's
threads) adding at once are serialised by SQLite's write lock, so no add is lost, as DynamoDB's `ADD`
guarantees in AWS. Amounts are kept as integers of millionths (micro-credits, micro-dollars): sums of
Perplexity's sub-cent prices stay exact, where REAL columns would drift and a cap of $0.01 could read as
$0.009999999999.

Rows never expire, as in DynamoDB: one per job and one per workspace a month.
"""

from __future__ import annotations

from collections.abc import Sequence

from leadenrich.jobs.budget import Spend
from leadenrich.sqlite.db import Database

MICRO = 1_000_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS spend (
    workspace_id  TEXT NOT NULL,
    scope         TEXT NOT NULL,
    credits_micro INTEGER NOT NULL DEFAULT 0,
    cost_micro    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, scope)
);
CREATE TABLE IF NOT EXISTS spend_budget (
    workspace_id    TEXT PRIMARY KEY,
    monthly_credits INTEGER NOT NULL
);
"""


def _micro(amount: float) -> int:
    return round(amount * MICRO)


class SqliteSpendLedger:
    def __init__(self, db: Database) -> None:
        self._db = db
        db.ensure_schema("spend", _SCHEMA)

    async def add(self, workspace_id: str, scopes: Sequence[str], spend: Spend) -> None:
        credits, cost = _micro(spend.credits), _micro(spend.cost_usd)
        if credits == 0 and cost == 0:
            return
        with self._db.write() as conn:
            conn.executemany(
                "INSERT INTO spend (workspace_id, scope, credits_micro, cost_micro) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (workspace_id, scope) DO UPDATE SET"
                " credits_micro = credits_micro + excluded.credits_micro,"
                " cost_micro = cost_micro + excluded.cost_micro",
                [(workspace_id, scope, credits, cost) for scope in dict.fromkeys(scopes)],
            )

    async def spent(self, workspace_id: str, scopes: Sequence[str]) -> dict[str, Spend]:
        wanted = list(dict.fromkeys(scopes))
        if not wanted:
            return {}
        marks = ", ".join("?" for _ in wanted)  # placeholders only: the scopes are bound, never spliced
        query = (
            "SELECT scope, credits_micro, cost_micro FROM spend"  # noqa: S608
            f" WHERE workspace_id = ? AND scope IN ({marks})"
        )
        rows = self._db.read().execute(query, (workspace_id, *wanted)).fetchall()
        found = {row["scope"]: Spend(row["credits_micro"] / MICRO, row["cost_micro"] / MICRO) for row in rows}
        return {scope: found.get(scope, Spend()) for scope in wanted}

    async def monthly_credits(self, workspace_id: str) -> int | None:
        row = (
            self._db.read()
            .execute("SELECT monthly_credits FROM spend_budget WHERE workspace_id = ?", (workspace_id,))
            .fetchone()
        )
        return int(row["monthly_credits"]) if row else None

    async def set_monthly_credits(self, workspace_id: str, credits: int | None) -> None:
        with self._db.write() as conn:
            if credits is None:
                conn.execute("DELETE FROM spend_budget WHERE workspace_id = ?", (workspace_id,))
            else:
                conn.execute(
                    "INSERT INTO spend_budget (workspace_id, monthly_credits) VALUES (?, ?)"
                    " ON CONFLICT (workspace_id) DO UPDATE SET monthly_credits = excluded.monthly_credits",
                    (workspace_id, credits),
                )


__all__ = ["MICRO", "SqliteSpendLedger"]
