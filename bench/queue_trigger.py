"""Queue-trigger benchmark (issue 16): leads per minute with `ProcessorTrigger: queue`, 1 to 8 invocations.

    python -m bench.queue_trigger [--concurrency 1 2 4 8] [--leads 1500] [--perplexity-tier 3]
                                  [--max-seconds 600] [--queue-window 50] [--wait-seconds 20]

The world and the job are bench.fanout's (a fresh moto server and provider simulator per concurrency, each
in a process of its own; Perplexity at the chosen tier, Hunter's defaults; one `POST /jobs` through the API
handler). Instead of ticks, Lambda's SQS event source mapping is played: `--concurrency` N warm worker
processes (the mapping's `MaximumConcurrency`), each looping: ReceiveMessage on the job's band queue (up to
the template's BatchSize, long polling as Lambda's pollers do, the queue's own 90 s visibility timeout),
the SQS event Lambda would send (messageId, receiptHandle, body, attributes with ApproximateReceiveCount,
eventSourceARN), `handle_process.handler` with a context whose remaining time is the function's timeout,
then DeleteMessageBatch of every message not in `batchItemFailures`, the failures left to their
visibility timeout (what Lambda does). Until the job completes or `--max-seconds`.

Not played: the other bands' mappings (the job's items are all in one band, so theirs would only long-poll
empty queues), pollers holding a batch while every invocation slot is busy (a worker here receives only
when free), and the schedule's housekeeping tick (it releases scheduled jobs, sends callbacks, purges:
nothing a plain job needs; successors and completion are written by `Processor.run_message`).

Printed per concurrency: leads per minute in the steady state (the job's `processed` counter, sampled each
second, from the moment every worker's first invocation ended, which leaves out start-up, to the moment
the job had only a window of items left, which leaves out the tail), the providers' utilisation of their
published limits over the run (`bench.drain`'s), 403/429 answers and their share, the longest invocation
against the 30 s budget and the 45 s timeout, the job's items as stored (bench.fanout's exactly-once
check), redeliveries (receives over distinct messages), and the CPU of the workers, moto, the simulator
and this process against the cores: this 2-core machine is likely the ceiling, and the output says so.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import multiprocessing
import os
import queue
import resource
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any

from bench.drain import _create, _status_count, _throttled_share, _utilisation
from bench.fanout import BUDGET_SECONDS, LAMBDA_TIMEOUT_SECONDS, PACE, TIERS, _rows, _terminal_items
from bench.servers import PATHS, ServerProcess, serve_moto, serve_simulator

BATCH_SIZE = 10  # template.yaml: each ProcessorDeliveries mapping's BatchSize
LONG_POLL_SECONDS = 20  # Lambda's pollers long poll (ReceiveMessage WaitTimeSeconds)
VISIBILITY_TIMEOUT = 90  # template.yaml: every work queue's VisibilityTimeout (the mapping sets none)
MAX_RECEIVE_COUNT = 25  # template.yaml: the work queues' redrive policy
QUEUE_WINDOW = 50  # the runtime's default; ProcessorWorkers is 1 with this trigger, so a job's window is 50
SAMPLE_SECONDS = 1.0
MIN_STEADY_SECONDS = 30.0  # a shorter steady state is noise: the whole run is given instead, and said so
CPU_CEILING = 0.8  # share of the cores' time above which this machine, not the design, is the ceiling


def sqs_record(message: Mapping[str, Any], arn: str) -> dict[str, Any]:
    """One record of the SQS event Lambda builds from a received message."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes") or {}),
        "messageAttributes": {},
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": arn,
        "awsRegion": arn.split(":")[3],
    }


def lambda_deletes(messages: Sequence[Mapping[str, Any]], response: Mapping[str, Any]) -> list[str]:
    """The receipt handles Lambda deletes after an invocation: every message not reported as failed."""
    failed = {failure["itemIdentifier"] for failure in response.get("batchItemFailures", [])}
    return [m["ReceiptHandle"] for m in messages if m["MessageId"] not in failed]


