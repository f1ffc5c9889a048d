"""Drain benchmark: queued leads worked off by the scheduled processor at the simulator's default limits.

    python -m bench.drain [--leads 2000] [--max-items 1000] [--concurrency 16] [--budget 30]
                          [--queue-window 50] [--small-job 10]

One `POST /jobs` through the API handler enqueues the leads (DynamoDB + SQS on a moto server); then the
processor handler is invoked with an EventBridge event again and again, back to back (a queue that always
has work: the minute's gap between production ticks only adds idle time), until the job completes. The
runtime is the deployed one: the DynamoDB rate limiter and cache, the processor's budget and concurrency.
The provider simulator runs with its default rate limits and latencies over real HTTP. Both servers run in
processes of their own (see `ServerProcess`).

Printed: leads per invocation, the longest invocation against the budget, provider 403/429 answers and
their share of each provider's requests (goal under 1 %), and the utilisation of each provider limit over
the time the processor ran: calls answered (not throttled) / calls the limit allowed in that time (the
continuous rate min(per_second, per_minute / 60)). The binding limit is the one with the highest
utilisation. It is given against the provider's published limit (goal at least 0.9) and against the pace
the limiter is configured to keep (`leadenrich.engine.ratelimit.LIMITS`), and for Perplexity also
without the calls its bucket banks at the start (a longer drain's share, at least). The invocations'
edges: how long each ran before its first Perplexity request and after its last, and the slots the
limiter granted for which no request was sent (too little time left before the deadline for the call).

With `--small-job N`, another workspace creates an N-lead job right after the large one, and the benchmark
prints when it completed (invocation and seconds): what the queue window (`--queue-window`, QUEUE_WINDOW;
0 enqueues every item at creation) is for.

Priorities: `--priority P` and `--small-priority P` set the two jobs' priorities (3 by default),
`--small-workspace default` puts the small job in the large job's workspace (so only priorities order the
two), `--single-queue` deploys QUEUE_URL alone (every priority in one queue: the control) instead of a
queue per band, and `--until-small` stops once the small job is done. Issue 13's figure:

    python -m bench.drain --priority 5 --small-job 10 --small-priority 1 --small-workspace default \
        --until-small
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from bench.servers import PATHS, ServerProcess, serve_moto, serve_simulator

if TYPE_CHECKING:
    from leadenrich.engine.ratelimit import Limit

GOAL_UTILISATION = 0.9
GOAL_THROTTLED = 0.01  # share of a provider's requests answered 403/429
BINDING_KEY, BINDING_PATH = "perplexity.responses", "/v1/responses"  # whose requests mark the edges
SMALL_WORKSPACE = "small-team"
LAMBDA_TIMEOUT_SECONDS = 45  # template.yaml's ProcessorFunction timeout


def _status_count(statuses: Mapping[str, Mapping[str, int]], codes: set[str]) -> dict[str, int]:
    return {
        name: sum(n for code, n in by_code.items() if code in codes)
        for name, by_code in statuses.items()
        if any(code in codes for code in by_code)
    }


def _throttled_share(calls: Mapping[str, int], throttled: Mapping[str, int]) -> dict[str, tuple[int, int]]:
    """Per provider ("hunter", "perplexity"): (requests answered 403/429, all requests)."""
    out: dict[str, tuple[int, int]] = {}
    for endpoint, n in calls.items():
        provider = endpoint.split(".")[0]
        refused, total = out.get(provider, (0, 0))
        out[provider] = (refused + throttled.get(endpoint, 0), total + n)
    return out


def _record_calls(binding: str, path: str, slots: list[float], sends: list[float]) -> None:
    """Note (perf_counter) when the DynamoDB limiter grants `binding` a slot and a request to `path` goes."""
    import httpx

    from leadenrich.aws.dynamo_limiter import DynamoRateLimiter
    from leadenrich.deadline import Deadline

    acquire, request = DynamoRateLimiter.acquire, httpx.AsyncClient.request

    async def noted_slot(self: DynamoRateLimiter, key: str, deadline: Deadline) -> bool:
        granted = await acquire(self, key, deadline)
        if granted and key == binding:
            slots.append(time.perf_counter())
        return granted

    async def noted_send(self: httpx.AsyncClient, method: str, url: Any, **kwargs: Any) -> httpx.Response:
        if str(url).endswith(path):
            sends.append(time.perf_counter())
        return await request(self, method, url, **kwargs)

    DynamoRateLimiter.acquire = noted_slot  # type: ignore[method-assign]
    httpx.AsyncClient.request = noted_send  # type: ignore[method-assign]


def _edges(invocations: Sequence[Mapping[str, Any]], sends: Sequence[float]) -> dict[str, float]:
    """Mean seconds from an invocation's start to its first request and from its last request to its end,
    over the invocations that sent any, and the share of all processor time spent in those edges."""
    starts, ends = [], []
    for invocation in invocations:
        start = invocation["started"]
        end = start + invocation["wall_seconds"]
        inside = [sent for sent in sends if start <= sent <= end]
        if inside:
            starts.append(inside[0] - start)
            ends.append(end - inside[-1])
    active = sum(i["wall_seconds"] for i in invocations)
    if not starts:
        return {"start": 0.0, "end": 0.0, "share": 0.0}
    return {
        "start": sum(starts) / len(starts),
        "end": sum(ends) / len(ends),
        "share": (sum(starts) + sum(ends)) / active if active else 0.0,
    }


def _rate(limit: Limit) -> float:
    """A limit's continuous rate, calls per second."""
    return min(limit.per_second, limit.per_minute / 60)


