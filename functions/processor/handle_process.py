"""Processor Lambda, fired by EventBridge every minute: drain the queue within the time budget, then publish
the run's figures as CloudWatch metrics.

Metrics go out in CloudWatch's embedded metric format (EMF) through Powertools: JSON lines on stdout that
CloudWatch Logs turns into metrics, with no PutMetricData call and no IAM for it. Namespace
`POWERTOOLS_METRICS_NAMESPACE` (template.yaml: `LeadEnrich`), dimension `service` (`POWERTOOLS_SERVICE_NAME`,
`leadenrich`). Without a namespace nothing is published: the local stack runs this handler in a laptop's
process, where no CloudWatch reads stdout and the lines would only be noise. Each run publishes:
- one set with the `service` dimension alone: every figure in `RUN_METRICS`, zeros included (a quiet minute
  is a 0 on the dashboard, not a gap an alarm reads as missing data);
- one set per workspace that had items run in this run, with a `workspace` dimension too: the figures in
  `WORKSPACE_METRICS`. Every workspace dimension value is a metric CloudWatch bills for each hour it
  receives data, so a run publishes at most `WORKSPACE_SETS` of them: the workspaces with the most items
  in the run, and the rest summed under `workspace=OTHER_WORKSPACES`. A run therefore adds at most
  `(WORKSPACE_SETS + 1) * len(WORKSPACE_METRICS)` workspace streams, and an idle workspace none.
The dashboard in template.yaml shows every one of these (tests/infra/test_dashboard.py).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from leadenrich import runtime, runtime_intake, runtime_reverify
from leadenrich.engine.providers.http import close_shared_http_client
from leadenrich.jobs.models import Received
from leadenrich.jobs.processor_batch import process_batch
from leadenrich.jobs.processor_report import AttemptFigures, DrainReport
from leadenrich.lambda_logging import route_package_logs
from leadenrich.supabase.client import close_supabase_clients

logger = Logger()
route_package_logs(logger)  # the package's log lines (job, attempt, status code...) as this logger's JSON

# Kept back from the function's own timeout: the budget must end before Lambda kills the invocation.
TIMEOUT_MARGIN_SECONDS = 5.0

NAMESPACE_VARIABLE = "POWERTOOLS_METRICS_NAMESPACE"
DEFAULT_SERVICE = "leadenrich"  # POWERTOOLS_SERVICE_NAME's value in template.yaml
WORKSPACE_SETS = 10
# Never a workspace id: those start with a letter or a digit (`leadenrich.auth.keys.WORKSPACE_PATTERN`).
OTHER_WORKSPACES = "_other"

Figure = tuple[str, MetricUnit, float]


def _attempt_figures(figures: AttemptFigures) -> list[Figure]:
    usage = figures.usage
    return [
        ("ItemsProcessed", MetricUnit.Count, figures.items),
        ("ItemsFound", MetricUnit.Count, figures.found),
        ("ItemsFailed", MetricUnit.Count, figures.failed),
        ("ProviderThrottles", MetricUnit.Count, figures.throttled),
        ("HunterCalls", MetricUnit.Count, usage.hunter.calls),
        ("PerplexityCalls", MetricUnit.Count, usage.perplexity.calls),
        ("HunterCredits", MetricUnit.Count, usage.hunter.credits),
        # CloudWatch has no currency unit: dollars, as a plain number.
        ("PerplexityCostUSD", MetricUnit.NoUnit, usage.perplexity.cost_usd),
    ]


def run_figures(report: DrainReport) -> list[Figure]:
    """The run's figures, in `RUN_METRICS`' order: its outcomes as written (exact), then its attempts'."""
    cache_hits = report.attempts.usage.hunter.cache_hits + report.attempts.usage.perplexity.cache_hits
    return [
        ("ItemsReceived", MetricUnit.Count, report.received),
        ("ItemsFinished", MetricUnit.Count, report.finished),
        ("ItemsDeferred", MetricUnit.Count, report.deferred),
        ("ItemsHandedBack", MetricUnit.Count, report.released),
        ("ItemsDeadLettered", MetricUnit.Count, report.dead),
        ("ItemsSkipped", MetricUnit.Count, report.skipped),
        ("DuplicateDeliveries", MetricUnit.Count, report.duplicates),
        ("ItemErrors", MetricUnit.Count, report.errors),
        ("JobsCompleted", MetricUnit.Count, len(report.completed_jobs)),
        ("DrainSeconds", MetricUnit.Seconds, round(report.seconds, 3)),
        ("ProviderCacheHits", MetricUnit.Count, cache_hits),
        *_attempt_figures(report.attempts),
    ]


