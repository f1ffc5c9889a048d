"""Processor Lambda, fired by EventBridge every minute: drain the queue within the time budget."""

from __future__ import annotations

import asyncio
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from leadenrich import runtime
from leadenrich.engine.providers.http import close_shared_http_client
from leadenrich.jobs.processor import DrainReport
from leadenrich.lambda_logging import route_package_logs
from leadenrich.supabase.client import close_supabase_clients

logger = Logger()
route_package_logs(logger)  # the package's log lines (job, attempt, status code...) as this logger's JSON

# Kept back from the function's own timeout: the budget must end before Lambda kills the invocation.
TIMEOUT_MARGIN_SECONDS = 5.0


async def _drain(budget: float) -> DrainReport:
    try:
        return await runtime.processor().drain(budget)
    finally:
        await close_shared_http_client()
        await close_supabase_clients()  # JOB_STORE=supabase: its client belongs to this invocation's loop


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    configured = runtime.processor().settings.budget_seconds
    remaining = context.get_remaining_time_in_millis() / 1000 - TIMEOUT_MARGIN_SECONDS
    report = asyncio.run(_drain(max(0.0, min(configured, remaining))))
    summary = {
        "received": report.received,
        "finished": report.finished,
        "deferred": report.deferred,
        "released": report.released,
        "dead": report.dead,
        "skipped": report.skipped,
        "duplicates": report.duplicates,
        "errors": report.errors,
        "seconds": round(report.seconds, 3),
        "completed_jobs": [job.job_id for job in report.completed_jobs],
    }
    logger.info("drained", extra=summary)
    return summary
