"""What a processor run is told (`ProcessorSettings`) and what it reports (`DrainReport`, with the attempt
figures the processor Lambda publishes as metrics)."""

from __future__ import annotations

from dataclasses import dataclass, field

from leadenrich.engine.models import EnrichmentResult, LeadStatus, Usage
from leadenrich.jobs.models import Job


@dataclass(frozen=True)
class ProcessorSettings:
    max_items: int = 50  # MAX_ITEMS_PER_RUN
    budget_seconds: float = 30.0  # PROCESSOR_BUDGET_SECONDS
    concurrency: int = 8
    # The queue's visibility timeout; also the item lease, so a message reappears exactly when the lease
    # of the processor that lost it has expired.
    visibility_timeout: int = 60
    # Time kept free at the end of the budget for the last writes and acknowledgements.
    margin_seconds: float = 3.0
    # A new item is received only when at least this much time is left: what one lead plausibly needs.
    min_item_seconds: float = 8.0
    # Kept for the callbacks' progress events when callbacks are wired: the items stop at least this long
    # before the callbacks do (PROCESSOR_CALLBACK_SECONDS; `leadenrich.jobs.processor_callbacks`).
    callback_seconds: float = 3.0


@dataclass
class AttemptFigures:
    """A drain's attempts, for its metrics: counted by the engine's answer before the write, so an attempt
    whose write another processor won (its lease expired) is counted by both runs. They say what the service
    did and spent; the job counters, written once per item, say what the jobs came to."""

    items: int = 0  # attempts the engine ran
    found: int = 0
    failed: int = 0  # permanent failures; dead letters are `DrainReport.dead`
    throttled: int = 0  # handed back because a provider asked to wait (not an attempt, not billed)
    usage: Usage = field(default_factory=Usage)  # calls, Hunter credits, Perplexity dollars

    def add(self, result: EnrichmentResult) -> None:
        self.items += 1
        self.found += int(result.status is LeadStatus.FOUND)
        self.failed += int(result.status is LeadStatus.FAILED)
        # Out of time, or at a spend cap, a hand-back has nothing to wait for (retry_after 0).
        handed_back = result.status is LeadStatus.DEFERRED and not result.attempt_consumed
        self.throttled += int(handed_back and not result.budget_reached and (result.retry_after or 0) > 0)
        self.usage.add(result.usage)


@dataclass
class DrainReport:
    received: int = 0
    finished: int = 0
    deferred: int = 0
    released: int = 0  # handed back without charging an attempt
    dead: int = 0
    skipped: int = 0
    held: int = 0  # messages of paused jobs, deleted: their items wait for the job to resume
    released_jobs: int = 0  # scheduled jobs whose time came, their first items sent
    duplicates: int = 0  # deliveries of an item someone else holds or finished
    errors: int = 0
    seconds: float = 0.0
    completed_jobs: list[Job] = field(default_factory=list)
    advanced_jobs: dict[tuple[str, str], Job] = field(default_factory=dict)  # with items finished in the run
    attempts: AttemptFigures = field(default_factory=AttemptFigures)  # the whole run's
    workspaces: dict[str, AttemptFigures] = field(default_factory=dict)  # each workspace's, when it had any

    def count(self, job: Job, result: EnrichmentResult) -> None:
        """One attempt's outcome and spend, in the run's figures and its workspace's."""
        self.attempts.add(result)
        self.workspaces.setdefault(job.workspace_id, AttemptFigures()).add(result)


__all__ = ["AttemptFigures", "DrainReport", "ProcessorSettings"]
