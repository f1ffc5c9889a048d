"""Fan-out benchmark (issue 16): leads per minute with 1, 2, 4 and 8 processor workers at raised limits.

    python -m bench.fanout [--workers 1 2 4 8] [--leads 3000] [--perplexity-tier 3] [--max-ticks 8]

For each worker count: a fresh moto server (DynamoDB and SQS) and provider simulator, each in a process of
its own, the simulator enforcing Perplexity's limits at the chosen tier (tier 3: 17 requests/s, 1,000 a
minute) and Hunter's defaults; one `POST /jobs` of `--leads` leads through the API handler; then ticks. A
tick starts `workers` processor invocations at once, each in a process of its own that stays up between
ticks (a warm Lambda container), as `ProcessorWorkers` schedules start them in the same minute, and waits
for all of them. Ticks run back to back until the job completes: production's minute between ticks only
adds idle time, so the leads a full tick finishes are the leads a minute.

Printed per worker count: leads per full tick (every tick but the last, which runs out of work), the
speed-up over one worker and its share of linear (goal 0.8 x N until a provider limit binds), the
utilisation of each provider's published limit over the ticks' time (goal 0.9 of the binding one once it
binds), 403/429 answers and their share (goal under 1 %), the longest invocation against the 30 s budget
(0 over), and the job's items as stored: processed once each (counters, terminal items, none lost or
doubled), DLQ empty.

`--split-moto` serves SQS from a second moto process (`AWS_ENDPOINT_URL_SQS`), so DynamoDB's and SQS's calls
stop queueing behind one process's GIL.

`--fixed-window` keeps the job's queue window at 50 items whatever the workers (as before the window was
made per worker): the control.

Where this machine, not AWS, is the ceiling: the workers, moto and the simulator share its cores (2 on
CI), and moto serves DynamoDB and SQS from one process. The figures say so when the processes' CPU time
(printed) nears the cores' time.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import sys
import time
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from multiprocessing.connection import Connection
from typing import Any

from bench.drain import _create, _status_count, _throttled_share, _utilisation
from bench.servers import PATHS, ServerProcess, serve_moto, serve_simulator

LAMBDA_TIMEOUT_SECONDS = 45  # template.yaml's ProcessorFunction timeout
BUDGET_SECONDS = 30.0
# Perplexity's Agent API tiers (providers.md section 5): requests a second, a minute.
TIERS = {0: (1, 50), 1: (3, 150), 2: (8, 500), 3: (17, 1000), 4: (33, 2000)}
PACE = 0.95  # the runtime's pace: 95 % of the published rate (leadenrich.engine.ratelimit.PACE_FACTOR)


def _worker(conn: Connection, env: dict[str, str]) -> None:
    """One warm processor container: each message on `conn` is a tick, answered with the run's summary."""
    sys.path[:0] = [str(p) for p in PATHS if str(p) not in sys.path]
    os.environ.update(env)
    import handle_process
    from tests.support.lambda_events import SCHEDULED_EVENT, Context

    while conn.recv() == "tick":
        started = time.perf_counter()
        summary = handle_process.handler(
            SCHEDULED_EVENT,
            Context(remaining_ms=LAMBDA_TIMEOUT_SECONDS * 1000),  # type: ignore[arg-type]
        )
        summary["wall_seconds"] = time.perf_counter() - started
        conn.send(summary)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    conn.send({"cpu_seconds": usage.ru_utime + usage.ru_stime})


def _rows(opts: argparse.Namespace, config: Any) -> list[dict[str, str]]:
    from pydantic import ValidationError

    from enrich_tools.simulator.state import build_world
    from leadenrich.jobs.requests import JobLead

    rows: list[dict[str, str]] = []
    for lead in build_world(config).sample_leads(opts.leads * 2, opts.seed):
        fields = {"domain": lead.domain, "company_name": lead.company_name, "external_id": lead.external_id}
        row = {k: v for k, v in fields.items() if v}
        try:
            JobLead.model_validate(row)
        except ValidationError:
            continue
        rows.append(row)
        if len(rows) == opts.leads:
            break
    return rows