def processed_at(samples: Sequence[tuple[float, int]], at: float) -> float:
    """The job's processed count at `at`, linear between the samples (time, processed) around it."""
    if not samples:
        return 0.0
    if at <= samples[0][0]:
        return float(samples[0][1])
    for (t0, p0), (t1, p1) in itertools.pairwise(samples):
        if t0 <= at <= t1:
            return p0 + (p1 - p0) * ((at - t0) / (t1 - t0) if t1 > t0 else 1.0)
    return float(samples[-1][1])


def steady_window(
    samples: Sequence[tuple[float, int]], first_ends: Sequence[float], total: int, window: int
) -> tuple[float, float] | None:
    """(start, end) of the steady state: from when every worker's first invocation ended (start-up over) to
    when the job first had only `window` items left (from then on no item sends a successor and the queue
    only empties), or the last sample. None when that leaves less than `MIN_STEADY_SECONDS`."""
    if not samples or not first_ends:
        return None
    start = max(first_ends)
    end = next((t for t, p in samples if p >= total - window), samples[-1][0])
    return (start, end) if end - start >= MIN_STEADY_SECONDS else None


def redeliveries(invocations: Sequence[Mapping[str, Any]]) -> tuple[int, int]:
    """(receives, distinct messages) over the invocations' delivered message ids."""
    ids = [message_id for invocation in invocations for message_id in invocation["messages"]]
    return len(ids), len(set(ids))


def first_ends(invocations: Sequence[Mapping[str, Any]]) -> list[float]:
    """When each worker (by pid) ended its first invocation."""
    first: dict[int, float] = {}
    for invocation in invocations:
        first[invocation["pid"]] = min(first.get(invocation["pid"], invocation["ended"]), invocation["ended"])
    return list(first.values())


