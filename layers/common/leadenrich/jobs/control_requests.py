"""What a caller may ask to change on a job: its schedule and caps (also given at creation), a PATCH, a bulk
action. Validated once at the edge, each rule naming its field, like `leadenrich.jobs.requests`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from leadenrich.jobs.models import HIGHEST_PRIORITY, LOWEST_PRIORITY
from leadenrich.webhooks.ssrf import UnsafeUrl, check_url, local_webhooks_allowed

MAX_SCHEDULE_AHEAD = timedelta(days=30)
MAX_BULK_JOBS = 100


def check_tags(tags: list[str]) -> list[str]:
    for tag in tags:
        if not 1 <= len(tag) <= 64 or not tag.replace("-", "").replace("_", "").isalnum():
            raise ValueError("each tag is 1-64 letters, digits, '-' or '_'")
    return tags


def check_webhook_url(url: str | None) -> str | None:
    """The static SSRF checks (https, no user info, no private or local address literal); the name is
    resolved and every address checked again before each send (`leadenrich.webhooks.ssrf`)."""
    if url is None:
        return None
    try:
        check_url(url, allow_local=local_webhooks_allowed())
    except UnsafeUrl as exc:
        raise ValueError(str(exc)) from None
    return url


class ScheduleAndCaps(BaseModel):
    """When a job may start and what it may spend: at creation and in a PATCH."""

    run_at: datetime | None = Field(
        default=None,
        description="Start the job's items no earlier than this instant (ISO 8601 with a time zone), at most "
        "30 days ahead; a moment in the past starts it at once. The job stays `pending` until then.",
    )
    max_credits: float | None = Field(
        default=None,
        gt=0,
        le=1_000_000,
        description="Hunter credits the job may spend. Checked before each paid call: on reaching it the job "
        "is paused with `paused_reason` `budget_reached` (raise it, then resume).",
    )
    max_cost_usd: float | None = Field(
        default=None,
        gt=0,
        le=100_000,
        description="Perplexity dollars the job may spend, checked the same way.",
    )

    @field_validator("run_at")
    @classmethod
    def _run_at(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("needs a time zone (for example 2027-01-05T09:00:00Z)")
        value = value.astimezone(UTC)
        if value - datetime.now(UTC) > MAX_SCHEDULE_AHEAD:
            raise ValueError("at most 30 days ahead")
        return value


class UpdateJobRequest(ScheduleAndCaps):
    """`PATCH /jobs/{id}`: only the fields given change (`model_fields_set`); `null` clears a cap, a
    webhook_url or a schedule."""

    model_config = ConfigDict(extra="forbid")

    priority: int | None = Field(default=None, ge=HIGHEST_PRIORITY, le=LOWEST_PRIORITY)
    webhook_url: str | None = Field(default=None, max_length=2048)
    tags: list[str] | None = Field(default=None, max_length=10)
    paused: bool | None = Field(
        default=None,
        description="true pauses the job (its waiting items are not started; running ones finish); false "
        "resumes it where it stopped.",
    )

    @field_validator("priority", "tags", "paused")
    @classmethod
    def _not_null(cls, value: object) -> object:
        """Given fields only (pydantic does not validate defaults): these have no "cleared" value."""
        if value is None:
            raise ValueError("cannot be null")
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, tags: list[str] | None) -> list[str] | None:
        return check_tags(tags) if tags is not None else None

    @field_validator("webhook_url")
    @classmethod
    def _webhook(cls, url: str | None) -> str | None:
        return check_webhook_url(url)

    @model_validator(mode="after")
    def _something(self) -> Self:
        if not self.model_fields_set:
            raise ValueError("give at least one field to change")
        return self


BulkAction = Literal["cancel", "retry", "pause", "resume"]


class BulkJobsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    job_ids: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        min_length=1, max_length=MAX_BULK_JOBS, description="the workspace's jobs; a repeated id counts once"
    )
    action: BulkAction

    @field_validator("job_ids")
    @classmethod
    def _once_each(cls, ids: list[str]) -> list[str]:
        return list(dict.fromkeys(ids))


__all__ = [
    "MAX_BULK_JOBS",
    "MAX_SCHEDULE_AHEAD",
    "BulkAction",
    "BulkJobsRequest",
    "ScheduleAndCaps",
    "UpdateJobRequest",
    "check_tags",
    "check_webhook_url",
]
