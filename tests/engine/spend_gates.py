"""A `SpendGate` for the engine's tests: a cap over a tally shared by the gates of several leads, as
`leadenrich.jobs.budget.JobBudget` is over a ledger, remembering what it was asked and told."""

from __future__ import annotations

import asyncio
from collections.abc import Sized
from dataclasses import dataclass, field

from leadenrich.engine.budget import BudgetReached, SpendGate
from leadenrich.engine.models import Provider


@dataclass
class Tally:
    credits: float = 0.0
    cost_usd: float = 0.0


@dataclass
class CappedGate:
    """Refuses once the shared tally reaches a cap; remembers when it was asked (how many calls had been
    made by then) and what it was told."""

    calls: Sized  # the calls made so far (a `Script.log`), to see when the gate was asked
    tally: Tally = field(default_factory=Tally)
    max_credits: float | None = None
    max_cost_usd: float | None = None
    delay: float = 0.0  # seconds `allow` takes (a ledger read)
    asked: list[tuple[Provider, int]] = field(default_factory=list)
    recorded: list[tuple[Provider, float, float]] = field(default_factory=list)

    async def allow(self, provider: Provider) -> None:
        self.asked.append((provider, len(self.calls)))
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.max_credits is not None and self.tally.credits >= self.max_credits:
            raise BudgetReached("max_credits")
        if self.max_cost_usd is not None and self.tally.cost_usd >= self.max_cost_usd:
            raise BudgetReached("max_cost_usd")

    async def record(self, provider: Provider, *, credits: float, cost_usd: float) -> None:
        self.recorded.append((provider, credits, cost_usd))
        self.tally.credits += credits
        self.tally.cost_usd += cost_usd

    def spent(self, provider: Provider) -> tuple[int, float, float]:
        """(calls, credits, dollars) this gate was told of for `provider`."""
        told = [(c, d) for p, c, d in self.recorded if p is provider]
        return len(told), sum(c for c, _ in told), sum(d for _, d in told)


def conforms(gate: CappedGate) -> SpendGate:
    """mypy checks the test gate against the port here."""
    return gate