RUN_METRICS = tuple(name for name, _, _ in run_figures(DrainReport()))
WORKSPACE_METRICS = tuple(name for name, _, _ in _attempt_figures(AttemptFigures()))


def busiest(
    workspaces: Mapping[str, AttemptFigures], limit: int = WORKSPACE_SETS
) -> dict[str, AttemptFigures]:
    """The `limit` workspaces with the most items in the run (ties by id, so a run's choice is stable), and
    the others summed under `OTHER_WORKSPACES`."""
    ranked = sorted(workspaces.items(), key=lambda pair: (-pair[1].items, pair[0]))
    chosen = dict(ranked[:limit])
    if len(ranked) > limit:
        other = AttemptFigures()
        for _, figures in ranked[limit:]:
            other.items += figures.items
            other.found += figures.found
            other.failed += figures.failed
            other.throttled += figures.throttled
            other.usage.add(figures.usage)
        chosen[OTHER_WORKSPACES] = other
    return chosen


def _publish(namespace: str, figures: Iterable[Figure], dimensions: Mapping[str, str]) -> None:
    # EphemeralMetrics, not Metrics: Metrics keeps its metrics in class attributes shared by every instance,
    # and each workspace's set must be a blob of its own (EMF has one value per metric and blob).
    metrics = EphemeralMetrics(
        namespace=namespace, service=os.environ.get("POWERTOOLS_SERVICE_NAME") or DEFAULT_SERVICE
    )
    for dimension, dimension_value in dimensions.items():
        metrics.add_dimension(name=dimension, value=dimension_value)
    for name, unit, value in figures:
        metrics.add_metric(name=name, unit=unit, value=value)
    metrics.flush_metrics()  # one EMF line on stdout


def publish_metrics(report: DrainReport) -> None:
    """The run's metric set, then one per workspace it ran items of (module docstring); nothing without a
    namespace."""
    namespace = os.environ.get(NAMESPACE_VARIABLE)
    if not namespace:
        return
    _publish(namespace, run_figures(report), {})
    for workspace, figures in busiest(report.workspaces).items():
        _publish(namespace, _attempt_figures(figures), {"workspace": workspace})


# At most this share of a run's budget goes to the hourly retention purge (leadenrich.jobs.retention).
RETENTION_SHARE = 0.25


async def _retention(budget: float) -> None:
    """The retention purge when an hour has passed (nothing most minutes; DynamoDB's rows expire by their
    TTL); a failure is logged and never costs the run."""
    if budget <= 0:
        return
    try:
        run = await runtime.retention().run_if_due(datetime.now(UTC), seconds=budget * RETENTION_SHARE)
    except Exception as exc:
        logger.error("retention not run", extra={"error": type(exc).__name__})
        return
    if run is not None:
        logger.info("retention", extra={"deleted": run.deleted, "more": run.more, "failed": run.failed})


# At most this share of a run's budget goes to the re-verification sweep (leadenrich.reverify.schedule):
# looked at hourly, one verification job a day per workspace with a re-verification budget.
REVERIFY_SHARE = 0.1


async def _reverify(budget: float) -> None:
    """The re-verification sweep when due; a failure is logged by type and never costs the run."""
    if budget <= 0:
        return
    try:
        run = await runtime_reverify.reverify_schedule().run_if_due(seconds=budget * REVERIFY_SHARE)
    except Exception as exc:
        logger.error("reverify not run", extra={"error": type(exc).__name__})
        return
    if run is not None and (run.reports or run.failed or run.left):
        created = [r.job_id for r in run.reports if r.note == "job created"]
        changed = sum(len(r.changes) for r in run.reports)
        extra = {"workspaces": len(run.reports), "jobs_created": created, "changed": changed}
        logger.info("reverify", extra=extra | {"failed": len(run.failed), "left": run.left})


