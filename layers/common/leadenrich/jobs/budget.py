"""Spend caps for jobs and workspaces: the `SpendGate` a job's item runs under, and the ledger behind it.

A job may carry `max_credits` (Hunter credits) and `max_cost_usd` (Perplexity dollars); a workspace may
have a monthly credit budget (`enrich budget set`, else the deployment's `WORKSPACE_MONTHLY_CREDITS`, 0 =
none). `JobBudget` is the engine's gate for one item of one job: before each paid call it reads the job's
spend and the workspace's spend this UTC month from the ledger and refuses (`BudgetReached`) once any cap
is reached; after the call it adds what the call cost to both. Any reached cap refuses every paid call of
the job, Hunter's and Perplexity's alike: the job pauses as a whole, and a lead half-way (Perplexity's
names bought, their addresses not yet verified) resumes from the cache instead of paying on one provider
for answers it cannot use on the other.

Why a ledger of its own and not the job's counters: the counters move when an item is finished or
deferred, so eight items in flight could each spend for seconds before any of it shows there. The ledger
moves after every call, and every processor reads the same rows, so the cap holds across processors.

The bound: a call is allowed while the spend read is under the cap, and its cost is added after it
answers. Calls allowed together each saw the spend without the others, so a cap is passed by at most
the calls in flight when it was reached: processors at once x items per processor (`PROCESSOR_CONCURRENCY`,
8), one paid call per item at a time (a lead's calls are sequential), each at most one call's price
(docs/spend-caps.md). Nothing is lost: a refused item is handed back without an attempt charged, with
every answer it paid for cached.

Where the ledger lives: with the rate limiter and the daily quota, whatever JOB_STORE says. In AWS that is
the DynamoDB table (`aws.dynamo_spend`: atomic `ADD` per row), on the embedded stack the SQLite file
(`sqlite.spend`). `runtime.py` keeps the limiter and the quota in the table even when Supabase holds the
jobs, so the ledger does too, and there is no Supabase adapter: every processor already reaches the
table for each paid call's rate-limit slot.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from leadenrich.engine.budget import BudgetReached
from leadenrich.engine.models import Provider
from leadenrich.jobs.models import Job
from leadenrich.settings_errors import SettingsError

# What `BudgetReached.scope` names, and the item's reason says after "budget_reached: ".
MAX_CREDITS = "max_credits"
MAX_COST_USD = "max_cost_usd"
WORKSPACE_MONTHLY_CREDITS = "workspace_monthly_credits"


@dataclass(frozen=True)
class Spend:
    """What was spent in one scope: Hunter credits and Perplexity dollars."""

    credits: float = 0.0
    cost_usd: float = 0.0


def job_scope(job_id: str) -> str:
    """The ledger scope of a job's spend (within its workspace)."""
    return f"job:{job_id}"


def month_scope(month: str) -> str:
    """The ledger scope of a workspace's spend in a UTC month (`yyyy-mm`)."""
    return f"month:{month}"


def utc_month(now: datetime) -> str:
    """`yyyy-mm` of `now` in UTC: a monthly budget starts again at 00:00 UTC on the 1st."""
    return now.astimezone(UTC).strftime("%Y-%m")


class SpendLedger(Protocol):
    """Spend per named scope of a workspace, shared by every processor, and the workspace's budget."""

    async def add(self, workspace_id: str, scopes: Sequence[str], spend: Spend) -> None:
        """Add `spend` to each scope atomically (concurrent adds never lose one another's)."""
        ...

    async def spent(self, workspace_id: str, scopes: Sequence[str]) -> dict[str, Spend]:
        """What each scope holds (strongly consistent); `Spend()` for a scope nothing was added to."""
        ...

    async def monthly_credits(self, workspace_id: str) -> int | None:
        """The workspace's stored monthly credit budget (0: none); None when it has no setting of its own."""
        ...

    async def set_monthly_credits(self, workspace_id: str, credits: int | None) -> None:
        """Store the workspace's monthly credit budget (0: none); None removes it (the default applies)."""
        ...


class BudgetSettings(BaseModel):
    """WORKSPACE_MONTHLY_CREDITS: every workspace's monthly credit budget unless it has its own; 0: none."""

    model_config = ConfigDict(frozen=True)

    workspace_monthly_credits: int = Field(default=0, ge=0)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> BudgetSettings:
        """From the environment; a SettingsError names the variable that is wrong."""
        env = os.environ if env is None else env
        value = env.get("WORKSPACE_MONTHLY_CREDITS")
        try:
            return cls.model_validate({"workspace_monthly_credits": value} if value else {})
        except ValidationError as exc:
            raise SettingsError(f"WORKSPACE_MONTHLY_CREDITS: {exc.errors()[0]['msg']}") from None


def _now() -> datetime:
    return datetime.now(UTC)