def _utilisation(calls: Mapping[str, int], limits: Mapping[str, Limit], seconds: float) -> dict[str, float]:
    return {
        key: calls.get(key, 0) / (_rate(limit) * seconds) if seconds else 0.0 for key, limit in limits.items()
    }


def run(opts: argparse.Namespace) -> dict[str, Any]:
    sys.path[:0] = [str(p) for p in PATHS if str(p) not in sys.path]
    import boto3
    import httpx
    from pydantic import ValidationError

    from enrich_tools.simulator import SimConfig
    from enrich_tools.simulator.state import build_world
    from leadenrich.jobs.requests import JobLead

    config = SimConfig(seed=opts.world_seed, companies=opts.companies)
    sim_process = ServerProcess(serve_simulator, config, health_path="/_sim/health")
    with sim_process as sim, ServerProcess(serve_moto, health_path="/moto-api/") as aws:
        rows: list[dict[str, str]] = []
        for lead in build_world(config).sample_leads(opts.leads * 2, opts.seed):  # malformed: dropped
            fields = {
                "domain": lead.domain,
                "company_name": lead.company_name,
                "first_name": lead.first_name,
                "last_name": lead.last_name,
                "external_id": lead.external_id,
            }
            row = {k: v for k, v in fields.items() if v}
            try:
                JobLead.model_validate(row)
            except ValidationError:
                continue  # the API would answer 422 for the whole request
            rows.append(row)
            if len(rows) == opts.leads + opts.small_job:
                break
        os.environ.update(
            {
                "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_ACCESS_KEY_ID": "bench",
                "AWS_SECRET_ACCESS_KEY": "bench",
                "TABLE_NAME": "leadenrich",
                "SERIALIZE_AWS_CALLS": "true",
                "MAX_ITEMS_PER_RUN": str(opts.max_items),
                "PROCESSOR_CONCURRENCY": str(opts.concurrency),
                "PROCESSOR_BUDGET_SECONDS": str(opts.budget),
                "RATE_LIMITS": opts.rate_limits,
                "QUEUE_WINDOW": str(opts.queue_window),
                "HUNTER_API_KEY": "sim-hunter-key",
                "PERPLEXITY_API_KEY": "sim-pplx-key",
                "AWS_ENDPOINT_URL": aws.base_url,
                "HUNTER_API_BASE_URL": f"{sim.base_url}/v2",
                "PERPLEXITY_API_BASE_URL": sim.base_url,
            }
        )
        import handle_api
        import handle_process
        from leadenrich import runtime
        from leadenrich.aws.dynamo_schema import create_table
        from leadenrich.aws.sqs_queue import create_band_queues, create_queues
        from leadenrich.engine.ratelimit import PUBLISHED_LIMITS, parse_limits
        from tests.support.lambda_events import SCHEDULED_EVENT, Context, http_event

        create_table(boto3.client("dynamodb"), "leadenrich")
        if opts.single_queue:  # a stack deployed before priorities: QUEUE_URL alone
            queue_url, dlq_url = create_queues(boto3.client("sqs"), "leadenrich-work")
            os.environ["QUEUE_URL"], os.environ["DEAD_LETTER_QUEUE_URL"] = queue_url, dlq_url
        else:
            os.environ.update(
                runtime.queue_environment(create_band_queues(boto3.client("sqs"), "leadenrich-work"))
            )
        runtime.reset()
        job_id = _create(handle_api, http_event, Context, rows[: opts.leads], "default", opts.priority)
        small_id = (
            _create(
                handle_api, http_event, Context, rows[opts.leads :], opts.small_workspace, opts.small_priority
            )
            if opts.small_job
            else None
        )
        small_done: dict[str, Any] | None = None
        invocations: list[dict[str, Any]] = []
        slots: list[float] = []
        sends: list[float] = []
        _record_calls(BINDING_KEY, BINDING_PATH, slots, sends)
        idle = 0
        drain_started = time.perf_counter()
        while len(invocations) < opts.max_invocations:
            context = Context(remaining_ms=LAMBDA_TIMEOUT_SECONDS * 1000)
            started = time.perf_counter()
            summary = handle_process.handler(SCHEDULED_EVENT, context)  # type: ignore[arg-type]
            summary["started"], summary["wall_seconds"] = started, time.perf_counter() - started
            if job_id in summary["completed_jobs"] or summary["received"]:
                invocations.append(summary)
                metrics = json.loads(handle_api.handler(http_event("GET", "/metrics"), Context())["body"])  # type: ignore[arg-type]
                print(
                    f"  invocation {len(invocations):3d}: {summary['finished']:4d} finished,"
                    f" {summary['deferred']:3d} deferred, {summary['released']:3d} handed back,"
                    f" {summary['wall_seconds']:5.1f} s; queue {metrics['queue_depth']},"
                    f" in flight {metrics['in_flight']}, DLQ {metrics['dlq_depth']}",
                    flush=True,
                )
            if small_id is not None and small_id in summary["completed_jobs"]:
                small_done = {"invocation": len(invocations), "seconds": time.perf_counter() - drain_started}
                small_done |= _small_and_large(
                    handle_api, http_event, Context, opts.small_workspace, small_id, job_id
                )
                print(f"  the {opts.small_job}-lead job completed", flush=True)
                if opts.until_small:
                    break
            if job_id in summary["completed_jobs"]:
                break
            if not summary["received"]:  # what is left is hidden for a few seconds (handed back, deferred)
                idle += 1
                time.sleep(1.0)
        drain_seconds = time.perf_counter() - drain_started
        ledger = httpx.get(f"{sim.base_url}/_sim/ledger").json()
        job = json.loads(handle_api.handler(http_event("GET", f"/jobs/{job_id}"), Context())["body"])  # type: ignore[arg-type]
        runtime.reset()

    calls: dict[str, int] = ledger["calls"]
    throttled = _status_count(ledger["statuses"], {"403", "429"})
    answered = {endpoint: n - throttled.get(endpoint, 0) for endpoint, n in calls.items()}
    active = sum(i["wall_seconds"] for i in invocations)
    bank = parse_limits(opts.rate_limits)[BINDING_KEY].burst
    return {
        "job": job,
        "invocations": invocations,
        "idle_invocations": idle,
        "active_seconds": active,
        "drain_seconds": drain_seconds,
        "calls": calls,
        "throttled": throttled,
        "throttled_share": _throttled_share(calls, throttled),
        "edges": _edges(invocations, sends) | {"unused": len(slots) - len(sends)},
        "published": _utilisation(answered, PUBLISHED_LIMITS, active),
        # What a drain long enough to make the full bucket it starts with negligible would use, at least.
        "bank": bank,
        "unbanked": _utilisation(
            {BINDING_KEY: max(0, answered.get(BINDING_KEY, 0) - bank)},
            {BINDING_KEY: PUBLISHED_LIMITS[BINDING_KEY]},
            active,
        )[BINDING_KEY],
        "configured": _utilisation(answered, parse_limits(opts.rate_limits), active),
        "small_done": small_done,
    }


