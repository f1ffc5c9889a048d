"""The DynamoDB spend ledger on moto: concurrent adds from two adapters (two processors) lose nothing, sums
are exact, reads page past BatchGetItem's 100 keys, and its rows sit in the shared table's workspace
partition, where the rate limiter and the quota live too."""

from __future__ import annotations

import asyncio
from typing import Any

import boto3
import pytest

from leadenrich.aws.dynamo_schema import create_table
from leadenrich.aws.dynamo_spend import DynamoSpendLedger
from leadenrich.jobs.budget import Spend, SpendLedger

TABLE = "leadenrich-test"
JOB, MONTH = "job:j1", "month:2026-11"


@pytest.fixture
def client(mocked_aws: None) -> Any:
    dynamo = boto3.client("dynamodb", region_name="us-east-1")
    create_table(dynamo, TABLE)
    return dynamo


def ledger_on(client: Any) -> DynamoSpendLedger:
    return DynamoSpendLedger(TABLE, client, serialize_calls=True)  # moto is not thread-safe


def conforms(ledger: DynamoSpendLedger) -> SpendLedger:
    """mypy checks the adapter against the port here."""
    return ledger


async def test_concurrent_adds_from_two_processors_lose_nothing(client: Any) -> None:
    first, second = ledger_on(client), ledger_on(client)
    calls = 120
    await asyncio.gather(
        *(
            (first if n % 2 else second).add("acme", [JOB, MONTH], Spend(credits=0.5, cost_usd=0.005))
            for n in range(calls)
        )
    )
    spent = await first.spent("acme", [JOB, MONTH])
    assert spent[JOB] == spent[MONTH] == Spend(credits=0.5 * calls, cost_usd=0.6)  # exact decimals


async def test_rows_are_in_the_workspace_s_spend_partition(client: Any) -> None:
    ledger = ledger_on(client)
    await ledger.add("acme", [JOB], Spend(credits=2, cost_usd=0.005))
    await ledger.set_monthly_credits("acme", 1000)
    row = client.get_item(TableName=TABLE, Key={"PK": {"S": "WS#acme#SPEND"}, "SK": {"S": JOB}})["Item"]
    assert row["credits"] == {"N": "2"} and row["cost_usd"] == {"N": "0.005"}
    assert "expires_at" not in row  # a job's spend lasts as long as the job
    budget = client.get_item(TableName=TABLE, Key={"PK": {"S": "WS#acme#SPEND"}, "SK": {"S": "BUDGET"}})
    assert budget["Item"]["monthly_credits"] == {"N": "1000"}


async def test_reads_page_past_a_batch_and_name_every_scope(client: Any) -> None:
    ledger = ledger_on(client)
    scopes = [f"job:{n:03}" for n in range(150)]
    await ledger.add("acme", scopes[::7], Spend(credits=1))
    spent = await ledger.spent("acme", scopes)
    assert list(spent) == scopes
    assert {s for s, v in spent.items() if v.credits == 1} == set(scopes[::7])
    assert all(v == Spend() for s, v in spent.items() if s not in scopes[::7])


async def test_workspaces_and_budgets_are_apart(client: Any) -> None:
    ledger = ledger_on(client)
    await ledger.add("acme", [MONTH], Spend(credits=3))
    assert (await ledger.spent("globex", [MONTH]))[MONTH] == Spend()
    assert await ledger.monthly_credits("acme") is None
    await ledger.set_monthly_credits("acme", 0)
    assert await ledger.monthly_credits("acme") == 0  # "no budget" is a setting, not its absence
    await ledger.set_monthly_credits("acme", 250)
    assert await ledger.monthly_credits("acme") == 250 and await ledger.monthly_credits("globex") is None
    await ledger.set_monthly_credits("acme", None)
    assert await ledger.monthly_credits("acme") is None
    await ledger.add("acme", [MONTH], Spend())  # nothing to add: no write, no row
    assert (await ledger.spent("acme", [MONTH]))[MONTH] == Spend(credits=3)
