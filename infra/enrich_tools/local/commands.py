"""The `enrich run | verify | local | jobs | stats | dlq` parsers and `run_command`, which turns the errors
every command shares into exit codes (`reporting`'s docstring). The commands themselves: `run_command.py`
(`enrich run`), `verify_command.py` (`enrich verify`), `local_up.py` and `api_commands.py` (the ones that
call a jobs API).
"""

from __future__ import annotations

import argparse
from typing import Any

from enrich_tools.local.api_commands import (
    cmd_dlq_redrive,
    cmd_jobs_cancel,
    cmd_jobs_create,
    cmd_jobs_list,
    cmd_jobs_results,
    cmd_jobs_retry,
    cmd_jobs_show,
    cmd_stats,
)
from enrich_tools.local.client import ApiError
from enrich_tools.local.control_commands import add_control_commands
from enrich_tools.local.job_options import add_company_argument, add_option_arguments
from enrich_tools.local.local_up import cmd_local_up
from enrich_tools.local.reporting import (
    FAILED,
    INTERRUPTED,
    OK,
    PARTIAL,
    TABLE_ROWS,
    USAGE,
    UsageError,
    exit_code,
    note,
)
from enrich_tools.local.run_command import add_run_parser, cmd_run
from enrich_tools.local.state import DEFAULT_STATE_DIR
from enrich_tools.local.verify_command import add_verify_parser

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
    add_verify_parser(sub, [state], _positive)

    local = sub.add_parser("local", help="the embedded local stack").add_subparsers(
        dest="local_command", required=True
    )
    up = local.add_parser("up", parents=[state], help="run the local stack in the foreground until Ctrl-C")
    up.add_argument("--verbose", action="store_true", help="also show the handlers' JSON logs")
    up.set_defaults(func=cmd_local_up)

    api = argparse.ArgumentParser(add_help=False)
    api.add_argument("--api-url", help="the API's base URL (default: $ENRICH_API_URL)")
    api.add_argument("--api-key", help="sent as X-API-Key (default: $ENRICH_API_KEY)")

    jobs = sub.add_parser(
        "jobs", help="create, list, show, cancel, retry, pause, resume and update jobs on an API"
    ).add_subparsers(dest="jobs_command", required=True)
    create = jobs.add_parser(
        "create",
        parents=[api, leads],
        help="create jobs from a CSV (above 10,000 rows: one job from an upload) or from stored leads",
        description="Leads from a CSV (inline, in jobs of 10,000; with Supabase configured on the API they "
        "are also matched to stored leads or added. Above 10,000 rows, or with --upload, the file is "
        "uploaded and read by the service as ONE job, its rows not matched to stored leads), or from the "
        "leads stored in Supabase: --all (every lead with a domain and no active email, in jobs of 10,000), "
        "--lead-ids, --domains.",
    )
    source = create.add_mutually_exclusive_group(required=True)
    source.add_argument("--csv", help="leads file (.csv, .tsv, .xlsx): domain, company, first/last name, id")
    source.add_argument(
        "--emails-csv",
        help="addresses to verify (.csv, .tsv, .xlsx; an Email column, or --map email=<column>): "
        "verification jobs",
    )
    source.add_argument(
        "--all", dest="process_all", action="store_true", help="every stored lead missing an email (Supabase)"
    )
    source.add_argument("--lead-ids", nargs="+", metavar="ID", help="stored leads by id (Supabase)")
    source.add_argument(
        "--domains", nargs="+", metavar="DOMAIN", help="stored leads with these domains (with Supabase)"
    )
    create.add_argument(
        "--upload",
        action="store_true",
        help="with --csv: send the rows as one uploaded file (POST /uploads), one job, at any size (above "
        "10,000 rows it is always so)",
    )
    create.add_argument(
        "--skip-existing",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="leave out leads with an active email (Supabase; default: on with --all, off otherwise)",
    )
    create.add_argument("--dry-run", action="store_true", help="with --all: count, create nothing")
    create.add_argument("--limit", type=_count, help="with --all: at most this many leads in all")
    create.add_argument(
        "--force",
        action="store_true",
        help="with --all: also the leads whose last enrichment ended invalid, not_found or risky within "
        "the workspace's reenrich_after_days (docs/auto-enrichment.md)",
    )
    create.add_argument("--tag", action="append", default=[], help="tag the job (repeatable)")
    add_option_arguments(create)
    add_company_argument(create)
    create.add_argument("--wait", action="store_true", help="show progress until done, then the results")
    create.add_argument("--output", help="with --wait: also write the results file (.csv or .jsonl)")
    create.add_argument("--timeout", type=_positive, default=None, help="with --wait: give up after this")
    create.add_argument("--poll", type=_positive, default=2.0, help="with --wait: seconds between polls")
    create.set_defaults(func=cmd_jobs_create)

    listing = jobs.add_parser("list", parents=[api], help="recent jobs, newest first")
    listing.add_argument(
        "--status", choices=["pending", "running", "paused", "completed", "failed", "cancelled"]
    )
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
    add_control_commands(jobs, api)

    stats = sub.add_parser("stats", parents=[api], help="leads and addresses stored in Supabase")
    stats.add_argument("--json", action="store_true", help="print the API's answer as JSON")
    stats.set_defaults(func=cmd_stats)

    dlq = sub.add_parser("dlq", help="the dead-letter queue").add_subparsers(
        dest="dlq_command", required=True
    )
    redrive = dlq.add_parser("redrive", parents=[api], help="put dead-lettered items back on the queue")
    redrive.set_defaults(func=cmd_dlq_redrive)
