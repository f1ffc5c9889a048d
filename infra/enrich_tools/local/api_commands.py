"""`enrich jobs ...`, `enrich stats` and `enrich dlq redrive`: the commands that call a jobs API, the
embedded local stack's or a deployed one, through `ApiClient`. Exit codes: `reporting`'s docstring.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
from collections import Counter
from pathlib import Path
from typing import Any

from enrich_tools.local.client import ApiClient
from enrich_tools.local.job_options import job_options
from enrich_tools.local.output import Format
from enrich_tools.local.providers import SIMULATED_BANNER
from enrich_tools.local.reporting import (
    FAILED,
    OK,
    PARTIAL,
    UsageError,
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
from enrich_tools.local.rows import CsvRow
from enrich_tools.local.runs import Followed, Submitted, records_in_order, sendable, submit
from enrich_tools.local.uploading import create_upload_job, wait_loaded, wants_upload
from leadenrich.jobs.requests import MAX_LEADS_PER_JOB


def api_client(args: argparse.Namespace) -> ApiClient:
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
    if getattr(args, "force", False) and not args.process_all:
        raise UsageError("--force goes with --all")
    if getattr(args, "upload", False) and not args.csv:
        raise UsageError("--upload goes with --csv")
    fmt = results_format(output, args.format) if output is not None else "jsonl"
    if args.emails_csv:  # addresses to verify: verification jobs, reported as `enrich verify` does
        from enrich_tools.local.verify_command import create_verification_jobs

        with api_client(args) as client:
            return create_verification_jobs(client, args, output, fmt)
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
    with api_client(args) as client:
        if wants_upload(rows, getattr(args, "upload", False)):  # one job, read from a file (uploading.py)
            job = create_upload_job(client, rows, args.csv, args)
            if not args.wait:
                return OK
            loaded = wait_loaded(client, job, rows, args.csv, args.timeout, args.poll)
            if isinstance(loaded, int):
                return loaded
            code = _follow_rows(
                client, args, loaded.rows, loaded.submitted, output, fmt, delimiter, loaded.timeout
            )
            return PARTIAL if loaded.unread and code == OK else code  # rows the API did not read
        submitted = submit(client, rows, args.tag, args.skip_existing, options=job_options(args))
        for job_sent in submitted:
            print(f"{job_sent.job_id}  {len(job_sent.rows)} leads queued")
        if not args.wait:
            return OK
        return _follow_rows(client, args, rows, submitted, output, fmt, delimiter, args.timeout)


def _follow_rows(
    client: ApiClient,
    args: argparse.Namespace,
    rows: list[CsvRow],
    submitted: list[Submitted],
    output: Path | None,
    fmt: Format,
    delimiter: str,
    timeout: float | None,
) -> int:
    """--wait: follow the jobs, then a record per input row in input order (and the file with --output)."""
    if output is None:
        followed = follow_quietly(client, submitted, timeout, args.poll)
        counts: Counter[str] = Counter()
        shown: list[Record] = []
        ordered = tally(records_in_order(client, rows, submitted, followed, timeout), counts, shown)
        return finish(ordered, shown, counts, followed, timeout, client.simulated, None, fmt, rows)
    return follow_and_write(
        client, rows, submitted, output, fmt, delimiter, timeout, client.simulated, args.poll
    )


def _create_from_stored_leads(args: argparse.Namespace, output: Path | None, fmt: Format) -> int:
    """--all, --lead-ids, --domains: jobs over the leads stored in Supabase (the API must have it)."""
    body: dict[str, Any] = ({"tags": args.tag} if args.tag else {}) | job_options(args)
    if args.skip_existing is not None:
        body["skip_existing"] = args.skip_existing
    if args.lead_ids:
        body["lead_ids"] = args.lead_ids
    elif args.domains:
        body["domains"] = args.domains
    else:
        body["process_all"] = True
        if getattr(args, "force", False):
            body["force"] = True
    with api_client(args) as client:
        if args.dry_run:
            limit = {"limit": min(args.limit, MAX_LEADS_PER_JOB)} if args.limit else {}
            counts = client.post_job(body | limit | {"dry_run": True})
            left_out = counts["skipped_existing"]
            recent = counts.get("skipped_recent", 0)
            print(
                f"{counts['matching']} leads would be enriched ({counts['with_domain']} with a domain, "
                f"{left_out} of them skipped: an active email already; {recent} skipped: enriched recently "
                f"without an active address, --force takes them); the first job takes {counts['leads']}"
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
            if recent := selection.get("skipped_recent"):
                note += f" ({recent} skipped: enriched recently without an active address)"
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
        with api_client(args) as client:
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
    if view.get("kind") == "verification":  # addresses: shown and written as `enrich verify` does
        from enrich_tools.local.verify_command import REPORT

        return write_lead_records(client, followed, None, output, fmt, REPORT)
    return write_lead_records(client, followed, None, output, fmt)


def cmd_stats(args: argparse.Namespace) -> int:
    with api_client(args) as client:
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
    with api_client(args) as client:
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
    with api_client(args) as client:
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
            lead = item["lead"]  # a name-only lead has no domain (docs/company-data.md)
            shown = str(lead.get("domain") or lead.get("company_name") or "-")
            print(
                f"  {item['item_id']} {item['status']:<10} {shown[:30]:<30} {best:<36} "
                f"{item.get('reason') or ''}"
            )
    return OK


def cmd_jobs_cancel(args: argparse.Namespace) -> int:
    with api_client(args) as client:
        job = client.cancel_job(args.job_id)
        c = job["counters"]
        state = "cancelled" if job["status"] == "cancelled" else f"already {job['status']}, nothing to cancel"
        print(f"{job['job_id']}: {state} ({c['processed']}/{c['total']} processed)")
    return OK


def cmd_jobs_retry(args: argparse.Namespace) -> int:
    with api_client(args) as client:
        answer = client.retry_job(args.job_id)
        print(f"{answer['job_id']}: {answer['requeued']} failed or dead-lettered items requeued")
    return OK


def cmd_dlq_redrive(args: argparse.Namespace) -> int:
    with api_client(args) as client:
        answer = client.redrive()
        print(f"{answer['redriven']} dead-lettered messages put back on the queue")
    return OK
