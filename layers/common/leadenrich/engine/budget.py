"""Spend caps as the engine sees them: a gate asked before each paid call, told after it what it cost.

The engine knows nothing of jobs or workspaces: whoever runs a lead (the job processor) hands the waterfall a
`SpendGate` for that lead, and the waterfall asks it before every call that may bill (a cache hit costs
nothing and asks nothing). A gate that says no raises `BudgetReached`; the waterfall then stops the lead
before the call, and its result says so (`EnrichmentResult.budget_reached`): not an attempt, not a failure,
so the item waits for its job to be resumed with a higher cap. Overspend is bounded by the calls already in
flight when the cap was reached, each of which was allowed before the spend of the others was recorded.
"""

from __future__ import annotations

from typing import Protocol

from leadenrich.engine.models import Provider


class BudgetReached(Exception):
    """A cap was reached before a paid call; `scope` names which (job credits, job dollars, workspace)."""

    def __init__(self, scope: str) -> None:
        super().__init__(f"budget reached: {scope}")
        self.scope = scope


class SpendGate(Protocol):
    async def allow(self, provider: Provider) -> None:
        """Before a paid call to `provider`: return when it may be made, raise BudgetReached when not."""
        ...

    async def record(self, provider: Provider, *, credits: float, cost_usd: float) -> None:
        """After a paid call: what it cost (Hunter credits, Perplexity dollars)."""
        ...


__all__ = ["BudgetReached", "SpendGate"]
