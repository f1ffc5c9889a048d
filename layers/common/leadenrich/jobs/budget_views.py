"""What `GET /budget` answers (and `enrich budget show --json` prints): a workspace's monthly credit budget
and its spend this UTC month, from `leadenrich.jobs.budget.BudgetStatus`. Its own module so the job views
stay about jobs."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from leadenrich.jobs.budget import BudgetStatus
from leadenrich.jobs.views import View


class BudgetView(View):
    workspace_id: str
    month: str = Field(description="the UTC month the spend is counted in, yyyy-mm", pattern=r"^\d{4}-\d{2}$")
    monthly_credits: int | None = Field(
        description="the Hunter credits the workspace may spend this month; null: no budget", ge=1
    )
    source: Literal["workspace", "default", "none"] = Field(
        description="where the budget comes from: the workspace's own setting (`enrich budget set`), the "
        "deployment's default (WorkspaceMonthlyCredits), or none"
    )
    credits_spent: float = Field(description="Hunter credits spent this month, every job together", ge=0)
    cost_usd_spent: float = Field(
        description="Perplexity dollars spent this month (not capped monthly)", ge=0
    )
    credits_left: float | None = Field(
        description="what is left of the budget (0 once it is reached: paid calls then pause the jobs with "
        "reason budget_reached); null: no budget",
        ge=0,
    )

    @classmethod
    def of(cls, status: BudgetStatus) -> BudgetView:
        if status.monthly_credits is None:
            source: Literal["workspace", "default", "none"] = "none"
        else:
            source = "workspace" if status.stored_monthly_credits is not None else "default"
        return cls(
            workspace_id=status.workspace_id,
            month=status.month,
            monthly_credits=status.monthly_credits,
            source=source,
            credits_spent=status.spent.credits,
            cost_usd_spent=status.spent.cost_usd,
            credits_left=status.credits_left,
        )


__all__ = ["BudgetView"]