def run_workers(opts: argparse.Namespace, workers: int) -> dict[str, Any]:
    sys.path[:0] = [str(p) for p in PATHS if str(p) not in sys.path]
    import boto3
    import httpx

    from enrich_tools.simulator import SimConfig

    qps, rpm = TIERS[opts.perplexity_tier]
    config = SimConfig(seed=opts.world_seed, companies=opts.companies, perplexity_qps=qps, perplexity_rpm=rpm)
    paced = f"perplexity.responses={max(1, int(qps * PACE))}/{int(rpm * PACE)}/{int(rpm * PACE)}"
    with (
        ServerProcess(serve_simulator, config, health_path="/_sim/health") as sim,
        ServerProcess(serve_moto, health_path="/moto-api/") as aws,
        # --split-moto: SQS from a moto process of its own (botocore's per-service endpoint variables)
        ServerProcess(serve_moto, health_path="/moto-api/") if opts.split_moto else nullcontext() as sqs,
    ):
        env = {
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "TABLE_NAME": "leadenrich",
            "SERIALIZE_AWS_CALLS": "true",
            "MAX_ITEMS_PER_RUN": "1000",
            "PROCESSOR_CONCURRENCY": str(opts.concurrency),
            "PROCESSOR_BUDGET_SECONDS": str(BUDGET_SECONDS),
            # The job's queue window: QUEUE_WINDOW (50) x workers, or 50 alone (the control).
            "PROCESSOR_WORKERS": "1" if opts.fixed_window else str(workers),
            "RATE_LIMITS": paced,
            "HUNTER_API_KEY": "sim-hunter-key",
            "PERPLEXITY_API_KEY": "sim-pplx-key",
            "AWS_ENDPOINT_URL": aws.base_url,
            **({"AWS_ENDPOINT_URL_SQS": sqs.base_url} if sqs is not None else {}),
            "HUNTER_API_BASE_URL": f"{sim.base_url}/v2",
            "PERPLEXITY_API_BASE_URL": sim.base_url,
        }
        os.environ.update(env)
        import handle_api
        from leadenrich import runtime
        from leadenrich.aws.dynamo_schema import create_table
        from leadenrich.aws.sqs_queue import create_band_queues
        from leadenrich.engine.ratelimit import PUBLISHED_LIMITS, Limit, parse_limits
        from tests.support.lambda_events import Context, http_event

        create_table(boto3.client("dynamodb"), "leadenrich")
        env |= runtime.queue_environment(create_band_queues(boto3.client("sqs"), "leadenrich-work"))
        os.environ.update(env)
        runtime.reset()
        job_id = _create(handle_api, http_event, Context, _rows(opts, config), "default", 3)

        context = multiprocessing.get_context("spawn")
        pipes: list[Connection] = []
        processes = []
        for _ in range(workers):
            ours, theirs = context.Pipe()
            process = context.Process(target=_worker, args=(theirs, env), daemon=True)
            process.start()
            pipes.append(ours)
            processes.append(process)
        ticks: list[dict[str, Any]] = []
        started = time.perf_counter()
        try:
            while len(ticks) < opts.max_ticks:
                tick_started = time.perf_counter()
                for pipe in pipes:
                    pipe.send("tick")
                summaries = [pipe.recv() for pipe in pipes]
                tick = {
                    "seconds": time.perf_counter() - tick_started,
                    "finished": sum(s["finished"] for s in summaries),
                    "longest": max(s["wall_seconds"] for s in summaries),
                    "received": sum(s["received"] for s in summaries),
                    "completed": any(job_id in s["completed_jobs"] for s in summaries),
                }
                ticks.append(tick)
                print(
                    f"  {workers} worker(s), tick {len(ticks)}: {tick['finished']:4d} finished in"
                    f" {tick['seconds']:5.1f} s (longest invocation {tick['longest']:5.1f} s)",
                    flush=True,
                )
                if tick["completed"]:
                    break
            for pipe in pipes:
                pipe.send("stop")
            cpu = sum(pipe.recv()["cpu_seconds"] for pipe in pipes)
        finally:
            for process in processes:
                process.join(30)
        elapsed = time.perf_counter() - started
        servers_cpu = {"moto": aws.cpu_seconds(), "simulator": sim.cpu_seconds()}
        if sqs is not None:
            servers_cpu["moto (sqs)"] = sqs.cpu_seconds()
        ledger = httpx.get(f"{sim.base_url}/_sim/ledger").json()
        job = json.loads(handle_api.handler(http_event("GET", f"/jobs/{job_id}"), Context())["body"])  # type: ignore[arg-type]
        items = _terminal_items(handle_api, http_event, Context, job_id)
        metrics = json.loads(handle_api.handler(http_event("GET", "/metrics"), Context())["body"])  # type: ignore[arg-type]
        runtime.reset()

    calls: dict[str, int] = ledger["calls"]
    throttled = _status_count(ledger["statuses"], {"403", "429"})
    answered = {endpoint: n - throttled.get(endpoint, 0) for endpoint, n in calls.items()}
    published: dict[str, Limit] = dict(PUBLISHED_LIMITS)
    published["perplexity.responses"] = Limit(qps, rpm, rpm)
    full = ticks[:-1] if len(ticks) > 1 else ticks
    return {
        "workers": workers,
        "ticks": ticks,
        "leads_per_tick": sum(t["finished"] for t in full) / len(full),
        "longest": max(t["longest"] for t in ticks),
        "elapsed": elapsed,
        "worker_cpu_seconds": cpu,
        "servers_cpu_seconds": servers_cpu,
        "cores": os.cpu_count() or 1,
        "calls": calls,
        "throttled": throttled,
        "throttled_share": _throttled_share(calls, throttled),
        "published": _utilisation(answered, published, sum(t["seconds"] for t in ticks)),
        "configured": _utilisation(answered, parse_limits(paced), sum(t["seconds"] for t in ticks)),
        "job": job,
        "terminal_items": items,
        "dlq_depth": metrics["dlq_depth"],
    }


