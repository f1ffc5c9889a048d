"""`enrich run`: a leads file through the embedded local stack, resumable, results streamed to a file."""

from __future__ import annotations

import argparse
import logging
import secrets
import signal
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from enrich_tools.local.client import ApiClient
from enrich_tools.local.company_output import company_report
from enrich_tools.local.job_options import add_company_argument
from enrich_tools.local.local_up import console_hint
from enrich_tools.local.reporting import (
    FAILED,
    UsageError,
    duration_text,
    follow_and_write,
    lead_file,
    note,
    report_refused,
    results_format,
)
from enrich_tools.local.runs import Submitted, run_key, sendable, submit
from enrich_tools.local.timeouts import default_timeout
from leadenrich.engine.ratelimit import Limit
from leadenrich.engine.settings import EngineSettings

if TYPE_CHECKING:
    from enrich_tools.local.stack import StackOptions


def stack_options(args: argparse.Namespace, state_dir: Path) -> StackOptions:
    """The local stack `enrich run` and `enrich verify` start: their shared options, handlers quiet."""
    from enrich_tools.local.stack import StackOptions

    return StackOptions(
        port=args.port,
        tick_seconds=args.tick,
        state_dir=state_dir,
        aws=args.aws,
        seed=args.seed,
        handler_log_level=logging.WARNING,
    )


def cmd_run(args: argparse.Namespace) -> int:
    from enrich_tools.local.preflight import check_providers
    from enrich_tools.local.stack import LocalStack, StackError
    from enrich_tools.local.state import load_run, save_run

    state_dir = Path(args.state)
    args.key = None
    if args.input is None:
        if not args.resume:
            raise UsageError("--input is required (or --resume, to continue the last run on this --state)")
        last = load_run(state_dir)
        if last is None:
            raise UsageError(f"nothing to resume in {state_dir}: no run was started there")
        for name, value in last.items():
            if getattr(args, name, None) in (None, []):
                setattr(args, name, value)
        args.key = last.get("key") if args.input == last.get("input") else None
        note(f"Resuming the last run on {state_dir}: --input {args.input} --output {args.output}")
    if args.output is None:
        raise UsageError("--output is required (a .csv or .jsonl file)")
    leads_read = lead_file(args)
    rows = leads_read.rows
    output = Path(args.output)
    fmt = results_format(output, args.format)
    if not output.parent.is_dir():
        raise UsageError(f"{output}: the folder {output.parent} does not exist")
    if output.exists() and output.resolve() == Path(args.input).resolve():
        raise UsageError(f"--output {output}: that is the input file; results go to a file of their own")
    for line in leads_read.describe():
        note(line)
    report_refused(rows, args.input)
    leads = sendable(rows)
    if not leads:
        raise UsageError(f"{args.input}: no row can be sent (every row is empty or refused)")
    options = stack_options(args, state_dir)
    delimiter = ";" if leads_read.delimiter == ";" else ","
    with terminate_as_interrupt():
        try:
            with LocalStack(options) as stack, ApiClient(stack.url, stack.api_key) as client:
                where = (
                    "the provider simulator (SIMULATED DATA)"
                    if stack.simulated
                    else "the configured providers"
                )
                pace = f"every {args.tick:g} s" if args.tick else "back to back while work is due"
                store = "AWS emulated by moto" if args.aws else f"state in {state_dir}"
                note(f"Local stack at {stack.url} ({store}): API -> queue -> processor {pace}, on {where}")
                if stack.supabase_url:
                    note(f"Supabase at {stack.supabase_url}: leads matched or added there, emails written")
                assert stack.engine_settings is not None
                refused = check_providers(stack.engine_settings)
                if refused:
                    note(f"error: {refused}; nothing was sent, nothing spent")
                    return FAILED
                # --resume continues the very jobs this run makes (a --fresh run's too): keep their key.
                # With company data the jobs differ: so does the key (docs/company-data.md).
                salt = (secrets.token_hex(8) if args.fresh else "") + ("company" if args.company_data else "")
                key = args.key or run_key(rows, salt=salt)
                spec = {"input": str(args.input), "output": str(output), "format": fmt, "map": args.map}
                spec["company_data"] = bool(args.company_data)
                if not args.aws:  # moto keeps nothing: there is no run to resume
                    save_run(state_dir, spec | {"key": key})
                company = {"company_data": True} if args.company_data else None
                submitted = submit(client, rows, key=key, options=company)
                retry_failures(client, submitted)
                waiting = other_work(client, submitted)
                name_only = any(not (r.lead or {}).get("domain") for r in leads)
                paces = used_limits(stack.engine_settings, name_only=name_only)
                timeout = args.timeout or default_timeout(len(leads) + waiting, paces)
                note(
                    f"Enriching {len(leads)} leads from {args.input} "
                    f"(gives up after {duration_text(timeout)})"
                )
                outcome = follow_and_write(
                    client,
                    rows,
                    submitted,
                    output,
                    fmt,
                    delimiter,
                    timeout,
                    stack.simulated,
                    quiesce=stack.quiesce,
                    report=company_report(leads, args.company_data),
                )
                if not args.aws and stack.api_key:  # moto's state goes with its stack: no console on it
                    note(console_hint(state_dir, stack.api_key))
                return outcome
        except StackError as exc:
            note(f"error: {exc}")
            return FAILED


