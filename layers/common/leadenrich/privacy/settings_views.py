"""What `GET /settings` and `PUT /settings` answer (and `enrich workspace settings show --json` prints): a
workspace's personal-data settings as they are in force, the defaults included. Its own module so the job
views stay about jobs."""

from __future__ import annotations

from pydantic import Field

from leadenrich.jobs.views import View
from leadenrich.privacy.ports import WorkspaceSettings
from leadenrich.privacy.settings import MAX_DAYS, MIN_DAYS, LawfulBasis


class WorkspaceSettingsView(View):
    workspace_id: str
    unverified_retention_days: int = Field(
        ge=MIN_DAYS,
        le=MAX_DAYS,
        description="days an unverified or inactive address is kept after its last change (Supabase `emails` "
        "rows that are not `active`)",
    )
    results_retention_days: int = Field(
        ge=MIN_DAYS,
        le=MAX_DAYS,
        description="days a finished job and its items (leads and results) are kept after they finish",
    )
    cache_retention_days: int = Field(
        ge=MIN_DAYS,
        le=MAX_DAYS,
        description="most days a cached provider answer is kept; the cache is shared, so the shortest "
        "setting of any workspace applies to all",
    )
    audit_retention_days: int = Field(ge=MIN_DAYS, le=MAX_DAYS, description="days an audit entry is kept")
    review_required: bool = Field(description="found addresses start `pending_review` until approved")
    refused_countries: list[str] = Field(
        description="ISO 3166-1 alpha-2 codes: leads there are refused before any paid call"
    )
    flagged_countries: list[str] = Field(
        description="ISO 3166-1 alpha-2 codes: leads there are processed and their results flagged"
    )
    default_lawful_basis: LawfulBasis = Field(description="the lawful basis a job records when it names none")
    requeue_on_bounce: bool = Field(description="a hard bounce re-queues its lead for another address")
    bounce_sns_topics: list[str] = Field(
        description="Amazon SES: the SNS topics (ARNs) whose bounce notifications are this workspace's"
    )
    bounce_sendgrid_key: str = Field(description='SendGrid: the Event Webhook\'s verification key; "": none')
    bounce_postmark_password_set: bool = Field(
        description="Postmark: whether a basic-auth password is set (it is stored hashed, never shown)"
    )
    reenrich_after_days: int = Field(
        ge=MIN_DAYS,
        le=MAX_DAYS,
        description="days a lead whose last enrichment ended invalid, not_found or risky is left out of "
        "`process_all` jobs",
    )
    reverify_after_days: int = Field(
        ge=0, le=MAX_DAYS, description="verified addresses older than this are verified again; 0: never"
    )
    reverify_monthly_credits: int = Field(
        ge=0, description="Hunter credits a month re-verification may spend"
    )

    @classmethod
    def of(cls, workspace_id: str, settings: WorkspaceSettings) -> WorkspaceSettingsView:
        return cls(
            workspace_id=workspace_id,
            unverified_retention_days=settings.unverified_retention_days,
            results_retention_days=settings.results_retention_days,
            cache_retention_days=settings.cache_retention_days,
            audit_retention_days=settings.audit_retention_days,
            review_required=settings.review_required,
            refused_countries=list(settings.refused_countries),
            flagged_countries=list(settings.flagged_countries),
            default_lawful_basis=settings.default_lawful_basis,  # a LawfulBasis: checked on write
            requeue_on_bounce=settings.requeue_on_bounce,
            bounce_sns_topics=list(settings.bounce_sns_topics),
            bounce_sendgrid_key=settings.bounce_sendgrid_key,
            bounce_postmark_password_set=bool(settings.bounce_postmark_password_sha256),
            reenrich_after_days=settings.reenrich_after_days,
            reverify_after_days=settings.reverify_after_days,
            reverify_monthly_credits=settings.reverify_monthly_credits,
        )


__all__ = ["WorkspaceSettingsView"]
