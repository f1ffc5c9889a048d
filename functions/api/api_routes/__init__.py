"""The API's routes, one Powertools `Router` per concern: jobs, job control (PATCH, bulk), items,
operations (dead letters, metrics, Supabase stats), the workspace's budget and health. Each route makes
one job-service call and answers a view of its result (`leadenrich.jobs.views`); every response it can
send is declared (`api_responses`)."""

from __future__ import annotations

from api_routes import budget, health, items, job_control, jobs, operations

ROUTERS = (
    jobs.router,
    job_control.router,
    items.router,
    operations.router,
    budget.router,
    health.router,
)

__all__ = ["ROUTERS"]
