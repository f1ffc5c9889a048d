"""`enrich local up`, `enrich jobs ...`, `enrich stats` and `enrich dlq redrive`; the parsers of those and
of `enrich run` (`run_command`). Exit codes: `reporting`'s docstring.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import threading
from collections import Counter
from pathlib import Path
from typing import Any

from enrich_tools.local.client import ApiClient, ApiError
from enrich_tools.local.output import Format
from enrich_tools.local.providers import SIMULATED_BANNER
from enrich_tools.local.reporting import (
    FAILED,
    INTERRUPTED,
    OK,
    PARTIAL,
    TABLE_ROWS,
    USAGE,
    UsageError,
    exit_code,
    finish,
    follow_and_write,
    follow_quietly,
    lead_file,
    note,
    report_refused,
    results_format,
    tally,
    write_lead_records,
)
from enrich_tools.local.results import Record
from enrich_tools.local.run_command import add_run_parser, cmd_run
from enrich_tools.local.runs import Followed, Submitted, records_in_order, sendable, submit
from enrich_tools.local.state import DEFAULT_STATE_DIR, KEY_FILE
from leadenrich.auth.keys import display
from leadenrich.jobs.requests import MAX_LEADS_PER_JOB

# Re-exported: what other modules and tests import from here.
__all__ = [
    "FAILED",
    "INTERRUPTED",
    "OK",
    "PARTIAL",
    "TABLE_ROWS",
    "USAGE",
    "UsageError",
    "add_parsers",
    "cmd_run",
    "exit_code",
    "run_command",
]


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
        state_dir=Path(args.state),
        aws=args.aws,
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
            store = "AWS emulated in-process (moto)" if args.aws else f"state in {args.state}"
            pace = f"every {args.tick:g} s" if args.tick else "back to back while work is due"
            if stack.key_created or args.aws:
                kept = "gone when the stack stops" if args.aws else f"kept in {args.state}"
                key_line = f"  API key (workspace default; {kept}): {stack.api_key}\n"
                export = f"ENRICH_API_KEY={stack.api_key}"
            else:  # a kept key is not printed again and again (terminals and service logs keep it)
                key_file = Path(args.state) / KEY_FILE
                key_line = f"  API key (workspace default): {display(str(stack.api_key))} in {key_file}\n"
                export = f'ENRICH_API_KEY="$(cat {key_file})"'
            print(
                f"Local stack up: {store}, processor {pace}.\n"
                f"  API: {stack.url}\n"
                f"{key_line}"
                f"  export ENRICH_API_URL={stack.url} {export}\n"
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
            print("\nStopping (after the processor run in progress, if any)...", flush=True)
    except StackError as exc:
        note(f"error: {exc}")
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
        raise UsageError("--output needs --wait (or fetch them later: enrich jobs results ID --output F)")
    if args.dry_run and not args.process_all:
        raise UsageError("--dry-run goes with --all (it counts the leads a process-all job would take)")
    if args.limit is not None and not args.process_all:
        raise UsageError("--limit goes with --all")
    fmt = results_format(output, args.format) if output is not None else "jsonl"
    if not args.csv:
        return _create_from_stored_leads(args, output, fmt)
    args.input = args.csv
    leads_read = lead_file(args)
    rows = leads_read.rows
    for line in leads_read.describe():
        note(line)
    if not sendable(rows):
        raise UsageError(f"{args.csv}: no row can be sent (every row is empty or refused)")
    report_refused(rows, args.csv)
    delimiter = ";" if leads_read.delimiter == ";" else ","
    with _client(args) as client:
        submitted = submit(client, rows, args.tag, args.skip_existing)
        for job in submitted:
            print(f"{job.job_id}  {len(job.rows)} leads queued")
        if not args.wait:
            return OK
        if output is None:
            followed = follow_quietly(client, submitted, args.timeout, args.poll)
            counts: Counter[str] = Counter()
            shown: list[Record] = []
            ordered = tally(records_in_order(client, rows, submitted, followed, args.timeout), counts, shown)
            return finish(ordered, shown, counts, followed, args.timeout, client.simulated, None, fmt, rows)
        return follow_and_write(
            client, rows, submitted, output, fmt, delimiter, args.timeout, client.simulated, args.poll
        )


def _create_from_stored_leads(args: argparse.Namespace, output: Path | None, fmt: Format) -> int:
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
        submitted = [Submitted(str(job["job_id"]), []) for job in jobs]
        followed = follow_quietly(client, submitted, args.timeout, args.poll)
        return write_lead_records(client, followed, args.timeout, output, fmt)


def cmd_jobs_results(args: argparse.Namespace) -> int:
    """A job's results at any time (finished items with their results, the others as they stand), from a
    deployed API or, without --api-url, from the local state (the stack is started without a processor)."""
    output = Path(args.output) if args.output else None
    fmt = results_format(output, args.format) if output is not None else "jsonl"
    if args.api_url or os.environ.get("ENRICH_API_URL"):
        with _client(args) as client:
            return _job_results(client, args.job_id, output, fmt)
    from enrich_tools.local.stack import LocalStack, StackError, StackOptions

    options = StackOptions(state_dir=Path(args.state), process=False, handler_log_level=logging.WARNING)
    try:
        with LocalStack(options) as stack, ApiClient(stack.url, stack.api_key) as client:
            client.simulated = stack.simulated
            return _job_results(client, args.job_id, output, fmt)
    except StackError as exc:
        note(f"error: {exc}")
        return FAILED


def _job_results(client: ApiClient, job_id: str, output: Path | None, fmt: Format) -> int:
    view = client.get_job(job_id)
    followed = Followed({job_id: view})
    if view["status"] not in ("completed", "failed", "cancelled"):
        c = view["counters"]
        note(
            f"job {job_id} is {view['status']}: {c['processed']}/{c['total']} done; the rest show as pending"
        )
        followed.in_progress = True
    return write_lead_records(client, followed, None, output, fmt)


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
        risky = c.get("risky", 0)  # an API from before risky leads existed does not send it
        print(
            f"  processed     {c['processed']}/{c['total']} ({c['found']} found, {risky} risky,"
            f" {c['failed']} failed)"
        )
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


_AUTH_HINTS = {
    401: " (no API key: pass --api-key or set ENRICH_API_KEY; `enrich local up` prints one)",
    403: " (the API key was refused: unknown or revoked; `enrich keys create` makes one)",
}


def run_command(args: argparse.Namespace) -> int:
    """Calls the command, turning the errors every command shares into messages and exit codes."""
    try:
        return int(args.func(args))
    except UsageError as exc:
        note(f"error: {exc}")
        return USAGE
    except ApiError as exc:
        note(f"error: {exc}{_AUTH_HINTS.get(exc.status, '')}")
        return FAILED
    except KeyboardInterrupt:
        note("interrupted")
        return INTERRUPTED


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
    state = argparse.ArgumentParser(add_help=False)
    state.add_argument(
        "--state",
        default=str(DEFAULT_STATE_DIR),
        help=f"the local state directory: jobs, queue, cache, keys; resumable ({DEFAULT_STATE_DIR})",
    )
    state.add_argument(
        "--aws", action="store_true", help="emulate AWS with moto instead (checks the AWS adapters; no state)"
    )
    state.add_argument("--port", type=_port, default=0, help="gateway port on 127.0.0.1 (0: a free one)")
    state.add_argument("--seed", type=int, default=7, help="simulator world seed (when no keys are set)")
    state.add_argument(
        "--tick",
        type=_positive,
        default=None,
        help="run the processor every S seconds, as deployed (60); default: back to back while work is due",
    )

    leads = argparse.ArgumentParser(add_help=False)
    leads.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="FIELD=COLUMN",
        help="which column holds a field, e.g. --map domain=Website,first_name='First Name' (repeatable); "
        "without it columns are found by name and common aliases",
    )
    leads.add_argument("--encoding", help="the file's text encoding (default: detected)")
    leads.add_argument(
        "--format", choices=["csv", "jsonl"], help="results format (default: by --output's extension)"
    )

    add_run_parser(sub, [state, leads], _positive)

    local = sub.add_parser("local", help="the embedded local stack").add_subparsers(
        dest="local_command", required=True
    )
    up = local.add_parser("up", parents=[state], help="run the local stack in the foreground until Ctrl-C")
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
        parents=[api, leads],
        help="create jobs from a CSV or from the leads stored in Supabase (10,000 leads per job)",
        description="Leads from a CSV (inline; with Supabase configured on the API they are also matched to "
        "stored leads or added), or from the leads stored in Supabase: --all (every lead with a domain and "
        "no active email, in jobs of 10,000), --lead-ids, --domains.",
    )
    source = create.add_mutually_exclusive_group(required=True)
    source.add_argument("--csv", help="leads file (.csv, .tsv, .xlsx): domain, company, first/last name, id")
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
    create.add_argument("--output", help="with --wait: also write the results file (.csv or .jsonl)")
    create.add_argument("--timeout", type=_positive, default=None, help="with --wait: give up after this")
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

    results = jobs.add_parser(
        "results",
        parents=[api],
        help="a job's results so far, from the API or (without --api-url) the local state",
    )
    results.add_argument("job_id")
    results.add_argument("--output", help="write them to a file (.csv or .jsonl); default: the table only")
    results.add_argument("--format", choices=["csv", "jsonl"], help="results format (default: by extension)")
    results.add_argument("--state", default=str(DEFAULT_STATE_DIR), help="the local state, without --api-url")
    results.set_defaults(func=cmd_jobs_results)

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