def _terminal_items(api: Any, event: Any, context: Any, job_id: str) -> dict[str, int]:
    """The job's items as stored, page by page: how many, how many terminal, how many distinct."""
    seen: set[str] = set()
    total = terminal = 0
    cursor: str | None = None
    while True:
        query = {"limit": "1000", **({"cursor": cursor} if cursor else {})}
        page = json.loads(api.handler(event("GET", f"/jobs/{job_id}/items", query=query), context())["body"])
        for item in page["items"]:
            total += 1
            seen.add(item["item_id"])
            terminal += item["status"] not in ("queued", "running", "deferred")
        cursor = page["cursor"]
        if not cursor:
            return {"items": total, "distinct": len(seen), "terminal": terminal}


def report(results: Sequence[Mapping[str, Any]]) -> None:
    base = results[0]["leads_per_tick"] / results[0]["workers"] if results else 0.0
    print("\nfan-out: leads per tick (= per minute in production), Perplexity and Hunter as configured")
    for r in results:
        n = r["workers"]
        speedup = r["leads_per_tick"] / base if base else 0.0
        binding = max(r["published"], key=lambda k: r["published"][k])
        job, items = r["job"], r["terminal_items"]
        # Exactly once: every finished item counted once (a double count would make `processed` exceed the
        # terminal items), and every item of the job still there (none lost), finished or not.
        once = job["counters"]["processed"] == items["terminal"] and (
            items["distinct"] == items["items"] == job["counters"]["total"]
        )
        print(
            f"  {n} worker(s): {r['leads_per_tick']:6.1f} leads per tick, {speedup:4.2f}x one worker"
            f" ({speedup / n:4.2f} of linear); longest invocation {r['longest']:4.1f} s"
            f" [{'met' if r['longest'] <= BUDGET_SECONDS else 'MISSED'}]"
        )
        print(
            "    utilisation of published limits: "
            + ", ".join(f"{k} {v:.2f}" for k, v in sorted(r["published"].items()))
            + f"; binding {binding}"
        )
        shares = ", ".join(
            f"{provider} {t} of {c} ({(t / c if c else 0):.2%})"
            for provider, (t, c) in sorted(r["throttled_share"].items())
        )
        print(f"    403/429: {shares}")
        counters = job["counters"]
        print(
            f"    job {job['status']}: processed {counters['processed']} of {counters['total']},"
            f" {items['terminal']} terminal items, {items['distinct']} distinct, DLQ {r['dlq_depth']}"
            f" [{'exactly once' if once else 'CHECK'}]"
        )
        servers = r["servers_cpu_seconds"]
        used = r["worker_cpu_seconds"] + sum(servers.values())
        busy = used / (r["elapsed"] * r["cores"])
        each = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in servers.items())
        print(
            f"    CPU: workers {r['worker_cpu_seconds']:.0f} s, {each} in {r['elapsed']:.0f} s on"
            f" {r['cores']} cores ({busy:.0%} of them)"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--leads", type=int, default=3000)
    parser.add_argument("--companies", type=int, default=8000, help="simulated world size (distinct domains)")
    parser.add_argument("--world-seed", type=int, default=7)
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--concurrency", type=int, default=16, help="PROCESSOR_CONCURRENCY")
    parser.add_argument("--perplexity-tier", type=int, default=3, choices=sorted(TIERS))
    parser.add_argument("--max-ticks", type=int, default=8)
    parser.add_argument(
        "--fixed-window", action="store_true", help="the control: a queue window of 50 whatever the workers"
    )
    parser.add_argument(
        "--split-moto",
        action="store_true",
        help="SQS from a moto process of its own (DynamoDB stays in the first)",
    )
    opts = parser.parse_args(argv)
    results = [run_workers(opts, n) for n in opts.workers]
    report(results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
