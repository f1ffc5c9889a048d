"""`enrich run`, `enrich local up`, `enrich jobs ...` and `enrich dlq redrive`.

Exit codes: 0 success (a job that completed, even with leads not found); 1 a job that ended failed or
cancelled, a timeout, or an API error; 2 bad arguments or an unusable CSV.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from enrich_tools.local.client import ApiClient, ApiError
from enrich_tools.local.providers import SIMULATED_BANNER
from enrich_tools.local.results import print_cost, print_table, write_records
from enrich_tools.local.rows import CsvError, CsvRow, read_rows
from enrich_tools.local.runs import Outcome, run_jobs, run_rows, submit
from leadenrich.jobs.requests import MAX_LEADS_PER_JOB

OK, FAILED, USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad arguments: reported with exit code 2."""


# --- enrich run --------------------------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    from enrich_tools.local.stack import LocalStack, StackError, StackOptions

    rows = _rows(Path(args.input))
    output = Path(args.output)
    if not output.parent.is_dir():
        raise UsageError(f"{output}: the folder {output.parent} does not exist")
    _report_refused(rows, args.input)
    options = StackOptions(
        port=args.port, tick_seconds=args.tick, seed=args.seed, handler_log_level=logging.WARNING
    )
    try:
        with LocalStack(options) as stack, ApiClient(stack.url, stack.api_key) as client:
            where = (
                "the provider simulator (SIMULATED DATA)" if stack.simulated else "the configured providers"
            )
            _note(f"Local stack at {stack.url}: API -> SQS -> processor every {args.tick:g} s, on {where}")
            if stack.supabase_url:
                _note(
                    f"Supabase at {stack.supabase_url}: the leads are matched or added there, emails written"
                )
            _note(f"Enriching {sum(1 for r in rows if r.lead)} leads from {args.input}...")
            outcome = run_rows(
                client, rows, timeout=args.timeout, poll=min(1.0, args.tick), progress_stream=sys.stderr
            )
            simulated = stack.simulated
    except StackError as exc:
        _note(f"error: {exc}")
        return FAILED
    return _finish(outcome, simulated, output)


def _finish(outcome: Outcome, simulated: bool, output: Path | None) -> int:
    print_table(outcome.records, sys.stdout, simulated)
    print_cost(outcome.records, outcome.jobs, sys.stdout)
    if output is not None:
        try:
            write_records(output, outcome.records)
        except OSError as exc:
            _note(f"error: cannot write {output}: {exc.strerror or exc}")
            return FAILED
        label = " (SIMULATED DATA)" if simulated else ""
        print(f"Results written to {output}{label}")
    if outcome.problem:
        _note(f"error: {outcome.problem}")
        return FAILED
    return OK


# --- enrich local up ---------------------------------------------------------------------------------------


def cmd_local_up(args: argparse.Namespace) -> int:
    from enrich_tools.local.stack import LocalStack, StackError, StackOptions

    def access(method: str, path: str, status: int, seconds: float) -> None:
        print(f"{method:<6} {path} -> {status} ({seconds * 1000:.0f} ms)", flush=True)

    def ticked(summary: dict[str, Any]) -> None:
        if summary.get("received") or summary.get("completed_jobs"):
            done = ", ".join(summary.get("completed_jobs") or []) or "-"
            print(
                f"tick: {summary['received']} received, {summary['finished']} finished, "
                f"{summary['deferred']} deferred, {summary['dead']} dead, {summary['skipped']} skipped "
                f"in {summary['seconds']:.1f} s; jobs completed: {done}",
                flush=True,
            )

    options = StackOptions(
        port=args.port,
        tick_seconds=args.tick,
        seed=args.seed,
        handler_log_level=logging.INFO if args.verbose else logging.WARNING,
        access_log=access,
        on_tick=ticked,
    )
    stopping = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    try:
        with LocalStack(options) as stack:
            if stack.simulated:
                print(f"== {SIMULATED_BANNER} ==")
            supabase = f"  Supabase: {stack.supabase_url} (leads and emails)\n" if stack.supabase_url else ""
            print(
                f"Local stack up: AWS emulated in-process (moto), processor every {args.tick:g} s.\n"
                f"  API: {stack.url}\n"
                f"  API key (workspace default; shown once, gone when the stack stops): {stack.api_key}\n"
                f"  export ENRICH_API_URL={stack.url} ENRICH_API_KEY={stack.api_key}\n"
                f"  then: enrich jobs create --csv examples/leads.csv --wait\n"
                f"{supabase}"
                "Ctrl-C to stop.",
                flush=True,
            )
            try:
                while not stopping.wait(0.5):
                    pass
            except KeyboardInterrupt:
                pass
            print("\nStopping (after the processor tick in progress, if any)...", flush=True)
    except StackError as exc:
        _note(f"error: {exc}")
        return FAILED
    return OK


