"""`enrich run`, `enrich local up`, `enrich jobs ...` and `enrich dlq redrive`.

Exit codes (`enrich run`, `enrich jobs create --wait`, `enrich jobs results`):
  0  done: every lead has its answer (found, not found, invalid, or a duplicate of one);
  1  nothing done: the run could not start (a refused key, a spent quota, the stack, the API), or every
     lead failed;
  2  bad input: arguments, or a leads file that cannot be used;
  3  some done: some leads failed for provider reasons, or the run stopped early (a provider was switched
     off, the timeout passed), or (`enrich jobs results`) the job is still running; re-run the same command
     to continue, `enrich jobs retry` to retry failures;
  130 interrupted (Ctrl-C, SIGTERM): every finished lead is in the output; re-run to continue.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import signal
import sys
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from enrich_tools.local.client import ApiClient, ApiError
from enrich_tools.local.output import Format, OutputError, ResultWriter, output_format
from enrich_tools.local.progress import Progress
from enrich_tools.local.providers import SIMULATED_BANNER
from enrich_tools.local.results import Record, print_table
from enrich_tools.local.rows import CsvError, CsvRow, LeadFile, parse_column_map, read_leads, repeats_by_line
from enrich_tools.local.runs import (
    Followed,
    Submitted,
    follow,
    lead_records,
    problem_of,
    records_in_order,
    run_key,
    sendable,
    submit,
)
from enrich_tools.local.state import DEFAULT_STATE_DIR
from enrich_tools.local.timeouts import default_timeout
from leadenrich.jobs.requests import MAX_LEADS_PER_JOB
from leadenrich.ratelimit import Limit
from leadenrich.settings import EngineSettings

OK, FAILED, USAGE, PARTIAL, INTERRUPTED = 0, 1, 2, 3, 130
TABLE_ROWS = 40  # leads shown in the terminal; the rest are in the output file


class UsageError(Exception):
    """Bad arguments: reported with exit code 2."""


# --- enrich run --------------------------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    from enrich_tools.local.preflight import check_providers
    from enrich_tools.local.stack import LocalStack, StackError, StackOptions
    from enrich_tools.local.state import load_run, save_run

    state_dir = Path(args.state)
    if args.input is None:
        if not args.resume:
            raise UsageError("--input is required (or --resume, to continue the last run on this --state)")
        last = load_run(state_dir)
        if last is None:
            raise UsageError(f"nothing to resume in {state_dir}: no run was started there")
        for name, value in last.items():
            if getattr(args, name, None) in (None, []):
                setattr(args, name, value)
        _note(f"Resuming the last run on {state_dir}: --input {args.input} --output {args.output}")
    if args.output is None:
        raise UsageError("--output is required (a .csv or .jsonl file)")
    lead_file = _lead_file(args)
    rows = lead_file.rows
    output = Path(args.output)
    fmt = _format(output, args.format)
    if not output.parent.is_dir():
        raise UsageError(f"{output}: the folder {output.parent} does not exist")
    for line in lead_file.describe():
        _note(line)
    _report_refused(rows, args.input)
    leads = sendable(rows)
    if not leads:
        raise UsageError(f"{args.input}: no row can be sent (every row is empty or refused)")
    options = StackOptions(
        port=args.port,
        tick_seconds=args.tick,
        state_dir=state_dir,
        aws=args.aws,
        seed=args.seed,
        handler_log_level=logging.WARNING,
    )
    delimiter = ";" if lead_file.delimiter == ";" else ","
    with _terminate_as_interrupt():
        try:
            with LocalStack(options) as stack, ApiClient(stack.url, stack.api_key) as client:
                where = (
                    "the provider simulator (SIMULATED DATA)"
                    if stack.simulated
                    else "the configured providers"
                )
                pace = f"every {args.tick:g} s" if args.tick else "back to back while work is due"
                store = "AWS emulated by moto" if args.aws else f"state in {state_dir}"
                _note(f"Local stack at {stack.url} ({store}): API -> queue -> processor {pace}, on {where}")
                if stack.supabase_url:
                    _note(f"Supabase at {stack.supabase_url}: leads matched or added there, emails written")
                assert stack.engine_settings is not None
                refused = check_providers(stack.engine_settings)
                if refused:
                    _note(f"error: {refused}; nothing was sent, nothing spent")
                    return FAILED
                save_run(
                    state_dir,
                    {"input": str(args.input), "output": str(output), "format": fmt, "map": args.map},
                )
                key = run_key(rows, salt=secrets.token_hex(8) if args.fresh else "")
                submitted = submit(client, rows, key=key)
                timeout = args.timeout or default_timeout(len(leads), _used_limits(stack.engine_settings))
                _note(
                    f"Enriching {len(leads)} leads from {args.input} (gives up after {_duration(timeout)})..."
                )
                return _follow_and_write(
                    client, rows, submitted, output, fmt, delimiter, timeout, stack.simulated
                )
        except StackError as exc:
            _note(f"error: {exc}")
            return FAILED


def _follow_and_write(
    client: ApiClient,
    rows: Sequence[CsvRow],
    submitted: Sequence[Submitted],
    output: Path,
    fmt: Format,
    delimiter: str,
    timeout: float | None,
    simulated: bool,
    poll: float = 1.0,
) -> int:
    """Stream each finished lead to `output` as it comes (in the order they finish), then rewrite the
    file whole in input order; print the first screenful and the cost; the exit code."""
    total = sum(len(job.rows) for job in submitted)
    progress = Progress(sys.stderr, total)
    try:
        with ResultWriter(output, fmt, rows, delimiter=delimiter) as writer:
            followed = follow(
                client,
                submitted,
                timeout=timeout,
                poll=poll,
                progress=progress,
                on_record=writer.write,
                duplicates=repeats_by_line(rows),
            )
    except KeyboardInterrupt:
        progress.finish()
        _note(
            f"\ninterrupted: the leads finished so far are in {output} (in the order they finished); "
            "re-run the same command to continue (nothing finished is paid for again). Finishing the leads "
            "in progress first (Ctrl-C again to stop at once)..."
        )
        return INTERRUPTED
    progress.finish()
    counts: Counter[str] = Counter()
    shown: list[Record] = []

    def tallied(records: Iterator[Record]) -> Iterator[Record]:
        for record in records:
            counts[str(record["status"])] += 1
            if len(shown) < TABLE_ROWS:
                shown.append(record)
            yield record

    ordered = tallied(records_in_order(client, rows, submitted, followed, timeout))
    return _finish(ordered, shown, counts, followed, timeout, simulated, output, fmt, rows, delimiter)


def _finish(
    records: Iterator[Record],
    shown: list[Record],
    counts: Counter[str],
    followed: Followed,
    timeout: float | None,
    simulated: bool,
    output: Path | None,
    fmt: Format,
    rows: Sequence[CsvRow],
    delimiter: str = ",",
) -> int:
    """Write the results file whole (all or nothing, in input order), then the table and the cost."""
    if output is not None:
        try:
            _write_whole(output, fmt, rows, records, delimiter)
        except OSError as exc:
            _note(f"error: cannot write {output}: {exc.strerror or exc}")
            return FAILED
    else:
        for _ in records:
            pass
    print_table(shown, sys.stdout, simulated, max_rows=TABLE_ROWS, output=output)
    total = sum(counts.values())
    if total > len(shown):
        where = f"in {output}" if output is not None else "(write them all with --output FILE)"
        print(f"... {total - len(shown)} more leads {where}")
    _print_cost(counts, list(followed.views.values()))
    if output is not None:
        print(f"Results written to {output}" + (" (SIMULATED DATA)" if simulated else ""))
    problem = problem_of(followed, timeout)
    if problem:
        _note(f"error: {problem}")
    return exit_code(counts, problem)


def exit_code(counts: Counter[str], problem: str | None) -> int:
    """0 every lead answered; 1 none was; 3 some were (see the module docstring)."""
    answered = sum(counts.values()) - counts.get("failed", 0) - counts.get("pending", 0)
    if answered == 0 and not counts.get("pending"):
        return FAILED
    if problem or counts.get("failed") or counts.get("pending"):
        return PARTIAL
    return OK


def _write_whole(
    output: Path, fmt: Format, rows: Sequence[CsvRow], records: Iterator[Record], delimiter: str
) -> None:
    """Records already in input order, to a temporary file moved over `output`: never half a file."""
    partial = output.with_name(f".{output.name}.partial")
    try:
        with ResultWriter(partial, fmt, rows, delimiter=delimiter, flush_each=False) as writer:
            for record in records:
                writer.write(record)
        os.replace(partial, output)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _print_cost(counts: Counter[str], jobs: Sequence[dict[str, Any]]) -> None:
    line = f"\n{counts.get('found', 0)}/{sum(counts.values())} leads found."
    if jobs:
        hunter_calls = sum(int(j["counters"]["api_calls_hunter"]) for j in jobs)
        perplexity_calls = sum(int(j["counters"]["api_calls_perplexity"]) for j in jobs)
        credits = sum(float(j["cost"]["hunter_credits"]) for j in jobs)
        dollars = sum(float(j["cost"]["perplexity_usd"]) for j in jobs)
        line += (
            f" Cost: Hunter {hunter_calls} calls, {credits:g} credits; "
            f"Perplexity {perplexity_calls} calls, ${dollars:.4f}"
        )
    print(line)


def _used_limits(settings: EngineSettings) -> dict[str, Limit]:
    """The paces of the providers this run will call (Perplexity only with its key)."""
    limits = settings.limits
    if settings.perplexity_api_key is None:
        return {key: limit for key, limit in limits.items() if not key.startswith("perplexity.")}
    return dict(limits)


def _duration(seconds: float | None) -> str:
    from enrich_tools.local.progress import duration

    return "never" if seconds is None else duration(seconds)


class _terminate_as_interrupt:
    """SIGTERM ends a run like Ctrl-C: finished leads written, the state left to resume."""

    def __enter__(self) -> None:
        self._previous: Any = None
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGTERM, _raise_interrupt)

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGTERM, self._previous)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


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
            kept = "gone when the stack stops" if args.aws else f"kept in {args.state}"
            print(
                f"Local stack up: {store}, processor {pace}.\n"
                f"  API: {stack.url}\n"
                f"  API key (workspace default; {kept}): {stack.api_key}\n"
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
            print("\nStopping (after the processor run in progress, if any)...", flush=True)
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
        raise UsageError("--output needs --wait (or fetch them later: enrich jobs results ID --output F)")
    if args.dry_run and not args.process_all:
        raise UsageError("--dry-run goes with --all (it counts the leads a process-all job would take)")
    if args.limit is not None and not args.process_all:
        raise UsageError("--limit goes with --all")
    fmt = _format(output, args.format) if output is not None else "jsonl"
    if not args.csv:
        return _create_from_stored_leads(args, output, fmt)
    args.input = args.csv
    lead_file = _lead_file(args)
    rows = lead_file.rows
    for line in lead_file.describe():
        _note(line)
    if not sendable(rows):
        raise UsageError(f"{args.csv}: no row can be sent (every row is empty or refused)")
    _report_refused(rows, args.csv)
    delimiter = ";" if lead_file.delimiter == ";" else ","
    with _client(args) as client:
        submitted = submit(client, rows, args.tag, args.skip_existing)
        for job in submitted:
            print(f"{job.job_id}  {len(job.rows)} leads queued")
        if not args.wait:
            return OK
        if output is None:
            followed = _follow_quietly(client, submitted, args.timeout, args.poll)
            counts: Counter[str] = Counter()
            shown: list[Record] = []
            ordered = _tally(records_in_order(client, rows, submitted, followed, args.timeout), counts, shown)
            return _finish(ordered, shown, counts, followed, args.timeout, client.simulated, None, fmt, rows)
        return _follow_and_write(
            client, rows, submitted, output, fmt, delimiter, args.timeout, client.simulated, args.poll
        )


def _follow_quietly(
    client: ApiClient, submitted: Sequence[Submitted], timeout: float | None, poll: float
) -> Followed:
    total = sum(len(job.rows) for job in submitted)
    progress = Progress(sys.stderr, total)
    try:
        return follow(client, submitted, timeout=timeout, poll=poll, progress=progress)
    finally:
        progress.finish()


def _tally(records: Iterator[Record], counts: Counter[str], shown: list[Record]) -> Iterator[Record]:
    """The records, counted by status, the first screenful kept for the table."""
    for record in records:
        counts[str(record["status"])] += 1
        if len(shown) < TABLE_ROWS:
            shown.append(record)
        yield record


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
        followed = _follow_quietly(client, submitted, args.timeout, args.poll)
        return _write_lead_records(client, followed, args.timeout, output, fmt)


def _write_lead_records(
    client: ApiClient, followed: Followed, timeout: float | None, output: Path | None, fmt: Format
) -> int:
    counts: Counter[str] = Counter()
    shown: list[Record] = []
    records = _tally(lead_records(client, list(followed.views.values()), followed, timeout), counts, shown)
    return _finish(records, shown, counts, followed, timeout, client.simulated, output, fmt, [])


def cmd_jobs_results(args: argparse.Namespace) -> int:
    """A job's results at any time (finished items with their results, the others as they stand), from a
    deployed API or, without --api-url, from the local state (the stack is started without a processor)."""
    output = Path(args.output) if args.output else None
    fmt = _format(output, args.format) if output is not None else "jsonl"
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
        _note(f"error: {exc}")
        return FAILED


def _job_results(client: ApiClient, job_id: str, output: Path | None, fmt: Format) -> int:
    view = client.get_job(job_id)
    followed = Followed({job_id: view})
    if view["status"] not in ("completed", "failed", "cancelled"):
        c = view["counters"]
        _note(
            f"job {job_id} is {view['status']}: {c['processed']}/{c['total']} done; the rest show as pending"
        )
        followed.in_progress = True
    return _write_lead_records(client, followed, None, output, fmt)


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


def _lead_file(args: argparse.Namespace) -> LeadFile:
    try:
        column_map = parse_column_map(",".join(args.map)) if args.map else None
        return read_leads(Path(args.input), column_map=column_map, encoding=args.encoding)
    except CsvError as exc:
        raise UsageError(str(exc)) from None


def _format(output: Path, forced: str | None) -> Format:
    try:
        return output_format(output, forced)
    except OutputError as exc:
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

    run = sub.add_parser(
        "run",
        parents=[state, leads],
        help="enrich a leads file (.csv, .tsv, .xlsx) end to end on the local stack; resumable",
        description=(
            "Starts the local stack on its state directory (the API gateway, the work queue and the "
            "processor running back to back), sends the leads through POST /jobs, streams each finished "
            "lead to --output as it comes, and rewrites the file in input order at the end. Interrupted "
            "(Ctrl-C, a crash), the same command continues where it stopped and pays for nothing twice. "
            "Uses the provider simulator unless HUNTER_API_KEY is set. Exit codes: 0 done, 1 nothing "
            "done, 2 bad input, 3 some leads failed or the run stopped early, 130 interrupted."
        ),
    )
    run.add_argument("--input", help="leads file: .csv/.tsv (any delimiter, encoding) or .xlsx")
    run.add_argument("--output", help="results file: .csv (input columns + contact) or .jsonl")
    run.add_argument(
        "--resume", action="store_true", help="continue the last run on --state (no --input needed)"
    )
    run.add_argument(
        "--fresh",
        action="store_true",
        help="a new job even if this list ran before (cached answers still used)",
    )
    run.add_argument(
        "--timeout",
        type=_positive,
        default=None,
        help="give up after this many seconds; default: 5 minutes plus three times what the slowest "
        "provider's pace needs for one call per lead (about 90 minutes per 1,000 leads at Perplexity's "
        "tier-0 pace)",
    )
    run.set_defaults(func=cmd_run)

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