class _Drained(logging.Handler):
    """The handler's "drained" summary (what it returns is the partial batch response) and the run's
    warnings and errors, whose JSON lines on stdout the worker discards."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.summary: dict[str, Any] = {}
        self.problems: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage() == "drained":
            self.summary = {
                k: getattr(record, k, 0) for k in ("finished", "deferred", "released", "duplicates")
            }
        elif record.levelno >= logging.WARNING:
            self.problems.append(f"{record.levelname} {record.getMessage()}"[:160])


def _poller(outbox: Any, go: Any, stop: Any, env: dict[str, str], url: str, arn: str, wait: int) -> None:
    """One invocation slot of the mapping in a warm container: receive, invoke, delete what Lambda deletes."""
    sys.path[:0] = [str(p) for p in PATHS if str(p) not in sys.path]
    os.environ.update(env)
    import boto3

    import handle_process
    from tests.support.lambda_events import Context

    drained = _Drained()
    for name in (handle_process.logger.name, "leadenrich"):
        logging.getLogger(name).addHandler(drained)
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # a JSON line per log record; what counts goes to `outbox`
    sqs = boto3.client("sqs")
    outbox.put({"ready": os.getpid()})
    go.wait()
    at_go = resource.getrusage(resource.RUSAGE_SELF)
    while not stop.is_set():
        messages = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=BATCH_SIZE,
            WaitTimeSeconds=wait,
            MessageSystemAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            continue
        drained.summary, drained.problems, error = {}, [], None
        started = time.monotonic()  # CLOCK_MONOTONIC: one clock for every process on Linux
        try:
            event = {"Records": [sqs_record(m, arn) for m in messages]}
            response = handle_process.handler(event, Context(remaining_ms=LAMBDA_TIMEOUT_SECONDS * 1000))  # type: ignore[arg-type]
        except Exception as exc:  # Lambda: the whole batch comes back after its visibility timeout
            response, error = (
                {"batchItemFailures": [{"itemIdentifier": m["MessageId"]} for m in messages]},
                exc,
            )
        ended = time.monotonic()
        handles = lambda_deletes(messages, response)
        if handles:  # the processor deleted the finished ones already: those entries fail, as in AWS, unread
            entries = [{"Id": str(i), "ReceiptHandle": handle} for i, handle in enumerate(handles)]
            sqs.delete_message_batch(QueueUrl=url, Entries=entries)
        outbox.put(
            {
                "pid": os.getpid(),
                "started": started,
                "ended": ended,
                "messages": [m["MessageId"] for m in messages],
                "failures": len(messages) - len(handles),
                "error": type(error).__name__ if error else None,
                "problems": drained.problems[:3],
                **drained.summary,
            }
        )
    usage = resource.getrusage(resource.RUSAGE_SELF)
    outbox.put({"cpu_seconds": usage.ru_utime + usage.ru_stime - at_go.ru_utime - at_go.ru_stime})


def _environment(opts: argparse.Namespace, moto_url: str, sim_url: str, paced: str) -> dict[str, str]:
    return {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "TABLE_NAME": "leadenrich",
        "SERIALIZE_AWS_CALLS": "true",
        "MAX_ITEMS_PER_RUN": "1000",
        "PROCESSOR_CONCURRENCY": "16",
        "PROCESSOR_BUDGET_SECONDS": str(BUDGET_SECONDS),
        "PROCESSOR_TRIGGER": "queue",
        "PROCESSOR_WORKERS": "1",  # the template refuses more with this trigger
        "QUEUE_WINDOW": str(opts.queue_window),
        "QUEUE_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
        "RATE_LIMITS": paced,
        "HUNTER_API_KEY": "sim-hunter-key",
        "PERPLEXITY_API_KEY": "sim-pplx-key",
        "AWS_ENDPOINT_URL": moto_url,
        "HUNTER_API_BASE_URL": f"{sim_url}/v2",
        "PERPLEXITY_API_BASE_URL": sim_url,
    }


def _get(api: Any, event: Any, context: Any, path: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(api.handler(event("GET", path), context())["body"])
    return found


def _collect(outbox: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while True:
        try:
            out.append(outbox.get_nowait())
        except queue.Empty:
            return out


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _drive(
    opts: argparse.Namespace, n: int, env: dict[str, str], url: str, arn: str, job: Any
) -> dict[str, Any]:
    """Start n warm pollers, let them go, sample the job's progress until it is done, stop them."""
    context = multiprocessing.get_context("spawn")
    outbox, go, stop = context.Queue(), context.Event(), context.Event()
    args = (outbox, go, stop, env, url, arn, opts.wait_seconds)
    workers = [context.Process(target=_poller, args=args, daemon=True) for _ in range(n)]
    for worker in workers:
        worker.start()
    for _ in workers:
        outbox.get(timeout=120)  # warm: imported and connected
    go_at, cpu_at_go = time.monotonic(), _cpu()
    go.set()
    samples: list[tuple[float, int]] = [(go_at, 0)]
    invocations: list[dict[str, Any]] = []
    status, total = "pending", 0
    while status not in ("completed", "failed") and time.monotonic() - go_at < opts.max_seconds:
        time.sleep(SAMPLE_SECONDS)
        counters = job()
        status, total = counters["status"], counters["counters"]["total"]
        samples.append((time.monotonic(), counters["counters"]["processed"]))
        invocations += _collect(outbox)
        if len(samples) % 15 == 0 or status == "completed":
            print(
                f"  {n} invocation(s): {samples[-1][1]:5d} of {total} at {samples[-1][0] - go_at:4.0f} s",
                flush=True,
            )
    done_at = time.monotonic()
    stop.set()
    cpu = 0.0
    for _ in workers:  # each first ends its long poll, and any batch it holds
        while "cpu_seconds" not in (
            message := outbox.get(timeout=LONG_POLL_SECONDS + LAMBDA_TIMEOUT_SECONDS + 30)
        ):
            invocations.append(message)
        cpu += message["cpu_seconds"]
    for worker in workers:
        worker.join(30)
    steady = steady_window(samples, first_ends(invocations), total, opts.queue_window)
    start, end = steady or (go_at, done_at)
    return {
        "steady": steady is not None,
        "steady_seconds": end - start,
        "leads_per_minute": (processed_at(samples, end) - processed_at(samples, start)) / (end - start) * 60,
        "go_at": go_at,
        "run_seconds": done_at - go_at,
        "invocations": invocations,
        "worker_cpu_seconds": cpu,
        "own_cpu_seconds": _cpu() - cpu_at_go,
    }