# --- enrich jobs / dlq -------------------------------------------------------------------------------------


def _client(args: argparse.Namespace) -> ApiClient:
    url = args.api_url or os.environ.get("ENRICH_API_URL")
    if not url:
        raise UsageError("no API URL: pass --api-url or set ENRICH_API_URL (`enrich local up` prints one)")
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"--api-url {url!r}: must start with http:// or https://")
    return ApiClient(url, args.api_key or os.environ.get("ENRICH_API_KEY"))


def _banner_if_simulated(client: ApiClient) -> None:
    if client.simulated:
        print(f"== {SIMULATED_BANNER} ==")


def cmd_jobs_create(args: argparse.Namespace) -> int:
    output = Path(args.output) if args.output else None
    if output is not None and not args.wait:
        raise UsageError("--output needs --wait (results exist once the job has finished)")
    if args.dry_run and not args.process_all:
        raise UsageError("--dry-run goes with --all (it counts the leads a process-all job would take)")
    if args.limit is not None and not args.process_all:
        raise UsageError("--limit goes with --all")
    if not args.csv:
        return _create_from_stored_leads(args, output)
    rows = _rows(Path(args.csv))
    if not any(row.lead for row in rows):
        raise UsageError(f"{args.csv}: no row can be sent (every row is empty or refused)")
    _report_refused(rows, args.csv)
    with _client(args) as client:
        submitted = submit(client, rows, args.tag, args.skip_existing)
        for job in submitted:
            print(f"{job.job_id}  {len(job.rows)} leads queued")
        if not args.wait:
            return OK
        outcome = run_rows(
            client,
            rows,
            timeout=args.timeout,
            poll=args.poll,
            progress_stream=sys.stderr,
            submitted=submitted,
        )
        return _finish(outcome, client.simulated, output)


def _create_from_stored_leads(args: argparse.Namespace, output: Path | None) -> int:
    """--all, --lead-ids, --domains: jobs over the leads stored in Supabase (the API must have it)."""
    body: dict[str, Any] = {"tags": args.tag} if args.tag else {}
    if args.skip_existing is not None:
        body["skip_existing"] = args.skip_existing
    if args.lead_ids:
        body["lead_ids"] = args.lead_ids
    elif args.domains:
        body["domains"] = args.domains
    else:
        body["process_all"] = True
    with _client(args) as client:
        if args.dry_run:
            limit = {"limit": min(args.limit, MAX_LEADS_PER_JOB)} if args.limit else {}
            counts = client.post_job(body | limit | {"dry_run": True})
            left_out = counts["skipped_existing"]
            print(
                f"{counts['matching']} leads would be enriched ({counts['with_domain']} with a domain, "
                f"{left_out} of them skipped: an active email already); the first job takes {counts['leads']}"
            )
            return OK
        jobs = []
        remaining = args.limit
        while True:
            page = body if remaining is None else body | {"limit": min(remaining, MAX_LEADS_PER_JOB)}
            job = client.post_job(page)
            jobs.append(job)
            selection = job.get("selection") or {}
            skipped = selection.get("skipped_existing")
            note = f" ({skipped} skipped: an active email already)" if skipped else ""
            print(f"{job['job_id']}  {job['counters']['total']} leads queued{note}")
            cursor = selection.get("next_after_lead_id")
            if remaining is not None:
                remaining -= int(job["counters"]["total"])
            if not cursor or (remaining is not None and remaining <= 0):
                break
            body["after_lead_id"] = cursor  # process_all: the next job starts after this one's last lead
        if not args.wait:
            return OK
        outcome = run_jobs(client, jobs, timeout=args.timeout, poll=args.poll, progress_stream=sys.stderr)
        return _finish(outcome, client.simulated, output)


def cmd_stats(args: argparse.Namespace) -> int:
    with _client(args) as client:
        stats = client.stats()
        if args.json:
            print(json.dumps(stats, indent=2))
            return OK
        emails = stats["emails"]
        average = stats["average_confidence_score"]
        print(f"leads                       {stats['total_leads']}")
        print(f"  with a validated email    {stats['leads_with_validated_email']}")
        print(f"  missing one (with domain) {stats['leads_missing_email']}")
        print(f"addresses                   {emails['total']}")
        for source, by_status in emails["by_source"].items():
            counts = ", ".join(f"{n} {status}" for status, n in by_status.items())
            print(f"  {source:<25} {counts}")
        print(f"average confidence          {'-' if average is None else average}")
    return OK