def retry_failures(client: ApiClient, submitted: Sequence[Submitted]) -> None:
    """A re-run continues a job, and "continue" includes the leads that failed for provider reasons last
    time (a spent quota, a refused key since fixed): they are queued again, once, here."""
    for job in submitted:
        view = client.get_job(job.job_id)
        if int(view["counters"]["failed"]):
            answer = client.retry_job(job.job_id)
            note(f"Retrying {answer['requeued']} leads of job {job.job_id} that failed last time")


def other_work(client: ApiClient, submitted: Sequence[Submitted]) -> int:
    """Leads of other unfinished jobs on this state, which the processor works on too (and pays for):
    said before the run starts, and counted in the default timeout."""
    ours = {job.job_id for job in submitted}
    others = [
        job
        for status in ("pending", "running")
        for job in client.list_jobs(status=status, limit=200)["jobs"]
        if job["job_id"] not in ours
    ]
    left = sum(int(j["counters"]["total"]) - int(j["counters"]["processed"]) for j in others)
    if others:
        names = ", ".join(j["job_id"] for j in others[:3]) + (", ..." if len(others) > 3 else "")
        note(
            f"note: this state has {len(others)} other unfinished job(s) ({names}) with {left} leads left; "
            "the processor works on them too (`enrich jobs cancel ID` with `enrich local up`, or another "
            "--state, to leave them)"
        )
    return left


def used_limits(settings: EngineSettings, *, name_only: bool = False) -> dict[str, Limit]:
    """The paces of the providers this run will call (Perplexity only with its key; Hunter Discover, as
    slow as Perplexity's tier 0, only when some lead has a company name and no domain to resolve)."""
    limits = dict(settings.limits)
    if settings.perplexity_api_key is None:
        limits = {key: limit for key, limit in limits.items() if not key.startswith("perplexity.")}
    if not name_only:
        limits.pop("hunter.discover", None)
    return limits


class terminate_as_interrupt:
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


def add_run_parser(sub: Any, parents: list[argparse.ArgumentParser], positive: Any) -> None:
    run = sub.add_parser(
        "run",
        parents=parents,
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
        type=positive,
        default=None,
        help="give up after this many seconds; default: 5 minutes plus three times what the slowest "
        "provider's pace needs for one call per lead (about an hour per 1,000 leads at Perplexity's "
        "tier-0 pace)",
    )
    add_company_argument(run)
    run.set_defaults(func=cmd_run)