def run_concurrency(opts: argparse.Namespace, n: int) -> dict[str, Any]:
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
    ):
        env = _environment(opts, aws.base_url, sim.base_url, paced)
        os.environ.update(env)
        import handle_api
        from leadenrich import runtime
        from leadenrich.aws.dynamo_schema import create_table
        from leadenrich.aws.sqs_queue import create_band_queues
        from leadenrich.engine.ratelimit import PUBLISHED_LIMITS, Limit
        from leadenrich.jobs.models import Band
        from tests.support.lambda_events import Context, http_event

        sqs = boto3.client("sqs")
        create_table(boto3.client("dynamodb"), "leadenrich")
        bands = create_band_queues(
            sqs, "leadenrich-work", max_receive_count=MAX_RECEIVE_COUNT, visibility_timeout=VISIBILITY_TIMEOUT
        )
        env |= runtime.queue_environment(bands)
        os.environ.update(env)
        runtime.reset()
        url = bands[Band.of(opts.priority)][0]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        job_id = _create(handle_api, http_event, Context, _rows(opts, config), "default", opts.priority)
        servers_at_go = {"moto": aws.cpu_seconds(), "simulator": sim.cpu_seconds()}
        run = _drive(opts, n, env, url, arn, lambda: _get(handle_api, http_event, Context, f"/jobs/{job_id}"))
        servers_cpu = {"moto": aws.cpu_seconds(), "simulator": sim.cpu_seconds()}
        servers_cpu = {name: seconds - servers_at_go[name] for name, seconds in servers_cpu.items()}
        ledger = httpx.get(f"{sim.base_url}/_sim/ledger").json()
        job = _get(handle_api, http_event, Context, f"/jobs/{job_id}")
        items = _terminal_items(handle_api, http_event, Context, job_id)
        dlq = _get(handle_api, http_event, Context, "/metrics")["dlq_depth"]
        runtime.reset()

    calls: dict[str, int] = ledger["calls"]
    throttled = _status_count(ledger["statuses"], {"403", "429"})
    answered = {endpoint: count - throttled.get(endpoint, 0) for endpoint, count in calls.items()}
    published: dict[str, Limit] = dict(PUBLISHED_LIMITS)
    published["perplexity.responses"] = Limit(qps, rpm, rpm)
    invocations = run["invocations"]
    return run | {
        "concurrency": n,
        "longest": max((i["ended"] - i["started"] for i in invocations), default=0.0),
        "redeliveries": redeliveries(invocations),
        "servers_cpu_seconds": servers_cpu | {"this process": run["own_cpu_seconds"]},
        "cores": os.cpu_count() or 1,
        "throttled_share": _throttled_share(calls, throttled),
        "published": _utilisation(answered, published, run["run_seconds"]),
        "job": job,
        "terminal_items": items,
        "dlq_depth": dlq,
    }


def exactly_once(r: Mapping[str, Any]) -> bool:
    """bench.fanout's check: every finished item counted once, every item of the job still there."""
    counters, items = r["job"]["counters"], r["terminal_items"]
    return bool(
        counters["processed"] == items["terminal"]
        and items["distinct"] == items["items"] == counters["total"]
    )


def cpu_share(r: Mapping[str, Any]) -> float:
    used = r["worker_cpu_seconds"] + sum(r["servers_cpu_seconds"].values())
    return float(used / (r["run_seconds"] * r["cores"])) if r["run_seconds"] else 0.0