class JobBudget:
    """The `SpendGate` of one item of one job (make one per item run: it reads the workspace's budget
    setting once). Holds for every processor at once, because all of them read and add to one ledger."""

    def __init__(
        self,
        ledger: SpendLedger,
        job: Job,
        *,
        default_monthly_credits: int = 0,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._ledger = ledger
        self._workspace = job.workspace_id
        self._job_scope = job_scope(job.job_id)
        self._max_credits = job.options.max_credits
        self._max_cost_usd = job.options.max_cost_usd
        self._default = default_monthly_credits
        self._clock = clock
        self._monthly: int | None = None  # read on the first `allow`

    async def allow(self, provider: Provider) -> None:
        """Return when the job and its workspace are under every cap; BudgetReached naming the first
        reached otherwise. Reads nothing but the budget setting when there is no cap to check."""
        monthly = await self._monthly_credits()
        if self._max_credits is None and self._max_cost_usd is None and not monthly:
            return
        month = month_scope(utc_month(self._clock()))
        spent = await self._ledger.spent(self._workspace, [self._job_scope, month])
        job = spent[self._job_scope]
        if self._max_credits is not None and job.credits >= self._max_credits:
            raise BudgetReached(MAX_CREDITS)
        if self._max_cost_usd is not None and job.cost_usd >= self._max_cost_usd:
            raise BudgetReached(MAX_COST_USD)
        if monthly and spent[month].credits >= monthly:
            raise BudgetReached(WORKSPACE_MONTHLY_CREDITS)

    async def record(self, provider: Provider, *, credits: float, cost_usd: float) -> None:
        """Add the call's cost to the job and to the workspace's month (the month the call answered in);
        a free answer writes nothing. Recorded with or without caps, so a cap set later counts what was
        spent before it."""
        if credits == 0 and cost_usd == 0:
            return
        month = month_scope(utc_month(self._clock()))
        await self._ledger.add(self._workspace, [self._job_scope, month], Spend(credits, cost_usd))

    async def _monthly_credits(self) -> int:
        if self._monthly is None:
            stored = await self._ledger.monthly_credits(self._workspace)
            self._monthly = self._default if stored is None else stored
        return self._monthly


@dataclass(frozen=True)
class BudgetStatus:
    """A workspace's monthly budget and what it spent this month (`GET /budget`, `enrich budget show`)."""

    workspace_id: str
    month: str  # yyyy-mm, UTC
    stored_monthly_credits: int | None  # the workspace's own setting; None: the default applies
    default_monthly_credits: int
    spent: Spend

    @property
    def monthly_credits(self) -> int | None:
        """The budget in force; None when there is none."""
        stored = self.stored_monthly_credits
        effective = self.default_monthly_credits if stored is None else stored
        return effective or None

    @property
    def credits_left(self) -> float | None:
        budget = self.monthly_credits
        return None if budget is None else max(0.0, budget - self.spent.credits)


@dataclass(frozen=True)
class SpendCaps:
    """The ledger and the deployment's default budget: builds each item's gate (`for_job`) and answers
    for a workspace's budget. `runtime.spend_caps()` makes the process's one."""

    ledger: SpendLedger
    default_monthly_credits: int = 0
    clock: Callable[[], datetime] = _now

    def for_job(self, job: Job) -> JobBudget:
        """The gate one run of one of `job`'s items is handed (`Enricher.enrich(..., budget=...)`)."""
        return JobBudget(
            self.ledger, job, default_monthly_credits=self.default_monthly_credits, clock=self.clock
        )

    async def status(self, workspace_id: str) -> BudgetStatus:
        month = utc_month(self.clock())
        scope = month_scope(month)
        spent = await self.ledger.spent(workspace_id, [scope])
        return BudgetStatus(
            workspace_id=workspace_id,
            month=month,
            stored_monthly_credits=await self.ledger.monthly_credits(workspace_id),
            default_monthly_credits=self.default_monthly_credits,
            spent=spent[scope],
        )

    async def job_spent(self, workspace_id: str, job_id: str) -> Spend:
        """What the ledger holds for one job: what its caps are compared with."""
        scope = job_scope(job_id)
        return (await self.ledger.spent(workspace_id, [scope]))[scope]

    async def set_monthly_credits(self, workspace_id: str, credits: int | None) -> BudgetStatus:
        """Store (None: remove) the workspace's monthly credit budget; ValueError naming the field."""
        if credits is not None and credits < 0:
            raise ValueError("monthly_credits: 0 (no budget) or more")
        await self.ledger.set_monthly_credits(workspace_id, credits)
        return await self.status(workspace_id)


__all__ = [
    "MAX_COST_USD",
    "MAX_CREDITS",
    "WORKSPACE_MONTHLY_CREDITS",
    "BudgetSettings",
    "BudgetStatus",
    "JobBudget",
    "Spend",
    "SpendCaps",
    "SpendLedger",
    "job_scope",
    "month_scope",
    "utc_month",
]
