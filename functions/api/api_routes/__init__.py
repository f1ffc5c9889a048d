"""The API's routes, one Powertools `Router` per concern: jobs, job control (PATCH, bulk), items,
operations (dead letters, metrics, Supabase stats), the workspace's budget, health, the audit trail,
erasures, suppression lists, the workspace's personal-data settings, contact approval, the lead buffer
(push, next, served leads, cursors), person enrichment (`POST /enrich`), lead creation (`POST /leads`), and
uploads and exports through the object store (`POST /uploads`, `POST /jobs/{job_id}/exports`).
Each route makes one service call and answers a view of its result (`leadenrich.jobs.views`, or its own
views module); every response it can send is declared (`api_responses`)."""

from __future__ import annotations

from api_routes import (
    audit,
    budget,
    buffer,
    contacts,
    enrich,
    erasures,
    health,
    items,
    job_control,
    jobs,
    leads,
    operations,
    settings,
    suppressions,
    uploads,
)

ROUTERS = (
    jobs.router,
    job_control.router,
    items.router,
    operations.router,
    budget.router,
    health.router,
    audit.router,
    erasures.router,
    suppressions.router,
    settings.router,
    contacts.router,
    buffer.router,
    enrich.router,
    leads.router,
    uploads.router,
)

__all__ = ["ROUTERS"]