def _lines(r: Mapping[str, Any], base: float, window: int) -> list[str]:
    n, invocations = r["concurrency"], r["invocations"]
    speedup = r["leads_per_minute"] / base if base else 0.0
    where = f"steady over {r['steady_seconds']:.0f} s" if r["steady"] else "WHOLE RUN: no steady state"
    over = "met" if r["longest"] <= BUDGET_SECONDS else "OVER BUDGET"
    shares = r["published"]
    binding = max(shares, key=lambda k: shares[k])
    throttles = ", ".join(
        f"{provider} {t} of {c} ({t / c if c else 0:.2%})"
        for provider, (t, c) in sorted(r["throttled_share"].items())
    )
    job, items = r["job"], r["terminal_items"]
    receives, messages = r["redeliveries"]
    outcomes = ", ".join(
        f"{k} {sum(i.get(k, 0) for i in invocations)}"
        for k in ("finished", "deferred", "released", "duplicates")
    )
    share = cpu_share(r)
    servers = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in r["servers_cpu_seconds"].items())
    lines = [
        f"  {n} invocation(s): {r['leads_per_minute']:6.1f} leads per minute ({where}), {speedup:4.2f}x one"
        f" ({speedup / n:4.2f} of linear); longest invocation {r['longest']:4.1f} s"
        f" (budget {BUDGET_SECONDS:.0f} s, timeout {LAMBDA_TIMEOUT_SECONDS} s) [{over}]",
        "    utilisation of published limits over the run: "
        + ", ".join(f"{k} {v:.2f}" for k, v in sorted(shares.items()))
        + f"; binding {binding}",
        f"    403/429: {throttles}",
        f"    job {job['status']}: processed {job['counters']['processed']} of {job['counters']['total']},"
        f" {items['terminal']} terminal, {items['distinct']} distinct, DLQ {r['dlq_depth']}"
        f" [{'exactly once' if exactly_once(r) else 'CHECK'}]",
        f"    deliveries: {receives} receives of {messages} messages ({receives / max(messages, 1):.2f});"
        f" {len(invocations)} invocations of {receives / max(len(invocations), 1):.1f} records,"
        f" {sum(i['failures'] for i in invocations)} batch item failures,"
        f" {sum(1 for i in invocations if i['error'])} raised; the handler: {outcomes}",
        f"    CPU: workers {r['worker_cpu_seconds']:.0f} s, {servers} in {r['run_seconds']:.0f} s on"
        f" {r['cores']} cores ({share:.0%} of them)"
        + ("; NEAR THE CORES: this machine, not the design, is the ceiling" if share >= CPU_CEILING else ""),
    ]
    if n * BATCH_SIZE > window:
        lines.append(
            f"    note: {n} x {BATCH_SIZE} records exceed the job's window ({window}): some polls find none"
        )
    problems = sorted({p for i in invocations for p in i["problems"]})
    return lines + ([f"    logged: {'; '.join(problems[:5])}"] if problems else [])


def report(opts: argparse.Namespace, results: Sequence[Mapping[str, Any]]) -> None:
    base = results[0]["leads_per_minute"] / results[0]["concurrency"] if results else 0.0
    print(
        f"\nqueue trigger: {opts.leads} leads, Perplexity tier {opts.perplexity_tier}, Hunter defaults;"
        f" BatchSize {BATCH_SIZE}, long poll {opts.wait_seconds} s, queue window {opts.queue_window}"
    )
    for r in results:
        print("\n".join(_lines(r, base, opts.queue_window)))
    print(
        "\n| invocations | leads/min | x one (of linear) | binding utilisation | 403/429 | longest | once |",
        end="",
    )
    print(" receives/message | CPU of cores |\n|---|---|---|---|---|---|---|---|---|")
    for r in results:
        n, shares = r["concurrency"], r["published"]
        speedup = r["leads_per_minute"] / base if base else 0.0
        binding = max(shares, key=lambda k: shares[k])
        refused = sum(t for t, _ in r["throttled_share"].values())
        asked = sum(c for _, c in r["throttled_share"].values())
        receives, messages = r["redeliveries"]
        print(
            f"| {n} | {r['leads_per_minute']:.1f} | {speedup:.2f} ({speedup / n:.2f}) | {shares[binding]:.2f}"
            f" {binding} | {refused / max(asked, 1):.2%} | {r['longest']:.1f} s |"
            f" {'yes' if exactly_once(r) else 'NO'} | {receives / max(messages, 1):.2f} |"
            f" {cpu_share(r):.0%} |"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 2, 4, 8], help="MaximumConcurrency")
    parser.add_argument("--leads", type=int, default=1500)
    parser.add_argument("--companies", type=int, default=8000, help="simulated world size (distinct domains)")
    parser.add_argument("--world-seed", type=int, default=7)
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument(
        "--priority", type=int, default=3, help="the job's priority: its band's queue is polled"
    )
    parser.add_argument("--perplexity-tier", type=int, default=3, choices=sorted(TIERS))
    parser.add_argument("--queue-window", type=int, default=QUEUE_WINDOW, help="QUEUE_WINDOW")
    parser.add_argument("--wait-seconds", type=int, default=LONG_POLL_SECONDS, help="the pollers' long poll")
    parser.add_argument("--max-seconds", type=float, default=600.0, help="per concurrency")
    opts = parser.parse_args(argv)
    print(f"load average at start: {', '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    report(opts, [run_concurrency(opts, n) for n in opts.concurrency])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