# At most this share of a run's budget goes to claiming leads inserted into Supabase
# (docs/auto-enrichment.md).
AUTO_ENRICH_SHARE = 0.1


async def _auto_enrich(budget: float) -> None:
    """Inserted leads into jobs (bounded per run), before the drain so it can start them; a failure is
    logged by type and never costs the run."""
    if budget <= 0:
        return
    try:
        sweep = runtime_intake.auto_enrichment()
        run = await sweep.run(budget * AUTO_ENRICH_SHARE) if sweep is not None else None
    except Exception as exc:
        logger.error("auto-enrichment not run", extra={"error": type(exc).__name__})
        return
    if run is not None and (run.jobs or run.failed):
        logger.info("auto-enrichment", extra={"jobs": run.jobs, "leads": run.leads, "failed": run.failed})


async def _drain(budget: float) -> DrainReport:
    try:
        started = time.monotonic()
        await _retention(budget)  # its time comes off the drain's budget
        await _reverify(budget)  # and so does the sweep's
        await _auto_enrich(budget)  # and the inserted leads' claims
        # With ProcessorTrigger `queue` the items come from the event source mapping (`_deliveries`).
        receive = runtime.settings().processor_trigger == "schedule"
        return await runtime.processor().drain(
            max(0.0, budget - (time.monotonic() - started)), receive=receive
        )
    finally:
        await close_shared_http_client()
        await close_supabase_clients()  # JOB_STORE=supabase: its client belongs to this invocation's loop


class NotFinished(Exception):
    """A delivered message the processor did not finish with: a batch item failure, left in the queue."""


async def _process_records(records: list[dict[str, Any]], budget: float) -> tuple[DrainReport, set[str]]:
    """The mapping's batch through the processor (`jobs.processor_batch`): its report, and the message ids
    to report as failures (unfinished, or from a queue this stack does not know)."""
    try:
        queues = runtime.delivering_queues()
        deliveries: list[Received] = []
        failed: set[str] = set()
        for record in records:
            source = queues.get(str(record.get("eventSourceARN", "")).rsplit(":", 1)[-1])
            if source is None:
                failed.add(record["messageId"])
                logger.error("a record from an unknown queue", extra={"message_id": record["messageId"]})
                continue
            received = await source[0].delivered(record, source[1])
            if received is not None:  # a malformed body is in its DLQ now: done with
                deliveries.append(received)
        outcome = await process_batch(runtime.processor(), deliveries, budget)
        return outcome.report, failed | set(outcome.unfinished)
    finally:
        await close_shared_http_client()
        await close_supabase_clients()


def _deliveries(event: dict[str, Any], context: LambdaContext, budget: float) -> dict[str, Any]:
    """An SQS event source mapping's batch: every message not finished is reported as a batch item
    failure (Powertools' partial batch response), so Lambda leaves it in the queue as the processor left
    it (deferred, handed back) instead of deleting it."""
    report, failed = asyncio.run(_process_records(event["Records"], budget))

    def record_handler(record: SQSRecord) -> None:
        if record.message_id in failed:
            raise NotFinished(record.message_id)

    batch = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    response = process_partial_response(event, record_handler, batch, context)
    _publish_and_log(report)
    return dict(response)


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    configured = runtime.processor().settings.budget_seconds
    remaining = context.get_remaining_time_in_millis() / 1000 - TIMEOUT_MARGIN_SECONDS
    budget = max(0.0, min(configured, remaining))
    if "Records" in event:
        return _deliveries(event, context, budget)
    report = asyncio.run(_drain(budget))
    return _publish_and_log(report)


def _publish_and_log(report: DrainReport) -> dict[str, Any]:
    try:
        publish_metrics(report)
    except Exception as exc:  # the items are done and written: a metric problem must not fail the run
        logger.error("metrics not published", extra={"error": type(exc).__name__})
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