def _create(
    api: Any, event: Any, context: Any, rows: list[dict[str, str]], workspace: str, priority: int
) -> str:
    body = {"leads": rows, "priority": priority}
    created = api.handler(event("POST", "/jobs", body=body, workspace=workspace), context())
    assert created["statusCode"] == 202, created["body"][:500]
    job_id: str = json.loads(created["body"])["job_id"]
    return job_id


def _small_and_large(
    api: Any, event: Any, context: Any, small_workspace: str, small_id: str, large_id: str
) -> dict[str, Any]:
    """The small job's own time from creation to completion, and how far the large one was then."""
    from datetime import datetime

    def job(workspace: str, job_id: str) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(
            api.handler(event("GET", f"/jobs/{job_id}", workspace=workspace), context())["body"]
        )
        return found

    small, large = job(small_workspace, small_id), job("default", large_id)
    took = datetime.fromisoformat(small["completed_at"]) - datetime.fromisoformat(small["created_at"])
    return {"job_seconds": took.total_seconds(), "large_processed": large["counters"]["processed"]}


def report(opts: argparse.Namespace, result: dict[str, Any]) -> None:
    invocations = result["invocations"]
    finished = [i["finished"] for i in invocations]
    longest = max(i["wall_seconds"] for i in invocations)
    job = result["job"]
    print(
        f"\ndrain: {opts.leads} leads, world {opts.world_seed} ({opts.companies} companies), seed {opts.seed}"
    )
    print(
        f"  settings: MAX_ITEMS_PER_RUN={opts.max_items}, PROCESSOR_CONCURRENCY={opts.concurrency},"
        f" PROCESSOR_BUDGET_SECONDS={opts.budget}, RATE_LIMITS={opts.rate_limits!r},"
        f" QUEUE_WINDOW={opts.queue_window}"
    )
    print(
        f"  queues: {'QUEUE_URL alone (one band)' if opts.single_queue else 'one per priority band'};"
        f" large job priority {opts.priority}"
    )
    if opts.small_job:
        done = result["small_done"]
        when = f"in invocation {done['invocation']}, {done['seconds']:.0f} s after" if done else "NOT before"
        where = "the same workspace" if opts.small_workspace == "default" else "another workspace"
        print(
            f"  small job ({opts.small_job} leads, priority {opts.small_priority}, {where},"
            f" created just after): completed {when}"
        )
        if done:
            print(
                f"    created to completed: {done['job_seconds']:.1f} s; the large job had"
                f" {done['large_processed']} leads processed then"
            )
    print(f"  job: {job['status']}, counters {job['counters']}")
    print(f"  (invocations that found nothing visible, not counted: {result['idle_invocations']})")
    print(
        f"  invocations: {len(invocations)}; leads per invocation: mean {sum(finished) / len(finished):.1f},"
        f" min {min(finished)}, max {max(finished)}"
    )
    verdict = "met" if longest <= opts.budget else "MISSED"
    print(f"  longest invocation: {longest:.2f} s against a {opts.budget:.0f} s budget [{verdict}]")
    throttled = result["throttled"]
    print(f"  provider 403/429 answers: {sum(throttled.values())} {throttled or ''}")
    for provider, (refused, total) in sorted(result["throttled_share"].items()):
        share = refused / total if total else 0.0
        verdict = "met" if share < GOAL_THROTTLED else "MISSED"
        print(
            f"    {provider}: {refused} of {total} requests throttled, {share:.2%}"
            f" (goal < {GOAL_THROTTLED:.0%}) [{verdict}]"
        )
    print(f"  processor active {result['active_seconds']:.0f} s; provider calls {result['calls']}")
    edges = result["edges"]
    print(
        f"  edges ({BINDING_KEY}): first request {edges['start']:.2f} s after an invocation starts, last"
        f" {edges['end']:.2f} s before it ends ({edges['share']:.0%} of the processor's time);"
        f" {edges['unused']:.0f} slots granted with no time left to send"
    )
    for label in ("published", "configured"):
        shares = result[label]
        binding = max(shares, key=lambda k: shares[k])
        verdict = "met" if shares[binding] >= GOAL_UTILISATION else "MISSED"
        detail = ", ".join(f"{k} {v:.2f}" for k, v in sorted(shares.items()))
        print(f"  utilisation of the {label} limits: binding {binding} {shares[binding]:.2f}", end="")
        print(f" (goal >= {GOAL_UTILISATION}) [{verdict}]; {detail}")
    print(
        f"  {BINDING_KEY} without the {result['bank']} calls its bucket holds at the start:"
        f" {result['unbanked']:.2f} of the published rate (a longer drain's, at least)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=2000)
    parser.add_argument("--companies", type=int, default=2500, help="simulated world size (distinct domains)")
    parser.add_argument("--world-seed", type=int, default=7)
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--max-items", type=int, default=1000, help="MAX_ITEMS_PER_RUN")
    parser.add_argument("--concurrency", type=int, default=16, help="PROCESSOR_CONCURRENCY")
    parser.add_argument("--budget", type=float, default=30.0, help="PROCESSOR_BUDGET_SECONDS")
    parser.add_argument("--max-invocations", type=int, default=200)
    parser.add_argument("--rate-limits", default="", help="RATE_LIMITS, e.g. perplexity.responses=1/50")
    parser.add_argument("--queue-window", type=int, default=50, help="QUEUE_WINDOW (0: none)")
    parser.add_argument("--small-job", type=int, default=0, help="leads of a second job, created just after")
    parser.add_argument("--priority", type=int, default=3, help="the large job's priority (1 highest to 5)")
    parser.add_argument("--small-priority", type=int, default=3, help="the small job's priority")
    parser.add_argument(
        "--small-workspace",
        default=SMALL_WORKSPACE,
        help="the small job's workspace ('default': the large one's)",
    )
    parser.add_argument("--single-queue", action="store_true", help="QUEUE_URL alone: no priority bands")
    parser.add_argument("--until-small", action="store_true", help="stop once the small job completed")
    opts = parser.parse_args(argv)
    report(opts, run(opts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
