"""What the API answers about operations rather than jobs: a retry, a redrive, the metrics and their
hourly buckets, Supabase's stats, and health (its dependencies, and the 503 that names them). Split from
`leadenrich.jobs.views`, whose `View` and `IsoTime` they use."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from leadenrich.http_errors import FieldProblem
from leadenrich.jobs.views import IsoTime, View


class RetryView(View):
    job_id: str
    requeued: int = Field(description="failed and dead items sent back to the queue")


class RedriveView(View):
    redriven: int = Field(description="the workspace's dead letters moved back to the queue")


class ActivityBucketView(View):
    """Five whole minutes of the workspace's finished items (the operator console's chart)."""

    start: IsoTime = Field(description="its first minute (UTC); it counts that minute and the next four")
    processed: int
    found: int
    failed: int = Field(description="failed and dead")
    success_rate: float | None = Field(description="share that did not fail or die; null: nothing ran")


class MetricsView(View):
    queue_depth: int = Field(description="visible and delayed messages: the whole service's")
    in_flight: int
    dlq_depth: int
    items_processed_last_hour: int = Field(description="the workspace's")
    items_found_last_hour: int
    items_failed_last_hour: int
    success_rate: float | None = Field(description="share that did not fail or die; null: nothing ran")
    found_rate: float | None = Field(description="share found; null: nothing ran")
    last_hour_series: list[ActivityBucketView] = Field(
        description="the workspace's last 60 whole minutes in 12 buckets of 5 minutes, oldest first; the "
        "newest ends with the current minute"
    )


class EmailCountsView(View):
    total: int
    by_source: dict[str, dict[str, int]] = Field(description="source -> status -> addresses")


class StatsView(View):
    total_leads: int
    leads_with_domain: int
    leads_with_validated_email: int = Field(description="with at least one active address")
    leads_missing_email: int = Field(description="with a domain and no active address")
    emails: EmailCountsView
    average_confidence_score: float | None = Field(description="null when there is no address")
    average_confidence_score_active: float | None


class DependencyView(View):
    """One dependency as `GET /health` found it (`leadenrich.health`)."""

    status: Literal["ok", "down"]
    required: bool = Field(description="whether the service needs it: one required and down makes a 503")
    reason: str | None = Field(
        description="why it is down, in a few words (`not found`, `throttled`, `unreachable`, `failing`, "
        "`access denied`, `no answer within 2 s`, or what to set); null when ok"
    )
    detail: str | None = Field(description="what the check found, when there is something to say")
    latency_ms: int = Field(ge=0, description="how long its check took")


class HealthView(View):
    """The service and each dependency it needs, as checked at `checked_at` (a report is kept a few seconds).
    Public: names and states only, never a key, an address, an ARN or a URL."""

    status: Literal["ok", "unavailable"]
    checked_at: IsoTime
    dependencies: dict[str, DependencyView] = Field(
        description="by name: `table`, `queue.<band>` and `dead_letter_queue.<band>` (`state_db` on the "
        "local stack), `app_secret`, `provider_keys`, `supabase`: the ones this deployment has"
    )


class HealthProblemView(HealthView):
    """`GET /health`'s 503: its report, with the error model's fields (`leadenrich.http_errors`); `errors`
    names each required dependency down as `dependencies.<name>`."""

    status: Literal["unavailable"]
    message: str
    field: None
    errors: list[FieldProblem]


__all__ = [
    "ActivityBucketView",
    "DependencyView",
    "EmailCountsView",
    "HealthProblemView",
    "HealthView",
    "MetricsView",
    "RedriveView",
    "RetryView",
    "StatsView",
]
