"""The API's routes, one Powertools `Router` per concern: jobs, items, operations (dead letters, metrics,
Supabase stats) and health. Each route makes one job-service call and answers a view of its result
(`leadenrich.jobs.views`); every response it can send is declared (`api_responses`)."""

from __future__ import annotations

from api_routes import health, items, jobs, operations

ROUTERS = (jobs.router, items.router, operations.router, health.router)

__all__ = ["ROUTERS"]