def cmd_jobs_list(args: argparse.Namespace) -> int:
    with _client(args) as client:
        page = client.list_jobs(status=args.status, tag=args.tag, limit=args.limit, cursor=args.cursor)
        if args.json:
            print(json.dumps(page, indent=2))
            return OK
        _banner_if_simulated(client)
        print(f"{'job_id':<37} {'status':<10} {'created_at':<20} {'processed':>11} {'found':>6}  tags")
        for job in page["jobs"]:
            c = job["counters"]
            print(
                f"{job['job_id']:<37} {job['status']:<10} {job['created_at'][:19]:<20} "
                f"{c['processed']:>5}/{c['total']:<5} {c['found']:>6}  {','.join(job['options']['tags'])}"
            )
        if page.get("cursor"):
            print(f"more: --cursor {page['cursor']}")
    return OK


def cmd_jobs_show(args: argparse.Namespace) -> int:
    with _client(args) as client:
        job = client.get_job(args.job_id)
        items = list(client.iter_items(args.job_id)) if args.items else []
        if args.json:
            print(json.dumps(job | ({"items": items} if args.items else {}), indent=2))
            return OK
        _banner_if_simulated(client)
        c, cost = job["counters"], job["cost"]
        print(f"{job['job_id']}: {job['status']}")
        for label in ("created_at", "started_at", "completed_at"):
            print(f"  {label:<13} {job[label] or '-'}")
        print(f"  processed     {c['processed']}/{c['total']} ({c['found']} found, {c['failed']} failed)")
        print(
            f"  cost          Hunter {c['api_calls_hunter']} calls, {cost['hunter_credits']:g} credits; "
            f"Perplexity {c['api_calls_perplexity']} calls, ${cost['perplexity_usd']:.4f}"
        )
        for item in items:
            emails = item.get("emails") or []
            best = emails[0]["email"] if emails else "-"
            print(
                f"  {item['item_id']} {item['status']:<10} {item['lead']['domain'][:30]:<30} {best:<36} "
                f"{item.get('reason') or ''}"
            )
    return OK


def cmd_jobs_cancel(args: argparse.Namespace) -> int:
    with _client(args) as client:
        job = client.cancel_job(args.job_id)
        c = job["counters"]
        state = "cancelled" if job["status"] == "cancelled" else f"already {job['status']}, nothing to cancel"
        print(f"{job['job_id']}: {state} ({c['processed']}/{c['total']} processed)")
    return OK


def cmd_jobs_retry(args: argparse.Namespace) -> int:
    with _client(args) as client:
        answer = client.retry_job(args.job_id)
        print(f"{answer['job_id']}: {answer['requeued']} failed or dead-lettered items requeued")
    return OK


def cmd_dlq_redrive(args: argparse.Namespace) -> int:
    with _client(args) as client:
        answer = client.redrive()
        print(f"{answer['redriven']} dead-lettered messages put back on the queue")
    return OK


# --- shared ------------------------------------------------------------------------------------------------


def _rows(path: Path) -> list[CsvRow]:
    try:
        return read_rows(path)
    except CsvError as exc:
        raise UsageError(str(exc)) from None


def _report_refused(rows: Sequence[CsvRow], source: str) -> None:
    for row in rows:
        if row.problem:
            _note(f"not sent (reported as invalid): {source} {row.problem}")


def _note(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


_AUTH_HINTS = {
    401: " (no API key: pass --api-key or set ENRICH_API_KEY; `enrich local up` prints one)",
    403: " (the API key was refused: unknown or revoked; `enrich keys create` makes one)",
}


def run_command(args: argparse.Namespace) -> int:
    """Calls the command, turning the errors every command shares into messages and exit codes."""
    try:
        return int(args.func(args))
    except UsageError as exc:
        _note(f"error: {exc}")
        return USAGE
    except ApiError as exc:
        _note(f"error: {exc}{_AUTH_HINTS.get(exc.status, '')}")
        return FAILED
    except KeyboardInterrupt:
        _note("interrupted")
        return 130


# --- argument parsers --------------------------------------------------------------------------------------


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text}: must be a positive number of seconds")
    return value


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{text}: not a port number (0 picks a free one)")
    return value


def _count(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text}: must be a positive number of leads")
    return value


def _page_size(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 200:
        raise argparse.ArgumentTypeError(f"{text}: between 1 and 200")
    return value


def add_parsers(sub: Any) -> None:
    """The commands of this module, on the `enrich` parser's subcommands."""
    run = sub.add_parser(
        "run",
        help="enrich a CSV end to end on the embedded local stack (API -> SQS -> processor)",
        description="Starts the local stack (moto, the API gateway, the scheduled processor), sends the CSV "
        "through POST /jobs, and writes one JSON object per input row. Uses the provider simulator unless "
        "HUNTER_API_KEY is set.",
    )
    run.add_argument("--input", required=True, help="leads CSV: domain, company_name, first_name, ...")
    run.add_argument("--output", required=True, help="results file (JSON Lines, one object per input row)")
    run.add_argument("--tick", type=_positive, default=60.0, help="seconds between processor runs (60)")
    run.add_argument("--timeout", type=_positive, default=600.0, help="give up after this many seconds")
    run.add_argument("--port", type=_port, default=0, help="gateway port (0: a free one)")
    run.add_argument("--seed", type=int, default=7, help="simulator world seed (when no keys are set)")
    run.set_defaults(func=cmd_run)

    local = sub.add_parser("local", help="the embedded local stack").add_subparsers(
        dest="local_command", required=True
    )
    up = local.add_parser("up", help="run the local stack in the foreground until Ctrl-C")
    up.add_argument("--port", type=_port, default=0, help="gateway port on 127.0.0.1 (0: a free one)")
    up.add_argument("--tick", type=_positive, default=60.0, help="seconds between processor runs (60)")
    up.add_argument("--seed", type=int, default=7, help="simulator world seed (when no keys are set)")
    up.add_argument("--verbose", action="store_true", help="also show the handlers' JSON logs")
    up.set_defaults(func=cmd_local_up)

    api = argparse.ArgumentParser(add_help=False)
    api.add_argument("--api-url", help="the API's base URL (default: $ENRICH_API_URL)")
    api.add_argument("--api-key", help="sent as X-API-Key (default: $ENRICH_API_KEY)")

    jobs = sub.add_parser("jobs", help="create, list, show, cancel and retry jobs on an API").add_subparsers(
        dest="jobs_command", required=True
    )
    create = jobs.add_parser(
        "create",
        parents=[api],
        help="create jobs from a CSV or from the leads stored in Supabase (10,000 leads per job)",
        description="Leads from a CSV (inline; with Supabase configured on the API they are also matched to "
        "stored leads or added), or from the leads stored in Supabase: --all (every lead with a domain and "
        "no active email, in jobs of 10,000), --lead-ids, --domains.",
    )
    source = create.add_mutually_exclusive_group(required=True)
    source.add_argument("--csv", help="leads CSV: domain, company_name, first_name, last_name, external_id")
    source.add_argument(
        "--all", dest="process_all", action="store_true", help="every stored lead missing an email (Supabase)"
    )
    source.add_argument("--lead-ids", nargs="+", metavar="ID", help="stored leads by id (Supabase)")
    source.add_argument(
        "--domains", nargs="+", metavar="DOMAIN", help="stored leads with these domains (with Supabase)"
    )
    create.add_argument(
        "--skip-existing",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="leave out leads with an active email (Supabase; default: on with --all, off otherwise)",
    )
    create.add_argument("--dry-run", action="store_true", help="with --all: count, create nothing")
    create.add_argument("--limit", type=_count, help="with --all: at most this many leads in all")
    create.add_argument("--tag", action="append", default=[], help="tag the job (repeatable)")
    create.add_argument("--wait", action="store_true", help="show progress until done, then the results")
    create.add_argument("--output", help="with --wait: also write the results file (JSON Lines)")
    create.add_argument("--timeout", type=_positive, default=600.0, help="with --wait: give up after this")
    create.add_argument("--poll", type=_positive, default=2.0, help="with --wait: seconds between polls")
    create.set_defaults(func=cmd_jobs_create)

    listing = jobs.add_parser("list", parents=[api], help="recent jobs, newest first")
    listing.add_argument("--status", choices=["pending", "running", "completed", "failed", "cancelled"])
    listing.add_argument("--tag")
    listing.add_argument("--limit", type=_page_size, default=50, help="1-200 (50)")
    listing.add_argument("--cursor", help="the next page, as printed by the previous one")
    listing.add_argument("--json", action="store_true", help="print the API's answer as JSON")
    listing.set_defaults(func=cmd_jobs_list)

    show = jobs.add_parser("show", parents=[api], help="a job's status, counters and cost")
    show.add_argument("job_id")
    show.add_argument("--items", action="store_true", help="also list its items")
    show.add_argument("--json", action="store_true", help="print the API's answer as JSON")
    show.set_defaults(func=cmd_jobs_show)

    for name, func, text in (
        ("cancel", cmd_jobs_cancel, "stop a job's remaining items (finished ones keep their results)"),
        ("retry", cmd_jobs_retry, "requeue a job's failed and dead-lettered items"),
    ):
        command = jobs.add_parser(name, parents=[api], help=text)
        command.add_argument("job_id")
        command.set_defaults(func=func)

    stats = sub.add_parser("stats", parents=[api], help="leads and addresses stored in Supabase")
    stats.add_argument("--json", action="store_true", help="print the API's answer as JSON")
    stats.set_defaults(func=cmd_stats)

    dlq = sub.add_parser("dlq", help="the dead-letter queue").add_subparsers(
        dest="dlq_command", required=True
    )
    redrive = dlq.add_parser("redrive", parents=[api], help="put dead-lettered items back on the queue")
    redrive.set_defaults(func=cmd_dlq_redrive)
